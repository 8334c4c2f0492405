-- +goose Up
-- A login through an upstream provider whose person has the second factor
-- on waits for the code like a password login; the session made after the
-- code keeps how the provider logged the person in and its ID token (for
-- the logout through it), as browser_sessions does.
ALTER TABLE pending_logins ADD COLUMN acr text NOT NULL DEFAULT '';
ALTER TABLE pending_logins ADD COLUMN upstream text NOT NULL DEFAULT '';
ALTER TABLE pending_logins ADD COLUMN upstream_id_token text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE pending_logins DROP COLUMN upstream_id_token;
ALTER TABLE pending_logins DROP COLUMN upstream;
ALTER TABLE pending_logins DROP COLUMN acr;
