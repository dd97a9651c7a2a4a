//! A session: its two bots and counters ([`SessionState`]), its opening, its secret, and its
//! replay from the seed and the recorded inputs.

use std::collections::BTreeSet;

use core::fmt;

use zeroize::Zeroizing;

use super::command::{self, Bot, Forgery};
use super::record::{Record, RecordEntry};
use super::{
    MAX_ACCEPTED, MAX_DEVICE_STATE_LEN, MAX_ENTRY_LEN, MAX_SENT, Params, SECRET_ASKS, session_seed,
};
use crate::Error;
use crate::seed::{MasterSeed, label};
use crate::targets::{OneTimePrekeys, Target, TargetDevice};
use crate::tracks::passive::{self, FILLERS};
use crate::tracks::sessions::IntegerParams as _;
use crate::tracks::{Public, SECRET_LEN, TrackFields};

/// Version of [`SessionState::to_bytes`].
const STATE_VERSION: u8 = 1;

/// One bot: its device, and what judging forgeries needs.
pub(super) struct BotState {
    pub(super) device: Box<dyn TargetDevice>,
    /// Whether it can send: Alice once she started a session from a bundle, Bob once he
    /// accepted a message.
    pub(super) started: bool,
    /// SHA-256 of every message it encrypted (the only messages its peer may accept).
    pub(super) sent: BTreeSet<[u8; 32]>,
    /// SHA-256 of every message it accepted (a second acceptance is a forgery).
    pub(super) accepted: BTreeSet<[u8; 32]>,
}

/// Commands used of each budget.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Used {
    pub(super) fetch_bundle: u64,
    pub(super) asks: u64,
    pub(super) txt: u64,
    pub(super) deliver: u64,
}

/// A session between commands: both bots' devices and every counter. Stored sealed
/// ([`SessionState::to_bytes`]); it holds the bots' private keys, so it prints nothing of them.
pub struct SessionState {
    pub(super) session: u64,
    /// Entries in the record so far (the next command's `k`).
    pub(super) entries: u64,
    /// The time of the last recorded entry (idle expiry counts from it).
    pub(super) last_at: u64,
    pub(super) used: Used,
    pub(super) alice: BotState,
    pub(super) bob: BotState,
}

impl fmt::Debug for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionState")
            .field("session", &self.session)
            .field("entries", &self.entries)
            .field("last_at", &self.last_at)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

/// Why state bytes do not restore.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateError {
    /// Not a version this build reads.
    Version,
    /// Shorter than its lengths say.
    Truncated,
    /// A flag that is neither 0 nor 1.
    Flag,
    /// A list or a device state longer than its cap.
    TooLong(&'static str),
    /// Bytes after the end.
    Trailing,
    /// A device state the target does not restore.
    Device(String),
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::Version => f.write_str("unknown session state version"),
            StateError::Truncated => f.write_str("session state truncated"),
            StateError::Flag => f.write_str("session state flag out of range"),
            StateError::TooLong(what) => write!(f, "session state: {what} over its cap"),
            StateError::Trailing => f.write_str("session state has trailing bytes"),
            StateError::Device(e) => write!(f, "session state: device: {e}"),
        }
    }
}

impl std::error::Error for StateError {}

impl SessionState {
    /// The session's number.
    pub fn session(&self) -> u64 {
        self.session
    }

    /// The time of the last recorded entry: the session expires `idle_expiry_secs` after it.
    pub fn last_at(&self) -> u64 {
        self.last_at
    }

    /// Entries in the session's record.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// A copy, each bot's device [duplicated](TargetDevice::duplicate): the state
    /// `from_bytes(to_bytes())` restores, without parsing the devices and re-deriving their
    /// keys. The copy holds the same secrets, and its devices zeroize them as the original's
    /// do when dropped.
    pub fn duplicate(&self) -> Self {
        let bot = |b: &BotState| BotState {
            device: b.device.duplicate(),
            started: b.started,
            sent: b.sent.clone(),
            accepted: b.accepted.clone(),
        };
        Self {
            session: self.session,
            entries: self.entries,
            last_at: self.last_at,
            used: self.used,
            alice: bot(&self.alice),
            bob: bot(&self.bob),
        }
    }

    /// The state's bytes, to be sealed: version 1, then `u64be` session, entries, last time,
    /// and used fetch-bundle, ask, txt and deliver; then per bot (Alice, Bob) a started flag,
    /// `u32be`-length-prefixed device state, and `u32be`-counted lists of 32-byte digests
    /// (sent, accepted).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::new());
        out.push(STATE_VERSION);
        for v in [
            self.session,
            self.entries,
            self.last_at,
            self.used.fetch_bundle,
            self.used.asks,
            self.used.txt,
            self.used.deliver,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        for bot in [&self.alice, &self.bob] {
            out.push(u8::from(bot.started));
            let device = bot.device.state();
            put_len(&mut out, device.len());
            out.extend_from_slice(&device);
            for set in [&bot.sent, &bot.accepted] {
                put_len(&mut out, set.len());
                for digest in set {
                    out.extend_from_slice(digest);
                }
            }
        }
        out
    }

    /// A state from [`Self::to_bytes`], its devices restored by `target`; every length is
    /// checked against its cap, nothing panics.
    pub fn from_bytes(target: &dyn Target, bytes: &[u8]) -> Result<Self, StateError> {
        let mut r = Reader(bytes);
        if r.take(1)? != [STATE_VERSION] {
            return Err(StateError::Version);
        }
        let session = r.u64()?;
        let entries = r.u64()?;
        let last_at = r.u64()?;
        let used = Used {
            fetch_bundle: r.u64()?,
            asks: r.u64()?,
            txt: r.u64()?,
            deliver: r.u64()?,
        };
        let alice = r.bot(target)?;
        let bob = r.bot(target)?;
        if !r.0.is_empty() {
            return Err(StateError::Trailing);
        }
        Ok(Self {
            session,
            entries,
            last_at,
            used,
            alice,
            bob,
        })
    }

    pub(super) fn bot_mut(&mut self, bot: Bot) -> &mut BotState {
        match bot {
            Bot::Alice => &mut self.alice,
            Bot::Bob => &mut self.bob,
        }
    }

    /// Bot `to` to change, and its peer.
    pub(super) fn pair_mut(&mut self, to: Bot) -> (&mut BotState, &BotState) {
        match to {
            Bot::Alice => (&mut self.alice, &self.bob),
            Bot::Bob => (&mut self.bob, &self.alice),
        }
    }
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    // Every length is capped far below 4 GiB.
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StateError> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(StateError::Truncated)?;
        self.0 = rest;
        Ok(head)
    }

    fn u64(&mut self) -> Result<u64, StateError> {
        let b: [u8; 8] = self
            .take(8)?
            .try_into()
            .map_err(|_| StateError::Truncated)?;
        Ok(u64::from_be_bytes(b))
    }

    fn len(&mut self, cap: usize, what: &'static str) -> Result<usize, StateError> {
        let b: [u8; 4] = self
            .take(4)?
            .try_into()
            .map_err(|_| StateError::Truncated)?;
        let len = usize::try_from(u32::from_be_bytes(b)).map_err(|_| StateError::TooLong(what))?;
        if len > cap {
            return Err(StateError::TooLong(what));
        }
        Ok(len)
    }

    fn digests(
        &mut self,
        cap: usize,
        what: &'static str,
    ) -> Result<BTreeSet<[u8; 32]>, StateError> {
        let n = self.len(cap, what)?;
        let mut set = BTreeSet::new();
        for _ in 0..n {
            let d: [u8; 32] = self
                .take(32)?
                .try_into()
                .map_err(|_| StateError::Truncated)?;
            set.insert(d);
        }
        Ok(set)
    }

    fn bot(&mut self, target: &dyn Target) -> Result<BotState, StateError> {
        let started = match self.take(1)? {
            [0] => false,
            [1] => true,
            _ => return Err(StateError::Flag),
        };
        let len = self.len(MAX_DEVICE_STATE_LEN, "device state")?;
        let device = target
            .restore(self.take(len)?)
            .map_err(|e| StateError::Device(e.to_string()))?;
        Ok(BotState {
            device,
            started,
            sent: self.digests(MAX_SENT, "sent digests")?,
            accepted: self.digests(MAX_ACCEPTED, "accepted digests")?,
        })
    }
}

/// A session just opened.
pub struct Opened {
    /// Its state, to be stored sealed.
    pub state: SessionState,
    /// What is published about it when it opens: `session`, `alice_identity`, `bob_identity`
    /// (public identities, hex) and `secret_commitment` (hex).
    pub public: TrackFields,
    /// Its record after entry 0 (the open): the head the log holds at the open.
    pub record: Record,
    /// Entry 0's bytes, to be stored.
    pub entry: Vec<u8>,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("state", &self.state)
            .field("public", &self.public)
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// Bot `bot` of the session whose own seed is `sub`, as generated (before any pin): Alice from
/// `party/alice`, Bob from `party/bob` with one one-time X25519 and one one-time ML-KEM prekey.
pub(super) fn bot(
    target: &dyn Target,
    sub: &MasterSeed,
    bot: Bot,
) -> Result<Box<dyn TargetDevice>, Error> {
    match bot {
        Bot::Alice => target.generate(&mut sub.rng(label::ALICE, 0)?, OneTimePrekeys::default()),
        Bot::Bob => target.generate(
            &mut sub.rng(label::BOB, 0)?,
            OneTimePrekeys { x25519: 1, kem: 1 },
        ),
    }
}

/// The session's secret: `derive("secret", 0)[..16]` under its own seed.
pub(super) fn secret(sub: &MasterSeed) -> Result<Zeroizing<[u8; SECRET_LEN]>, Error> {
    passive::secret(sub, 0)
}

/// The public commitment to the session's secret, as the passive track's.
pub(super) fn secret_commitment(sub: &MasterSeed) -> Result<[u8; 32], Error> {
    let salt = sub.derive(label::SECRET_SALT, 0)?;
    Ok(passive::secret_commitment(&salt, &*secret(sub)?))
}

/// Which ask (0-based among the session's asks) carries the secret.
pub(super) fn secret_ask(sub: &MasterSeed) -> Result<u64, Error> {
    sub.derive_index(label::SECRET_POSITION, 0, SECRET_ASKS)
}

/// The plaintext of ask `a`: `secret 0: <32 hex digits>` if it carries the secret, else the
/// filler sentence `derive("filler", a)` picks.
pub(super) fn ask_payload(sub: &MasterSeed, a: u64) -> Result<Zeroizing<Vec<u8>>, Error> {
    if a == secret_ask(sub)? {
        let text = Zeroizing::new(format!("secret 0: {}", hex::encode(*secret(sub)?)));
        return Ok(Zeroizing::new(text.as_bytes().to_vec()));
    }
    let which = sub.derive_index(label::FILLER, a, FILLERS.len() as u64)?;
    let filler = FILLERS
        .get(usize::try_from(which).unwrap_or(0))
        .copied()
        .unwrap_or_default();
    Ok(Zeroizing::new(filler.as_bytes().to_vec()))
}

/// Opens session `s`: both bots from the session's seed, each pinned to the other's published
/// identity (so a bundle or an initial message under another identity is refused), and the
/// record's entry 0.
pub(super) fn open(
    target: &dyn Target,
    seed: &MasterSeed,
    public: &Public,
    challenge: &str,
    s: u64,
    claimant: &str,
    now: u64,
) -> Result<Opened, Error> {
    let params = Params::from_fields(&public.params)?;
    if s >= params.max_sessions {
        return Err(Error::Conflict {
            field: "session",
            message: format!(
                "this challenge takes at most {} sessions",
                params.max_sessions
            ),
        });
    }
    if !crate::claims::is_claimant(claimant) {
        return Err(Error::invalid(
            "claimant",
            "expected 1 to 64 characters of A-Z a-z 0-9 . _ - @",
        ));
    }
    let sub = session_seed(seed, s)?;
    let mut alice = bot(target, &sub, Bot::Alice)?;
    let mut bob = bot(target, &sub, Bot::Bob)?;
    let (alice_identity, bob_identity) = (alice.public_identity(), bob.public_identity());
    alice.pin_identity(Bot::Bob.name(), &bob_identity)?;
    bob.pin_identity(Bot::Alice.name(), &alice_identity)?;
    let commitment = secret_commitment(&sub)?;
    let fields = TrackFields(vec![
        ("session".to_owned(), serde_json::Value::from(s)),
        (
            "alice_identity".to_owned(),
            serde_json::Value::from(hex::encode(&alice_identity)),
        ),
        (
            "bob_identity".to_owned(),
            serde_json::Value::from(hex::encode(&bob_identity)),
        ),
        (
            "secret_commitment".to_owned(),
            serde_json::Value::from(hex::encode(commitment)),
        ),
    ]);
    let entry = command::open_entry(now, claimant, &alice_identity, &bob_identity, &commitment)
        .map_err(Error::internal)?;
    let mut record = Record::new(challenge, s);
    record.append(&entry);
    let new_bot = |device| BotState {
        device,
        started: false,
        sent: BTreeSet::new(),
        accepted: BTreeSet::new(),
    };
    Ok(Opened {
        state: SessionState {
            session: s,
            entries: 1,
            last_at: now,
            used: Used::default(),
            alice: new_bot(alice),
            bob: new_bot(bob),
        },
        public: fields,
        record,
        entry,
    })
}

/// What a replay of a session's record re-judged.
#[derive(Debug)]
pub struct ReplayReport {
    /// Entries replayed, the open included.
    pub entries: u64,
    /// The head after the last one (equal to the head given).
    pub head: [u8; 32],
    /// The record entry of the ask that carried the secret, if it was asked for.
    pub secret_entry: Option<u64>,
    /// Every forgery, in order.
    pub forgeries: Vec<ReplayedForgery>,
}

/// A forgery a replay re-judged: at record entry `k`, after which the record's head was `head`
/// (the head the log holds for the win).
#[derive(Debug)]
pub struct ReplayedForgery {
    /// The entry.
    pub k: u64,
    /// The head after it.
    pub head: [u8; 32],
    /// What the bot accepted.
    pub forgery: Forgery,
}

/// Replays session `s` of `challenge` from the seed and the recorded entries (module
/// documentation of [`super::record`]): entry 0 opens the session again with its claimant and
/// time, every later one runs its command again at its time, and each regenerated entry must
/// equal the recorded bytes; the chain must end at `head`.
pub(super) fn replay(
    target: &dyn Target,
    seed: &MasterSeed,
    public: &Public,
    challenge: &str,
    s: u64,
    entries: &[Vec<u8>],
    head: &[u8; 32],
) -> Result<ReplayReport, String> {
    let (first, rest) = split_record(public, entries)?;
    let open_entry = parsed(0, first)?;
    let claimant = match (open_entry.command.as_str(), &open_entry.input) {
        ("open", serde_json::Value::Object(input)) => input
            .get("claimant")
            .and_then(|c| c.as_str())
            .ok_or("record entry 0: no claimant")?
            .to_owned(),
        _ => return Err("record entry 0: not the open".to_owned()),
    };
    let Opened {
        state,
        record,
        entry,
        ..
    } = open(
        target,
        seed,
        public,
        challenge,
        s,
        &claimant,
        open_entry.now,
    )
    .map_err(|e| format!("record entry 0: open: {e}"))?;
    if entry != *first {
        return Err("record entry 0: differs from the regeneration".to_owned());
    }
    replay_commands(seed, public, state, record, rest, head)
}

/// [`replay`] of a record whose entry 0 is `opened`'s own: `opened` stands for the
/// regeneration of entry 0 (so it must be what [`open`] returned for that record's challenge,
/// session, claimant and time), and every later entry is replayed, exactly as there, on a
/// [duplicate](SessionState::duplicate) of its state. Entry 0 is compared as bytes and not
/// parsed, so a damaged one is an error with another message than [`replay`]'s.
pub(super) fn replay_opened(
    seed: &MasterSeed,
    public: &Public,
    opened: &Opened,
    entries: &[Vec<u8>],
    head: &[u8; 32],
) -> Result<ReplayReport, String> {
    let (first, rest) = split_record(public, entries)?;
    if opened.entry != *first {
        return Err("record entry 0: differs from the regeneration".to_owned());
    }
    replay_commands(
        seed,
        public,
        opened.state.duplicate(),
        opened.record,
        rest,
        head,
    )
}

/// A record's entry 0 and the others, once their count is within the budgets.
fn split_record<'a>(
    public: &Public,
    entries: &'a [Vec<u8>],
) -> Result<(&'a Vec<u8>, &'a [Vec<u8>]), String> {
    let params = Params::from_fields(&public.params).map_err(|e| format!("params: {e}"))?;
    if entries.len() as u64 > params.max_entries() {
        return Err(format!(
            "record: {} entries, more than the budgets allow",
            entries.len()
        ));
    }
    Ok(entries
        .split_first()
        .ok_or("record: no entry 0 (the open)")?)
}

/// Record entry `k`, at most [`MAX_ENTRY_LEN`] bytes.
fn parsed(k: usize, bytes: &[u8]) -> Result<RecordEntry, String> {
    if bytes.len() > MAX_ENTRY_LEN {
        return Err(format!(
            "record entry {k}: longer than {MAX_ENTRY_LEN} bytes"
        ));
    }
    RecordEntry::from_bytes(bytes).map_err(|e| format!("record entry {k}: {e}"))
}

/// Runs entries 1.. (`rest`) again on the session just opened (`state` and `record` after
/// entry 0): each regenerated entry must equal the recorded bytes, and the chain must end at
/// `head`.
fn replay_commands(
    seed: &MasterSeed,
    public: &Public,
    mut state: SessionState,
    mut record: Record,
    rest: &[Vec<u8>],
    head: &[u8; 32],
) -> Result<ReplayReport, String> {
    let sub = session_seed(seed, state.session).map_err(|e| e.to_string())?;
    let secret_at = secret_ask(&sub).map_err(|e| e.to_string())?;
    let mut report = ReplayReport {
        entries: 1,
        head: record.head,
        secret_entry: None,
        forgeries: Vec::new(),
    };
    for (i, bytes) in rest.iter().enumerate() {
        let k = i.saturating_add(1);
        let e = parsed(k, bytes)?;
        let input = command::Command::from_entry(&e)
            .map_err(|err| format!("record entry {k}: input: {err}"))?;
        let asks_before = state.used.asks;
        let outcome = command::run(seed, public, &mut state, &mut record, e.now, &input)
            .map_err(|err| format!("record entry {k}: the command is refused: {err}"))?;
        if outcome.entry != *bytes {
            return Err(format!("record entry {k}: differs from the regeneration"));
        }
        if state.used.asks > asks_before && asks_before == secret_at {
            report.secret_entry = Some(k as u64);
        }
        if let command::Answer::Accepted { win: Some(forgery) } = outcome.answer {
            report.forgeries.push(ReplayedForgery {
                k: k as u64,
                head: record.head,
                forgery,
            });
        }
    }
    if record.head != *head {
        return Err(format!(
            "record: the head of its {} entries is {}, not the logged {}",
            record.len,
            hex::encode(record.head),
            hex::encode(head)
        ));
    }
    report.entries = record.len;
    report.head = record.head;
    Ok(report)
}
