-- +goose Up
-- How each person receives their notices (issue 15, point 3): paper by
-- default (no row); email or SMS once confirmed with a code; paper until
-- a day. pending_*: a new address or number waiting for its code, of
-- which only a salted hash is kept. sends and sends_from bound the codes
-- sent an hour. chosen_*: who confirmed the channel (the person, or a
-- representative, the measure and the organisation they chose under),
-- so that a representative's choice ends with their right; confirmed_at:
-- when, so that notices written before do not go to the new address.
CREATE TABLE notice_choices (
    person_id          uuid        NOT NULL PRIMARY KEY REFERENCES persons (id),
    channel            text        NOT NULL,
    email              text        NOT NULL DEFAULT '',
    phone              text        NOT NULL DEFAULT '',
    paper_until        timestamptz,
    confirmed_at       timestamptz,
    chosen_by          text        NOT NULL DEFAULT '',
    chosen_under       text        NOT NULL DEFAULT '',
    chosen_organisation text       NOT NULL DEFAULT '',
    pending_channel    text        NOT NULL DEFAULT '',
    pending_to         text        NOT NULL DEFAULT '',
    pending_code_hash  bytea,
    pending_expires_at timestamptz,
    pending_attempts   integer     NOT NULL DEFAULT 0,
    sends              integer     NOT NULL DEFAULT 0,
    sends_from         timestamptz,
    updated_at         timestamptz NOT NULL,
    version            bigint      NOT NULL
);

-- +goose Down
DROP TABLE notice_choices;
