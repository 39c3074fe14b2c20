-- 一码检查: published inspection items, who may inspect what, caps, plans,
-- inspections with their codes, visit records and the enterprise's rating.

CREATE TABLE inspection_items (
    code                 text PRIMARY KEY,
    name                 text        NOT NULL,
    legal_basis          text        NOT NULL,
    -- The agency (by code) whose list the item is on: market, fire, ...
    sector               text        NOT NULL,
    list_class           text        NOT NULL CHECK (list_class IN ('no_disturb', 'key_supervision', 'random_check')),
    offsite_capable      boolean     NOT NULL DEFAULT false,
    status               text        NOT NULL DEFAULT 'published' CHECK (status IN ('draft', 'published', 'suspended', 'cancelled')),
    -- First-offence guidance says no penalty for a minor finding (首违不罚).
    first_offence_exempt boolean     NOT NULL DEFAULT false,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agency_items (
    agency_id bigint NOT NULL REFERENCES agencies (id),
    item_code text   NOT NULL REFERENCES inspection_items (code),
    PRIMARY KEY (agency_id, item_code)
);

CREATE TABLE inspector_certificates (
    user_id    bigint PRIMARY KEY REFERENCES users (id),
    number     text   NOT NULL UNIQUE,
    valid_from date   NOT NULL,
    valid_to   date   NOT NULL
);

-- Frequency caps per calendar year. scope 'agency' counts the inspecting
-- agency's own visits, 'all' every agency's; NULL agency, item or grade
-- means any. Several caps may apply at once; each must hold.
CREATE TABLE inspection_caps (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id    bigint REFERENCES agencies (id),
    item_code    text   REFERENCES inspection_items (code),
    grade        text   CHECK (grade IN ('A', 'B', 'C', 'D')),
    scope        text   NOT NULL CHECK (scope IN ('agency', 'all')),
    max_per_year int    NOT NULL CHECK (max_per_year >= 0),
    active       boolean NOT NULL DEFAULT true
);

-- Triggers that make an inspection exempt from caps and the no-disturb list.
CREATE TABLE inspection_triggers (
    code    text PRIMARY KEY,
    name_zh text NOT NULL,
    name_en text NOT NULL
);

CREATE TABLE inspection_plans (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agency_id    bigint      NOT NULL REFERENCES agencies (id),
    year         int         NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('annual', 'special')),
    title        text        NOT NULL,
    item_codes   text[]      NOT NULL,
    approved_by  text,
    approved_at  timestamptz,
    filed_at     timestamptz,
    published_at timestamptz
);

CREATE TABLE inspections (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code             text        NOT NULL UNIQUE,
    enterprise_id    bigint      NOT NULL REFERENCES enterprises (id),
    agency_id        bigint      NOT NULL REFERENCES agencies (id),
    created_by       bigint      NOT NULL REFERENCES users (id),
    item_codes       text[]      NOT NULL,
    mode             text        NOT NULL CHECK (mode IN ('onsite', 'offsite')),
    kind             text        NOT NULL CHECK (kind IN ('routine', 'triggered', 'special')),
    trigger_type     text        REFERENCES inspection_triggers (code),
    trigger_ref      text        NOT NULL DEFAULT '',
    plan_id          bigint      REFERENCES inspection_plans (id),
    window_from      timestamptz NOT NULL,
    window_to        timestamptz NOT NULL CHECK (window_to > window_from),
    joint_agency_ids bigint[]    NOT NULL DEFAULT '{}',
    override_reason  text,
    -- The pre-check results at issue time (warnings and overridden blocks).
    checks           jsonb       NOT NULL DEFAULT '[]',
    status           text        NOT NULL CHECK (status IN ('code_issued', 'confirmed', 'recorded', 'cancelled')),
    confirmed_at     timestamptz,
    started_at       timestamptz,
    ended_at         timestamptz,
    outcome          text        CHECK (outcome IN ('no_issue', 'rectify', 'case_opened', 'penalty')),
    rectify_due      date,
    penalty_amount   numeric(14, 2),
    record           jsonb,
    cancel_reason    text,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);

CREATE INDEX inspections_enterprise_idx ON inspections (enterprise_id, window_from) WHERE status <> 'cancelled';
CREATE INDEX inspections_agency_idx ON inspections (agency_id, id DESC);
CREATE INDEX inspections_window_idx ON inspections (window_from);

CREATE TABLE inspection_inspectors (
    inspection_id bigint NOT NULL REFERENCES inspections (id),
    user_id       bigint NOT NULL REFERENCES users (id),
    PRIMARY KEY (inspection_id, user_id)
);

CREATE INDEX inspection_inspectors_user_idx ON inspection_inspectors (user_id, inspection_id);

CREATE TABLE inspection_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    inspection_id bigint      NOT NULL REFERENCES inspections (id),
    at            timestamptz NOT NULL,
    actor_id      bigint      REFERENCES users (id),
    kind          text        NOT NULL,
    data          jsonb       NOT NULL DEFAULT '{}'
);

CREATE INDEX inspection_events_inspection_idx ON inspection_events (inspection_id, id);

-- The enterprise's rating of a visit: read by the oversight office, never
-- by the inspecting agency.
CREATE TABLE inspection_evaluations (
    inspection_id bigint PRIMARY KEY REFERENCES inspections (id),
    enterprise_id bigint      NOT NULL REFERENCES enterprises (id),
    author_id     bigint      NOT NULL REFERENCES users (id),
    rating        int         NOT NULL CHECK (rating BETWEEN 1 AND 5),
    tags          text[]      NOT NULL DEFAULT '{}',
    comment       text        NOT NULL DEFAULT '',
    complaint     boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL
);

-- Thresholds of the pre-checks (POLICY.md §2 defaults); administrators may change them.
CREATE TABLE inspection_settings (
    key   text PRIMARY KEY,
    value int  NOT NULL
);

INSERT INTO inspection_settings (key, value) VALUES
    ('repeat_day', 1),          -- more than 1 visit a day warns
    ('repeat_week', 2),         -- more than 2 in 7 days
    ('repeat_month', 3),        -- more than 3 in a calendar month
    ('multi_agency_days', 30),  -- other agencies within 30 days: propose a joint inspection
    ('split_days', 7),          -- the same agency again within 7 days: merge the items
    ('low_yield_count', 3),     -- 3 no-issue visits in a row by one inspector ...
    ('low_yield_days', 365),    -- ... within a year block a fourth
    ('window_max_days', 31);    -- a code is valid for at most 31 days
