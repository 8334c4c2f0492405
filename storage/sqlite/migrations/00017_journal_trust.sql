-- +goose Up
-- Each journal key's place in the history (authz.JournalKey, docs/journal.md):
-- a compact JWS signed by the key before it (the first key by itself)
-- naming the key and the latest checkpoint of the time. Empty for a first
-- key that no checkpoint names yet (and keys made before this migration),
-- which relais serve endorses once checkpoint 1 exists. The sealed private
-- key is sealed again with the endorsement's hash, so blanking it breaks
-- the key instead of making it look new.
ALTER TABLE journal_keys ADD COLUMN endorsement TEXT NOT NULL DEFAULT '';

-- The chain heads the latest checkpoint covers, one row per chain, kept
-- by CreateCheckpoint: a checkpoint round reads them (and checks they give
-- the latest checkpoint's signed root) instead of replaying every
-- checkpoint since the first, so a round every minute costs the same
-- after a year as on the first day. Verification still replays them all.
CREATE TABLE journal_checkpointed_heads (
    chain      TEXT    NOT NULL PRIMARY KEY,
    seq        INTEGER NOT NULL,
    hash       BLOB    NOT NULL,
    checkpoint INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
-- SQLite takes the bare columns from the row whose checkpoint is the max.
INSERT INTO journal_checkpointed_heads (chain, seq, hash, checkpoint)
    SELECT chain, seq, hash, MAX(checkpoint) FROM journal_checkpoint_heads GROUP BY chain;

-- +goose Down
DROP TABLE journal_checkpointed_heads;
ALTER TABLE journal_keys DROP COLUMN endorsement;
