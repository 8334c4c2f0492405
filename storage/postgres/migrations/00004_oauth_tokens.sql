-- +goose Up
-- Parts of OAuth grants, stored under their signature, never the token.
CREATE TABLE oauth_tokens (
    kind       text        NOT NULL,
    signature  text        NOT NULL,
    request_id text        NOT NULL,
    client_id  text        NOT NULL,
    subject    text        NOT NULL DEFAULT '',
    active     boolean     NOT NULL DEFAULT true,
    request    bytea       NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (kind, signature)
);
CREATE INDEX oauth_tokens_grant ON oauth_tokens (request_id, kind);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at);

-- JWT ids of client assertions already used (RFC 7523 §3).
CREATE TABLE oauth_jtis (
    jti        text        NOT NULL PRIMARY KEY,
    expires_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE oauth_jtis;
DROP TABLE oauth_tokens;
