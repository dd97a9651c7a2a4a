-- The sessions of request-driven tracks (docs/API.md, "Sessions"): each opened by a claimant,
-- authorized by a bearer token stored hashed, its bots' state sealed under the KEK, its record
-- (every command and answer, hash-chained) stored entry by entry. A command's entry, the new
-- state and the head are written in one transaction before its answer is sent.
CREATE TABLE sessions (
    challenge_id TEXT NOT NULL REFERENCES challenges(id),
    session BIGINT NOT NULL,
    claimant TEXT NOT NULL,
    token_sha256 BLOB NOT NULL,
    -- The proof-of-work token that opened it (SHA-256), so that a token opens one session.
    pow_token_id BLOB UNIQUE,
    opened_at BIGINT NOT NULL,
    open_log_index BIGINT NOT NULL,
    -- What was published at the open (the track's fields, JSON).
    public_json TEXT NOT NULL,
    sealed_state BLOB NOT NULL,
    head BLOB NOT NULL,
    entries BIGINT NOT NULL,
    PRIMARY KEY (challenge_id, session)
);
CREATE INDEX sessions_by_claimant ON sessions (challenge_id, claimant, opened_at);

CREATE TABLE session_entries (
    challenge_id TEXT NOT NULL,
    session BIGINT NOT NULL,
    k BIGINT NOT NULL,
    entry BLOB NOT NULL,
    PRIMARY KEY (challenge_id, session, k),
    FOREIGN KEY (challenge_id, session) REFERENCES sessions(challenge_id, session)
);

-- Wins awarded when they happen (a forgery): the accepted plaintext sealed until the close.
CREATE TABLE session_wins (
    challenge_id TEXT NOT NULL,
    session BIGINT NOT NULL,
    k BIGINT NOT NULL,
    kind TEXT NOT NULL,
    log_index BIGINT NOT NULL,
    sealed_evidence BLOB NOT NULL,
    PRIMARY KEY (challenge_id, session, k),
    FOREIGN KEY (challenge_id, session) REFERENCES sessions(challenge_id, session)
);
