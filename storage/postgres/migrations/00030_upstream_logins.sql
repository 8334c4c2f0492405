-- +goose Up
-- Logins through FranceConnect or ProConnect on their way (authn.UpstreamLogin):
-- the state and the browser's cookie by their SHA-256 only, used once.
CREATE TABLE upstream_logins (
    state_hash   bytea       NOT NULL PRIMARY KEY,
    provider     text        NOT NULL,
    purpose      text        NOT NULL,
    binding_hash bytea       NOT NULL,
    return_to    text        NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX upstream_logins_expiry ON upstream_logins (expires_at);

-- An upstream account (the provider's sub) linked to a person: one per sub,
-- one per person and provider.
CREATE TABLE upstream_links (
    provider  text        NOT NULL,
    subject   text        NOT NULL,
    person_id uuid        NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    linked_at timestamptz NOT NULL,
    PRIMARY KEY (provider, subject),
    UNIQUE (person_id, provider)
);

-- An organisation's SIRET (mandates.ValidSIRET), optional: ProConnect's
-- siret claim finds the organisation by it.
ALTER TABLE organisations ADD COLUMN siret text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX organisations_siret ON organisations (siret) WHERE siret <> '';

-- +goose Down
DROP INDEX organisations_siret;
ALTER TABLE organisations DROP COLUMN siret;
DROP TABLE upstream_links;
DROP TABLE upstream_logins;
