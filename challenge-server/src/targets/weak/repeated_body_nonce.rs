//! `repeated-body-nonce` ([`RepeatedBodyNonce`]): the body AEAD (key, nonce) repeats within a
//! chain. A device keeps, besides its current target-impl state, two rewind points:
//!
//! - a *send run*: the state taken before the first send of a run of consecutive sends, and a
//!   32-byte seed drawn from the caller's RNG at that first send. Every send of the run starts
//!   again from that state with `ChaCha20Rng::from_seed(seed)`, so it uses the same chain key,
//!   counter and random `r` again: every message of the run has the same header and the same
//!   AES-GCM (key, nonce) on a different body.
//! - a *receive run*: the state taken before the first receive of a run of consecutive
//!   receives. Every receive of the run starts again from that state, so the receiver accepts
//!   each of the sender's identical-header messages as the chain's first.
//!
//! A send closes the receive run and a receive the send run; the replies then start a new chain
//! through the DH ratchet (a fresh seed, so a fresh ratchet key and `r`). Starting a session
//! closes both. Refusals change nothing (as in target-impl).

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, SeedableRng};
use target_impl::Device;
use zeroize::Zeroizing;

use super::REPEATED_BODY_NONCE;
use crate::Error;
use crate::api::TargetIdentity;
use crate::targets::real::{self, RealDevice};
use crate::targets::{Delivery, OneTimePrekeys, Outgoing, ProtocolError, Target, TargetDevice};

/// target-impl whose devices replay the state and randomness of a run of consecutive sends
/// (module documentation): the body AEAD (key, nonce) repeats within a chain.
#[derive(Clone, Copy, Debug, Default)]
pub struct RepeatedBodyNonce;

impl Target for RepeatedBodyNonce {
    fn identity(&self) -> TargetIdentity {
        TargetIdentity::weakened(REPEATED_BODY_NONCE)
    }

    fn generate(
        &self,
        rng: &mut dyn CryptoRng,
        one_time: OneTimePrekeys,
    ) -> Result<Box<dyn TargetDevice>, Error> {
        let real = real::TargetImpl.generate(rng, one_time)?;
        let device = Device::from_bytes(&real.state())?;
        Ok(Box::new(WeakDevice::new(device)))
    }

    fn restore(&self, state: &[u8]) -> Result<Box<dyn TargetDevice>, Error> {
        WeakDevice::restore(state)
            .map(|d| Box::new(d) as Box<dyn TargetDevice>)
            .map_err(|e| Error::internal(format!("{REPEATED_BODY_NONCE} device state: {e}")))
    }
}

/// Version byte of a [`WeakDevice`] state blob.
pub const WEAK_STATE_VERSION: u8 = 1;

/// Why a [`WeakDevice`] state blob does not restore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateError {
    /// The first byte is not [`WEAK_STATE_VERSION`] (or the blob is empty).
    Version,
    /// A field runs past the end of the blob.
    Truncated,
    /// A presence flag is neither 0 nor 1.
    Flag,
    /// A count is over its named cap.
    Count,
    /// Bytes remain after the last field.
    Trailing,
    /// One of the target-impl device states does not restore.
    Device(ProtocolError),
}

impl core::fmt::Display for StateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StateError::Version => write!(f, "expected version {WEAK_STATE_VERSION}"),
            StateError::Truncated => f.write_str("truncated"),
            StateError::Flag => f.write_str("a presence flag is neither 0 nor 1"),
            StateError::Count => f.write_str("a count is over its cap"),
            StateError::Trailing => f.write_str("bytes after the last field"),
            StateError::Device(e) => write!(f, "target-impl device: {e}"),
        }
    }
}

impl std::error::Error for StateError {}

/// The open send run: the state before its first send and the seed of its randomness.
#[derive(Clone)]
struct SendRun {
    snapshot: Zeroizing<Vec<u8>>,
    seed: Zeroizing<[u8; 32]>,
}

/// A device of [`RepeatedBodyNonce`]: a target-impl device and its two rewind points.
pub struct WeakDevice {
    current: RealDevice,
    send_run: Option<SendRun>,
    receive_run: Option<Zeroizing<Vec<u8>>>,
}

impl core::fmt::Debug for WeakDevice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WeakDevice")
            .field("send_run", &self.send_run.is_some())
            .field("receive_run", &self.receive_run.is_some())
            .finish_non_exhaustive()
    }
}

impl WeakDevice {
    /// `device` with no run open.
    pub fn new(device: Device) -> Self {
        Self {
            current: RealDevice(device),
            send_run: None,
            receive_run: None,
        }
    }

    /// The current target-impl device.
    pub fn device(&self) -> &Device {
        self.current.device()
    }

    /// Whether a send run is open.
    pub fn in_send_run(&self) -> bool {
        self.send_run.is_some()
    }

    /// Whether a receive run is open.
    pub fn in_receive_run(&self) -> bool {
        self.receive_run.is_some()
    }

    /// Everything: `version ‖ lv(device) ‖ flag ‖ [lv(send snapshot) ‖ seed(32)] ‖ flag ‖
    /// [lv(receive snapshot)]`, where `lv(x)` is `u32be(len(x)) ‖ x`.
    pub fn state(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(vec![WEAK_STATE_VERSION]);
        put_lv(&mut out, &self.current.state());
        match &self.send_run {
            Some(run) => {
                out.push(1);
                put_lv(&mut out, &run.snapshot);
                out.extend_from_slice(&*run.seed);
            }
            None => out.push(0),
        }
        match &self.receive_run {
            Some(snapshot) => {
                out.push(1);
                put_lv(&mut out, snapshot);
            }
            None => out.push(0),
        }
        out
    }

    /// The device [`Self::state`] wrote; every length is checked, nothing panics.
    pub fn restore(state: &[u8]) -> Result<Self, StateError> {
        let mut r = Reader(state);
        if r.take(1)? != [WEAK_STATE_VERSION] {
            return Err(StateError::Version);
        }
        let current = device_from(r.lv()?)?;
        let send_run = if r.flag()? {
            let snapshot = r.lv()?;
            device_from(snapshot)?;
            let mut seed = Zeroizing::new([0u8; 32]);
            seed.copy_from_slice(r.take(32)?);
            Some(SendRun {
                snapshot: Zeroizing::new(snapshot.to_vec()),
                seed,
            })
        } else {
            None
        };
        let receive_run = if r.flag()? {
            let snapshot = r.lv()?;
            device_from(snapshot)?;
            Some(Zeroizing::new(snapshot.to_vec()))
        } else {
            None
        };
        if !r.0.is_empty() {
            return Err(StateError::Trailing);
        }
        Ok(Self {
            current: RealDevice(current),
            send_run,
            receive_run,
        })
    }
}

fn device_from(bytes: &[u8]) -> Result<Device, StateError> {
    Device::from_bytes(bytes).map_err(StateError::Device)
}

/// Appends `u32be(len(bytes)) ‖ bytes` (the weak devices' state blobs).
pub(super) fn put_lv(out: &mut Vec<u8>, bytes: &[u8]) {
    // A device state is far below 4 GiB (its every list is capped).
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Reads one `u32be(len) ‖ bytes` field off the front of `rest`.
pub(super) fn read_lv<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], StateError> {
    let mut r = Reader(rest);
    let field = r.lv()?;
    *rest = r.0;
    Ok(field)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StateError> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(StateError::Truncated)?;
        self.0 = rest;
        Ok(head)
    }

    fn lv(&mut self) -> Result<&'a [u8], StateError> {
        let len: [u8; 4] = self
            .take(4)?
            .try_into()
            .map_err(|_| StateError::Truncated)?;
        let len = usize::try_from(u32::from_be_bytes(len)).map_err(|_| StateError::Truncated)?;
        self.take(len)
    }

    fn flag(&mut self) -> Result<bool, StateError> {
        match self.take(1)? {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err(StateError::Flag),
        }
    }
}

impl TargetDevice for WeakDevice {
    fn bundle(&self) -> Result<Vec<u8>, Error> {
        self.current.bundle()
    }

    fn public_identity(&self) -> Vec<u8> {
        self.current.public_identity()
    }

    fn initiate(
        &mut self,
        peer: &str,
        bundle: &[u8],
        expected: &[u8],
        rng: &mut dyn CryptoRng,
    ) -> Result<(), ProtocolError> {
        self.current.initiate(peer, bundle, expected, rng)?;
        // A new session is outside any run: rewinding past it would lose it.
        self.send_run = None;
        self.receive_run = None;
        Ok(())
    }

    fn pin_identity(&mut self, peer: &str, identity: &[u8]) -> Result<(), ProtocolError> {
        self.current.pin_identity(peer, identity)?;
        // A run rewinds to a state before the pin otherwise.
        self.send_run = None;
        self.receive_run = None;
        Ok(())
    }

    fn encrypt(
        &mut self,
        peer: &str,
        message: &Outgoing<'_>,
        now: u64,
        rng: &mut dyn CryptoRng,
    ) -> Result<Vec<u8>, ProtocolError> {
        // THE FLAW: every send of a run starts from the same state with the same randomness.
        let run = match &self.send_run {
            Some(run) => run.clone(),
            None => {
                let mut seed = Zeroizing::new([0u8; 32]);
                rng.fill_bytes(&mut *seed);
                SendRun {
                    snapshot: self.current.state(),
                    seed,
                }
            }
        };
        let mut device = RealDevice(Device::from_bytes(&run.snapshot)?);
        let mut replayed = ChaCha20Rng::from_seed(*run.seed);
        let out = device.encrypt(peer, message, now, &mut replayed)?;
        self.current = device;
        self.send_run = Some(run);
        self.receive_run = None;
        Ok(out)
    }

    fn decrypt(&mut self, peer: &str, bytes: &[u8], now: u64) -> Result<Delivery, ProtocolError> {
        // Every receive of a run starts from the state before the run's first receive.
        let (snapshot, mut device) = match &self.receive_run {
            Some(snapshot) => (snapshot.clone(), RealDevice(Device::from_bytes(snapshot)?)),
            None => (
                self.current.state(),
                RealDevice(self.current.device().clone()),
            ),
        };
        let result = device.decrypt(peer, bytes, now);
        match &result {
            // Committed, as target-impl commits them (an expired message's key is destroyed).
            Ok(Delivery::Message(_)) | Err(ProtocolError::Expired) => {
                self.current = device;
                self.receive_run = Some(snapshot);
                self.send_run = None;
            }
            // Not installed, nothing changed; likewise every refusal.
            Ok(Delivery::IdentityChanged { .. }) | Err(_) => {}
        }
        result
    }

    fn state(&self) -> Zeroizing<Vec<u8>> {
        WeakDevice::state(self)
    }

    fn duplicate(&self) -> Box<dyn TargetDevice> {
        Box::new(WeakDevice {
            current: RealDevice(self.current.device().clone()),
            send_run: self.send_run.clone(),
            receive_run: self.receive_run.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::by_name;
    use super::*;
    use crate::targets::real::TargetImpl;

    const ALICE: &str = "alice";
    const BOB: &str = "bob";

    fn rng(label: u8) -> ChaCha20Rng {
        ChaCha20Rng::from_seed([label; 32])
    }

    /// The random value `r` of a message (of its ratchet message, after any initial prefix).
    fn random_of(bytes: &[u8]) -> [u8; target_impl::RANDOM_LEN] {
        match target_impl::wire::WireMessage::decode(bytes).unwrap() {
            target_impl::wire::WireMessage::Initial(m) => m.ratchet.random,
            target_impl::wire::WireMessage::Ratchet(m) => m.random,
            target_impl::wire::WireMessage::Bundle(_) => panic!("a bundle"),
        }
    }

    struct Sent {
        from_alice: bool,
        run: usize,
        bytes: Vec<u8>,
    }

    /// Alice → Bob 3, Bob → Alice 2, Alice → Bob 2 on `target`; every message must decrypt to
    /// its payload. With `round_trip`, both devices go through `state()`/`restore` after every
    /// operation (and their state bytes must survive it unchanged).
    fn converse(target: &dyn Target, round_trip: bool) -> Vec<Sent> {
        let mut alice = target
            .generate(&mut rng(1), OneTimePrekeys::default())
            .unwrap();
        let mut bob = target
            .generate(&mut rng(2), OneTimePrekeys { x25519: 1, kem: 1 })
            .unwrap();
        let bundle = bob.bundle().unwrap();
        let mut step_rng = rng(3);
        alice
            .initiate(BOB, &bundle, &bob.public_identity(), &mut step_rng)
            .unwrap();
        let cycle = |device: &mut Box<dyn TargetDevice>| {
            if round_trip {
                let state = device.state();
                let restored = target.restore(&state).unwrap();
                assert_eq!(*restored.state(), *state, "state round-trips byte for byte");
                *device = restored;
            }
        };
        let mut sent = Vec::new();
        let mut now = 1_800_000_000;
        for (run, (from_alice, count)) in [(true, 3), (false, 2), (true, 2)].into_iter().enumerate()
        {
            for i in 0..count {
                now += 10;
                let payload = format!("run {run} message {i}");
                let message = Outgoing {
                    content_type: 1,
                    ttl: 0,
                    payload: payload.as_bytes(),
                };
                let (sender, receiver, to, from) = if from_alice {
                    (&mut alice, &mut bob, BOB, ALICE)
                } else {
                    (&mut bob, &mut alice, ALICE, BOB)
                };
                let bytes = sender
                    .encrypt(to, &message, now, &mut step_rng)
                    .unwrap_or_else(|e| panic!("run {run} message {i}: encrypt: {e}"));
                cycle(sender);
                let Delivery::Message(got) = receiver
                    .decrypt(from, &bytes, now)
                    .unwrap_or_else(|e| panic!("run {run} message {i}: decrypt: {e}"))
                else {
                    panic!("run {run} message {i}: an identity change");
                };
                assert_eq!(got.payload.as_slice(), payload.as_bytes());
                assert_eq!(got.sent_at, now);
                cycle(receiver);
                sent.push(Sent {
                    from_alice,
                    run,
                    bytes,
                });
            }
        }
        sent
    }

    fn check_weak_conversation(sent: &[Sent]) {
        assert_eq!(sent.len(), 7);
        for a in sent {
            for b in sent {
                let same_r = random_of(&a.bytes) == random_of(&b.bytes);
                assert_eq!(
                    same_r,
                    a.run == b.run,
                    "messages share r exactly when they share a run"
                );
            }
        }
        assert!(sent.iter().take(3).all(|s| s.from_alice));
        assert!(sent.iter().take(3).all(|s| s.bytes.len() > 1300), "initial");
    }

    #[test]
    fn weak_messages_of_a_run_share_r_and_all_decrypt() {
        let weak = by_name(REPEATED_BODY_NONCE).unwrap();
        check_weak_conversation(&converse(weak, false));
    }

    #[test]
    fn weak_state_round_trips_mid_conversation() {
        let weak = by_name(REPEATED_BODY_NONCE).unwrap();
        let plain = converse(weak, false);
        let cycled = converse(weak, true);
        check_weak_conversation(&cycled);
        for (a, b) in plain.iter().zip(&cycled) {
            assert_eq!(a.bytes, b.bytes, "restoring changes no byte of the traffic");
        }
    }

    /// Alice on the weak target with a session to Bob, and a message to send.
    fn alice_in_a_session() -> (Box<dyn TargetDevice>, Outgoing<'static>) {
        let weak = RepeatedBodyNonce;
        let mut alice = weak
            .generate(&mut rng(1), OneTimePrekeys::default())
            .unwrap();
        let bob = weak
            .generate(&mut rng(2), OneTimePrekeys { x25519: 1, kem: 1 })
            .unwrap();
        let (bundle, identity) = (bob.bundle().unwrap(), bob.public_identity());
        alice
            .initiate(BOB, &bundle, &identity, &mut rng(3))
            .unwrap();
        let message = Outgoing {
            content_type: 1,
            ttl: 0,
            payload: b"hello",
        };
        (alice, message)
    }

    #[test]
    fn weak_runs_are_in_the_state_and_the_duplicate() {
        let (mut alice, message) = alice_in_a_session();
        let first = alice.encrypt(BOB, &message, 10, &mut rng(4)).unwrap();
        let restored = WeakDevice::restore(&alice.state()).unwrap();
        assert!(restored.in_send_run() && !restored.in_receive_run());
        let mut copy = alice.duplicate();
        let again = copy.encrypt(BOB, &message, 10, &mut rng(5)).unwrap();
        assert_eq!(first, again, "same state, same seed: the same bytes");
    }

    #[test]
    fn weak_state_decoding_refuses_bad_blobs_without_panicking() {
        let (mut alice, message) = alice_in_a_session();
        alice.encrypt(BOB, &message, 10, &mut rng(4)).unwrap();
        let state = alice.state();
        assert!(WeakDevice::restore(&state).is_ok());
        assert_eq!(WeakDevice::restore(&[]).unwrap_err(), StateError::Truncated);
        let mut bad = state.to_vec();
        bad[0] = 2;
        assert_eq!(WeakDevice::restore(&bad).unwrap_err(), StateError::Version);
        let mut bad = state.to_vec();
        bad.push(0);
        assert_eq!(WeakDevice::restore(&bad).unwrap_err(), StateError::Trailing);
        for len in 1..state.len() {
            assert!(WeakDevice::restore(&state[..len]).is_err(), "cut at {len}");
        }
        let device_len = u32::from_be_bytes(state[1..5].try_into().unwrap()) as usize;
        let mut bad = state.to_vec();
        bad[5 + device_len] = 2;
        assert_eq!(WeakDevice::restore(&bad).unwrap_err(), StateError::Flag);
        let mut bad = state.to_vec();
        bad[5] ^= 0xff;
        assert!(matches!(
            WeakDevice::restore(&bad).unwrap_err(),
            StateError::Device(_)
        ));
        assert!(RepeatedBodyNonce.restore(&bad).is_err());
    }

    #[test]
    fn weak_flaw_is_absent_from_the_real_target() {
        let sent = converse(&TargetImpl, false);
        assert_eq!(sent.len(), 7);
        for (i, a) in sent.iter().enumerate() {
            for b in sent.iter().skip(i + 1) {
                assert_ne!(random_of(&a.bytes), random_of(&b.bytes), "no two share r");
            }
        }
    }
}
