-- Agencies, statuses and categories go together (only the court takes
-- litigation_service), which per-column statistics cannot tell the
-- planner. Without this it expected a court's in-progress litigation
-- requests to be a handful, combined two bitmap indexes and sorted all
-- 1,243 of them (0.5 s cold) instead of reading the first 50 from
-- requests_status_category_idx in order (3 ms).
CREATE STATISTICS requests_agency_status_category (mcv) ON agency_id, status, category FROM requests;
ANALYZE requests;
