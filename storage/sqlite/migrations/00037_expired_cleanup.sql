-- +goose Up
-- The cleanup job of relais serve (cmd/relais/cleanup.go) deletes, every
-- minute and in batches, the rows that have expired
-- (mandates.ExpiredStore). Sessions, pending logins, upstream logins,
-- account codes, tokens and DPoP proofs already have an index on their
-- expiry; these four tables had none, so each batch would read the whole
-- table.
CREATE INDEX oauth_jtis_expiry ON oauth_jtis (expires_at);
-- The primary key (key, window_start) cannot serve a search by
-- window_start alone.
CREATE INDEX login_attempts_window ON login_attempts (window_start);
CREATE INDEX consent_codes_expiry ON consent_codes (expires_at);
-- Only requests nobody answered are deleted: the index holds only them,
-- and the job's query repeats the WHERE term.
CREATE INDEX cosignatures_pending_expiry ON cosignatures (expires_at) WHERE status = 'pending';

-- +goose Down
DROP INDEX cosignatures_pending_expiry;
DROP INDEX consent_codes_expiry;
DROP INDEX login_attempts_window;
DROP INDEX oauth_jtis_expiry;
