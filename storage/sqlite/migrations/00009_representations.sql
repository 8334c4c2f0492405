-- +goose Up
-- Organisations whose members act for people (France Services desks, CCAS,
-- MJPM services), and their members' habilitations.
CREATE TABLE organisations (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    areas      TEXT    NOT NULL DEFAULT '[]',
    created_by TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
) STRICT;

CREATE TABLE organisation_members (
    organisation_id TEXT    NOT NULL REFERENCES organisations (id),
    person_id       TEXT    NOT NULL REFERENCES persons (id),
    role            TEXT    NOT NULL,
    active          INTEGER NOT NULL,
    habilitated_by  TEXT    NOT NULL DEFAULT '',
    habilitated_at  INTEGER NOT NULL,
    withdrawn_by    TEXT    NOT NULL DEFAULT '',
    withdrawn_at    INTEGER,
    version         INTEGER NOT NULL,
    PRIMARY KEY (organisation_id, person_id)
) STRICT;
CREATE INDEX organisation_members_person ON organisation_members (person_id);

-- Every kind of "who may act for whom" (DESIGN.md §1). The representative is
-- a person or an organisation; representative_key is whichever it is, so
-- that one decision registers one representation per representative.
-- decision_key (CourtDecision.Key) is NULL for consent-based kinds;
-- decision_reference is the decision's number as typed, for searching.
CREATE TABLE representations (
    id                       TEXT    NOT NULL PRIMARY KEY,
    kind                     TEXT    NOT NULL,
    person_id                TEXT    NOT NULL REFERENCES persons (id),
    representative_person_id TEXT    REFERENCES persons (id),
    representative_org_id    TEXT    REFERENCES organisations (id),
    representative_key       TEXT    NOT NULL,
    delegates                TEXT    NOT NULL DEFAULT '[]',
    role                     TEXT    NOT NULL,
    areas                    TEXT    NOT NULL DEFAULT '[]',
    granted                  TEXT    NOT NULL DEFAULT '[]',
    adjustments              TEXT    NOT NULL DEFAULT '[]',
    valid_from               INTEGER NOT NULL,
    -- NULL: no set end (a mandat de protection future).
    valid_until              INTEGER,
    status                   TEXT    NOT NULL,
    source                   TEXT    NOT NULL DEFAULT '{}',
    decision_key             TEXT,
    decision_reference       TEXT    NOT NULL DEFAULT '',
    created_at               INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL,
    version                  INTEGER NOT NULL,
    CHECK ((representative_person_id IS NULL) <> (representative_org_id IS NULL))
) STRICT;
CREATE UNIQUE INDEX representations_decision ON representations (decision_key, representative_key)
    WHERE decision_key IS NOT NULL;
CREATE INDEX representations_person ON representations (person_id);
CREATE INDEX representations_representative_person ON representations (representative_person_id);
CREATE INDEX representations_representative_org ON representations (representative_org_id);
CREATE INDEX representations_created ON representations (created_at, id);

-- Each representation's changes, oldest first. Append only: Relais never
-- updates or deletes a row.
CREATE TABLE representation_history (
    representation_id TEXT    NOT NULL REFERENCES representations (id),
    seq               INTEGER NOT NULL,
    at                INTEGER NOT NULL,
    actor_id          TEXT    NOT NULL DEFAULT '',
    organisation_id   TEXT    NOT NULL DEFAULT '',
    type              TEXT    NOT NULL,
    from_status       TEXT    NOT NULL DEFAULT '',
    to_status         TEXT    NOT NULL,
    detail            TEXT    NOT NULL DEFAULT '{}',
    PRIMARY KEY (representation_id, seq)
) STRICT;

-- One-time codes for a consent at a distance, one per representation; only
-- the hash is kept.
CREATE TABLE consent_codes (
    representation_id TEXT    NOT NULL PRIMARY KEY REFERENCES representations (id),
    code_hash         BLOB    NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    sent_at           INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    used_at           INTEGER
) STRICT;

-- Back-office roles.
CREATE TABLE staff_roles (
    person_id TEXT NOT NULL REFERENCES persons (id),
    role      TEXT NOT NULL,
    PRIMARY KEY (person_id, role)
) STRICT;

-- +goose Down
DROP TABLE staff_roles;
DROP TABLE consent_codes;
DROP TABLE representation_history;
DROP TABLE representations;
DROP TABLE organisation_members;
DROP TABLE organisations;
