-- Inspections at 5,000,000 rows.
--
-- One enterprise's inspections, whatever their status, by window: the
-- pre-checks' counts, the alert rules' visit lists and the burden view's
-- yearly counts read only this index (status, kind and agency are in it);
-- the burden timeline, which shows cancelled visits too, could not use the
-- old partial index and read the whole table.
DROP INDEX inspections_enterprise_idx;
CREATE INDEX inspections_enterprise_idx ON inspections (enterprise_id, window_from) INCLUDE (status, kind, agency_id, id);

-- The yearly report reads a year of inspections (over a million) from
-- this index alone; it serves every query the plain window index served.
DROP INDEX inspections_window_idx;
CREATE INDEX inspections_window_idx ON inspections (window_from)
    INCLUDE (id, agency_id, enterprise_id, mode, status, confirmed_at, override_reason, joint_agency_ids, item_codes, created_at);
CREATE INDEX inspection_evaluations_rating_idx ON inspection_evaluations (inspection_id) INCLUDE (rating);

-- Repeat-visit alerts by when they were last seen (the report's bound).
CREATE INDEX alerts_repeat_seen_idx ON alerts (last_seen) WHERE rule LIKE 'repeat_visit_%';
