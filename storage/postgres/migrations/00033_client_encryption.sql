-- +goose Up
-- How a client's ID tokens and userinfo answers are encrypted (OpenID
-- Connect Registration §2): '' for not at all, else the key algorithm
-- (RSA-OAEP-256 or ECDH-ES) and the content encryption (A256GCM), to a
-- key of the client's jwks or jwks_uri.
ALTER TABLE clients ADD COLUMN id_token_encrypted_response_alg text NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN id_token_encrypted_response_enc text NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN userinfo_encrypted_response_alg text NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN userinfo_encrypted_response_enc text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE clients DROP COLUMN userinfo_encrypted_response_enc;
ALTER TABLE clients DROP COLUMN userinfo_encrypted_response_alg;
ALTER TABLE clients DROP COLUMN id_token_encrypted_response_enc;
ALTER TABLE clients DROP COLUMN id_token_encrypted_response_alg;
