//! The record of a request-driven track's session or game (DESIGN section 7, "Records"): every
//! command and its answer, as a hash chain whose head the log holds at the open, at each win
//! and at the close.
//!
//! An entry is the compact JSON of `{"k", "now", "command", "input", "answer"}` in that order
//! (no whitespace; bytes as lowercase hex; `input` the command's own fields, `answer` the
//! public answer), as the track writes it. Entry 0 is the open. The chain, over those exact
//! bytes, under the track's own label:
//!
//! ```text
//! head_0     = SHA-256(label ‖ challenge id ‖ "\n" ‖ u64be(s))
//! head_{k+1} = SHA-256(head_k ‖ SHA-256(entry_k))
//! ```
//!
//! so the head after `n` entries commits to every byte of the first `n`.

use serde::{Deserialize, Serialize};
use target_impl::hazmat::sha256;

/// Longest record entry any track writes, in bytes.
pub const MAX_ENTRY_LEN: usize = 128 * 1024;

/// One entry of a record, as stored (its [`RecordEntry::to_bytes`]) and hashed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordEntry {
    /// Its index in the record (0: the open).
    pub k: u64,
    /// The time the command ran (Unix seconds).
    pub now: u64,
    /// The command's name (`open` for entry 0).
    pub command: String,
    /// What the claimant sent: the command's fields.
    pub input: serde_json::Value,
    /// What the claimant was answered.
    pub answer: serde_json::Value,
}

impl RecordEntry {
    /// The entry's bytes: compact JSON, fields in declaration order.
    pub fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    /// An entry from its bytes, at most [`MAX_ENTRY_LEN`] of them.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() > MAX_ENTRY_LEN {
            return Err(format!("longer than {MAX_ENTRY_LEN} bytes"));
        }
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

/// The running head of a record and how many entries it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// The head after the first `len` entries.
    pub head: [u8; 32],
    /// Entries so far; the next entry's `k`.
    pub len: u64,
}

impl Record {
    /// The empty record of session or game `s` of `challenge` under the track's `label`
    /// (`challenge-server/v1/<track>-record\n`): `head_0`.
    pub fn start(label: &[u8], challenge: &str, s: u64) -> Self {
        Self {
            head: sha256(&[label, challenge.as_bytes(), b"\n", &s.to_be_bytes()]),
            len: 0,
        }
    }

    /// Chains one more entry's bytes.
    pub fn append(&mut self, entry: &[u8]) {
        self.head = sha256(&[&self.head, &sha256(&[entry])]);
        self.len = self.len.saturating_add(1);
    }
}
