-- +goose Up
-- The end date last announced as near (mandates.Service.RecordEndingsSoon,
-- representation.ending_soon); NULL until then. An end moved to another
-- near date differs from it and is announced again. It changes neither the
-- version nor the history. The query reads the index
-- representations_expiry_due (00015): a representation whose end is still
-- to come has no expiry recorded.
ALTER TABLE representations ADD COLUMN ending_announced_until timestamptz;

-- The first time an actor acted for a person at a site (site.first_act):
-- one row per person, actor and site, written in the transaction of the
-- token that the site got, with its journal entry. The primary key makes
-- a second transaction recording the same three write nothing (INSERT …
-- ON CONFLICT DO NOTHING waits for the first to commit). client_id has no
-- foreign key: a site deleted later leaves the record.
CREATE TABLE site_first_acts (
    person_id         uuid        NOT NULL REFERENCES persons (id),
    actor_id          uuid        NOT NULL REFERENCES persons (id),
    client_id         text        NOT NULL,
    representation_id text        NOT NULL DEFAULT '',
    first_at          timestamptz NOT NULL,
    PRIMARY KEY (person_id, actor_id, client_id)
);

-- +goose Down
DROP TABLE site_first_acts;
ALTER TABLE representations DROP COLUMN ending_announced_until;
