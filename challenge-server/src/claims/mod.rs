//! Claims, commit then reveal (DESIGN section 4, "Claim"; docs/API.md, "Claim commitment").
//!
//! A commit is the SHA-256 of the claim text; its receipt, signed by the server key, is
//! returned only after the commit is durable. A reveal opens the commitment and is judged at
//! once: `won` (the valid claim with the lowest commit log index), `valid-not-first`,
//! `invalid`; a free-form finding goes to `needs-review` for the operator. A claim about a
//! session is judged only if that session was opened before its commit ([`judge()`]).

//! The texts and request checks are pure ([`text`], re-exported here); the lifecycle on the
//! shared [`App`](crate::state::App) comes with the `server` feature.

mod judge;
#[cfg(feature = "server")]
mod lifecycle;
mod text;

pub use crate::fields::hex_field;
pub use crate::tracks::ClaimBody;
pub use judge::{ClaimContext, Judged, Refusal, judge, session_rule};
#[cfg(feature = "server")]
pub use lifecycle::*;
pub use text::{
    CLAIM_LABEL, MAX_CLAIMANT_LEN, MAX_FINDING_LEN, MAX_PARTY_LEN, RECEIPT_LABEL, check_commit,
    claim_text, commitment, is_claimant, parse_reveal, receipt_text,
};
