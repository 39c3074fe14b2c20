DROP INDEX sla_clocks_open_idx;
CREATE INDEX sla_clocks_open_idx ON sla_clocks (calendar_id) WHERE state <> 'stopped';
DROP INDEX sla_clocks_policy_idx;
CREATE INDEX sla_clocks_policy_idx ON sla_clocks (policy_id) WHERE state <> 'stopped';
