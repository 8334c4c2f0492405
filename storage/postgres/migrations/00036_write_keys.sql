-- +goose Up
-- One row per write transaction, keyed by a UUID Relais chose before the
-- transaction's first attempt (issue 19). When a COMMIT reports an error
-- (the server went away during a failover), the retry begins by inserting
-- the same key: if it is already there, the first attempt committed and
-- is not applied twice; if not, the insert fences the first attempt,
-- which can then never commit. Rows older than any retry are deleted by
-- the cleanup job.
CREATE TABLE write_keys (
    key        uuid        NOT NULL PRIMARY KEY,
    written_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX write_keys_written_at ON write_keys (written_at);

-- +goose Down
DROP TABLE write_keys;
