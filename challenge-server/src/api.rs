//! The JSON documents of the public API (docs/API.md), shared by the server, `export` and
//! `verify`. Bytes are lowercase hex; hashes are SHA-256 as `sha256sum` prints them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::tracks::{Schedule, TrackFields};

/// `GET /server-key`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ServerKeyView {
    /// Always `ed25519`.
    pub algorithm: String,
    /// The Ed25519 public key that signs receipts and checkpoints.
    pub public_key: String,
    /// The log's origin (the checkpoint's first line and the signed-note key name).
    pub log_origin: String,
    /// The C2SP signed-note verifier key: `<origin>+<key id>+<base64(0x01 || public key)>`.
    pub note_verifier_key: String,
}

/// One entry of `GET /challenges`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChallengeSummary {
    /// Id (16 lowercase hex digits).
    pub id: String,
    /// Title.
    pub title: String,
    /// Track name.
    pub track: String,
    /// `open` or `closed`.
    pub status: String,
    /// Bounty per kind of win.
    pub bounty: BTreeMap<String, String>,
    /// Closing time.
    pub deadline: u64,
    /// Transcript entries published so far.
    pub published_entries: u64,
}

/// A secret's public commitment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SecretCommitmentView {
    /// The secret's number.
    pub index: u32,
    /// The transcript index of the message that carries it.
    pub message: u64,
    /// `SHA-256("challenge-server/v1/secret-commitment\n" || salt || secret)`.
    pub commitment: String,
}

/// A party's published bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PartyView {
    /// The prekey bundle bytes.
    pub bundle: String,
    /// Its SHA-256.
    pub bundle_sha256: String,
}

/// The target build that plays the challenge (DESIGN section 7, docs/API.md "target-impl
/// identity"), so that a transcript of one build can never pass for another's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TargetIdentity {
    /// The crate's name (`target-impl`).
    #[serde(rename = "crate", default = "default_crate")]
    pub crate_name: String,
    /// The crate's version.
    pub version: String,
    /// SHA-256 of its source listing.
    pub source_sha256: String,
    /// SHA-256 of the listing of the Cargo.lock packages it reaches; `null` for a challenge
    /// created before the server recorded it.
    #[serde(default)]
    pub deps_sha256: Option<String>,
    /// The planted flaw of a weakened test target; `null` for the real one.
    #[serde(default)]
    pub flaw: Option<String>,
}

fn default_crate() -> String {
    "target-impl".to_owned()
}

impl TargetIdentity {
    /// The identity of the target-impl this server is built with.
    pub fn built() -> Self {
        Self {
            crate_name: default_crate(),
            version: crate::TARGET_IMPL_VERSION.to_owned(),
            source_sha256: crate::TARGET_IMPL_SOURCE_SHA256.to_owned(),
            deps_sha256: Some(crate::TARGET_IMPL_DEPS_SHA256.to_owned()),
            flaw: None,
        }
    }

    /// The identity of a weakened copy of it: the same build, with the flaw named.
    pub fn weakened(flaw: &str) -> Self {
        Self {
            flaw: Some(flaw.to_owned()),
            ..Self::built()
        }
    }
}

/// `GET /challenges/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChallengeView {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Track name.
    pub track: String,
    /// `open` or `closed`.
    pub status: String,
    /// Rules text.
    pub rules: String,
    /// SHA-256 of the rules text's UTF-8 bytes.
    pub rules_sha256: String,
    /// Bounty per kind of win.
    pub bounty: BTreeMap<String, String>,
    /// The schedule.
    pub schedule: Schedule,
    /// Closing time.
    pub deadline: u64,
    /// The last time a reveal is taken; unrevealed commits are void after it (absent for a
    /// challenge created before it was published).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reveal_deadline: Option<u64>,
    /// Whether the first win closes the challenge.
    pub close_on_win: bool,
    /// Creation time.
    pub created_at: u64,
    /// `SHA-256("challenge-server/v1/seed-commitment\n" || seed)`.
    pub seed_commitment: String,
    /// The secrets' commitments.
    pub secret_commitments: Vec<SecretCommitmentView>,
    /// The parties' bundles as published at creation, by name.
    pub parties: BTreeMap<String, PartyView>,
    /// The track's own parameters, in place (docs/API.md lists each track's).
    #[serde(flatten)]
    pub track_fields: TrackFields,
    /// The target-impl build.
    pub target_impl: TargetIdentity,
    /// Transcript entries published so far.
    pub published_entries: u64,
    /// Log index of the `challenge-created` event.
    pub created_log_index: u64,
    /// When the challenge closed.
    pub closed_at: Option<u64>,
    /// Why (`deadline`, `won`, `operator`).
    pub close_reason: Option<String>,
    /// The master seed, once revealed.
    pub seed: Option<String>,
}

/// One transcript entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TranscriptEntryView {
    /// Index (0: Bob's bundle).
    pub index: u64,
    /// Scheduled (and actual protocol) time.
    pub time: u64,
    /// `alice-to-bob` or `bob-to-alice`.
    pub direction: String,
    /// `bundle`, `initial` or `ratchet`.
    pub kind: String,
    /// Length in bytes.
    pub length: u64,
    /// SHA-256 of the bytes (logged in the `message` event).
    pub sha256: String,
    /// The bytes.
    pub bytes: String,
    /// Log index of its `message` event.
    pub log_index: u64,
}

/// `GET /challenges/{id}/transcript?from=&limit=` (and the whole download, with every entry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TranscriptPage {
    /// Challenge id.
    pub challenge: String,
    /// Entries published so far.
    pub published_entries: u64,
    /// The entries, by index.
    pub entries: Vec<TranscriptEntryView>,
    /// Where the next page starts, if more are published.
    pub next_from: Option<u64>,
}

/// `GET /challenges/{id}/claims?from=&limit=`: claims by commit log index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ClaimsPage {
    /// Challenge id.
    pub challenge: String,
    /// The claims whose commit log index is at least `from`, by log index.
    pub claims: Vec<ClaimView>,
    /// The `from` of the next page (a log index), null on the last page.
    pub next_from: Option<u64>,
}

/// `POST /claims/commit`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommitRequest {
    /// Challenge id.
    pub challenge: String,
    /// The claimant's public name.
    pub claimant: String,
    /// SHA-256 of the claim text (docs/API.md, "Claim commitment").
    pub commitment: String,
}

/// The signed receipt of a commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Receipt {
    /// Claim id.
    pub claim: String,
    /// Challenge id.
    pub challenge: String,
    /// Claimant name.
    pub claimant: String,
    /// The committed hash.
    pub commitment: String,
    /// Log index of the `claim-committed` event.
    pub log_index: u64,
    /// Server time of the commit.
    pub time: u64,
    /// Ed25519 signature of the receipt text (docs/API.md, "Receipt").
    pub signature: String,
    /// The signed checkpoint of the log right after the commit (C2SP tlog-checkpoint).
    pub checkpoint: String,
}

/// `POST /claims/{id}/reveal`. Its `Debug` shows the kind, message, session, party and key
/// only: the secret, the finding, the private key and the nonce stay sealed until the close.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    /// `secret` or `finding`.
    pub kind: String,
    /// For `secret`: the transcript index of the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<u64>,
    /// For `secret`: the secret, 32 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// For `finding`: the finding's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// For `key`, and for `secret` of a track with sessions (instead of `message`): the
    /// session's number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<u64>,
    /// For `key`: the party whose key it is (`alice`, `bob`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    /// For `key`: which identity key (`ed25519`, `x25519`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// For `key`: the private key, 64 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    /// The claim's nonce, 64 hex digits.
    pub nonce: String,
}

impl std::fmt::Debug for RevealRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevealRequest")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("session", &self.session)
            .field("party", &self.party)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// A claim, as `GET /claims/{id}` and `GET /challenges/{id}/claims` show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ClaimView {
    /// Claim id.
    pub id: String,
    /// Challenge id.
    pub challenge: String,
    /// Claimant name.
    pub claimant: String,
    /// The committed hash.
    pub commitment: String,
    /// Log index of the commit.
    pub log_index: u64,
    /// Commit time.
    pub committed_at: u64,
    /// The receipt.
    pub receipt: Receipt,
    /// `committed`, `revealed`.
    pub status: String,
    /// The revealed kind (`secret`, `finding`), once revealed.
    pub kind: Option<String>,
    /// `won`, `valid-not-first`, `invalid`, `needs-review`, once revealed.
    pub verdict: Option<String>,
    /// Log index of the latest `verdict` event.
    pub verdict_log_index: Option<u64>,
    /// `automatic` or `operator`.
    pub decided_by: Option<String>,
    /// The revealed claim, public once the challenge is closed.
    pub reveal: Option<RevealRequest>,
}

/// The answer to a reveal or an admin decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct VerdictView {
    /// Claim id.
    pub claim: String,
    /// The verdict.
    pub verdict: String,
    /// Log index of the `verdict` event.
    pub log_index: u64,
    /// Why the claim is `invalid` before its track judged it (a claim naming a session not
    /// opened before its commit); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /admin/claims/{id}/decision`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `won`, `valid-not-first` or `invalid`.
    pub verdict: String,
}

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LogEntryView {
    /// Index.
    pub index: u64,
    /// The entry's bytes (a JSON event, docs/API.md "Log events").
    pub data: String,
    /// RFC 6962 leaf hash `SHA-256(0x00 || data)`.
    pub leaf_hash: String,
}

/// `GET /log/entries`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LogEntries {
    /// Tree size when read.
    pub tree_size: u64,
    /// The entries.
    pub entries: Vec<LogEntryView>,
}

/// One entry of a session's record: its index and its bytes (compact JSON), hex.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RecordEntryView {
    /// Index in the record (0: the open).
    pub k: u64,
    /// The entry's bytes, hex.
    pub data: String,
}

/// `GET /challenges/{id}/sessions/{s}/record`: a page of a session's record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SessionRecordView {
    /// Session number.
    pub session: u64,
    /// Its claimant.
    pub claimant: String,
    /// Entries in the whole record.
    pub entries_total: u64,
    /// The record's head, hex.
    pub head: String,
    /// The page.
    pub entries: Vec<RecordEntryView>,
    /// Every win awarded during the session, with its evidence: only once the challenge is
    /// closed (absent before, when the evidence is sealed), on every page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wins: Option<Vec<SessionWinView>>,
}

/// A win awarded during a session, as the record shows it after the close.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionWinView {
    /// The record entry (command index) that won.
    pub k: u64,
    /// The kind of win.
    pub kind: String,
    /// Log index of its `session-win` event.
    pub log_index: u64,
    /// Its evidence, as the track wrote it (an object; sealed until the close).
    pub evidence: TrackFields,
}

/// `GET /log/proof/inclusion`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct InclusionProofView {
    /// Leaf index.
    pub index: u64,
    /// Tree size.
    pub tree_size: u64,
    /// The leaf hash.
    pub leaf_hash: String,
    /// Root of the tree of that size.
    pub root: String,
    /// RFC 6962 audit path, leaf to root.
    pub proof: Vec<String>,
}

/// `GET /log/proof/consistency`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ConsistencyProofView {
    /// The older size.
    pub from: u64,
    /// The newer size.
    pub to: u64,
    /// Root at `from`.
    pub from_root: String,
    /// Root at `to`.
    pub to_root: String,
    /// RFC 6962 consistency proof.
    pub proof: Vec<String>,
}

/// A challenge's health line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChallengeHealth {
    /// Challenge id.
    pub id: String,
    /// `open` or `closed`.
    pub status: String,
    /// Whether every published secret is really in the published traffic.
    pub solvable: bool,
    /// Published entries the solver decrypted.
    pub entries_checked: u64,
    /// Secrets found and matching their commitments.
    pub secrets_confirmed: u32,
    /// Secrets not published yet.
    pub secrets_pending: u32,
    /// The first problem, if any.
    pub problem: Option<String>,
    /// For a track that publishes what an attacker holds (a party's device state): the
    /// published messages the solver read from that alone, where the track says they are
    /// readable by design. Absent for other tracks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readable: Option<u64>,
    /// For the same tracks: the published messages the solver tried from that alone and could
    /// not read, where the track says they are protected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected: Option<u64>,
}

/// `GET /health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct HealthView {
    /// `ok` or `degraded`.
    pub status: String,
    /// Log size.
    pub log_size: u64,
    /// Per challenge.
    pub challenges: Vec<ChallengeHealth>,
}
