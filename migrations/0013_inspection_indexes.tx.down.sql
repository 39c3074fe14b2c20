DROP INDEX alerts_repeat_seen_idx;
DROP INDEX inspection_evaluations_rating_idx;
DROP INDEX inspections_window_idx;
CREATE INDEX inspections_window_idx ON inspections (window_from);
DROP INDEX inspections_enterprise_idx;
CREATE INDEX inspections_enterprise_idx ON inspections (enterprise_id, window_from) WHERE status <> 'cancelled';
