-- Foundation: the transactional outbox and the hash-chained audit log.

-- Jobs are written here in the same transaction as the change that causes
-- them; a relay moves them to asynq after commit (see internal/platform/jobs).
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_key        text        NOT NULL,
    task_type       text        NOT NULL,
    queue           text        NOT NULL,
    payload         jsonb       NOT NULL,
    process_at      timestamptz,
    max_retry       int         NOT NULL,
    timeout_seconds int         NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    dispatched_at   timestamptz,
    attempts        int         NOT NULL DEFAULT 0,
    last_error      text,
    CONSTRAINT outbox_task_key_unique UNIQUE (task_key)
);

-- The relay only ever looks at rows not yet dispatched.
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE dispatched_at IS NULL;

-- Wake the relays as soon as a transaction that wrote outbox rows commits.
-- NOTIFY is transactional: a rolled-back transaction notifies nobody.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Security- and oversight-relevant events. Each row carries the SHA-256 of
-- the previous row, so an edit or a removal in the middle breaks the chain.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,
    action      text        NOT NULL,
    target_type text        NOT NULL,
    target_id   text        NOT NULL,
    -- json, not jsonb: the exact bytes are hashed, so they must come back unchanged.
    detail      json        NOT NULL,
    prev_hash   bytea       NOT NULL,
    hash        bytea       NOT NULL
);

CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
