//! The `mitm` track (Telegram 2014, made rigorous): each claimant opens isolated sessions, and
//! is the wire between two bots, Alice and Bob. Nothing a bot sends reaches the other unless
//! the claimant delivers it, modified or not. Commands with published per-session budgets:
//! `fetch-bundle` (Bob's bundle, which the claimant may deliver to Alice, changed or not),
//! `ask` (a bot sends a message; the session's 128-bit secret is in one of the first ten),
//! `txt` (a bot encrypts the claimant's plaintext) and `deliver` (the validity oracle:
//! `accepted` or `refused`, nothing else). Wins: `secret`; `forgery` (a bot accepted a message
//! that is not one of its peer's encryptions in the session, or accepted one twice: INT-CTXT
//! for a stateful channel, awarded when it happens); `key` (a bot's long-term private key);
//! `finding`.
//!
//! This module is the sans-IO core: pure functions of the seed, the published parameters and
//! the recorded inputs ([`super::Sessions`]). Storage, HTTP, rate limits, proof-of-work and log
//! events are the caller's.
//!
//! Derivation, from the challenge's master seed (docs/API.md, "Derivation"): session `s` has
//! its own seed `sub = derive("mitm/session", s)`, under which `party/alice` and `party/bob`
//! (i = 0) generate the bots as the passive track's parties (Bob with one one-time X25519 and
//! one one-time ML-KEM prekey), `command` (i = k) is all randomness of record entry `k`,
//! `secret` and `secret-salt` (i = 0) are the session's secret and its commitment's salt,
//! `secret-position` (i = 0) picks which of the first ten asks carries it
//! (`u64be(first 8 bytes) mod 10`, 0-based among the session's asks, from either bot), and
//! `filler` (i = a) the filler sentence of ask `a`.

mod command;
mod record;
mod session;
#[cfg(test)]
mod tests;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::sessions::IntegerParams;
use super::{
    ClaimBody, Entry, Judgement, Parties, Public, Schedule, Setup, SolveReport, TrackFields,
    TrackSpec,
};
use crate::Error;
use crate::seed::MasterSeed;
use crate::targets::Target;

pub use command::{Answer, Bot, Command, CommandError, Forgery, Outcome};
pub use record::{RECORD_LABEL, Record, RecordEntry};
pub use session::{Opened, ReplayReport, ReplayedForgery, SessionState, StateError};

/// The track.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mitm;

/// The labels of a session's derivation, under its own seed ([`session_seed`]).
pub mod label {
    /// The root of session `s`'s own seed, under the challenge's master seed.
    pub const SESSION: &str = "mitm/session";
    /// All randomness of record entry `k`.
    pub const COMMAND: &str = "command";
}

/// Asks that may carry the secret: it is in one of the first this many.
pub const SECRET_ASKS: u64 = 10;
/// Longest plaintext of a `txt` command, in bytes.
pub const MAX_TXT_LEN: usize = 1024;
/// Longest byte string a `deliver` command takes (a bundle with its one-time prekeys is about
/// 4 KiB, a message of [`MAX_TXT_LEN`] bytes about 2 KiB).
pub const MAX_DELIVER_LEN: usize = 16 * 1024;
/// Longest command JSON [`Command::from_json`] reads.
pub const MAX_COMMAND_LEN: usize = 2 * MAX_DELIVER_LEN + 1024;
/// Longest record entry (a deliver's bytes or a bundle as hex, and the rest).
pub const MAX_ENTRY_LEN: usize = 2 * MAX_COMMAND_LEN;
/// Most SHA-256 digests of one bot's encryptions a [`SessionState`] holds (one per `ask` and
/// `txt`).
pub const MAX_SENT: usize = (MAX_ASKS + MAX_TXT) as usize;
/// Most SHA-256 digests of one bot's accepted messages a [`SessionState`] holds (one per
/// `deliver`).
pub const MAX_ACCEPTED: usize = MAX_DELIVER as usize;
/// Longest device state a [`SessionState`] holds.
pub const MAX_DEVICE_STATE_LEN: usize = 1 << 20;

/// Most `ask` commands per session.
pub const MAX_ASKS: u64 = 1_000;
/// Most `txt` commands per session.
pub const MAX_TXT: u64 = 10_000;
/// Most `deliver` commands per session.
pub const MAX_DELIVER: u64 = 100_000;
/// Most `fetch-bundle` commands per session.
pub const MAX_FETCH_BUNDLE: u64 = 1_000;
/// Most sessions a claimant may open per hour.
pub const MAX_SESSIONS_PER_CLAIMANT_PER_HOUR: u64 = 1_000;
/// Longest idle time before a session expires, in seconds (a week).
pub const MAX_IDLE_EXPIRY_SECS: u64 = 7 * 86_400;
/// Most leading zero bits a proof-of-work may ask for ([`crate::pow::MAX_POW_BITS`]).
pub const MAX_POW_BITS: u64 = crate::pow::MAX_POW_BITS as u64;
/// Most sessions per challenge.
pub const MAX_SESSIONS: u64 = 1_000_000;

/// The track's parameters, as published: every budget of a session and the limits on opening
/// them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// `ask` commands per session (at least [`SECRET_ASKS`], so the secret can be asked for).
    pub asks: u64,
    /// `txt` commands per session.
    pub txt: u64,
    /// `deliver` commands per session.
    pub deliver: u64,
    /// `fetch-bundle` commands per session.
    pub fetch_bundle: u64,
    /// Sessions a claimant may open per hour.
    pub sessions_per_claimant_per_hour: u64,
    /// Seconds without a command after which a session is expired.
    pub idle_expiry_secs: u64,
    /// Hashcash bits to open a session (0: none).
    pub pow_bits: u64,
    /// Sessions per challenge: session numbers are `0..max_sessions`.
    pub max_sessions: u64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            asks: 10,
            txt: 1_000,
            deliver: 10_000,
            fetch_bundle: 100,
            sessions_per_claimant_per_hour: 20,
            idle_expiry_secs: 3_600,
            pow_bits: 0,
            max_sessions: 10_000,
        }
    }
}

impl IntegerParams for Params {
    /// Each parameter's name and its range.
    const RANGES: &'static [(&'static str, u64, u64)] = &[
        ("asks", SECRET_ASKS, MAX_ASKS),
        ("txt", 0, MAX_TXT),
        ("deliver", 0, MAX_DELIVER),
        ("fetch_bundle", 0, MAX_FETCH_BUNDLE),
        (
            "sessions_per_claimant_per_hour",
            1,
            MAX_SESSIONS_PER_CLAIMANT_PER_HOUR,
        ),
        ("idle_expiry_secs", 1, MAX_IDLE_EXPIRY_SECS),
        ("pow_bits", 0, MAX_POW_BITS),
        ("max_sessions", 1, MAX_SESSIONS),
    ];

    fn slot(&mut self, name: &str) -> Option<&mut u64> {
        Some(match name {
            "asks" => &mut self.asks,
            "txt" => &mut self.txt,
            "deliver" => &mut self.deliver,
            "fetch_bundle" => &mut self.fetch_bundle,
            "sessions_per_claimant_per_hour" => &mut self.sessions_per_claimant_per_hour,
            "idle_expiry_secs" => &mut self.idle_expiry_secs,
            "pow_bits" => &mut self.pow_bits,
            "max_sessions" => &mut self.max_sessions,
            _ => return None,
        })
    }
}

impl Params {
    /// The budget of the command named `name` (a [`CommandError::Budget`] names it).
    fn budget(&self, name: &str) -> u64 {
        match name {
            "asks" => self.asks,
            "txt" => self.txt,
            "deliver" => self.deliver,
            "fetch_bundle" => self.fetch_bundle,
            _ => 0,
        }
    }

    /// Most entries a session's record can hold: the open and every budgeted command.
    pub fn max_entries(&self) -> u64 {
        1 + self.asks + self.txt + self.deliver + self.fetch_bundle
    }
}

impl Mitm {
    /// [`super::Sessions::replay`] of a record whose entry 0 the caller opened itself:
    /// `opened`, what [`super::Sessions::open`] returned for the record's challenge, session,
    /// claimant and time, stands for the regeneration of entry 0, which must equal
    /// `entries[0]`; every later entry is replayed on a copy of its state exactly as there, to
    /// the same report. For a caller that replays many records of one opening (a fuzz
    /// target) and has checked that opening once; `verify` regenerates every open.
    pub fn replay_opened(
        &self,
        seed: &MasterSeed,
        public: &Public,
        opened: &Opened,
        entries: &[Vec<u8>],
        head: &[u8; 32],
    ) -> Result<ReplayReport, String> {
        session::replay_opened(seed, public, opened, entries, head)
    }
}

/// Session `s`'s own seed: `derive("mitm/session", s)`.
pub fn session_seed(seed: &MasterSeed, s: u64) -> Result<MasterSeed, Error> {
    Ok(MasterSeed::from_bytes(*seed.derive(label::SESSION, s)?))
}

/// The solver of a track that publishes no transcript: nothing to solve (each session's
/// secret is checked by [`Mitm::replay`] of [`super::Sessions`] instead).
#[derive(Debug, Default)]
struct NoTranscript {
    report: Option<String>,
}

impl super::Solver for NoTranscript {
    fn next_index(&self) -> u64 {
        0
    }

    fn feed(&mut self, entry: &Entry) -> Result<(), Error> {
        self.report
            .get_or_insert_with(|| format!("entry {}: this track publishes none", entry.index));
        Ok(())
    }

    fn report(&self) -> SolveReport {
        empty_report(self.report.clone())
    }
}

fn empty_report(problem: Option<String>) -> SolveReport {
    SolveReport {
        entries_checked: 0,
        secrets_confirmed: 0,
        secrets_pending: 0,
        problem,
        ..SolveReport::default()
    }
}

impl super::Track for Mitm {
    fn name(&self) -> &'static str {
        "mitm"
    }

    fn win_kinds(&self) -> &'static [&'static str] {
        &["secret", "forgery", "key", "finding"]
    }

    /// Request-driven: no transcript entry is ever scheduled.
    fn due(&self, _schedule: &Schedule, _time: u64) -> u64 {
        0
    }

    fn check_params(
        &self,
        params: &TrackFields,
        _schedule: &Schedule,
    ) -> Result<TrackFields, Error> {
        Ok(Params::from_fields(params)?.to_fields())
    }

    /// No parties and no secrets at creation: every session has its own, from its own seed.
    fn setup(
        &self,
        _target: &dyn Target,
        _seed: &MasterSeed,
        _spec: &TrackSpec,
    ) -> Result<Setup, Error> {
        Ok(Setup {
            parties: Parties::default(),
            bundles: Vec::new(),
            secrets: Vec::new(),
            event_fields: TrackFields::default(),
        })
    }

    /// Refused: the track is request-driven ([`super::Sessions`]), never scheduled.
    fn step(
        &self,
        _seed: &MasterSeed,
        _public: &Public,
        k: u64,
        _parties: &mut Parties,
    ) -> Result<Entry, Error> {
        Err(Error::internal(format!(
            "transcript entry {k}: this track is driven by its sessions' commands, not scheduled"
        )))
    }

    /// The track publishes no transcript entries: the solver has nothing to solve, and an
    /// entry fed to it is a problem.
    fn solver(
        &self,
        _target: &'static dyn Target,
        _seed: &MasterSeed,
        _public: &Public,
    ) -> Result<Box<dyn super::Solver>, Error> {
        Ok(Box::new(NoTranscript::default()))
    }

    fn judge(
        &self,
        target: &dyn Target,
        seed: &MasterSeed,
        public: &Public,
        claim: &ClaimBody,
    ) -> Result<Judgement, Error> {
        let params = Params::from_fields(&public.params)?;
        let valid = match claim {
            ClaimBody::SessionSecret { session, secret } => {
                *session < params.max_sessions && {
                    let sub = session_seed(seed, *session)?;
                    bool::from(session::secret(&sub)?.as_slice().ct_eq(secret.as_slice()))
                }
            }
            ClaimBody::Key {
                session,
                party,
                key,
                private,
            } => match Bot::by_name(party) {
                Some(bot) if *session < params.max_sessions => {
                    let sub = session_seed(seed, *session)?;
                    let identity = session::bot(target, &sub, bot)?.public_identity();
                    target.check_identity_key(&identity, *key, private)
                }
                _ => false,
            },
            // A transcript message: this track publishes none.
            ClaimBody::Secret { .. } | ClaimBody::PropertySecret { .. } => false,
            ClaimBody::Finding { .. } => return Ok(Judgement::NeedsReview),
        };
        Ok(if valid {
            Judgement::Valid
        } else {
            Judgement::Invalid
        })
    }

    /// The track publishes no transcript entries: none is the empty report, any is an error
    /// (its sessions are replayed by [`super::Sessions::replay`]).
    fn replay(
        &self,
        _target: &'static dyn Target,
        _seed: &MasterSeed,
        _public: &Public,
        published: &[Entry],
    ) -> Result<SolveReport, String> {
        match published.first() {
            None => Ok(empty_report(None)),
            Some(e) => Err(format!(
                "transcript entry {}: this track publishes none",
                e.index
            )),
        }
    }

    fn sessions(&self) -> Option<&dyn super::Sessions> {
        Some(self)
    }
}

/// The track's sessions with its own types: the core that [`super::Sessions`] (JSON
/// commands, state bytes) wraps, and that the track's tests and fuzz target drive directly.
pub trait Sessions {
    /// [`super::Sessions::limits`].
    fn limits(&self, public: &Public) -> Result<super::SessionLimits, Error>;

    /// [`super::Sessions::open`], the state as [`SessionState`].
    #[allow(clippy::too_many_arguments)]
    fn open(
        &self,
        target: &dyn Target,
        seed: &MasterSeed,
        public: &Public,
        challenge: &str,
        s: u64,
        claimant: &str,
        now: u64,
    ) -> Result<Opened, Error>;

    /// [`super::Sessions::command`] on a parsed [`Command`] and a [`SessionState`]: a
    /// [`CommandError`] is decided from public state before any call to the target, and
    /// changes and records nothing; every command that reaches the target changes `state` and
    /// appends exactly one entry to `record` (the outcome's `entry`).
    #[allow(clippy::too_many_arguments)]
    fn command(
        &self,
        target: &dyn Target,
        seed: &MasterSeed,
        public: &Public,
        state: &mut SessionState,
        record: &mut Record,
        now: u64,
        input: &Command,
    ) -> Result<Outcome, CommandError>;

    /// [`super::Sessions::replay`], every forgery with what the bot accepted.
    #[allow(clippy::too_many_arguments)]
    fn replay(
        &self,
        target: &dyn Target,
        seed: &MasterSeed,
        public: &Public,
        challenge: &str,
        s: u64,
        entries: &[Vec<u8>],
        head: &[u8; 32],
    ) -> Result<ReplayReport, String>;
}

impl Sessions for Mitm {
    fn limits(&self, public: &Public) -> Result<super::SessionLimits, Error> {
        let p = Params::from_fields(&public.params)?;
        Ok(super::SessionLimits {
            max_sessions: p.max_sessions,
            per_claimant_per_hour: p.sessions_per_claimant_per_hour,
            idle_expiry_secs: p.idle_expiry_secs,
            pow_bits: p.pow_bits,
        })
    }

    fn open(
        &self,
        target: &dyn Target,
        seed: &MasterSeed,
        public: &Public,
        challenge: &str,
        s: u64,
        claimant: &str,
        now: u64,
    ) -> Result<Opened, Error> {
        session::open(target, seed, public, challenge, s, claimant, now)
    }

    /// The bots are the state's devices: `target` is not called otherwise.
    fn command(
        &self,
        _target: &dyn Target,
        seed: &MasterSeed,
        public: &Public,
        state: &mut SessionState,
        record: &mut Record,
        now: u64,
        input: &Command,
    ) -> Result<Outcome, CommandError> {
        command::run(seed, public, state, record, now, input)
    }

    fn replay(
        &self,
        target: &dyn Target,
        seed: &MasterSeed,
        public: &Public,
        challenge: &str,
        s: u64,
        entries: &[Vec<u8>],
        head: &[u8; 32],
    ) -> Result<ReplayReport, String> {
        session::replay(target, seed, public, challenge, s, entries, head)
    }
}

/// The evidence of a `forgery` (what the bot accepted), as sealed until the close and
/// published after it.
#[derive(serde::Serialize)]
struct Evidence<'a> {
    to: &'a str,
    content_type: u8,
    sent_at: u64,
    ttl: u32,
    plaintext: String,
}

impl Forgery {
    /// Its evidence's JSON: `{"to", "content_type", "sent_at", "ttl", "plaintext"}`, the
    /// plaintext hex.
    fn evidence(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let plaintext = Zeroizing::new(hex::encode(self.plaintext.as_slice()));
        Ok(Zeroizing::new(serde_json::to_vec(&Evidence {
            to: self.to.name(),
            content_type: self.content_type,
            sent_at: self.sent_at,
            ttl: self.ttl,
            plaintext: plaintext.to_string(),
        })?))
    }
}

/// The track-neutral interface over [`Sessions`]: commands as JSON ([`Command::from_json`]),
/// the state as [`SessionState::to_bytes`], a forgery as the win `forgery` with its evidence.
impl super::Sessions for Mitm {
    fn limits(&self, public: &Public) -> Result<super::SessionLimits, Error> {
        Sessions::limits(self, public)
    }

    fn record(&self, challenge: &str, s: u64) -> Record {
        Record::new(challenge, s)
    }

    fn open(
        &self,
        target: &dyn Target,
        seed: &MasterSeed,
        public: &Public,
        challenge: &str,
        s: u64,
        claimant: &str,
        now: u64,
    ) -> Result<super::Opened, Error> {
        let opened = Sessions::open(self, target, seed, public, challenge, s, claimant, now)?;
        Ok(super::Opened {
            state: opened.state.to_bytes(),
            public: opened.public,
            record: opened.record,
            entry: opened.entry,
        })
    }

    fn parse(&self, command: &[u8]) -> Result<(), Error> {
        Command::from_json(command).map(|_| ()).map_err(Error::from)
    }

    fn command(
        &self,
        target: &dyn Target,
        seed: &MasterSeed,
        public: &Public,
        state: &[u8],
        record: &mut Record,
        now: u64,
        command: &[u8],
    ) -> Result<super::Outcome, Error> {
        let input = Command::from_json(command)?;
        let mut state = SessionState::from_bytes(target, state)
            .map_err(|e| Error::internal(format!("session state: {e}")))?;
        let outcome =
            Sessions::command(self, target, seed, public, &mut state, record, now, &input)?;
        let win = match &outcome.answer {
            Answer::Accepted { win: Some(forgery) } => Some(super::Win {
                kind: "forgery",
                evidence: forgery.evidence()?,
            }),
            _ => None,
        };
        Ok(super::Outcome {
            answer: outcome.answer.public(),
            entry: outcome.entry,
            state: state.to_bytes(),
            win,
        })
    }

    fn replay(
        &self,
        target: &dyn Target,
        seed: &MasterSeed,
        public: &Public,
        challenge: &str,
        s: u64,
        entries: &[Vec<u8>],
        head: &[u8; 32],
    ) -> Result<super::ReplayReport, String> {
        let report = Sessions::replay(self, target, seed, public, challenge, s, entries, head)?;
        let mut wins = Vec::with_capacity(report.forgeries.len());
        for f in &report.forgeries {
            wins.push(super::ReplayedWin {
                k: f.k,
                head: f.head,
                kind: "forgery",
                evidence: f.forgery.evidence().map_err(|e| e.to_string())?,
            });
        }
        Ok(super::ReplayReport {
            entries: report.entries,
            head: report.head,
            wins,
        })
    }
}
