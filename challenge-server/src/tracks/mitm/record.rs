//! A session's record ([`crate::tracks::record`]) under the track's own label:
//!
//! ```text
//! head_0 = SHA-256("challenge-server/v1/mitm-record\n" ‖ challenge id ‖ "\n" ‖ u64be(s))
//! ```
//!
//! An entry's `input` is the command's own fields in the order of [`super::Command`].

pub use crate::tracks::record::{Record, RecordEntry};

/// The label of a session's `head_0`.
pub const RECORD_LABEL: &[u8] = b"challenge-server/v1/mitm-record\n";

impl Record {
    /// The empty record of this track's session `s` of `challenge`: `head_0` under
    /// [`RECORD_LABEL`].
    pub fn new(challenge: &str, s: u64) -> Self {
        Self::start(RECORD_LABEL, challenge, s)
    }
}
