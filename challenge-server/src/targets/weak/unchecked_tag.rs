//! `unchecked-tag` ([`UncheckedTag`]): a device that does not check a ratchet message's body
//! tag. Every message goes to target-impl first, unchanged; only when target-impl refuses a
//! message of an existing session (`Unauthentic`) does the device try the flaw:
//!
//! 1. it derives the body's key as target-impl would (header opened and authenticated under
//!    the session's header keys, the plan's message key: [`ReceivingKeys::body_key`]);
//! 2. it decrypts the body ciphertext with AES-256-CTR from counter 2 of GCM's `J0 = nonce ‖
//!    u32be(1)`, which is what AES-256-GCM's body is, without looking at the tag;
//! 3. it seals that plaintext again under the same key, nonce and associated data
//!    (target-impl's `hazmat` AES-256-GCM), which gives the same ciphertext and the tag it
//!    should have had, and hands the message with that tag to target-impl.
//!
//! So target-impl still decides everything but the body tag (framing, header authentication,
//! one encoding per message, replay, skipped keys, body parsing, expiry) and commits exactly the
//! state change it makes for that message (its key consumed); a message whose header does not
//! authenticate is refused as before, the device unchanged. AES-GCM's body is CTR, so a claimant
//! who flips bits of a peer's genuine body gets it accepted with its plaintext flipped alike: a
//! forgery. An initial message that sets a session up (PQXDH, 6.4) keeps target-impl's checks.

use aes::Aes256;
use ctr::Ctr32BE;
use ctr::cipher::{KeyIvInit, StreamCipher};
use rand_core::CryptoRng;
use target_impl::wire::InitialMessage;
use target_impl::{INITIAL_TYPE, hazmat};
use zeroize::Zeroizing;

use super::UNCHECKED_TAG;
use super::session_keys::{BodyKey, ReceivingKeys};
use crate::Error;
use crate::api::TargetIdentity;
use crate::targets::real::{self, RealDevice};
use crate::targets::{Delivery, OneTimePrekeys, Outgoing, ProtocolError, Target, TargetDevice};

/// GCM's first counter block for the plaintext: `inc32(J0)`, `J0 = nonce ‖ u32be(1)` for a
/// 96-bit nonce (NIST SP 800-38D, 7.1).
const FIRST_BODY_COUNTER: u32 = 2;

/// target-impl whose devices do not check a ratchet message's body tag (module documentation).
#[derive(Clone, Copy, Debug, Default)]
pub struct UncheckedTag;

impl Target for UncheckedTag {
    fn identity(&self) -> TargetIdentity {
        TargetIdentity::weakened(UNCHECKED_TAG)
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
        Ok(Box::new(UncheckedTagDevice(RealDevice(device))))
    }
}

/// A device of [`UncheckedTag`]: a target-impl device whose state is target-impl's.
pub struct UncheckedTagDevice(RealDevice);

impl UncheckedTagDevice {
    /// `bytes` from `peer` with the body tag its body ciphertext would have under the key the
    /// session derives for it, if the session derives one and that tag is not already the
    /// message's: the flaw (module documentation).
    fn with_body_tag_repaired(&self, peer: &str, bytes: &[u8]) -> Option<Vec<u8>> {
        let session = self.0.device().session(&real::peer(peer).ok()?)?;
        let keys = ReceivingKeys::read(&session.to_bytes()).ok()?;
        let ratchet = ratchet_part(&keys, bytes)?;
        let key = keys.body_key(ratchet)?;
        let split = bytes.len().checked_sub(hazmat::AEAD_TAG_LEN)?;
        let (head, tag) = bytes.split_at_checked(split)?;
        let body_start = bytes.len().checked_sub(ratchet.len())? + key.body_start;
        let ciphertext = head.get(body_start..)?;
        // THE FLAW: the body is decrypted without its tag.
        let plaintext = ctr_decrypt(&key, ciphertext);
        let resealed = hazmat::aes256gcm_seal(&key.mk, &key.nonce, &key.aad, &plaintext).ok()?;
        let (again, good_tag) = resealed.split_at_checked(ciphertext.len())?;
        if again != ciphertext || good_tag == tag {
            return None;
        }
        Some([head, good_tag].concat())
    }
}

/// The ratchet message of `bytes`: all of it, or what follows the prefix of an initial message
/// that continues this session (its prefix hashes to the session's `setup_id`); `None` for an
/// initial message that would set up a session.
fn ratchet_part<'a>(keys: &ReceivingKeys, bytes: &'a [u8]) -> Option<&'a [u8]> {
    if bytes.get(1) != Some(&INITIAL_TYPE) {
        return Some(bytes);
    }
    let ratchet_len = InitialMessage::decode(bytes).ok()?.ratchet.to_bytes().len();
    let (prefix, ratchet) = bytes.split_at_checked(bytes.len().checked_sub(ratchet_len)?)?;
    (hazmat::sha256(&[prefix]) == *keys.setup_id()).then_some(ratchet)
}

/// The body ciphertext decrypted as AES-256-GCM's body is: AES-256-CTR under the message key,
/// from the counter block `nonce ‖ u32be(2)`.
fn ctr_decrypt(key: &BodyKey, ciphertext: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut iv = [0u8; 16];
    let (nonce, counter) = iv.split_at_mut(hazmat::AEAD_NONCE_LEN);
    nonce.copy_from_slice(&key.nonce);
    counter.copy_from_slice(&FIRST_BODY_COUNTER.to_be_bytes());
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    Ctr32BE::<Aes256>::new(&(*key.mk).into(), &iv.into()).apply_keystream(&mut plaintext);
    plaintext
}

impl TargetDevice for UncheckedTagDevice {
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
        self.0.encrypt(peer, message, now, rng)
    }

    fn decrypt(&mut self, peer: &str, bytes: &[u8], now: u64) -> Result<Delivery, ProtocolError> {
        match self.0.decrypt(peer, bytes, now) {
            Err(ProtocolError::Unauthentic) => match self.with_body_tag_repaired(peer, bytes) {
                Some(repaired) => self.0.decrypt(peer, &repaired, now),
                None => Err(ProtocolError::Unauthentic),
            },
            other => other,
        }
    }

    fn state(&self) -> Zeroizing<Vec<u8>> {
        self.0.state()
    }

    fn duplicate(&self) -> Box<dyn TargetDevice> {
        Box::new(UncheckedTagDevice(RealDevice(self.0.device().clone())))
    }
}

#[cfg(test)]
mod tests {
    use target_impl::BODY_PREAMBLE_LEN;
    use target_impl::wire::WireMessage;

    use super::super::tests::{Pair, received};
    use super::*;
    use crate::targets::real::TargetImpl;

    const NOW: u64 = 1_800_000_000;

    /// The attacker's edit, from the public wire layout alone: the payload `from` (at the start
    /// of the body plaintext, after its 17-byte preamble) becomes `to`, by XOR on the body
    /// ciphertext.
    fn flipped(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        let body = match WireMessage::decode(bytes).unwrap() {
            WireMessage::Initial(m) => m.ratchet.body.len(),
            WireMessage::Ratchet(m) => m.body.len(),
            WireMessage::Bundle(_) => panic!("a bundle"),
        };
        let start = bytes.len() - body + BODY_PREAMBLE_LEN;
        let mut out = bytes.to_vec();
        for (i, (a, b)) in from.iter().zip(to).enumerate() {
            out[start + i] ^= a ^ b;
        }
        out
    }

    /// One forgery attempt: `genuine` (sent by Alice if `from_alice`, payload `payload`)
    /// edited to `forged_payload` is delivered first. On the weak target it is accepted as
    /// `forged_payload`, and the genuine message, its key gone, is then refused as a replay
    /// with the receiver unchanged. On target-impl the forgery is refused with the receiver
    /// unchanged, and the genuine message is then accepted.
    fn forge(
        pair: &mut Pair,
        weak: bool,
        from_alice: bool,
        genuine: &[u8],
        payload: &[u8],
        forged_payload: &[u8],
    ) {
        assert_eq!(payload.len(), forged_payload.len());
        let forged = flipped(genuine, payload, forged_payload);
        let before = pair.receiver_state(from_alice);
        let outcome = pair.deliver(from_alice, &forged, NOW);
        if weak {
            assert_eq!(received(outcome), forged_payload);
            let after = pair.receiver_state(from_alice);
            assert_ne!(*after, *before, "the message key is consumed");
            assert_eq!(
                pair.deliver(from_alice, genuine, NOW).unwrap_err(),
                ProtocolError::Replay
            );
            assert_eq!(*pair.receiver_state(from_alice), *after);
        } else {
            assert_eq!(outcome.unwrap_err(), ProtocolError::Unauthentic);
            assert_eq!(*pair.receiver_state(from_alice), *before);
            assert_eq!(received(pair.deliver(from_alice, genuine, NOW)), payload);
        }
    }

    /// The attack on every path of 7.7: messages of the initiator's first chain (with the
    /// session's prefix), delivered out of order (a skip on the current chain, then a skipped
    /// key), the first message of each new chain (the DH ratchet), in both directions; then
    /// the honest conversation goes on.
    fn attack(target: &dyn Target, weak: bool) {
        let mut pair = Pair::new(target);
        // The message that sets Bob's session up is not a ratchet message of a session: its
        // checks stay target-impl's on both targets.
        let setup = pair.send(true, b"pay carol 10", NOW);
        let before = pair.bob.state();
        assert_eq!(
            pair.deliver(true, &flipped(&setup, b"10", b"99"), NOW)
                .unwrap_err(),
            ProtocolError::Unauthentic
        );
        assert_eq!(*pair.bob.state(), *before);
        assert_eq!(received(pair.deliver(true, &setup, NOW)), b"pay carol 10");

        let second = pair.send(true, b"pay carol 20", NOW);
        let third = pair.send(true, b"pay carol 30", NOW);
        forge(
            &mut pair,
            weak,
            true,
            &third,
            b"pay carol 30",
            b"pay carol 99",
        );
        forge(
            &mut pair,
            weak,
            true,
            &second,
            b"pay carol 20",
            b"pay eve 2000",
        );
        let reply = pair.send(false, b"ok, paid", NOW);
        forge(&mut pair, weak, false, &reply, b"ok, paid", b"no, paid");
        let next = pair.send(true, b"thanks", NOW);
        forge(&mut pair, weak, true, &next, b"thanks", b"cancel");
        pair.exchange(false, b"you are welcome", NOW + 1);
        pair.exchange(true, b"bye", NOW + 2);
        pair.exchange(false, b"bye", NOW + 3);
    }

    #[test]
    fn unchecked_tag_accepts_a_peers_message_with_flipped_body_bits() {
        attack(&UncheckedTag, true);
    }

    #[test]
    fn unchecked_tag_attack_fails_on_the_real_target() {
        attack(&TargetImpl, false);
    }

    /// Everything but the body tag is target-impl's: a header edit is refused with the device
    /// unchanged, and an honest conversation leaves the same state bytes as target-impl's.
    #[test]
    fn unchecked_tag_keeps_target_impls_header_check_and_honest_behaviour() {
        let mut weak = Pair::new(&UncheckedTag);
        let mut real = Pair::new(&TargetImpl);
        for pair in [&mut weak, &mut real] {
            pair.exchange(true, b"one", NOW);
            pair.exchange(false, b"two", NOW + 1);
            let genuine = pair.send(true, b"three", NOW + 2);
            let mut edited = genuine.clone();
            edited[20] ^= 1; // a byte of the sealed header
            let before = pair.bob.state();
            assert_eq!(
                pair.deliver(true, &edited, NOW + 2).unwrap_err(),
                ProtocolError::Unauthentic
            );
            assert_eq!(*pair.bob.state(), *before);
            assert_eq!(received(pair.deliver(true, &genuine, NOW + 2)), b"three");
        }
        assert_eq!(*weak.alice.state(), *real.alice.state());
        assert_eq!(*weak.bob.state(), *real.bob.state());
        let copy = weak.bob.duplicate();
        assert_eq!(*copy.state(), *weak.bob.state());
    }

    /// A body whose only change is its tag is accepted as the peer's plaintext (the tag is
    /// not looked at), once.
    #[test]
    fn unchecked_tag_ignores_a_wrong_tag() {
        let mut pair = Pair::new(&UncheckedTag);
        pair.exchange(true, b"one", NOW);
        let genuine = pair.send(false, b"two", NOW);
        let mut edited = genuine.clone();
        *edited.last_mut().unwrap() ^= 0x80;
        assert_eq!(received(pair.deliver(false, &edited, NOW)), b"two");
        assert_eq!(
            pair.deliver(false, &genuine, NOW).unwrap_err(),
            ProtocolError::Replay
        );
    }
}
