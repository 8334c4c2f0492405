-- +goose Up
-- Each checkpoint as a C2SP signed note (mandates/journal checkpoint_note.go):
-- its text (origin, size, root, number, hash of the previous note) and the
-- journal key's signature line; the witnesses' cosignatures beside it.
CREATE TABLE journal_notes (
    number    INTEGER NOT NULL PRIMARY KEY REFERENCES journal_checkpoints (number),
    text      TEXT    NOT NULL,
    key_name  TEXT    NOT NULL,
    key_id    INTEGER NOT NULL,
    signature BLOB    NOT NULL
) STRICT;

-- A witness's cosignature (c2sp.org/tlog-cosignature) of a note, one per
-- witness key and note.
CREATE TABLE journal_cosignatures (
    number    INTEGER NOT NULL REFERENCES journal_notes (number),
    key_name  TEXT    NOT NULL,
    key_id    INTEGER NOT NULL,
    signature BLOB    NOT NULL,
    PRIMARY KEY (number, key_name, key_id)
) STRICT, WITHOUT ROWID;

-- Which witness cosigned up to where: the next request starts there.
CREATE INDEX journal_cosignatures_by_key ON journal_cosignatures (key_name, key_id, number);

-- relais journal witness: per origin, the last checkpoint note this
-- deployment cosigned as a witness of another one. Times are Unix ms.
CREATE TABLE witness_checkpoints (
    origin     TEXT    NOT NULL PRIMARY KEY,
    number     INTEGER NOT NULL CHECK (number >= 1),
    text       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE witness_checkpoints;
DROP INDEX journal_cosignatures_by_key;
DROP TABLE journal_cosignatures;
DROP TABLE journal_notes;
