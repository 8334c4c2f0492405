-- +goose Up
-- The outbox of notices (issue 15): what Relais must tell a person or a
-- representative, written in the transaction of the act that causes it,
-- kept until it is sent (email, SMS) or handed to the print service
-- (paper). data holds ids and codes only. A dispatcher claims a notice by
-- setting lease_owner and lease_until with UPDATE … WHERE version = $n
-- (no advisory lock, no SKIP LOCKED: distributed engines differ on them).
-- fallback_of: the electronic notice a paper one replaces, at most one.
CREATE TABLE notices (
    id              uuid        NOT NULL PRIMARY KEY,
    person_id       uuid        NOT NULL REFERENCES persons (id),
    recipient_id    uuid        NOT NULL,
    recipient_kind  text        NOT NULL,
    kind            text        NOT NULL,
    channel         text        NOT NULL,
    lang            text        NOT NULL,
    data            jsonb       NOT NULL,
    status          text        NOT NULL,
    attempts        integer     NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    lease_owner     text        NOT NULL DEFAULT '',
    lease_until     timestamptz,
    last_error      text        NOT NULL DEFAULT '',
    sent_at         timestamptz,
    handed_over_at  timestamptz,
    fallback_of     uuid REFERENCES notices (id),
    created_at      timestamptz NOT NULL,
    version         bigint      NOT NULL
);
CREATE INDEX notices_due ON notices (status, channel, next_attempt_at);
CREATE INDEX notices_person ON notices (person_id, created_at);
CREATE UNIQUE INDEX notices_fallback ON notices (fallback_of);

-- +goose Down
DROP TABLE notices;
