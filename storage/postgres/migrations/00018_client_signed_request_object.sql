-- +goose Up
-- Whether the client's authorization requests count only as signed
-- request objects (require_signed_request_object, RFC 9101 §10.5).
ALTER TABLE clients ADD COLUMN require_signed_request_object boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE clients DROP COLUMN require_signed_request_object;
