-- +goose Up
-- What each person agreed to share with each site.
CREATE TABLE consents (
    person_id  TEXT    NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    client_id  TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes     TEXT    NOT NULL DEFAULT '[]',
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (person_id, client_id)
) STRICT;

-- Failed logins per account or address, counted in fixed windows.
CREATE TABLE login_attempts (
    key          TEXT    NOT NULL,
    window_start INTEGER NOT NULL,
    failures     INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
) STRICT;

-- +goose Down
DROP TABLE login_attempts;
DROP TABLE consents;
