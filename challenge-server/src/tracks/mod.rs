//! The games (DESIGN section 4, "Tracks"), behind one interface: lifecycle code (challenges,
//! claims, health, verify, store) reaches a track only through [`Track`], found by name in
//! [`TRACKS`], so a new track is a module here and one line in that list. Each track plays on
//! a [`Target`] (crate::targets), never on target-impl's types.
//!
//! What every track shares is defined here: the definition a challenge is created from
//! ([`ChallengeSpec`]), its schedule, the committed secrets, the parties' devices, the
//! transcript [`Entry`], the health [`Solver`] and the claims a [`Track::judge`] decides; and,
//! for a request-driven track ([`Track::sessions`]), its [`Sessions`] (module [`sessions`]):
//! the commands, answers and hash-chained records ([`record`]) of the sessions claimants open.

pub mod conversation;
pub mod ind_cca;
pub mod mitm;
pub mod passive;
pub mod record;
pub mod seizure;
pub mod sessions;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::Error;
use crate::seed::MasterSeed;
use crate::targets::{IdentityKey, Target, TargetDevice};

pub use record::{Record, RecordEntry};
pub use sessions::{Opened, Outcome, ReplayReport, ReplayedWin, SessionLimits, Sessions, Win};

/// Every track this server plays; the first is the default of a definition that names none.
pub static TRACKS: [&dyn Track; 4] = [
    &passive::Passive,
    &mitm::Mitm,
    &seizure::Seizure,
    &ind_cca::IndCca,
];

/// The track named `name`.
pub fn by_name(name: &str) -> Option<&'static dyn Track> {
    TRACKS.iter().copied().find(|t| t.name() == name)
}

/// The challenge `serve --demo` creates.
pub fn demo_spec() -> ChallengeSpec {
    passive::demo_spec()
}

/// The names of every track, for error messages.
pub fn names() -> Vec<&'static str> {
    TRACKS.iter().map(|t| t.name()).collect()
}

/// A game a challenge plays (DESIGN section 7, "Track interface"). Every method is a function
/// of the seed and of what was published, so the server, a restart, the health solver and
/// `verify` compute identical bytes.
pub trait Track: Send + Sync + fmt::Debug {
    /// The name in definitions, documents and log events.
    fn name(&self) -> &'static str;

    /// The kinds of win it judges, which are the bounty keys an operator may set.
    fn win_kinds(&self) -> &'static [&'static str];

    /// Checks the track's own parameters (`params` of the definition) against the schedule;
    /// returns them as they are published. Errors name the field (`params.<name>`).
    fn check_params(&self, params: &TrackFields, schedule: &Schedule)
    -> Result<TrackFields, Error>;

    /// The setup, before any traffic: the parties' devices and bundles from the seed, where
    /// each secret goes with its commitment, and the track's own fields of the
    /// `challenge-created` event.
    fn setup(
        &self,
        target: &dyn Target,
        seed: &MasterSeed,
        spec: &TrackSpec,
    ) -> Result<Setup, Error>;

    /// How many transcript entries are scheduled strictly before `time`: the scheduler
    /// publishes entry `k` once `k < due(schedule, now + 1)`, and `verify` requires every
    /// entry due before the close to be published. A request-driven track schedules none.
    fn due(&self, schedule: &Schedule, time: u64) -> u64;

    /// Scheduled transcript entry `k` (0 first), played on the parties' devices, which it
    /// advances.
    fn step(
        &self,
        seed: &MasterSeed,
        public: &Public,
        k: u64,
        parties: &mut Parties,
    ) -> Result<Entry, Error>;

    /// The health solver: decrypts each published entry from the seed and checks that every
    /// committed secret is really there.
    fn solver(
        &self,
        target: &'static dyn Target,
        seed: &MasterSeed,
        public: &Public,
    ) -> Result<Box<dyn Solver>, Error>;

    /// Judges a revealed claim, on the challenge's target (a `key` claim is checked against a
    /// public identity the target derived).
    fn judge(
        &self,
        target: &dyn Target,
        seed: &MasterSeed,
        public: &Public,
        claim: &ClaimBody,
    ) -> Result<Judgement, Error>;

    /// For `verify`: regenerates every published entry from the seed, compares each with what
    /// was published (the first difference is the error), and solves them.
    fn replay(
        &self,
        target: &'static dyn Target,
        seed: &MasterSeed,
        public: &Public,
        published: &[Entry],
    ) -> Result<SolveReport, String>;

    /// The request-driven part of a track whose claimants open sessions and drive them with
    /// commands (DESIGN section 7, "Track interface"); `None` for a scheduled track.
    fn sessions(&self) -> Option<&dyn Sessions> {
        None
    }
}

/// What a challenge published about its game, as its track needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Public {
    /// The schedule.
    pub schedule: Schedule,
    /// The committed secrets, by index.
    pub secrets: Vec<SecretPlacement>,
    /// The track's own parameters.
    pub params: TrackFields,
}

/// The track's part of a checked definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackSpec {
    /// The schedule.
    pub schedule: Schedule,
    /// How many secrets to hide.
    pub secrets: u32,
    /// The track's own parameters, checked.
    pub params: TrackFields,
}

/// A new challenge's setup.
pub struct Setup {
    /// The parties' devices as they are before entry 0, in the order they are published.
    pub parties: Parties,
    /// Each party's bundle at creation (published), in the same order.
    pub bundles: Vec<(String, Vec<u8>)>,
    /// Every secret's placement and commitment.
    pub secrets: Vec<SecretPlacement>,
    /// The track's own fields of the `challenge-created` event.
    pub event_fields: TrackFields,
}

impl fmt::Debug for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Setup")
            .field("parties", &self.parties)
            .field("secrets", &self.secrets)
            .field("event_fields", &self.event_fields)
            .finish_non_exhaustive()
    }
}

/// One party: a name (`alice`, `bob`) and its device.
pub struct Party {
    /// The party's name (its peer id for the others, and the sealing label of its state).
    pub name: String,
    /// Its device.
    pub device: Box<dyn TargetDevice>,
}

/// A party's device, borrowed to change.
pub type DeviceMut<'a> = &'a mut Box<dyn TargetDevice>;

/// The parties of a challenge, in their published order.
#[derive(Default)]
pub struct Parties(pub Vec<Party>);

impl fmt::Debug for Parties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|p| p.name.as_str()))
            .finish()
    }
}

impl Parties {
    /// Party `name`'s device.
    pub fn get(&self, name: &str) -> Result<&dyn TargetDevice, Error> {
        self.0
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.device.as_ref())
            .ok_or_else(|| Error::internal(format!("no party {name}")))
    }

    /// Party `name`'s device, to change.
    pub fn get_mut(&mut self, name: &str) -> Result<&mut Box<dyn TargetDevice>, Error> {
        self.0
            .iter_mut()
            .find(|p| p.name == name)
            .map(|p| &mut p.device)
            .ok_or_else(|| Error::internal(format!("no party {name}")))
    }

    /// Two parties' devices at once, to change: `(a, b)`.
    pub fn pair_mut(&mut self, a: &str, b: &str) -> Result<(DeviceMut<'_>, DeviceMut<'_>), Error> {
        let mut first = None;
        let mut second = None;
        for p in &mut self.0 {
            if p.name == a {
                first = Some(&mut p.device);
            } else if p.name == b {
                second = Some(&mut p.device);
            }
        }
        first
            .zip(second)
            .ok_or_else(|| Error::internal(format!("no parties {a} and {b}")))
    }

    /// Party `name`'s device, taking it out.
    pub fn into_device(self, name: &str) -> Result<Box<dyn TargetDevice>, Error> {
        self.0
            .into_iter()
            .find(|p| p.name == name)
            .map(|p| p.device)
            .ok_or_else(|| Error::internal(format!("no party {name}")))
    }

    /// A copy of every device.
    pub fn duplicate(&self) -> Self {
        Self(
            self.0
                .iter()
                .map(|p| Party {
                    name: p.name.clone(),
                    device: p.device.duplicate(),
                })
                .collect(),
        )
    }
}

/// One transcript entry: exactly the bytes that crossed the wire, with their time.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    /// Index in the transcript.
    pub index: u64,
    /// Scheduled time (the protocol's `now`).
    pub sent_at: u64,
    /// Sender and receiver, as the API names them (`alice-to-bob`).
    pub direction: String,
    /// What it is, as the API names it (`bundle`, `initial`, `ratchet`).
    pub kind: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("index", &self.index)
            .field("sent_at", &self.sent_at)
            .field("direction", &self.direction)
            .field("kind", &self.kind)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// What a health solver found in the published traffic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SolveReport {
    /// Published entries examined.
    pub entries_checked: u64,
    /// Secrets found in the published messages, with their commitments matching.
    pub secrets_confirmed: u32,
    /// Secrets whose message is not published yet.
    pub secrets_pending: u32,
    /// The first problem, if any: the challenge is not solvable as committed.
    pub problem: Option<String>,
    /// For a track that publishes what an attacker holds (a party's state): the published
    /// messages that the solver, from that alone, read where the track says they are readable
    /// by design. `None` for a track without such a game.
    pub readable: Option<u64>,
    /// For the same tracks: the published messages the solver tried from that alone and could
    /// not read, where the track says they are protected.
    pub protected: Option<u64>,
}

/// A health solver fed one published entry at a time, so that each entry is solved once, as
/// it is published, instead of the whole transcript on each look.
pub trait Solver: Send + fmt::Debug {
    /// The index of the next published entry it expects.
    fn next_index(&self) -> u64;
    /// Solves one more published entry (after the first problem, entries are only skipped).
    fn feed(&mut self, entry: &Entry) -> Result<(), Error>;
    /// What it found so far.
    fn report(&self) -> SolveReport;
}

/// Length of a secret, in bytes (128 bits).
pub const SECRET_LEN: usize = 16;

/// Where secret `index` sits, and its public salted commitment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretPlacement {
    /// The secret's number.
    pub index: u32,
    /// The transcript index of the message that carries it.
    pub message: u64,
    /// `SHA-256("challenge-server/v1/secret-commitment\n" || salt || secret)`.
    pub commitment: [u8; 32],
}

/// What a claim asserts (docs/API.md, "Claim commitment").
#[derive(Clone, PartialEq, Eq)]
pub enum ClaimBody {
    /// Message `message` carries `secret`.
    Secret {
        /// Transcript index.
        message: u64,
        /// The secret.
        secret: Zeroizing<[u8; SECRET_LEN]>,
    },
    /// Session `session`'s secret (a request-driven track, where each session has its own).
    SessionSecret {
        /// The session.
        session: u64,
        /// The secret.
        secret: Zeroizing<[u8; SECRET_LEN]>,
    },
    /// `private` is the private half of `key`, one of the long-term identity keys of `party`
    /// in session `session`.
    Key {
        /// The session.
        session: u64,
        /// The party's name (`alice`, `bob`).
        party: String,
        /// Which identity key.
        key: IdentityKey,
        /// The private key: an Ed25519 seed or an X25519 scalar.
        private: Zeroizing<[u8; 32]>,
    },
    /// Message `message` carries `secret`, and the track protects it by `property` (a secret
    /// read despite what the attacker was given).
    PropertySecret {
        /// The security property the message's protection rests on.
        property: SecurityProperty,
        /// Transcript index.
        message: u64,
        /// The secret.
        secret: Zeroizing<[u8; SECRET_LEN]>,
    },
    /// A free-form finding (RNG, side channel, implementation), judged by the operator.
    Finding {
        /// Its text.
        text: Zeroizing<String>,
    },
}

impl ClaimBody {
    /// The kind of win it claims.
    pub fn kind(&self) -> &'static str {
        match self {
            ClaimBody::Secret { .. } | ClaimBody::SessionSecret { .. } => "secret",
            ClaimBody::Key { .. } => "key",
            ClaimBody::PropertySecret { property, .. } => property.name(),
            ClaimBody::Finding { .. } => "finding",
        }
    }

    /// The session it names, if it is about one (a request-driven track's `secret` or `key`).
    pub fn session(&self) -> Option<u64> {
        match self {
            ClaimBody::SessionSecret { session, .. } | ClaimBody::Key { session, .. } => {
                Some(*session)
            }
            ClaimBody::Secret { .. }
            | ClaimBody::PropertySecret { .. }
            | ClaimBody::Finding { .. } => None,
        }
    }
}

/// A security property a claim says was broken: the kind of win it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecurityProperty {
    /// A message sent before a party's state was taken, read from that state.
    ForwardSecrecy,
    /// A message sent after the ratchet healed, read from a state taken before.
    PostCompromise,
}

impl SecurityProperty {
    /// Every property, in the order claims name them.
    pub const ALL: [SecurityProperty; 2] = [
        SecurityProperty::ForwardSecrecy,
        SecurityProperty::PostCompromise,
    ];

    /// Its kind of win, in claims and bounties.
    pub fn name(self) -> &'static str {
        match self {
            SecurityProperty::ForwardSecrecy => "forward-secrecy",
            SecurityProperty::PostCompromise => "post-compromise",
        }
    }

    /// The property whose kind of win is `name`.
    pub fn by_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Debug for ClaimBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimBody::Secret { message, .. } => write!(f, "Secret {{ message: {message}, .. }}"),
            ClaimBody::PropertySecret {
                property, message, ..
            } => write!(
                f,
                "PropertySecret {{ property: {}, message: {message}, .. }}",
                property.name()
            ),
            ClaimBody::SessionSecret { session, .. } => {
                write!(f, "SessionSecret {{ session: {session}, .. }}")
            }
            ClaimBody::Key {
                session,
                party,
                key,
                ..
            } => write!(
                f,
                "Key {{ session: {session}, party: {party:?}, key: {}, .. }}",
                key.name()
            ),
            ClaimBody::Finding { .. } => f.write_str("Finding { .. }"),
        }
    }
}

/// A track's judgement of a revealed claim, before priority among claims is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judgement {
    /// The claim is true: it wins if no earlier commit of its kind is valid.
    Valid,
    /// The claim is false.
    Invalid,
    /// Only the operator can decide (a free-form finding).
    NeedsReview,
}

/// A track's own fields in a definition, a log event or a document: an object whose fields
/// keep their order, so that an event's bytes are what the track wrote. Serialized in place
/// (`#[serde(flatten)]`) among the common fields.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrackFields(pub Vec<(String, serde_json::Value)>);

impl TrackFields {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Field `name`.
    pub fn get(&self, name: &str) -> Option<&serde_json::Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The fields as JSON text (stored with the challenge).
    pub fn to_json(&self) -> Result<String, Error> {
        Ok(serde_json::to_string(self)?)
    }

    /// The fields from their JSON text.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        Ok(serde_json::from_str(text)?)
    }

    /// The fields from JSON bytes (a win's evidence).
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, Error> {
        Ok(serde_json::from_slice(bytes)?)
    }
}

impl Serialize for TrackFields {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for TrackFields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = TrackFields;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<TrackFields, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                    if out.len() >= MAX_TRACK_FIELDS {
                        return Err(serde::de::Error::custom(format!(
                            "more than {MAX_TRACK_FIELDS} track fields"
                        )));
                    }
                    out.push((k, v));
                }
                Ok(TrackFields(out))
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// Most fields a track may add to a definition, an event or a document.
pub const MAX_TRACK_FIELDS: usize = 32;

/// Most messages in one challenge's schedule.
pub const MAX_MESSAGES: u64 = 10_000;
/// Longest interval between two messages, in seconds (one day).
pub const MAX_INTERVAL_SECS: u64 = 86_400;
/// Latest time (Unix seconds) a schedule or deadline may name: the database stores times as
/// SQLite's signed 64-bit integers.
pub const MAX_TIME: u64 = i64::MAX as u64;
/// Most secrets in one challenge.
pub const MAX_SECRETS: u32 = 16;
/// Default time from the deadline to the reveal deadline, in seconds (one week).
pub const DEFAULT_REVEAL_WINDOW_SECS: u64 = 7 * 86_400;
/// Longest time from the deadline to the reveal deadline, in seconds (one year).
pub const MAX_REVEAL_WINDOW_SECS: u64 = 365 * 86_400;
/// Longest title, in bytes.
pub const MAX_TITLE_LEN: usize = 200;
/// Longest rules text, in bytes.
pub const MAX_RULES_LEN: usize = 8_000;
/// Most kinds of win with a bounty, and the longest bounty text.
pub const MAX_BOUNTIES: usize = 8;
/// Longest bounty text, in bytes.
pub const MAX_BOUNTY_LEN: usize = 200;

/// A challenge as the operator writes it (TOML file or admin API JSON).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChallengeSpec {
    /// Short title.
    pub title: String,
    /// The rules text; its SHA-256 is published.
    pub rules: String,
    /// The track; the first of [`TRACKS`] by default.
    #[serde(default = "default_track")]
    pub track: String,
    /// Bounty per kind of win (`secret`, `finding`), free text such as "1000 USD".
    pub bounty: BTreeMap<String, String>,
    /// The traffic schedule.
    pub schedule: ScheduleSpec,
    /// Closing time (Unix seconds); default: the last message's time plus
    /// `deadline_after_last_secs`.
    #[serde(default)]
    pub deadline: Option<u64>,
    /// Seconds from the last message to the close, if `deadline` is not given (default 60).
    #[serde(default)]
    pub deadline_after_last_secs: Option<u64>,
    /// Seconds after `deadline` during which reveals are still taken (default one week); at
    /// `deadline + reveal_window_secs` every unrevealed commit is void.
    #[serde(default)]
    pub reveal_window_secs: Option<u64>,
    /// Close (and reveal the seed) as soon as a claim wins.
    #[serde(default)]
    pub close_on_win: bool,
    /// How many secrets to hide (default 1).
    #[serde(default = "default_secrets")]
    pub secrets: u32,
    /// The track's own parameters (a `[params]` table), checked by the track.
    #[serde(default)]
    pub params: TrackFields,
}

fn default_track() -> String {
    TRACKS
        .first()
        .map(|t| t.name())
        .unwrap_or_default()
        .to_owned()
}

fn default_secrets() -> u32 {
    1
}

/// The schedule as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// Number of messages.
    pub messages: u64,
    /// Seconds between two messages.
    pub interval_secs: u64,
    /// Time of the first transcript entry (Bob's bundle), Unix seconds.
    #[serde(default)]
    pub start_at: Option<u64>,
    /// Seconds from creation to the first transcript entry, if `start_at` is not given
    /// (default: `interval_secs`).
    #[serde(default)]
    pub start_in_secs: Option<u64>,
}

/// A resolved schedule: entry 0 (Bob's bundle) at `start_at`, message `k` at
/// `start_at + k * interval_secs` for `k` in `1..=messages`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Schedule {
    /// Number of messages (transcript entries 1..=messages).
    pub messages: u64,
    /// Seconds between entries.
    pub interval_secs: u64,
    /// Time of entry 0.
    pub start_at: u64,
}

impl Schedule {
    /// The scheduled time of transcript entry `index`.
    pub fn time_of(&self, index: u64) -> u64 {
        self.start_at
            .saturating_add(index.saturating_mul(self.interval_secs))
    }

    /// Number of transcript entries (the bundle and every message).
    pub fn entries(&self) -> u64 {
        self.messages.saturating_add(1)
    }

    /// Time of the last message.
    pub fn last_time(&self) -> u64 {
        self.time_of(self.messages)
    }

    /// How many entries are scheduled strictly before `time`.
    pub fn entries_before(&self, time: u64) -> u64 {
        match time.checked_sub(self.start_at) {
            None | Some(0) => 0,
            Some(_) if self.interval_secs == 0 => self.entries(),
            Some(after) => self.entries().min((after - 1) / self.interval_secs + 1),
        }
    }
}

/// A checked challenge definition.
#[derive(Clone, Debug)]
pub struct ValidSpec {
    /// Title.
    pub title: String,
    /// Rules text.
    pub rules: String,
    /// Track.
    pub track: &'static dyn Track,
    /// Bounty per kind of win.
    pub bounty: BTreeMap<String, String>,
    /// Schedule.
    pub schedule: Schedule,
    /// Closing time.
    pub deadline: u64,
    /// The last time a reveal is taken.
    pub reveal_deadline: u64,
    /// Close on the first win.
    pub close_on_win: bool,
    /// Number of secrets.
    pub secrets: u32,
    /// The track's own parameters, checked.
    pub params: TrackFields,
}

impl ChallengeSpec {
    /// Parses a TOML definition, as `challenge create --file` reads it (docs/OPERATING.md).
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        toml::from_str(text).map_err(|e| Error::invalid("file", e.to_string()))
    }

    /// Checks every field (errors name it) and resolves times against `now`.
    pub fn validate(self, now: u64) -> Result<ValidSpec, Error> {
        let title = self.title.trim().to_owned();
        if title.is_empty() || title.len() > MAX_TITLE_LEN || title.contains(['\n', '\r']) {
            return Err(Error::invalid(
                "title",
                format!("expected one line of 1 to {MAX_TITLE_LEN} bytes"),
            ));
        }
        if self.rules.trim().is_empty() || self.rules.len() > MAX_RULES_LEN {
            return Err(Error::invalid(
                "rules",
                format!("expected 1 to {MAX_RULES_LEN} bytes of text"),
            ));
        }
        let track = by_name(&self.track)
            .ok_or_else(|| Error::invalid("track", format!("expected one of {:?}", names())))?;
        if self.bounty.is_empty() || self.bounty.len() > MAX_BOUNTIES {
            return Err(Error::invalid(
                "bounty",
                "expected a bounty for at least one kind of win",
            ));
        }
        for (kind, text) in &self.bounty {
            if !track.win_kinds().contains(&kind.as_str()) {
                return Err(Error::invalid(
                    format!("bounty.{kind}"),
                    format!(
                        "unknown kind of win; expected one of {:?}",
                        track.win_kinds()
                    ),
                ));
            }
            if text.trim().is_empty() || text.len() > MAX_BOUNTY_LEN || text.contains('\n') {
                return Err(Error::invalid(
                    format!("bounty.{kind}"),
                    format!("expected one line of 1 to {MAX_BOUNTY_LEN} bytes"),
                ));
            }
        }
        let s = &self.schedule;
        if !(1..=MAX_MESSAGES).contains(&s.messages) {
            return Err(Error::invalid(
                "schedule.messages",
                format!("expected 1 to {MAX_MESSAGES}"),
            ));
        }
        if !(1..=MAX_INTERVAL_SECS).contains(&s.interval_secs) {
            return Err(Error::invalid(
                "schedule.interval_secs",
                format!("expected 1 to {MAX_INTERVAL_SECS}"),
            ));
        }
        let start_at = match (s.start_at, s.start_in_secs) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "schedule.start_at",
                    "give start_at or start_in_secs, not both",
                ));
            }
            (Some(at), None) if at < now => {
                return Err(Error::invalid(
                    "schedule.start_at",
                    "expected a time not in the past",
                ));
            }
            (Some(at), None) => at,
            (None, Some(secs)) if secs > MAX_INTERVAL_SECS * 365 => {
                return Err(Error::invalid("schedule.start_in_secs", "too far ahead"));
            }
            (None, Some(secs)) => now + secs,
            (None, None) => now + s.interval_secs,
        };
        let schedule = Schedule {
            messages: s.messages,
            interval_secs: s.interval_secs,
            start_at,
        };
        if schedule.last_time() > MAX_TIME {
            return Err(Error::invalid(
                "schedule.start_at",
                format!("expected the last message at or before {MAX_TIME} (Unix seconds)"),
            ));
        }
        let deadline = match (self.deadline, self.deadline_after_last_secs) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(
                    "deadline",
                    "give deadline or deadline_after_last_secs, not both",
                ));
            }
            (Some(d), None) if d < schedule.last_time() => {
                return Err(Error::invalid(
                    "deadline",
                    format!(
                        "expected a time at or after the last message ({})",
                        schedule.last_time()
                    ),
                ));
            }
            (Some(d), None) if d > MAX_TIME => {
                return Err(Error::invalid(
                    "deadline",
                    format!("expected a time at or before {MAX_TIME} (Unix seconds)"),
                ));
            }
            (Some(d), None) => d,
            (None, after) => {
                let d = schedule
                    .last_time()
                    .saturating_add(after.unwrap_or(60).min(MAX_INTERVAL_SECS * 365));
                if d > MAX_TIME {
                    return Err(Error::invalid(
                        "deadline_after_last_secs",
                        format!("expected a close at or before {MAX_TIME} (Unix seconds)"),
                    ));
                }
                d
            }
        };
        // A request-driven track hides one secret per session, not in a schedule.
        let max_secrets = MAX_SECRETS.min(u32::try_from(s.messages).unwrap_or(u32::MAX));
        if track.sessions().is_none() && !(1..=max_secrets).contains(&self.secrets) {
            return Err(Error::invalid(
                "secrets",
                format!("expected 1 to {max_secrets} (at most one per message)"),
            ));
        }
        let window = self
            .reveal_window_secs
            .unwrap_or(DEFAULT_REVEAL_WINDOW_SECS);
        if !(1..=MAX_REVEAL_WINDOW_SECS).contains(&window) {
            return Err(Error::invalid(
                "reveal_window_secs",
                format!("expected 1 to {MAX_REVEAL_WINDOW_SECS} seconds"),
            ));
        }
        let reveal_deadline = deadline.saturating_add(window);
        if reveal_deadline > MAX_TIME {
            return Err(Error::invalid(
                "reveal_window_secs",
                format!("expected a reveal deadline at or before {MAX_TIME} (Unix seconds)"),
            ));
        }
        let params = track.check_params(&self.params, &schedule)?;
        Ok(ValidSpec {
            title,
            rules: self.rules,
            track,
            bounty: self.bounty,
            schedule,
            deadline,
            reveal_deadline,
            close_on_win: self.close_on_win,
            secrets: self.secrets,
            params,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scheduler's and verify's count: entry k is due strictly after its time has begun.
    #[test]
    fn entries_before_counts_the_schedule() {
        let schedule = Schedule {
            messages: 3,
            interval_secs: 10,
            start_at: 100,
        };
        let due: Vec<u64> = [0, 100, 101, 110, 111, 130, 131, u64::MAX]
            .map(|t| schedule.entries_before(t))
            .to_vec();
        assert_eq!(due, [0, 0, 1, 1, 2, 3, 4, 4]);
        for k in 0..schedule.entries() {
            let t = schedule.time_of(k);
            assert_eq!(schedule.entries_before(t), k);
            assert_eq!(schedule.entries_before(t + 1), k + 1);
        }
        let burst = Schedule {
            interval_secs: 0,
            ..schedule
        };
        assert_eq!(
            (burst.entries_before(100), burst.entries_before(101)),
            (0, 4)
        );
    }

    const DEFINITION: &str = "title = \"t\"\nrules = \"r\"\n[bounty]\nsecret = \"1\"\n\
                              [schedule]\nmessages = 4\ninterval_secs = 1\n";

    #[test]
    fn a_definitions_params_reach_its_track() {
        let spec = ChallengeSpec::from_toml(DEFINITION).unwrap();
        assert_eq!(spec.track, "passive", "the first track is the default");
        assert!(spec.params.is_empty());
        let valid = spec.validate(1_700_000_000).unwrap();
        assert_eq!(valid.track.name(), "passive");
        // The passive track takes no parameters: the error names the field.
        let with = format!("{DEFINITION}[params]\nrounds = 3\n");
        match ChallengeSpec::from_toml(&with)
            .unwrap()
            .validate(1_700_000_000)
        {
            Err(Error::Invalid { field, .. }) => assert_eq!(field, "params.rounds"),
            other => panic!("{other:?}"),
        }
        let json: ChallengeSpec = serde_json::from_str(
            r#"{"title":"t","rules":"r","bounty":{"secret":"1"},"params":{"a":1,"b":[2]},
                "schedule":{"messages":4,"interval_secs":1}}"#,
        )
        .unwrap();
        assert_eq!(
            json.params
                .0
                .iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"],
            "in order"
        );
        match ChallengeSpec::from_toml(&DEFINITION.replace("title", "track = \"chess\"\ntitle"))
            .unwrap()
            .validate(1_700_000_000)
        {
            Err(Error::Invalid { field, message }) => {
                assert_eq!(field, "track");
                assert!(message.contains("passive"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn track_fields_keep_their_order_in_place() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Doc {
            first: u32,
            #[serde(flatten)]
            fields: TrackFields,
            last: u32,
        }
        let doc = Doc {
            first: 1,
            fields: TrackFields(vec![
                ("zeta".to_owned(), serde_json::json!(2)),
                ("alpha".to_owned(), serde_json::json!("x")),
            ]),
            last: 3,
        };
        let text = serde_json::to_string(&doc).unwrap();
        assert_eq!(text, r#"{"first":1,"zeta":2,"alpha":"x","last":3}"#);
        assert_eq!(serde_json::from_str::<Doc>(&text).unwrap(), doc);
        let many: String = (0..=MAX_TRACK_FIELDS)
            .map(|i| format!(",\"f{i}\":0"))
            .collect();
        assert!(serde_json::from_str::<Doc>(&format!("{{\"first\":1,\"last\":3{many}}}")).is_err());
    }
}
