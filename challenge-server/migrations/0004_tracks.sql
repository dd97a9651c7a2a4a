-- The track interface (docs/API.md, "Tracks"): a challenge's parties are rows, whatever their
-- number and names, each with its bundle as published at creation and its sealed device state;
-- the challenge records the target it plays on (`target_flaw`: NULL for target-impl itself, the
-- flaw's name for a weakened test target) and its track's own parameters (JSON, NULL for none).
CREATE TABLE challenge_parties (
    challenge_id TEXT NOT NULL REFERENCES challenges (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    bundle BLOB NOT NULL,
    sealed_state BLOB NOT NULL,
    PRIMARY KEY (challenge_id, name)
);

INSERT INTO challenge_parties (challenge_id, position, name, bundle, sealed_state)
    SELECT id, 0, 'alice', alice_bundle, sealed_alice FROM challenges;
INSERT INTO challenge_parties (challenge_id, position, name, bundle, sealed_state)
    SELECT id, 1, 'bob', bob_bundle, sealed_bob FROM challenges;

ALTER TABLE challenges DROP COLUMN alice_bundle;
ALTER TABLE challenges DROP COLUMN bob_bundle;
ALTER TABLE challenges DROP COLUMN sealed_alice;
ALTER TABLE challenges DROP COLUMN sealed_bob;
ALTER TABLE challenges ADD COLUMN target_flaw TEXT;
ALTER TABLE challenges ADD COLUMN track_params TEXT;
