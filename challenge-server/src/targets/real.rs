//! target-impl as a [`Target`]: every operation is target-impl's own, unchanged.

use rand_core::CryptoRng;
use target_impl::{Device, PeerId, PublicIdentity, VerifiedBundle, hazmat};
use zeroize::Zeroizing;

use super::{
    Delivery, IdentityKey, OneTimePrekeys, Outgoing, ProtocolError, Received, Target, TargetDevice,
};
use crate::Error;
use crate::api::TargetIdentity;

/// target-impl, as this server was built with it.
#[derive(Clone, Copy, Debug, Default)]
pub struct TargetImpl;

impl Target for TargetImpl {
    fn identity(&self) -> TargetIdentity {
        TargetIdentity::built()
    }

    fn generate(
        &self,
        rng: &mut dyn CryptoRng,
        one_time: OneTimePrekeys,
    ) -> Result<Box<dyn TargetDevice>, Error> {
        let mut device = Device::generate(rng)?;
        if one_time.x25519 > 0 {
            device.add_one_time_prekeys(one_time.x25519, rng)?;
        }
        if one_time.kem > 0 {
            device.add_one_time_kem_prekeys(one_time.kem, rng)?;
        }
        Ok(Box::new(RealDevice(device)))
    }

    fn restore(&self, state: &[u8]) -> Result<Box<dyn TargetDevice>, Error> {
        Ok(Box::new(RealDevice(Device::from_bytes(state)?)))
    }
}

/// [`Target::check_identity_key`] for target-impl's identities (docs/PROTOCOL.md: the signing
/// key is the Ed25519 public key of a 32-byte seed, the DH key the X25519 public key of a
/// 32-byte scalar). Public keys are compared, so the comparison needs no constant time.
pub fn check_identity_key(public_identity: &[u8], key: IdentityKey, private: &[u8; 32]) -> bool {
    let Ok(identity) = self::public_identity(public_identity) else {
        return false;
    };
    match key {
        IdentityKey::Ed25519 => hazmat::ed25519_public_key(private) == *identity.signing_key(),
        IdentityKey::X25519 => {
            hazmat::x25519_public_key(private).is_ok_and(|p| p == *identity.dh_key())
        }
    }
}

/// A target-impl [`Device`].
pub struct RealDevice(pub Device);

impl RealDevice {
    /// The device itself.
    pub fn device(&self) -> &Device {
        &self.0
    }
}

/// A [`PeerId`] from a party name.
pub fn peer(name: &str) -> Result<PeerId, ProtocolError> {
    PeerId::new(name)
}

/// A public identity from its bytes.
pub fn public_identity(bytes: &[u8]) -> Result<PublicIdentity, ProtocolError> {
    let bytes = bytes.try_into().map_err(|_| ProtocolError::Malformed)?;
    PublicIdentity::from_bytes(bytes)
}

impl TargetDevice for RealDevice {
    fn bundle(&self) -> Result<Vec<u8>, Error> {
        Ok(self.0.prekey_bundle()?.to_bytes())
    }

    fn public_identity(&self) -> Vec<u8> {
        self.0.public_identity().to_bytes().to_vec()
    }

    fn initiate(
        &mut self,
        peer_name: &str,
        bundle: &[u8],
        expected: &[u8],
        rng: &mut dyn CryptoRng,
    ) -> Result<(), ProtocolError> {
        let to = peer(peer_name)?;
        let expected = public_identity(expected)?;
        let bundle = VerifiedBundle::import(bundle)?;
        if bundle.bundle().identity().to_bytes() != expected.to_bytes() {
            return Err(ProtocolError::IdentityChanged);
        }
        // Pinned first: the device then refuses any other identity for this peer, as a user
        // who compared fingerprints would.
        self.0.pin_identity(&to, &expected)?;
        self.0.initiate(&to, &bundle, rng)
    }

    fn pin_identity(&mut self, peer_name: &str, identity: &[u8]) -> Result<(), ProtocolError> {
        self.0
            .pin_identity(&peer(peer_name)?, &public_identity(identity)?)
    }

    fn encrypt(
        &mut self,
        peer_name: &str,
        message: &Outgoing<'_>,
        now: u64,
        rng: &mut dyn CryptoRng,
    ) -> Result<Vec<u8>, ProtocolError> {
        let to = peer(peer_name)?;
        let outgoing = target_impl::Outgoing {
            content_type: message.content_type,
            ttl: message.ttl,
            payload: message.payload,
        };
        self.0
            .session_mut(&to)
            .ok_or(ProtocolError::CorruptState)?
            .encrypt(&outgoing, now, rng)
    }

    fn decrypt(
        &mut self,
        peer_name: &str,
        bytes: &[u8],
        now: u64,
    ) -> Result<Delivery, ProtocolError> {
        let from = peer(peer_name)?;
        Ok(match self.0.receive(&from, bytes, now)? {
            target_impl::Delivery::Message(m) => Delivery::Message(Received {
                content_type: m.content_type,
                sent_at: m.sent_at,
                ttl: m.ttl,
                payload: m.payload,
            }),
            target_impl::Delivery::IdentityChanged(change) => Delivery::IdentityChanged {
                known: change.known_identity().to_bytes().to_vec(),
                new: change.new_identity().to_bytes().to_vec(),
            },
        })
    }

    fn state(&self) -> Zeroizing<Vec<u8>> {
        self.0.to_bytes()
    }

    fn duplicate(&self) -> Box<dyn TargetDevice> {
        Box::new(RealDevice(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::{Rng, SeedableRng};

    use super::*;

    /// `Device::generate` draws the signing seed, then the X25519 scalar (docs/PROTOCOL.md), so
    /// the first 64 bytes of the same stream are the identity's private keys.
    #[test]
    fn the_identity_keys_check_against_the_public_identity() {
        let device = TargetImpl
            .generate(
                &mut ChaCha20Rng::from_seed([7; 32]),
                OneTimePrekeys::default(),
            )
            .unwrap();
        let public = device.public_identity();
        let mut stream = ChaCha20Rng::from_seed([7; 32]);
        let (mut signing, mut dh) = ([0u8; 32], [0u8; 32]);
        stream.fill_bytes(&mut signing);
        stream.fill_bytes(&mut dh);
        for (key, private) in [(IdentityKey::Ed25519, signing), (IdentityKey::X25519, dh)] {
            assert!(
                TargetImpl.check_identity_key(&public, key, &private),
                "{key:?}"
            );
            // Byte 1: X25519 clamps bits of bytes 0 and 31, so flipping those may give the
            // same key.
            let mut wrong = private;
            wrong[1] ^= 1;
            assert!(
                !TargetImpl.check_identity_key(&public, key, &wrong),
                "{key:?}"
            );
        }
        assert!(!TargetImpl.check_identity_key(&public, IdentityKey::Ed25519, &dh));
        assert!(!TargetImpl.check_identity_key(&public[..64], IdentityKey::Ed25519, &signing));
        assert_eq!(IdentityKey::by_name("x25519"), Some(IdentityKey::X25519));
    }
}
