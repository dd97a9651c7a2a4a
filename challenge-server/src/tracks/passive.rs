//! The `passive` track (Telegram 2013): two parties derived from the challenge seed converse on
//! a schedule; every byte they exchange is published. Transcript entry 0 is Bob's prekey bundle
//! (fetched by Alice), entries `1..=messages` are the messages, Alice's first carrying the PQXDH
//! prefix. Secrets of 128 bits sit in designated messages. Win: a secret.
//!
//! Everything here is a function of the seed; the server, its health solver and `verify` run the
//! same code, so a restart or a verifier regenerates identical bytes.

use core::fmt;

use super::Track as _;
use super::conversation::{self, Solved};
pub use super::conversation::{
    ALICE, BOB, CONTENT_TYPE, Direction, FILLERS, Kind, RealParties, Step, bundle_step, judge,
    parties, parties_on, payload, secret, secret_commitment,
};
use super::{
    ChallengeSpec, ClaimBody, Entry, Judgement, Parties, Public, Schedule, Setup, TrackFields,
    TrackSpec,
};
pub use super::{SECRET_LEN, SecretPlacement, SolveReport};
use crate::Error;
use crate::seed::{MasterSeed, label};
use crate::targets::{self, Target};

/// The track, as [`super::TRACKS`] lists it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Passive;

/// Where each secret goes: message `1 + derive_index("secret-position", j, messages)`, moved
/// to the next free message (cyclically) if taken.
pub fn placements(
    seed: &MasterSeed,
    schedule: &Schedule,
    count: u32,
) -> Result<Vec<SecretPlacement>, Error> {
    let mut out: Vec<SecretPlacement> = Vec::with_capacity(count as usize);
    for index in 0..count {
        let mut message =
            1 + seed.derive_index(label::SECRET_POSITION, u64::from(index), schedule.messages)?;
        while out.iter().any(|p| p.message == message) {
            message = message % schedule.messages + 1;
        }
        let salt = seed.derive(label::SECRET_SALT, u64::from(index))?;
        out.push(SecretPlacement {
            index,
            message,
            commitment: secret_commitment(&salt, &*secret(seed, index)?),
        });
    }
    Ok(out)
}

/// Who sends message `k`: Alice sends the first; after that `derive("direction", k)`'s first
/// 8 bytes, read big-endian, decide (even: Alice).
pub fn direction(seed: &MasterSeed, k: u64) -> Result<Direction, Error> {
    if k <= 1 {
        return Ok(Direction::AliceToBob);
    }
    Ok(if seed.derive_index(label::DIRECTION, k, 2)? == 0 {
        Direction::AliceToBob
    } else {
        Direction::BobToAlice
    })
}

/// Plays message `k` (1-based) on `parties`, in the direction [`direction`] gives it
/// ([`conversation::play_message`]).
pub fn play_step(
    parties: &mut Parties,
    seed: &MasterSeed,
    schedule: &Schedule,
    placements: &[SecretPlacement],
    k: u64,
) -> Result<Step, Error> {
    let direction = direction(seed, k)?;
    conversation::play_message(parties, seed, schedule, placements, k, direction)
}

/// Every transcript entry on target-impl from scratch, `0..=upto` (tests).
pub fn replay(
    seed: &MasterSeed,
    schedule: &Schedule,
    placements: &[SecretPlacement],
    upto: u64,
) -> Result<Vec<Step>, Error> {
    replay_on(targets::real(), seed, schedule, placements, upto)
}

/// Every transcript entry on `target` from scratch, `0..=upto` (for `verify`).
pub fn replay_on(
    target: &dyn Target,
    seed: &MasterSeed,
    schedule: &Schedule,
    placements: &[SecretPlacement],
    upto: u64,
) -> Result<Vec<Step>, Error> {
    let mut parties = parties_on(target, seed)?;
    let mut steps = vec![bundle_step(&parties, schedule)?];
    for k in 1..=upto.min(schedule.messages) {
        steps.push(play_step(&mut parties, seed, schedule, placements, k)?);
    }
    Ok(steps)
}

/// The health solver: from the seed, the receiver of each *published* entry decrypts the
/// published bytes (the sender's state advances by re-encrypting, which decryption of later
/// replies needs); every published designated message must hold its secret, and the secret must
/// open its published commitment. The whole transcript at once; [`Solver`] is the same solver
/// fed one published entry at a time. On target-impl.
pub fn solve(
    seed: &MasterSeed,
    schedule: &Schedule,
    placements: &[SecretPlacement],
    published: &[Step],
) -> Result<SolveReport, Error> {
    let mut solver = Solver::new(seed.clone(), *schedule, placements.to_vec())?;
    for entry in published {
        solver.feed_step(entry)?;
    }
    Ok(solver.report())
}

/// The health solver's state between published entries, so that each entry is solved once, as
/// it is published, instead of the whole transcript on each look.
pub struct Solver {
    seed: MasterSeed,
    schedule: Schedule,
    placements: Vec<SecretPlacement>,
    parties: Parties,
    next: u64,
    last: Option<u64>,
    report: SolveReport,
}

impl fmt::Debug for Solver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Solver")
            .field("next", &self.next)
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

impl Solver {
    /// A solver on target-impl that has seen nothing yet.
    pub fn new(
        seed: MasterSeed,
        schedule: Schedule,
        placements: Vec<SecretPlacement>,
    ) -> Result<Self, Error> {
        Self::on(targets::real(), seed, schedule, placements)
    }

    /// A solver on `target` that has seen nothing yet.
    pub fn on(
        target: &'static dyn Target,
        seed: MasterSeed,
        schedule: Schedule,
        placements: Vec<SecretPlacement>,
    ) -> Result<Self, Error> {
        Ok(Self {
            parties: parties_on(target, &seed)?,
            seed,
            schedule,
            placements,
            next: 0,
            last: None,
            report: SolveReport {
                entries_checked: 0,
                secrets_confirmed: 0,
                secrets_pending: 0,
                problem: None,
                ..SolveReport::default()
            },
        })
    }

    /// The index of the next published entry it expects.
    pub fn next_index(&self) -> u64 {
        self.next
    }

    /// Solves one more published entry (after the first problem, entries are only skipped).
    pub fn feed_step(&mut self, entry: &Step) -> Result<(), Error> {
        self.next = entry.index.saturating_add(1);
        if self.report.problem.is_some() {
            return Ok(());
        }
        self.report.entries_checked += 1;
        self.last = Some(entry.index);
        if let Some(problem) = self.solve_entry(entry)? {
            self.report.problem = Some(problem);
        }
        Ok(())
    }

    fn solve_entry(&mut self, entry: &Step) -> Result<Option<String>, Error> {
        let parties = &mut self.parties;
        if entry.index == 0 {
            if entry.bytes != parties.get(BOB)?.bundle()? {
                return Ok(Some("entry 0 is not Bob's bundle".to_owned()));
            }
            return Ok(None);
        }
        let expected = direction(&self.seed, entry.index)?;
        match conversation::solve_message(
            parties,
            &self.seed,
            &self.schedule,
            &self.placements,
            entry,
            expected,
        )? {
            Solved::Problem(problem) => return Ok(Some(problem)),
            Solved::Read { secret: true } => self.report.secrets_confirmed += 1,
            Solved::Read { secret: false } => {}
        }
        Ok(None)
    }

    /// What it found so far.
    pub fn report(&self) -> SolveReport {
        let mut report = self.report.clone();
        if report.problem.is_none() {
            report.secrets_pending = self
                .placements
                .iter()
                .filter(|p| self.last.is_none_or(|max| p.message > max))
                .count() as u32;
        }
        report
    }
}

/// The demo challenge of `serve --demo`: 20 messages, one every 3 s, 2 secrets, closing 60 s after the last message.
pub fn demo_spec() -> ChallengeSpec {
    ChallengeSpec {
        title: "Demo: find a secret in published PQXDH + Double Ratchet traffic".to_owned(),
        rules: "Two parties derived from a secret seed exchange 20 messages, one every 3 seconds. \
                Every byte they exchange is published in the transcript. Two messages carry a \
                128-bit secret each; their salted commitments are published. Commit the SHA-256 \
                of your claim (docs/API.md), then reveal it. The first valid commit by log index \
                wins. The seed is revealed 60 seconds after the last message."
            .to_owned(),
        track: Passive.name().to_owned(),
        bounty: [("secret".to_owned(), "demo: eternal glory".to_owned())].into(),
        schedule: super::ScheduleSpec {
            messages: 20,
            interval_secs: 3,
            start_at: None,
            start_in_secs: Some(3),
        },
        deadline: None,
        deadline_after_last_secs: Some(60),
        reveal_window_secs: None,
        close_on_win: false,
        secrets: 2,
        params: TrackFields::default(),
    }
}

impl super::Solver for Solver {
    fn next_index(&self) -> u64 {
        self.next
    }

    fn feed(&mut self, entry: &Entry) -> Result<(), Error> {
        match Step::from_entry(entry) {
            Some(step) => self.feed_step(&step),
            None => {
                self.next = entry.index.saturating_add(1);
                if self.report.problem.is_none() {
                    self.report.entries_checked += 1;
                    self.report.problem = Some(format!(
                        "entry {} has direction {:?} and kind {:?}, which this track never publishes",
                        entry.index, entry.direction, entry.kind
                    ));
                }
                Ok(())
            }
        }
    }

    fn report(&self) -> SolveReport {
        Solver::report(self)
    }
}

impl super::Track for Passive {
    fn name(&self) -> &'static str {
        "passive"
    }

    fn win_kinds(&self) -> &'static [&'static str] {
        &["secret", "finding"]
    }

    fn due(&self, schedule: &Schedule, time: u64) -> u64 {
        schedule.entries_before(time)
    }

    fn check_params(
        &self,
        params: &TrackFields,
        _schedule: &Schedule,
    ) -> Result<TrackFields, Error> {
        match params.0.first() {
            Some((name, _)) => Err(Error::invalid(
                format!("params.{name}"),
                "the passive track takes no parameters",
            )),
            None => Ok(TrackFields::default()),
        }
    }

    fn setup(
        &self,
        target: &dyn Target,
        seed: &MasterSeed,
        spec: &TrackSpec,
    ) -> Result<Setup, Error> {
        let parties = parties_on(target, seed)?;
        let mut bundles = Vec::with_capacity(parties.0.len());
        let mut event_fields = TrackFields::default();
        for p in &parties.0 {
            let bundle = p.device.bundle()?;
            event_fields.0.push((
                format!("{}_bundle_sha256", p.name),
                serde_json::Value::String(hex::encode(target_impl::hazmat::sha256(&[&bundle]))),
            ));
            bundles.push((p.name.clone(), bundle));
        }
        Ok(Setup {
            parties,
            bundles,
            secrets: placements(seed, &spec.schedule, spec.secrets)?,
            event_fields,
        })
    }

    fn step(
        &self,
        seed: &MasterSeed,
        public: &Public,
        k: u64,
        parties: &mut Parties,
    ) -> Result<Entry, Error> {
        let step = if k == 0 {
            bundle_step(parties, &public.schedule)?
        } else {
            play_step(parties, seed, &public.schedule, &public.secrets, k)?
        };
        Ok(step.entry())
    }

    fn solver(
        &self,
        target: &'static dyn Target,
        seed: &MasterSeed,
        public: &Public,
    ) -> Result<Box<dyn super::Solver>, Error> {
        Ok(Box::new(Solver::on(
            target,
            seed.clone(),
            public.schedule,
            public.secrets.clone(),
        )?))
    }

    fn judge(
        &self,
        _target: &dyn Target,
        seed: &MasterSeed,
        public: &Public,
        claim: &ClaimBody,
    ) -> Result<Judgement, Error> {
        Ok(match claim {
            ClaimBody::Secret { message, secret } => {
                if judge(seed, &public.secrets, *message, secret)? {
                    Judgement::Valid
                } else {
                    Judgement::Invalid
                }
            }
            // Kinds of the request-driven tracks name sessions, which this track has none of.
            ClaimBody::SessionSecret { .. }
            | ClaimBody::Key { .. }
            | ClaimBody::PropertySecret { .. } => Judgement::Invalid,
            ClaimBody::Finding { .. } => Judgement::NeedsReview,
        })
    }

    fn replay(
        &self,
        target: &'static dyn Target,
        seed: &MasterSeed,
        public: &Public,
        published: &[Entry],
    ) -> Result<SolveReport, String> {
        let Some(last) = (published.len() as u64).checked_sub(1) else {
            return Ok(Solver::on(
                target,
                seed.clone(),
                public.schedule,
                public.secrets.clone(),
            )
            .map_err(|e| format!("solver: {e}"))?
            .report());
        };
        if last > public.schedule.messages {
            return Err("transcript: more entries than scheduled".to_owned());
        }
        let regenerated = replay_on(target, seed, &public.schedule, &public.secrets, last)
            .map_err(|e| format!("regeneration: {e}"))?;
        for (entry, step) in published.iter().zip(&regenerated) {
            let i = step.index;
            if entry.index != i {
                return Err(format!("transcript entry {i}: out of order or missing"));
            }
            if entry.sent_at != step.sent_at {
                return Err(format!(
                    "transcript entry {i}: time differs from the schedule"
                ));
            }
            if entry.direction != step.direction.name() {
                return Err(format!("transcript entry {i}: direction differs"));
            }
            if entry.kind != step.kind.name() {
                return Err(format!("transcript entry {i}: kind differs"));
            }
            if entry.bytes != step.bytes {
                return Err(format!(
                    "transcript entry {i}: bytes differ from the regeneration"
                ));
            }
        }
        let mut solver = Solver::on(
            target,
            seed.clone(),
            public.schedule,
            public.secrets.clone(),
        )
        .map_err(|e| format!("solver: {e}"))?;
        for step in &regenerated {
            solver.feed_step(step).map_err(|e| format!("solver: {e}"))?;
        }
        let report = solver.report();
        match &report.problem {
            Some(problem) => Err(format!("secrets: {problem}")),
            None => Ok(report),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> Schedule {
        Schedule {
            messages: 12,
            interval_secs: 10,
            start_at: 1_700_000_000,
        }
    }

    /// The rules of docs/API.md "Derivation", restated from the text alone: secret indexes
    /// from 0; secret j is `derive("secret", j)[..16]`; its salt is the whole 32-byte
    /// `derive("secret-salt", j)`; its message is `1 + (u64be(derive("secret-position",
    /// j)[..8]) mod messages)`, moved to the next free message, wrapping from the last to 1;
    /// `direction` reads 8 bytes big-endian too.
    #[test]
    fn derivation_is_as_documented() {
        let mut wrapped = 0;
        for s in 0u8..64 {
            let seed = MasterSeed::from_bytes([s; 32]);
            let messages = 4;
            let schedule = Schedule {
                messages,
                interval_secs: 10,
                start_at: 1_700_000_000,
            };
            let got = placements(&seed, &schedule, 4).unwrap();
            let mut taken: Vec<u64> = Vec::new();
            for (j, p) in got.iter().enumerate() {
                let j = j as u64;
                assert_eq!(u64::from(p.index), j, "indexes start at 0");
                let pos = seed.derive(label::SECRET_POSITION, j).unwrap();
                let first = 1 + u64::from_be_bytes(pos[..8].try_into().unwrap()) % messages;
                let mut m = first;
                while taken.contains(&m) {
                    m = if m == messages { 1 } else { m + 1 };
                }
                if m < first {
                    wrapped += 1;
                }
                taken.push(m);
                assert_eq!(p.message, m, "seed {s}, secret {j}");
                let salt = seed.derive(label::SECRET_SALT, j).unwrap();
                let secret_bytes = seed.derive(label::SECRET, j).unwrap();
                let expected = target_impl::hazmat::sha256(&[
                    b"challenge-server/v1/secret-commitment\n",
                    salt.as_slice(),
                    &secret_bytes[..16],
                ]);
                assert_eq!(p.commitment, expected, "the salt is all 32 bytes");
            }
            for k in 2..20 {
                let d = seed.derive(label::DIRECTION, k).unwrap();
                let even = u64::from_be_bytes(d[..8].try_into().unwrap()) % 2 == 0;
                let want = if even {
                    Direction::AliceToBob
                } else {
                    Direction::BobToAlice
                };
                assert_eq!(direction(&seed, k).unwrap(), want);
            }
        }
        assert!(wrapped > 0, "some placement wrapped around");
    }

    #[test]
    fn replay_is_deterministic_and_solvable() {
        let seed = MasterSeed::from_bytes([9; 32]);
        let placements = placements(&seed, &schedule(), 3).unwrap();
        let a = replay(&seed, &schedule(), &placements, 12).unwrap();
        let b = replay(&seed, &schedule(), &placements, 12).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 13);
        assert_eq!(a[1].kind, Kind::Initial);
        let report = solve(&seed, &schedule(), &placements, &a).unwrap();
        assert_eq!(report.problem, None);
        assert_eq!(report.secrets_confirmed, 3);
        for p in &placements {
            let s = secret(&seed, p.index).unwrap();
            assert!(judge(&seed, &placements, p.message, &s).unwrap());
            assert!(!judge(&seed, &placements, p.message, &[0; 16]).unwrap());
        }
    }

    #[test]
    fn solver_notices_a_changed_byte() {
        let seed = MasterSeed::from_bytes([3; 32]);
        let placements = placements(&seed, &schedule(), 1).unwrap();
        let mut steps = replay(&seed, &schedule(), &placements, 12).unwrap();
        let last = steps.last_mut().unwrap();
        let n = last.bytes.len();
        last.bytes[n - 1] ^= 1;
        let report = solve(&seed, &schedule(), &placements, &steps).unwrap();
        assert!(report.problem.is_some());
    }
}
