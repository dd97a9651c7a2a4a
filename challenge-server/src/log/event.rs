//! The public events the log records (docs/API.md, "Log events"). An entry's bytes are the
//! event's compact JSON, fields in the order below, then the version of its type (`v`, the
//! registry [`Event::REGISTRY`]). A reader of one challenge parses that challenge's events
//! strictly and skips the others' by their `challenge` field ([`Event::parse_for`]), so a type
//! added later for another challenge never breaks an older verifier.

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
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
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
    /// A claimant opened session `session` of a request-driven challenge: what it publishes
    /// about the session (the track's fields: the bots' identities, the secret's commitment),
    /// and the head of its record after the open (entry 0).
    SessionOpened {
        /// Challenge id.
        challenge: String,
        /// Session number.
        session: u64,
        /// Claimant name.
        claimant: String,
        /// The track's fields of the session.
        fields: TrackFields,
        /// The record's head, hex.
        head: String,
        /// Time.
        time: u64,
    },
    /// A win awarded when it happened, at command `k` of a session (`forgery`): its priority
    /// is this event's log index; the evidence is sealed until the close.
    SessionWin {
        /// Challenge id.
        challenge: String,
        /// Session number.
        session: u64,
        /// The command's index in the record.
        k: u64,
        /// The kind of win.
        kind: String,
        /// The claimant of the session.
        claimant: String,
        /// The record's head after command `k`, hex.
        head: String,
        /// Time.
        time: u64,
    },
    /// At the close, a session's final record: its length and head.
    SessionClosed {
        /// Challenge id.
        challenge: String,
        /// Session number.
        session: u64,
        /// Entries in its record.
        entries: u64,
        /// The record's head, hex.
        head: String,
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

/// The version field every entry ends with (docs/API.md, "Log events"); an entry without it was
/// logged before versions were written, and is version 1.
pub const VERSION_FIELD: &str = "v";

/// The version an entry without [`VERSION_FIELD`] has.
const UNVERSIONED: u64 = 1;

/// Longest entry [`Event::parse`] reads: a `challenge-created` event is a few kilobytes, its
/// track fields capped.
pub const MAX_EVENT_LEN: usize = 256 * 1024;

/// An entry as written: the event's fields, then its type's version.
#[derive(Serialize)]
struct Versioned<'a> {
    #[serde(flatten)]
    event: &'a Event,
    v: u32,
}

/// Why an entry is not an event this build reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventError {
    /// Not a JSON object, or longer than [`MAX_EVENT_LEN`].
    NotAnObject,
    /// A type this build does not know.
    UnknownType(String),
    /// A known type at a version this build does not read.
    UnknownVersion {
        /// The type.
        kind: String,
        /// The entry's version.
        version: u64,
    },
    /// A known type and version whose fields do not parse (a missing, extra or mistyped one).
    Fields(String),
}

impl core::fmt::Display for EventError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EventError::NotAnObject => f.write_str("not a JSON object of at most 256 KiB"),
            EventError::UnknownType(kind) => write!(f, "unknown event type {kind:?}"),
            EventError::UnknownVersion { kind, version } => {
                write!(f, "{kind} version {version}, this build reads another")
            }
            EventError::Fields(e) => write!(f, "fields: {e}"),
        }
    }
}

impl std::error::Error for EventError {}

impl From<EventError> for crate::Error {
    fn from(e: EventError) -> Self {
        crate::Error::internal(format!("log entry: {e}"))
    }
}

/// What an entry is to a reader of one challenge ([`Event::parse_for`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// An event of the challenge, or about the whole log, parsed strictly.
    Event(Box<Event>),
    /// Another challenge's event, skipped by its `challenge` field unparsed: a type or version
    /// this build does not know there breaks nothing.
    Other,
}

impl Event {
    /// Every type this build writes, with its version: the registry of docs/API.md.
    pub const REGISTRY: [(&'static str, u32); 14] = [
        ("challenge-created", 1),
        ("message", 1),
        ("claim-committed", 1),
        ("claim-revealed", 1),
        ("reveal-published", 1),
        ("verdict", 1),
        ("traffic-stopped", 1),
        ("log-rolled-back", 1),
        ("claim-void", 1),
        ("session-opened", 1),
        ("session-win", 1),
        ("session-closed", 1),
        ("challenge-closed", 1),
        ("seed-revealed", 1),
    ];

    /// The type name, as in the entry's `type` field.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::ChallengeCreated(_) => "challenge-created",
            Event::Message { .. } => "message",
            Event::ClaimCommitted { .. } => "claim-committed",
            Event::ClaimRevealed { .. } => "claim-revealed",
            Event::RevealPublished { .. } => "reveal-published",
            Event::Verdict { .. } => "verdict",
            Event::TrafficStopped { .. } => "traffic-stopped",
            Event::LogRolledBack { .. } => "log-rolled-back",
            Event::ClaimVoid { .. } => "claim-void",
            Event::SessionOpened { .. } => "session-opened",
            Event::SessionWin { .. } => "session-win",
            Event::SessionClosed { .. } => "session-closed",
            Event::ChallengeClosed { .. } => "challenge-closed",
            Event::SeedRevealed { .. } => "seed-revealed",
        }
    }

    /// The version of a type name in [`Event::REGISTRY`].
    pub fn version_of(type_name: &str) -> Option<u32> {
        Self::REGISTRY
            .iter()
            .find(|(name, _)| *name == type_name)
            .map(|(_, v)| *v)
    }

    /// The version this event is written at.
    pub fn version(&self) -> u32 {
        Self::version_of(self.type_name()).unwrap_or(1)
    }

    /// The entry bytes: the event's compact JSON, `type` first, its fields, then `v`.
    pub fn to_bytes(&self) -> Result<Vec<u8>, crate::Error> {
        Ok(serde_json::to_vec(&Versioned {
            event: self,
            v: self.version(),
        })?)
    }

    /// Parses an entry strictly: a known type at its version, exactly its fields.
    pub fn parse(bytes: &[u8]) -> Result<Self, EventError> {
        let object = object_of(bytes)?;
        Self::parse_object(object)
    }

    /// Parses an entry for a reader of challenge `challenge`: its events and the log's own
    /// strictly, every other challenge's skipped by its `challenge` field.
    pub fn parse_for(bytes: &[u8], challenge: &str) -> Result<Parsed, EventError> {
        let object = object_of(bytes)?;
        match object.get("challenge") {
            Some(serde_json::Value::String(other)) if other != challenge => Ok(Parsed::Other),
            _ => Self::parse_object(object).map(|e| Parsed::Event(Box::new(e))),
        }
    }

    fn parse_object(
        mut object: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, EventError> {
        let kind = match object.get("type") {
            Some(serde_json::Value::String(kind)) => kind.clone(),
            _ => return Err(EventError::Fields("`type`: missing or not a string".into())),
        };
        let expected = Self::version_of(&kind).ok_or(EventError::UnknownType(kind.clone()))?;
        let version = match object.remove(VERSION_FIELD) {
            None => UNVERSIONED,
            Some(v) => v.as_u64().ok_or_else(|| {
                EventError::Fields(format!("`{VERSION_FIELD}`: not an unsigned integer"))
            })?,
        };
        if version != u64::from(expected) {
            return Err(EventError::UnknownVersion { kind, version });
        }
        serde_json::from_value(serde_json::Value::Object(object))
            .map_err(|e| EventError::Fields(e.to_string()))
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
            | Event::SessionOpened { challenge, .. }
            | Event::SessionWin { challenge, .. }
            | Event::SessionClosed { challenge, .. }
            | Event::ClaimRevealed { challenge, .. }
            | Event::RevealPublished { challenge, .. }
            | Event::ChallengeClosed { challenge, .. }
            | Event::SeedRevealed { challenge, .. } => challenge,
        })
    }
}

fn object_of(bytes: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, EventError> {
    if bytes.len() > MAX_EVENT_LEN {
        return Err(EventError::NotAnObject);
    }
    match serde_json::from_slice(bytes) {
        Ok(serde_json::Value::Object(object)) => Ok(object),
        _ => Err(EventError::NotAnObject),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(challenge: &str) -> Event {
        Event::Message {
            challenge: challenge.into(),
            index: 3,
            time: 1_795_434_775,
            direction: "alice-to-bob".into(),
            kind: "initial".into(),
            sha256: "00".repeat(32),
        }
    }

    #[test]
    fn an_entry_ends_with_its_version_and_parses_back() {
        let event = message("c1");
        let bytes = event.to_bytes().unwrap();
        assert!(bytes.starts_with(br#"{"type":"message","challenge":"c1","#));
        assert!(bytes.ends_with(br#","v":1}"#));
        assert_eq!(Event::parse(&bytes).unwrap(), event);
        let created = r#"{"type":"log-rolled-back","signed_size":9,"size":7,"time":5,"v":1}"#;
        assert!(matches!(
            Event::parse(created.as_bytes()).unwrap(),
            Event::LogRolledBack { signed_size: 9, .. }
        ));
    }

    #[test]
    fn an_entry_from_before_versions_is_version_1() {
        let old = br#"{"type":"challenge-closed","challenge":"c1","reason":"deadline","time":7}"#;
        assert_eq!(
            Event::parse(old).unwrap(),
            Event::ChallengeClosed {
                challenge: "c1".into(),
                reason: "deadline".into(),
                time: 7
            }
        );
    }

    #[test]
    fn the_registry_names_every_type_once() {
        for (i, (name, v)) in Event::REGISTRY.iter().enumerate() {
            assert_eq!(*v, 1, "{name}");
            assert!(
                !Event::REGISTRY[..i].iter().any(|(n, _)| n == name),
                "{name}"
            );
        }
        let void = Event::ClaimVoid {
            challenge: "c".into(),
            claim: "k".into(),
            time: 1,
        };
        for event in [message("c"), void] {
            let json: serde_json::Value =
                serde_json::from_slice(&event.to_bytes().unwrap()).unwrap();
            assert_eq!(json["type"], event.type_name());
            assert_eq!(Event::version_of(event.type_name()), Some(event.version()));
        }
    }

    #[test]
    fn the_challenges_own_entries_parse_strictly() {
        let strict = |text: &str| Event::parse_for(text.as_bytes(), "c1");
        let extra = r#"{"type":"claim-void","challenge":"c1","claim":"k","time":1,"by":"x","v":1}"#;
        assert!(matches!(strict(extra), Err(EventError::Fields(e)) if e.contains("by")));
        let missing = r#"{"type":"claim-void","challenge":"c1","claim":"k","v":1}"#;
        assert!(matches!(strict(missing), Err(EventError::Fields(e)) if e.contains("time")));
        let newer = r#"{"type":"claim-void","challenge":"c1","claim":"k","time":1,"v":2}"#;
        assert_eq!(
            strict(newer),
            Err(EventError::UnknownVersion {
                kind: "claim-void".into(),
                version: 2
            })
        );
        let unknown = r#"{"type":"game-paused","challenge":"c1","v":1}"#;
        assert_eq!(
            strict(unknown),
            Err(EventError::UnknownType("game-paused".into()))
        );
        // The log's own events (no challenge) are read strictly by every reader.
        let log_wide = r#"{"type":"log-grown","v":1}"#;
        assert!(matches!(strict(log_wide), Err(EventError::UnknownType(_))));
        assert_eq!(strict("[1]"), Err(EventError::NotAnObject));
        assert_eq!(strict("{"), Err(EventError::NotAnObject));
    }

    #[test]
    fn another_challenges_entries_are_skipped_whatever_they_are() {
        for other in [
            r#"{"type":"game-paused","challenge":"c2","game":0,"v":1}"#,
            r#"{"type":"message","challenge":"c2","v":9}"#,
        ] {
            assert_eq!(Event::parse_for(other.as_bytes(), "c1"), Ok(Parsed::Other));
            assert!(Event::parse(other.as_bytes()).is_err());
        }
        let own = message("c1").to_bytes().unwrap();
        assert_eq!(
            Event::parse_for(&own, "c1"),
            Ok(Parsed::Event(Box::new(message("c1"))))
        );
    }
}
