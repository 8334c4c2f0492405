-- +goose NO TRANSACTION
-- +goose Up
-- The cleanup job of relais serve (cmd/relais/cleanup.go) deletes, every
-- minute and in batches, the rows that have expired
-- (mandates.ExpiredStore). Sessions, pending logins, upstream logins,
-- account codes, tokens and DPoP proofs already have an index on their
-- expiry; these four tables had none, so each batch would read the whole
-- table. They are built CONCURRENTLY, outside a transaction, so that
-- logins and tokens go on while they build; a build that failed leaves an
-- invalid index behind, which the DROP first lets the migration replace.
DROP INDEX CONCURRENTLY IF EXISTS oauth_jtis_expiry;
CREATE INDEX CONCURRENTLY oauth_jtis_expiry ON oauth_jtis (expires_at);
-- The primary key (key, window_start) cannot serve a search by
-- window_start alone.
DROP INDEX CONCURRENTLY IF EXISTS login_attempts_window;
CREATE INDEX CONCURRENTLY login_attempts_window ON login_attempts (window_start);
DROP INDEX CONCURRENTLY IF EXISTS consent_codes_expiry;
CREATE INDEX CONCURRENTLY consent_codes_expiry ON consent_codes (expires_at);
-- Only requests nobody answered are deleted: the index holds only them,
-- and the job's query repeats the WHERE term.
DROP INDEX CONCURRENTLY IF EXISTS cosignatures_pending_expiry;
CREATE INDEX CONCURRENTLY cosignatures_pending_expiry ON cosignatures (expires_at) WHERE status = 'pending';

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS cosignatures_pending_expiry;
DROP INDEX CONCURRENTLY IF EXISTS consent_codes_expiry;
DROP INDEX CONCURRENTLY IF EXISTS login_attempts_window;
DROP INDEX CONCURRENTLY IF EXISTS oauth_jtis_expiry;
