-- +goose Up
-- DPoP proofs already seen (RFC 9449 §11.1), under the hex SHA-256 of the
-- key's thumbprint and the proof's jti, until the proof is stale: a replay
-- is refused by every instance.
CREATE TABLE dpop_proofs (
    id         text        NOT NULL PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX dpop_proofs_expiry ON dpop_proofs (expires_at);

-- RFC 9449 §5.2: a client registered with dpop_bound_access_tokens sends
-- a DPoP proof with every token request.
ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE clients DROP COLUMN dpop_bound_access_tokens;
DROP TABLE dpop_proofs;
