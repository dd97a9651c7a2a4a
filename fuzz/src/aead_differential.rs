//! `aead_differential`: target-impl's AES-256-GCM (`hazmat`, the very functions the protocol
//! calls; aws-lc-rs underneath) against RustCrypto `aes-gcm` 0.11.
//!
//! Input: key (32 bytes), nonce (12), AAD length (1), tamper field (1), tamper position (2),
//! tamper mask (1), the AAD, then the plaintext; missing bytes read as zero. Checks:
//! - both seal to the same ciphertext and tag; the in-place seal agrees with the allocating one;
//! - both open it to the plaintext;
//! - one byte flipped in the ciphertext, tag, AAD, nonce or key: both refuse;
//! - the input's tail taken as ciphertext and tag: both decide the same, and target-impl's
//!   in-place open leaves only zeros behind when it refuses (no unauthenticated plaintext).

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Nonce, Payload};
use target_impl::hazmat::{
    AEAD_KEY_LEN, AEAD_NONCE_LEN, AEAD_TAG_LEN, aes256gcm_open, aes256gcm_open_in_place,
    aes256gcm_seal, aes256gcm_seal_in_place,
};

/// Reads fixed-size fields, zero-filled past the end of the input.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        if let Some(dst) = out.get_mut(..n) {
            dst.copy_from_slice(head);
        }
        self.0 = rest;
        out
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

/// Where a tamper lands.
#[derive(Clone, Copy, Debug)]
enum Field {
    Sealed,
    Aad,
    Nonce,
    Key,
}

/// Both implementations' open of `sealed`: (target-impl, RustCrypto), the plaintext if
/// accepted.
fn open_both(
    key: &[u8; AEAD_KEY_LEN],
    nonce: &[u8; AEAD_NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let ours = aes256gcm_open(key, nonce, aad, sealed)
        .ok()
        .map(|p| p.to_vec());
    let theirs = Aes256Gcm::new_from_slice(key).ok().and_then(|c| {
        c.decrypt(
            &Nonce::<Aes256Gcm>::from(*nonce),
            Payload { msg: sealed, aad },
        )
        .ok()
    });
    (ours, theirs)
}

/// The target.
pub fn check(data: &[u8]) {
    let mut input = Input(data);
    let key: [u8; AEAD_KEY_LEN] = input.array();
    let nonce: [u8; AEAD_NONCE_LEN] = input.array();
    let [aad_len, field, pos_hi, pos_lo, mask] = input.array();
    let aad = input.bytes(usize::from(aad_len));
    let plaintext = input.0;

    let ours = aes256gcm_seal(&key, &nonce, aad, plaintext).ok();
    let theirs = Aes256Gcm::new_from_slice(&key).ok().and_then(|c| {
        c.encrypt(
            &Nonce::<Aes256Gcm>::from(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .ok()
    });
    assert_eq!(ours, theirs, "seal: target-impl and RustCrypto differ");
    let Some(sealed) = ours else {
        return;
    };
    let mut in_place = plaintext.to_vec();
    let tag = aes256gcm_seal_in_place(&key, &nonce, aad, &mut in_place);
    assert!(
        tag.is_ok_and(|t| sealed.len() == in_place.len() + AEAD_TAG_LEN
            && sealed.starts_with(&in_place)
            && sealed.ends_with(&t)),
        "seal_in_place differs from seal"
    );

    let (ours, theirs) = open_both(&key, &nonce, aad, &sealed);
    assert!(
        ours.as_deref() == Some(plaintext) && theirs.as_deref() == Some(plaintext),
        "open of a sealed message: target-impl {:?}, RustCrypto {:?}",
        ours.is_some(),
        theirs.is_some()
    );

    let field = match field % 4 {
        0 => Field::Sealed,
        1 if !aad.is_empty() => Field::Aad,
        1 => Field::Sealed,
        2 => Field::Nonce,
        _ => Field::Key,
    };
    let position = usize::from(u16::from_be_bytes([pos_hi, pos_lo]));
    let mask = if mask == 0 { 0x80 } else { mask };
    let (mut key2, mut nonce2, mut aad2, mut sealed2) = (key, nonce, aad.to_vec(), sealed.clone());
    let target: &mut [u8] = match field {
        Field::Sealed => &mut sealed2,
        Field::Aad => &mut aad2,
        Field::Nonce => &mut nonce2,
        Field::Key => &mut key2,
    };
    let len = target.len();
    if let Some(byte) = target.get_mut(position % len.max(1)) {
        *byte ^= mask;
    }
    let (ours, theirs) = open_both(&key2, &nonce2, &aad2, &sealed2);
    assert!(
        ours.is_none() && theirs.is_none(),
        "tampered {field:?} at {position} with {mask:#04x}: target-impl accepts {}, RustCrypto \
         accepts {}",
        ours.is_some(),
        theirs.is_some()
    );

    // The plaintext bytes as an unauthenticated ciphertext and tag.
    let (ours, theirs) = open_both(&key, &nonce, aad, plaintext);
    assert_eq!(
        ours, theirs,
        "open of arbitrary bytes: target-impl and RustCrypto differ"
    );
    if let Some((ct, tag)) = plaintext.split_last_chunk::<AEAD_TAG_LEN>() {
        let mut buf = ct.to_vec();
        if aes256gcm_open_in_place(&key, &nonce, aad, &mut buf, tag).is_err() {
            assert!(
                buf.iter().all(|b| *b == 0),
                "a refused in-place open left bytes behind"
            );
        }
    }
}
