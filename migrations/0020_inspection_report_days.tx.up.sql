-- The inspection report's figures per day, so a year's report sums a few
-- hundred thousand small rows instead of aggregating over a million
-- inspections.
--
-- A day is the Asia/Shanghai date of window_from. Rows with item_code ''
-- count whole inspections (agency and town grouping); the others count one
-- row per item an inspection covers (item grouping).
CREATE TABLE inspection_report_days (
    day           date   NOT NULL,
    agency_id     bigint NOT NULL,
    town_code     text   NOT NULL, -- '' when the enterprise has no town
    item_code     text   NOT NULL,
    inspections   int    NOT NULL,
    onsite        int    NOT NULL,
    joint         int    NOT NULL,
    repeat_visits int    NOT NULL,
    cap_overrides int    NOT NULL,
    no_code_scan  int    NOT NULL,
    rated         int    NOT NULL,
    rating_sum    bigint NOT NULL,
    PRIMARY KEY (day, agency_id, town_code, item_code)
);

-- Days whose stored figures may be out of date. The report computes these
-- days from the inspections themselves; the refresh job recomputes their
-- rows and removes the marks it has seen.
--
-- Marks are plain inserts with no unique key on purpose: a writer never
-- waits for a refresh in progress, and a refresh (in one REPEATABLE READ
-- snapshot) deletes only the marks its snapshot saw, so a change that
-- commits after that snapshot keeps its day marked.
CREATE TABLE inspection_report_stale (
    id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    day date NOT NULL
);

CREATE INDEX inspection_report_stale_day_idx ON inspection_report_stale (day);

-- Triggers, not application code, mark the days: every path that changes
-- what the report counts (issuing, scanning, recording, cancelling,
-- rating, repeat-visit alerts, an enterprise moving town) is covered
-- without each having to remember. Statement-level, so a bulk load marks
-- each day once.
CREATE FUNCTION inspection_report_mark() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'inspections' THEN
        IF TG_OP = 'UPDATE' THEN
            INSERT INTO inspection_report_stale (day)
            SELECT DISTINCT (x.window_from AT TIME ZONE 'Asia/Shanghai')::date
            FROM (SELECT window_from FROM old_rows UNION SELECT window_from FROM new_rows) x;
        ELSE
            INSERT INTO inspection_report_stale (day)
            SELECT DISTINCT (window_from AT TIME ZONE 'Asia/Shanghai')::date FROM new_rows;
        END IF;
    ELSIF TG_TABLE_NAME = 'inspection_evaluations' THEN
        INSERT INTO inspection_report_stale (day)
        SELECT DISTINCT (i.window_from AT TIME ZONE 'Asia/Shanghai')::date
        FROM new_rows n JOIN inspections i ON i.id = n.inspection_id;
    ELSIF TG_TABLE_NAME = 'alerts' THEN
        INSERT INTO inspection_report_stale (day)
        SELECT DISTINCT (i.window_from AT TIME ZONE 'Asia/Shanghai')::date
        FROM new_rows n, unnest(n.inspection_ids) AS x (id), inspections i
        WHERE n.rule LIKE 'repeat_visit_%' AND i.id = x.id;
    ELSIF TG_TABLE_NAME = 'enterprises' THEN
        INSERT INTO inspection_report_stale (day)
        SELECT DISTINCT (i.window_from AT TIME ZONE 'Asia/Shanghai')::date
        FROM old_rows o JOIN new_rows n ON n.id = o.id JOIN inspections i ON i.enterprise_id = n.id
        WHERE o.town_code IS DISTINCT FROM n.town_code;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER inspections_report_insert AFTER INSERT ON inspections
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION inspection_report_mark();
CREATE TRIGGER inspections_report_update AFTER UPDATE ON inspections
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION inspection_report_mark();
CREATE TRIGGER inspection_evaluations_report_insert AFTER INSERT ON inspection_evaluations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION inspection_report_mark();
CREATE TRIGGER inspection_evaluations_report_update AFTER UPDATE ON inspection_evaluations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION inspection_report_mark();
CREATE TRIGGER alerts_report_insert AFTER INSERT ON alerts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION inspection_report_mark();
CREATE TRIGGER alerts_report_update AFTER UPDATE ON alerts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION inspection_report_mark();
CREATE TRIGGER enterprises_report_update AFTER UPDATE ON enterprises
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION inspection_report_mark();

-- Inspections already stored: every one of their days is out of date
-- until the first refresh.
INSERT INTO inspection_report_stale (day)
SELECT DISTINCT (window_from AT TIME ZONE 'Asia/Shanghai')::date FROM inspections;

-- Whether a repeat-visit alert names an inspection: the report asks once
-- per inspection it counts.
DROP INDEX alerts_repeat_seen_idx;
CREATE INDEX alerts_repeat_ids_idx ON alerts USING gin (inspection_ids) WHERE rule LIKE 'repeat_visit_%';
