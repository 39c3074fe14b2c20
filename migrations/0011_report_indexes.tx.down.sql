DROP INDEX sla_breaches_request_idx;
DROP INDEX request_feedback_rating_idx;
DROP INDEX sla_clocks_ack_report_idx;
CREATE INDEX requests_created_idx ON requests (created_at);
DROP INDEX requests_report_idx;
