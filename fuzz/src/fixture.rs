//! The fixed-seed world the stateful targets fuzz against, and the source of their seed
//! corpora: Alice initiates to Bob, they talk with losses, reordering and a TTL, and the
//! messages Bob has not (or has already) received are kept.
//!
//! The conversation, every time `T0 + s`:
//!
//! | s | event |
//! |---|---|
//! | 0–30 | Alice sends a0–a3 (initial messages; a3 with TTL 30) |
//! | 40 | Bob receives a0, then a2 (a1 skipped) |
//! | 50 | Bob sends b0; Alice receives it |
//! | 60–80 | Alice sends a4–a6 (her second chain; a6 with TTL 30) |
//! | 90 | Bob receives a5 (new chain: a3 and a4 skipped) |
//! | 100 | Bob sends b1; Alice receives it |
//! | 110 | Alice sends a7, a8 (her third chain; a8 with TTL 30) |
//!
//! At [`SESSION_NOW`] Bob's session holds two chains of skipped keys (a1, a3 and a4), a
//! current chain at a6, and a next header key that opens a7 and a8. The handshake target's
//! responder is Bob before any of it, with one one-time X25519 and one one-time ML-KEM
//! prekey; a0–a3 are initial messages for his bundle, and Carol's c0 is one that uses only
//! his reusable (signed and last-resort) prekeys.

use std::sync::OnceLock;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use target_impl::{Device, Error, Outgoing, PeerId, Session, VerifiedBundle};
use zeroize::Zeroizing;

/// The start of the conversation (seconds since the Unix epoch).
pub const T0: u64 = 1_700_000_000;
/// The handshake target's clock: a0–a2 are live, a3 (TTL 30, sent at `T0 + 30`) expired.
pub const HANDSHAKE_NOW: u64 = T0 + 60;
/// The session target's clock for clock byte 0: a8 (TTL 30, sent at `T0 + 110`) is live.
pub const SESSION_NOW: u64 = T0 + 120;
/// The seed of every key in the world.
pub const SEED: [u8; 32] = *b"target-impl fuzz fixture seed v1";

/// The session target's clock for a clock byte: below 0x80, `SESSION_NOW + 10 s × byte`
/// (a8 expires from byte 2 on); from 0x80, `SESSION_NOW + 6 h × (byte − 0x80)` (skipped keys
/// age out, [`target_impl::MAX_SKIPPED_AGE_SECS`] = 30 days, from byte 0x80 + 120 on).
pub fn session_clock(byte: u8) -> u64 {
    let step = if byte & 0x80 == 0 { 10 } else { 6 * 3600 };
    SESSION_NOW + u64::from(byte & 0x7f) * step
}

/// A named sample of bytes: a wire message, a bundle or a state blob.
#[derive(Clone)]
pub struct Sample {
    /// File-name friendly label.
    pub name: &'static str,
    /// The bytes.
    pub bytes: Zeroizing<Vec<u8>>,
}

impl Sample {
    fn new(name: &'static str, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            name,
            bytes: Zeroizing::new(bytes.into()),
        }
    }
}

/// Everything the stateful targets and the seed generator need.
pub struct World {
    /// Bob before any message: the handshake target's responder.
    pub responder: Device,
    /// `responder.to_bytes()`.
    pub responder_blob: Zeroizing<Vec<u8>>,
    /// The name under which Bob knows Alice (and the handshake responder knows any sender).
    pub alice: PeerId,
    /// Carol before she initiates: bundle_import's initiator for every verified bundle.
    pub initiator: Device,
    /// `initiator.to_bytes()`.
    pub initiator_blob: Zeroizing<Vec<u8>>,
    /// Bob's session with Alice at the end: the session target.
    pub session: Session,
    /// `session.to_bytes()`.
    pub session_blob: Zeroizing<Vec<u8>>,
    /// Prekey bundles: Bob's with one-time prekeys, Bob's without, Alice's.
    pub bundles: Vec<Sample>,
    /// Initial messages for the responder's bundle.
    pub initial: Vec<Sample>,
    /// Messages from Alice to Bob's session (received or not), each with an interesting clock
    /// byte for the session target.
    pub to_session: Vec<(Sample, u8)>,
    /// Bob's ratchet messages to Alice.
    pub to_alice: Vec<Sample>,
    /// Device and session state blobs at several points.
    pub blobs: Vec<Sample>,
}

static WORLD: OnceLock<World> = OnceLock::new();

/// The world, built on first use.
#[allow(
    clippy::expect_used,
    reason = "fixed-seed setup, reached by no input: if it fails, every target is broken"
)]
pub fn world() -> &'static World {
    WORLD.get_or_init(|| build().expect("the fixed-seed fuzz fixture builds (fuzz/src/fixture.rs)"))
}

fn send(
    device: &mut Device,
    to: &PeerId,
    ttl: u32,
    text: &str,
    now: u64,
) -> Result<Vec<u8>, Error> {
    let mut rng = ChaCha20Rng::from_seed(message_seed(text));
    let session = device.session_mut(to).ok_or(Error::CorruptState)?;
    session.encrypt(
        &Outgoing {
            content_type: 1,
            ttl,
            payload: text.as_bytes(),
        },
        now,
        &mut rng,
    )
}

/// A per-message RNG seed, so that one message's draws do not shift another's.
fn message_seed(text: &str) -> [u8; 32] {
    let mut seed = SEED;
    for (s, b) in seed.iter_mut().zip(text.bytes()) {
        *s ^= b;
    }
    seed
}

/// Plays the conversation of the module documentation.
pub fn build() -> Result<World, Error> {
    let mut rng = ChaCha20Rng::from_seed(SEED);
    let mut alice = Device::generate(&mut rng)?;
    let mut bob = Device::generate(&mut rng)?;
    bob.add_one_time_prekeys(1, &mut rng)?;
    bob.add_one_time_kem_prekeys(1, &mut rng)?;
    let mut carol = Device::generate(&mut rng)?;
    let (to_alice, to_bob) = (PeerId::new("alice")?, PeerId::new("bob")?);
    let responder = bob.clone();
    let initiator = carol.clone();
    let bob_bundle = bob.prekey_bundle()?.to_bytes();
    let alice_bundle = alice.prekey_bundle()?.to_bytes();
    let mut blobs = vec![
        Sample::new("device_responder", bob.to_bytes().to_vec()),
        Sample::new("device_initiator_fresh", carol.to_bytes().to_vec()),
    ];

    alice.initiate(&to_bob, &VerifiedBundle::import(&bob_bundle)?, &mut rng)?;
    if let Some(session) = alice.session(&to_bob) {
        blobs.push(Sample::new(
            "session_initiator_awaiting",
            session.to_bytes().to_vec(),
        ));
    }
    let a0 = send(&mut alice, &to_bob, 0, "a0: hello Bob", T0)?;
    let a1 = send(&mut alice, &to_bob, 0, "a1: lost for a while", T0 + 10)?;
    let a2 = send(&mut alice, &to_bob, 0, "a2: overtakes a1", T0 + 20)?;
    let a3 = send(&mut alice, &to_bob, 30, "a3: self-destructs", T0 + 30)?;
    blobs.push(Sample::new(
        "device_initiator_awaiting",
        alice.to_bytes().to_vec(),
    ));

    bob.decrypt(&to_alice, &a0, T0 + 40)?;
    let bob_spent_bundle = bob.prekey_bundle()?.to_bytes();
    bob.decrypt(&to_alice, &a2, T0 + 40)?;
    let b0 = send(&mut bob, &to_alice, 0, "b0: hi Alice", T0 + 50)?;
    alice.decrypt(&to_bob, &b0, T0 + 50)?;

    let a4 = send(&mut alice, &to_bob, 0, "a4: second chain", T0 + 60)?;
    let a5 = send(&mut alice, &to_bob, 0, "a5: overtakes a4", T0 + 70)?;
    let a6 = send(&mut alice, &to_bob, 30, "a6: self-destructs too", T0 + 80)?;
    bob.decrypt(&to_alice, &a5, T0 + 90)?;
    let b1 = send(&mut bob, &to_alice, 0, "b1: turning the ratchet", T0 + 100)?;
    alice.decrypt(&to_bob, &b1, T0 + 100)?;
    let a7 = send(&mut alice, &to_bob, 0, "a7: third chain", T0 + 110)?;
    let a8 = send(&mut alice, &to_bob, 30, "a8: live for 30 s", T0 + 110)?;

    // Carol uses only Bob's reusable prekeys: his bundle once his one-time ones are spent.
    let mut carol_rng = ChaCha20Rng::from_seed(message_seed("carol"));
    carol.initiate(
        &to_bob,
        &VerifiedBundle::import(&bob_spent_bundle)?,
        &mut carol_rng,
    )?;
    let c0 = send(&mut carol, &to_bob, 0, "c0: reusable prekeys only", T0 + 20)?;

    let session = bob.session(&to_alice).ok_or(Error::CorruptState)?.clone();
    blobs.push(Sample::new(
        "session_responder",
        session.to_bytes().to_vec(),
    ));
    if let Some(s) = alice.session(&to_bob) {
        blobs.push(Sample::new("session_initiator", s.to_bytes().to_vec()));
    }
    blobs.push(Sample::new(
        "device_responder_talking",
        bob.to_bytes().to_vec(),
    ));
    blobs.push(Sample::new(
        "device_initiator_talking",
        alice.to_bytes().to_vec(),
    ));
    blobs.push(Sample::new(
        "device_carol_awaiting",
        carol.to_bytes().to_vec(),
    ));

    Ok(World {
        responder_blob: responder.to_bytes(),
        responder,
        alice: to_alice,
        initiator_blob: initiator.to_bytes(),
        initiator,
        session_blob: session.to_bytes(),
        session,
        bundles: vec![
            Sample::new("bundle_one_time", bob_bundle),
            Sample::new("bundle_reusable", bob_spent_bundle),
            Sample::new("bundle_alice", alice_bundle),
        ],
        initial: vec![
            Sample::new("initial_a0", a0.clone()),
            Sample::new("initial_a1_skips", a1.clone()),
            Sample::new("initial_a3_expired", a3.clone()),
            Sample::new("initial_c0_reusable", c0),
        ],
        to_session: vec![
            (Sample::new("a0_replayed", a0), 0),
            (Sample::new("a1_skipped_initial", a1.clone()), 0),
            (Sample::new("a1_aged_out", a1), 0x80 | 121),
            (Sample::new("a2_replayed", a2), 0),
            (Sample::new("a3_expired_skipped", a3), 0),
            (Sample::new("a4_skipped", a4.clone()), 0),
            (Sample::new("a4_aged_out", a4), 0xff),
            (Sample::new("a5_replayed", a5), 0),
            (Sample::new("a6_expired_current", a6), 0),
            (Sample::new("a7_next_chain", a7.clone()), 0),
            (Sample::new("a7_next_chain_later", a7), 0x81),
            (Sample::new("a8_next_chain_skips", a8.clone()), 0),
            (Sample::new("a8_expired", a8), 3),
        ],
        to_alice: vec![Sample::new("b0", b0), Sample::new("b1", b1)],
        blobs,
    })
}
