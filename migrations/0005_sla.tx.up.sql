-- SLA: working calendars, policies, clocks with their event logs, breaches.

CREATE TABLE calendars (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code            text        NOT NULL UNIQUE,
    name            text        NOT NULL,
    tz              text        NOT NULL DEFAULT 'Asia/Shanghai',
    always_open     boolean     NOT NULL DEFAULT false,
    -- Seven arrays (Sunday first) of [start, end] minute pairs.
    week            jsonb       NOT NULL DEFAULT '[[],[],[],[],[],[],[]]',
    -- Windows of a make-up working day (调休).
    workday_windows jsonb       NOT NULL DEFAULT '[]',
    -- Bumped on every change, so cached copies know they are stale.
    version         int         NOT NULL DEFAULT 1,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE calendar_days (
    calendar_id bigint NOT NULL REFERENCES calendars (id),
    day         date   NOT NULL,
    kind        text   NOT NULL CHECK (kind IN ('holiday', 'makeup', 'closure')),
    name        text   NOT NULL DEFAULT '',
    -- For closures: the [start, end] minute pairs that are closed.
    windows     jsonb,
    PRIMARY KEY (calendar_id, day, kind)
);

-- Years whose official holidays are loaded; later dates are provisional.
CREATE TABLE calendar_years (
    calendar_id bigint NOT NULL REFERENCES calendars (id),
    year        int    NOT NULL,
    PRIMARY KEY (calendar_id, year)
);

CREATE TABLE sla_policies (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code                    text        NOT NULL UNIQUE,
    name                    text        NOT NULL,
    -- Lower is tried first; the first policy whose conditions all hold applies.
    precedence              int         NOT NULL,
    category                text        REFERENCES categories (code),
    priority                text        CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    sla_kind                text,
    calendar_id             bigint      NOT NULL REFERENCES calendars (id),
    acknowledge_minutes     int         NOT NULL CHECK (acknowledge_minutes > 0),
    resolution_minutes      int         NOT NULL CHECK (resolution_minutes > 0),
    next_response_minutes   int         CHECK (next_response_minutes > 0),
    warn_percent            int         NOT NULL DEFAULT 75 CHECK (warn_percent BETWEEN 1 AND 99),
    max_pauses              int,
    max_pause_minutes       int,
    reassign_on_escalation  boolean     NOT NULL DEFAULT false,
    active                  boolean     NOT NULL DEFAULT true,
    version                 int         NOT NULL DEFAULT 1,
    updated_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sla_clocks (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id      bigint      NOT NULL REFERENCES requests (id),
    kind            text        NOT NULL CHECK (kind IN ('acknowledge', 'resolution', 'next_response')),
    cycle           int         NOT NULL DEFAULT 1,
    policy_id       bigint      NOT NULL REFERENCES sla_policies (id),
    calendar_id     bigint      NOT NULL REFERENCES calendars (id),
    target_minutes  int         NOT NULL,
    warn_percent    int         NOT NULL,
    -- Derived from sla_clock_events and stored for indexing and reading.
    state           text        NOT NULL CHECK (state IN ('running', 'paused', 'stopped')),
    outcome         text        CHECK (outcome IN ('met', 'breached')),
    elapsed_minutes int         NOT NULL DEFAULT 0,
    paused_minutes  int         NOT NULL DEFAULT 0,
    pause_count     int         NOT NULL DEFAULT 0,
    over_pause_cap  boolean     NOT NULL DEFAULT false,
    due_at          timestamptz,
    warn_at         timestamptz,
    provisional     boolean     NOT NULL DEFAULT false,
    warned_at       timestamptz,
    breached_at     timestamptz,
    escalated_at    timestamptz,
    stopped_at      timestamptz,
    version         int         NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (request_id, kind, cycle)
);

-- The sweep reads only clocks whose next deadline has come.
CREATE INDEX sla_clocks_due_idx ON sla_clocks (due_at) WHERE state = 'running' AND breached_at IS NULL;
CREATE INDEX sla_clocks_warn_idx ON sla_clocks (warn_at) WHERE state = 'running' AND warned_at IS NULL;
CREATE INDEX sla_clocks_open_idx ON sla_clocks (calendar_id) WHERE state <> 'stopped';
CREATE INDEX sla_clocks_policy_idx ON sla_clocks (policy_id) WHERE state <> 'stopped';

-- Append-only: each clock's history. The stored fields above are derived from it.
CREATE TABLE sla_clock_events (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clock_id bigint      NOT NULL REFERENCES sla_clocks (id),
    at       timestamptz NOT NULL,
    kind     text        NOT NULL CHECK (kind IN ('start', 'pause', 'resume', 'stop', 'reset')),
    reason   text        NOT NULL DEFAULT '',
    actor_id bigint
);

CREATE INDEX sla_clock_events_clock_idx ON sla_clock_events (clock_id, id);

-- One row per breach and per escalation, for the oversight office.
CREATE TABLE sla_breaches (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clock_id    bigint      NOT NULL REFERENCES sla_clocks (id),
    request_id  bigint      NOT NULL REFERENCES requests (id),
    agency_id   bigint      REFERENCES agencies (id),
    assignee_id bigint      REFERENCES users (id),
    clock_kind  text        NOT NULL,
    level       int         NOT NULL, -- 1 breached, 2 still unresolved a working day later
    at          timestamptz NOT NULL,
    UNIQUE (clock_id, level)
);

CREATE INDEX sla_breaches_at_idx ON sla_breaches (at);

-- Enterprises are told only what they must know, not at night, not too often.
ALTER TABLE notifications ADD COLUMN deliver_at timestamptz;
UPDATE notifications SET deliver_at = created_at;
ALTER TABLE notifications ALTER COLUMN deliver_at SET NOT NULL;
CREATE INDEX notifications_deliver_idx ON notifications (user_id, deliver_at);

-- Outbound webhooks per agency, signed with HMAC-SHA256.
CREATE TABLE agency_webhooks (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id  bigint      NOT NULL REFERENCES agencies (id),
    url        text        NOT NULL,
    secret     text        NOT NULL,
    active     boolean     NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id  bigint      NOT NULL REFERENCES agency_webhooks (id),
    event       text        NOT NULL,
    body        jsonb       NOT NULL,
    attempts    int         NOT NULL DEFAULT 0,
    status_code int,
    last_error  text,
    delivered_at timestamptz,
    created_at  timestamptz NOT NULL
);
