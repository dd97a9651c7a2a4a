//! Long-term identity: an Ed25519 signing key and an X25519 DH key that it signs.
//!
//! The signature binds the DH key to the signing key (label ‖ signing key ‖ DH key), so nobody
//! can present someone else's signing key with their own DH key.

use core::fmt;

use crate::codec::{Decoded, Reader, Writer};
use crate::keys::{Secret32, X25519Pair};
use crate::{Error, labels, suite};

/// Encoded length of a [`PublicIdentity`]: signing key, DH key, signature.
pub const PUBLIC_IDENTITY_LEN: usize = 32 + 32 + 64;

/// The public half of an identity, its DH key signature verified whenever it is decoded from
/// untrusted bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicIdentity {
    signing: [u8; 32],
    dh: [u8; 32],
    signature: [u8; 64],
}

impl PublicIdentity {
    /// The Ed25519 identity (signing) key.
    pub fn signing_key(&self) -> &[u8; 32] {
        &self.signing
    }

    /// The X25519 identity key.
    pub fn dh_key(&self) -> &[u8; 32] {
        &self.dh
    }

    /// The signing key's signature over the DH key.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// `signing ‖ dh ‖ signature`, 128 bytes.
    pub fn to_bytes(&self) -> [u8; PUBLIC_IDENTITY_LEN] {
        let mut out = [0u8; PUBLIC_IDENTITY_LEN];
        let (a, rest) = out.split_at_mut(32);
        let (b, c) = rest.split_at_mut(32);
        a.copy_from_slice(&self.signing);
        b.copy_from_slice(&self.dh);
        c.copy_from_slice(&self.signature);
        out
    }

    /// Decodes 128 bytes and checks the signature over the DH key ([`Error::BadSignature`]).
    pub fn from_bytes(bytes: &[u8; PUBLIC_IDENTITY_LEN]) -> Result<Self, Error> {
        let identity = Self::read(&mut Reader::new(bytes)).map_err(|_| Error::Malformed)?;
        identity.verify().map_err(|_| Error::BadSignature)?;
        Ok(identity)
    }

    pub(crate) fn read(reader: &mut Reader<'_>) -> Decoded<Self> {
        Ok(Self {
            signing: reader.array()?,
            dh: reader.array()?,
            signature: reader.array()?,
        })
    }

    pub(crate) fn write(&self, out: &mut dyn Writer) {
        out.put(&self.signing);
        out.put(&self.dh);
        out.put(&self.signature);
    }

    /// Checks the DH key's signature (strict Ed25519).
    pub(crate) fn verify(&self) -> Result<(), suite::CryptoError> {
        suite::ed25519_verify(
            &self.signing,
            &identity_message(&self.signing, &self.dh),
            &self.signature,
        )
    }

    /// Verifies a signature by this identity over `label ‖ signing key ‖ fields`.
    pub(crate) fn verify_signed(&self, message: &[u8], signature: &[u8; 64]) -> Result<(), Error> {
        suite::ed25519_verify(&self.signing, message, signature).map_err(|_| Error::BadSignature)
    }
}

impl fmt::Debug for PublicIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicIdentity")
            .field("signing", &crate::HexBytes(&self.signing))
            .field("dh", &crate::HexBytes(&self.dh))
            .finish_non_exhaustive()
    }
}

fn identity_message(signing: &[u8; 32], dh: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(labels::SIG_IDENTITY.len() + 64);
    m.put(labels::SIG_IDENTITY);
    m.put(signing);
    m.put(dh);
    m
}

/// A long-term identity with its secrets.
#[derive(Clone)]
pub(crate) struct Identity {
    signing_seed: Secret32,
    dh: X25519Pair,
    public: PublicIdentity,
}

impl Identity {
    /// Draws the signing seed (32 bytes), then the DH private key (32 bytes).
    pub(crate) fn generate<R: rand_core::CryptoRng + ?Sized>(
        rng: &mut R,
    ) -> Result<Self, suite::CryptoError> {
        let signing_seed = Secret32::random(rng);
        let dh = X25519Pair::generate(rng)?;
        Ok(Self::from_secrets(signing_seed, dh))
    }

    /// Rebuilds the identity (and its deterministic signature) from its two secrets.
    pub(crate) fn from_secrets(signing_seed: Secret32, dh: X25519Pair) -> Self {
        let signing = suite::ed25519_public_key(signing_seed.expose());
        let signature = suite::ed25519_sign(
            signing_seed.expose(),
            &identity_message(&signing, dh.public()),
        );
        let public = PublicIdentity {
            signing,
            dh: *dh.public(),
            signature,
        };
        Self {
            signing_seed,
            dh,
            public,
        }
    }

    pub(crate) fn public(&self) -> &PublicIdentity {
        &self.public
    }

    pub(crate) fn dh(&self) -> &X25519Pair {
        &self.dh
    }

    pub(crate) fn signing_seed(&self) -> &Secret32 {
        &self.signing_seed
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        suite::ed25519_sign(self.signing_seed.expose(), message)
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}
