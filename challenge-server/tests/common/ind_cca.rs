//! What the tests of the ind-cca track share: a challenge definition, and a game driven over
//! HTTP with its bearer token (a game is a session of the sessions API).
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use challenge_server::tracks::ChallengeSpec;
use serde_json::{Value, json};

use super::spec;

/// An ind-cca challenge with a bounty for its judged kind and `params` as its track's own.
pub fn ind_cca_spec(params: Value) -> ChallengeSpec {
    let mut spec = spec(1, 3_600, 0, 3_600);
    spec.track = "ind-cca".to_owned();
    spec.bounty = [("ind-cca".to_owned(), "100 EUR".to_owned())].into();
    spec.params = serde_json::from_value(params).unwrap();
    spec
}

/// A `challenge` command: bot `from` encrypts `m0` or `m1`.
pub fn challenge(from: &str, m0: &[u8], m1: &[u8]) -> Value {
    json!({
        "command": "challenge",
        "from": from,
        "m0": hex::encode(m0),
        "m1": hex::encode(m1),
        "content_type": 1,
        "ttl": 0,
    })
}

/// A `decrypt` command to bot `to`.
pub fn decrypt(to: &str, bytes: &[u8]) -> Value {
    json!({"command": "decrypt", "to": to, "bytes": hex::encode(bytes)})
}

/// A `guess` command of `bits`, one per round, packed first round first.
pub fn guess(bits: &[bool]) -> Value {
    let mut packed = vec![0u8; bits.len().div_ceil(8)];
    for (i, b) in bits.iter().enumerate() {
        if *b {
            packed[i / 8] |= 0x80 >> (i % 8);
        }
    }
    json!({"command": "guess", "bits": hex::encode(packed)})
}
