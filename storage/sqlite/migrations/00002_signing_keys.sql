-- +goose Up
-- The provider's signing keys (RFC 7517 JWKs). Times are Unix milliseconds,
-- UTC; retired_at and publish_until stay NULL until the key is retired.
-- private_sealed is the PKCS #8 key sealed with RELAIS_SECRET_KEY, the kid
-- bound in (authz.SecretBox), so this table alone signs nothing.
CREATE TABLE signing_keys (
    id             TEXT    NOT NULL PRIMARY KEY,
    alg            TEXT    NOT NULL CHECK (alg IN ('ES256', 'RS256')),
    generation     INTEGER NOT NULL CHECK (generation >= 1),
    public_jwk     TEXT    NOT NULL,
    private_sealed BLOB    NOT NULL,
    created_at     INTEGER NOT NULL,
    sign_from      INTEGER NOT NULL,
    retired_at     INTEGER,
    publish_until  INTEGER,
    -- One key per generation and algorithm: instances that create the
    -- first or the next key at the same moment cannot both succeed.
    UNIQUE (alg, generation)
) STRICT;

-- +goose Down
DROP TABLE signing_keys;
