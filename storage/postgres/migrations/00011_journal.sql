-- +goose Up
-- The journal (DESIGN.md §5, mandates/journal): one hash chain per person
-- ("org:<id>" and "admin" for events without a person). (chain, seq) is
-- unique: two writers racing for one chain's next entry cannot both win,
-- and the loser retries with the next number. Times are timestamptz in
-- UTC (milliseconds); areas in the order hashed; hashes 32 raw bytes.
CREATE TABLE journal_entries (
    chain             text        NOT NULL,
    seq               bigint      NOT NULL CHECK (seq >= 1),
    type              text        NOT NULL,
    at                timestamptz NOT NULL,
    actor_id          text        NOT NULL DEFAULT '',
    organisation_id   text        NOT NULL DEFAULT '',
    person_id         text        NOT NULL DEFAULT '',
    representation_id text        NOT NULL DEFAULT '',
    client_id         text        NOT NULL DEFAULT '',
    areas             text[]      NOT NULL DEFAULT '{}',
    detail_hash       bytea       NOT NULL,
    prev_hash         bytea       NOT NULL,
    hash              bytea       NOT NULL,
    CONSTRAINT journal_entries_pkey PRIMARY KEY (chain, seq)
);

-- Retention erases by age across chains.
CREATE INDEX journal_entries_at ON journal_entries (at);

-- The personal detail beside the chain: only its hash is chained, so
-- erasing it (detail and salt set to NULL, erased_at set) keeps the chain
-- verifiable.
CREATE TABLE journal_details (
    chain          text        NOT NULL,
    seq            bigint      NOT NULL,
    salt           bytea,
    detail         text,
    erased_at      timestamptz,
    erasure_reason text        NOT NULL DEFAULT '',
    PRIMARY KEY (chain, seq),
    FOREIGN KEY (chain, seq) REFERENCES journal_entries (chain, seq) ON DELETE CASCADE ON UPDATE CASCADE
);

-- Signed checkpoints: a Merkle root over every chain head. jws is the
-- signature; its payload repeats number, at, tree_size, root and prev.
CREATE TABLE journal_checkpoints (
    number    bigint      NOT NULL PRIMARY KEY CHECK (number >= 1),
    at        timestamptz NOT NULL,
    tree_size bigint      NOT NULL,
    root      bytea       NOT NULL,
    prev      bytea       NOT NULL,
    key_id    text        NOT NULL,
    jws       text        NOT NULL
);

-- The heads that changed since the previous checkpoint; replaying them
-- gives each checkpoint's tree.
CREATE TABLE journal_checkpoint_heads (
    checkpoint bigint NOT NULL REFERENCES journal_checkpoints (number),
    chain      text   NOT NULL,
    seq        bigint NOT NULL,
    hash       bytea  NOT NULL,
    PRIMARY KEY (checkpoint, chain)
);

-- The keys that sign checkpoints, published in the JWKS beside the token
-- keys and never used for tokens. private_sealed as in signing_keys.
CREATE TABLE journal_keys (
    id             text        NOT NULL PRIMARY KEY,
    generation     bigint      NOT NULL CHECK (generation >= 1),
    public_jwk     text        NOT NULL,
    private_sealed bytea       NOT NULL,
    created_at     timestamptz NOT NULL,
    CONSTRAINT journal_keys_generation_key UNIQUE (generation)
);

-- Who runs the journal's background work (checkpoints, retention) until
-- when: any instance may take it once expired (DESIGN.md §6).
CREATE TABLE journal_lease (
    name       text        NOT NULL PRIMARY KEY,
    holder     text        NOT NULL,
    expires_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE journal_lease;
DROP TABLE journal_keys;
DROP TABLE journal_checkpoint_heads;
DROP TABLE journal_checkpoints;
DROP TABLE journal_details;
DROP TABLE journal_entries;
