DROP TABLE report_snapshots;
DROP TABLE order_events;
DROP TABLE supervision_orders;
DROP TABLE oversight_cursors;
DROP TABLE alerts;
DROP TABLE alert_rules;
