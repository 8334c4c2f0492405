-- +goose Up
-- A grant's records are only ever looked up by request_id to make its
-- active ones inactive (rotation, revocation, reuse), which the partial
-- index oauth_tokens_active_grant (00008) serves. The full index cost
-- every token about fifty bytes more than a kilobyte in all (issue 18).
DROP INDEX oauth_tokens_grant;

-- +goose Down
CREATE INDEX oauth_tokens_grant ON oauth_tokens (request_id, kind);
