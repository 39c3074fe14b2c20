-- Routing: rules that pick the agency, recusals, fairness and offer state,
-- and in-app notifications.

CREATE TABLE routing_rules (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Lower runs first; the first rule that matches wins.
    priority       int         NOT NULL,
    category       text        REFERENCES categories (code),  -- NULL: any category
    town_code      text        REFERENCES towns (code),       -- NULL: any town
    agency_id      bigint      NOT NULL REFERENCES agencies (id),
    -- Officers must carry this skill; NULL means the category's own code.
    required_skill text,
    active         boolean     NOT NULL DEFAULT true,
    note           text        NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX routing_rules_priority_key ON routing_rules (priority) WHERE active;

-- An officer who must not handle an enterprise's requests (conflict of interest).
CREATE TABLE recusals (
    officer_id    bigint      NOT NULL REFERENCES users (id),
    enterprise_id bigint      NOT NULL REFERENCES enterprises (id),
    reason        text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (officer_id, enterprise_id)
);

-- Ties between equally loaded officers go to whoever was assigned least
-- recently; kept in the database so it is fair across restarts and workers.
ALTER TABLE officer_profiles ADD COLUMN last_assigned_at timestamptz;

-- Why a request sits unassigned in its agency's pool, if it does:
-- 'no_eligible_officer' drains automatically as capacity frees;
-- 'offer_missed' waits for the agency lead.
ALTER TABLE requests ADD COLUMN pool_reason text;
ALTER TABLE requests ADD COLUMN offer_misses int NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN offered_at timestamptz;

CREATE INDEX requests_pool_idx ON requests (agency_id, id) WHERE status = 'submitted' AND pool_reason IS NOT NULL;
CREATE INDEX requests_submitted_idx ON requests (updated_at) WHERE status = 'submitted' AND pool_reason IS NULL;

CREATE TABLE notifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id),
    kind       text        NOT NULL,
    title      text        NOT NULL,
    body       text        NOT NULL DEFAULT '',
    request_id bigint      REFERENCES requests (id),
    created_at timestamptz NOT NULL,
    read_at    timestamptz
);

CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
