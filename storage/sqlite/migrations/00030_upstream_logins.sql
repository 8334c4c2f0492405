-- +goose Up
-- Logins through FranceConnect or ProConnect on their way (authn.UpstreamLogin):
-- the state and the browser's cookie by their SHA-256 only, used once.
CREATE TABLE upstream_logins (
    state_hash   BLOB    NOT NULL PRIMARY KEY,
    provider     TEXT    NOT NULL,
    purpose      TEXT    NOT NULL,
    binding_hash BLOB    NOT NULL,
    return_to    TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
) STRICT;
CREATE INDEX upstream_logins_expiry ON upstream_logins (expires_at);

-- An upstream account (the provider's sub) linked to a person: one per sub,
-- one per person and provider.
CREATE TABLE upstream_links (
    provider  TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    person_id TEXT    NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    linked_at INTEGER NOT NULL,
    PRIMARY KEY (provider, subject),
    UNIQUE (person_id, provider)
) STRICT;

-- An organisation's SIRET (mandates.ValidSIRET), optional: ProConnect's
-- siret claim finds the organisation by it.
ALTER TABLE organisations ADD COLUMN siret TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX organisations_siret ON organisations (siret) WHERE siret <> '';

-- +goose Down
DROP INDEX organisations_siret;
ALTER TABLE organisations DROP COLUMN siret;
DROP TABLE upstream_links;
DROP TABLE upstream_logins;
