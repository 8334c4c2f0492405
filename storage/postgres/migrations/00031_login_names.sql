-- +goose Up
-- Login names (identifiants) of accounts opened at a desk: a person without
-- an email logs in with the one written in their activation letter. One per
-- person, each unique, stored as authn.LoginNameKey writes it.
CREATE TABLE login_names (
    person_id  uuid        NOT NULL PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
    login_name text        NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE login_names;
