-- +goose Up
-- How each person receives their notices (issue 15, point 3): paper by
-- default (no row); email or SMS once confirmed with a code; paper until
-- a day. pending_*: a new address or number waiting for its code, of
-- which only a salted hash is kept. sends and sends_from bound the codes
-- sent an hour. chosen_*: who confirmed the channel (the person, or a
-- representative, the measure and the organisation they chose under),
-- so that a representative's choice ends with their right; confirmed_at:
-- when, so that notices written before do not go to the new address. Times are Unix milliseconds, UTC.
CREATE TABLE notice_choices (
    person_id          TEXT    NOT NULL PRIMARY KEY REFERENCES persons (id),
    channel            TEXT    NOT NULL,
    email              TEXT    NOT NULL DEFAULT '',
    phone              TEXT    NOT NULL DEFAULT '',
    paper_until        INTEGER,
    confirmed_at       INTEGER,
    chosen_by          TEXT    NOT NULL DEFAULT '',
    chosen_under       TEXT    NOT NULL DEFAULT '',
    chosen_organisation TEXT   NOT NULL DEFAULT '',
    pending_channel    TEXT    NOT NULL DEFAULT '',
    pending_to         TEXT    NOT NULL DEFAULT '',
    pending_code_hash  BLOB,
    pending_expires_at INTEGER,
    pending_attempts   INTEGER NOT NULL DEFAULT 0,
    sends              INTEGER NOT NULL DEFAULT 0,
    sends_from         INTEGER,
    updated_at         INTEGER NOT NULL,
    version            INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE notice_choices;
