-- Identity: towns, agencies, enterprises, users and their sign-in state.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE towns (
    code text PRIMARY KEY,
    name text NOT NULL UNIQUE
);

CREATE TABLE agencies (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code       text        NOT NULL UNIQUE,
    name       text        NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('court', 'procuratorate', 'police', 'justice', 'oversight', 'inspection')),
    -- Towns the agency serves; empty means the whole district.
    towns      text[]      NOT NULL DEFAULT '{}',
    active     boolean     NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE enterprises (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uscc                  char(18)    NOT NULL UNIQUE,
    name                  text        NOT NULL,
    town_code             text        REFERENCES towns (code),
    industry              text        NOT NULL DEFAULT '',
    address               text        NOT NULL DEFAULT '',
    contact_name          text        NOT NULL DEFAULT '',
    contact_phone         text        NOT NULL DEFAULT '',
    -- Risk / credit grade used by inspection caps (A best).
    grade                 text        NOT NULL DEFAULT 'B' CHECK (grade IN ('A', 'B', 'C', 'D')),
    -- Set when an administrator accepted a code that fails the GB 32100 check.
    uscc_check_override   text,
    no_disturb            boolean     NOT NULL DEFAULT false,
    no_disturb_from       date,
    no_disturb_to         date,
    no_disturb_basis      text        NOT NULL DEFAULT '',
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX enterprises_name_trgm ON enterprises USING gin (name gin_trgm_ops);
CREATE INDEX enterprises_town_idx ON enterprises (town_code);

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text        NOT NULL,
    display_name  text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('enterprise', 'officer', 'agency_lead', 'inspector', 'oversight', 'admin')),
    password_hash text        NOT NULL,
    agency_id     bigint      REFERENCES agencies (id),
    enterprise_id bigint      REFERENCES enterprises (id),
    phone         text        NOT NULL DEFAULT '',
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- Each role is bound to exactly what it needs.
    CONSTRAINT users_role_binding CHECK (
        (role = 'enterprise' AND enterprise_id IS NOT NULL AND agency_id IS NULL) OR
        (role IN ('officer', 'agency_lead', 'inspector') AND agency_id IS NOT NULL AND enterprise_id IS NULL) OR
        (role = 'oversight' AND enterprise_id IS NULL) OR
        (role = 'admin' AND agency_id IS NULL AND enterprise_id IS NULL)
    )
);

CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE INDEX users_agency_idx ON users (agency_id) WHERE agency_id IS NOT NULL;
CREATE INDEX users_enterprise_idx ON users (enterprise_id) WHERE enterprise_id IS NOT NULL;

-- What routing needs to know about an officer.
CREATE TABLE officer_profiles (
    user_id          bigint PRIMARY KEY REFERENCES users (id),
    skills           text[]      NOT NULL DEFAULT '{}',   -- category codes
    capacity         int         NOT NULL DEFAULT 10 CHECK (capacity >= 0),
    on_duty          boolean     NOT NULL DEFAULT true,
    towns            text[]      NOT NULL DEFAULT '{}',   -- empty: all towns
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Rotating refresh tokens. Only a hash is stored. Presenting a token that
-- was already used revokes its whole family (it was stolen, or replayed).
CREATE TABLE refresh_tokens (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id),
    family      uuid        NOT NULL,
    token_hash  bytea       NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family);

-- Web sessions (HttpOnly cookie holds the token; only its hash is here).
CREATE TABLE sessions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id),
    token_hash   bytea       NOT NULL UNIQUE,
    csrf_token   text        NOT NULL,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Failed sign-ins per account and per client address.
CREATE TABLE login_throttle (
    key           text PRIMARY KEY,    -- 'user:<lower username>' or 'ip:<address>'
    failures      int         NOT NULL,
    first_failure timestamptz NOT NULL,
    locked_until  timestamptz
);
