-- +goose Up
-- Whether the client's authorization requests count only as signed
-- request objects (require_signed_request_object, RFC 9101 §10.5): 0 or 1.
ALTER TABLE clients ADD COLUMN require_signed_request_object INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE clients DROP COLUMN require_signed_request_object;
