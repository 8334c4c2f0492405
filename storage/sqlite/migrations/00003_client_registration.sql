-- +goose Up
-- What an OpenID relying party registers besides its redirect URIs: the
-- client metadata of RFC 7591 §2 and OpenID Connect Dynamic Client
-- Registration §2. The defaults are those authz.Client.Normalize writes,
-- so every existing row stays valid. Lists are JSON arrays.
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris    TEXT NOT NULL DEFAULT '[]';
ALTER TABLE clients ADD COLUMN token_endpoint_auth_method   TEXT NOT NULL DEFAULT 'client_secret_basic';
ALTER TABLE clients ADD COLUMN jwks                         TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN jwks_uri                     TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN subject_type                 TEXT NOT NULL DEFAULT 'pairwise';
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'ES256';
ALTER TABLE clients ADD COLUMN userinfo_signed_response_alg TEXT NOT NULL DEFAULT '';
-- A client stored without a secret was a public client; client_secret_basic
-- with no secret would no longer pass validation.
UPDATE clients SET token_endpoint_auth_method = 'none' WHERE secret_hash = '';

-- +goose Down
ALTER TABLE clients DROP COLUMN userinfo_signed_response_alg;
ALTER TABLE clients DROP COLUMN id_token_signed_response_alg;
ALTER TABLE clients DROP COLUMN subject_type;
ALTER TABLE clients DROP COLUMN jwks_uri;
ALTER TABLE clients DROP COLUMN jwks;
ALTER TABLE clients DROP COLUMN token_endpoint_auth_method;
ALTER TABLE clients DROP COLUMN post_logout_redirect_uris;
