-- +goose Up
-- The identité pivot in the form persons are compared in (mandates.PivotKey),
-- kept by the store on every write; migration 00029 fills it for older rows.
-- Not unique: homonyms registered on purpose share one, and a match is used
-- only when it is the only one.
ALTER TABLE persons ADD COLUMN pivot_key text;
CREATE INDEX persons_pivot ON persons (pivot_key);

-- How a browser session was opened through an upstream provider.
ALTER TABLE browser_sessions ADD COLUMN acr text NOT NULL DEFAULT '';
ALTER TABLE browser_sessions ADD COLUMN upstream text NOT NULL DEFAULT '';
ALTER TABLE browser_sessions ADD COLUMN upstream_id_token text NOT NULL DEFAULT '';

-- Single-use codes for accounts (activation, password reset), by their
-- SHA-256 only; one live code per person and purpose.
CREATE TABLE account_codes (
    code_hash  bytea       NOT NULL PRIMARY KEY,
    person_id  uuid        NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    purpose    text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    UNIQUE (person_id, purpose)
);
CREATE INDEX account_codes_expiry ON account_codes (expires_at);

-- +goose Down
DROP TABLE account_codes;
ALTER TABLE browser_sessions DROP COLUMN upstream_id_token;
ALTER TABLE browser_sessions DROP COLUMN upstream;
ALTER TABLE browser_sessions DROP COLUMN acr;
DROP INDEX persons_pivot;
ALTER TABLE persons DROP COLUMN pivot_key;
