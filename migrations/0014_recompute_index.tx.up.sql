-- A recompute reads the open clocks of one calendar or policy in batches
-- by id. With the id in the index each batch starts where the last ended;
-- on (calendar_id) alone every batch read all the remaining open clocks
-- and sorted them, quadratic at a million open clocks.
DROP INDEX sla_clocks_open_idx;
CREATE INDEX sla_clocks_open_idx ON sla_clocks (calendar_id, id) WHERE state <> 'stopped';
DROP INDEX sla_clocks_policy_idx;
CREATE INDEX sla_clocks_policy_idx ON sla_clocks (policy_id, id) WHERE state <> 'stopped';
