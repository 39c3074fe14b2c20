-- The SLA report reads the requests of its period in id order, from the
-- period's id range (ids grow with filing time), so they merge with the
-- acknowledge clocks, ratings and breaches, which it reads by request id,
-- without sorting a year of requests first. The index carries everything
-- the report groups and counts; requests_report_idx still finds the range.
CREATE INDEX requests_report_id_idx ON requests (id) INCLUDE (created_at, agency_id, category, assignee_id, status);
