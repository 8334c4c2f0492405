-- +goose Up
-- The other clients (other administrations' APIs) a client may exchange a
-- person's token for (RFC 8693).
ALTER TABLE clients ADD COLUMN exchange_audiences text[] NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE clients DROP COLUMN exchange_audiences;
