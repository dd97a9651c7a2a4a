//! Weakened copies of target-impl, one planted flaw each (feature `weak-targets`, the server's
//! tests only), so that the server's attackers and judges can be shown to win on them (and to
//! lose on [`super::real`]). No primitive is written here: each one wraps the real target-impl
//! [`target_impl::Device`] and plants its flaw around it, in how the device's state or
//! randomness is handled, or with target-impl's own `hazmat` primitives where target-impl would
//! refuse. One module per flaw:
//!
//! - `repeated-body-nonce` ([`RepeatedBodyNonce`]): the body AEAD (key, nonce) repeats within
//!   a chain.
//! - `small-identity-space` ([`SmallIdentitySpace`]): identities come from 2^20 seeds, so
//!   [`recover_small_identity`] finds a device's long-term private keys.
//! - `unchecked-tag` ([`UncheckedTag`]): a ratchet message's body tag is not checked, so a
//!   peer's message with flipped body bits is accepted with its plaintext flipped alike.
//! - `kept-message-keys` ([`KeptMessageKeys`]): no forward secrecy; the state blob keeps the
//!   device's states from before each receive, and a replay is retried on them.
//! - `no-dh-ratchet` ([`NoDhRatchet`]): no post-compromise security; the ratchet's randomness
//!   comes from a stream whose seed and counter the state blob holds.
//! - `malleable-field` ([`MalleableField`]): one unauthenticated trailing byte on every wire
//!   message, so a re-encoded message decrypts to the same plaintext.

mod kept_message_keys;
mod malleable_field;
mod no_dh_ratchet;
mod repeated_body_nonce;
mod session_keys;
mod small_identity_space;
mod unchecked_tag;

pub use kept_message_keys::{KeptKeysDevice, KeptMessageKeys, MAX_KEPT_STATES};
pub use malleable_field::{MalleableField, MalleableFieldDevice, TRAILING_BYTE};
pub use no_dh_ratchet::{NoDhRatchet, NoDhRatchetDevice};
pub use repeated_body_nonce::{RepeatedBodyNonce, StateError, WEAK_STATE_VERSION, WeakDevice};
pub use small_identity_space::{
    IDENTITY_SEED_LABEL, IDENTITY_SPACE_BITS, RecoveredIdentity, SmallIdentitySpace,
    recover_small_identity,
};
pub use unchecked_tag::{UncheckedTag, UncheckedTagDevice};

use super::Target;

/// The flaw name of [`RepeatedBodyNonce`].
pub const REPEATED_BODY_NONCE: &str = "repeated-body-nonce";

/// The flaw name of [`SmallIdentitySpace`].
pub const SMALL_IDENTITY_SPACE: &str = "small-identity-space";

/// The flaw name of [`UncheckedTag`].
pub const UNCHECKED_TAG: &str = "unchecked-tag";

/// The flaw name of [`KeptMessageKeys`].
pub const KEPT_MESSAGE_KEYS: &str = "kept-message-keys";

/// The flaw name of [`NoDhRatchet`].
pub const NO_DH_RATCHET: &str = "no-dh-ratchet";

/// The flaw name of [`MalleableField`].
pub const MALLEABLE_FIELD: &str = "malleable-field";

/// Every weakened target's flaw name.
pub const FLAWS: [&str; 6] = [
    REPEATED_BODY_NONCE,
    SMALL_IDENTITY_SPACE,
    UNCHECKED_TAG,
    KEPT_MESSAGE_KEYS,
    NO_DH_RATCHET,
    MALLEABLE_FIELD,
];

/// The weakened target named `name`, if this build has it.
pub fn by_name(name: &str) -> Option<&'static dyn Target> {
    match name {
        REPEATED_BODY_NONCE => Some(&RepeatedBodyNonce),
        SMALL_IDENTITY_SPACE => Some(&SmallIdentitySpace),
        UNCHECKED_TAG => Some(&UncheckedTag),
        KEPT_MESSAGE_KEYS => Some(&KeptMessageKeys),
        NO_DH_RATCHET => Some(&NoDhRatchet),
        MALLEABLE_FIELD => Some(&MalleableField),
        _ => None,
    }
}

/// What the weak targets' tests share: two parties and their conversation, through the
/// [`super::TargetDevice`] interface only.
#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use rand_chacha::ChaCha20Rng;
    use rand_core::{Rng, SeedableRng, TryCryptoRng, TryRng};

    use super::*;
    use crate::api::TargetIdentity;
    use crate::targets::{Delivery, OneTimePrekeys, Outgoing, ProtocolError, TargetDevice};

    pub(super) const ALICE: &str = "alice";
    pub(super) const BOB: &str = "bob";

    pub(super) fn rng(label: u8) -> ChaCha20Rng {
        ChaCha20Rng::from_seed([label; 32])
    }

    pub(super) fn outgoing(payload: &[u8]) -> Outgoing<'_> {
        Outgoing {
            content_type: 1,
            ttl: 0,
            payload,
        }
    }

    /// Alice (from `rng(1)`) and Bob (from `rng(2)`, with one one-time prekey of each kind) on
    /// one target, and the randomness of their operations (`rng(3)`).
    pub(super) struct Pair {
        pub(super) alice: Box<dyn TargetDevice>,
        pub(super) bob: Box<dyn TargetDevice>,
        steps: ChaCha20Rng,
    }

    impl Pair {
        /// The two devices, no session yet.
        pub(super) fn devices(target: &dyn Target) -> Self {
            Self {
                alice: target
                    .generate(&mut rng(1), OneTimePrekeys::default())
                    .unwrap(),
                bob: target
                    .generate(&mut rng(2), OneTimePrekeys { x25519: 1, kem: 1 })
                    .unwrap(),
                steps: rng(3),
            }
        }

        /// The two devices, Alice's session with Bob started from his bundle and identity.
        pub(super) fn new(target: &dyn Target) -> Self {
            let mut pair = Self::devices(target);
            pair.initiate();
            pair
        }

        /// Alice starts a session from Bob's bundle, expecting his published identity.
        pub(super) fn initiate(&mut self) {
            let (bundle, identity) = (self.bob.bundle().unwrap(), self.bob.public_identity());
            self.alice
                .initiate(BOB, &bundle, &identity, &mut self.steps)
                .unwrap();
        }

        /// A message from Alice (`from_alice`) or Bob to the other, as it goes on the wire.
        pub(super) fn send(&mut self, from_alice: bool, payload: &[u8], now: u64) -> Vec<u8> {
            let Self { alice, bob, steps } = self;
            let (sender, to) = if from_alice {
                (alice, BOB)
            } else {
                (bob, ALICE)
            };
            sender.encrypt(to, &outgoing(payload), now, steps).unwrap()
        }

        /// Delivers `bytes` to the other party of the sender `from_alice`.
        pub(super) fn deliver(
            &mut self,
            from_alice: bool,
            bytes: &[u8],
            now: u64,
        ) -> Result<Delivery, ProtocolError> {
            if from_alice {
                self.bob.decrypt(ALICE, bytes, now)
            } else {
                self.alice.decrypt(BOB, bytes, now)
            }
        }

        /// The receiving party's state, for the sender `from_alice`.
        pub(super) fn receiver_state(&self, from_alice: bool) -> zeroize::Zeroizing<Vec<u8>> {
            if from_alice {
                self.bob.state()
            } else {
                self.alice.state()
            }
        }

        /// Sends `payload` and delivers it; it must arrive as sent.
        pub(super) fn exchange(&mut self, from_alice: bool, payload: &[u8], now: u64) {
            let bytes = self.send(from_alice, payload, now);
            assert_eq!(received(self.deliver(from_alice, &bytes, now)), payload);
        }
    }

    /// The payload of a delivered message.
    pub(super) fn received(delivery: Result<Delivery, ProtocolError>) -> Vec<u8> {
        match delivery {
            Ok(Delivery::Message(m)) => m.payload.to_vec(),
            other => panic!("not delivered: {other:?}"),
        }
    }

    /// An RNG that yields the bytes of a prefix, then those of a stream.
    pub(super) struct PrefixThen<'a> {
        prefix: &'a [u8],
        then: ChaCha20Rng,
    }

    impl<'a> PrefixThen<'a> {
        pub(super) fn new(prefix: &'a [u8], then: ChaCha20Rng) -> Self {
            Self { prefix, then }
        }
    }

    impl TryRng for PrefixThen<'_> {
        type Error = Infallible;

        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            let mut bytes = [0u8; 4];
            self.try_fill_bytes(&mut bytes)?;
            Ok(u32::from_le_bytes(bytes))
        }

        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            let mut bytes = [0u8; 8];
            self.try_fill_bytes(&mut bytes)?;
            Ok(u64::from_le_bytes(bytes))
        }

        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
            let n = self.prefix.len().min(dst.len());
            let (head, tail) = dst.split_at_mut(n);
            head.copy_from_slice(&self.prefix[..n]);
            self.prefix = &self.prefix[n..];
            self.then.fill_bytes(tail);
            Ok(())
        }
    }

    impl TryCryptoRng for PrefixThen<'_> {}

    #[test]
    fn weak_targets_name_their_flaws_and_are_found_by_name() {
        assert_eq!(
            FLAWS,
            [
                "repeated-body-nonce",
                "small-identity-space",
                "unchecked-tag",
                "kept-message-keys",
                "no-dh-ratchet",
                "malleable-field"
            ]
        );
        for flaw in FLAWS {
            let target = by_name(flaw).unwrap();
            assert_eq!(target.identity().flaw.as_deref(), Some(flaw));
            assert_eq!(
                target.identity().source_sha256,
                TargetIdentity::built().source_sha256
            );
            assert_eq!(
                crate::targets::by_flaw(Some(flaw))
                    .unwrap()
                    .identity()
                    .flaw
                    .as_deref(),
                Some(flaw)
            );
        }
        assert!(by_name("no-such-flaw").is_none());
        assert!(crate::targets::real().identity().flaw.is_none());
    }

    /// Every weak device's state restores to the same bytes, mid-conversation, and the
    /// restored devices talk on.
    #[test]
    fn weak_device_states_restore() {
        for flaw in FLAWS {
            let target = by_name(flaw).unwrap();
            let mut pair = Pair::new(target);
            pair.exchange(true, b"one", 10);
            pair.exchange(false, b"two", 11);
            for device in [&mut pair.alice, &mut pair.bob] {
                let state = device.state();
                let restored = target.restore(&state).unwrap();
                assert_eq!(*restored.state(), *state, "{flaw}");
                *device = restored;
            }
            pair.exchange(true, b"three", 12);
            pair.exchange(false, b"four", 13);
            assert!(target.restore(&[]).is_err(), "{flaw}");
        }
    }
}
