-- +goose Up
-- Rotating or revoking a grant touches only its active records: without
-- this index a long refresh family is scanned in full at every refresh.
CREATE INDEX oauth_tokens_active_grant ON oauth_tokens (request_id, kind) WHERE active;

-- +goose Down
DROP INDEX oauth_tokens_active_grant;
