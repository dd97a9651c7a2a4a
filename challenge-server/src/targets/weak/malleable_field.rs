//! `malleable-field` ([`MalleableField`]): the wire message is target-impl's with one trailing
//! byte that nothing authenticates. A device sends target-impl's message followed by `0x00`,
//! and strips the last byte of every message it receives, whatever its value, before handing
//! the rest to target-impl (the Jakobsen–Orlandi pattern: MTProto's padding was not covered by
//! its MAC). So each message has 256 encodings that decrypt to the same plaintext, and a
//! re-encoded challenge ciphertext is not the challenge ciphertext, and a chosen-ciphertext
//! game's decryption oracle decrypts it. The device state is target-impl's.

use rand_core::CryptoRng;

use super::MALLEABLE_FIELD;
use crate::Error;
use crate::api::TargetIdentity;
use crate::targets::real::{self, RealDevice};
use crate::targets::{Delivery, OneTimePrekeys, Outgoing, ProtocolError, Target, TargetDevice};

/// The byte a device appends to every message it sends.
pub const TRAILING_BYTE: u8 = 0x00;

/// target-impl whose wire messages carry one unauthenticated trailing byte (module
/// documentation).
#[derive(Clone, Copy, Debug, Default)]
pub struct MalleableField;

impl Target for MalleableField {
    fn identity(&self) -> TargetIdentity {
        TargetIdentity::weakened(MALLEABLE_FIELD)
    }

    fn generate(
        &self,
        rng: &mut dyn CryptoRng,
        one_time: OneTimePrekeys,
    ) -> Result<Box<dyn TargetDevice>, Error> {
        let real = real::TargetImpl.generate(rng, one_time)?;
        self.restore(&real.state())
    }

    fn restore(&self, state: &[u8]) -> Result<Box<dyn TargetDevice>, Error> {
        let device = target_impl::Device::from_bytes(state)?;
        Ok(Box::new(MalleableFieldDevice(RealDevice(device))))
    }
}

/// A device of [`MalleableField`].
pub struct MalleableFieldDevice(RealDevice);

impl TargetDevice for MalleableFieldDevice {
    fn bundle(&self) -> Result<Vec<u8>, Error> {
        self.0.bundle()
    }

    fn public_identity(&self) -> Vec<u8> {
        self.0.public_identity()
    }

    fn initiate(
        &mut self,
        peer: &str,
        bundle: &[u8],
        expected: &[u8],
        rng: &mut dyn CryptoRng,
    ) -> Result<(), ProtocolError> {
        self.0.initiate(peer, bundle, expected, rng)
    }

    fn pin_identity(&mut self, peer: &str, identity: &[u8]) -> Result<(), ProtocolError> {
        self.0.pin_identity(peer, identity)
    }

    fn encrypt(
        &mut self,
        peer: &str,
        message: &Outgoing<'_>,
        now: u64,
        rng: &mut dyn CryptoRng,
    ) -> Result<Vec<u8>, ProtocolError> {
        let mut bytes = self.0.encrypt(peer, message, now, rng)?;
        bytes.push(TRAILING_BYTE);
        Ok(bytes)
    }

    fn decrypt(&mut self, peer: &str, bytes: &[u8], now: u64) -> Result<Delivery, ProtocolError> {
        // THE FLAW: the last byte is dropped unread, whatever it is.
        let (_, message) = bytes.split_last().ok_or(ProtocolError::Malformed)?;
        self.0.decrypt(peer, message, now)
    }

    fn state(&self) -> zeroize::Zeroizing<Vec<u8>> {
        self.0.state()
    }

    fn duplicate(&self) -> Box<dyn TargetDevice> {
        Box::new(MalleableFieldDevice(RealDevice(self.0.device().clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::Pair;
    use super::*;

    #[test]
    fn every_trailing_byte_decrypts_the_same() {
        let mut pair = Pair::new(&MalleableField);
        let bytes = pair.send(true, b"one", 10);
        assert_eq!(bytes.last(), Some(&TRAILING_BYTE));
        let mut other = bytes.clone();
        *other.last_mut().unwrap() = 0xa5;
        let first = super::super::tests::received(pair.deliver(true, &other, 10));
        assert_eq!(first, b"one");
        // The same message again, under its original encoding, is a replay.
        assert!(pair.deliver(true, &bytes, 10).is_err());
        assert!(pair.deliver(true, &[], 10).is_err());
        pair.exchange(false, b"two", 11);
        // On target-impl the trailing byte is refused.
        let mut real_pair = Pair::new(crate::targets::real());
        let mut sent = real_pair.send(true, b"one", 10);
        sent.push(0);
        assert!(real_pair.deliver(true, &sent, 10).is_err());
    }
}
