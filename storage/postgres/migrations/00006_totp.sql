-- +goose Up
-- The optional second factor (TOTP, RFC 6238), one per person. The secret
-- is sealed with RELAIS_SECRET_KEY (authz.SecretBox, id = person id).
CREATE TABLE totp_secrets (
    person_id    uuid        NOT NULL PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
    secret       bytea       NOT NULL,
    -- The last time step accepted: a code of that step or earlier is refused.
    last_step    bigint      NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    -- NULL until the person gives a first code; logins need a code after.
    confirmed_at timestamptz
);

-- Recovery codes, as SHA-256 hashes; each can be used once.
CREATE TABLE totp_recovery_codes (
    person_id uuid        NOT NULL REFERENCES totp_secrets (person_id) ON DELETE CASCADE,
    hash      bytea       NOT NULL,
    used_at   timestamptz,
    PRIMARY KEY (person_id, hash)
);

-- Logins whose password was right and whose code is still to come. The id
-- is the SHA-256 of the token in the browser's cookie.
CREATE TABLE pending_logins (
    id         text        NOT NULL PRIMARY KEY,
    person_id  uuid        NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    auth_time  timestamptz NOT NULL,
    amr        text[]      NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX pending_logins_person ON pending_logins (person_id);
CREATE INDEX pending_logins_expiry ON pending_logins (expires_at);

-- +goose Down
DROP TABLE pending_logins;
DROP TABLE totp_recovery_codes;
DROP TABLE totp_secrets;
