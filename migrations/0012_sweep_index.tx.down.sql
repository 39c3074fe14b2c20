DROP INDEX sla_clocks_escalate_idx;
