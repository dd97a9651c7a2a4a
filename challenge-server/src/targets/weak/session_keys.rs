//! A receiver's message key for a ratchet message, derived as target-impl derives it
//! (docs/PROTOCOL.md 7.2, 7.3, 7.7 steps 3–4) from the session's state blob (10.1), with
//! target-impl's `hazmat` primitives: the header is opened under each candidate header key,
//! then the plan's key is looked up among the skipped keys or walked along the chain. Nothing
//! here changes a session; a message whose header does not open, or whose plan target-impl
//! would refuse, has no key. It serves [`super::UncheckedTag`], which needs the body key of a
//! message whose body tag target-impl refused.

use target_impl::wire::RatchetMessage;
use target_impl::{
    MAX_CHAIN_MESSAGES, MAX_HEADER_EXT_LEN, MAX_SKIP, MAX_SKIPPED_CHAINS, MAX_SKIPPED_KEYS,
    SESSION_STATE_TYPE, STATE_VERSION, hazmat,
};
use zeroize::Zeroizing;

/// A 32-byte secret (a key of the state blob or one derived from them).
pub(super) type Secret = Zeroizing<[u8; 32]>;

/// `AD_LEN` (docs/PROTOCOL.md 9.1): the associated data of every AEAD of a session.
const AD_LEN: usize = 160;
/// The clear part of a ratchet message: version, type, `r`, `hlen` (7.6).
const CLEAR_LEN: usize = 19;
/// The header plaintext before its extension bytes: ratchet key, PN, N, extension length.
const HEADER_BASE_LEN: usize = 41;
/// `L_HEADER_KEY` (docs/PROTOCOL.md section 3).
const L_HEADER_KEY: &[u8] = b"ti-v1 header key\0";
/// `L_ROOT` (docs/PROTOCOL.md section 3).
const L_ROOT: &[u8] = b"ti-v1 root\0";
/// `KDF_CK`'s input for the message key (7.2).
const CHAIN_MESSAGE: &[u8] = &[0x01];
/// `KDF_CK`'s input for the next chain key (7.2).
const CHAIN_NEXT: &[u8] = &[0x02];

/// Why a session blob does not read; it comes from target-impl's own `Session::to_bytes`, so
/// this only guards against a blob of another layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct BadBlob;

/// One chain of the skipped-key store: its header key and its keys `(n, mk)`.
struct SkippedChain {
    header_key: Secret,
    keys: Vec<(u32, Secret)>,
}

/// The receiving side of a session (docs/PROTOCOL.md 10.1), what 7.7 reads to decrypt.
pub(super) struct ReceivingKeys {
    ad: [u8; AD_LEN],
    setup_id: [u8; 32],
    dhs: Option<Secret>,
    dhr: Option<[u8; 32]>,
    rk: Secret,
    ckr: Option<Secret>,
    hkr: Option<Secret>,
    nhkr: Secret,
    nr: u32,
    skipped: Vec<SkippedChain>,
}

/// What the trial decryption of a header found (7.7 step 3).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Candidate {
    Current,
    Next,
    Skipped(usize),
}

/// An authenticated header: ratchet key and message number (PN is target-impl's to check).
struct Header {
    dh: [u8; 32],
    n: u32,
}

/// The body of a ratchet message and what decrypts it.
pub(super) struct BodyKey {
    /// The message key, the body's AES-256-GCM key.
    pub(super) mk: Secret,
    /// `r[0:12]`, the nonce.
    pub(super) nonce: [u8; hazmat::AEAD_NONCE_LEN],
    /// The body's associated data: `AD ‖ clear ‖ sealed header`.
    pub(super) aad: Vec<u8>,
    /// Where the body ciphertext starts in the ratchet message.
    pub(super) body_start: usize,
}

impl ReceivingKeys {
    /// Reads a session state blob (docs/PROTOCOL.md 10.1); every length is checked.
    pub(super) fn read(blob: &[u8]) -> Result<Self, BadBlob> {
        let mut r = Reader(blob);
        if r.array::<3>()? != [STATE_VERSION, SESSION_STATE_TYPE, 1] {
            return Err(BadBlob);
        }
        r.flag()?; // initiator
        let ad = r.array()?;
        let setup_id = r.array()?;
        if r.flag()? {
            let len = u16::from_be_bytes(r.array()?);
            r.take(usize::from(len))?;
        }
        r.take(32)?; // PQ_RESERVE
        let dhs = r.optional_secret()?;
        let dhr = if r.flag()? { Some(r.array()?) } else { None };
        let rk = r.secret()?;
        r.optional_secret()?; // CKs
        let ckr = r.optional_secret()?;
        r.optional_secret()?; // HKs
        let hkr = r.optional_secret()?;
        r.secret()?; // NHKs
        let nhkr = r.secret()?;
        r.take(4)?; // Ns
        let nr = u32::from_be_bytes(r.array()?);
        r.take(4)?; // PN
        r.flag()?; // pending
        let [chains] = r.array()?;
        if usize::from(chains) > MAX_SKIPPED_CHAINS {
            return Err(BadBlob);
        }
        let mut skipped = Vec::with_capacity(usize::from(chains));
        let mut total = 0usize;
        for _ in 0..chains {
            let header_key = r.secret()?;
            let count = usize::from(u16::from_be_bytes(r.array()?));
            total += count;
            if total > MAX_SKIPPED_KEYS {
                return Err(BadBlob);
            }
            let mut keys = Vec::with_capacity(count);
            for _ in 0..count {
                let n = u32::from_be_bytes(r.array()?);
                keys.push((n, r.secret()?));
                r.take(8)?; // stored_at
            }
            skipped.push(SkippedChain { header_key, keys });
        }
        if !r.0.is_empty() {
            return Err(BadBlob);
        }
        Ok(Self {
            ad,
            setup_id,
            dhs,
            dhr,
            rk,
            ckr,
            hkr,
            nhkr,
            nr,
            skipped,
        })
    }

    /// The session's `setup_id`, which an initial message's prefix must hash to.
    pub(super) fn setup_id(&self) -> &[u8; 32] {
        &self.setup_id
    }

    /// The key, nonce and associated data of the body of `message` (a ratchet message, any
    /// prefix removed), if its header authenticates under one of this session's header keys
    /// and its plan yields a key (7.7 steps 2–4); `None` wherever target-impl would refuse
    /// before the body.
    pub(super) fn body_key(&self, message: &[u8]) -> Option<BodyKey> {
        let frame = RatchetMessage::decode(message).ok()?;
        let clear = message.get(..CLEAR_LEN)?;
        let head = message.get(..CLEAR_LEN + frame.header.len())?;
        let nonce: [u8; hazmat::AEAD_NONCE_LEN] = frame
            .random
            .get(..hazmat::AEAD_NONCE_LEN)?
            .try_into()
            .ok()?;
        let aad = [&self.ad[..], clear].concat();
        let (candidate, header) = self.candidates().into_iter().find_map(|(candidate, hk)| {
            let key = header_aead_key(hk)?;
            let plain = hazmat::aes256gcm_open(&key, &nonce, &aad, frame.header).ok()?;
            Some((candidate, parse_header(&plain)?))
        })?;
        let mk = self.plan(candidate, &header)?;
        Some(BodyKey {
            mk,
            nonce,
            aad: [&self.ad[..], head].concat(),
            body_start: head.len(),
        })
    }

    /// The header keys to try, in target-impl's order (7.7 step 3).
    fn candidates(&self) -> Vec<(Candidate, &[u8; 32])> {
        let mut out: Vec<(Candidate, &[u8; 32])> = Vec::new();
        if let Some(hkr) = &self.hkr {
            out.push((Candidate::Current, hkr));
        }
        if self.hkr.as_deref() != Some(&*self.nhkr) {
            out.push((Candidate::Next, &self.nhkr));
        }
        for (i, chain) in self.skipped.iter().enumerate() {
            if out.iter().all(|(_, k)| **k != *chain.header_key) {
                out.push((Candidate::Skipped(i), &chain.header_key));
            }
        }
        out
    }

    /// The message key the plan of 7.7 step 4 gives for `header`; `None` where it refuses.
    fn plan(&self, candidate: Candidate, header: &Header) -> Option<Secret> {
        match candidate {
            Candidate::Skipped(i) => self.skipped_key(self.skipped.get(i)?, header.n),
            Candidate::Current => {
                if self.dhr != Some(header.dh) {
                    return None;
                }
                let ckr = self.ckr.as_ref()?;
                if header.n < self.nr {
                    let hkr = self.hkr.as_ref()?;
                    let chain = self.skipped.iter().find(|c| *c.header_key == **hkr)?;
                    self.skipped_key(chain, header.n)
                } else {
                    walk(ckr, self.nr, header.n)
                }
            }
            Candidate::Next => {
                if self.dhr == Some(header.dh) {
                    return None;
                }
                let dh = hazmat::x25519(self.dhs.as_ref()?, &header.dh).ok()?;
                let prk = hazmat::hkdf_extract(&*self.rk, &*dh);
                let mut okm = Zeroizing::new([0u8; 96]);
                hazmat::hkdf_expand(&*prk, L_ROOT, &mut *okm).ok()?;
                let mut ck = Zeroizing::new([0u8; 32]);
                ck.copy_from_slice(okm.get(32..64)?);
                walk(&ck, 0, header.n)
            }
        }
    }

    /// Key `n` of a skipped chain (its age is target-impl's to check).
    fn skipped_key(&self, chain: &SkippedChain, n: u32) -> Option<Secret> {
        chain
            .keys
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, mk)| mk.clone())
    }
}

/// `HEK(hk) = Expand(hk, L_HEADER_KEY, 32)` (7.3).
fn header_aead_key(hk: &[u8; 32]) -> Option<Secret> {
    let mut key = Zeroizing::new([0u8; 32]);
    hazmat::hkdf_expand(hk, L_HEADER_KEY, &mut *key).ok()?;
    Some(key)
}

/// The message key of message `until` of the chain whose key for message `from` is `ck`
/// (`KDF_CK`, 7.2), within target-impl's caps on skipping (`check_skip`, 7.7).
fn walk(ck: &[u8; 32], from: u32, until: u32) -> Option<Secret> {
    if until < from || until >= MAX_CHAIN_MESSAGES || until - from > MAX_SKIP {
        return None;
    }
    let mut ck: Secret = Zeroizing::new(*ck);
    for _ in from..until {
        ck = hazmat::hmac_sha256(&*ck, CHAIN_NEXT).ok()?;
    }
    hazmat::hmac_sha256(&*ck, CHAIN_MESSAGE).ok()
}

/// `parse_header` (7.7): `None` if it does not parse.
fn parse_header(plain: &[u8]) -> Option<Header> {
    let ext = usize::from(*plain.get(HEADER_BASE_LEN - 1)?);
    if ext > MAX_HEADER_EXT_LEN || plain.len() != HEADER_BASE_LEN + ext {
        return None;
    }
    Some(Header {
        dh: plain.get(..32)?.try_into().ok()?,
        n: u32::from_be_bytes(plain.get(36..40)?.try_into().ok()?),
    })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BadBlob> {
        let (head, rest) = self.0.split_at_checked(n).ok_or(BadBlob)?;
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], BadBlob> {
        self.take(N)?.try_into().map_err(|_| BadBlob)
    }

    fn secret(&mut self) -> Result<Secret, BadBlob> {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(self.take(32)?);
        Ok(out)
    }

    fn flag(&mut self) -> Result<bool, BadBlob> {
        match self.array()? {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err(BadBlob),
        }
    }

    fn optional_secret(&mut self) -> Result<Option<Secret>, BadBlob> {
        if self.flag()? {
            self.secret().map(Some)
        } else {
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use target_impl::{Device, PeerId};

    use super::super::tests::{ALICE, Pair};
    use super::*;
    use crate::targets::real::TargetImpl;

    /// Bob's session blob after a skip (so with a skipped chain) and a reply.
    fn bobs_session_blob() -> Zeroizing<Vec<u8>> {
        let mut pair = Pair::new(&TargetImpl);
        let _lost = pair.send(true, b"lost", 10);
        pair.exchange(true, b"one", 11);
        pair.exchange(false, b"two", 12);
        let bob = Device::from_bytes(&pair.bob.state()).unwrap();
        bob.session(&PeerId::new(ALICE).unwrap())
            .unwrap()
            .to_bytes()
    }

    #[test]
    fn session_blob_reads_and_every_damage_is_refused_without_panicking() {
        let blob = bobs_session_blob();
        let keys = ReceivingKeys::read(&blob).unwrap();
        assert_eq!(keys.skipped.len(), 1);
        assert_eq!(keys.skipped[0].keys.len(), 1);
        assert!(keys.hkr.is_some() && keys.ckr.is_some() && keys.dhs.is_some());
        for len in 0..blob.len() {
            assert!(ReceivingKeys::read(&blob[..len]).is_err(), "cut at {len}");
        }
        let mut longer = blob.to_vec();
        longer.push(0);
        assert_eq!(ReceivingKeys::read(&longer).err(), Some(BadBlob));
        let mut other_type = blob.to_vec();
        other_type[1] = target_impl::DEVICE_STATE_TYPE;
        assert_eq!(ReceivingKeys::read(&other_type).err(), Some(BadBlob));
    }

    #[test]
    fn walk_stays_within_the_skip_caps() {
        let ck = [7u8; 32];
        assert!(walk(&ck, 0, MAX_SKIP).is_some());
        assert!(walk(&ck, 0, MAX_SKIP + 1).is_none());
        assert!(walk(&ck, 5, 4).is_none());
        assert!(walk(&ck, MAX_CHAIN_MESSAGES - 1, MAX_CHAIN_MESSAGES).is_none());
        assert_eq!(
            *walk(&ck, 3, 3).unwrap(),
            *hazmat::hmac_sha256(&ck, CHAIN_MESSAGE).unwrap()
        );
    }
}
