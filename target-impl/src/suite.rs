//! Suite v1: every primitive the protocol uses, and the only place that calls a primitive crate.
//!
//! Backends (measured, DESIGN section 7): AES-256-GCM and X25519 from aws-lc-rs, Ed25519 from
//! ed25519-dalek (`verify_strict`), ML-KEM-768 from libcrux-ml-kem, HKDF/HMAC/SHA-256 from
//! RustCrypto. With the `hazmat` feature these functions are public, so vectors, fuzzing and
//! benchmarks exercise exactly the calls the protocol makes.
//!
//! Every failure is the opaque [`CryptoError`]: callers map it to the protocol's error classes.

use aws_lc_rs::{aead, agreement};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hmac::{KeyInit, Mac};
use sha2::Digest;
use zeroize::Zeroizing;

/// AES-256-GCM key length.
pub const AEAD_KEY_LEN: usize = 32;
/// AES-256-GCM nonce length (96 bits; no other length is used).
pub const AEAD_NONCE_LEN: usize = 12;
/// AES-256-GCM tag length.
pub const AEAD_TAG_LEN: usize = 16;
/// X25519 public and private key length.
pub const X25519_LEN: usize = 32;
/// Ed25519 public key and seed length.
pub const ED25519_KEY_LEN: usize = 32;
/// Ed25519 signature length.
pub const ED25519_SIG_LEN: usize = 64;
/// SHA-256 and HMAC-SHA-256 output length.
pub const HASH_LEN: usize = 32;
/// Largest HKDF-SHA-256 output (255 blocks).
pub const HKDF_MAX_OUTPUT: usize = 255 * HASH_LEN;
/// ML-KEM-768 encapsulation (public) key length.
pub const MLKEM_PUBLIC_KEY_LEN: usize = 1184;
/// ML-KEM-768 expanded decapsulation (private) key length.
pub const MLKEM_PRIVATE_KEY_LEN: usize = 2400;
/// ML-KEM-768 ciphertext length.
pub const MLKEM_CIPHERTEXT_LEN: usize = 1088;
/// ML-KEM-768 key-generation seed `d‖z` length.
pub const MLKEM_SEED_LEN: usize = 64;
/// ML-KEM-768 encapsulation randomness `m` length.
pub const MLKEM_ENCAPS_SEED_LEN: usize = 32;
/// ML-KEM shared secret length.
pub const MLKEM_SHARED_SECRET_LEN: usize = 32;

/// A primitive refused its input (bad tag, low-order point, bad signature, invalid key, bad
/// length). Deliberately carries no detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CryptoError;

impl core::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("cryptographic operation failed")
    }
}

impl std::error::Error for CryptoError {}

/// An ML-KEM-768 ciphertext and its shared secret.
pub type Encapsulated = (
    Box<[u8; MLKEM_CIPHERTEXT_LEN]>,
    Zeroizing<[u8; MLKEM_SHARED_SECRET_LEN]>,
);

type HmacSha256 = hmac::Hmac<sha2::Sha256>;
type HkdfSha256 = hkdf::Hkdf<sha2::Sha256>;

/// An AES-256-GCM key set up once (aws-lc-rs: key schedule and GHASH key), for any number of
/// seals and opens under it: a header key's `HEK(hk)` for every message of its chain, or a
/// message key for its one body (docs/PROTOCOL.md 7.3). Its only nonce is a [`Nonce`], which
/// only a message's random value makes. aws-lc frees (and cleanses) the key schedule on drop;
/// the Rust value holds only a pointer to it.
pub struct AeadKey(aead::LessSafeKey);

impl AeadKey {
    /// Sets up the key (one AES-256 key expansion and GHASH key; no other primitive call).
    pub fn new(key: &[u8; AEAD_KEY_LEN]) -> Result<Self, CryptoError> {
        let unbound = aead::UnboundKey::new(&aead::AES_256_GCM, key).map_err(|_| CryptoError)?;
        Ok(Self(aead::LessSafeKey::new(unbound)))
    }

    /// AES-256-GCM: encrypts `in_out` in place and returns the tag.
    pub fn seal_in_place(
        &self,
        nonce: &Nonce,
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<[u8; AEAD_TAG_LEN], CryptoError> {
        seal_with(&self.0, nonce.0, aad, in_out)
    }

    /// AES-256-GCM: checks `tag` and decrypts `in_out` in place. On failure `in_out` is zeroed,
    /// so no unauthenticated plaintext is ever left in the caller's buffer.
    pub fn open_in_place(
        &self,
        nonce: &Nonce,
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8; AEAD_TAG_LEN],
    ) -> Result<(), CryptoError> {
        open_with(&self.0, nonce.0, aad, in_out, tag)
    }
}

impl core::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AeadKey(..)")
    }
}

/// An AES-256-GCM nonce: the first 12 bytes of a message's random value `r`
/// (docs/PROTOCOL.md 7.3). [`Nonce::from_message_random`] is its only constructor and
/// [`AeadKey`] takes no other nonce, so no counter, derivation or state can reach a message's
/// AEAD; the same nonce serves the header and the body (under different keys).
#[derive(Debug, PartialEq, Eq)]
pub struct Nonce([u8; AEAD_NONCE_LEN]);

impl Nonce {
    /// `r[0:12]` of a message's 16-byte random value.
    pub fn from_message_random(r: &[u8; crate::session::RANDOM_LEN]) -> Self {
        let [a, b, c, d, e, f, g, h, i, j, k, l, ..] = *r;
        Self([a, b, c, d, e, f, g, h, i, j, k, l])
    }
}

fn seal_with(
    key: &aead::LessSafeKey,
    nonce: [u8; AEAD_NONCE_LEN],
    aad: &[u8],
    in_out: &mut [u8],
) -> Result<[u8; AEAD_TAG_LEN], CryptoError> {
    let nonce = aead::Nonce::assume_unique_for_key(nonce);
    let tag = key
        .seal_in_place_separate_tag(nonce, aead::Aad::from(aad), in_out)
        .map_err(|_| CryptoError)?;
    let mut out = [0u8; AEAD_TAG_LEN];
    out.copy_from_slice(tag.as_ref());
    Ok(out)
}

fn open_with(
    key: &aead::LessSafeKey,
    nonce: [u8; AEAD_NONCE_LEN],
    aad: &[u8],
    in_out: &mut [u8],
    tag: &[u8; AEAD_TAG_LEN],
) -> Result<(), CryptoError> {
    let nonce = aead::Nonce::assume_unique_for_key(nonce);
    let result = key
        .open_in_place_separate_tag(nonce, aead::Aad::from(aad), tag.as_slice(), in_out)
        .map(|_| ())
        .map_err(|_| CryptoError);
    if result.is_err() {
        zeroize::Zeroize::zeroize(in_out);
    }
    result
}

// One-shot AES-256-GCM with a caller-chosen nonce: for conformance vectors (Wycheproof) and the
// differential fuzzer only, so compiled only with `hazmat`. The protocol never calls these: its
// every AEAD goes through an [`AeadKey`] and a [`Nonce`] made from `r`.

/// AES-256-GCM with a caller-chosen nonce: key setup, then encrypts `in_out` in place and
/// returns the tag.
#[cfg(feature = "hazmat")]
pub fn aes256gcm_seal_in_place(
    key: &[u8; AEAD_KEY_LEN],
    nonce: &[u8; AEAD_NONCE_LEN],
    aad: &[u8],
    in_out: &mut [u8],
) -> Result<[u8; AEAD_TAG_LEN], CryptoError> {
    seal_with(&AeadKey::new(key)?.0, *nonce, aad, in_out)
}

/// AES-256-GCM with a caller-chosen nonce: key setup, then checks `tag` and decrypts `in_out`
/// in place. On failure `in_out` is zeroed, so no unauthenticated plaintext is ever left in the
/// caller's buffer.
#[cfg(feature = "hazmat")]
pub fn aes256gcm_open_in_place(
    key: &[u8; AEAD_KEY_LEN],
    nonce: &[u8; AEAD_NONCE_LEN],
    aad: &[u8],
    in_out: &mut [u8],
    tag: &[u8; AEAD_TAG_LEN],
) -> Result<(), CryptoError> {
    match AeadKey::new(key) {
        Ok(key) => open_with(&key.0, *nonce, aad, in_out, tag),
        Err(e) => {
            zeroize::Zeroize::zeroize(in_out);
            Err(e)
        }
    }
}

/// AES-256-GCM seal returning `ciphertext ‖ tag`, with a caller-chosen nonce.
#[cfg(feature = "hazmat")]
pub fn aes256gcm_seal(
    key: &[u8; AEAD_KEY_LEN],
    nonce: &[u8; AEAD_NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut out = Vec::with_capacity(plaintext.len() + AEAD_TAG_LEN);
    out.extend_from_slice(plaintext);
    let tag = aes256gcm_seal_in_place(key, nonce, aad, &mut out)?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// AES-256-GCM open of `ciphertext ‖ tag` with a caller-chosen nonce; the plaintext is
/// returned only if the tag verifies.
#[cfg(feature = "hazmat")]
pub fn aes256gcm_open(
    key: &[u8; AEAD_KEY_LEN],
    nonce: &[u8; AEAD_NONCE_LEN],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let split = ciphertext_and_tag
        .len()
        .checked_sub(AEAD_TAG_LEN)
        .ok_or(CryptoError)?;
    let (ct, tag) = ciphertext_and_tag.split_at(split);
    let tag: &[u8; AEAD_TAG_LEN] = tag.try_into().map_err(|_| CryptoError)?;
    let mut out = Zeroizing::new(ct.to_vec());
    aes256gcm_open_in_place(key, nonce, aad, &mut out, tag)?;
    Ok(out)
}

/// An X25519 private key parsed once by aws-lc-rs, with its public key. Parsing computes the
/// public key (a fixed-base scalar multiplication in aws-lc's `EVP_PKEY_new_raw_private_key`),
/// so a key kept parsed costs one scalar multiplication per DH ([`x25519_agree`]) instead of
/// two ([`x25519`] from bytes). Clones share the parsed key; aws-lc wipes it when the last one
/// is dropped (`OPENSSL_free` cleanses). `Debug` shows only the public key.
#[derive(Clone)]
pub struct X25519PrivateKey {
    key: std::sync::Arc<agreement::PrivateKey>,
    public: [u8; X25519_LEN],
}

impl X25519PrivateKey {
    /// Parses a private key (RFC 7748 clamping applies) and computes its public key.
    pub fn new(private: &[u8; X25519_LEN]) -> Result<Self, CryptoError> {
        let key = agreement::PrivateKey::from_private_key(&agreement::X25519, private)
            .map_err(|_| CryptoError)?;
        let public = key.compute_public_key().map_err(|_| CryptoError)?;
        let public = public.as_ref().try_into().map_err(|_| CryptoError)?;
        Ok(Self {
            key: std::sync::Arc::new(key),
            public,
        })
    }

    /// The public key, computed once at parse.
    pub fn public_key(&self) -> &[u8; X25519_LEN] {
        &self.public
    }
}

impl core::fmt::Debug for X25519PrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("X25519PrivateKey")
            .field("public", &crate::HexBytes(&self.public))
            .finish_non_exhaustive()
    }
}

/// X25519 public key of a private key (RFC 7748 clamping applies).
pub fn x25519_public_key(private: &[u8; X25519_LEN]) -> Result<[u8; X25519_LEN], CryptoError> {
    X25519PrivateKey::new(private).map(|key| key.public)
}

/// X25519 Diffie-Hellman from the private key's bytes: parses the key, then
/// [`x25519_agree`]. Refuses low-order peer keys (an error, never an all-zero secret).
pub fn x25519(
    private: &[u8; X25519_LEN],
    peer_public: &[u8; X25519_LEN],
) -> Result<Zeroizing<[u8; X25519_LEN]>, CryptoError> {
    x25519_agree(&X25519PrivateKey::new(private)?, peer_public)
}

/// X25519 Diffie-Hellman with a parsed private key: what the protocol calls for every DH.
/// Refuses low-order peer keys (an error, never an all-zero secret).
pub fn x25519_agree(
    private: &X25519PrivateKey,
    peer_public: &[u8; X25519_LEN],
) -> Result<Zeroizing<[u8; X25519_LEN]>, CryptoError> {
    let peer = agreement::UnparsedPublicKey::new(&agreement::X25519, peer_public);
    agreement::agree(&private.key, peer, CryptoError, |secret| {
        let mut out = Zeroizing::new([0u8; X25519_LEN]);
        if secret.len() != X25519_LEN {
            return Err(CryptoError);
        }
        out.copy_from_slice(secret);
        Ok(out)
    })
}

/// HKDF-SHA-256 Extract.
pub fn hkdf_extract(salt: &[u8], ikm: &[u8]) -> Zeroizing<[u8; HASH_LEN]> {
    let (prk, _) = HkdfSha256::extract(Some(salt), ikm);
    let mut out = Zeroizing::new([0u8; HASH_LEN]);
    out.copy_from_slice(&prk);
    out
}

/// HKDF-SHA-256 Expand of `prk` (at least 32 bytes) with `info` into `okm` (at most 8160 bytes).
pub fn hkdf_expand(prk: &[u8], info: &[u8], okm: &mut [u8]) -> Result<(), CryptoError> {
    hkdf_expand_parts(prk, &[info], okm)
}

/// HKDF-Expand with `info` given as the concatenation of `info_parts` (no copy made).
pub(crate) fn hkdf_expand_parts(
    prk: &[u8],
    info_parts: &[&[u8]],
    okm: &mut [u8],
) -> Result<(), CryptoError> {
    let hkdf = HkdfSha256::from_prk(prk).map_err(|_| CryptoError)?;
    hkdf.expand_multi_info(info_parts, okm)
        .map_err(|_| CryptoError)
}

/// HMAC-SHA-256.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Result<Zeroizing<[u8; HASH_LEN]>, CryptoError> {
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| CryptoError)?;
    mac.update(message);
    let mut out = Zeroizing::new([0u8; HASH_LEN]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    Ok(out)
}

/// Two HMAC-SHA-256 values under one key with a single key setup: the chain-key step.
pub(crate) fn hmac_sha256_pair(
    key: &[u8],
    first: &[u8],
    second: &[u8],
) -> Result<[Zeroizing<[u8; HASH_LEN]>; 2], CryptoError> {
    let keyed = HmacSha256::new_from_slice(key).map_err(|_| CryptoError)?;
    let mut a = keyed.clone();
    a.update(first);
    let mut b = keyed;
    b.update(second);
    let mut out_a = Zeroizing::new([0u8; HASH_LEN]);
    out_a.copy_from_slice(&a.finalize().into_bytes());
    let mut out_b = Zeroizing::new([0u8; HASH_LEN]);
    out_b.copy_from_slice(&b.finalize().into_bytes());
    Ok([out_a, out_b])
}

/// SHA-256 of the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; HASH_LEN] {
    let mut hasher = sha2::Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// Ed25519 public key of a 32-byte seed.
pub fn ed25519_public_key(seed: &[u8; ED25519_KEY_LEN]) -> [u8; ED25519_KEY_LEN] {
    SigningKey::from_bytes(seed).verifying_key().to_bytes()
}

/// Ed25519 signature (RFC 8032, deterministic).
pub fn ed25519_sign(seed: &[u8; ED25519_KEY_LEN], message: &[u8]) -> [u8; ED25519_SIG_LEN] {
    SigningKey::from_bytes(seed).sign(message).to_bytes()
}

/// Ed25519 strict verification (ed25519-dalek `verify_strict`): refuses a non-canonical `S`
/// (malleability), a small-order public key or `R`, and checks the cofactorless equation.
/// docs/PROTOCOL.md section 2.1 states exactly which encodings pass.
pub fn ed25519_verify(
    public: &[u8; ED25519_KEY_LEN],
    message: &[u8],
    signature: &[u8; ED25519_SIG_LEN],
) -> Result<(), CryptoError> {
    let key = VerifyingKey::from_bytes(public).map_err(|_| CryptoError)?;
    let signature = Signature::from_bytes(signature);
    key.verify_strict(message, &signature)
        .map_err(|_| CryptoError)
}

/// ML-KEM-768 key pair from the 64-byte seed `d‖z` (FIPS 203 ML-KEM.KeyGen_internal).
pub fn mlkem768_generate(
    seed: &[u8; MLKEM_SEED_LEN],
) -> (
    Box<[u8; MLKEM_PUBLIC_KEY_LEN]>,
    Box<Zeroizing<[u8; MLKEM_PRIVATE_KEY_LEN]>>,
) {
    let (private, public) = libcrux_ml_kem::mlkem768::generate_key_pair(*seed).into_parts();
    // libcrux key types do not zeroize: move the bytes out at once into a zeroizing box.
    let private = Box::new(Zeroizing::new(<[u8; MLKEM_PRIVATE_KEY_LEN]>::from(private)));
    (Box::new(*public.as_slice()), private)
}

/// ML-KEM-768 encapsulation to a validated public key with randomness `m`
/// (FIPS 203 ML-KEM.Encaps_internal). Refuses a key that fails the modulus check.
pub fn mlkem768_encapsulate(
    public: &[u8; MLKEM_PUBLIC_KEY_LEN],
    m: &[u8; MLKEM_ENCAPS_SEED_LEN],
) -> Result<Encapsulated, CryptoError> {
    let key = libcrux_ml_kem::mlkem768::MlKem768PublicKey::from(public);
    if !libcrux_ml_kem::mlkem768::validate_public_key(&key) {
        return Err(CryptoError);
    }
    let (ct, ss) = libcrux_ml_kem::mlkem768::encapsulate(&key, *m);
    Ok((Box::new(*ct.as_slice()), Zeroizing::new(ss)))
}

/// ML-KEM-768 decapsulation (implicit rejection: a bad ciphertext yields a pseudorandom secret).
pub fn mlkem768_decapsulate(
    private: &[u8; MLKEM_PRIVATE_KEY_LEN],
    ciphertext: &[u8; MLKEM_CIPHERTEXT_LEN],
) -> Zeroizing<[u8; MLKEM_SHARED_SECRET_LEN]> {
    let key = libcrux_ml_kem::mlkem768::MlKem768PrivateKey::from(private);
    let ct = libcrux_ml_kem::mlkem768::MlKem768Ciphertext::from(ciphertext);
    let shared = Zeroizing::new(libcrux_ml_kem::mlkem768::decapsulate(&key, &ct));
    // libcrux key types do not zeroize: take the copy back and scrub it.
    drop(Zeroizing::new(<[u8; MLKEM_PRIVATE_KEY_LEN]>::from(key)));
    shared
}

/// FIPS 203 encapsulation-key check (modulus check).
pub fn mlkem768_validate_public_key(public: &[u8; MLKEM_PUBLIC_KEY_LEN]) -> bool {
    let key = libcrux_ml_kem::mlkem768::MlKem768PublicKey::from(public);
    libcrux_ml_kem::mlkem768::validate_public_key(&key)
}

/// FIPS 203 decapsulation-key check (hash check), given a ciphertext of the right length.
pub fn mlkem768_validate_private_key(
    private: &[u8; MLKEM_PRIVATE_KEY_LEN],
    ciphertext: &[u8; MLKEM_CIPHERTEXT_LEN],
) -> bool {
    let key = libcrux_ml_kem::mlkem768::MlKem768PrivateKey::from(private);
    let ct = libcrux_ml_kem::mlkem768::MlKem768Ciphertext::from(ciphertext);
    libcrux_ml_kem::mlkem768::validate_private_key(&key, &ct)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_is_the_first_twelve_bytes_of_r() {
        let r: [u8; 16] = core::array::from_fn(|i| i as u8);
        let nonce = Nonce::from_message_random(&r);
        assert_eq!(nonce.0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    }

    #[test]
    fn a_set_up_key_seals_as_the_one_shot_function_does() {
        let key = [7u8; AEAD_KEY_LEN];
        let r = [9u8; 16];
        let aad = [1u8; 19];
        let mut a = [3u8; 41];
        let mut b = a;
        let prepared = AeadKey::new(&key).unwrap();
        let tag = prepared
            .seal_in_place(&Nonce::from_message_random(&r), &aad, &mut a)
            .unwrap();
        let key_once = aead::UnboundKey::new(&aead::AES_256_GCM, &key).unwrap();
        let tag_once = seal_with(&aead::LessSafeKey::new(key_once), [9u8; 12], &aad, &mut b);
        assert_eq!((a, tag), (b, tag_once.unwrap()));
        prepared
            .open_in_place(&Nonce::from_message_random(&r), &aad, &mut a, &tag)
            .unwrap();
        assert_eq!(a, [3u8; 41]);
        let mut bad = tag;
        bad[0] ^= 1;
        assert!(
            prepared
                .open_in_place(&Nonce::from_message_random(&r), &aad, &mut b, &bad)
                .is_err()
        );
        assert_eq!(b, [0u8; 41], "a failed open leaves no plaintext");
    }
}
