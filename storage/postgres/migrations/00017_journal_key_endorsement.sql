-- +goose Up
-- Each journal key's place in the history (authz.JournalKey, docs/journal.md):
-- a compact JWS signed by the key before it (the first key by itself)
-- naming the key and the latest checkpoint of the time. Empty for a first
-- key that no checkpoint names yet (and keys made before this migration),
-- which relais serve endorses once checkpoint 1 exists. The sealed private
-- key is sealed again with the endorsement's hash, so blanking it breaks
-- the key instead of making it look new.
ALTER TABLE journal_keys ADD COLUMN endorsement text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE journal_keys DROP COLUMN endorsement;
