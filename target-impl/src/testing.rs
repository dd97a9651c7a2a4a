//! The interaction model: two devices, a lossy and hostile network between them, and a model
//! that predicts the outcome of every delivery. Shared by the proptest
//! (`tests/interaction.rs`) and the fuzz target, which both call [`run`].
//!
//! A [`Scenario`] is a seed and a list of [`Event`]s (both [`arbitrary::Arbitrary`]). The
//! runner sets up Alice (initiator, party [`Party::A`]) and Bob (responder, [`Party::B`],
//! one one-time X25519 and one one-time ML-KEM prekey), replays the events, then delivers every
//! message still in flight, and checks after every step that the library did what the model
//! predicts, byte for byte where the state must not change. The model tracks, per direction,
//! the sender's DH ratchet epoch and counter of every message and mirrors the receiver's store
//! of skipped keys (its key, chain and age caps), so it predicts the exact error class of every
//! refusal. A broken invariant is a [`Violation`]; the runner never panics.
//!
//! Invariants checked:
//! - an honest delivery the model expects to open decrypts, once, to exactly the payload,
//!   content type, `sent_at`, `ttl` and `expires_at` sent; one at or after `sent_at + ttl`
//!   (TTL > 0) is instead [`Error::Expired`];
//! - every other honest delivery is refused with the class docs/PROTOCOL.md (7.7, 9.2) gives:
//!   [`Error::Replay`] for a used, evicted or aged-out key whose chain's header key is still
//!   held (so every repeat within a held chain), [`Error::Unauthentic`] once no held header key
//!   opens it (its chain was evicted, purged or fully used), [`Error::TooManySkipped`] beyond
//!   [`MAX_SKIP`]; and the model itself may refuse a never-used message only if a cap took its
//!   key;
//! - every refusal other than `Expired`, and every tampered copy (which must be refused), leaves
//!   the receiver's [`Device::to_bytes`] byte-identical;
//! - a restored device re-serializes byte-identically;
//! - Alice's messages carry the PQXDH prefix exactly until she authenticates a reply (her first
//!   sending chain), and every message has the length its payload's padding gives;
//! - Bob has a session (and has spent his one-time prekeys) exactly when he has authenticated
//!   a message from Alice; his sends before that are no-ops;
//! - after the final flush, every message not dropped was delivered exactly once, unless it
//!   expired or a cap took its key.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use arbitrary::Arbitrary as _;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

use crate::{
    BODY_PREAMBLE_LEN, Device, Error, INITIAL_PREFIX_LEN_WITHOUT_OPK, INITIAL_TYPE, MAX_SKIP,
    MAX_SKIPPED_AGE_SECS, MAX_SKIPPED_CHAINS, MAX_SKIPPED_KEYS, Message, Outgoing, PeerId,
    RANDOM_LEN, RATCHET_TYPE, VerifiedBundle,
};

/// Most events of a scenario the runner processes; the rest are ignored.
pub const MAX_EVENTS: usize = 256;
/// The clock at the start of every scenario (seconds since the Unix epoch).
pub const START_TIME: u64 = 1_700_000_000;
/// TTL of [`Ttl::Short`], in seconds.
pub const SHORT_TTL: u32 = 30;
/// TTL of [`Ttl::Long`], in seconds.
pub const LONG_TTL: u32 = 24 * 3600;
/// Largest single [`Event::Advance`], in seconds.
pub const MAX_ADVANCE_SECS: u64 = 2 * 24 * 3600;
/// Most messages one [`Event::SendMany`] sends.
pub const MAX_SEND_MANY: u8 = 4;

/// Clear part of a ratchet message: version, type, `r`, header ciphertext length.
const CLEAR_LEN: usize = 2 + RANDOM_LEN + 1;
/// Header ciphertext of a version-1 message: key, PN, N, extension length, tag.
const HEADER_CT_LEN: usize = 32 + 4 + 4 + 1 + 16;
/// Prefix of Alice's initial messages: Bob's bundle always carries a one-time prekey.
const INITIAL_PREFIX_LEN: usize = INITIAL_PREFIX_LEN_WITHOUT_OPK + 4;

/// One of the two devices.
#[derive(arbitrary::Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// Alice, the initiator.
    A,
    /// Bob, the responder.
    B,
}

impl Party {
    /// The other party.
    pub fn other(self) -> Self {
        match self {
            Party::A => Party::B,
            Party::B => Party::A,
        }
    }
}

/// Payload size class.
#[derive(arbitrary::Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// 0 to 63 bytes (the two smallest padding buckets).
    Small(u8),
    /// 960 to 1087 bytes: around the largest bucket, on both sides of it.
    Kib(u8),
    /// 2048 to 6128 bytes (Padmé padding).
    FewKib(u8),
}

impl Size {
    /// The payload length this class and hint select.
    pub fn len(self) -> usize {
        match self {
            Size::Small(h) => usize::from(h % 64),
            Size::Kib(h) => 960 + usize::from(h % 128),
            Size::FewKib(h) => 2048 + 16 * usize::from(h),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// Self-destruct class.
#[derive(arbitrary::Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// TTL 0: never expires.
    Never,
    /// [`SHORT_TTL`] seconds.
    Short,
    /// [`LONG_TTL`] seconds.
    Long,
}

impl Ttl {
    /// The TTL in seconds.
    pub fn secs(self) -> u32 {
        match self {
            Ttl::Never => 0,
            Ttl::Short => SHORT_TTL,
            Ttl::Long => LONG_TTL,
        }
    }
}

/// A clock advance, at most [`MAX_ADVANCE_SECS`].
#[derive(arbitrary::Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// 0 to 255 seconds.
    Secs(u8),
    /// 0 to 255 minutes.
    Mins(u8),
    /// 0 to 48 hours (the hint modulo 49).
    Hours(u8),
}

impl Step {
    /// The advance in seconds.
    pub fn secs(self) -> u64 {
        match self {
            Step::Secs(s) => u64::from(s),
            Step::Mins(m) => 60 * u64::from(m),
            Step::Hours(h) => 3600 * u64::from(h % 49),
        }
    }
}

/// Where a tamper lands (the position is taken modulo the region's length).
#[derive(arbitrary::Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    /// Anywhere in the message.
    Anywhere,
    /// In the PQXDH initial-message prefix (anywhere if the message has none).
    Prefix,
    /// In the clear part of the ratchet message: version, type, `r`, header length.
    Clear,
    /// In the header ciphertext and its tag.
    Header,
    /// In the body ciphertext and its tag.
    Body,
}

/// One step of a scenario. Queue indices are taken modulo the queue length; an event on an
/// empty queue does nothing.
#[derive(arbitrary::Arbitrary, Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `from` encrypts one message to the other party (a no-op for Bob before he has a
    /// session).
    Send {
        /// The sender.
        from: Party,
        /// Payload size class.
        size: Size,
        /// Self-destruct class.
        ttl: Ttl,
        /// The content type byte.
        content_type: u8,
    },
    /// `from` encrypts 1 to [`MAX_SEND_MANY`] messages (`1 + count % MAX_SEND_MANY`).
    SendMany {
        /// The sender.
        from: Party,
        /// Number of messages, modulo [`MAX_SEND_MANY`], plus one.
        count: u8,
        /// Payload size class of every message.
        size: Size,
        /// Self-destruct class of every message.
        ttl: Ttl,
    },
    /// Delivers (and removes) the `index`-th message in flight to `to`.
    Deliver {
        /// The receiver.
        to: Party,
        /// Queue position.
        index: u16,
    },
    /// Delivers the oldest message in flight to `to`.
    DeliverNext {
        /// The receiver.
        to: Party,
    },
    /// Loses the `index`-th message in flight to `to`.
    Drop {
        /// The receiver it was meant for.
        to: Party,
        /// Queue position.
        index: u16,
    },
    /// Delivers a copy of the `index`-th message to `to` among those already delivered or
    /// still in flight (in sending order); a message in flight stays in flight.
    Duplicate {
        /// The receiver.
        to: Party,
        /// Position among the eligible messages.
        index: u16,
    },
    /// Swaps two messages in flight to `to`.
    Reorder {
        /// The receiver.
        to: Party,
        /// One queue position.
        first: u16,
        /// The other queue position.
        second: u16,
    },
    /// Delivers a copy of the `index`-th message in flight to `to` with one byte xored with a
    /// non-zero mask (0 means 0x80); the original stays in flight.
    Tamper {
        /// The receiver.
        to: Party,
        /// Queue position.
        index: u16,
        /// Which part of the message.
        region: Region,
        /// Position in the region.
        position: u16,
        /// The xor mask.
        mask: u8,
    },
    /// Advances the shared clock.
    Advance(Step),
    /// Serializes the party's device, restores it and continues with the restored copy.
    Restore(Party),
}

/// A whole interaction: the seed of the devices' randomness and the events.
///
/// Its [`Arbitrary`](arbitrary::Arbitrary) implementation reads the seed, then events until
/// the data runs out ([`MAX_EVENTS`] at most), with no per-element continuation flag (the
/// derived `Vec` one would make random bytes yield about one event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Seeds the ChaCha20 generator both devices draw from.
    pub seed: [u8; 32],
    /// The events, of which the first [`MAX_EVENTS`] (or [`Options::max_events`]) run.
    pub events: Vec<Event>,
}

impl<'a> arbitrary::Arbitrary<'a> for Scenario {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let seed = u.arbitrary()?;
        let mut events = Vec::new();
        while !u.is_empty() && events.len() < MAX_EVENTS {
            events.push(Event::arbitrary(u)?);
        }
        Ok(Self { seed, events })
    }

    fn arbitrary_take_rest(mut u: arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Self::arbitrary(&mut u)
    }

    fn size_hint(depth: usize) -> (usize, Option<usize>) {
        let (seed, _) = <[u8; 32] as arbitrary::Arbitrary>::size_hint(depth);
        (seed, None)
    }
}

/// A deliberate error in the model, to show that the runner detects a misbehaving library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sabotage {
    /// The model expects the first sent message to carry one more payload byte.
    CorruptExpectedPayload,
    /// The model forgets the `nth` successful decryption (0-based): no commit, not marked
    /// delivered.
    ForgetDelivery {
        /// Which successful decryption.
        nth: usize,
    },
}

/// How [`run_with`] runs a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Most events processed.
    pub max_events: usize,
    /// Deliver every message still in flight after the events (both directions, oldest
    /// first), so that every undropped message is checked.
    pub flush: bool,
    /// A deliberate model error.
    pub sabotage: Option<Sabotage>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_events: MAX_EVENTS,
            flush: true,
            sabotage: None,
        }
    }
}

/// What happened in a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Events processed.
    pub events: usize,
    /// Messages encrypted.
    pub sent: usize,
    /// Of those, initial messages (carrying the PQXDH prefix).
    pub initial_sent: usize,
    /// Sends by Bob before he had a session (no-ops).
    pub sends_without_session: usize,
    /// Successful decryptions.
    pub delivered: usize,
    /// Messages lost by [`Event::Drop`].
    pub dropped: usize,
    /// Honest deliveries refused with [`Error::Replay`] (a repeat, or a key no longer held
    /// in a chain whose header key is still held).
    pub replays_refused: usize,
    /// Honest deliveries refused with [`Error::Unauthentic`]: repeats or late messages of a
    /// chain whose header key the receiver no longer holds.
    pub stale_refused: usize,
    /// Honest deliveries refused with [`Error::TooManySkipped`].
    pub too_many_skipped: usize,
    /// Tampered deliveries refused.
    pub tampers_refused: usize,
    /// Deliveries refused with [`Error::Expired`].
    pub expired: usize,
    /// Skipped keys the model saw evicted (chain or key cap) or purged (age cap).
    pub keys_lost: usize,
    /// Device restores.
    pub restores: usize,
    /// DH ratchet turns: sending chains started, both parties together.
    pub dh_turns: usize,
    /// Messages delivered by the final flush.
    pub flushed: usize,
}

/// A broken invariant: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// `setup`, `event <i>: <event>` or `flush`.
    pub at: String,
    /// What the library did and what the model expected.
    pub what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {}: {}", self.at, self.what)
    }
}

impl std::error::Error for Violation {}

/// Runs `scenario` with the default [`Options`].
pub fn run(scenario: &Scenario) -> Result<Report, Violation> {
    run_with(scenario, &Options::default())
}

/// Builds a scenario from raw (fuzzer) bytes with [`arbitrary`] and runs it with the default
/// [`Options`]. Every input makes a scenario.
pub fn run_bytes(data: &[u8]) -> Result<Report, Violation> {
    let scenario =
        Scenario::arbitrary_take_rest(arbitrary::Unstructured::new(data)).map_err(|e| {
            Violation {
                at: "input".into(),
                what: format!("no scenario from {} bytes: {e}", data.len()),
            }
        })?;
    run(&scenario)
}

/// Runs `scenario`: sets up the two devices, processes the events, flushes (if asked), and
/// returns what happened, or the first broken invariant.
pub fn run_with(scenario: &Scenario, options: &Options) -> Result<Report, Violation> {
    let mut world = World::new(scenario.seed, *options).map_err(|what| Violation {
        at: "setup".into(),
        what,
    })?;
    for (i, event) in scenario.events.iter().take(options.max_events).enumerate() {
        world.report.events += 1;
        world
            .event(event)
            .and_then(|()| world.check_sessions())
            .map_err(|what| Violation {
                at: format!("event {i}: {event:?}"),
                what,
            })?;
    }
    if options.flush {
        world
            .flush()
            .and_then(|()| world.check_sessions())
            .and_then(|()| world.check_final())
            .map_err(|what| Violation {
                at: "flush".into(),
                what,
            })?;
    }
    Ok(world.report)
}

type Check = Result<(), String>;

/// A sent message and what the model knows of it.
struct Msg {
    from: Party,
    bytes: Vec<u8>,
    payload: Vec<u8>,
    content_type: u8,
    sent_at: u64,
    ttl: u32,
    /// The sender's sending-chain epoch (1 = its first chain).
    epoch: u32,
    n: u32,
    pn: u32,
    in_flight: bool,
    dropped: bool,
    /// Honest delivery attempts, any outcome.
    attempts: u32,
    /// Successful decryptions.
    delivered: u32,
    /// The receiver used up its key (decrypted, or refused as expired).
    consumed: bool,
    /// The model saw its skipped key evicted or purged, or found it past the age cap.
    key_lost: bool,
    /// The receiver refused it because of the skip cap.
    too_many_skipped: bool,
}

/// The sender's side of the ratchet, as the model sees it.
#[derive(Default)]
struct SenderModel {
    epoch: u32,
    ns: u32,
    pn: u32,
    step_pending: bool,
}

/// One stored chain of skipped keys: the peer's sending epoch, `(n, stored_at)` ascending.
struct ChainModel {
    epoch: u32,
    keys: VecDeque<(u32, u64)>,
}

/// Mirror of the receiver's skipped-key store (`skipped.rs`), keyed by epoch instead of
/// header key.
#[derive(Default)]
struct StoreModel {
    chains: VecDeque<ChainModel>,
    total: usize,
}

fn is_live(stored_at: u64, now: u64) -> bool {
    now < stored_at.saturating_add(MAX_SKIPPED_AGE_SECS)
}

impl StoreModel {
    fn chain_index(&self, epoch: u32) -> Option<usize> {
        self.chains.iter().position(|c| c.epoch == epoch)
    }

    /// Whether the key `(epoch, n)` is stored but past the age cap (not yet purged).
    fn holds_dead(&self, epoch: u32, n: u32, now: u64) -> bool {
        self.chains
            .iter()
            .any(|c| c.epoch == epoch && c.keys.iter().any(|&(k, at)| k == n && !is_live(at, now)))
    }

    fn find(&self, chain: usize, n: u32, now: u64) -> Option<usize> {
        let keys = &self.chains.get(chain)?.keys;
        let key = keys.iter().position(|&(k, _)| k == n)?;
        let &(_, stored_at) = keys.get(key)?;
        is_live(stored_at, now).then_some(key)
    }

    fn remove(&mut self, chain: usize, key: usize) {
        if let Some(c) = self.chains.get_mut(chain) {
            if c.keys.remove(key).is_some() {
                self.total = self.total.saturating_sub(1);
            }
            if c.keys.is_empty() {
                self.chains.remove(chain);
            }
        }
    }

    /// Stores keys `from..until` of `epoch`, then evicts to the caps; returns the lost keys.
    fn insert(&mut self, epoch: u32, from: u32, until: u32, now: u64, lost: &mut Vec<(u32, u32)>) {
        if from >= until {
            return;
        }
        let entries = (from..until).map(|n| (n, now));
        match self.chains.back_mut() {
            Some(last) if last.epoch == epoch => last.keys.extend(entries),
            _ => self.chains.push_back(ChainModel {
                epoch,
                keys: entries.collect(),
            }),
        }
        self.total = self.total.saturating_add((until - from) as usize);
        while self.chains.len() > MAX_SKIPPED_CHAINS {
            if let Some(old) = self.chains.pop_front() {
                self.total = self.total.saturating_sub(old.keys.len());
                lost.extend(old.keys.iter().map(|&(n, _)| (old.epoch, n)));
            }
        }
        while self.total > MAX_SKIPPED_KEYS {
            let Some(first) = self.chains.front_mut() else {
                break;
            };
            if let Some((n, _)) = first.keys.pop_front() {
                self.total = self.total.saturating_sub(1);
                lost.push((first.epoch, n));
            }
            if first.keys.is_empty() {
                self.chains.pop_front();
            }
        }
    }

    fn purge(&mut self, now: u64, lost: &mut Vec<(u32, u32)>) {
        for chain in &mut self.chains {
            while let Some(&(n, stored_at)) = chain.keys.front() {
                if is_live(stored_at, now) {
                    break;
                }
                chain.keys.pop_front();
                self.total = self.total.saturating_sub(1);
                lost.push((chain.epoch, n));
            }
        }
        self.chains.retain(|c| !c.keys.is_empty());
    }
}

/// What a decryption will change, as the library stages it.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// A stored skipped key is used (and deleted).
    Skipped { chain: usize, key: usize },
    /// The current receiving chain advances to `n + 1`.
    Current { n: u32 },
    /// A DH ratchet step: the old chain is skipped up to `pn`, the new one up to `n`.
    NewChain { epoch: u32, pn: u32, n: u32 },
}

/// The receiver's side of the ratchet, as the model sees it: the peer's epochs.
#[derive(Default)]
struct ReceiverModel {
    /// Epoch of the current receiving chain; 0 before the first message.
    cur: u32,
    nr: u32,
    store: StoreModel,
}

impl ReceiverModel {
    /// The outcome of decrypting an honest message of `(epoch, n, pn)` at `now`, before
    /// expiry (checked after authentication). Mirrors the candidate order of trial decryption:
    /// current header key, next header key, then stored chains.
    fn predict(&self, epoch: u32, n: u32, pn: u32, now: u64) -> Result<Plan, Error> {
        if self.cur > 0 && epoch == self.cur {
            if n < self.nr {
                let chain = self.store.chain_index(epoch).ok_or(Error::Replay)?;
                let key = self.store.find(chain, n, now).ok_or(Error::Replay)?;
                return Ok(Plan::Skipped { chain, key });
            }
            if n - self.nr > MAX_SKIP {
                return Err(Error::TooManySkipped);
            }
            return Ok(Plan::Current { n });
        }
        if self.cur.checked_add(1) == Some(epoch) {
            if (self.cur > 0 && pn.saturating_sub(self.nr) > MAX_SKIP) || n > MAX_SKIP {
                return Err(Error::TooManySkipped);
            }
            return Ok(Plan::NewChain { epoch, pn, n });
        }
        // An older chain opens only under a stored chain's header key.
        let chain = self.store.chain_index(epoch).ok_or(Error::Unauthentic)?;
        let key = self.store.find(chain, n, now).ok_or(Error::Replay)?;
        Ok(Plan::Skipped { chain, key })
    }

    /// Applies `plan`; returns the skipped keys lost to the caps.
    fn commit(&mut self, plan: Plan, now: u64) -> Vec<(u32, u32)> {
        let mut lost = Vec::new();
        match plan {
            Plan::Skipped { chain, key } => self.store.remove(chain, key),
            Plan::Current { n } => {
                self.store.insert(self.cur, self.nr, n, now, &mut lost);
                self.nr = n.saturating_add(1);
            }
            Plan::NewChain { epoch, pn, n } => {
                if self.cur > 0 {
                    self.store.insert(self.cur, self.nr, pn, now, &mut lost);
                }
                self.store.insert(epoch, 0, n, now, &mut lost);
                self.cur = epoch;
                self.nr = n.saturating_add(1);
            }
        }
        self.store.purge(now, &mut lost);
        lost
    }
}

/// One device and the model of its two ratchet halves.
struct Side {
    device: Device,
    /// How this device names the other one.
    peer: PeerId,
    sender: SenderModel,
    receiver: ReceiverModel,
    has_session: bool,
    /// Alice repeats the initial prefix until she authenticates a message from Bob.
    awaiting_reply: bool,
}

struct World {
    a: Side,
    b: Side,
    rng: ChaCha20Rng,
    now: u64,
    msgs: Vec<Msg>,
    to_a: VecDeque<usize>,
    to_b: VecDeque<usize>,
    /// `(epoch, n)` of each message to A (sent by B), to its id.
    index_to_a: BTreeMap<(u32, u32), usize>,
    /// `(epoch, n)` of each message to B (sent by A), to its id.
    index_to_b: BTreeMap<(u32, u32), usize>,
    report: Report,
    options: Options,
    /// Successful decryptions so far (for [`Sabotage::ForgetDelivery`]).
    successes: usize,
}

fn err<T>(what: impl Into<String>) -> Result<T, String> {
    Err(what.into())
}

fn pick(len: usize, index: usize) -> Option<usize> {
    index.checked_rem(len)
}

impl World {
    fn new(seed: [u8; 32], options: Options) -> Result<Self, String> {
        let mut rng = ChaCha20Rng::from_seed(seed);
        let e = |what: &'static str| move |e: Error| format!("{what}: {e}");
        let mut alice = Device::generate(&mut rng).map_err(e("Alice's generate"))?;
        let mut bob = Device::generate(&mut rng).map_err(e("Bob's generate"))?;
        bob.add_one_time_prekeys(1, &mut rng)
            .map_err(e("add_one_time_prekeys"))?;
        bob.add_one_time_kem_prekeys(1, &mut rng)
            .map_err(e("add_one_time_kem_prekeys"))?;
        let bundle = bob.prekey_bundle().map_err(e("prekey_bundle"))?;
        let bundle = VerifiedBundle::import(&bundle.to_bytes()).map_err(e("bundle import"))?;
        let to_a = PeerId::new("alice").map_err(e("PeerId"))?;
        let to_b = PeerId::new("bob").map_err(e("PeerId"))?;
        alice
            .initiate(&to_b, &bundle, &mut rng)
            .map_err(e("initiate"))?;
        Ok(Self {
            a: Side {
                device: alice,
                peer: to_b,
                sender: SenderModel {
                    step_pending: true,
                    ..SenderModel::default()
                },
                receiver: ReceiverModel::default(),
                has_session: true,
                awaiting_reply: true,
            },
            b: Side {
                device: bob,
                peer: to_a,
                sender: SenderModel::default(),
                receiver: ReceiverModel::default(),
                has_session: false,
                awaiting_reply: false,
            },
            rng,
            now: START_TIME,
            msgs: Vec::new(),
            to_a: VecDeque::new(),
            to_b: VecDeque::new(),
            index_to_a: BTreeMap::new(),
            index_to_b: BTreeMap::new(),
            report: Report::default(),
            options,
            successes: 0,
        })
    }

    fn side_mut(&mut self, party: Party) -> &mut Side {
        match party {
            Party::A => &mut self.a,
            Party::B => &mut self.b,
        }
    }

    fn queue_mut(&mut self, to: Party) -> &mut VecDeque<usize> {
        match to {
            Party::A => &mut self.to_a,
            Party::B => &mut self.to_b,
        }
    }

    fn msg(&self, id: usize) -> Result<&Msg, String> {
        self.msgs.get(id).ok_or_else(|| format!("no message {id}"))
    }

    fn msg_mut(&mut self, id: usize) -> Result<&mut Msg, String> {
        self.msgs
            .get_mut(id)
            .ok_or_else(|| format!("no message {id}"))
    }

    fn event(&mut self, event: &Event) -> Check {
        match *event {
            Event::Send {
                from,
                size,
                ttl,
                content_type,
            } => self.send(from, size.len(), ttl.secs(), content_type),
            Event::SendMany {
                from,
                count,
                size,
                ttl,
            } => {
                for i in 0..=count % MAX_SEND_MANY {
                    self.send(from, size.len(), ttl.secs(), i)?;
                }
                Ok(())
            }
            Event::Deliver { to, index } => self.deliver_queued(to, usize::from(index)),
            Event::DeliverNext { to } => self.deliver_queued(to, 0),
            Event::Drop { to, index } => {
                let queue = self.queue_mut(to);
                let Some(pos) = pick(queue.len(), usize::from(index)) else {
                    return Ok(());
                };
                let id = queue.remove(pos).ok_or("drop: queue position")?;
                let msg = self.msg_mut(id)?;
                msg.in_flight = false;
                msg.dropped = true;
                self.report.dropped += 1;
                Ok(())
            }
            Event::Duplicate { to, index } => {
                let eligible = self
                    .msgs
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.from == to.other() && (m.in_flight || m.attempts > 0))
                    .map(|(id, _)| id);
                let count = eligible.clone().count();
                let Some(nth) = pick(count, usize::from(index)) else {
                    return Ok(());
                };
                let id = eligible.clone().nth(nth).ok_or("duplicate: position")?;
                self.deliver_honest(id)
            }
            Event::Reorder { to, first, second } => {
                let queue = self.queue_mut(to);
                let len = queue.len();
                if let (Some(i), Some(j)) = (
                    pick(len, usize::from(first)),
                    pick(len, usize::from(second)),
                ) {
                    queue.swap(i, j);
                }
                Ok(())
            }
            Event::Tamper {
                to,
                index,
                region,
                position,
                mask,
            } => {
                let queue = self.queue_mut(to);
                let Some(pos) = pick(queue.len(), usize::from(index)) else {
                    return Ok(());
                };
                let id = *queue.get(pos).ok_or("tamper: queue position")?;
                self.deliver_tampered(id, region, usize::from(position), mask)
            }
            Event::Advance(step) => {
                self.now = self.now.saturating_add(step.secs().min(MAX_ADVANCE_SECS));
                Ok(())
            }
            Event::Restore(party) => self.restore(party),
        }
    }

    fn send(&mut self, from: Party, len: usize, ttl: u32, content_type: u8) -> Check {
        let now = self.now;
        let mut payload = vec![0u8; len];
        self.rng.fill_bytes(&mut payload);
        let side = match from {
            Party::A => &mut self.a,
            Party::B => &mut self.b,
        };
        let session = side.device.session_mut(&side.peer);
        if session.is_some() != side.has_session {
            return err(format!(
                "{from:?} has a session: library {}, model {}",
                session.is_some(),
                side.has_session
            ));
        }
        let Some(session) = session else {
            self.report.sends_without_session += 1;
            return Ok(());
        };
        let out = Outgoing {
            content_type,
            ttl,
            payload: &payload,
        };
        let bytes = session
            .encrypt(&out, now, &mut self.rng)
            .map_err(|e| format!("{from:?}'s encrypt failed: {e}"))?;
        let s = &mut side.sender;
        if s.step_pending {
            s.step_pending = false;
            s.epoch = s.epoch.saturating_add(1);
            s.pn = s.ns;
            s.ns = 0;
            self.report.dh_turns += 1;
        }
        let (epoch, n, pn) = (s.epoch, s.ns, s.pn);
        s.ns = s.ns.saturating_add(1);
        let initial = bytes.get(1) == Some(&INITIAL_TYPE);
        if initial != (from == Party::A && side.awaiting_reply) {
            return err(format!(
                "{from:?}'s message (epoch {epoch}, n {n}) carries the initial prefix: {initial}, \
                 model expects {}",
                side.awaiting_reply
            ));
        }
        // Alice stops sending the prefix exactly when her first chain ends.
        if from == Party::A && initial != (epoch == 1) {
            return err(format!("initial prefix in Alice's epoch {epoch}"));
        }
        let expected_len = usize::from(initial) * INITIAL_PREFIX_LEN
            + CLEAR_LEN
            + HEADER_CT_LEN
            + crate::padded_len(BODY_PREAMBLE_LEN + len)
            + 16;
        if bytes.len() != expected_len {
            return err(format!(
                "message length {} for payload {len}, expected {expected_len}",
                bytes.len()
            ));
        }
        if self.options.sabotage == Some(Sabotage::CorruptExpectedPayload) && self.msgs.is_empty() {
            payload.push(0);
        }
        let id = self.msgs.len();
        self.msgs.push(Msg {
            from,
            bytes,
            payload,
            content_type,
            sent_at: now,
            ttl,
            epoch,
            n,
            pn,
            in_flight: true,
            dropped: false,
            attempts: 0,
            delivered: 0,
            consumed: false,
            key_lost: false,
            too_many_skipped: false,
        });
        let to = from.other();
        match to {
            Party::A => self.index_to_a.insert((epoch, n), id),
            Party::B => self.index_to_b.insert((epoch, n), id),
        };
        self.queue_mut(to).push_back(id);
        self.report.sent += 1;
        if initial {
            self.report.initial_sent += 1;
        }
        Ok(())
    }

    fn deliver_queued(&mut self, to: Party, index: usize) -> Check {
        let queue = self.queue_mut(to);
        let Some(pos) = pick(queue.len(), index) else {
            return Ok(());
        };
        let id = queue.remove(pos).ok_or("deliver: queue position")?;
        self.msg_mut(id)?.in_flight = false;
        self.deliver_honest(id)
    }

    /// Delivers an unmodified copy of message `id` and checks the outcome against the model.
    fn deliver_honest(&mut self, id: usize) -> Check {
        let now = self.now;
        let sabotage = self.options.sabotage;
        let msg = self.msg(id)?;
        let (from, epoch, n, pn) = (msg.from, msg.epoch, msg.n, msg.pn);
        let (consumed, key_lost) = (msg.consumed, msg.key_lost);
        let expired = msg.ttl > 0 && now >= msg.sent_at.saturating_add(u64::from(msg.ttl));
        let bytes = msg.bytes.clone();
        let to = from.other();
        let what = format!("{from:?}→{to:?} message {id} (epoch {epoch}, n {n}, pn {pn})");

        let side = self.side_mut(to);
        let prediction = side.receiver.predict(epoch, n, pn, now);
        let aged = side.receiver.store.holds_dead(epoch, n, now);
        let key_lost = key_lost || aged;
        // Guards on the model itself: a used key never opens again, and a message whose key
        // no cap took must open.
        match prediction {
            Ok(_) if consumed => return err(format!("model: {what} would decrypt twice")),
            Err(e) if !consumed && !key_lost && e != Error::TooManySkipped => {
                return err(format!(
                    "model: {what} refused ({e}) with its key never lost"
                ));
            }
            _ => {}
        }
        let before = side.device.to_bytes();
        let result = side.device.decrypt(&side.peer, &bytes, now);
        let plan = match prediction {
            Ok(plan) => plan,
            Err(expected) => {
                match &result {
                    Err(e) if *e == expected => {}
                    Ok(_) => {
                        return err(format!(
                            "{what} decrypted; expected {expected} (consumed {consumed}, key \
                             lost {key_lost})"
                        ));
                    }
                    Err(e) => return err(format!("{what} refused with {e}; expected {expected}")),
                }
                if *side.device.to_bytes() != *before {
                    return err(format!(
                        "{what} refused with {expected} but the state changed"
                    ));
                }
                match expected {
                    Error::Replay => self.report.replays_refused += 1,
                    Error::Unauthentic => self.report.stale_refused += 1,
                    Error::TooManySkipped => self.report.too_many_skipped += 1,
                    _ => {}
                }
                let msg = self.msg_mut(id)?;
                msg.attempts = msg.attempts.saturating_add(1);
                msg.too_many_skipped |= expected == Error::TooManySkipped;
                msg.key_lost |= aged;
                return Ok(());
            }
        };
        if expired {
            match &result {
                Err(Error::Expired) => {}
                Ok(_) => return err(format!("{what} decrypted after its TTL")),
                Err(e) => return err(format!("{what} refused with {e}; expected Expired")),
            }
            self.report.expired += 1;
        } else {
            match &result {
                Ok(got) => self.check_message(id, got)?,
                Err(e) => return err(format!("{what} refused with {e}; expected to decrypt")),
            }
            self.report.delivered += 1;
            let nth = self.successes;
            self.successes = nth.saturating_add(1);
            if sabotage == Some(Sabotage::ForgetDelivery { nth }) {
                let msg = self.msg_mut(id)?;
                msg.attempts = msg.attempts.saturating_add(1);
                return Ok(());
            }
        }
        let side = self.side_mut(to);
        let lost = side.receiver.commit(plan, now);
        side.awaiting_reply = false;
        if let Plan::NewChain { .. } = plan {
            side.sender.step_pending = true;
            side.has_session = true;
        }
        let msg = self.msg_mut(id)?;
        msg.attempts = msg.attempts.saturating_add(1);
        msg.consumed = true;
        if !expired {
            msg.delivered = msg.delivered.saturating_add(1);
        }
        self.report.keys_lost += lost.len();
        for key in lost {
            let index = match to {
                Party::A => &self.index_to_a,
                Party::B => &self.index_to_b,
            };
            if let Some(&lost_id) = index.get(&key) {
                self.msg_mut(lost_id)?.key_lost = true;
            }
        }
        Ok(())
    }

    fn check_message(&self, id: usize, got: &Message) -> Check {
        let msg = self.msg(id)?;
        let expires_at = (msg.ttl > 0).then(|| msg.sent_at.saturating_add(u64::from(msg.ttl)));
        if msg.delivered > 0 {
            return err(format!("message {id} decrypted a second time"));
        }
        if got.payload.as_slice() != msg.payload.as_slice()
            || got.content_type != msg.content_type
            || got.sent_at != msg.sent_at
            || got.ttl != msg.ttl
            || got.expires_at != expires_at
        {
            return err(format!(
                "message {id} decrypted to {got:?}, sent as content type {}, sent at {}, ttl {}, \
                 {} payload bytes (payload equal: {})",
                msg.content_type,
                msg.sent_at,
                msg.ttl,
                msg.payload.len(),
                got.payload.as_slice() == msg.payload.as_slice()
            ));
        }
        Ok(())
    }

    /// Delivers a copy of message `id` with one byte flipped: it must be refused and leave
    /// the receiver's state byte-identical.
    fn deliver_tampered(&mut self, id: usize, region: Region, position: usize, mask: u8) -> Check {
        let now = self.now;
        let msg = self.msg(id)?;
        let to = msg.from.other();
        let mut bytes = msg.bytes.clone();
        let len = bytes.len();
        let prefix = if bytes.get(1) == Some(&INITIAL_TYPE) {
            INITIAL_PREFIX_LEN.min(len)
        } else {
            0
        };
        let header_start = prefix.saturating_add(CLEAR_LEN);
        let body_start = header_start.saturating_add(HEADER_CT_LEN);
        let (start, span) = match region {
            Region::Anywhere => (0, len),
            Region::Prefix if prefix > 0 => (0, prefix),
            Region::Prefix => (0, len),
            Region::Clear => (prefix, CLEAR_LEN),
            Region::Header => (header_start, HEADER_CT_LEN),
            Region::Body => (body_start, len.saturating_sub(body_start)),
        };
        let span = span.min(len.saturating_sub(start));
        let (start, span) = if span == 0 { (0, len) } else { (start, span) };
        let offset = pick(span, position).ok_or("tamper: empty message")?;
        let at = start.saturating_add(offset);
        let mask = if mask == 0 { 0x80 } else { mask };
        let byte = bytes.get_mut(at).ok_or("tamper: position")?;
        *byte ^= mask;
        let kind = match bytes.get(1) {
            Some(&INITIAL_TYPE) => "initial",
            Some(&RATCHET_TYPE) => "ratchet",
            _ => "untyped",
        };

        let side = self.side_mut(to);
        let before = side.device.to_bytes();
        let result = side.device.decrypt(&side.peer, &bytes, now);
        let what = format!(
            "message {id} to {to:?} tampered at byte {at} of {len} ({region:?}, mask {mask:#04x}, \
             now {kind}, receiver has session: {})",
            side.has_session
        );
        if let Ok(got) = result {
            return err(format!("{what} was accepted: {got:?}"));
        }
        if *side.device.to_bytes() != *before {
            return err(format!(
                "{what} was refused ({result:?}) but the state changed"
            ));
        }
        self.report.tampers_refused += 1;
        Ok(())
    }

    fn restore(&mut self, party: Party) -> Check {
        let side = self.side_mut(party);
        let blob = side.device.to_bytes();
        let restored =
            Device::from_bytes(&blob).map_err(|e| format!("{party:?} does not restore: {e}"))?;
        if *restored.to_bytes() != *blob {
            return err(format!(
                "{party:?}'s restored state re-serializes differently"
            ));
        }
        side.device = restored;
        self.report.restores += 1;
        Ok(())
    }

    /// Delivers everything still in flight, to Bob first, oldest first.
    fn flush(&mut self) -> Check {
        for to in [Party::B, Party::A] {
            while let Some(id) = self.queue_mut(to).pop_front() {
                self.msg_mut(id)?.in_flight = false;
                self.deliver_honest(id)?;
                self.report.flushed += 1;
            }
        }
        Ok(())
    }

    /// The library's sessions agree with the model.
    fn check_sessions(&self) -> Check {
        let alice = self
            .a
            .device
            .session(&self.a.peer)
            .ok_or("Alice lost her session")?;
        if alice.awaiting_reply() != self.a.awaiting_reply {
            return err(format!(
                "Alice awaiting reply: library {}, model {}",
                alice.awaiting_reply(),
                self.a.awaiting_reply
            ));
        }
        let bob = self.b.device.session(&self.b.peer);
        if bob.is_some() != self.b.has_session {
            return err(format!(
                "Bob has a session: library {}, model {}",
                bob.is_some(),
                self.b.has_session
            ));
        }
        if bob.is_some_and(|s| s.awaiting_reply()) {
            return err("Bob's session awaits a reply");
        }
        let expected = if self.b.has_session { (0, 0) } else { (1, 1) };
        if self.b.device.one_time_prekey_counts() != expected {
            return err(format!(
                "Bob's one-time prekeys: {:?}, expected {expected:?}",
                self.b.device.one_time_prekey_counts()
            ));
        }
        Ok(())
    }

    /// After the flush: every undropped message was delivered exactly once, unless it
    /// expired or a cap (skip, key store, chains, age) took its key.
    fn check_final(&self) -> Check {
        for (id, m) in self.msgs.iter().enumerate() {
            if m.in_flight {
                return err(format!("message {id} still in flight"));
            }
            if m.delivered > 1 {
                return err(format!("message {id} delivered {} times", m.delivered));
            }
            if !m.dropped && !m.consumed && !m.key_lost && !m.too_many_skipped {
                return err(format!("message {id} was never delivered"));
            }
        }
        Ok(())
    }
}
