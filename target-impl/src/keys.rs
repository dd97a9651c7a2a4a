//! Secret key material: zeroized on drop, redacted in `Debug`, compared in constant time.

use core::fmt;
use std::sync::Arc;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{labels, suite};

/// 32 secret bytes: a chain, root, header or message key, or a private key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct Secret32([u8; 32]);

impl Secret32 {
    pub(crate) fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    pub(crate) fn random<R: rand_core::CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut out = Self([0u8; 32]);
        rng.fill_bytes(&mut out.0);
        out
    }

    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    pub(crate) fn ct_eq(&self, other: &Self) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }
}

impl fmt::Debug for Secret32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret32(..)")
    }
}

/// A header key `hk` with its AES-256-GCM key `HEK(hk) = Expand(hk, L_HEADER_KEY, 32)` set up
/// once, when the header key is made (docs/PROTOCOL.md 7.3): sealing or opening a header makes
/// no key derivation and no key setup. The set-up key is shared by clones (it never changes),
/// and its schedule lives in aws-lc's memory, which aws-lc cleanses when the last clone drops.
#[derive(Clone)]
pub(crate) struct HeaderKey {
    secret: Secret32,
    aead: Arc<suite::AeadKey>,
}

impl HeaderKey {
    pub(crate) fn new(secret: Secret32) -> Result<Self, suite::CryptoError> {
        let mut hek = zeroize::Zeroizing::new([0u8; suite::AEAD_KEY_LEN]);
        suite::hkdf_expand(secret.expose(), labels::HEADER_KEY, hek.as_mut_slice())?;
        let aead = Arc::new(suite::AeadKey::new(&hek)?);
        Ok(Self { secret, aead })
    }

    pub(crate) fn expose(&self) -> &[u8; 32] {
        self.secret.expose()
    }

    pub(crate) fn ct_eq(&self, other: &Self) -> bool {
        self.secret.ct_eq(&other.secret)
    }

    /// The header AEAD key `HEK(hk)`, set up.
    pub(crate) fn aead(&self) -> &suite::AeadKey {
        &self.aead
    }
}

impl fmt::Debug for HeaderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HeaderKey(..)")
    }
}

/// An X25519 key pair whose private key is 32 bytes drawn from the injected RNG, kept parsed
/// (aws-lc-rs) so that each DH is one scalar multiplication; the bytes stay for the state blob.
#[derive(Clone)]
pub(crate) struct X25519Pair {
    private: Secret32,
    parsed: suite::X25519PrivateKey,
}

impl X25519Pair {
    pub(crate) fn from_private(private: Secret32) -> Result<Self, suite::CryptoError> {
        let parsed = suite::X25519PrivateKey::new(private.expose())?;
        Ok(Self { private, parsed })
    }

    pub(crate) fn generate<R: rand_core::CryptoRng + ?Sized>(
        rng: &mut R,
    ) -> Result<Self, suite::CryptoError> {
        Self::from_private(Secret32::random(rng))
    }

    pub(crate) fn public(&self) -> &[u8; 32] {
        self.parsed.public_key()
    }

    pub(crate) fn private(&self) -> &Secret32 {
        &self.private
    }

    pub(crate) fn dh(&self, peer: &[u8; 32]) -> Result<Secret32, suite::CryptoError> {
        let shared = suite::x25519_agree(&self.parsed, peer)?;
        Ok(Secret32::new(*shared))
    }
}

impl fmt::Debug for X25519Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("X25519Pair")
            .field("public", &crate::HexBytes(self.public()))
            .finish_non_exhaustive()
    }
}

/// An ML-KEM-768 private key, kept as its 64-byte seed `d‖z` (the expanded form does not bind
/// the key) and expanded on use.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct KemSeed([u8; suite::MLKEM_SEED_LEN]);

impl KemSeed {
    pub(crate) fn new(bytes: [u8; suite::MLKEM_SEED_LEN]) -> Self {
        Self(bytes)
    }

    pub(crate) fn random<R: rand_core::CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut out = Self([0u8; suite::MLKEM_SEED_LEN]);
        rng.fill_bytes(&mut out.0);
        out
    }

    pub(crate) fn expose(&self) -> &[u8; suite::MLKEM_SEED_LEN] {
        &self.0
    }
}

impl fmt::Debug for KemSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KemSeed(..)")
    }
}
