-- Casework: categories, green-channel requests, their messages, files,
-- timeline and feedback; idempotency keys for safe retries of creation.

CREATE TABLE categories (
    code             text PRIMARY KEY,
    name_zh          text        NOT NULL,
    name_en          text        NOT NULL,
    description_zh   text        NOT NULL DEFAULT '',
    agency_kind      text        NOT NULL CHECK (agency_kind IN ('court', 'procuratorate', 'police', 'justice')),
    default_priority text        NOT NULL DEFAULT 'normal' CHECK (default_priority IN ('low', 'normal', 'high', 'urgent')),
    -- SLA policy kind (emergency, consultation, general, complaint, complex); the SLA engine maps it to targets.
    sla_kind         text        NOT NULL DEFAULT 'general',
    -- How much of an officer's capacity one open request takes.
    weight           int         NOT NULL DEFAULT 1 CHECK (weight > 0),
    active           boolean     NOT NULL DEFAULT true,
    sort             int         NOT NULL DEFAULT 0
);

-- Ticket numbers run per calendar year (GC-2026-000123). A sequence per year
-- never blocks concurrent filings; a number lost to a rollback is a gap, which
-- is fine.
CREATE FUNCTION next_ticket_seq(yr int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    seq text := 'ticket_seq_' || yr;
BEGIN
    RETURN nextval(seq);
EXCEPTION WHEN undefined_table THEN
    BEGIN
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', seq);
    EXCEPTION WHEN unique_violation THEN
        NULL; -- another transaction created it at the same moment
    END;
    RETURN nextval(seq);
END $$;

CREATE TABLE requests (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_no      text        NOT NULL UNIQUE,
    enterprise_id  bigint      NOT NULL REFERENCES enterprises (id),
    created_by     bigint      NOT NULL REFERENCES users (id),
    category       text        NOT NULL REFERENCES categories (code),
    title          text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 120),
    description    text        NOT NULL CHECK (char_length(description) <= 10000),
    priority       text        NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    contact_name   text        NOT NULL DEFAULT '',
    contact_phone  text        NOT NULL DEFAULT '',
    status         text        NOT NULL CHECK (status IN ('submitted', 'assigned', 'in_progress', 'waiting_enterprise', 'resolved', 'closed', 'withdrawn')),
    agency_id      bigint      REFERENCES agencies (id),
    assignee_id    bigint      REFERENCES users (id),
    version        int         NOT NULL DEFAULT 1,
    resolution     text,
    accepted_at    timestamptz,
    resolved_at    timestamptz,
    closed_at      timestamptz,
    reopen_count   int         NOT NULL DEFAULT 0,
    -- Unigrams and bigrams of the Chinese text plus whole Latin words, for
    -- search: Chinese has no spaces, and most words are two characters, which
    -- trigram indexes cannot serve.
    search_terms   text[]      NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

CREATE INDEX requests_enterprise_idx ON requests (enterprise_id, id DESC);
CREATE INDEX requests_agency_idx ON requests (agency_id, id DESC);
CREATE INDEX requests_assignee_open_idx ON requests (assignee_id) WHERE status IN ('assigned', 'in_progress', 'waiting_enterprise');
CREATE INDEX requests_status_idx ON requests (status, id DESC);
CREATE INDEX requests_created_idx ON requests (created_at);
CREATE INDEX requests_search_idx ON requests USING gin (search_terms);
CREATE INDEX requests_resolved_idx ON requests (resolved_at) WHERE status = 'resolved';

-- Officers who declined a request are not offered it again.
CREATE TABLE request_declines (
    request_id bigint      NOT NULL REFERENCES requests (id),
    user_id    bigint      NOT NULL REFERENCES users (id),
    reason     text        NOT NULL,
    at         timestamptz NOT NULL,
    PRIMARY KEY (request_id, user_id)
);

CREATE TABLE request_messages (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id bigint      NOT NULL REFERENCES requests (id),
    author_id  bigint      NOT NULL REFERENCES users (id),
    body       text        NOT NULL CHECK (char_length(body) BETWEEN 1 AND 10000),
    -- Internal notes are for the agency and oversight only, never the enterprise.
    internal   boolean     NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL
);

CREATE INDEX request_messages_request_idx ON request_messages (request_id, id);

CREATE TABLE request_attachments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id   bigint      NOT NULL REFERENCES requests (id),
    uploader_id  bigint      NOT NULL REFERENCES users (id),
    filename     text        NOT NULL,
    content_type text        NOT NULL,
    size         bigint      NOT NULL,
    sha256       text        NOT NULL,
    storage_key  text        NOT NULL,
    created_at   timestamptz NOT NULL
);

CREATE INDEX request_attachments_request_idx ON request_attachments (request_id, id);

-- The timeline: every event of a request, oldest first.
CREATE TABLE request_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id bigint      NOT NULL REFERENCES requests (id),
    at         timestamptz NOT NULL,
    actor_id   bigint      REFERENCES users (id),
    kind       text        NOT NULL,
    -- Internal events (internal notes, the routing explanation) are hidden from the enterprise.
    internal   boolean     NOT NULL DEFAULT false,
    data       jsonb       NOT NULL DEFAULT '{}'
);

CREATE INDEX request_events_request_idx ON request_events (request_id, id);

CREATE TABLE request_feedback (
    request_id bigint PRIMARY KEY REFERENCES requests (id),
    author_id  bigint      NOT NULL REFERENCES users (id),
    rating     int         NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment    text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);

-- Idempotency-Key records: the same key and body replay the first result.
CREATE TABLE idempotency_keys (
    scope        text        NOT NULL,   -- e.g. 'request.create'
    user_id      bigint      NOT NULL,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    result_id    bigint,                 -- filled when the first call commits
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (scope, user_id, key)
);

CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
