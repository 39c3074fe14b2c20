DROP INDEX requests_assignee_open_idx;
CREATE INDEX requests_assignee_open_idx ON requests (assignee_id) WHERE status IN ('assigned', 'in_progress', 'waiting_enterprise');
DROP INDEX requests_open_load_idx;
