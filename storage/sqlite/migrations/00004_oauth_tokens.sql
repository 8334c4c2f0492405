-- +goose Up
-- Parts of OAuth grants, stored under their signature, never the token.
CREATE TABLE oauth_tokens (
    kind       TEXT    NOT NULL,
    signature  TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    subject    TEXT    NOT NULL DEFAULT '',
    active     INTEGER NOT NULL DEFAULT 1,
    request    BLOB    NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (kind, signature)
) STRICT;
CREATE INDEX oauth_tokens_grant ON oauth_tokens (request_id, kind);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at);

-- JWT ids of client assertions already used (RFC 7523 §3).
CREATE TABLE oauth_jtis (
    jti        TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE oauth_jtis;
DROP TABLE oauth_tokens;
