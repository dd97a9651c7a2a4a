//! The request-driven part of a track (DESIGN section 7, "Track interface"): sessions (or
//! games) that claimants open and drive one command at a time, each recorded in a hash-chained
//! [`Record`]. The interface is track-neutral: a command arrives as JSON text that the track
//! parses (its errors name the field), the state between commands is the track's own bytes
//! (sealed by the lifecycle), and an outcome is the answer's JSON, the record entry, the new
//! state and, if the command won, the kind of win and its evidence (JSON, sealed until the
//! close).

use core::fmt;

use zeroize::Zeroizing;

use super::{Public, Record, TrackFields};
use crate::Error;
use crate::seed::MasterSeed;
use crate::targets::Target;

/// A request-driven track's sessions. Pure functions of the seed, the published parameters
/// and the recorded inputs: the caller stores the state, the record entries and the head, and
/// makes each durable before it sends an answer.
pub trait Sessions: Send + Sync + fmt::Debug {
    /// The published limits on opening and keeping sessions, which the lifecycle enforces.
    fn limits(&self, public: &Public) -> Result<SessionLimits, Error>;

    /// The empty record of session `s` of `challenge` (its `head_0`, under the track's label).
    fn record(&self, challenge: &str, s: u64) -> Record;

    /// Opens session `s` (0 first, sequential per challenge) of `challenge` for `claimant` at
    /// `now`: its state, its published fields, and its record holding entry 0 (the open).
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

    /// Whether `command` (JSON text) is a command of this track; the error names the field.
    fn parse(&self, command: &[u8]) -> Result<(), Error>;

    /// Runs one command (JSON text) at `now` on the session whose state is `state`. An error
    /// is decided before any call to the target, and changes and records nothing; every
    /// command that reaches the target appends exactly one entry to `record` (the outcome's
    /// `entry`) and yields the new state.
    #[allow(clippy::too_many_arguments)]
    fn command(
        &self,
        target: &dyn Target,
        seed: &MasterSeed,
        public: &Public,
        state: &[u8],
        record: &mut Record,
        now: u64,
        command: &[u8],
    ) -> Result<Outcome, Error>;

    /// For `verify`: replays session `s` of `challenge` from the seed and its recorded entries
    /// (the exact bytes stored), regenerating every answer (the first difference is the error),
    /// and checks that the chain ends at `head` (the head the log holds); returns the wins it
    /// re-judged.
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

/// The limits on a request-driven track's sessions, from its published parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLimits {
    /// Sessions per challenge: session numbers are `0..max_sessions`.
    pub max_sessions: u64,
    /// Sessions a claimant may open per hour.
    pub per_claimant_per_hour: u64,
    /// Seconds without a command after which a session is expired.
    pub idle_expiry_secs: u64,
    /// Hashcash bits to open a session (0: none).
    pub pow_bits: u64,
}

/// A session just opened.
pub struct Opened {
    /// Its state, to be stored sealed.
    pub state: Zeroizing<Vec<u8>>,
    /// What is published about it when it opens (the `session-opened` event's fields).
    pub public: TrackFields,
    /// Its record after entry 0 (the open): the head the log holds at the open.
    pub record: Record,
    /// Entry 0's bytes, to be stored.
    pub entry: Vec<u8>,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("public", &self.public)
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// A win a command awarded when it ran (judged at that moment, its priority the log index of
/// the event that records it).
pub struct Win {
    /// The kind of win (a bounty key).
    pub kind: &'static str,
    /// Its evidence: a JSON object, sealed until the close and public after it.
    pub evidence: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for Win {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Win")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// What a command yields.
pub struct Outcome {
    /// The public answer, compact JSON: what the claimant is sent (and the record holds).
    pub answer: Vec<u8>,
    /// The record entry's bytes (already chained into the record).
    pub entry: Vec<u8>,
    /// The new state, to be stored sealed with the entry before the answer is sent.
    pub state: Zeroizing<Vec<u8>>,
    /// The win the command awarded, if any.
    pub win: Option<Win>,
}

impl fmt::Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outcome")
            .field("answer_len", &self.answer.len())
            .field("entry_len", &self.entry.len())
            .field("win", &self.win)
            .finish_non_exhaustive()
    }
}

/// What a replay of a record re-judged.
#[derive(Debug)]
pub struct ReplayReport {
    /// Entries replayed, the open included.
    pub entries: u64,
    /// The head after the last one (equal to the head given).
    pub head: [u8; 32],
    /// Every win, in order.
    pub wins: Vec<ReplayedWin>,
}

/// A win a replay re-judged: at record entry `k`, after which the record's head was `head`
/// (the head the log holds for the win).
pub struct ReplayedWin {
    /// The entry.
    pub k: u64,
    /// The head after it.
    pub head: [u8; 32],
    /// The kind of win.
    pub kind: &'static str,
    /// Its evidence, as the server sealed it.
    pub evidence: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for ReplayedWin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayedWin")
            .field("k", &self.k)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// A request-driven track's published budgets: integer parameters in a fixed order, each with
/// its range and its field, every one not given at its default. One parser for every track, so
/// each refuses a bad value with the same words, naming `params.<name>`.
pub trait IntegerParams: Default + Copy {
    /// Every parameter: name, least and greatest value, in the published order.
    const RANGES: &'static [(&'static str, u64, u64)];

    /// The field of parameter `name`.
    fn slot(&mut self, name: &str) -> Option<&mut u64>;

    /// The parameters of a definition (or as published): each given one checked against its
    /// range, the others their defaults. Errors name the field, `params.<name>`.
    fn from_fields(fields: &TrackFields) -> Result<Self, Error> {
        let mut params = Self::default();
        for (i, (name, value)) in fields.0.iter().enumerate() {
            let field = format!("params.{name}");
            if fields.0.iter().take(i).any(|(n, _)| n == name) {
                return Err(Error::invalid(field, "given twice"));
            }
            let Some((_, min, max)) = Self::RANGES.iter().find(|(n, _, _)| n == name) else {
                return Err(Error::invalid(
                    field,
                    format!(
                        "unknown parameter; expected one of {:?}",
                        Self::RANGES.iter().map(|(n, _, _)| *n).collect::<Vec<_>>()
                    ),
                ));
            };
            let in_range = value.as_u64().filter(|v| (*min..=*max).contains(v));
            let (Some(v), Some(slot)) = (in_range, params.slot(name)) else {
                return Err(Error::invalid(
                    field,
                    format!("expected an integer from {min} to {max}"),
                ));
            };
            *slot = v;
        }
        Ok(params)
    }

    /// The parameters as published: every one, in the order of [`Self::RANGES`].
    fn to_fields(&self) -> TrackFields {
        let mut copy = *self;
        TrackFields(
            Self::RANGES
                .iter()
                .map(|(name, _, _)| {
                    let value = copy.slot(name).map(|v| *v).unwrap_or_default();
                    ((*name).to_owned(), serde_json::Value::from(value))
                })
                .collect(),
        )
    }
}
