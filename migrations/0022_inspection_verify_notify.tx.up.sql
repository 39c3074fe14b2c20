-- The public verify page is cached in each serving process (internal/
-- inspection/verifycache.go). Everything the page shows tells those caches
-- when it changes, on channel inspection_verify: an inspection's code when
-- that inspection changes, '*' (forget everything) for the rare edits of
-- what many pages share: names, items, certificates, inspectors.

CREATE FUNCTION inspection_verify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM old_rows) > 100 THEN
        PERFORM pg_notify('inspection_verify', '*');
    ELSE
        PERFORM pg_notify('inspection_verify', code) FROM old_rows;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER inspections_verify_update AFTER UPDATE ON inspections
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION inspection_verify_changed();
CREATE TRIGGER inspections_verify_delete AFTER DELETE ON inspections
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION inspection_verify_changed();

CREATE FUNCTION inspection_verify_forget_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('inspection_verify', '*');
    RETURN NULL;
END $$;

CREATE TRIGGER users_verify AFTER UPDATE OF display_name ON users
    FOR EACH STATEMENT EXECUTE FUNCTION inspection_verify_forget_all();
CREATE TRIGGER agencies_verify AFTER UPDATE OF name ON agencies
    FOR EACH STATEMENT EXECUTE FUNCTION inspection_verify_forget_all();
CREATE TRIGGER enterprises_verify AFTER UPDATE OF name ON enterprises
    FOR EACH STATEMENT EXECUTE FUNCTION inspection_verify_forget_all();
CREATE TRIGGER inspection_items_verify AFTER UPDATE OR DELETE ON inspection_items
    FOR EACH STATEMENT EXECUTE FUNCTION inspection_verify_forget_all();
CREATE TRIGGER inspector_certificates_verify AFTER INSERT OR UPDATE OR DELETE ON inspector_certificates
    FOR EACH STATEMENT EXECUTE FUNCTION inspection_verify_forget_all();
-- Inspectors are written with their inspection, before its code is out;
-- a later change is rare.
CREATE TRIGGER inspection_inspectors_verify AFTER UPDATE OR DELETE ON inspection_inspectors
    FOR EACH STATEMENT EXECUTE FUNCTION inspection_verify_forget_all();
