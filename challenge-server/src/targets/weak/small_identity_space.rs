//! `small-identity-space` ([`SmallIdentitySpace`]): long-term identities come from a space of
//! 2^20 seeds. `generate` draws 4 bytes from the caller's RNG, keeps `v = u32be & 0xFFFFF`
//! ([`IDENTITY_SPACE_BITS`] bits), and runs target-impl's `Device::generate` on an RNG whose
//! first 64 bytes (the identity: Ed25519 signing seed, then X25519 scalar, docs/PROTOCOL.md
//! section 12) come from `ChaCha20Rng::from_seed(SHA-256(IDENTITY_SEED_LABEL ‖ u32be(v)))` and
//! every later byte from the caller's RNG. Everything else is target-impl's: the device is a
//! [`RealDevice`] and its state is target-impl's device state. [`recover_small_identity`]
//! searches the space for a public identity's private keys.

use std::convert::Infallible;

use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, Rng, SeedableRng, TryCryptoRng, TryRng};
use target_impl::{Device, hazmat};
use zeroize::Zeroizing;

use super::SMALL_IDENTITY_SPACE;
use crate::Error;
use crate::api::TargetIdentity;
use crate::targets::real::{self, RealDevice};
use crate::targets::{OneTimePrekeys, Target, TargetDevice};

/// Bits of the identity seed index `v`.
pub const IDENTITY_SPACE_BITS: u32 = 20;

/// The label hashed with `u32be(v)` into the identity stream's ChaCha20 seed.
pub const IDENTITY_SEED_LABEL: &[u8] = b"challenge-server weak identity";

/// Bytes of the identity that `Device::generate` draws first: the Ed25519 signing seed and the
/// X25519 scalar, 32 bytes each.
const IDENTITY_DRAW_LEN: usize = 64;

/// target-impl whose identities come from a 2^20-seed space (module documentation).
#[derive(Clone, Copy, Debug, Default)]
pub struct SmallIdentitySpace;

impl Target for SmallIdentitySpace {
    fn identity(&self) -> TargetIdentity {
        TargetIdentity::weakened(SMALL_IDENTITY_SPACE)
    }

    fn generate(
        &self,
        rng: &mut dyn CryptoRng,
        one_time: OneTimePrekeys,
    ) -> Result<Box<dyn TargetDevice>, Error> {
        let mut index = [0u8; 4];
        rng.fill_bytes(&mut index);
        let v = u32::from_be_bytes(index) & index_mask();
        // THE FLAW: the identity's 64 bytes are a function of 20 bits.
        let mut device = Device::generate(&mut IdentityFirst {
            identity: identity_stream(v),
            identity_left: IDENTITY_DRAW_LEN,
            rest: rng,
        })?;
        if one_time.x25519 > 0 {
            device.add_one_time_prekeys(one_time.x25519, rng)?;
        }
        if one_time.kem > 0 {
            device.add_one_time_kem_prekeys(one_time.kem, rng)?;
        }
        Ok(Box::new(RealDevice(device)))
    }

    fn restore(&self, state: &[u8]) -> Result<Box<dyn TargetDevice>, Error> {
        real::TargetImpl.restore(state)
    }
}

fn index_mask() -> u32 {
    (1 << IDENTITY_SPACE_BITS) - 1
}

/// The stream whose first 64 bytes are the identity of index `v`.
fn identity_stream(v: u32) -> ChaCha20Rng {
    ChaCha20Rng::from_seed(hazmat::sha256(&[IDENTITY_SEED_LABEL, &v.to_be_bytes()]))
}

/// An identity's private keys: the Ed25519 signing seed, then the X25519 scalar.
pub type RecoveredIdentity = (Zeroizing<[u8; 32]>, Zeroizing<[u8; 32]>);

/// The private keys of `public_identity` (the Ed25519 signing seed, then the X25519 scalar), if
/// it is an identity of [`SmallIdentitySpace`]: every index is tried, the Ed25519 public key
/// compared first, the X25519 one checked on a match. `None` for any other identity (after the
/// whole space) and for bytes that are not a public identity.
pub fn recover_small_identity(public_identity: &[u8]) -> Option<RecoveredIdentity> {
    let identity = real::public_identity(public_identity).ok()?;
    (0..=index_mask()).find_map(|v| {
        let mut stream = identity_stream(v);
        let mut signing = Zeroizing::new([0u8; 32]);
        stream.fill_bytes(&mut *signing);
        if hazmat::ed25519_public_key(&signing) != *identity.signing_key() {
            return None;
        }
        let mut dh = Zeroizing::new([0u8; 32]);
        stream.fill_bytes(&mut *dh);
        hazmat::x25519_public_key(&dh)
            .is_ok_and(|p| p == *identity.dh_key())
            .then_some((signing, dh))
    })
}

/// An RNG that yields `identity_left` bytes of `identity`, then the bytes of `rest`.
struct IdentityFirst<'a> {
    identity: ChaCha20Rng,
    identity_left: usize,
    rest: &'a mut dyn CryptoRng,
}

impl TryRng for IdentityFirst<'_> {
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
        let (from_identity, from_rest) = dst.split_at_mut(self.identity_left.min(dst.len()));
        self.identity.fill_bytes(from_identity);
        self.identity_left -= from_identity.len();
        self.rest.fill_bytes(from_rest);
        Ok(())
    }
}

impl TryCryptoRng for IdentityFirst<'_> {}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::super::tests::{ALICE, BOB, Pair, PrefixThen, outgoing, rng};
    use super::*;
    use crate::targets::real::TargetImpl;
    use crate::targets::{Delivery, IdentityKey, ProtocolError};

    const NOW: u64 = 1_800_000_000;

    /// The attacker's device: target-impl generated from `identity` (the recovered signing
    /// seed and X25519 scalar, which `Device::generate` draws first) and its own prekeys, or,
    /// with nothing recovered, an identity of its own.
    fn impersonator(identity: Option<&RecoveredIdentity>) -> Box<dyn TargetDevice> {
        let mut drawn = Vec::new();
        if let Some((signing, dh)) = identity {
            drawn.extend_from_slice(&**signing);
            drawn.extend_from_slice(&**dh);
        }
        TargetImpl
            .generate(
                &mut PrefixThen::new(&drawn, rng(66)),
                OneTimePrekeys::default(),
            )
            .unwrap()
    }

    #[test]
    fn small_identity_device_is_target_impl_on_the_index_stream() {
        let mut index = [0u8; 4];
        let mut callers = rng(2);
        callers.fill_bytes(&mut index);
        let v = u32::from_be_bytes(index) & index_mask();
        let mut identity = [0u8; IDENTITY_DRAW_LEN];
        identity_stream(v).fill_bytes(&mut identity);
        // target-impl fed the index stream's 64 bytes, then the caller's stream after the 4
        // index bytes, makes the same device byte for byte.
        let one_time = OneTimePrekeys { x25519: 1, kem: 1 };
        let expected = TargetImpl
            .generate(&mut PrefixThen::new(&identity, callers), one_time)
            .unwrap();
        let weak = SmallIdentitySpace.generate(&mut rng(2), one_time).unwrap();
        assert_eq!(*weak.state(), *expected.state());
        assert_eq!(
            SmallIdentitySpace.restore(&weak.state()).unwrap().state(),
            weak.state()
        );
        assert!(SmallIdentitySpace.restore(&weak.state()[1..]).is_err());
    }

    #[test]
    fn small_identity_attack_recovers_bob_and_reads_alice() {
        let target = SmallIdentitySpace;
        let mut pair = Pair::devices(&target);
        let bob = pair.bob.public_identity();
        let recovered = recover_small_identity(&bob).unwrap();
        assert!(target.check_identity_key(&bob, IdentityKey::Ed25519, &recovered.0));
        assert!(target.check_identity_key(&bob, IdentityKey::X25519, &recovered.1));
        // The network answers Alice's bundle fetch with the attacker's device under Bob's
        // identity: Alice's check of Bob's published identity passes.
        let mut mallory = impersonator(Some(&recovered));
        assert_eq!(mallory.public_identity(), bob);
        pair.alice
            .initiate(BOB, &mallory.bundle().unwrap(), &bob, &mut rng(3))
            .unwrap();
        let sent = pair
            .alice
            .encrypt(BOB, &outgoing(b"for bob only"), NOW, &mut rng(4))
            .unwrap();
        let Delivery::Message(read) = mallory.decrypt(ALICE, &sent, NOW).unwrap() else {
            panic!("an identity change");
        };
        assert_eq!(read.payload.as_slice(), b"for bob only");
    }

    /// The same attack on target-impl: the search covers the whole space and finds nothing
    /// (its time is printed: `--nocapture`), and the impersonator's bundle, under an identity
    /// of its own, is refused by Alice, whose state is unchanged and who then talks to Bob.
    #[test]
    fn small_identity_attack_fails_on_the_real_target() {
        let mut pair = Pair::devices(&TargetImpl);
        let bob = pair.bob.public_identity();
        let started = Instant::now();
        let recovered = recover_small_identity(&bob);
        println!(
            "full search of 2^{IDENTITY_SPACE_BITS} identities: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        assert!(recovered.is_none());
        let mallory = impersonator(recovered.as_ref());
        let before = pair.alice.state();
        assert_eq!(
            pair.alice
                .initiate(BOB, &mallory.bundle().unwrap(), &bob, &mut rng(3))
                .unwrap_err(),
            ProtocolError::IdentityChanged
        );
        assert_eq!(*pair.alice.state(), *before);
        pair.initiate();
        pair.exchange(true, b"hello bob", NOW);
        pair.exchange(false, b"hello alice", NOW + 1);
        pair.exchange(true, b"bye", NOW + 2);
    }

    #[test]
    fn small_identity_search_refuses_what_is_not_an_identity() {
        assert!(recover_small_identity(&[0u8; 12]).is_none());
        assert!(recover_small_identity(&[0u8; target_impl::PUBLIC_IDENTITY_LEN]).is_none());
    }
}
