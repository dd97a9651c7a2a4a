//! The `passive` track (Telegram 2013): two parties derived from the challenge seed converse on
//! a schedule; every byte they exchange is published. Transcript entry 0 is Bob's prekey bundle
//! (fetched by Alice), entries `1..=messages` are the messages, Alice's first carrying the PQXDH
//! prefix. Secrets of 128 bits sit in designated messages. Win: a secret.
//!
//! Everything here is a function of the seed; the server, its health solver and `verify` run the
//! same code, so a restart or a verifier regenerates identical bytes.

use core::fmt;

use target_impl::wire::WireMessage;
use zeroize::Zeroizing;

use super::Track as _;
use super::{
    ChallengeSpec, ClaimBody, Entry, Judgement, Parties, Party, Public, Schedule, Setup,
    TrackFields, TrackSpec,
};
pub use super::{SECRET_LEN, SecretPlacement, SolveReport};
use crate::Error;
use crate::keys::ct_eq32;
use crate::seed::{MasterSeed, label};
use crate::targets::{self, OneTimePrekeys, Outgoing, Target};

/// The track, as [`super::TRACKS`] lists it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Passive;

/// Alice's party name (her peer id at Bob, and her state's sealing label).
pub const ALICE: &str = "alice";
/// Bob's party name.
pub const BOB: &str = "bob";

/// Content type of every message (text).
pub const CONTENT_TYPE: u8 = 1;
const SECRET_COMMITMENT_LABEL: &[u8] = b"challenge-server/v1/secret-commitment\n";

/// Filler sentences of the messages that carry no secret (public: anyone may know them, as
/// the known plaintext they are). Each fits the same 64-byte padding bucket as a secret
/// message, so sizes do not single out the designated messages.
pub const FILLERS: [&str; 12] = [
    "Are we still on for Thursday?",
    "Yes, same place as last time.",
    "I sent the draft; tell me what you think.",
    "Running ten minutes late, sorry.",
    "Did you get the documents I mentioned?",
    "Not yet. I will check again tonight.",
    "The weather here is awful today.",
    "Call me when you land.",
    "Let us keep this between us for now.",
    "Thanks, that helps a lot.",
    "Can you bring the charger?",
    "See you tomorrow.",
];

/// Who sent a transcript entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Alice to Bob.
    AliceToBob,
    /// Bob to Alice.
    BobToAlice,
}

impl Direction {
    /// The name used in the API.
    pub fn name(self) -> &'static str {
        match self {
            Direction::AliceToBob => "alice-to-bob",
            Direction::BobToAlice => "bob-to-alice",
        }
    }
}

/// What a transcript entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A prekey bundle.
    Bundle,
    /// An initial message (PQXDH prefix and a ratchet message).
    Initial,
    /// A ratchet message.
    Ratchet,
}

impl Kind {
    /// The name used in the API.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Bundle => "bundle",
            Kind::Initial => "initial",
            Kind::Ratchet => "ratchet",
        }
    }

    fn of(bytes: &[u8]) -> Result<Self, Error> {
        Ok(match WireMessage::decode(bytes)? {
            WireMessage::Bundle(_) => Kind::Bundle,
            WireMessage::Initial(_) => Kind::Initial,
            WireMessage::Ratchet(_) => Kind::Ratchet,
        })
    }
}

/// One transcript entry: exactly the bytes that crossed the wire, with their time.
#[derive(Clone, PartialEq, Eq)]
pub struct Step {
    /// Index in the transcript (0: Bob's bundle).
    pub index: u64,
    /// Scheduled time (also the sender's and the receiver's `now`).
    pub sent_at: u64,
    /// Sender and receiver.
    pub direction: Direction,
    /// Wire type.
    pub kind: Kind,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Step")
            .field("index", &self.index)
            .field("sent_at", &self.sent_at)
            .field("direction", &self.direction)
            .field("kind", &self.kind)
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl Step {
    /// The transcript entry, as the lifecycle stores and publishes it.
    pub fn entry(&self) -> Entry {
        Entry {
            index: self.index,
            sent_at: self.sent_at,
            direction: self.direction.name().to_owned(),
            kind: self.kind.name().to_owned(),
            bytes: self.bytes.clone(),
        }
    }

    /// A published entry read back; `None` if its direction or kind is not one this track
    /// publishes.
    pub fn from_entry(e: &Entry) -> Option<Self> {
        Some(Self {
            index: e.index,
            sent_at: e.sent_at,
            direction: match e.direction.as_str() {
                "alice-to-bob" => Direction::AliceToBob,
                "bob-to-alice" => Direction::BobToAlice,
                _ => return None,
            },
            kind: match e.kind.as_str() {
                "bundle" => Kind::Bundle,
                "initial" => Kind::Initial,
                "ratchet" => Kind::Ratchet,
                _ => return None,
            },
            bytes: e.bytes.clone(),
        })
    }
}

/// The two parties as target-impl devices (tests look inside their states).
pub struct RealParties {
    /// Alice, the initiator.
    pub alice: target_impl::Device,
    /// Bob, the responder, whose bundle is entry 0.
    pub bob: target_impl::Device,
}

impl fmt::Debug for RealParties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Parties(..)")
    }
}

/// The parties on target-impl as they are before entry 0 ([`parties_on`]).
pub fn parties(seed: &MasterSeed) -> Result<RealParties, Error> {
    let parties = parties_on(targets::real(), seed)?;
    Ok(RealParties {
        alice: target_impl::Device::from_bytes(&parties.get(ALICE)?.state())?,
        bob: target_impl::Device::from_bytes(&parties.get(BOB)?.state())?,
    })
}

/// The parties on `target` as they are before entry 0: Alice from `derive("party/alice")`,
/// Bob from `derive("party/bob")` with one one-time X25519 and one one-time ML-KEM prekey.
pub fn parties_on(target: &dyn Target, seed: &MasterSeed) -> Result<Parties, Error> {
    let mut rng = seed.rng(label::ALICE, 0)?;
    let alice = target.generate(&mut rng, OneTimePrekeys::default())?;
    let mut rng = seed.rng(label::BOB, 0)?;
    let bob = target.generate(&mut rng, OneTimePrekeys { x25519: 1, kem: 1 })?;
    Ok(Parties(vec![
        Party {
            name: ALICE.to_owned(),
            device: alice,
        },
        Party {
            name: BOB.to_owned(),
            device: bob,
        },
    ]))
}

/// Secret `index`.
pub fn secret(seed: &MasterSeed, index: u32) -> Result<Zeroizing<[u8; SECRET_LEN]>, Error> {
    let full = seed.derive(label::SECRET, u64::from(index))?;
    let mut out = Zeroizing::new([0u8; SECRET_LEN]);
    out.copy_from_slice(full.get(..SECRET_LEN).unwrap_or(&[0; SECRET_LEN]));
    Ok(out)
}

/// The salted commitment to `secret` under `salt`.
pub fn secret_commitment(salt: &[u8; 32], secret: &[u8; SECRET_LEN]) -> [u8; 32] {
    target_impl::hazmat::sha256(&[SECRET_COMMITMENT_LABEL, salt, secret])
}

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

/// The plaintext of message `k`: `secret <j>: <32 hex digits>` if it carries secret `j`, else
/// a filler sentence chosen by `derive("filler", k)`.
pub fn payload(
    seed: &MasterSeed,
    placements: &[SecretPlacement],
    k: u64,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    if let Some(p) = placements.iter().find(|p| p.message == k) {
        let secret = secret(seed, p.index)?;
        let text = Zeroizing::new(format!("secret {}: {}", p.index, hex::encode(*secret)));
        return Ok(Zeroizing::new(text.as_bytes().to_vec()));
    }
    let which = seed.derive_index(label::FILLER, k, FILLERS.len() as u64)?;
    let filler = FILLERS
        .get(usize::try_from(which).unwrap_or(0))
        .copied()
        .unwrap_or_default();
    Ok(Zeroizing::new(filler.as_bytes().to_vec()))
}

/// Transcript entry 0: Bob's bundle, as Alice fetches it.
pub fn bundle_step(parties: &Parties, schedule: &Schedule) -> Result<Step, Error> {
    Ok(Step {
        index: 0,
        sent_at: schedule.time_of(0),
        direction: Direction::BobToAlice,
        kind: Kind::Bundle,
        bytes: parties.get(BOB)?.bundle()?,
    })
}

/// Plays message `k` (1-based) on `parties`: the sender encrypts at the scheduled time with the
/// randomness of `derive("step", k)` (Alice first starts the session from Bob's bundle with the
/// same stream, against Bob's published identity), and the receiver decrypts it at the same
/// time and must get the payload back.
pub fn play_step(
    parties: &mut Parties,
    seed: &MasterSeed,
    schedule: &Schedule,
    placements: &[SecretPlacement],
    k: u64,
) -> Result<Step, Error> {
    if k == 0 || k > schedule.messages {
        return Err(Error::internal(format!("no message {k} in the schedule")));
    }
    let now = schedule.time_of(k);
    let mut rng = seed.rng(label::STEP, k)?;
    if k == 1 {
        let bob = parties.get(BOB)?;
        let (bundle, identity) = (bob.bundle()?, bob.public_identity());
        parties
            .get_mut(ALICE)?
            .initiate(BOB, &bundle, &identity, &mut rng)?;
    }
    let direction = direction(seed, k)?;
    let payload = payload(seed, placements, k)?;
    let outgoing = Outgoing {
        content_type: CONTENT_TYPE,
        ttl: 0,
        payload: &payload,
    };
    let (from, to) = match direction {
        Direction::AliceToBob => (ALICE, BOB),
        Direction::BobToAlice => (BOB, ALICE),
    };
    let (sender, receiver) = parties.pair_mut(from, to)?;
    let bytes = sender.encrypt(to, &outgoing, now, &mut rng)?;
    let received = match receiver.decrypt(from, &bytes, now)? {
        targets::Delivery::Message(m) => m,
        targets::Delivery::IdentityChanged { .. } => {
            return Err(Error::internal("the receiver saw another identity"));
        }
    };
    if received.payload.as_slice() != payload.as_slice() {
        return Err(Error::internal("the receiver decrypted another payload"));
    }
    Ok(Step {
        index: k,
        sent_at: now,
        direction,
        kind: Kind::of(&bytes)?,
        bytes,
    })
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
        // Advance the sender (its own state is not in what it published) ...
        let mut shadow = parties.duplicate();
        play_step(
            &mut shadow,
            &self.seed,
            &self.schedule,
            &self.placements,
            entry.index,
        )?;
        let (from, to) = match entry.direction {
            Direction::AliceToBob => (ALICE, BOB),
            Direction::BobToAlice => (BOB, ALICE),
        };
        let sender_after = shadow.into_device(from)?;
        // ... and let the receiver decrypt the published bytes.
        let message = match parties
            .get_mut(to)?
            .decrypt(from, &entry.bytes, entry.sent_at)
        {
            Ok(targets::Delivery::Message(m)) => m,
            Ok(targets::Delivery::IdentityChanged { .. }) => {
                return Ok(Some(format!(
                    "entry {} authenticates under another identity",
                    entry.index
                )));
            }
            Err(e) => return Ok(Some(format!("entry {} does not decrypt: {e}", entry.index))),
        };
        *parties.get_mut(from)? = sender_after;
        if let Some(p) = self.placements.iter().find(|p| p.message == entry.index) {
            if !payload_opens(&self.seed, p, &message.payload)? {
                return Ok(Some(format!(
                    "message {} does not hold secret {} as committed",
                    entry.index, p.index
                )));
            }
            self.report.secrets_confirmed += 1;
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

/// Whether a decrypted payload holds secret `p.index` and the secret opens `p.commitment`.
fn payload_opens(seed: &MasterSeed, p: &SecretPlacement, payload: &[u8]) -> Result<bool, Error> {
    let prefix = format!("secret {}: ", p.index);
    let Some(hex_part) = payload.strip_prefix(prefix.as_bytes()) else {
        return Ok(false);
    };
    let Ok(found) = hex::decode(hex_part).map(Zeroizing::new) else {
        return Ok(false);
    };
    let Ok(found): Result<[u8; SECRET_LEN], _> = found.as_slice().try_into() else {
        return Ok(false);
    };
    let found = Zeroizing::new(found);
    let salt = seed.derive(label::SECRET_SALT, u64::from(p.index))?;
    Ok(ct_eq32(&secret_commitment(&salt, &found), &p.commitment))
}

/// Judges a secret claim: whether `secret` is the secret carried by message `message`.
pub fn judge(
    seed: &MasterSeed,
    placements: &[SecretPlacement],
    message: u64,
    secret: &[u8; SECRET_LEN],
) -> Result<bool, Error> {
    let Some(p) = placements.iter().find(|p| p.message == message) else {
        return Ok(false);
    };
    let salt = seed.derive(label::SECRET_SALT, u64::from(p.index))?;
    Ok(ct_eq32(&secret_commitment(&salt, secret), &p.commitment))
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
            ClaimBody::SessionSecret { .. } | ClaimBody::Key { .. } => Judgement::Invalid,
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
