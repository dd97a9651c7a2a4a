//! The public events the log records (docs/API.md, "Log events"). An entry's bytes are the
//! event's compact JSON, fields in the order below.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::{RevealRequest, SecretCommitmentView, TargetIdentity};
use crate::tracks::{Schedule, TrackFields};

/// The `challenge-created` event: the common fields, and the track's own (`track_fields`,
/// written in place after `secret_commitments`; docs/API.md lists each track's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedEvent {
    /// Challenge id.
    pub challenge: String,
    /// Track name.
    pub track: String,
    /// Title.
    pub title: String,
    /// SHA-256 of the rules.
    pub rules_sha256: String,
    /// Bounty per kind of win.
    pub bounty: BTreeMap<String, String>,
    /// Schedule.
    pub schedule: Schedule,
    /// Closing time.
    pub deadline: u64,
    /// The last time a reveal is taken (absent from challenges created before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reveal_deadline: Option<u64>,
    /// Close on the first win.
    pub close_on_win: bool,
    /// The seed commitment.
    pub seed_commitment: String,
    /// The secrets' commitments.
    pub secret_commitments: Vec<SecretCommitmentView>,
    /// The track's own fields.
    #[serde(flatten)]
    pub track_fields: TrackFields,
    /// The target build.
    pub target_impl: TargetIdentity,
    /// Creation time.
    pub time: u64,
}

/// A public event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Event {
    /// A challenge was created: everything it committed to before any traffic.
    ChallengeCreated(Box<CreatedEvent>),
    /// A transcript entry was published.
    Message {
        /// Challenge id.
        challenge: String,
        /// Transcript index.
        index: u64,
        /// Scheduled time.
        time: u64,
        /// Direction.
        direction: String,
        /// Kind.
        kind: String,
        /// SHA-256 of the bytes.
        sha256: String,
    },
    /// A claim was committed.
    ClaimCommitted {
        /// Challenge id.
        challenge: String,
        /// Claim id.
        claim: String,
        /// Claimant name.
        claimant: String,
        /// The committed hash.
        commitment: String,
        /// Commit time.
        time: u64,
    },
    /// A committed claim was revealed: its kind, and the hash of the reveal, whose content is
    /// published by a `reveal-published` event at the close (at once after it).
    ClaimRevealed {
        /// Challenge id.
        challenge: String,
        /// Claim id.
        claim: String,
        /// The revealed kind.
        kind: String,
        /// SHA-256 of the reveal as `reveal-published` will carry it (its compact JSON).
        reveal_sha256: String,
        /// Time.
        time: u64,
    },
    /// A revealed claim's content, public: at the close for the reveals before it, at once for
    /// a reveal after it.
    RevealPublished {
        /// Challenge id.
        challenge: String,
        /// Claim id.
        claim: String,
        /// The reveal, as the claimant sent it.
        reveal: RevealRequest,
    },
    /// A claim got a verdict (or a new one).
    Verdict {
        /// Challenge id.
        challenge: String,
        /// Claim id.
        claim: String,
        /// The verdict.
        verdict: String,
        /// `automatic` or `operator`.
        decided_by: String,
        /// Time.
        time: u64,
    },
    /// A challenge's scheduled traffic stopped: its step `index` failed (a fault of the server
    /// or of the target, never retried with other input), so no later entry is published.
    TrafficStopped {
        /// Challenge id.
        challenge: String,
        /// The transcript index that could not be produced.
        index: u64,
        /// What failed (no secret: the error's class).
        reason: String,
        /// Time.
        time: u64,
    },
    /// The server started on a log shorter than heads it had signed (a restored backup,
    /// accepted by the operator): entries `size..signed_size` were lost and their indexes are
    /// used again.
    LogRolledBack {
        /// The largest tree size signed before.
        signed_size: u64,
        /// The log's size at the restart.
        size: u64,
        /// Time.
        time: u64,
    },
    /// A commit not revealed by the reveal deadline is void: it can never win, and no longer
    /// delays the wins after it from being final.
    ClaimVoid {
        /// Challenge id.
        challenge: String,
        /// Claim id.
        claim: String,
        /// Time.
        time: u64,
    },
    /// A challenge closed.
    ChallengeClosed {
        /// Challenge id.
        challenge: String,
        /// `deadline`, `won` or `operator`.
        reason: String,
        /// Time.
        time: u64,
    },
    /// A challenge's seed was revealed.
    SeedRevealed {
        /// Challenge id.
        challenge: String,
        /// The master seed.
        seed: String,
        /// Time.
        time: u64,
    },
}

impl Event {
    /// The entry bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, crate::Error> {
        Ok(serde_json::to_vec(self)?)
    }

    /// The challenge the event is about; `None` for an event about the whole log.
    pub fn challenge(&self) -> Option<&str> {
        Some(match self {
            Event::LogRolledBack { .. } => return None,
            Event::ChallengeCreated(created) => &created.challenge,
            Event::Message { challenge, .. }
            | Event::ClaimCommitted { challenge, .. }
            | Event::Verdict { challenge, .. }
            | Event::TrafficStopped { challenge, .. }
            | Event::ClaimVoid { challenge, .. }
            | Event::ClaimRevealed { challenge, .. }
            | Event::RevealPublished { challenge, .. }
            | Event::ChallengeClosed { challenge, .. }
            | Event::SeedRevealed { challenge, .. } => challenge,
        })
    }
}
