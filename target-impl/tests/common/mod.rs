//! Shared setup for the integration tests: seeded devices, a two-party conversation, the wire
//! framing rules re-stated independently of the library, and parsers of the state blobs that
//! locate every secret field (layouts from `Device::to_bytes` / `Session::write`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

use std::ops::Range;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use target_impl::{
    Device, Error, MAX_HEADER_EXT_LEN, MAX_PADDED_BODY_LEN, Message, Outgoing, PADDING_BUCKETS,
    PeerId, RANDOM_LEN, VerifiedBundle,
};

/// A fixed "now" (seconds since the Unix epoch).
pub(crate) const T0: u64 = 1_700_000_000;

/// A ChaCha20 RNG from a small seed number (every byte of the 32-byte seed is set).
pub(crate) fn rng(seed: u64) -> ChaCha20Rng {
    let mut s = [0x5au8; 32];
    s[..8].copy_from_slice(&seed.to_le_bytes());
    s[24..].copy_from_slice(&(!seed).to_be_bytes());
    ChaCha20Rng::from_seed(s)
}

/// A never-expiring message with content type 1.
pub(crate) fn out(payload: &[u8]) -> Outgoing<'_> {
    Outgoing {
        content_type: 1,
        ttl: 0,
        payload,
    }
}

/// Which one-time prekeys the responder publishes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Prekeys {
    /// A one-time X25519 prekey.
    pub(crate) opk: bool,
    /// A one-time ML-KEM prekey (else the last-resort one is used).
    pub(crate) one_time_kem: bool,
}

impl Prekeys {
    pub(crate) const ALL: Self = Self {
        opk: true,
        one_time_kem: true,
    };
    pub(crate) const NONE: Self = Self {
        opk: false,
        one_time_kem: false,
    };
}

/// Alice and Bob. `a` is Bob's name for Alice, `b` is Alice's name for Bob.
#[derive(Clone)]
pub(crate) struct Pair {
    pub(crate) alice: Device,
    pub(crate) bob: Device,
    pub(crate) a: PeerId,
    pub(crate) b: PeerId,
}

pub(crate) fn alice_name() -> PeerId {
    PeerId::new("alice").unwrap()
}

pub(crate) fn bob_name() -> PeerId {
    PeerId::new("bob").unwrap()
}

/// Two devices; Bob publishes a bundle with `prekeys`; Alice has initiated (nothing sent yet).
pub(crate) fn new_pair(rng: &mut ChaCha20Rng, prekeys: Prekeys) -> Pair {
    let alice = Device::generate(rng).unwrap();
    let mut bob = Device::generate(rng).unwrap();
    if prekeys.opk {
        bob.add_one_time_prekeys(2, rng).unwrap();
    }
    if prekeys.one_time_kem {
        bob.add_one_time_kem_prekeys(2, rng).unwrap();
    }
    let mut pair = Pair {
        alice,
        bob,
        a: alice_name(),
        b: bob_name(),
    };
    let bundle = VerifiedBundle::import(&pair.bob.prekey_bundle().unwrap().to_bytes()).unwrap();
    pair.alice.initiate(&pair.b, &bundle, rng).unwrap();
    pair
}

/// A pair after Alice's initial message reached Bob and Bob's reply reached Alice: both sides
/// have a sending and a receiving chain, and Alice's next message starts a DH ratchet step.
pub(crate) fn established(rng: &mut ChaCha20Rng, prekeys: Prekeys) -> Pair {
    let mut p = new_pair(rng, prekeys);
    let m0 = p.a_send(b"hello bob", T0, rng);
    assert_eq!(&p.bob_gets(&m0, T0).unwrap().payload[..], b"hello bob");
    let r0 = p.b_send(b"hello alice", T0, rng);
    assert_eq!(&p.alice_gets(&r0, T0).unwrap().payload[..], b"hello alice");
    p
}

impl Pair {
    /// Alice encrypts to Bob.
    pub(crate) fn a_send(&mut self, payload: &[u8], now: u64, rng: &mut ChaCha20Rng) -> Vec<u8> {
        self.a_send_with(&out(payload), now, rng)
    }

    pub(crate) fn a_send_with(
        &mut self,
        msg: &Outgoing<'_>,
        now: u64,
        rng: &mut ChaCha20Rng,
    ) -> Vec<u8> {
        self.alice
            .session_mut(&self.b)
            .unwrap()
            .encrypt(msg, now, rng)
            .unwrap()
    }

    /// Bob encrypts to Alice.
    pub(crate) fn b_send(&mut self, payload: &[u8], now: u64, rng: &mut ChaCha20Rng) -> Vec<u8> {
        self.bob
            .session_mut(&self.a)
            .unwrap()
            .encrypt(&out(payload), now, rng)
            .unwrap()
    }

    /// Bob receives (device API).
    pub(crate) fn bob_gets(&mut self, wire: &[u8], now: u64) -> Result<Message, Error> {
        self.bob.decrypt(&self.a, wire, now)
    }

    /// Alice receives (device API).
    pub(crate) fn alice_gets(&mut self, wire: &[u8], now: u64) -> Result<Message, Error> {
        self.alice.decrypt(&self.b, wire, now)
    }
}

// ---------------------------------------------------------------------------------------------
// Wire framing, re-stated from the protocol description (not from the library's code).

pub(crate) const VERSION: u8 = 1;
pub(crate) const INITIAL_TYPE: u8 = 0x02;
pub(crate) const RATCHET_TYPE: u8 = 0x03;
/// version ‖ type ‖ r ‖ header_ct_len.
pub(crate) const CLEAR_LEN: usize = 2 + RANDOM_LEN + 1;
/// Header plaintext (ratchet key 32, PN 4, N 4, extension length 1) plus tag.
pub(crate) const MIN_HEADER_CT_LEN: usize = 41 + 16;
/// ... plus at most `MAX_HEADER_EXT_LEN` (64) extension bytes.
pub(crate) const MAX_HEADER_CT_LEN: usize = 41 + MAX_HEADER_EXT_LEN + 16;
pub(crate) const TAG_LEN: usize = 16;
/// Offset of the one-time-prekey flag in an initial message:
/// version, type, initiator identity (128), responder signing + DH (64), signed prekey id (4).
pub(crate) const OPK_FLAG_OFFSET: usize = 2 + 128 + 64 + 4;

/// Padmé (Nikitin et al.), written from the paper's description.
fn padme(len: usize) -> usize {
    let e = len.ilog2();
    let s = e.ilog2() + 1;
    let mask = (1usize << (e - s)) - 1;
    (len + mask) & !mask
}

/// Whether a body plaintext length is one the padding rule produces.
pub(crate) fn is_padded_body_len(len: usize) -> bool {
    if !(17..=MAX_PADDED_BODY_LEN).contains(&len) {
        return false;
    }
    if len <= 1024 {
        PADDING_BUCKETS.contains(&len)
    } else {
        padme(len) == len
    }
}

/// The framing checks of a ratchet message (no secret involved).
pub(crate) fn ratchet_framing_ok(m: &[u8]) -> bool {
    if m.len() < CLEAR_LEN || m[0] != VERSION || m[1] != RATCHET_TYPE {
        return false;
    }
    let header_len = usize::from(m[CLEAR_LEN - 1]);
    if !(MIN_HEADER_CT_LEN..=MAX_HEADER_CT_LEN).contains(&header_len) {
        return false;
    }
    match (m.len() - CLEAR_LEN).checked_sub(header_len + TAG_LEN) {
        Some(body) => is_padded_body_len(body),
        None => false,
    }
}

/// Length of the initial-message prefix at the front of `m`, if it decodes.
pub(crate) fn initial_prefix_len(m: &[u8]) -> Option<usize> {
    if m.len() < OPK_FLAG_OFFSET + 1 || m[0] != VERSION || m[1] != INITIAL_TYPE {
        return None;
    }
    let mut at = OPK_FLAG_OFFSET;
    match m[at] {
        0 => at += 1,
        1 => at += 5,
        _ => return None,
    }
    // KEM kind.
    match m.get(at)? {
        0 | 1 => at += 1,
        _ => return None,
    }
    // KEM prekey id, ephemeral, ML-KEM ciphertext.
    at += 4 + 32 + 1088;
    (at <= m.len()).then_some(at)
}

/// Every framing check a received message must pass before any key is touched: the prefix of
/// an initial message decodes and the ratchet message after it is well framed, or the message
/// is a well-framed ratchet message.
pub(crate) fn framing_ok(m: &[u8]) -> bool {
    match m.get(1) {
        Some(&INITIAL_TYPE) => initial_prefix_len(m).is_some_and(|l| ratchet_framing_ok(&m[l..])),
        Some(&RATCHET_TYPE) => ratchet_framing_ok(m),
        _ => false,
    }
}

/// Offset of the ephemeral key in an initial message (or its prefix).
pub(crate) fn ephemeral_offset(prefix: &[u8]) -> usize {
    let opk = if prefix[OPK_FLAG_OFFSET] == 1 { 4 } else { 0 };
    OPK_FLAG_OFFSET + 1 + opk + 1 + 4
}

/// The class a refused message must get: `Malformed` exactly when a framing check that reads
/// no secret fails (for an initial message: its prefix and the ratchet message after it),
/// else `Unauthentic`. Framing comes first whatever the message claims (its sender's session,
/// its prefix, the prekeys it names), as `wire::WireMessage::decode` checks it without a key.
pub(crate) fn expected_refusal(m: &[u8]) -> Error {
    if framing_ok(m) {
        Error::Unauthentic
    } else {
        Error::Malformed
    }
}

/// Every single-byte flip (xor 0x01, xor 0x80), every truncation, and two extensions.
pub(crate) fn mutations(m: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::with_capacity(3 * m.len() + 2);
    for i in 0..m.len() {
        for bit in [0x01u8, 0x80] {
            let mut x = m.to_vec();
            x[i] ^= bit;
            out.push((format!("flip {bit:#04x} at {i}"), x));
        }
    }
    for len in 0..m.len() {
        out.push((format!("truncate to {len}"), m[..len].to_vec()));
    }
    let mut x = m.to_vec();
    x.push(0);
    out.push(("append 1 byte".into(), x));
    let mut x = m.to_vec();
    x.extend_from_slice(&[0xa5; 16]);
    out.push(("append 16 bytes".into(), x));
    out
}

/// Whether `haystack` contains `needle` or any 8-byte window of it.
pub(crate) fn contains_window(haystack: &[u8], needle: &[u8]) -> bool {
    let w = needle.len().min(8);
    w > 0
        && needle
            .windows(w)
            .any(|n| haystack.windows(w).any(|h| h == n))
}

// ---------------------------------------------------------------------------------------------
// State blob parsers (layouts of `Device::to_bytes` and `Session::to_bytes`).

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Range<usize> {
        let r = self.at..self.at + n;
        assert!(r.end <= self.b.len(), "blob too short at {}", self.at);
        self.at += n;
        r
    }
    fn u8(&mut self) -> u8 {
        let r = self.take(1);
        self.b[r.start]
    }
    fn u16(&mut self) -> usize {
        let r = self.take(2);
        usize::from(u16::from_be_bytes(self.b[r].try_into().unwrap()))
    }
    fn u32(&mut self) -> u32 {
        let r = self.take(4);
        u32::from_be_bytes(self.b[r].try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        let r = self.take(8);
        u64::from_be_bytes(self.b[r].try_into().unwrap())
    }
    fn flag(&mut self) -> bool {
        match self.u8() {
            0 => false,
            1 => true,
            f => panic!("bad flag {f} at {}", self.at - 1),
        }
    }
}

/// A stored skipped message key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SkippedInfo {
    pub(crate) chain: usize,
    pub(crate) n: u32,
    pub(crate) stored_at: u64,
}

/// What a session blob holds, with the byte ranges of its secrets.
#[derive(Clone, Debug)]
pub(crate) struct SessionInfo {
    /// Named byte ranges of every secret field (relative to the parsed buffer).
    pub(crate) secrets: Vec<(String, Range<usize>)>,
    pub(crate) awaiting_reply: bool,
    pub(crate) ns: u32,
    pub(crate) nr: u32,
    pub(crate) pn: u32,
    pub(crate) send_step_pending: bool,
    pub(crate) chains: usize,
    pub(crate) skipped: Vec<SkippedInfo>,
    /// Where the session blob ends.
    pub(crate) end: usize,
}

fn parse_session_at(c: &mut Cursor<'_>) -> SessionInfo {
    let mut secrets = Vec::new();
    assert_eq!(c.u8(), 1, "state version");
    assert_eq!(c.u8(), 0x10, "session state type");
    assert_eq!(c.u8(), 1, "protocol version");
    let _initiator = c.flag();
    c.take(160); // AD: public identity keys and transcript hash
    c.take(32); // setup id: hash of the public prefix
    let awaiting_reply = c.flag();
    if awaiting_reply {
        let len = c.u16();
        c.take(len); // the public initial-message prefix
    }
    secrets.push(("pq_reserve".into(), c.take(32)));
    if c.flag() {
        secrets.push(("dhs private".into(), c.take(32)));
    }
    if c.flag() {
        c.take(32); // peer's ratchet public key
    }
    secrets.push(("rk".into(), c.take(32)));
    for name in ["cks", "ckr", "hks", "hkr"] {
        if c.flag() {
            secrets.push((name.into(), c.take(32)));
        }
    }
    secrets.push(("nhks".into(), c.take(32)));
    secrets.push(("nhkr".into(), c.take(32)));
    let ns = c.u32();
    let nr = c.u32();
    let pn = c.u32();
    let send_step_pending = c.flag();
    let chains = usize::from(c.u8());
    let mut skipped = Vec::new();
    for chain in 0..chains {
        secrets.push((format!("skipped chain {chain} header key"), c.take(32)));
        let count = c.u16();
        for _ in 0..count {
            let n = c.u32();
            secrets.push((format!("skipped chain {chain} mk {n}"), c.take(32)));
            let stored_at = c.u64();
            skipped.push(SkippedInfo {
                chain,
                n,
                stored_at,
            });
        }
    }
    SessionInfo {
        secrets,
        awaiting_reply,
        ns,
        nr,
        pn,
        send_step_pending,
        chains,
        skipped,
        end: c.at,
    }
}

/// Parses a whole session blob.
pub(crate) fn parse_session(blob: &[u8]) -> SessionInfo {
    let mut c = Cursor { b: blob, at: 0 };
    let info = parse_session_at(&mut c);
    assert_eq!(info.end, blob.len(), "trailing bytes after session");
    info
}

/// What a device blob holds, with the byte ranges of its secrets.
#[derive(Clone, Debug)]
pub(crate) struct DeviceInfo {
    pub(crate) secrets: Vec<(String, Range<usize>)>,
    pub(crate) signed_prekey_ids: Vec<u32>,
    pub(crate) one_time_prekey_ids: Vec<u32>,
    pub(crate) last_resort_kem_ids: Vec<u32>,
    pub(crate) one_time_kem_ids: Vec<u32>,
    pub(crate) replay_cache: Vec<([u8; 32], u32, u32)>,
    /// The newest `sent_at` evicted from the replay cache.
    pub(crate) replay_floor: u64,
    /// Peer name, session info (secret ranges relative to the device blob).
    pub(crate) sessions: Vec<(Vec<u8>, SessionInfo)>,
}

impl DeviceInfo {
    /// The session with `peer`.
    pub(crate) fn session(&self, peer: &[u8]) -> &SessionInfo {
        &self
            .sessions
            .iter()
            .find(|(p, _)| p == peer)
            .expect("no such session")
            .1
    }

    /// Every secret range, the device's own and its sessions'.
    pub(crate) fn all_secrets(&self) -> Vec<(String, Range<usize>)> {
        let mut all = self.secrets.clone();
        for (peer, s) in &self.sessions {
            let peer = String::from_utf8_lossy(peer);
            all.extend(
                s.secrets
                    .iter()
                    .map(|(n, r)| (format!("{peer}: {n}"), r.clone())),
            );
        }
        all
    }
}

/// Parses a whole device blob.
pub(crate) fn parse_device(blob: &[u8]) -> DeviceInfo {
    let mut c = Cursor { b: blob, at: 0 };
    assert_eq!(c.u8(), 1, "state version");
    assert_eq!(c.u8(), 0x11, "device state type");
    let mut secrets = vec![
        ("identity signing seed".to_string(), c.take(32)),
        ("identity dh private".to_string(), c.take(32)),
    ];
    let _next_id = c.u32();
    let mut signed_prekey_ids = Vec::new();
    for _ in 0..c.u8() {
        let id = c.u32();
        signed_prekey_ids.push(id);
        secrets.push((format!("signed prekey {id}"), c.take(32)));
    }
    let mut one_time_prekey_ids = Vec::new();
    for _ in 0..c.u16() {
        let id = c.u32();
        one_time_prekey_ids.push(id);
        secrets.push((format!("one-time prekey {id}"), c.take(32)));
    }
    let mut last_resort_kem_ids = Vec::new();
    for _ in 0..c.u8() {
        let id = c.u32();
        last_resort_kem_ids.push(id);
        secrets.push((format!("last-resort kem seed {id}"), c.take(64)));
    }
    let mut one_time_kem_ids = Vec::new();
    for _ in 0..c.u16() {
        let id = c.u32();
        one_time_kem_ids.push(id);
        secrets.push((format!("one-time kem seed {id}"), c.take(64)));
    }
    let mut replay_cache = Vec::new();
    for _ in 0..c.u16() {
        let r = c.take(32);
        let setup: [u8; 32] = blob[r].try_into().unwrap();
        replay_cache.push((setup, c.u32(), c.u32()));
        let _sent_at = c.take(8);
    }
    let floor_at = c.take(8);
    let replay_floor = u64::from_be_bytes(blob[floor_at].try_into().unwrap());
    for _ in 0..c.u16() {
        let len = usize::from(c.u8());
        let _peer = c.take(len);
        let _identity = c.take(128);
    }
    let mut sessions = Vec::new();
    for _ in 0..c.u16() {
        let len = usize::from(c.u8());
        let r = c.take(len);
        let peer = blob[r].to_vec();
        let info = parse_session_at(&mut c);
        sessions.push((peer, info));
    }
    assert_eq!(c.at, blob.len(), "trailing bytes after device");
    DeviceInfo {
        secrets,
        signed_prekey_ids,
        one_time_prekey_ids,
        last_resort_kem_ids,
        one_time_kem_ids,
        replay_cache,
        replay_floor,
        sessions,
    }
}

/// The skipped keys Bob holds for Alice.
pub(crate) fn skipped_of(device: &Device, peer: &PeerId) -> Vec<SkippedInfo> {
    parse_session(&device.session(peer).unwrap().to_bytes()).skipped
}

/// Number of skipped-key chains Bob holds for Alice.
pub(crate) fn chains_of(device: &Device, peer: &PeerId) -> usize {
    parse_session(&device.session(peer).unwrap().to_bytes()).chains
}
