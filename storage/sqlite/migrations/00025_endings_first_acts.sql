-- +goose Up
-- The end date last announced as near (mandates.Service.RecordEndingsSoon,
-- representation.ending_soon), in Unix ms; NULL until then. An end moved
-- to another near date differs from it and is announced again. It changes
-- neither the version nor the history. The query reads the index
-- representations_expiry_due (00015): a representation whose end is still
-- to come has no expiry recorded.
ALTER TABLE representations ADD COLUMN ending_announced_until INTEGER;

-- The first time an actor acted for a person at a site (site.first_act):
-- one row per person, actor and site, written in the transaction of the
-- token that the site got, with its journal entry. The primary key makes
-- a second transaction recording the same three write nothing. client_id
-- has no foreign key: a site deleted later leaves the record.
CREATE TABLE site_first_acts (
    person_id         TEXT    NOT NULL REFERENCES persons (id),
    actor_id          TEXT    NOT NULL REFERENCES persons (id),
    client_id         TEXT    NOT NULL,
    representation_id TEXT    NOT NULL DEFAULT '',
    first_at          INTEGER NOT NULL,
    PRIMARY KEY (person_id, actor_id, client_id)
) STRICT;

-- +goose Down
DROP TABLE site_first_acts;
ALTER TABLE representations DROP COLUMN ending_announced_until;
