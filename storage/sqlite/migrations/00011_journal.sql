-- +goose Up
-- The journal (DESIGN.md §5, mandates/journal): one hash chain per person
-- ("org:<id>" and "admin" for events without a person). (chain, seq) is
-- unique: two writers racing for one chain's next entry cannot both win,
-- and the loser retries with the next number. Times are Unix ms, UTC;
-- areas a JSON array in the order hashed; hashes 32 raw bytes.
CREATE TABLE journal_entries (
    chain             TEXT    NOT NULL,
    seq               INTEGER NOT NULL CHECK (seq >= 1),
    type              TEXT    NOT NULL,
    at                INTEGER NOT NULL,
    actor_id          TEXT    NOT NULL DEFAULT '',
    organisation_id   TEXT    NOT NULL DEFAULT '',
    person_id         TEXT    NOT NULL DEFAULT '',
    representation_id TEXT    NOT NULL DEFAULT '',
    client_id         TEXT    NOT NULL DEFAULT '',
    areas             TEXT    NOT NULL DEFAULT '[]',
    detail_hash       BLOB    NOT NULL,
    prev_hash         BLOB    NOT NULL,
    hash              BLOB    NOT NULL,
    PRIMARY KEY (chain, seq)
) STRICT, WITHOUT ROWID;

-- Retention erases by age across chains.
CREATE INDEX journal_entries_at ON journal_entries (at);

-- The personal detail beside the chain: only its hash is chained, so
-- erasing it (detail and salt set to NULL, erased_at set) keeps the chain
-- verifiable.
CREATE TABLE journal_details (
    chain          TEXT    NOT NULL,
    seq            INTEGER NOT NULL,
    salt           BLOB,
    detail         TEXT,
    erased_at      INTEGER,
    erasure_reason TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (chain, seq),
    FOREIGN KEY (chain, seq) REFERENCES journal_entries (chain, seq) ON DELETE CASCADE ON UPDATE CASCADE
) STRICT, WITHOUT ROWID;

-- Signed checkpoints: a Merkle root over every chain head. jws is the
-- signature; its payload repeats number, at, tree_size, root and prev.
CREATE TABLE journal_checkpoints (
    number    INTEGER NOT NULL PRIMARY KEY CHECK (number >= 1),
    at        INTEGER NOT NULL,
    tree_size INTEGER NOT NULL,
    root      BLOB    NOT NULL,
    prev      BLOB    NOT NULL,
    key_id    TEXT    NOT NULL,
    jws       TEXT    NOT NULL
) STRICT;

-- The heads that changed since the previous checkpoint; replaying them
-- gives each checkpoint's tree.
CREATE TABLE journal_checkpoint_heads (
    checkpoint INTEGER NOT NULL REFERENCES journal_checkpoints (number),
    chain      TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    hash       BLOB    NOT NULL,
    PRIMARY KEY (checkpoint, chain)
) STRICT, WITHOUT ROWID;

-- The keys that sign checkpoints, published in the JWKS beside the token
-- keys and never used for tokens. private_sealed as in signing_keys.
CREATE TABLE journal_keys (
    id             TEXT    NOT NULL PRIMARY KEY,
    generation     INTEGER NOT NULL UNIQUE CHECK (generation >= 1),
    public_jwk     TEXT    NOT NULL,
    private_sealed BLOB    NOT NULL,
    created_at     INTEGER NOT NULL
) STRICT;

-- Who runs the journal's background work (checkpoints, retention) until
-- when: any instance may take it once expired (DESIGN.md §6).
CREATE TABLE journal_lease (
    name       TEXT    NOT NULL PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE journal_lease;
DROP TABLE journal_keys;
DROP TABLE journal_checkpoint_heads;
DROP TABLE journal_checkpoints;
DROP TABLE journal_details;
DROP TABLE journal_entries;
