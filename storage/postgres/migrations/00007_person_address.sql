-- +goose Up
-- A postal address, for paper letters and the OpenID Connect address claim.
ALTER TABLE persons ADD COLUMN address_street TEXT NOT NULL DEFAULT '';
ALTER TABLE persons ADD COLUMN address_postal_code TEXT NOT NULL DEFAULT '';
ALTER TABLE persons ADD COLUMN address_locality TEXT NOT NULL DEFAULT '';
ALTER TABLE persons ADD COLUMN address_country TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE persons DROP COLUMN address_country;
ALTER TABLE persons DROP COLUMN address_locality;
ALTER TABLE persons DROP COLUMN address_postal_code;
ALTER TABLE persons DROP COLUMN address_street;
