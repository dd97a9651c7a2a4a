//! The registry of every domain-separation label (docs/PROTOCOL.md, table "Labels").
//!
//! Each label is ASCII ending in a zero byte, so no label is a prefix of another input: a
//! signature or KDF input is `label ‖ fields` with fields of fixed length for that label.

/// Signature by the identity signing key over its X25519 identity key.
pub(crate) const SIG_IDENTITY: &[u8] = b"ti-v1 sig identity-dh\0";
/// Signature over a signed X25519 prekey.
pub(crate) const SIG_SIGNED_PREKEY: &[u8] = b"ti-v1 sig signed-prekey\0";
/// Signature over an ML-KEM-768 prekey (last-resort or one-time).
pub(crate) const SIG_KEM_PREKEY: &[u8] = b"ti-v1 sig kem-prekey\0";
/// SHA-256 input prefix of the PQXDH transcript hash.
pub(crate) const PQXDH_TRANSCRIPT: &[u8] = b"ti-v1 pqxdh transcript\0";
/// HKDF info prefix of the PQXDH key derivation (followed by the transcript hash).
pub(crate) const PQXDH_KDF: &[u8] = b"ti-v1 pqxdh kdf\0";
/// HKDF info of the root-key step `KDF_RK`.
pub(crate) const ROOT: &[u8] = b"ti-v1 root\0";
/// HKDF info of a header key's AES-256-GCM key `HEK(hk) = Expand(hk, L_HEADER_KEY, 32)`,
/// derived once per header key (no label is used per message: a message key is its body's
/// AES-256-GCM key, and both nonces are `r[0:12]`).
pub(crate) const HEADER_KEY: &[u8] = b"ti-v1 header key\0";
/// HMAC input for a message key from a chain key.
pub(crate) const CHAIN_MESSAGE: &[u8] = &[0x01];
/// HMAC input for the next chain key.
pub(crate) const CHAIN_NEXT: &[u8] = &[0x02];

/// 32 bytes of 0xFF prepended to the PQXDH input key material (as Signal's `F`), so the
/// input never parses as an X25519 output alone.
pub(crate) const PQXDH_F: [u8; 32] = [0xFF; 32];

/// Every label, for the uniqueness test and the PROTOCOL.md table.
#[cfg(test)]
pub(crate) const ALL: &[&[u8]] = &[
    SIG_IDENTITY,
    SIG_SIGNED_PREKEY,
    SIG_KEM_PREKEY,
    PQXDH_TRANSCRIPT,
    PQXDH_KDF,
    ROOT,
    HEADER_KEY,
];

#[cfg(test)]
mod tests {
    #[test]
    fn labels_are_distinct_and_prefix_free() {
        for (i, a) in super::ALL.iter().enumerate() {
            assert_eq!(a.last(), Some(&0), "label must end in a zero byte");
            assert_eq!(a.iter().filter(|&&b| b == 0).count(), 1);
            for (j, b) in super::ALL.iter().enumerate() {
                if i != j {
                    assert!(!b.starts_with(a), "{a:?} is a prefix of {b:?}");
                }
            }
        }
    }
}
