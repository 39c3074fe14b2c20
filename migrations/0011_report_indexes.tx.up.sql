-- The SLA report (三率) over a year of requests reads only covering
-- indexes: the requests of the period by filing time with everything the
-- report groups and counts, and each request's acknowledge clock, rating
-- and breaches by request id (the report bounds them by the period's id
-- range). Before these, a year's report over 1,000,000 requests read every
-- breach row once per request.
CREATE INDEX requests_report_idx ON requests (created_at) INCLUDE (id, agency_id, category, assignee_id, status);
DROP INDEX requests_created_idx; -- the covering index serves every query it served
CREATE INDEX sla_clocks_ack_report_idx ON sla_clocks (request_id) INCLUDE (outcome, state, elapsed_minutes)
    WHERE kind = 'acknowledge';
CREATE INDEX request_feedback_rating_idx ON request_feedback (request_id) INCLUDE (rating);
CREATE INDEX sla_breaches_request_idx ON sla_breaches (request_id) WHERE level = 1;
