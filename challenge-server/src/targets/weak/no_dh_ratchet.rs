//! `no-dh-ratchet` ([`NoDhRatchet`]): no post-compromise security. A device draws every random
//! byte of its sessions (the ratchet keys of its DH steps, each message's `r`, the PQXDH
//! ephemeral keys) from a ChaCha20 stream seeded with `SHA-256(secret ‖ u64be(counter))`,
//! where the 32-byte secret (drawn once, at generation) and the counter of operations are
//! kept in its state blob; the caller's randomness is ignored after generation. So the DH
//! ratchet adds nothing the state does not hold (a symmetric chain in effect): an attacker
//! holding the blob replays the device's future operations and follows its future ratchet
//! keys, and reads the peer's replies after the ratchet "healed". Refusals change nothing.

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, SeedableRng};
use target_impl::Device;
use zeroize::Zeroizing;

use super::NO_DH_RATCHET;
use super::repeated_body_nonce::{StateError, put_lv, read_lv};
use crate::Error;
use crate::api::TargetIdentity;
use crate::targets::real::{self, RealDevice};
use crate::targets::{Delivery, OneTimePrekeys, Outgoing, ProtocolError, Target, TargetDevice};

/// Version byte of a [`NoDhRatchetDevice`] state blob.
pub(super) const NO_DH_STATE_VERSION: u8 = 1;

/// target-impl whose devices draw their randomness from a stream their state holds (module
/// documentation).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoDhRatchet;

impl Target for NoDhRatchet {
    fn identity(&self) -> TargetIdentity {
        TargetIdentity::weakened(NO_DH_RATCHET)
    }

    fn generate(
        &self,
        rng: &mut dyn CryptoRng,
        one_time: OneTimePrekeys,
    ) -> Result<Box<dyn TargetDevice>, Error> {
        let real = real::TargetImpl.generate(rng, one_time)?;
        let device = Device::from_bytes(&real.state())?;
        let mut secret = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(&mut *secret);
        Ok(Box::new(NoDhRatchetDevice {
            current: RealDevice(device),
            secret,
            counter: 0,
        }))
    }

    fn restore(&self, state: &[u8]) -> Result<Box<dyn TargetDevice>, Error> {
        NoDhRatchetDevice::restore(state)
            .map(|d| Box::new(d) as Box<dyn TargetDevice>)
            .map_err(|e| Error::internal(format!("{NO_DH_RATCHET} device state: {e}")))
    }
}

/// A device of [`NoDhRatchet`]: a target-impl device, its stream secret and counter.
pub struct NoDhRatchetDevice {
    current: RealDevice,
    secret: Zeroizing<[u8; 32]>,
    counter: u64,
}

impl NoDhRatchetDevice {
    /// `version ‖ lv(device) ‖ secret(32) ‖ u64be(counter)`, `lv(x) = u32be(len(x)) ‖ x`.
    pub fn state(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(vec![NO_DH_STATE_VERSION]);
        put_lv(&mut out, &self.current.state());
        out.extend_from_slice(&*self.secret);
        out.extend_from_slice(&self.counter.to_be_bytes());
        out
    }

    /// The device [`Self::state`] wrote; every length is checked, nothing panics.
    pub fn restore(state: &[u8]) -> Result<Self, StateError> {
        let (version, mut rest) = state.split_first().ok_or(StateError::Truncated)?;
        if *version != NO_DH_STATE_VERSION {
            return Err(StateError::Version);
        }
        let current = Device::from_bytes(read_lv(&mut rest)?).map_err(StateError::Device)?;
        let (secret, rest) = rest.split_at_checked(32).ok_or(StateError::Truncated)?;
        let (counter, rest) = rest.split_at_checked(8).ok_or(StateError::Truncated)?;
        if !rest.is_empty() {
            return Err(StateError::Trailing);
        }
        let mut kept = Zeroizing::new([0u8; 32]);
        kept.copy_from_slice(secret);
        let counter: [u8; 8] = counter.try_into().map_err(|_| StateError::Truncated)?;
        Ok(Self {
            current: RealDevice(current),
            secret: kept,
            counter: u64::from_be_bytes(counter),
        })
    }

    /// THE FLAW: the randomness of the next operation, from the state alone.
    fn next_stream(&mut self) -> ChaCha20Rng {
        let seed = target_impl::hazmat::sha256(&[&*self.secret, &self.counter.to_be_bytes()]);
        self.counter = self.counter.wrapping_add(1);
        ChaCha20Rng::from_seed(seed)
    }
}

impl TargetDevice for NoDhRatchetDevice {
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
        _rng: &mut dyn CryptoRng,
    ) -> Result<(), ProtocolError> {
        let counter = self.counter;
        let mut stream = self.next_stream();
        let out = self.current.initiate(peer, bundle, expected, &mut stream);
        if out.is_err() {
            self.counter = counter;
        }
        out
    }

    fn pin_identity(&mut self, peer: &str, identity: &[u8]) -> Result<(), ProtocolError> {
        self.current.pin_identity(peer, identity)
    }

    fn encrypt(
        &mut self,
        peer: &str,
        message: &Outgoing<'_>,
        now: u64,
        _rng: &mut dyn CryptoRng,
    ) -> Result<Vec<u8>, ProtocolError> {
        let counter = self.counter;
        let mut stream = self.next_stream();
        let out = self.current.encrypt(peer, message, now, &mut stream);
        if out.is_err() {
            self.counter = counter;
        }
        out
    }

    fn decrypt(&mut self, peer: &str, bytes: &[u8], now: u64) -> Result<Delivery, ProtocolError> {
        self.current.decrypt(peer, bytes, now)
    }

    fn state(&self) -> Zeroizing<Vec<u8>> {
        NoDhRatchetDevice::state(self)
    }

    fn duplicate(&self) -> Box<dyn TargetDevice> {
        Box::new(NoDhRatchetDevice {
            current: RealDevice(self.current.device().clone()),
            secret: self.secret.clone(),
            counter: self.counter,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::by_name;
    use super::super::tests::{BOB, Pair, outgoing, received, rng};
    use super::*;
    use crate::targets::real::TargetImpl;

    /// Bob's state is taken; he then replies (a DH step) and Alice answers. A copy restored
    /// from the taken state that encrypts a dummy when Bob replied reads Alice's answer on the
    /// weak target; on target-impl it cannot.
    #[test]
    fn a_restored_copy_follows_the_ratchet_and_the_real_one_does_not() {
        for (target, weak) in [
            (by_name(NO_DH_RATCHET).unwrap(), true),
            (&TargetImpl as _, false),
        ] {
            let mut pair = Pair::new(target);
            pair.exchange(true, b"hello", 10);
            let seized = pair.bob.state();
            pair.exchange(false, b"reply", 11);
            let answer = pair.send(true, b"healed?", 12);
            assert_eq!(received(pair.deliver(true, &answer, 12)), b"healed?");
            let mut copy = target.restore(&seized).unwrap();
            copy.encrypt("alice", &outgoing(b"dummy"), 11, &mut rng(99))
                .unwrap();
            let got = copy.decrypt("alice", &answer, 12);
            if weak {
                assert_eq!(received(got), b"healed?");
            } else {
                assert!(got.is_err(), "target-impl heals");
            }
            let _ = BOB;
        }
    }

    #[test]
    fn bad_blobs_are_refused() {
        let weak = by_name(NO_DH_RATCHET).unwrap();
        let mut pair = Pair::new(weak);
        pair.exchange(true, b"one", 10);
        let state = pair.alice.state();
        assert!(NoDhRatchetDevice::restore(&state).is_ok());
        for len in 0..state.len() {
            assert!(
                NoDhRatchetDevice::restore(&state[..len]).is_err(),
                "cut at {len}"
            );
        }
        let mut bad = state.to_vec();
        bad.push(0);
        assert_eq!(
            NoDhRatchetDevice::restore(&bad).err(),
            Some(StateError::Trailing)
        );
    }
}
