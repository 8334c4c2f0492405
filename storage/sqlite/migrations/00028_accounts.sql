-- +goose Up
-- The identité pivot in the form persons are compared in (mandates.PivotKey),
-- kept by the store on every write; migration 00029 fills it for older rows.
-- Not unique: homonyms registered on purpose share one, and a match is used
-- only when it is the only one.
ALTER TABLE persons ADD COLUMN pivot_key TEXT;
CREATE INDEX persons_pivot ON persons (pivot_key);

-- How a browser session was opened through an upstream provider.
ALTER TABLE browser_sessions ADD COLUMN acr TEXT NOT NULL DEFAULT '';
ALTER TABLE browser_sessions ADD COLUMN upstream TEXT NOT NULL DEFAULT '';
ALTER TABLE browser_sessions ADD COLUMN upstream_id_token TEXT NOT NULL DEFAULT '';

-- Single-use codes for accounts (activation, password reset), by their
-- SHA-256 only; one live code per person and purpose.
CREATE TABLE account_codes (
    code_hash  BLOB    NOT NULL PRIMARY KEY,
    person_id  TEXT    NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    UNIQUE (person_id, purpose)
) STRICT;
CREATE INDEX account_codes_expiry ON account_codes (expires_at);

-- +goose Down
DROP TABLE account_codes;
ALTER TABLE browser_sessions DROP COLUMN upstream_id_token;
ALTER TABLE browser_sessions DROP COLUMN upstream;
ALTER TABLE browser_sessions DROP COLUMN acr;
DROP INDEX persons_pivot;
ALTER TABLE persons DROP COLUMN pivot_key;
