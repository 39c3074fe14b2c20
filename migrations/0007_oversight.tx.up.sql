-- Oversight: alerts raised by rules, supervision orders (督办), report snapshots.

CREATE TABLE alert_rules (
    rule      text PRIMARY KEY,
    severity  text    NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
    threshold int,
    active    boolean NOT NULL DEFAULT true
);

INSERT INTO alert_rules (rule, severity, threshold) VALUES
    ('repeat_visit_day', 'medium', 1),
    ('repeat_visit_week', 'medium', 2),
    ('repeat_visit_month', 'medium', 3),
    ('multi_agency', 'low', 30),
    ('cap_exceeded', 'high', NULL),
    ('cap_override', 'medium', NULL),
    ('low_yield_override', 'medium', NULL),
    ('no_disturb_violation', 'high', NULL),
    ('no_code_scan', 'high', NULL),
    ('confirm_refused', 'high', NULL),
    ('unlisted_item', 'high', NULL),
    ('special_without_plan', 'high', NULL),
    ('cross_jurisdiction', 'medium', NULL),
    ('poor_evaluation', 'medium', 2),
    ('heavy_penalty', 'medium', NULL),
    ('sla_breach', 'medium', NULL),
    ('sla_breach_unresolved', 'high', NULL),
    ('repeated_reopen', 'medium', 2),
    ('excessive_pausing', 'medium', NULL),
    ('decline_ping_pong', 'medium', 3),
    ('low_satisfaction', 'medium', 2);

CREATE TABLE alerts (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule           text        NOT NULL REFERENCES alert_rules (rule),
    severity       text        NOT NULL,
    status         text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved', 'dismissed')),
    -- One situation, one alert: the rule's key for it (e.g. the enterprise and the week).
    dedup_key      text        NOT NULL UNIQUE,
    enterprise_id  bigint      REFERENCES enterprises (id),
    agency_ids     bigint[]    NOT NULL DEFAULT '{}',
    inspection_ids bigint[]    NOT NULL DEFAULT '{}',
    request_ids    bigint[]    NOT NULL DEFAULT '{}',
    detail         jsonb       NOT NULL DEFAULT '{}',
    occurrences    int         NOT NULL DEFAULT 1,
    first_seen     timestamptz NOT NULL,
    last_seen      timestamptz NOT NULL,
    handler_id     bigint      REFERENCES users (id),
    handled_at     timestamptz,
    dismiss_reason text
);

CREATE INDEX alerts_status_idx ON alerts (status, id DESC);
CREATE INDEX alerts_enterprise_idx ON alerts (enterprise_id);
CREATE INDEX alerts_agencies_idx ON alerts USING gin (agency_ids);

-- Where the incremental scan of request events got to.
CREATE TABLE oversight_cursors (
    name    text PRIMARY KEY,
    last_id bigint NOT NULL
);

CREATE TABLE supervision_orders (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id     bigint      NOT NULL REFERENCES agencies (id),
    alert_id      bigint      REFERENCES alerts (id),
    request_id    bigint      REFERENCES requests (id),
    inspection_id bigint      REFERENCES inspections (id),
    instruction   text        NOT NULL,
    issued_by     bigint      NOT NULL REFERENCES users (id),
    issued_at     timestamptz NOT NULL,
    due_at        timestamptz NOT NULL,
    status        text        NOT NULL CHECK (status IN ('issued', 'answered', 'accepted', 'returned')),
    response      text,
    responded_by  bigint      REFERENCES users (id),
    responded_at  timestamptz,
    review_note   text,
    reviewed_at   timestamptz,
    overdue_at    timestamptz,
    version       int         NOT NULL DEFAULT 1
);

CREATE INDEX supervision_orders_agency_idx ON supervision_orders (agency_id, id DESC);
CREATE INDEX supervision_orders_due_idx ON supervision_orders (due_at) WHERE status IN ('issued', 'returned') AND overdue_at IS NULL;

CREATE TABLE order_events (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint      NOT NULL REFERENCES supervision_orders (id),
    at       timestamptz NOT NULL,
    actor_id bigint      REFERENCES users (id),
    kind     text        NOT NULL,
    data     jsonb       NOT NULL DEFAULT '{}'
);

CREATE INDEX order_events_order_idx ON order_events (order_id, id);

-- Stored monthly summaries the office downloads.
CREATE TABLE report_snapshots (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text        NOT NULL,
    period     text        NOT NULL,
    xlsx       bytea       NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (kind, period)
);
