-- The whole schema. Portable SQL: integer, text, blob and boolean columns only, no
-- SQLite-specific syntax; a PostgreSQL migration set will differ only in BLOB -> BYTEA.
-- Nothing secret is stored in the clear: seeds, device states, the server key and revealed
-- claims are sealed under the key-encryption key (docs/THREAT-MODEL.md).

CREATE TABLE server_keys (
    id INTEGER PRIMARY KEY,
    sealed_seed BLOB NOT NULL,
    public_key BLOB NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE admin_tokens (
    token_hash BLOB PRIMARY KEY,
    created_at BIGINT NOT NULL
);

CREATE TABLE challenges (
    id TEXT PRIMARY KEY,
    track TEXT NOT NULL,
    title TEXT NOT NULL,
    rules TEXT NOT NULL,
    rules_sha256 BLOB NOT NULL,
    bounty TEXT NOT NULL,
    messages BIGINT NOT NULL,
    interval_secs BIGINT NOT NULL,
    start_at BIGINT NOT NULL,
    deadline BIGINT NOT NULL,
    close_on_win BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    seed_commitment BLOB NOT NULL,
    sealed_seed BLOB NOT NULL,
    revealed_seed BLOB,
    alice_bundle BLOB NOT NULL,
    bob_bundle BLOB NOT NULL,
    target_impl_version TEXT NOT NULL,
    target_impl_source_sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    closed_at BIGINT,
    close_reason TEXT,
    next_entry BIGINT NOT NULL,
    sealed_alice BLOB NOT NULL,
    sealed_bob BLOB NOT NULL,
    created_log_index BIGINT NOT NULL
);

CREATE TABLE challenge_secrets (
    challenge_id TEXT NOT NULL REFERENCES challenges (id),
    idx INTEGER NOT NULL,
    message_index BIGINT NOT NULL,
    commitment BLOB NOT NULL,
    PRIMARY KEY (challenge_id, idx)
);

-- A transcript entry is stored (published = FALSE) before it is published (the log entry
-- written, published = TRUE); only published entries are served.
CREATE TABLE transcript (
    challenge_id TEXT NOT NULL REFERENCES challenges (id),
    idx BIGINT NOT NULL,
    sent_at BIGINT NOT NULL,
    direction TEXT NOT NULL,
    kind TEXT NOT NULL,
    bytes BLOB NOT NULL,
    published BOOLEAN NOT NULL,
    log_index BIGINT,
    PRIMARY KEY (challenge_id, idx)
);

CREATE TABLE claims (
    id TEXT PRIMARY KEY,
    challenge_id TEXT NOT NULL REFERENCES challenges (id),
    claimant TEXT NOT NULL,
    commitment BLOB NOT NULL,
    committed_at BIGINT NOT NULL,
    log_index BIGINT NOT NULL,
    receipt_signature BLOB NOT NULL,
    receipt_checkpoint TEXT NOT NULL,
    kind TEXT,
    sealed_reveal BLOB,
    verdict TEXT,
    verdict_log_index BIGINT,
    decided_by TEXT,
    UNIQUE (challenge_id, commitment)
);

CREATE INDEX claims_by_challenge ON claims (challenge_id, log_index);

CREATE TABLE log_entries (
    idx BIGINT PRIMARY KEY,
    data BLOB NOT NULL
);

-- The RFC 6962 tree's stored hashes, by tlog stored-hash index (tlog_tiles::stored_hash_index).
CREATE TABLE log_hashes (
    idx BIGINT PRIMARY KEY,
    hash BLOB NOT NULL
);
