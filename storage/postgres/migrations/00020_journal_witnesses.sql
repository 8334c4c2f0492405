-- +goose Up
-- Each checkpoint as a C2SP signed note (mandates/journal checkpoint_note.go):
-- its text (origin, size, root, number, hash of the previous note) and the
-- journal key's signature line; the witnesses' cosignatures beside it.
CREATE TABLE journal_notes (
    number    bigint NOT NULL PRIMARY KEY REFERENCES journal_checkpoints (number),
    text      text   NOT NULL,
    key_name  text   NOT NULL,
    key_id    bigint NOT NULL,
    signature bytea  NOT NULL
);

-- A witness's cosignature (c2sp.org/tlog-cosignature) of a note, one per
-- witness key and note.
CREATE TABLE journal_cosignatures (
    number    bigint NOT NULL REFERENCES journal_notes (number),
    key_name  text   NOT NULL,
    key_id    bigint NOT NULL,
    signature bytea  NOT NULL,
    PRIMARY KEY (number, key_name, key_id)
);

-- Which witness cosigned up to where: the next request starts there.
CREATE INDEX journal_cosignatures_by_key ON journal_cosignatures (key_name, key_id, number);

-- relais journal witness: per origin, the last checkpoint note this
-- deployment cosigned as a witness of another one.
CREATE TABLE witness_checkpoints (
    origin     text        NOT NULL PRIMARY KEY,
    number     bigint      NOT NULL CHECK (number >= 1),
    text       text        NOT NULL,
    updated_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE witness_checkpoints;
DROP INDEX journal_cosignatures_by_key;
DROP TABLE journal_cosignatures;
DROP TABLE journal_notes;
