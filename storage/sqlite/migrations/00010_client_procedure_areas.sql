-- +goose Up
-- The procedure areas a site's procedures belong to (a JSON list of
-- mandates.Area codes): a representative chooses, at that site, among
-- the people whose representation covers one of them.
ALTER TABLE clients ADD COLUMN procedure_areas TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE clients DROP COLUMN procedure_areas;
