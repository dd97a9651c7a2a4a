//! The seizure track's health solver. Two solvers in one:
//!
//! - from the seed, as passive's: every published message decrypts at its receiver and every
//!   designated message holds its committed secret; the seizure entry is the seized party's
//!   state as the seed makes it;
//! - from the published seizure entry alone, as an attacker holding the seized device: every
//!   message *to* the seized party is tried, an earlier one on a fresh restore of the state
//!   (its stored chains and skipped keys, and for an initial message a PQXDH re-run under a
//!   fresh peer name, with the prekeys the state still holds), a later one on a fresh restore
//!   and on a tracking copy that follows the transcript: it decrypts the peer's messages in
//!   order, and for each message the seized party sent it encrypts a dummy at the same time,
//!   so it advances as the real device would if its randomness were known. It must read every
//!   message the rule says is readable (the seizure is genuine) and none of the protected ones
//!   (the secrets sit where they are protected).
//!
//! The target interface cannot decrypt a message its own device sent, so messages *from* the
//! seized party are not tried; no secret goes in one (docs/THREAT-MODEL.md).

use core::fmt;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zeroize::Zeroizing;

use super::super::conversation::{self, CONTENT_TYPE, Solved, Step};
use super::super::{Entry, Parties, Public, SecretPlacement, SolveReport};
use super::schedule::{Plan, Slot};
use super::{SEIZURE_KIND, seizure_direction};
use crate::Error;
use crate::seed::MasterSeed;
use crate::targets::{Delivery, Outgoing, Target, TargetDevice};

/// The peer name under which the solver re-runs PQXDH for an initial message (a name the
/// seized device has no session with).
pub const RERUN_PEER: &str = "pqxdh-rerun";

/// The dummy plaintext the tracking copy encrypts for each message the seized party sent.
const DUMMY: &[u8] = b"tracking copy";

/// Most earlier messages kept for the attack once the seizure entry arrives (every message
/// before it, at most the schedule's cap).
const MAX_KEPT: usize = super::schedule::MAX_MESSAGES as usize;

/// A message to the seized party, kept until the seizure entry is published.
struct Kept {
    index: u64,
    sent_at: u64,
    initial: bool,
    bytes: Vec<u8>,
}

/// The attacker's side: the seized state and the tracking copy.
struct Seized {
    state: Zeroizing<Vec<u8>>,
    tracker: Box<dyn TargetDevice>,
    dummy_rng: ChaCha20Rng,
}

/// The solver's state between published entries.
pub struct Solver {
    target: &'static dyn Target,
    seed: MasterSeed,
    public: Public,
    plan: Plan,
    parties: Parties,
    next: u64,
    last: Option<u64>,
    kept: Vec<Kept>,
    seized: Option<Seized>,
    report: SolveReport,
    /// The first protected message read from the seized state: the target lost the game.
    breach: Option<String>,
}

impl fmt::Debug for Solver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Solver")
            .field("next", &self.next)
            .field("report", &self.report)
            .field("breach", &self.breach)
            .finish_non_exhaustive()
    }
}

impl Solver {
    /// A solver on `target` that has seen nothing yet.
    pub fn on(
        target: &'static dyn Target,
        seed: MasterSeed,
        public: Public,
    ) -> Result<Self, Error> {
        let plan = Plan::from_fields(&public.params, public.schedule.messages)?;
        Ok(Self {
            target,
            parties: conversation::parties_on(target, &seed)?,
            seed,
            public,
            plan,
            next: 0,
            last: None,
            kept: Vec::new(),
            seized: None,
            report: SolveReport {
                readable: Some(0),
                protected: Some(0),
                ..SolveReport::default()
            },
            breach: None,
        })
    }

    /// The index of the next published entry it expects.
    pub fn next_index(&self) -> u64 {
        self.next
    }

    /// What it found so far; a protected message read from the seized state is a problem.
    pub fn report(&self) -> SolveReport {
        let mut report = self.fair_report();
        if report.problem.is_none() {
            report.problem.clone_from(&self.breach);
        }
        report
    }

    /// What it found so far, as `verify` judges the challenge's fairness: a protected message
    /// read from the seized state is the target's loss, not the server's fault.
    pub fn fair_report(&self) -> SolveReport {
        let mut report = self.report.clone();
        if report.problem.is_none() {
            report.secrets_pending = self
                .public
                .secrets
                .iter()
                .filter(|p| self.last.is_none_or(|max| p.message > max))
                .count() as u32;
        }
        report
    }

    /// The first protected message read from the seized state, if any.
    pub fn breach(&self) -> Option<&str> {
        self.breach.as_deref()
    }

    /// Solves one more published entry (after the first problem, entries are only skipped).
    pub fn feed(&mut self, entry: &Entry) -> Result<(), Error> {
        self.next = entry.index.saturating_add(1);
        if self.report.problem.is_some() {
            return Ok(());
        }
        self.last = Some(entry.index);
        self.report.entries_checked += 1;
        if let Some(problem) = self.solve_entry(entry)? {
            self.report.problem = Some(problem);
        }
        Ok(())
    }

    fn solve_entry(&mut self, entry: &Entry) -> Result<Option<String>, Error> {
        let k = entry.index;
        if k == 0 {
            let bundle = conversation::bundle_step(&self.parties, &self.public.schedule)?;
            return Ok((Some(bundle) != Step::from_entry(entry))
                .then(|| "entry 0 is not Bob's bundle".to_owned()));
        }
        match self.plan.slot(k) {
            None => Ok(Some(format!("entry {k} is not in the schedule"))),
            Some(Slot::Seizure) => self.solve_seizure(entry),
            Some(Slot::Message(expected)) => {
                let Some(step) = Step::from_entry(entry).filter(|s| s.direction == expected) else {
                    return Ok(Some(format!(
                        "entry {k} has direction {:?} and kind {:?}, not a message {}",
                        entry.direction,
                        entry.kind,
                        expected.name()
                    )));
                };
                match conversation::solve_message(
                    &mut self.parties,
                    &self.seed,
                    &self.public.schedule,
                    &self.public.secrets,
                    &step,
                    expected,
                )? {
                    Solved::Problem(problem) => return Ok(Some(problem)),
                    Solved::Read { secret: true } => self.report.secrets_confirmed += 1,
                    Solved::Read { secret: false } => {}
                }
                self.attack_message(&step)
            }
        }
    }

    /// The seizure entry: the seized party's state as the seed makes it; then every earlier
    /// message to the seized party is tried on it.
    fn solve_seizure(&mut self, entry: &Entry) -> Result<Option<String>, Error> {
        let seized = self.plan.params.seized;
        if entry.kind != SEIZURE_KIND || entry.direction != seizure_direction(seized) {
            return Ok(Some(format!(
                "entry {} has direction {:?} and kind {:?}, not the seizure",
                entry.index, entry.direction, entry.kind
            )));
        }
        let state = self.parties.get(seized.name())?.state();
        if *state != entry.bytes {
            return Ok(Some(format!(
                "entry {} is not {}'s device state as the seed makes it",
                entry.index,
                seized.name()
            )));
        }
        let tracker = match self.target.restore(&entry.bytes) {
            Ok(device) => device,
            Err(e) => return Ok(Some(format!("the seized state does not restore: {e}"))),
        };
        let kept = core::mem::take(&mut self.kept);
        self.seized = Some(Seized {
            state: Zeroizing::new(entry.bytes.clone()),
            tracker,
            dummy_rng: ChaCha20Rng::from_seed([0; 32]),
        });
        for m in &kept {
            let read = self.try_fresh(m.sent_at, &m.bytes, m.initial)?;
            if let Some(problem) = self.count(m.index, read) {
                return Ok(Some(problem));
            }
        }
        Ok(None)
    }

    /// A message after the bundle, once the seed side has read it: kept for the seizure, or
    /// tried from the seized state.
    fn attack_message(&mut self, step: &Step) -> Result<Option<String>, Error> {
        let seized = self.plan.params.seized;
        let to_seized = self.plan.is_to_seized(step.index);
        let Some(state) = self.seized.as_mut() else {
            if to_seized && self.kept.len() < MAX_KEPT {
                self.kept.push(Kept {
                    index: step.index,
                    sent_at: step.sent_at,
                    initial: step.kind == conversation::Kind::Initial,
                    bytes: step.bytes.clone(),
                });
            }
            return Ok(None);
        };
        let peer = seized.peer().name();
        if !to_seized {
            // The seized party sent it: the tracking copy encrypts a dummy at the same time.
            let dummy = Outgoing {
                content_type: CONTENT_TYPE,
                ttl: 0,
                payload: DUMMY,
            };
            if let Err(e) = state
                .tracker
                .encrypt(peer, &dummy, step.sent_at, &mut state.dummy_rng)
            {
                return Ok(Some(format!(
                    "the tracking copy of the seized state does not encrypt at entry {}: {e}",
                    step.index
                )));
            }
            return Ok(None);
        }
        let tracked = matches!(
            state.tracker.decrypt(peer, &step.bytes, step.sent_at),
            Ok(Delivery::Message(_))
        );
        let fresh = self.try_fresh(
            step.sent_at,
            &step.bytes,
            step.kind == conversation::Kind::Initial,
        )?;
        Ok(self.count(step.index, tracked || fresh))
    }

    /// Whether a fresh restore of the seized state reads a message to the seized party: from
    /// the peer's session, and for an initial message by a PQXDH re-run under a fresh peer name.
    fn try_fresh(&self, sent_at: u64, bytes: &[u8], initial: bool) -> Result<bool, Error> {
        let Some(seized) = &self.seized else {
            return Ok(false);
        };
        let peer = self.plan.params.seized.peer().name();
        let mut names = vec![peer];
        if initial {
            names.push(RERUN_PEER);
        }
        for name in names {
            let mut device = self.target.restore(&seized.state)?;
            if let Ok(Delivery::Message(_)) = device.decrypt(name, bytes, sent_at) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Counts message `k`'s outcome against the rule; a readable message not read is a
    /// problem (the seizure is not genuine), a protected one read is a breach.
    fn count(&mut self, k: u64, read: bool) -> Option<String> {
        let protected = self.plan.protection(k).is_some_and(|p| p.protected);
        match (protected, read) {
            (false, true) => {
                self.report.readable = Some(self.report.readable.unwrap_or(0) + 1);
                None
            }
            (false, false) => Some(format!(
                "message {k} is readable by design but was not read from the seized state"
            )),
            (true, false) => {
                self.report.protected = Some(self.report.protected.unwrap_or(0) + 1);
                None
            }
            (true, true) => {
                if self.breach.is_none() {
                    self.breach = Some(format!(
                        "message {k} is protected but was read from the seized state alone"
                    ));
                }
                None
            }
        }
    }
}

impl super::super::Solver for Solver {
    fn next_index(&self) -> u64 {
        self.next
    }

    fn feed(&mut self, entry: &Entry) -> Result<(), Error> {
        Solver::feed(self, entry)
    }

    fn report(&self) -> SolveReport {
        Solver::report(self)
    }
}

/// Whether `placements` sit only in protected messages to the seized party (a check of the
/// builder, for tests).
pub fn placements_protected(plan: &Plan, placements: &[SecretPlacement]) -> bool {
    placements.iter().all(|p| {
        plan.is_to_seized(p.message) && plan.protection(p.message).is_some_and(|x| x.protected)
    })
}
