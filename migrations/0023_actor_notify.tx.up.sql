-- Each serving process keeps the actors of recent requests (internal/
-- identity/auth.go), so that authenticating a request costs no round trip.
-- Everything an actor is made of tells those caches when it changes, on
-- channel identity_actor: a user's id when that user changes or goes, '*'
-- (forget everything) for a change of agency kinds or of many users at once.

CREATE FUNCTION identity_actor_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM old_rows) > 100 THEN
        PERFORM pg_notify('identity_actor', '*');
    ELSE
        PERFORM pg_notify('identity_actor', id::text) FROM old_rows;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER users_actor_update AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION identity_actor_changed();
CREATE TRIGGER users_actor_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION identity_actor_changed();

CREATE FUNCTION identity_actor_forget_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('identity_actor', '*');
    RETURN NULL;
END $$;

CREATE TRIGGER agencies_actor AFTER UPDATE OF kind OR DELETE ON agencies
    FOR EACH STATEMENT EXECUTE FUNCTION identity_actor_forget_all();
