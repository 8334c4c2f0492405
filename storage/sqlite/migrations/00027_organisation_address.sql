-- +goose Up
-- An organisation's postal address, where its paper letters go. Empty for
-- the organisations recorded before: they stay valid, their letters wait
-- for an operator until someone records one.
ALTER TABLE organisations ADD COLUMN address_street TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN address_postal_code TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN address_locality TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN address_country TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE organisations DROP COLUMN address_country;
ALTER TABLE organisations DROP COLUMN address_locality;
ALTER TABLE organisations DROP COLUMN address_postal_code;
ALTER TABLE organisations DROP COLUMN address_street;
