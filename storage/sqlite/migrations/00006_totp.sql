-- +goose Up
-- The optional second factor (TOTP, RFC 6238), one per person. The secret
-- is sealed with RELAIS_SECRET_KEY (authz.SecretBox, id = person id).
CREATE TABLE totp_secrets (
    person_id    TEXT    NOT NULL PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
    secret       BLOB    NOT NULL,
    -- The last time step accepted: a code of that step or earlier is refused.
    last_step    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    -- NULL until the person gives a first code; logins need a code after.
    confirmed_at INTEGER
) STRICT;

-- Recovery codes, as SHA-256 hashes; each can be used once.
CREATE TABLE totp_recovery_codes (
    person_id TEXT    NOT NULL REFERENCES totp_secrets (person_id) ON DELETE CASCADE,
    hash      BLOB    NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (person_id, hash)
) STRICT;

-- Logins whose password was right and whose code is still to come. The id
-- is the SHA-256 of the token in the browser's cookie.
CREATE TABLE pending_logins (
    id         TEXT    NOT NULL PRIMARY KEY,
    person_id  TEXT    NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    auth_time  INTEGER NOT NULL,
    amr        TEXT    NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX pending_logins_person ON pending_logins (person_id);
CREATE INDEX pending_logins_expiry ON pending_logins (expires_at);

-- +goose Down
DROP TABLE pending_logins;
DROP TABLE totp_recovery_codes;
DROP TABLE totp_secrets;
