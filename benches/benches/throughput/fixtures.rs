//! What the benchmarks share: timing with untimed setup, payloads, and our sessions brought to
//! a steady state.

use std::hint::black_box;
use std::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use target_impl::{Device, Outgoing, PeerId, Session, VerifiedBundle};

use crate::clock;

/// The clock passed to every operation (no message expires: TTL 0).
pub(crate) const NOW: u64 = 1_700_000_000;

/// Bytes of prepared inputs per batch: small enough to stay in cache like a message that just
/// arrived, large enough that reading the clock costs nothing per operation.
const BATCH_BYTES: usize = 256 << 10;

/// How many operations of `bytes` each make one batch.
pub(crate) fn batch_for(bytes: usize) -> usize {
    (BATCH_BYTES / bytes.max(1)).clamp(1, 64)
}

/// Times `iters` operations, `batch` at a time: `before` runs before each batch (untimed),
/// `prepare` makes one operation's input (untimed), `run` is the timed operation; its output is
/// dropped after the clock stops.
pub(crate) fn batched<S, I, O>(
    state: &mut S,
    iters: u64,
    batch: usize,
    mut before: impl FnMut(&mut S, usize),
    mut prepare: impl FnMut(&mut S) -> I,
    mut run: impl FnMut(&mut S, I) -> O,
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    let mut inputs = Vec::with_capacity(batch);
    let mut outputs = Vec::with_capacity(batch);
    while left > 0 {
        let n = usize::try_from(left.min(batch as u64)).unwrap_or(batch);
        before(state, n);
        inputs.extend((0..n).map(|_| prepare(state)));
        let start = clock::now();
        for input in inputs.drain(..) {
            outputs.push(black_box(run(state, black_box(input))));
        }
        total += clock::since(start);
        outputs.clear();
        left -= n as u64;
    }
    total
}

/// A payload of `len` bytes (not all zero, so nothing special-cases it).
pub(crate) fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A message to send with this payload.
pub(crate) fn outgoing(payload: &[u8]) -> Outgoing<'_> {
    Outgoing {
        content_type: 1,
        ttl: 0,
        payload,
    }
}

/// A deterministic RNG.
pub(crate) fn rng(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

/// Two devices before any session: Bob publishes a bundle with one-time prekeys (X25519 and
/// ML-KEM) or without (then his last-resort ML-KEM prekey is used).
pub(crate) struct Devices {
    /// The initiator.
    pub(crate) alice: Device,
    /// The responder.
    pub(crate) bob: Device,
    /// Bob's name for Alice.
    pub(crate) to_alice: PeerId,
    /// Alice's name for Bob.
    pub(crate) to_bob: PeerId,
    /// Bob's verified bundle.
    pub(crate) bundle: VerifiedBundle,
    /// Bob's bundle as published.
    pub(crate) bundle_bytes: Vec<u8>,
}

impl Devices {
    /// Generates both devices.
    pub(crate) fn new(one_time_prekeys: bool, rng: &mut ChaCha20Rng) -> Self {
        let alice = Device::generate(rng).expect("generate");
        let mut bob = Device::generate(rng).expect("generate");
        if one_time_prekeys {
            bob.add_one_time_prekeys(1, rng).expect("one-time prekeys");
            bob.add_one_time_kem_prekeys(1, rng)
                .expect("one-time ML-KEM prekeys");
        }
        let bundle_bytes = bob.prekey_bundle().expect("bundle").to_bytes();
        let bundle = VerifiedBundle::import(&bundle_bytes).expect("import");
        Self {
            alice,
            bob,
            to_alice: PeerId::new("alice").expect("peer id"),
            to_bob: PeerId::new("bob").expect("peer id"),
            bundle,
            bundle_bytes,
        }
    }

    /// Alice starts a session and returns her first (initial) message.
    pub(crate) fn initial_message(&mut self, payload: &[u8], rng: &mut ChaCha20Rng) -> Vec<u8> {
        self.alice
            .initiate(&self.to_bob, &self.bundle, rng)
            .expect("initiate");
        self.alice
            .session_mut(&self.to_bob)
            .expect("session")
            .encrypt(&outgoing(payload), NOW, rng)
            .expect("encrypt")
    }
}

/// Longest sending chain a benchmark lets grow before it restarts from the pristine sessions
/// (target-impl caps a chain at 2^24 messages).
const MAX_CHAIN: u64 = 1 << 22;

/// Alice's and Bob's sessions in the steady state of a one-way stream from Alice to Bob: the
/// setup is done, each has received from the other, and Alice's current sending chain is
/// known to Bob, so a message needs no DH ratchet turn and Bob tries two header keys.
pub(crate) struct Pair {
    /// Alice's session with Bob.
    pub(crate) alice: Session,
    /// Bob's session with Alice.
    pub(crate) bob: Session,
    pristine: (Session, Session),
    /// Randomness for encryption.
    pub(crate) rng: ChaCha20Rng,
    sent: u64,
    /// Whose turn it is in a ping-pong (true: Bob sends next).
    pub(crate) bob_next: bool,
}

impl Pair {
    /// Runs the setup and the first exchanges.
    pub(crate) fn new() -> Self {
        let mut rng = rng(3);
        let mut d = Devices::new(true, &mut rng);
        let hello = payload(16);
        let first = d.initial_message(&hello, &mut rng);
        d.bob.decrypt(&d.to_alice, &first, NOW).expect("first");
        let mut alice = d.alice.session(&d.to_bob).expect("session").clone();
        let mut bob = d.bob.session(&d.to_alice).expect("session").clone();
        // Bob replies (his DH turn), Alice answers (hers): both chains are now running.
        send_and_receive(&mut bob, &mut alice, &hello, &mut rng);
        send_and_receive(&mut alice, &mut bob, &hello, &mut rng);
        assert!(!alice.awaiting_reply() && !bob.awaiting_reply());
        Self {
            pristine: (alice.clone(), bob.clone()),
            alice,
            bob,
            rng,
            sent: 0,
            bob_next: true,
        }
    }

    /// Before a batch of `n` messages from Alice: restart from the pristine sessions if her
    /// chain would grow past [`MAX_CHAIN`] (only ever between batches, so that no prepared
    /// message belongs to an abandoned chain).
    pub(crate) fn before_batch(&mut self, n: usize) {
        if self.sent + n as u64 > MAX_CHAIN {
            self.alice = self.pristine.0.clone();
            self.bob = self.pristine.1.clone();
            self.sent = 0;
        }
        self.sent += n as u64;
    }

    /// Alice encrypts one message to Bob.
    pub(crate) fn alice_sends(&mut self, payload: &[u8]) -> Vec<u8> {
        self.alice
            .encrypt(&outgoing(payload), NOW, &mut self.rng)
            .expect("encrypt")
    }
}

/// Encrypts a message from `from` and decrypts it in place at `to`; returns the wire buffer
/// (dropped by the caller after the clock stops).
pub(crate) fn send_and_receive(
    from: &mut Session,
    to: &mut Session,
    payload: &[u8],
    rng: &mut ChaCha20Rng,
) -> Vec<u8> {
    let mut wire = from.encrypt(&outgoing(payload), NOW, rng).expect("encrypt");
    let received = to.decrypt_in_place(&mut wire, NOW).expect("decrypt");
    black_box(received.payload.len());
    wire
}
