//! The primitive functions exactly as the protocol calls them (feature `hazmat`), for
//! conformance vectors, fuzzing and benchmarks. There is no parallel path: these are the
//! functions of the internal suite module. Only here may a caller choose a nonce: the one-shot
//! `aes256gcm_*` functions take any 12 bytes (for conformance vectors), while the protocol's
//! own path is an [`AeadKey`] set up once and a [`Nonce`] made from a message's `r`
//! (docs/PROTOCOL.md 7.3).

pub use crate::suite::{
    AEAD_KEY_LEN, AEAD_NONCE_LEN, AEAD_TAG_LEN, AeadKey, CryptoError, ED25519_KEY_LEN,
    ED25519_SIG_LEN, Encapsulated, HASH_LEN, HKDF_MAX_OUTPUT, MLKEM_CIPHERTEXT_LEN,
    MLKEM_ENCAPS_SEED_LEN, MLKEM_PRIVATE_KEY_LEN, MLKEM_PUBLIC_KEY_LEN, MLKEM_SEED_LEN,
    MLKEM_SHARED_SECRET_LEN, Nonce, X25519_LEN, X25519PrivateKey, aes256gcm_open,
    aes256gcm_open_in_place, aes256gcm_seal, aes256gcm_seal_in_place, ed25519_public_key,
    ed25519_sign, ed25519_verify, hkdf_expand, hkdf_extract, hmac_sha256, mlkem768_decapsulate,
    mlkem768_encapsulate, mlkem768_generate, mlkem768_validate_private_key,
    mlkem768_validate_public_key, sha256, x25519, x25519_agree, x25519_public_key,
};
