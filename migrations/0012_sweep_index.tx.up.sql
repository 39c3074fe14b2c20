-- The sweep's third look, breaches a day old and not yet escalated, reads
-- only such clocks instead of every open one.
CREATE INDEX sla_clocks_escalate_idx ON sla_clocks (breached_at) WHERE state <> 'stopped' AND escalated_at IS NULL;
