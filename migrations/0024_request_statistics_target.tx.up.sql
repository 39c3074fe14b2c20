-- With the default statistics target, ANALYZE samples 30,000 rows and
-- keeps in the statistics of 0021 only the combinations common in that
-- sample. The court's in-progress litigation requests (0.13 % of the
-- rows, some 40 in a sample) dropped out after one ANALYZE and were
-- estimated from the columns alone: 261 instead of 1,287. The list then
-- fell back to the plan 0021 was made to avoid (two bitmap indexes and a
-- sort: 8 ms warm instead of 0.5 ms). A target of 1,000 samples 300,000
-- rows and keeps them.
ALTER STATISTICS requests_agency_status_category SET STATISTICS 1000;
ANALYZE requests;
