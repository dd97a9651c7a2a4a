//! `kept-message-keys` ([`KeptMessageKeys`]): no forward secrecy. A device keeps, in its state
//! blob, its states from before each successful receive (at most [`MAX_KEPT_STATES`], the
//! oldest dropped first); a decrypt that target-impl refuses as a replay is retried on each
//! kept state, newest first, which still holds the keys the message used. So an attacker
//! holding the blob re-reads messages the device received before. Refusals change nothing (as
//! in target-impl), nor does a read on a kept state.

use std::collections::VecDeque;

use rand_core::CryptoRng;
use target_impl::Device;
use zeroize::Zeroizing;

use super::KEPT_MESSAGE_KEYS;
use super::repeated_body_nonce::{StateError, put_lv, read_lv};
use crate::Error;
use crate::api::TargetIdentity;
use crate::targets::real::{self, RealDevice};
use crate::targets::{Delivery, OneTimePrekeys, Outgoing, ProtocolError, Target, TargetDevice};

/// Most states a device keeps.
pub const MAX_KEPT_STATES: usize = 8;

/// Version byte of a [`KeptKeysDevice`] state blob.
pub(super) const KEPT_STATE_VERSION: u8 = 1;

/// target-impl whose devices keep their states from before each receive (module documentation).
#[derive(Clone, Copy, Debug, Default)]
pub struct KeptMessageKeys;

impl Target for KeptMessageKeys {
    fn identity(&self) -> TargetIdentity {
        TargetIdentity::weakened(KEPT_MESSAGE_KEYS)
    }

    fn generate(
        &self,
        rng: &mut dyn CryptoRng,
        one_time: OneTimePrekeys,
    ) -> Result<Box<dyn TargetDevice>, Error> {
        let real = real::TargetImpl.generate(rng, one_time)?;
        let device = Device::from_bytes(&real.state())?;
        Ok(Box::new(KeptKeysDevice {
            current: RealDevice(device),
            kept: VecDeque::new(),
        }))
    }

    fn restore(&self, state: &[u8]) -> Result<Box<dyn TargetDevice>, Error> {
        KeptKeysDevice::restore(state)
            .map(|d| Box::new(d) as Box<dyn TargetDevice>)
            .map_err(|e| Error::internal(format!("{KEPT_MESSAGE_KEYS} device state: {e}")))
    }
}

/// A device of [`KeptMessageKeys`]: a target-impl device and its kept states, oldest first.
pub struct KeptKeysDevice {
    current: RealDevice,
    kept: VecDeque<Zeroizing<Vec<u8>>>,
}

impl KeptKeysDevice {
    /// How many states it keeps.
    pub fn kept(&self) -> usize {
        self.kept.len()
    }

    /// `version ‖ lv(device) ‖ count(1) ‖ lv(kept state)*count`, `lv(x) = u32be(len(x)) ‖ x`.
    pub fn state(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(vec![KEPT_STATE_VERSION]);
        put_lv(&mut out, &self.current.state());
        // At most MAX_KEPT_STATES, far below 256.
        out.push(u8::try_from(self.kept.len()).unwrap_or(u8::MAX));
        for state in &self.kept {
            put_lv(&mut out, state);
        }
        out
    }

    /// The device [`Self::state`] wrote; every length is checked, nothing panics.
    pub fn restore(state: &[u8]) -> Result<Self, StateError> {
        let (version, mut rest) = state.split_first().ok_or(StateError::Truncated)?;
        if *version != KEPT_STATE_VERSION {
            return Err(StateError::Version);
        }
        let current = Device::from_bytes(read_lv(&mut rest)?).map_err(StateError::Device)?;
        let (count, tail) = rest.split_first().ok_or(StateError::Truncated)?;
        rest = tail;
        if usize::from(*count) > MAX_KEPT_STATES {
            return Err(StateError::Count);
        }
        let mut kept = VecDeque::with_capacity(usize::from(*count));
        for _ in 0..*count {
            let bytes = read_lv(&mut rest)?;
            Device::from_bytes(bytes).map_err(StateError::Device)?;
            kept.push_back(Zeroizing::new(bytes.to_vec()));
        }
        if !rest.is_empty() {
            return Err(StateError::Trailing);
        }
        Ok(Self {
            current: RealDevice(current),
            kept,
        })
    }
}

impl TargetDevice for KeptKeysDevice {
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
        self.current.initiate(peer, bundle, expected, rng)
    }

    fn pin_identity(&mut self, peer: &str, identity: &[u8]) -> Result<(), ProtocolError> {
        self.current.pin_identity(peer, identity)
    }

    fn encrypt(
        &mut self,
        peer: &str,
        message: &Outgoing<'_>,
        now: u64,
        rng: &mut dyn CryptoRng,
    ) -> Result<Vec<u8>, ProtocolError> {
        self.current.encrypt(peer, message, now, rng)
    }

    fn decrypt(&mut self, peer: &str, bytes: &[u8], now: u64) -> Result<Delivery, ProtocolError> {
        let before = self.current.state();
        match self.current.decrypt(peer, bytes, now) {
            Ok(Delivery::Message(m)) => {
                if self.kept.len() >= MAX_KEPT_STATES {
                    self.kept.pop_front();
                }
                self.kept.push_back(before);
                Ok(Delivery::Message(m))
            }
            // THE FLAW: a replay is retried on every kept state, which still has its keys.
            Err(ProtocolError::Replay) => {
                for state in self.kept.iter().rev() {
                    let mut old = RealDevice(Device::from_bytes(state)?);
                    if let Ok(Delivery::Message(m)) = old.decrypt(peer, bytes, now) {
                        return Ok(Delivery::Message(m));
                    }
                }
                Err(ProtocolError::Replay)
            }
            other => other,
        }
    }

    fn state(&self) -> Zeroizing<Vec<u8>> {
        KeptKeysDevice::state(self)
    }

    fn duplicate(&self) -> Box<dyn TargetDevice> {
        Box::new(KeptKeysDevice {
            current: RealDevice(self.current.device().clone()),
            kept: self.kept.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{Pair, received};
    use super::super::{by_name, tests::ALICE};
    use super::*;
    use crate::targets::real::TargetImpl;

    /// After a conversation, a restored copy of Bob re-reads the messages he received (the
    /// newest `MAX_KEPT_STATES` of them, in the current chain); target-impl refuses them.
    #[test]
    fn kept_states_re_read_received_messages_and_the_real_device_does_not() {
        for (target, weak) in [
            (by_name(KEPT_MESSAGE_KEYS).unwrap(), true),
            (&TargetImpl as _, false),
        ] {
            let mut pair = Pair::new(target);
            let first = pair.send(true, b"initial", 10);
            assert_eq!(received(pair.deliver(true, &first, 10)), b"initial");
            let second = pair.send(true, b"second", 11);
            assert_eq!(received(pair.deliver(true, &second, 11)), b"second");
            let seized = pair.bob.state();
            for (bytes, plain) in [(&first, &b"initial"[..]), (&second, &b"second"[..])] {
                let mut copy = target.restore(&seized).unwrap();
                let got = copy.decrypt(ALICE, bytes, 12);
                if weak {
                    assert_eq!(received(got), plain);
                } else {
                    assert!(matches!(got, Err(ProtocolError::Replay)), "{got:?}");
                }
            }
        }
    }

    #[test]
    fn kept_states_are_capped_and_bad_blobs_are_refused() {
        let weak = by_name(KEPT_MESSAGE_KEYS).unwrap();
        let mut pair = Pair::new(weak);
        for i in 0..(MAX_KEPT_STATES as u64 + 3) {
            pair.exchange(true, b"again", 10 + i);
        }
        let state = pair.bob.state();
        assert_eq!(
            KeptKeysDevice::restore(&state).unwrap().kept(),
            MAX_KEPT_STATES
        );
        for len in 0..state.len().min(64) {
            assert!(KeptKeysDevice::restore(&state[..len]).is_err());
        }
        let mut bad = state.to_vec();
        bad.push(0);
        assert_eq!(
            KeptKeysDevice::restore(&bad).err(),
            Some(StateError::Trailing)
        );
        let device_len = u32::from_be_bytes(state[1..5].try_into().unwrap()) as usize;
        bad = state.to_vec();
        bad[5 + device_len] = MAX_KEPT_STATES as u8 + 1;
        assert_eq!(KeptKeysDevice::restore(&bad).err(), Some(StateError::Count));
        bad = state.to_vec();
        bad[0] = 9;
        assert_eq!(
            KeptKeysDevice::restore(&bad).err(),
            Some(StateError::Version)
        );
    }
}
