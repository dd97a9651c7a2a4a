//! A session: the Double Ratchet with header encryption (Signal's Double Ratchet specification,
//! section 4), keyed by PQXDH.
//!
//! Differences from the specification, each documented in docs/PROTOCOL.md:
//! - every message carries a fresh random value `r`, whose first 12 bytes are the AES-256-GCM
//!   nonce of its header (under the header key's AEAD key, set up once per header key) and of
//!   its body (under the message key itself), so no (key, nonce) pair repeats, but with the
//!   birthday bound of PROTOCOL.md 13.1, even from a state restored from an old copy;
//! - the sending half of a DH ratchet step is deferred to the next `encrypt`, so decryption
//!   needs no randomness;
//! - every candidate header key is tried, always in the same order (trial decryption hides
//!   which one matched).
//!
//! Decryption stages every change in a [`Plan`] and commits it only after the body
//! authenticates; on any error the state is unchanged, except that an expired message's
//! ratchet advance is committed so its key is gone.

use core::fmt;

use zeroize::Zeroizing;

use crate::body::{BODY_PREAMBLE_LEN, BodyMeta, MAX_PAYLOAD_LEN, is_padded_len, padded_len};
use crate::codec::{DecodeError, Decoded, Reader, Writer};
use crate::keys::{HeaderKey, Secret32, X25519Pair};
use crate::pqxdh::{AD_LEN, INITIAL_TYPE, InitialPrefix, Initiated, SetupKeys};
use crate::skipped::{MAX_SKIP, SkippedChain, SkippedKey, SkippedKeys, SkippedSlot};
use crate::{Error, VERSION, labels, suite};

/// Message type byte of a ratchet message.
pub const RATCHET_TYPE: u8 = 0x03;
/// Length of the per-message random value `r`, sent in clear.
pub const RANDOM_LEN: usize = 16;
/// Most bytes of the header's authenticated extension field (version 1 sends none).
pub const MAX_HEADER_EXT_LEN: usize = 64;
/// Most messages in one sending or receiving chain.
pub const MAX_CHAIN_MESSAGES: u32 = 1 << 24;

/// Header plaintext without extension: ratchet key (32), PN (4), N (4), extension length (1).
const HEADER_BASE_LEN: usize = 32 + 4 + 4 + 1;
const TAG_LEN: usize = suite::AEAD_TAG_LEN;
/// Clear part of a ratchet message: version, type, r, header ciphertext length.
pub(crate) const CLEAR_LEN: usize = 2 + RANDOM_LEN + 1;
const MIN_HEADER_CT_LEN: usize = HEADER_BASE_LEN + TAG_LEN;
const MAX_HEADER_CT_LEN: usize = HEADER_BASE_LEN + MAX_HEADER_EXT_LEN + TAG_LEN;
const MAX_AAD_LEN: usize = AD_LEN + CLEAR_LEN + MAX_HEADER_CT_LEN;

/// Shortest possible ratchet message.
pub const MIN_MESSAGE_LEN: usize = CLEAR_LEN + MIN_HEADER_CT_LEN + 64 + TAG_LEN;

/// A message to send.
#[derive(Clone, Copy)]
pub struct Outgoing<'a> {
    /// Application-defined content type (authenticated, encrypted).
    pub content_type: u8,
    /// Self-destruct time in seconds after `sent_at`; 0 never expires.
    pub ttl: u32,
    /// The payload, at most [`MAX_PAYLOAD_LEN`] bytes.
    pub payload: &'a [u8],
}

/// A message being written in place ([`Session::outgoing_buffer`]): the caller writes the
/// payload into [`OutgoingBuffer::payload_mut`], then [`Session::encrypt_in_place`] seals it
/// where it is. Until then it holds plaintext: it is wiped on drop and never printed.
pub struct OutgoingBuffer {
    buf: Zeroizing<Vec<u8>>,
    /// Bytes reserved at the front for the initial prefix.
    prefix_len: usize,
    payload_len: usize,
}

impl OutgoingBuffer {
    /// Where the payload goes: exactly the length asked for.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.prefix_len + CLEAR_LEN + MIN_HEADER_CT_LEN + BODY_PREAMBLE_LEN;
        self.buf
            .get_mut(start..start + self.payload_len)
            .unwrap_or_default()
    }
}

impl fmt::Debug for OutgoingBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingBuffer")
            .field("payload_len", &self.payload_len)
            .finish_non_exhaustive()
    }
}

/// A sealed message: the wire bytes, in the buffer the payload was written into.
#[derive(Debug)]
pub struct Sealed {
    buf: Vec<u8>,
    start: usize,
}

impl Sealed {
    /// The wire message.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }

    /// The wire message as an owned buffer (no copy unless the buffer had room for an initial
    /// prefix the session no longer sends).
    pub fn into_vec(mut self) -> Vec<u8> {
        self.buf.drain(..self.start.min(self.buf.len()));
        self.buf
    }
}

/// [`Session::encrypt_in_place`] refused: why, and the buffer with its payload intact.
#[derive(Debug)]
pub struct Unsealed {
    /// Why the message was not sealed.
    pub error: Error,
    /// The buffer with the caller's payload intact (every refusal but a failing primitive comes
    /// before anything is written; after one, the regions around the payload may be rewritten).
    pub buffer: OutgoingBuffer,
}

/// A message decrypted in place: the payload borrows the caller's buffer.
#[derive(PartialEq, Eq)]
pub struct Received<'b> {
    /// Content type as sent.
    pub content_type: u8,
    /// Sender's clock at sending (seconds since the Unix epoch).
    pub sent_at: u64,
    /// Self-destruct TTL in seconds; 0 never expires.
    pub ttl: u32,
    /// When the caller must delete the message (`sent_at + ttl`), if it expires.
    pub expires_at: Option<u64>,
    /// The authenticated payload.
    pub payload: &'b [u8],
}

impl fmt::Debug for Received<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Received")
            .field("content_type", &self.content_type)
            .field("sent_at", &self.sent_at)
            .field("ttl", &self.ttl)
            .field("expires_at", &self.expires_at)
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

/// A decrypted message that owns its payload (zeroized on drop).
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    /// Content type as sent.
    pub content_type: u8,
    /// Sender's clock at sending.
    pub sent_at: u64,
    /// Self-destruct TTL in seconds; 0 never expires.
    pub ttl: u32,
    /// When the caller must delete the message, if it expires.
    pub expires_at: Option<u64>,
    /// The authenticated payload.
    pub payload: Zeroizing<Vec<u8>>,
    /// Whether this initial message started a new session with the peer (a first contact, or
    /// a peer under its known identity that set up anew, e.g. after a reinstall), replacing
    /// any previous one.
    pub new_session: bool,
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("content_type", &self.content_type)
            .field("sent_at", &self.sent_at)
            .field("ttl", &self.ttl)
            .field("expires_at", &self.expires_at)
            .field("payload_len", &self.payload.len())
            .field("new_session", &self.new_session)
            .finish()
    }
}

/// `KDF_RK`: `HKDF(salt = rk, ikm = dh, info = "root")` → (root key, chain key, next header key).
fn kdf_rk(rk: &Secret32, dh: &Secret32) -> Result<(Secret32, Secret32, HeaderKey), Error> {
    let prk = suite::hkdf_extract(rk.expose(), dh.expose());
    let mut okm = Zeroizing::new([0u8; 96]);
    suite::hkdf_expand(prk.as_slice(), labels::ROOT, okm.as_mut_slice())?;
    let (a, rest) = okm.split_at(32);
    let (b, c) = rest.split_at(32);
    match (
        Secret32::from_slice(a),
        Secret32::from_slice(b),
        Secret32::from_slice(c),
    ) {
        (Some(a), Some(b), Some(c)) => Ok((a, b, HeaderKey::new(c)?)),
        _ => Err(Error::Unauthentic),
    }
}

/// `KDF_CK`: message key `HMAC(ck, 0x01)` and next chain key `HMAC(ck, 0x02)`, one key setup.
fn kdf_ck(ck: &Secret32) -> Result<(Secret32, Secret32), Error> {
    let [mk, next] =
        suite::hmac_sha256_pair(ck.expose(), labels::CHAIN_MESSAGE, labels::CHAIN_NEXT)?;
    Ok((Secret32::new(*mk), Secret32::new(*next)))
}

/// Associated data of one AEAD call: the session AD followed by the message bytes before the
/// sealed part, assembled on the stack.
struct Aad {
    buf: [u8; MAX_AAD_LEN],
    len: usize,
}

impl Aad {
    fn new(ad: &[u8; AD_LEN], tail: &[u8]) -> Result<Self, Error> {
        let len = AD_LEN + tail.len();
        let mut buf = [0u8; MAX_AAD_LEN];
        let (head, rest) = buf.split_at_mut(AD_LEN);
        head.copy_from_slice(ad);
        rest.get_mut(..tail.len())
            .ok_or(Error::Malformed)?
            .copy_from_slice(tail);
        Ok(Self { buf, len })
    }

    fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

/// The decrypted header.
struct Header {
    ratchet_key: [u8; 32],
    pn: u32,
    n: u32,
}

fn encode_header(ratchet_key: &[u8; 32], pn: u32, n: u32) -> [u8; HEADER_BASE_LEN] {
    let mut h = [0u8; HEADER_BASE_LEN];
    let (key, rest) = h.split_at_mut(32);
    key.copy_from_slice(ratchet_key);
    let (pn_bytes, rest) = rest.split_at_mut(4);
    pn_bytes.copy_from_slice(&pn.to_be_bytes());
    let (n_bytes, _ext_len) = rest.split_at_mut(4);
    n_bytes.copy_from_slice(&n.to_be_bytes());
    h
}

fn decode_header(plain: &[u8]) -> Option<Header> {
    let mut r = Reader::new(plain);
    let header = Header {
        ratchet_key: r.array().ok()?,
        pn: r.u32().ok()?,
        n: r.u32().ok()?,
    };
    let ext_len = usize::from(r.u8().ok()?);
    if ext_len > MAX_HEADER_EXT_LEN {
        return None;
    }
    // The extension is authenticated; version 1 defines no extension and ignores its bytes.
    r.bytes(ext_len).ok()?;
    r.finish().ok()?;
    Some(header)
}

/// The framing of a ratchet message, checked without reading any secret.
struct Frame {
    r: [u8; RANDOM_LEN],
    /// Offset of the body ciphertext.
    body_start: usize,
}

impl Frame {
    fn parse(message: &[u8], min_version: u8) -> Result<Self, Error> {
        let mut rd = Reader::new(message);
        let parsed = (|| -> Decoded<(u8, u8, [u8; RANDOM_LEN], usize)> {
            Ok((rd.u8()?, rd.u8()?, rd.array()?, usize::from(rd.u8()?)))
        })();
        let (version, kind, r, header_len) = parsed.map_err(|_| Error::Malformed)?;
        if version < min_version || version > VERSION || kind != RATCHET_TYPE {
            return Err(Error::Malformed);
        }
        if !(MIN_HEADER_CT_LEN..=MAX_HEADER_CT_LEN).contains(&header_len) {
            return Err(Error::Malformed);
        }
        let body_len = rd
            .remaining()
            .checked_sub(header_len + TAG_LEN)
            .ok_or(Error::Malformed)?;
        if !is_padded_len(body_len) {
            return Err(Error::Malformed);
        }
        Ok(Self {
            r,
            body_start: CLEAR_LEN + header_len,
        })
    }
}

/// Offset of the body in a ratchet message whose framing is valid (for `wire`).
pub(crate) fn frame_body_start(message: &[u8]) -> Result<usize, Error> {
    Frame::parse(message, VERSION).map(|f| f.body_start)
}

/// The sending half of a DH ratchet step, staged until the message is built.
struct SendStep {
    dhs: X25519Pair,
    rk: Secret32,
    cks: Secret32,
    nhks: HeaderKey,
}

/// Which candidate header key opened the header.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Candidate {
    Current,
    Next,
    Skipped(usize),
}

/// Every change a decryption makes, staged until the body authenticates.
enum Plan {
    /// A stored skipped key; it is deleted on commit.
    Skipped { slot: SkippedSlot },
    /// The current receiving chain advances.
    Current {
        skipped: Vec<(u32, Secret32)>,
        ckr: Secret32,
        nr: u32,
    },
    /// A DH ratchet step opens a new receiving chain.
    NewChain {
        old_skipped: Vec<(u32, Secret32)>,
        dhr: [u8; 32],
        rk: Secret32,
        // Boxed so the moves of the plan move a pointer, not the header key's secret bytes.
        nhkr: Box<HeaderKey>,
        skipped: Vec<(u32, Secret32)>,
        ckr: Secret32,
        nr: u32,
    },
}

/// The Double Ratchet state (Signal's names).
#[derive(Clone)]
struct Ratchet {
    dhs: Option<X25519Pair>,
    dhr: Option<[u8; 32]>,
    rk: Secret32,
    cks: Option<Secret32>,
    ckr: Option<Secret32>,
    hks: Option<HeaderKey>,
    hkr: Option<HeaderKey>,
    nhks: HeaderKey,
    nhkr: HeaderKey,
    ns: u32,
    nr: u32,
    pn: u32,
    /// The peer's new ratchet key was received and our next `encrypt` starts a sending chain.
    send_step_pending: bool,
    skipped: SkippedKeys,
}

/// Skipped keys, the message key and the next chain key.
type ChainWalk = (Vec<(u32, Secret32)>, Secret32, Secret32);

/// Derives the keys of chain `ck` from counter `from` up to `until` (exclusive), returning them,
/// the message key at `until` and the chain key after it.
fn walk_chain(ck: &Secret32, from: u32, until: u32) -> Result<ChainWalk, Error> {
    // Exact capacity: a vector that grows frees blocks still holding the keys pushed so far.
    let mut skipped = Vec::with_capacity(until.saturating_sub(from) as usize);
    let mut ck = ck.clone();
    for n in from..until {
        let (mk, next) = kdf_ck(&ck)?;
        skipped.push((n, mk));
        ck = next;
    }
    let (mk, next) = kdf_ck(&ck)?;
    Ok((skipped, mk, next))
}

/// Skipped keys of chain `ck` from `from` up to `until` (exclusive), for closing a chain.
fn skip_chain(ck: &Secret32, from: u32, until: u32) -> Result<Vec<(u32, Secret32)>, Error> {
    let mut skipped = Vec::with_capacity(until.saturating_sub(from) as usize);
    let mut ck = ck.clone();
    for n in from..until {
        let (mk, next) = kdf_ck(&ck)?;
        skipped.push((n, mk));
        ck = next;
    }
    Ok(skipped)
}

fn check_skip(from: u32, until: u32) -> Result<(), Error> {
    if until >= MAX_CHAIN_MESSAGES || until.saturating_sub(from) > MAX_SKIP {
        Err(Error::TooManySkipped)
    } else {
        Ok(())
    }
}

impl Ratchet {
    fn stage_send_step<R: rand_core::CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
    ) -> Result<SendStep, Error> {
        let dhr = self.dhr.as_ref().ok_or(Error::CorruptState)?;
        let dhs = X25519Pair::generate(rng)?;
        let (rk, cks, nhks) = kdf_rk(&self.rk, &dhs.dh(dhr)?)?;
        Ok(SendStep { dhs, rk, cks, nhks })
    }

    /// The candidate header keys in their fixed order: current, next, then the chains of
    /// stored skipped keys, oldest first, each distinct key once.
    fn candidates(
        &self,
    ) -> (
        [Option<(Candidate, &HeaderKey)>; 2 + crate::skipped::MAX_SKIPPED_CHAINS],
        usize,
    ) {
        let mut out = [None; 2 + crate::skipped::MAX_SKIPPED_CHAINS];
        let mut len = 0;
        if let Some(hkr) = &self.hkr
            && let Some(slot) = out.get_mut(len)
        {
            *slot = Some((Candidate::Current, hkr));
            len += 1;
        }
        if !self.hkr.as_ref().is_some_and(|h| h.ct_eq(&self.nhkr))
            && let Some(slot) = out.get_mut(len)
        {
            *slot = Some((Candidate::Next, &self.nhkr));
            len += 1;
        }
        for (i, chain) in self.skipped.chains().iter().enumerate() {
            let seen = out
                .iter()
                .take(len)
                .flatten()
                .any(|(_, k)| k.ct_eq(&chain.header_key));
            if !seen && let Some(slot) = out.get_mut(len) {
                *slot = Some((Candidate::Skipped(i), &*chain.header_key));
                len += 1;
            }
        }
        (out, len)
    }

    /// Opens the header under every candidate; returns the one that matched and the header.
    fn trial_decrypt(
        &self,
        ad: &[u8; AD_LEN],
        clear: &[u8],
        r: &[u8; RANDOM_LEN],
        header_ct: &[u8],
    ) -> Result<(Candidate, Header), Error> {
        let plain_len = header_ct
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(Error::Malformed)?;
        let (ct, tag) = header_ct.split_at(plain_len);
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| Error::Malformed)?;
        let aad = Aad::new(ad, clear)?;
        let nonce = suite::Nonce::from_message_random(r);
        let (candidates, count) = self.candidates();
        let mut found: Option<(Candidate, Header)> = None;
        for (candidate, key) in candidates.iter().take(count).flatten() {
            let mut buf = [0u8; MAX_HEADER_CT_LEN];
            let plain = buf.get_mut(..plain_len).ok_or(Error::Malformed)?;
            plain.copy_from_slice(ct);
            let opened = key.aead().open_in_place(&nonce, aad.as_slice(), plain, tag);
            if opened.is_ok() && found.is_none() {
                found = decode_header(plain).map(|h| (*candidate, h));
            }
            zeroize::Zeroize::zeroize(&mut buf);
        }
        found.ok_or(Error::Unauthentic)
    }

    /// Decides what the header asks for, without changing anything; returns the plan and the
    /// message key.
    fn plan(
        &self,
        candidate: Candidate,
        header: &Header,
        now: u64,
    ) -> Result<(Plan, Secret32), Error> {
        match candidate {
            Candidate::Skipped(chain) => self.plan_skipped(chain, header.n, now),
            Candidate::Current => {
                let same_key = self.dhr.as_ref().is_some_and(|dhr| {
                    bool::from(subtle::ConstantTimeEq::ct_eq(
                        &dhr[..],
                        &header.ratchet_key[..],
                    ))
                });
                let (Some(ckr), Some(hkr), true) = (&self.ckr, &self.hkr, same_key) else {
                    return Err(Error::Unauthentic);
                };
                if header.n < self.nr {
                    let chain = self.skipped.chain_index(hkr).ok_or(Error::Replay)?;
                    return self.plan_skipped(chain, header.n, now);
                }
                check_skip(self.nr, header.n)?;
                let (skipped, mk, ckr) = walk_chain(ckr, self.nr, header.n)?;
                Ok((
                    Plan::Current {
                        skipped,
                        ckr,
                        nr: header.n + 1,
                    },
                    mk,
                ))
            }
            Candidate::Next => {
                let same_key = self.dhr.as_ref().is_some_and(|dhr| {
                    bool::from(subtle::ConstantTimeEq::ct_eq(
                        &dhr[..],
                        &header.ratchet_key[..],
                    ))
                });
                let Some(dhs) = self.dhs.as_ref().filter(|_| !same_key) else {
                    return Err(Error::Unauthentic);
                };
                let old_skipped = match &self.ckr {
                    Some(ckr) => {
                        check_skip(self.nr, header.pn)?;
                        skip_chain(ckr, self.nr, header.pn)?
                    }
                    None => Vec::new(),
                };
                check_skip(0, header.n)?;
                let (rk, ckr, nhkr) = kdf_rk(&self.rk, &dhs.dh(&header.ratchet_key)?)?;
                let (skipped, mk, ckr) = walk_chain(&ckr, 0, header.n)?;
                Ok((
                    Plan::NewChain {
                        old_skipped,
                        dhr: header.ratchet_key,
                        rk,
                        nhkr: Box::new(nhkr),
                        skipped,
                        ckr,
                        nr: header.n + 1,
                    },
                    mk,
                ))
            }
        }
    }

    fn plan_skipped(&self, chain: usize, n: u32, now: u64) -> Result<(Plan, Secret32), Error> {
        let (slot, mk) = self.skipped.find(chain, n, now).ok_or(Error::Replay)?;
        Ok((Plan::Skipped { slot }, mk.clone()))
    }

    fn commit(&mut self, plan: Plan, now: u64) {
        match plan {
            Plan::Skipped { slot } => self.skipped.remove(slot),
            Plan::Current { skipped, ckr, nr } => {
                if let Some(hkr) = &self.hkr {
                    let hkr = hkr.clone();
                    self.skipped.insert(&hkr, skipped, now);
                }
                self.ckr = Some(ckr);
                self.nr = nr;
            }
            Plan::NewChain {
                old_skipped,
                dhr,
                rk,
                nhkr,
                skipped,
                ckr,
                nr,
            } => {
                if let Some(hkr) = &self.hkr {
                    let hkr = hkr.clone();
                    self.skipped.insert(&hkr, old_skipped, now);
                }
                // Cloned out of its box, not moved: the box then zeroizes its key as it is freed.
                let hkr = core::mem::replace(&mut self.nhkr, HeaderKey::clone(&nhkr));
                drop(nhkr);
                self.skipped.insert(&hkr, skipped, now);
                self.hkr = Some(hkr);
                self.dhr = Some(dhr);
                self.rk = rk;
                self.ckr = Some(ckr);
                self.nr = nr;
                self.send_step_pending = true;
            }
        }
        self.skipped.purge(now);
    }
}

/// An established (or, for the initiator, half-established) session with one peer.
#[derive(Clone)]
pub struct Session {
    version: u8,
    /// Whether this side sent the initial message (the AD holds the initiator's keys first).
    initiator: bool,
    ad: [u8; AD_LEN],
    setup_id: [u8; 32],
    /// The initiator repeats the initial-message prefix until it first receives a message.
    initial_prefix: Option<Vec<u8>>,
    pq_reserve: Secret32,
    ratchet: Ratchet,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("version", &self.version)
            .field("setup_id", &crate::HexBytes(&self.setup_id))
            .field("awaiting_reply", &self.initial_prefix.is_some())
            .field("sent_in_chain", &self.ratchet.ns)
            .field("received_in_chain", &self.ratchet.nr)
            .field("skipped_keys", &self.ratchet.skipped.len())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The initiator's session right after PQXDH (Signal's `RatchetInitAliceHE`, with the
    /// sending step deferred to the first `encrypt`).
    pub(crate) fn initiator(init: Initiated) -> Result<Self, Error> {
        let SetupKeys {
            setup_id,
            ad,
            root,
            initiator_header,
            responder_header,
            pq_reserve,
        } = init.keys;
        Ok(Self {
            version: VERSION,
            initiator: true,
            ad,
            setup_id,
            initial_prefix: Some(init.prefix),
            pq_reserve,
            ratchet: Ratchet {
                dhs: None,
                dhr: Some(init.responder_ratchet),
                rk: root,
                cks: None,
                ckr: None,
                hks: None,
                hkr: None,
                nhks: HeaderKey::new(initiator_header)?,
                nhkr: HeaderKey::new(responder_header)?,
                ns: 0,
                nr: 0,
                pn: 0,
                send_step_pending: true,
                skipped: SkippedKeys::default(),
            },
        })
    }

    /// The responder's session (Signal's `RatchetInitBobHE`): its signed prekey is its first
    /// ratchet key.
    pub(crate) fn responder(keys: SetupKeys, signed_prekey: X25519Pair) -> Result<Self, Error> {
        Ok(Self {
            version: VERSION,
            initiator: false,
            ad: keys.ad,
            setup_id: keys.setup_id,
            initial_prefix: None,
            pq_reserve: keys.pq_reserve,
            ratchet: Ratchet {
                dhs: Some(signed_prekey),
                dhr: None,
                rk: keys.root,
                cks: None,
                ckr: None,
                hks: None,
                hkr: None,
                nhks: HeaderKey::new(keys.responder_header)?,
                nhkr: HeaderKey::new(keys.initiator_header)?,
                ns: 0,
                nr: 0,
                pn: 0,
                send_step_pending: false,
                skipped: SkippedKeys::default(),
            },
        })
    }

    /// Whether this side initiated the session (sent the initial message).
    pub fn is_initiator(&self) -> bool {
        self.initiator
    }

    /// The peer's identity keys as bound into every message's associated data: (Ed25519
    /// signing key, X25519 DH key). Compare them with what the application expects for the
    /// peer: a new initial message under a known peer name may carry a new identity.
    pub fn peer_identity_keys(&self) -> ([u8; 32], [u8; 32]) {
        let mut keys = [[0u8; 32]; 4];
        for (key, chunk) in keys.iter_mut().zip(self.ad.chunks_exact(32)) {
            key.copy_from_slice(chunk);
        }
        let [
            initiator_signing,
            initiator_dh,
            responder_signing,
            responder_dh,
        ] = keys;
        if self.initiator {
            (responder_signing, responder_dh)
        } else {
            (initiator_signing, initiator_dh)
        }
    }

    /// `SHA-256` of the initial-message prefix that set this session up.
    pub fn setup_id(&self) -> &[u8; 32] {
        &self.setup_id
    }

    /// Whether the initiator still waits for the first message from its peer (and so prefixes
    /// every message with the PQXDH initial-message prefix).
    pub fn awaiting_reply(&self) -> bool {
        self.initial_prefix.is_some()
    }

    /// Encrypts one message. Draws, in order: a new ratchet private key (32 bytes) if a DH
    /// ratchet step is due, then `r` (16 bytes).
    ///
    /// The caller must persist the session state before releasing the returned bytes: a state
    /// restored from before this call would use this message key and header key again. With a
    /// fresh `r` no (key, nonce) pair repeats (but with the birthday bound of PROTOCOL.md 13.1),
    /// though the peer sees two messages with one counter; with a replayed RNG (a seeded RNG
    /// restored with the state) `r` would repeat too, and AES-GCM would fail under that nonce.
    pub fn encrypt<R: rand_core::CryptoRng + ?Sized>(
        &mut self,
        message: &Outgoing<'_>,
        now: u64,
        rng: &mut R,
    ) -> Result<Vec<u8>, Error> {
        let mut buf = self.outgoing_buffer(message.payload.len())?;
        buf.payload_mut().copy_from_slice(message.payload);
        self.encrypt_in_place(buf, message.content_type, message.ttl, now, rng)
            .map(Sealed::into_vec)
            .map_err(|unsealed| unsealed.error)
    }

    /// A buffer for a message of `payload_len` bytes, laid out as the wire message this session
    /// would send (initial prefix, clear part, header, body preamble, payload, padding, tags), so
    /// that the caller writes the payload where it will be encrypted: with
    /// [`Session::encrypt_in_place`], a message costs one allocation (this one) and one AES-GCM
    /// pass over the payload, no copy. Refuses a payload over [`MAX_PAYLOAD_LEN`] (`Malformed`).
    pub fn outgoing_buffer(&self, payload_len: usize) -> Result<OutgoingBuffer, Error> {
        if payload_len > MAX_PAYLOAD_LEN {
            return Err(Error::Malformed);
        }
        let prefix_len = self.initial_prefix.as_ref().map_or(0, |p| p.len());
        let body_len = padded_len(BODY_PREAMBLE_LEN + payload_len);
        let len = prefix_len + CLEAR_LEN + MIN_HEADER_CT_LEN + body_len + TAG_LEN;
        Ok(OutgoingBuffer {
            buf: Zeroizing::new(vec![0; len]),
            prefix_len,
            payload_len,
        })
    }

    /// Encrypts the message written into `buf` (from [`Session::outgoing_buffer`]) where it is.
    /// On an error the session is unchanged and the buffer, its payload intact, comes back in
    /// [`Unsealed`]. A buffer laid out for a longer initial prefix than this session sends (one
    /// made before the session's first reply arrived) is used as it is: the message starts later
    /// in it; one made for another session whose prefix is longer is refused (`Malformed`).
    pub fn encrypt_in_place<R: rand_core::CryptoRng + ?Sized>(
        &mut self,
        mut buf: OutgoingBuffer,
        content_type: u8,
        ttl: u32,
        now: u64,
        rng: &mut R,
    ) -> Result<Sealed, Unsealed> {
        match self.seal(&mut buf, content_type, ttl, now, rng) {
            Ok(start) => Ok(Sealed {
                buf: core::mem::take(&mut *buf.buf),
                start,
            }),
            Err(error) => Err(Unsealed { error, buffer: buf }),
        }
    }

    /// Seals `buf` in place; returns where the wire message starts in it.
    fn seal<R: rand_core::CryptoRng + ?Sized>(
        &mut self,
        buf: &mut OutgoingBuffer,
        content_type: u8,
        ttl: u32,
        now: u64,
        rng: &mut R,
    ) -> Result<usize, Error> {
        let payload_len = u32::try_from(buf.payload_len).map_err(|_| Error::Malformed)?;
        let prefix: &[u8] = self.initial_prefix.as_deref().unwrap_or_default();
        let offset = buf
            .prefix_len
            .checked_sub(prefix.len())
            .ok_or(Error::Malformed)?;
        let ratchet = &self.ratchet;
        let step = if ratchet.send_step_pending {
            Some(ratchet.stage_send_step(rng)?)
        } else {
            None
        };
        let (ck, hk, ratchet_key, pn, n) = match &step {
            Some(step) => (&step.cks, &ratchet.nhks, step.dhs.public(), ratchet.ns, 0),
            None => match (&ratchet.cks, &ratchet.hks, &ratchet.dhs) {
                (Some(cks), Some(hks), Some(dhs)) => {
                    (cks, hks, dhs.public(), ratchet.pn, ratchet.ns)
                }
                _ => return Err(Error::CorruptState),
            },
        };
        if n >= MAX_CHAIN_MESSAGES {
            return Err(Error::TooManySkipped);
        }
        let mut r = [0u8; RANDOM_LEN];
        rng.fill_bytes(&mut r);
        let (mk, ck_next) = kdf_ck(ck)?;

        // [prefix][clear | header ‖ tag][preamble ‖ payload ‖ padding ‖ tag], from `offset`.
        let out = buf.buf.get_mut(offset..).ok_or(Error::Malformed)?;
        let (head, rest) = out
            .split_at_mut_checked(prefix.len())
            .ok_or(Error::Malformed)?;
        head.copy_from_slice(prefix);
        let (sealed, rest) = rest
            .split_at_mut_checked(CLEAR_LEN + MIN_HEADER_CT_LEN)
            .ok_or(Error::Malformed)?;
        let (clear, header) = sealed
            .split_at_mut_checked(CLEAR_LEN)
            .ok_or(Error::Malformed)?;
        let (version, clear_rest) = clear.split_at_mut_checked(2).ok_or(Error::Malformed)?;
        version.copy_from_slice(&[VERSION, RATCHET_TYPE]);
        let (r_field, hlen) = clear_rest
            .split_at_mut_checked(RANDOM_LEN)
            .ok_or(Error::Malformed)?;
        r_field.copy_from_slice(&r);
        hlen.fill(MIN_HEADER_CT_LEN as u8);
        let (header_plain, header_tag) = header
            .split_at_mut_checked(HEADER_BASE_LEN)
            .ok_or(Error::Malformed)?;
        header_plain.copy_from_slice(&encode_header(ratchet_key, pn, n));
        let nonce = suite::Nonce::from_message_random(&r);
        let aad = Aad::new(&self.ad, clear)?;
        header_tag.copy_from_slice(&hk.aead().seal_in_place(
            &nonce,
            aad.as_slice(),
            header_plain,
        )?);

        let body_len = rest.len().checked_sub(TAG_LEN).ok_or(Error::Malformed)?;
        let (body, body_tag) = rest
            .split_at_mut_checked(body_len)
            .ok_or(Error::Malformed)?;
        let meta = BodyMeta {
            content_type,
            sent_at: now,
            ttl,
            payload_len,
        };
        let (preamble, padded) = body
            .split_at_mut_checked(BODY_PREAMBLE_LEN)
            .ok_or(Error::Malformed)?;
        preamble.copy_from_slice(&meta.to_bytes());
        // The padding is zero whatever the caller wrote past its payload.
        padded
            .get_mut(buf.payload_len..)
            .ok_or(Error::Malformed)?
            .fill(0);
        // The message key is the body's AES-256-GCM key (PROTOCOL.md 7.3).
        let body_key = suite::AeadKey::new(mk.expose())?;
        let aad = Aad::new(&self.ad, sealed)?;
        body_tag.copy_from_slice(&body_key.seal_in_place(&nonce, aad.as_slice(), body)?);

        let ratchet = &mut self.ratchet;
        if let Some(step) = step {
            ratchet.pn = ratchet.ns;
            ratchet.hks = Some(core::mem::replace(&mut ratchet.nhks, step.nhks));
            ratchet.dhs = Some(step.dhs);
            ratchet.rk = step.rk;
            ratchet.send_step_pending = false;
        }
        ratchet.cks = Some(ck_next);
        ratchet.ns = n + 1;
        Ok(offset)
    }

    /// Decrypts a message in place; the payload borrows `message`. Accepts a ratchet message,
    /// or an initial message whose prefix set up this session. On any error but
    /// [`Error::Expired`] the session is unchanged and `message` holds no plaintext.
    pub fn decrypt_in_place<'b>(
        &mut self,
        message: &'b mut [u8],
        now: u64,
    ) -> Result<Received<'b>, Error> {
        let (meta, payload) = self.open(message, None, now)?;
        let message: &'b [u8] = message;
        Ok(Received {
            content_type: meta.content_type,
            sent_at: meta.sent_at,
            ttl: meta.ttl,
            expires_at: meta.expires_at(),
            payload: message.get(payload).unwrap_or_default(),
        })
    }

    /// Decrypts a message into an owned payload: one copy of the input, decrypted in place,
    /// then the payload moved to the front.
    pub fn decrypt(&mut self, message: &[u8], now: u64) -> Result<Message, Error> {
        self.decrypt_owned(message, None, now)
    }

    /// [`Session::decrypt`] of an initial message whose prefix (`prefix_len` bytes) the caller
    /// has decoded and whose hash it has found equal to [`Session::setup_id`]: the prefix is
    /// not decoded or hashed again.
    pub(crate) fn decrypt_own_prefixed(
        &mut self,
        message: &[u8],
        prefix_len: usize,
        now: u64,
    ) -> Result<Message, Error> {
        self.decrypt_owned(message, Some(prefix_len), now)
    }

    fn decrypt_owned(
        &mut self,
        message: &[u8],
        known_prefix: Option<usize>,
        now: u64,
    ) -> Result<Message, Error> {
        let mut buf = Zeroizing::new(message.to_vec());
        let (meta, payload) = self.open(&mut buf, known_prefix, now)?;
        let len = payload.len();
        buf.copy_within(payload, 0);
        buf.truncate(len);
        Ok(Message {
            content_type: meta.content_type,
            sent_at: meta.sent_at,
            ttl: meta.ttl,
            expires_at: meta.expires_at(),
            payload: buf,
            new_session: false,
        })
    }

    /// Authenticates and decrypts `message` in place and commits; returns the body metadata
    /// and where the payload lies in `message`.
    /// `known_prefix`: the length of a prefix whose hash the caller has already compared with
    /// [`Session::setup_id`] (the device's path); otherwise the prefix, if any, is checked here.
    fn open(
        &mut self,
        message: &mut [u8],
        known_prefix: Option<usize>,
        now: u64,
    ) -> Result<(BodyMeta, core::ops::Range<usize>), Error> {
        let offset = match known_prefix {
            Some(len) => self.frame_after_prefix(message, len)?,
            None => self.own_prefix_len(message)?,
        };
        let (meta, range) = self.authenticate(message, offset, now)?;
        if meta.is_expired(now) {
            let body = message.get_mut(range).unwrap_or_default();
            zeroize::Zeroize::zeroize(body);
            return Err(Error::Expired);
        }
        let start = range.start + BODY_PREAMBLE_LEN;
        Ok((meta, start..start + meta.payload_len as usize))
    }

    /// The responder's first message, its prefix already checked by PQXDH: authenticates,
    /// decrypts and commits whether or not it expired, and returns the body metadata with the
    /// payload (an expired one is zeroized and reported as [`Error::Expired`]).
    pub(crate) fn open_first(
        &mut self,
        ratchet_message: &[u8],
        prefix_len: usize,
        now: u64,
    ) -> Result<(BodyMeta, Result<Message, Error>), Error> {
        // The prefix's bytes are not read again: only its presence counts.
        let mut buf = Zeroizing::new(vec![0u8; prefix_len + ratchet_message.len()]);
        buf.get_mut(prefix_len..)
            .ok_or(Error::Malformed)?
            .copy_from_slice(ratchet_message);
        let (meta, range) = self.authenticate(&mut buf, prefix_len, now)?;
        if meta.is_expired(now) {
            return Ok((meta, Err(Error::Expired)));
        }
        let start = range.start + BODY_PREAMBLE_LEN;
        let len = meta.payload_len as usize;
        buf.copy_within(start..start + len, 0);
        buf.truncate(len);
        let message = Message {
            content_type: meta.content_type,
            sent_at: meta.sent_at,
            ttl: meta.ttl,
            expires_at: meta.expires_at(),
            payload: buf,
            new_session: false,
        };
        Ok((meta, Ok(message)))
    }

    /// Authenticates the ratchet message at `offset` (after a prefix when `offset > 0`),
    /// decrypts it in place and commits; returns the body metadata and the body's range.
    fn authenticate(
        &mut self,
        message: &mut [u8],
        offset: usize,
        now: u64,
    ) -> Result<(BodyMeta, core::ops::Range<usize>), Error> {
        let ratchet_message = message.get_mut(offset..).ok_or(Error::Malformed)?;
        let frame = Frame::parse(ratchet_message, self.version)?;
        let (head, body_ct) = ratchet_message.split_at_mut(frame.body_start);
        let (clear, header_ct) = head.split_at(CLEAR_LEN);
        let (candidate, header) = self
            .ratchet
            .trial_decrypt(&self.ad, clear, &frame.r, header_ct)?;
        // One encoding per message: the prefix comes exactly on the initiator's first sending
        // chain, the only chain whose PN is 0 (every later chain follows one that sent).
        if !self.initiator && (offset > 0) != (header.pn == 0) {
            return Err(Error::Unauthentic);
        }
        let (plan, mk) = self.ratchet.plan(candidate, &header, now)?;

        // The message key is the body's AES-256-GCM key (PROTOCOL.md 7.3).
        let body_key = suite::AeadKey::new(mk.expose())?;
        let nonce = suite::Nonce::from_message_random(&frame.r);
        let aad = Aad::new(&self.ad, head)?;
        let split = body_ct.len().checked_sub(TAG_LEN).ok_or(Error::Malformed)?;
        let (body, tag) = body_ct.split_at_mut(split);
        let tag: &[u8; TAG_LEN] = (&*tag).try_into().map_err(|_| Error::Malformed)?;
        body_key.open_in_place(&nonce, aad.as_slice(), body, tag)?;
        let Some(meta) = BodyMeta::parse(body) else {
            zeroize::Zeroize::zeroize(body);
            return Err(Error::Malformed);
        };

        self.ratchet.commit(plan, now);
        self.initial_prefix = None;
        let start = offset + frame.body_start;
        Ok((meta, start..start + split))
    }

    /// For an initial message, checks that its prefix is the one that set this session up and
    /// returns its length (the ratchet message follows); 0 for a ratchet message.
    fn own_prefix_len(&self, message: &[u8]) -> Result<usize, Error> {
        if message.get(1) != Some(&INITIAL_TYPE) {
            return Ok(0);
        }
        // The initiator never receives a prefix (checked without reading any secret).
        if self.initiator {
            return Err(Error::Malformed);
        }
        let (_, len) = InitialPrefix::decode(message)?;
        // Framing of the whole message before any comparison with session data.
        Frame::parse(message.get(len..).unwrap_or_default(), self.version)?;
        if suite::sha256(&[message.get(..len).unwrap_or_default()]) != self.setup_id {
            return Err(Error::Unauthentic);
        }
        Ok(len)
    }

    /// [`Session::own_prefix_len`] for a prefix of `len` bytes already decoded and matched with
    /// the setup id by the caller: the same checks in the same order, without the hash.
    fn frame_after_prefix(&self, message: &[u8], len: usize) -> Result<usize, Error> {
        if self.initiator {
            return Err(Error::Malformed);
        }
        Frame::parse(message.get(len..).unwrap_or_default(), self.version)?;
        Ok(len)
    }

    /// The canonical state blob, with every secret (docs/PROTOCOL.md, "Session state").
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        crate::codec::exact(|out| self.write(out))
    }

    /// Restores a blob made by [`Session::to_bytes`]; anything else is
    /// [`Error::CorruptState`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes);
        let session = Self::read(&mut r).map_err(|_| Error::CorruptState)?;
        r.finish().map_err(|_| Error::CorruptState)?;
        Ok(session)
    }

    pub(crate) fn write(&self, out: &mut dyn Writer) {
        let rt = &self.ratchet;
        out.put_u8(crate::STATE_VERSION);
        out.put_u8(crate::SESSION_STATE_TYPE);
        out.put_u8(self.version);
        out.put_flag(self.initiator);
        out.put(&self.ad);
        out.put(&self.setup_id);
        match &self.initial_prefix {
            Some(prefix) => {
                out.put_flag(true);
                out.put_u16(prefix.len() as u16);
                out.put(prefix);
            }
            None => out.put_flag(false),
        }
        out.put(self.pq_reserve.expose());
        match &rt.dhs {
            Some(pair) => {
                out.put_flag(true);
                out.put(pair.private().expose());
            }
            None => out.put_flag(false),
        }
        out.put_option(rt.dhr.as_ref().map(|k| &k[..]));
        out.put(rt.rk.expose());
        for key in [&rt.cks, &rt.ckr] {
            out.put_option(key.as_ref().map(|k| &k.expose()[..]));
        }
        for key in [&rt.hks, &rt.hkr] {
            out.put_option(key.as_ref().map(|k| &k.expose()[..]));
        }
        out.put(rt.nhks.expose());
        out.put(rt.nhkr.expose());
        out.put_u32(rt.ns);
        out.put_u32(rt.nr);
        out.put_u32(rt.pn);
        out.put_flag(rt.send_step_pending);
        let chains = rt.skipped.chains();
        out.put_u8(chains.len() as u8);
        for chain in chains {
            out.put(chain.header_key.expose());
            out.put_u16(chain.keys.len() as u16);
            for key in &chain.keys {
                out.put_u32(key.n);
                out.put(key.mk.expose());
                out.put_u64(key.stored_at);
            }
        }
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Decoded<Self> {
        let (mut session, dhs_private) = Self::read_pending(r)?;
        session.restore_ratchet_key(dhs_private.as_ref())?;
        Ok(session)
    }

    /// [`Session::read`] without its costly step, the parse of the sending ratchet key (an X25519
    /// scalar multiplication), returned as bytes: the device checks every cheap field of its blob
    /// first. The symmetric steps stay here (each header key's AEAD key setup, the prefix hash). The session is not usable until [`Session::restore_ratchet_key`].
    pub(crate) fn read_pending(r: &mut Reader<'_>) -> Decoded<(Self, Option<Secret32>)> {
        let secret = |r: &mut Reader<'_>| r.array().map(Secret32::new);
        let opt_secret = |r: &mut Reader<'_>| -> Decoded<Option<Secret32>> {
            Ok(r.option_array()?.map(Secret32::new))
        };
        let header_key = |secret: Secret32| HeaderKey::new(secret).map_err(|_| DecodeError);
        if r.u8()? != crate::STATE_VERSION || r.u8()? != crate::SESSION_STATE_TYPE {
            return Err(DecodeError);
        }
        let version = r.u8()?;
        if version != VERSION {
            return Err(DecodeError);
        }
        let initiator = r.flag()?;
        let ad = r.array()?;
        let setup_id = r.array()?;
        let initial_prefix = if r.flag()? {
            let len = usize::from(r.u16()?);
            let prefix = r.bytes(len)?;
            let (_, parsed_len) = InitialPrefix::decode(prefix).map_err(|_| DecodeError)?;
            if parsed_len != len {
                return Err(DecodeError);
            }
            Some(prefix)
        } else {
            None
        };
        let pq_reserve = secret(r)?;
        // Parsed by `Session::restore_ratchet_key`, after every other check.
        let dhs_private = opt_secret(r)?;
        let dhs = dhs_private.is_some();
        let dhr = r.option_array()?;
        let rk = secret(r)?;
        let cks = opt_secret(r)?;
        let ckr = opt_secret(r)?;
        let hks = opt_secret(r)?.map(header_key).transpose()?;
        let hkr = opt_secret(r)?.map(header_key).transpose()?;
        let nhks = header_key(secret(r)?)?;
        let nhkr = header_key(secret(r)?)?;
        let ns = r.u32()?;
        let nr = r.u32()?;
        let pn = r.u32()?;
        let send_step_pending = r.flag()?;
        let chain_count = usize::from(r.u8()?);
        if chain_count > crate::skipped::MAX_SKIPPED_CHAINS {
            return Err(DecodeError);
        }
        let mut chains = std::collections::VecDeque::with_capacity(chain_count);
        for _ in 0..chain_count {
            let chain_key = header_key(secret(r)?)?;
            let count = r.count_u16(crate::skipped::MAX_SKIPPED_KEYS)?;
            let mut keys = std::collections::VecDeque::with_capacity(count);
            for _ in 0..count {
                keys.push_back(SkippedKey {
                    n: r.u32()?,
                    mk: secret(r)?,
                    stored_at: r.u64()?,
                });
            }
            chains.push_back(SkippedChain {
                header_key: Box::new(chain_key),
                keys,
            });
        }
        let skipped = SkippedKeys::from_chains(chains).ok_or(DecodeError)?;
        // Invariants every reachable state keeps: a sending chain exists unless a step is due
        // (which needs the peer's key) or nothing was sent or received yet (a fresh responder,
        // which holds its signed prekey); a receiving chain has its header key and peer key.
        let sending_ok = if send_step_pending {
            dhr.is_some()
        } else if cks.is_some() {
            hks.is_some() && dhs
        } else {
            hks.is_none() && dhr.is_none() && dhs && ns == 0 && pn == 0
        };
        let receiving_ok = ckr.is_some() == hkr.is_some()
            && match &ckr {
                Some(_) => dhr.is_some(),
                None => nr == 0 && skipped.len() == 0,
            };
        // Skipped keys of the current receiving chain can only be in the newest stored chain
        // (keys are only ever added to it), and none are stored under the next header key.
        let chain_count = skipped.chains().len();
        let chains_ok = skipped.chains().iter().enumerate().all(|(i, chain)| {
            !chain.header_key.ct_eq(&nhkr)
                && (i + 1 == chain_count
                    || !hkr.as_ref().is_some_and(|h| chain.header_key.ct_eq(h)))
        });
        let counters_ok =
            ns <= MAX_CHAIN_MESSAGES && nr <= MAX_CHAIN_MESSAGES && pn <= MAX_CHAIN_MESSAGES;
        // Only the initiator repeats a prefix; only it may lack a ratchet key (before its first send).
        let role_ok = initiator || (initial_prefix.is_none() && dhs);
        if !sending_ok || !receiving_ok || !chains_ok || !counters_ok || !role_ok {
            return Err(DecodeError);
        }
        if initial_prefix.is_some_and(|prefix| suite::sha256(&[prefix]) != setup_id) {
            return Err(DecodeError);
        }
        let session = Self {
            version,
            initiator,
            ad,
            setup_id,
            initial_prefix: initial_prefix.map(<[u8]>::to_vec),
            pq_reserve,
            ratchet: Ratchet {
                dhs: None,
                dhr,
                rk,
                cks,
                ckr,
                hks,
                hkr,
                nhks,
                nhkr,
                ns,
                nr,
                pn,
                send_step_pending,
                skipped,
            },
        };
        Ok((session, dhs_private))
    }

    /// Parses the sending ratchet key that [`Session::read_pending`] left out.
    pub(crate) fn restore_ratchet_key(&mut self, private: Option<&Secret32>) -> Decoded<()> {
        self.ratchet.dhs = private
            .map(|private| X25519Pair::from_private(private.clone()).map_err(|_| DecodeError))
            .transpose()?;
        Ok(())
    }
}
