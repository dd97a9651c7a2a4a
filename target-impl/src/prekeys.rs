//! Prekeys (PQXDH section 3.2) and the prekey bundle a device publishes.
//!
//! A bundle carries the identity, the signed X25519 prekey, at most one one-time X25519 prekey,
//! and one signed ML-KEM-768 prekey (one-time if any is left, else the last-resort one). Import
//! checks every signature ([`Error::BadSignature`]) and validates the ML-KEM key
//! ([`Error::Malformed`]); only then does a [`VerifiedBundle`] exist.

use core::fmt;

use crate::codec::{Reader, Writer};
use crate::identity::{Identity, PUBLIC_IDENTITY_LEN, PublicIdentity};
use crate::keys::{KemSeed, X25519Pair};
use crate::{Error, VERSION, labels, suite};

/// Message type byte of an encoded prekey bundle.
pub const BUNDLE_TYPE: u8 = 0x01;

/// Whether an ML-KEM prekey is the reusable last-resort key or a one-time key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KemKind {
    /// Reused until rotated; initial messages that rely on it are remembered to refuse replays.
    LastResort,
    /// Deleted on first use.
    OneTime,
}

impl KemKind {
    pub(crate) fn to_byte(self) -> u8 {
        match self {
            KemKind::LastResort => 0,
            KemKind::OneTime => 1,
        }
    }

    pub(crate) fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(KemKind::LastResort),
            1 => Some(KemKind::OneTime),
            _ => None,
        }
    }
}

pub(crate) fn signed_prekey_message(signing: &[u8; 32], id: u32, public: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(labels::SIG_SIGNED_PREKEY.len() + 68);
    m.put(labels::SIG_SIGNED_PREKEY);
    m.put(signing);
    m.put_u32(id);
    m.put(public);
    m
}

pub(crate) fn kem_prekey_message(
    signing: &[u8; 32],
    kind: KemKind,
    id: u32,
    public: &[u8; suite::MLKEM_PUBLIC_KEY_LEN],
) -> Vec<u8> {
    let mut m = Vec::with_capacity(labels::SIG_KEM_PREKEY.len() + 37 + public.len());
    m.put(labels::SIG_KEM_PREKEY);
    m.put(signing);
    m.put_u8(kind.to_byte());
    m.put_u32(id);
    m.put(public);
    m
}

/// A signed X25519 prekey with its private key.
#[derive(Clone, Debug)]
pub(crate) struct SignedPrekey {
    pub(crate) id: u32,
    pub(crate) pair: X25519Pair,
    pub(crate) signature: [u8; 64],
}

impl SignedPrekey {
    pub(crate) fn new(identity: &Identity, id: u32, pair: X25519Pair) -> Self {
        let signature = identity.sign(&signed_prekey_message(
            identity.public().signing_key(),
            id,
            pair.public(),
        ));
        Self {
            id,
            pair,
            signature,
        }
    }
}

/// A one-time X25519 prekey with its private key.
#[derive(Clone, Debug)]
pub(crate) struct OneTimePrekey {
    pub(crate) id: u32,
    /// Boxed so the key never moves: the map holding these moves its values between nodes (and
    /// frees nodes) with no zeroizing, which would leave copies of an inline key behind.
    pub(crate) pair: Box<X25519Pair>,
}

/// A signed ML-KEM-768 prekey: stored as its seed, expanded when loaded.
#[derive(Clone)]
pub(crate) struct KemPrekey {
    pub(crate) id: u32,
    pub(crate) kind: KemKind,
    /// Boxed for the same reason as [`OneTimePrekey::pair`].
    pub(crate) seed: Box<KemSeed>,
    pub(crate) public: Box<[u8; suite::MLKEM_PUBLIC_KEY_LEN]>,
    private: Box<zeroize::Zeroizing<[u8; suite::MLKEM_PRIVATE_KEY_LEN]>>,
    pub(crate) signature: [u8; 64],
}

impl KemPrekey {
    /// Expands `seed`; signs the public key unless a stored `signature` is given.
    pub(crate) fn new(
        identity: &Identity,
        id: u32,
        kind: KemKind,
        seed: KemSeed,
        signature: Option<[u8; 64]>,
    ) -> Self {
        let (public, private) = suite::mlkem768_generate(seed.expose());
        let signature = signature.unwrap_or_else(|| {
            identity.sign(&kem_prekey_message(
                identity.public().signing_key(),
                kind,
                id,
                &public,
            ))
        });
        Self {
            id,
            kind,
            seed: Box::new(seed),
            public,
            private,
            signature,
        }
    }

    pub(crate) fn decapsulate(
        &self,
        ciphertext: &[u8; suite::MLKEM_CIPHERTEXT_LEN],
    ) -> crate::keys::Secret32 {
        crate::keys::Secret32::new(*suite::mlkem768_decapsulate(&self.private, ciphertext))
    }
}

impl fmt::Debug for KemPrekey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KemPrekey")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// A prekey bundle as published: decoded, not yet verified.
#[derive(Clone, PartialEq, Eq)]
pub struct PrekeyBundle {
    pub(crate) identity: PublicIdentity,
    pub(crate) signed_prekey_id: u32,
    pub(crate) signed_prekey: [u8; 32],
    pub(crate) signed_prekey_signature: [u8; 64],
    pub(crate) one_time_prekey: Option<(u32, [u8; 32])>,
    pub(crate) kem_kind: KemKind,
    pub(crate) kem_prekey_id: u32,
    pub(crate) kem_prekey: Box<[u8; suite::MLKEM_PUBLIC_KEY_LEN]>,
    pub(crate) kem_prekey_signature: [u8; 64],
}

/// Encoded bundle length without a one-time prekey; with one it is 36 bytes longer.
pub const BUNDLE_LEN_WITHOUT_OPK: usize =
    2 + PUBLIC_IDENTITY_LEN + 4 + 32 + 64 + 1 + 1 + 4 + suite::MLKEM_PUBLIC_KEY_LEN + 64;

impl PrekeyBundle {
    /// The canonical encoding (docs/PROTOCOL.md, "Prekey bundle").
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(BUNDLE_LEN_WITHOUT_OPK + 36);
        out.put_u8(VERSION);
        out.put_u8(BUNDLE_TYPE);
        self.identity.write(&mut out);
        out.put_u32(self.signed_prekey_id);
        out.put(&self.signed_prekey);
        out.put(&self.signed_prekey_signature);
        match &self.one_time_prekey {
            Some((id, key)) => {
                out.put_flag(true);
                out.put_u32(*id);
                out.put(key);
            }
            None => out.put_flag(false),
        }
        out.put_u8(self.kem_kind.to_byte());
        out.put_u32(self.kem_prekey_id);
        out.put(self.kem_prekey.as_slice());
        out.put(&self.kem_prekey_signature);
        out
    }

    /// Decodes the framing only ([`Error::Malformed`]); [`PrekeyBundle::verify`] checks it.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let parsed = (|| {
            let version = r.u8()?;
            let kind = r.u8()?;
            if version != VERSION || kind != BUNDLE_TYPE {
                return Err(crate::codec::DecodeError);
            }
            let identity = PublicIdentity::read(&mut r)?;
            let signed_prekey_id = r.u32()?;
            let signed_prekey = r.array()?;
            let signed_prekey_signature = r.array()?;
            let one_time_prekey = if r.flag()? {
                Some((r.u32()?, r.array()?))
            } else {
                None
            };
            let kem_kind = KemKind::from_byte(r.u8()?).ok_or(crate::codec::DecodeError)?;
            let kem_prekey_id = r.u32()?;
            let kem_prekey = r.boxed_array()?;
            let kem_prekey_signature = r.array()?;
            Ok(Self {
                identity,
                signed_prekey_id,
                signed_prekey,
                signed_prekey_signature,
                one_time_prekey,
                kem_kind,
                kem_prekey_id,
                kem_prekey,
                kem_prekey_signature,
            })
        })();
        let bundle = parsed.map_err(|_| Error::Malformed)?;
        r.finish().map_err(|_| Error::Malformed)?;
        Ok(bundle)
    }

    /// Checks, in order: the identity's signature over its DH key, the signed prekey's
    /// signature, the ML-KEM prekey's signature (each [`Error::BadSignature`]), then the ML-KEM
    /// key's FIPS 203 modulus check ([`Error::Malformed`]).
    pub fn verify(self) -> Result<VerifiedBundle, Error> {
        self.identity.verify().map_err(|_| Error::BadSignature)?;
        let signing = self.identity.signing_key();
        self.identity.verify_signed(
            &signed_prekey_message(signing, self.signed_prekey_id, &self.signed_prekey),
            &self.signed_prekey_signature,
        )?;
        self.identity.verify_signed(
            &kem_prekey_message(signing, self.kem_kind, self.kem_prekey_id, &self.kem_prekey),
            &self.kem_prekey_signature,
        )?;
        if !suite::mlkem768_validate_public_key(&self.kem_prekey) {
            return Err(Error::Malformed);
        }
        Ok(VerifiedBundle(self))
    }

    /// The identity this bundle claims.
    pub fn identity(&self) -> &PublicIdentity {
        &self.identity
    }
}

impl fmt::Debug for PrekeyBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrekeyBundle")
            .field("identity", &self.identity)
            .field("signed_prekey_id", &self.signed_prekey_id)
            .field(
                "one_time_prekey_id",
                &self.one_time_prekey.map(|(id, _)| id),
            )
            .field("kem_kind", &self.kem_kind)
            .field("kem_prekey_id", &self.kem_prekey_id)
            .finish_non_exhaustive()
    }
}

/// A bundle whose signatures and ML-KEM key were checked: only [`PrekeyBundle::verify`] makes
/// one, and only a verified bundle starts a session.
#[derive(Clone, Debug)]
pub struct VerifiedBundle(PrekeyBundle);

impl VerifiedBundle {
    /// Decodes and verifies in one step.
    pub fn import(bytes: &[u8]) -> Result<Self, Error> {
        PrekeyBundle::from_bytes(bytes)?.verify()
    }

    /// The verified bundle.
    pub fn bundle(&self) -> &PrekeyBundle {
        &self.0
    }
}
