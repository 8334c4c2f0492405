-- +goose Up
-- The pairwise subjects Relais issued, so a site can name a person by the
-- sub it received (access evaluation, co-signature requests). A pairwise
-- sub is an HMAC: it cannot be turned back into a person otherwise.
CREATE TABLE pairwise_subjects (
    sector    text NOT NULL,
    subject   text NOT NULL,
    person_id uuid NOT NULL REFERENCES persons (id),
    PRIMARY KEY (sector, subject)
);

-- Co-signature requests: one described act that the policy lets happen
-- only with the other party's agreement. party says who agrees: the
-- represented person, or the representative(s) of representation_id.
-- expires_at is the end of the pending request, then of the approval.
CREATE TABLE cosignatures (
    id                uuid        NOT NULL PRIMARY KEY,
    client_id         text        NOT NULL,
    person_id         uuid        NOT NULL REFERENCES persons (id),
    actor_id          uuid        NOT NULL REFERENCES persons (id),
    action            text        NOT NULL,
    area              text        NOT NULL,
    description       text        NOT NULL,
    representation_id uuid        NOT NULL REFERENCES representations (id),
    party             text        NOT NULL,
    status            text        NOT NULL,
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    decided_at        timestamptz,
    decided_by        text        NOT NULL DEFAULT '',
    used_at           timestamptz,
    version           bigint      NOT NULL
);
CREATE INDEX cosignatures_person ON cosignatures (person_id, status);
CREATE INDEX cosignatures_representation ON cosignatures (representation_id, status);

-- +goose Down
DROP TABLE cosignatures;
DROP TABLE pairwise_subjects;
