-- +goose Up
-- What each person agreed to share with each site.
CREATE TABLE consents (
    person_id  uuid        NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    client_id  text        NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes     text[]      NOT NULL DEFAULT '{}',
    granted_at timestamptz NOT NULL,
    PRIMARY KEY (person_id, client_id)
);

-- Failed logins per account or address, counted in fixed windows.
CREATE TABLE login_attempts (
    key          text        NOT NULL,
    window_start timestamptz NOT NULL,
    failures     integer     NOT NULL,
    PRIMARY KEY (key, window_start)
);

-- +goose Down
DROP TABLE login_attempts;
DROP TABLE consents;
