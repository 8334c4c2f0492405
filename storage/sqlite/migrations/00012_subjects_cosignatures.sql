-- +goose Up
-- The pairwise subjects Relais issued, so a site can name a person by the
-- sub it received (access evaluation, co-signature requests). A pairwise
-- sub is an HMAC: it cannot be turned back into a person otherwise.
CREATE TABLE pairwise_subjects (
    sector    TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    person_id TEXT    NOT NULL REFERENCES persons (id),
    PRIMARY KEY (sector, subject)
) STRICT, WITHOUT ROWID;

-- Co-signature requests: one described act that the policy lets happen
-- only with the other party's agreement. party says who agrees: the
-- represented person, or the representative(s) of representation_id.
-- expires_at is the end of the pending request, then of the approval.
CREATE TABLE cosignatures (
    id                TEXT    NOT NULL PRIMARY KEY,
    client_id         TEXT    NOT NULL,
    person_id         TEXT    NOT NULL REFERENCES persons (id),
    actor_id          TEXT    NOT NULL REFERENCES persons (id),
    action            TEXT    NOT NULL,
    area              TEXT    NOT NULL,
    description       TEXT    NOT NULL,
    representation_id TEXT    NOT NULL REFERENCES representations (id),
    party             TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    decided_at        INTEGER,
    decided_by        TEXT    NOT NULL DEFAULT '',
    used_at           INTEGER,
    version           INTEGER NOT NULL
) STRICT;
CREATE INDEX cosignatures_person ON cosignatures (person_id, status);
CREATE INDEX cosignatures_representation ON cosignatures (representation_id, status);

-- +goose Down
DROP TABLE cosignatures;
DROP TABLE pairwise_subjects;
