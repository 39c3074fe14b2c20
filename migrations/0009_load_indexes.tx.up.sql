-- Routing sums the open requests of an agency's officers for every
-- assignment. These indexes hold everything that sum reads, so it is an
-- index-only scan instead of a visit to every open request's row.
CREATE INDEX requests_open_load_idx ON requests (agency_id, assignee_id, category)
    WHERE status IN ('assigned', 'in_progress', 'waiting_enterprise');
DROP INDEX requests_assignee_open_idx;
CREATE INDEX requests_assignee_open_idx ON requests (assignee_id, category)
    WHERE status IN ('assigned', 'in_progress', 'waiting_enterprise');
