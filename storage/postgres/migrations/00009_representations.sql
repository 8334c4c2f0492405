-- +goose Up
-- Organisations whose members act for people (France Services desks, CCAS,
-- MJPM services), and their members' habilitations.
CREATE TABLE organisations (
    id         uuid        NOT NULL PRIMARY KEY,
    name       text        NOT NULL,
    kind       text        NOT NULL,
    areas      text[]      NOT NULL DEFAULT '{}',
    created_by text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version    bigint      NOT NULL
);

CREATE TABLE organisation_members (
    organisation_id uuid        NOT NULL REFERENCES organisations (id),
    person_id       uuid        NOT NULL REFERENCES persons (id),
    role            text        NOT NULL,
    active          boolean     NOT NULL,
    habilitated_by  text        NOT NULL DEFAULT '',
    habilitated_at  timestamptz NOT NULL,
    withdrawn_by    text        NOT NULL DEFAULT '',
    withdrawn_at    timestamptz,
    version         bigint      NOT NULL,
    PRIMARY KEY (organisation_id, person_id)
);
CREATE INDEX organisation_members_person ON organisation_members (person_id);

-- Every kind of "who may act for whom" (DESIGN.md §1). The representative is
-- a person or an organisation; representative_key is whichever it is, so
-- that one decision registers one representation per representative.
-- decision_key (CourtDecision.Key) is NULL for consent-based kinds;
-- decision_reference is the decision's number as typed, for searching.
CREATE TABLE representations (
    id                       uuid        NOT NULL PRIMARY KEY,
    kind                     text        NOT NULL,
    person_id                uuid        NOT NULL REFERENCES persons (id),
    representative_person_id uuid        REFERENCES persons (id),
    representative_org_id    uuid        REFERENCES organisations (id),
    representative_key       uuid        NOT NULL,
    delegates                uuid[]      NOT NULL DEFAULT '{}',
    role                     text        NOT NULL,
    areas                    text[]      NOT NULL DEFAULT '{}',
    granted                  text[]      NOT NULL DEFAULT '{}',
    adjustments              jsonb       NOT NULL DEFAULT '[]',
    valid_from               timestamptz NOT NULL,
    -- NULL: no set end (a mandat de protection future).
    valid_until              timestamptz,
    status                   text        NOT NULL,
    source                   jsonb       NOT NULL DEFAULT '{}',
    decision_key             text,
    decision_reference       text        NOT NULL DEFAULT '',
    created_at               timestamptz NOT NULL,
    updated_at               timestamptz NOT NULL,
    version                  bigint      NOT NULL,
    CHECK ((representative_person_id IS NULL) <> (representative_org_id IS NULL))
);
CREATE UNIQUE INDEX representations_decision ON representations (decision_key, representative_key)
    WHERE decision_key IS NOT NULL;
CREATE INDEX representations_person ON representations (person_id);
CREATE INDEX representations_representative_person ON representations (representative_person_id);
CREATE INDEX representations_representative_org ON representations (representative_org_id);
CREATE INDEX representations_created ON representations (created_at, id);

-- Each representation's changes, oldest first. Append only: Relais never
-- updates or deletes a row.
CREATE TABLE representation_history (
    representation_id uuid        NOT NULL REFERENCES representations (id),
    seq               bigint      NOT NULL,
    at                timestamptz NOT NULL,
    actor_id          text        NOT NULL DEFAULT '',
    organisation_id   text        NOT NULL DEFAULT '',
    type              text        NOT NULL,
    from_status       text        NOT NULL DEFAULT '',
    to_status         text        NOT NULL,
    detail            jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (representation_id, seq)
);

-- One-time codes for a consent at a distance, one per representation; only
-- the hash is kept.
CREATE TABLE consent_codes (
    representation_id uuid        NOT NULL PRIMARY KEY REFERENCES representations (id),
    code_hash         bytea       NOT NULL,
    attempts          integer     NOT NULL DEFAULT 0,
    sent_at           timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    used_at           timestamptz
);

-- Back-office roles.
CREATE TABLE staff_roles (
    person_id uuid NOT NULL REFERENCES persons (id),
    role      text NOT NULL,
    PRIMARY KEY (person_id, role)
);

-- +goose Down
DROP TABLE staff_roles;
DROP TABLE consent_codes;
DROP TABLE representation_history;
DROP TABLE representations;
DROP TABLE organisation_members;
DROP TABLE organisations;
