-- +goose Up
-- The outbox of notices (issue 15): what Relais must tell a person or a
-- representative, written in the transaction of the act that causes it,
-- kept until it is sent (email, SMS) or handed to the print service
-- (paper). data holds ids and codes only. A dispatcher claims a notice by
-- setting lease_owner and lease_until with UPDATE … WHERE version = ?.
-- fallback_of: the electronic notice a paper one replaces, at most one.
-- Times are Unix milliseconds, UTC.
CREATE TABLE notices (
    id              TEXT    NOT NULL PRIMARY KEY,
    person_id       TEXT    NOT NULL REFERENCES persons (id),
    recipient_id    TEXT    NOT NULL,
    recipient_kind  TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    lang            TEXT    NOT NULL,
    data            TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    sent_at         INTEGER,
    handed_over_at  INTEGER,
    fallback_of     TEXT REFERENCES notices (id),
    created_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL
) STRICT;
CREATE INDEX notices_due ON notices (status, channel, next_attempt_at);
CREATE INDEX notices_person ON notices (person_id, created_at);
CREATE UNIQUE INDEX notices_fallback ON notices (fallback_of);

-- +goose Down
DROP TABLE notices;
