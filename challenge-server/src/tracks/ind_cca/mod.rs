//! The `ind-cca` track (a theoretical break counts): per-claimant games of the stateful
//! left-or-right CCA game on the target's ratchet messages, in the style of Bellare, Kohno and
//! Namprempre's IND-sfCCA for stateful channels (docs/THREAT-MODEL.md defines it). Each game
//! has two bots, Alice and Bob, whose session is set up at the open. Commands, with published
//! per-game budgets: `challenge` (round `i`: the sender encrypts `m_b`, `b` the round's bit),
//! `encrypt` (the encryption oracle), `decrypt` (the decryption oracle on the receiver's live
//! state: the plaintext, `refused`, or `challenge` for the pending challenge ciphertext, which
//! is then delivered) and `guess` (once: every round's bit). The guesses are judged at once
//! with the exact binomial judge ([`threshold`]); a win (`ind-cca`) is logged at that moment.
//!
//! Each challenge ciphertext is delivered to its receiver by the server, in order: when the
//! claimant submits its exact bytes to the decryption oracle, else when the next challenge in
//! the same direction is made, else at the guess. So at most one is pending per direction, and
//! the claimant's oracle queries never push a receiver past its skip cap because of them.
//!
//! Derivation, from the challenge's master seed: game `g` has its own seed
//! `sub = derive("ind-cca/game", g)`, under which `party/alice` and `party/bob` (i = 0)
//! generate the bots (Bob with one one-time X25519 and one one-time ML-KEM prekey), `command`
//! (i = k) is all randomness of record entry `k` (entry 0: the session's set-up), and `bit`
//! (i = round) is round `i`'s bit (`u64be(first 8 bytes) mod 2`).

mod game;
#[cfg(test)]
mod tests;
pub mod threshold;

use super::sessions::IntegerParams;
use super::{
    ClaimBody, Entry, Judgement, Parties, Public, Record, Schedule, Setup, SolveReport,
    TrackFields, TrackSpec,
};
use crate::Error;
use crate::seed::MasterSeed;
use crate::targets::Target;

pub use game::{Answer, Bot, Command, GameState, Opened, Outcome, round_bit};

/// The track.
#[derive(Clone, Copy, Debug, Default)]
pub struct IndCca;

/// The labels of a game's derivation.
pub mod label {
    /// The root of game `g`'s own seed, under the challenge's master seed.
    pub const GAME: &str = "ind-cca/game";
    /// All randomness of record entry `k`.
    pub const COMMAND: &str = "command";
    /// Round `i`'s bit.
    pub const BIT: &str = "bit";
}

/// The label of a game's record `head_0`.
pub const RECORD_LABEL: &[u8] = b"challenge-server/v1/ind-cca-record\n";

/// Most rounds per game: a guess of this many bits is 12,500 hex digits, within the server's
/// default request body cap of 16 KiB (the judge itself takes up to [`threshold::MAX_ROUNDS`]).
pub const MAX_GAME_ROUNDS: u64 = 50_000;
/// Longest `m0`, `m1` or `plaintext`, in bytes.
pub const MAX_PLAINTEXT_LEN: usize = 1024;
/// Longest byte string `decrypt` takes.
pub const MAX_DECRYPT_LEN: usize = 16 * 1024;
/// Longest command JSON.
pub const MAX_COMMAND_LEN: usize = 2 * MAX_DECRYPT_LEN + 1024;
/// Longest device state a [`GameState`] holds.
pub const MAX_DEVICE_STATE_LEN: usize = 1 << 20;

/// Most oracle calls (`encrypt` and `decrypt`) per game.
pub const MAX_ORACLE_CALLS: u64 = 1_000_000;
/// Most games a claimant may open per hour.
pub const MAX_GAMES_PER_CLAIMANT_PER_HOUR: u64 = 1_000;
/// Longest idle time before a game expires, in seconds (a week).
pub const MAX_IDLE_EXPIRY_SECS: u64 = 7 * 86_400;
/// Most games per challenge.
pub const MAX_GAMES: u64 = 1_000_000;

/// The track's parameters, as published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// Rounds (`challenge` commands) per game: above the 3,631 an advantage of 0.05 needs at
    /// the default games cap.
    pub rounds: u64,
    /// Oracle calls (`encrypt` and `decrypt`) per game.
    pub oracle_calls: u64,
    /// Games a claimant may open per hour.
    pub games_per_claimant_per_hour: u64,
    /// Seconds without a command after which a game is expired.
    pub idle_expiry_secs: u64,
    /// Hashcash bits to open a game (0: none).
    pub pow_bits: u64,
    /// Games per challenge (`G` of the judge): game numbers are `0..max_games`.
    pub max_games: u64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            rounds: 10_000,
            oracle_calls: 40_000,
            games_per_claimant_per_hour: 20,
            idle_expiry_secs: 3_600,
            pow_bits: 0,
            max_games: 1_000,
        }
    }
}

impl IntegerParams for Params {
    /// Each parameter's name and its range.
    const RANGES: &'static [(&'static str, u64, u64)] = &[
        ("rounds", 1, MAX_GAME_ROUNDS),
        ("oracle_calls", 0, MAX_ORACLE_CALLS),
        (
            "games_per_claimant_per_hour",
            1,
            MAX_GAMES_PER_CLAIMANT_PER_HOUR,
        ),
        ("idle_expiry_secs", 1, MAX_IDLE_EXPIRY_SECS),
        ("pow_bits", 0, crate::pow::MAX_POW_BITS as u64),
        ("max_games", 1, MAX_GAMES),
    ];

    fn slot(&mut self, name: &str) -> Option<&mut u64> {
        Some(match name {
            "rounds" => &mut self.rounds,
            "oracle_calls" => &mut self.oracle_calls,
            "games_per_claimant_per_hour" => &mut self.games_per_claimant_per_hour,
            "idle_expiry_secs" => &mut self.idle_expiry_secs,
            "pow_bits" => &mut self.pow_bits,
            "max_games" => &mut self.max_games,
            _ => return None,
        })
    }
}

impl Params {
    /// Most entries a game's record can hold: the open, every round and oracle call, the guess.
    pub fn max_entries(&self) -> u64 {
        2 + self.rounds + self.oracle_calls
    }
}

/// Game `g`'s own seed: `derive("ind-cca/game", g)`.
pub fn game_seed(seed: &MasterSeed, g: u64) -> Result<MasterSeed, Error> {
    Ok(MasterSeed::from_bytes(*seed.derive(label::GAME, g)?))
}

/// The solver of a track that publishes no transcript.
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

impl super::Track for IndCca {
    fn name(&self) -> &'static str {
        "ind-cca"
    }

    fn win_kinds(&self) -> &'static [&'static str] {
        &["ind-cca", "finding"]
    }

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

    /// No parties at creation: every game has its own, from its own seed.
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

    fn step(
        &self,
        _seed: &MasterSeed,
        _public: &Public,
        k: u64,
        _parties: &mut Parties,
    ) -> Result<Entry, Error> {
        Err(Error::internal(format!(
            "transcript entry {k}: this track is driven by its games' commands, not scheduled"
        )))
    }

    fn solver(
        &self,
        _target: &'static dyn Target,
        _seed: &MasterSeed,
        _public: &Public,
    ) -> Result<Box<dyn super::Solver>, Error> {
        Ok(Box::new(NoTranscript::default()))
    }

    /// Its win is judged when the guess is made, never claimed: only a finding is.
    fn judge(
        &self,
        _target: &dyn Target,
        _seed: &MasterSeed,
        _public: &Public,
        claim: &ClaimBody,
    ) -> Result<Judgement, Error> {
        Ok(match claim {
            ClaimBody::Finding { .. } => Judgement::NeedsReview,
            _ => Judgement::Invalid,
        })
    }

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

impl super::Sessions for IndCca {
    fn limits(&self, public: &Public) -> Result<super::SessionLimits, Error> {
        let p = Params::from_fields(&public.params)?;
        Ok(super::SessionLimits {
            max_sessions: p.max_games,
            per_claimant_per_hour: p.games_per_claimant_per_hour,
            idle_expiry_secs: p.idle_expiry_secs,
            pow_bits: p.pow_bits,
        })
    }

    fn record(&self, challenge: &str, g: u64) -> Record {
        Record::start(RECORD_LABEL, challenge, g)
    }

    fn open(
        &self,
        target: &dyn Target,
        seed: &MasterSeed,
        public: &Public,
        challenge: &str,
        g: u64,
        claimant: &str,
        now: u64,
    ) -> Result<super::Opened, Error> {
        let opened = game::open(target, seed, public, challenge, g, claimant, now)?;
        Ok(super::Opened {
            state: opened.state.to_bytes(),
            public: opened.public,
            record: opened.record,
            entry: opened.entry,
        })
    }

    fn parse(&self, command: &[u8]) -> Result<(), Error> {
        Command::from_json(command).map(|_| ())
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
        let mut state = GameState::from_bytes(target, state)
            .map_err(|e| Error::internal(format!("game state: {e}")))?;
        let outcome = game::run(seed, public, &mut state, record, now, &input)?;
        Ok(super::Outcome {
            answer: serde_json::to_vec(&outcome.answer)?,
            entry: outcome.entry,
            state: state.to_bytes(),
            win: outcome.win.map(|evidence| super::Win {
                kind: "ind-cca",
                evidence,
            }),
        })
    }

    fn replay(
        &self,
        target: &dyn Target,
        seed: &MasterSeed,
        public: &Public,
        challenge: &str,
        g: u64,
        entries: &[Vec<u8>],
        head: &[u8; 32],
    ) -> Result<super::ReplayReport, String> {
        let (entries, head, wins) =
            game::replay(target, seed, public, challenge, g, entries, head)?;
        Ok(super::ReplayReport {
            entries,
            head,
            wins: wins
                .into_iter()
                .map(|w| super::ReplayedWin {
                    k: w.k,
                    head: w.head,
                    kind: "ind-cca",
                    evidence: w.evidence,
                })
                .collect(),
        })
    }
}
