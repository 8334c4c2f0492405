-- +goose Up
-- The provider's signing keys (RFC 7517 JWKs). Times are timestamptz,
-- written in UTC; retired_at and publish_until stay NULL until the key is
-- retired. private_sealed is the PKCS #8 key sealed with RELAIS_SECRET_KEY,
-- the kid bound in (authz.SecretBox), so this table alone signs nothing.
CREATE TABLE signing_keys (
    id             text        NOT NULL PRIMARY KEY,
    alg            text        NOT NULL CHECK (alg IN ('ES256', 'RS256')),
    generation     bigint      NOT NULL CHECK (generation >= 1),
    public_jwk     text        NOT NULL,
    private_sealed bytea       NOT NULL,
    created_at     timestamptz NOT NULL,
    sign_from      timestamptz NOT NULL,
    retired_at     timestamptz,
    publish_until  timestamptz,
    -- One key per generation and algorithm: instances that create the
    -- first or the next key at the same moment cannot both succeed.
    CONSTRAINT signing_keys_generation_key UNIQUE (alg, generation)
);

-- +goose Down
DROP TABLE signing_keys;
