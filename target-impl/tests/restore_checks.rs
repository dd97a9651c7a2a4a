//! One test per restore check of docs/PROTOCOL.md 10.1 and 10.2 (the "State restore" table of
//! 11.2): each starts from a blob the library wrote (or one built from it that restores), makes
//! the one change that breaks exactly that check, and expects `CorruptState`; the unchanged
//! blob restores, so a test fails as soon as its check is removed. The blobs are edited through
//! a field model re-stated from PROTOCOL.md, not from the library's code.
// Helpers outside #[test] functions may fail loudly too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::*;
use sha2::Digest;
use target_impl::{Device, Error, MAX_CHAIN_MESSAGES, Session};

// ---------------------------------------------------------------------------------------------
// Field models of the two blobs (PROTOCOL.md 10.1, 10.2).

struct Rd<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        s
    }
    fn a32(&mut self) -> [u8; 32] {
        self.take(32).try_into().unwrap()
    }
    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.take(2).try_into().unwrap())
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.take(4).try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.take(8).try_into().unwrap())
    }
    fn opt32(&mut self) -> Option<[u8; 32]> {
        (self.u8() == 1).then(|| self.a32())
    }
}

fn put_opt32(out: &mut Vec<u8>, v: &Option<[u8; 32]>) {
    match v {
        Some(k) => {
            out.push(1);
            out.extend_from_slice(k);
        }
        None => out.push(0),
    }
}

#[derive(Clone, Debug)]
struct Key {
    n: u32,
    mk: [u8; 32],
    stored_at: u64,
}

#[derive(Clone, Debug)]
struct Chain {
    hk: [u8; 32],
    keys: Vec<Key>,
}

/// Every field of a session blob, flags as raw bytes where a test sets a non-canonical value.
#[derive(Clone, Debug)]
struct Sess {
    state_version: u8,
    kind: u8,
    version: u8,
    initiator: u8,
    ad: Vec<u8>,
    setup_id: [u8; 32],
    prefix: Option<Vec<u8>>,
    pq_reserve: [u8; 32],
    dhs: Option<[u8; 32]>,
    dhr: Option<[u8; 32]>,
    rk: [u8; 32],
    cks: Option<[u8; 32]>,
    ckr: Option<[u8; 32]>,
    hks: Option<[u8; 32]>,
    hkr: Option<[u8; 32]>,
    nhks: [u8; 32],
    nhkr: [u8; 32],
    ns: u32,
    nr: u32,
    pn: u32,
    pending: u8,
    chains: Vec<Chain>,
}

impl Sess {
    fn read(r: &mut Rd<'_>) -> Self {
        let state_version = r.u8();
        let kind = r.u8();
        let version = r.u8();
        let initiator = r.u8();
        let ad = r.take(160).to_vec();
        let setup_id = r.a32();
        let prefix = (r.u8() == 1).then(|| {
            let len = usize::from(r.u16());
            r.take(len).to_vec()
        });
        let mut s = Sess {
            state_version,
            kind,
            version,
            initiator,
            ad,
            setup_id,
            prefix,
            pq_reserve: r.a32(),
            dhs: r.opt32(),
            dhr: r.opt32(),
            rk: r.a32(),
            cks: r.opt32(),
            ckr: r.opt32(),
            hks: r.opt32(),
            hkr: r.opt32(),
            nhks: r.a32(),
            nhkr: r.a32(),
            ns: r.u32(),
            nr: r.u32(),
            pn: r.u32(),
            pending: r.u8(),
            chains: Vec::new(),
        };
        for _ in 0..r.u8() {
            let hk = r.a32();
            let keys = (0..r.u16())
                .map(|_| Key {
                    n: r.u32(),
                    mk: r.a32(),
                    stored_at: r.u64(),
                })
                .collect();
            s.chains.push(Chain { hk, keys });
        }
        s
    }

    fn parse(blob: &[u8]) -> Self {
        let mut r = Rd { b: blob, at: 0 };
        let s = Self::read(&mut r);
        assert_eq!(r.at, blob.len(), "session model does not cover the blob");
        assert_eq!(
            s.encode(),
            blob,
            "session model does not re-encode the blob"
        );
        s
    }

    fn encode(&self) -> Vec<u8> {
        let mut o = vec![self.state_version, self.kind, self.version, self.initiator];
        o.extend_from_slice(&self.ad);
        o.extend_from_slice(&self.setup_id);
        match &self.prefix {
            Some(p) => {
                o.push(1);
                o.extend_from_slice(&(p.len() as u16).to_be_bytes());
                o.extend_from_slice(p);
            }
            None => o.push(0),
        }
        o.extend_from_slice(&self.pq_reserve);
        put_opt32(&mut o, &self.dhs);
        put_opt32(&mut o, &self.dhr);
        o.extend_from_slice(&self.rk);
        for k in [&self.cks, &self.ckr, &self.hks, &self.hkr] {
            put_opt32(&mut o, k);
        }
        o.extend_from_slice(&self.nhks);
        o.extend_from_slice(&self.nhkr);
        for v in [self.ns, self.nr, self.pn] {
            o.extend_from_slice(&v.to_be_bytes());
        }
        o.push(self.pending);
        o.push(self.chains.len() as u8);
        for c in &self.chains {
            o.extend_from_slice(&c.hk);
            o.extend_from_slice(&(c.keys.len() as u16).to_be_bytes());
            for k in &c.keys {
                o.extend_from_slice(&k.n.to_be_bytes());
                o.extend_from_slice(&k.mk);
                o.extend_from_slice(&k.stored_at.to_be_bytes());
            }
        }
        o
    }

    /// Offset of the `DHs` presence flag.
    fn dhs_flag_offset(&self) -> usize {
        4 + 160 + 32 + 1 + self.prefix.as_ref().map_or(0, |p| 2 + p.len()) + 32
    }
}

/// Every field of a device blob; sessions kept as their own blobs. The known identities of
/// peers with a session are not a field: `encode` writes one per session, the identity among
/// `known` whose keys the session's AD holds, so a test that edits the sessions changes only the
/// session checks; `pinned` holds those of peers without a session.
#[derive(Clone, Debug)]
struct Dev {
    head: [u8; 2],
    signing_seed: [u8; 32],
    dh_priv: [u8; 32],
    next_id: u32,
    spks: Vec<(u32, [u8; 32])>,
    opks: Vec<(u32, [u8; 32])>,
    last_resort: Vec<(u32, Vec<u8>)>,
    one_time_kem: Vec<(u32, Vec<u8>)>,
    replay: Vec<([u8; 32], u32, u32, u64)>,
    replay_floor: u64,
    known: Vec<Vec<u8>>,
    pinned: Vec<(Vec<u8>, Vec<u8>)>,
    sessions: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Dev {
    fn parse(blob: &[u8]) -> Self {
        let mut r = Rd { b: blob, at: 0 };
        let head = [r.u8(), r.u8()];
        let signing_seed = r.a32();
        let dh_priv = r.a32();
        let next_id = r.u32();
        let spks = (0..r.u8()).map(|_| (r.u32(), r.a32())).collect();
        let opks = (0..r.u16()).map(|_| (r.u32(), r.a32())).collect();
        let last_resort = (0..r.u8())
            .map(|_| (r.u32(), r.take(64).to_vec()))
            .collect();
        let one_time_kem = (0..r.u16())
            .map(|_| (r.u32(), r.take(64).to_vec()))
            .collect();
        let replay = (0..r.u16())
            .map(|_| (r.a32(), r.u32(), r.u32(), r.u64()))
            .collect();
        let replay_floor = r.u64();
        let identities: Vec<(Vec<u8>, Vec<u8>)> = (0..r.u16())
            .map(|_| {
                let len = usize::from(r.u8());
                (r.take(len).to_vec(), r.take(128).to_vec())
            })
            .collect();
        let mut sessions = Vec::new();
        for _ in 0..r.u16() {
            let len = usize::from(r.u8());
            let peer = r.take(len).to_vec();
            let start = r.at;
            Sess::read(&mut r);
            sessions.push((peer, blob[start..r.at].to_vec()));
        }
        assert_eq!(r.at, blob.len(), "device model does not cover the blob");
        let d = Dev {
            head,
            signing_seed,
            dh_priv,
            next_id,
            spks,
            opks,
            last_resort,
            one_time_kem,
            replay,
            replay_floor,
            known: identities.iter().map(|(_, id)| id.clone()).collect(),
            pinned: identities
                .iter()
                .filter(|(peer, _)| sessions.iter().all(|(p, _)| p != peer))
                .cloned()
                .collect(),
            sessions,
        };
        assert_eq!(d.encode(), blob, "device model does not re-encode the blob");
        d
    }

    fn encode(&self) -> Vec<u8> {
        let mut o = self.head.to_vec();
        o.extend_from_slice(&self.signing_seed);
        o.extend_from_slice(&self.dh_priv);
        o.extend_from_slice(&self.next_id.to_be_bytes());
        o.push(self.spks.len() as u8);
        for (id, k) in &self.spks {
            o.extend_from_slice(&id.to_be_bytes());
            o.extend_from_slice(k);
        }
        o.extend_from_slice(&(self.opks.len() as u16).to_be_bytes());
        for (id, k) in &self.opks {
            o.extend_from_slice(&id.to_be_bytes());
            o.extend_from_slice(k);
        }
        o.push(self.last_resort.len() as u8);
        for (id, k) in &self.last_resort {
            o.extend_from_slice(&id.to_be_bytes());
            o.extend_from_slice(k);
        }
        o.extend_from_slice(&(self.one_time_kem.len() as u16).to_be_bytes());
        for (id, k) in &self.one_time_kem {
            o.extend_from_slice(&id.to_be_bytes());
            o.extend_from_slice(k);
        }
        o.extend_from_slice(&(self.replay.len() as u16).to_be_bytes());
        for (setup, spk, kem, sent_at) in &self.replay {
            o.extend_from_slice(setup);
            o.extend_from_slice(&spk.to_be_bytes());
            o.extend_from_slice(&kem.to_be_bytes());
            o.extend_from_slice(&sent_at.to_be_bytes());
        }
        o.extend_from_slice(&self.replay_floor.to_be_bytes());
        let identities = self.identities();
        o.extend_from_slice(&(identities.len() as u16).to_be_bytes());
        for (peer, identity) in identities {
            o.push(peer.len() as u8);
            o.extend_from_slice(peer);
            o.extend_from_slice(identity);
        }
        o.extend_from_slice(&(self.sessions.len() as u16).to_be_bytes());
        for (peer, s) in &self.sessions {
            o.push(peer.len() as u8);
            o.extend_from_slice(peer);
            o.extend_from_slice(s);
        }
        o
    }

    /// The known identities the sessions need (10.2: each session's peer has one, with the
    /// session's peer keys): ascending peer id, one per valid peer id, so a test that breaks a
    /// session's peer id or order fails at the session's own check.
    fn identities(&self) -> Vec<(&[u8], &[u8])> {
        let mut out: Vec<(&[u8], &[u8])> = self
            .sessions
            .iter()
            .filter(|(peer, _)| (1..=64).contains(&peer.len()))
            .filter_map(|(peer, blob)| {
                let ad = blob.get(4..164)?;
                let id = self
                    .known
                    .iter()
                    .find(|k| ad.windows(64).any(|w| w == &k[..64]))?;
                Some((&peer[..], &id[..]))
            })
            .chain(self.pinned.iter().map(|(p, id)| (&p[..], &id[..])))
            .collect();
        out.sort();
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Genuine states and the assertions.

fn session_ok(s: &Sess, what: &str) {
    let blob = s.encode();
    let restored = Session::from_bytes(&blob).unwrap_or_else(|e| panic!("{what}: {e:?}"));
    assert_eq!(*restored.to_bytes(), blob, "{what}: not canonical");
}

fn session_bad(s: &Sess, what: &str) {
    assert_eq!(
        Session::from_bytes(&s.encode()).map(|_| ()),
        Err(Error::CorruptState),
        "{what}"
    );
}

fn device_ok(d: &Dev, what: &str) {
    let blob = d.encode();
    let restored = Device::from_bytes(&blob).unwrap_or_else(|e| panic!("{what}: {e:?}"));
    assert_eq!(*restored.to_bytes(), blob, "{what}: not canonical");
}

fn device_bad(d: &Dev, what: &str) {
    assert_eq!(
        Device::from_bytes(&d.encode()).map(|_| ()),
        Err(Error::CorruptState),
        "{what}"
    );
}

/// Session states the library reached, each restoring as it is.
struct States {
    /// Alice before she sent anything: initiator, prefix, `DHs` absent, step pending.
    fresh_initiator: Sess,
    /// Alice after her first message: prefix, sending chain, nothing received.
    sent_initiator: Sess,
    /// Alice after receiving Bob's reply and sending again: no prefix, both chains, not pending.
    alice: Sess,
    /// Bob after his reply and after skipping two of Alice's messages: one chain under `HKr`.
    bob: Sess,
    /// Bob after accepting the initial message only: receiving chain, step pending.
    bob_accepted: Sess,
    /// Bob's device holding the sessions above, a replay-cache entry and one-time prekeys.
    device: Dev,
}

fn s(d: &Device, peer: &target_impl::PeerId) -> Sess {
    Sess::parse(&d.session(peer).unwrap().to_bytes())
}

fn states(seed: u64) -> States {
    let mut rng = rng(seed);
    let mut p = new_pair(&mut rng, Prekeys::NONE);
    let fresh_initiator = s(&p.alice, &p.b);
    let m0 = p.a_send(b"m0", T0, &mut rng);
    let sent_initiator = s(&p.alice, &p.b);
    p.bob_gets(&m0, T0).unwrap();
    let bob_accepted = s(&p.bob, &p.a);
    let r0 = p.b_send(b"r0", T0 + 1, &mut rng);
    p.alice_gets(&r0, T0 + 1).unwrap();
    let _m1 = p.a_send(b"m1", T0 + 2, &mut rng);
    let _m2 = p.a_send(b"m2", T0 + 2, &mut rng);
    let m3 = p.a_send(b"m3", T0 + 2, &mut rng);
    let alice = s(&p.alice, &p.b);
    p.bob_gets(&m3, T0 + 3).unwrap();
    let bob = s(&p.bob, &p.a);
    p.bob.add_one_time_prekeys(2, &mut rng).unwrap();
    p.bob.add_one_time_kem_prekeys(2, &mut rng).unwrap();
    let device = Dev::parse(&p.bob.to_bytes());
    assert_eq!(bob.chains.len(), 1);
    assert_eq!(bob.chains[0].keys.len(), 2);
    assert_eq!(Some(bob.chains[0].hk), bob.hkr);
    assert_eq!(device.replay.len(), 1);
    let st = States {
        fresh_initiator,
        sent_initiator,
        alice,
        bob,
        bob_accepted,
        device,
    };
    for (what, s) in [
        ("fresh initiator", &st.fresh_initiator),
        ("sent initiator", &st.sent_initiator),
        ("alice", &st.alice),
        ("bob", &st.bob),
        ("bob accepted", &st.bob_accepted),
    ] {
        session_ok(s, what);
    }
    device_ok(&st.device, "device");
    st
}

/// A responder that has neither sent nor received (PROTOCOL.md 10.1, "else" branch), built from
/// Bob's accepted state: it holds its signed prekey as `DHs` and nothing else.
fn fresh_responder(st: &States) -> Sess {
    let mut s = st.bob_accepted.clone();
    s.pending = 0;
    s.dhr = None;
    s.ckr = None;
    s.hkr = None;
    s.nr = 0;
    s.chains.clear();
    assert!(s.cks.is_none() && s.hks.is_none() && s.dhs.is_some());
    session_ok(&s, "fresh responder");
    s
}

fn chain(hk: u8, ns: &[u32], t: u64) -> Chain {
    Chain {
        hk: [hk; 32],
        keys: ns
            .iter()
            .map(|&n| Key {
                n,
                mk: [n as u8; 32],
                stored_at: t,
            })
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Session state (10.1).

#[test]
fn session_state_version_and_type() {
    let st = states(900);
    let mut s = st.bob.clone();
    s.state_version = 2;
    session_bad(&s, "state version 2");
    let mut s = st.bob.clone();
    s.kind = 0x11;
    session_bad(&s, "type 0x11");
}

#[test]
fn session_protocol_version() {
    let st = states(901);
    let mut s = st.bob.clone();
    s.version = 2;
    session_bad(&s, "session version 2");
    s.version = 0;
    session_bad(&s, "session version 0");
}

#[test]
fn session_flags_are_0_or_1() {
    let st = states(902);
    let mut s = st.bob.clone();
    s.initiator = 2;
    session_bad(&s, "initiator flag 2");
    let mut s = st.bob.clone();
    s.pending = 2;
    session_bad(&s, "pending flag 2");
    let mut blob = st.bob.encode();
    assert_eq!(blob[196], 0, "prefix flag");
    blob[196] = 2;
    assert_eq!(
        Session::from_bytes(&blob).map(|_| ()),
        Err(Error::CorruptState),
        "prefix flag 2"
    );
    let mut blob = st.bob.encode();
    let at = st.bob.dhs_flag_offset();
    assert_eq!(blob[at], 1, "DHs flag");
    blob[at] = 3;
    assert_eq!(
        Session::from_bytes(&blob).map(|_| ()),
        Err(Error::CorruptState),
        "DHs flag 3"
    );
}

#[test]
fn session_prefix_must_decode_in_exactly_its_length() {
    let st = states(903);
    let base = &st.sent_initiator;
    let rehash = |s: &mut Sess| {
        s.setup_id = sha2::Sha256::digest(s.prefix.as_ref().unwrap()).into();
    };
    // The prefix's type byte made a ratchet message's, its hash stored: only the decode fails.
    let mut s = base.clone();
    s.prefix.as_mut().unwrap()[1] = 0x03;
    rehash(&mut s);
    session_bad(&s, "prefix of type 3");
    // One byte more than the prefix, hashed: decodes, but not in exactly `pl` bytes.
    let mut s = base.clone();
    s.prefix.as_mut().unwrap().push(0);
    rehash(&mut s);
    session_bad(&s, "prefix with a trailing byte");
}

#[test]
fn session_prefix_hash_is_the_setup_id() {
    let st = states(904);
    let mut s = st.sent_initiator.clone();
    s.setup_id[31] ^= 1;
    session_bad(&s, "setup_id not SHA256(prefix)");
}

#[test]
fn session_counters_at_most_2_pow_24() {
    let st = states(905);
    let cap = MAX_CHAIN_MESSAGES;
    let mut s = st.alice.clone();
    s.ns = cap;
    session_ok(&s, "Ns = 2^24");
    s.ns = cap + 1;
    session_bad(&s, "Ns = 2^24 + 1");
    let mut s = st.alice.clone();
    s.pn = cap;
    session_ok(&s, "PN = 2^24");
    s.pn = cap + 1;
    session_bad(&s, "PN = 2^24 + 1");
    let mut s = st.alice.clone();
    s.nr = cap;
    session_ok(&s, "Nr = 2^24");
    s.nr = cap + 1;
    session_bad(&s, "Nr = 2^24 + 1");
}

#[test]
fn session_at_most_4_skipped_chains() {
    let st = states(906);
    let mut s = st.bob.clone();
    let hkr_chain = s.chains.pop().unwrap();
    for hk in 1..=3 {
        s.chains.push(chain(hk, &[0], 1));
    }
    let t = hkr_chain.keys[0].stored_at;
    for c in &mut s.chains {
        c.keys[0].stored_at = t;
    }
    s.chains.push(hkr_chain.clone());
    session_ok(&s, "4 chains");
    s.chains.insert(0, chain(4, &[0], t));
    session_bad(&s, "5 chains");
}

#[test]
fn session_skipped_chain_header_keys_distinct() {
    let st = states(907);
    let mut s = st.bob.clone();
    let t = s.chains[0].keys[0].stored_at;
    s.chains.insert(0, chain(7, &[0], t));
    session_ok(&s, "two chains");
    s.chains[0].hk = [8; 32];
    s.chains.insert(0, chain(8, &[0], t));
    session_bad(&s, "two chains under one header key");
}

#[test]
fn session_skipped_chain_not_empty() {
    let st = states(908);
    let mut s = st.bob.clone();
    s.chains.insert(0, chain(7, &[], 0));
    session_bad(&s, "empty chain");
}

#[test]
fn session_skipped_chain_at_most_2000_keys() {
    let st = states(909);
    let mut s = st.bob.clone();
    let t = s.chains[0].keys[0].stored_at;
    let n: Vec<u32> = (0..1998).collect();
    s.chains.insert(0, chain(7, &n, t));
    session_ok(&s, "2000 keys in all");
    let n: Vec<u32> = (0..2001).collect();
    s.chains[0] = chain(7, &n, t);
    s.chains.truncate(1);
    s.hkr = Some([7; 32]);
    session_bad(&s, "one chain of 2001 keys");
}

#[test]
fn session_at_most_2000_skipped_keys_in_all() {
    let st = states(910);
    let mut s = st.bob.clone();
    let t = s.chains[0].keys[0].stored_at;
    let n: Vec<u32> = (0..1999).collect();
    s.chains.insert(0, chain(7, &n, t));
    session_bad(&s, "1999 + 2 keys in two chains");
}

#[test]
fn session_skipped_counters_strictly_increase() {
    let st = states(911);
    let mut s = st.bob.clone();
    let k = s.chains[0].keys[0].clone();
    s.chains[0].keys[1].n = k.n;
    session_bad(&s, "equal counters");
    let mut s = st.bob.clone();
    s.chains[0].keys.swap(0, 1);
    session_bad(&s, "descending counters");
}

#[test]
fn session_skipped_times_never_decrease() {
    let st = states(912);
    let mut s = st.bob.clone();
    let t = s.chains[0].keys[0].stored_at;
    s.chains[0].keys[1].stored_at = t + 1;
    session_ok(&s, "later time");
    s.chains[0].keys[1].stored_at = t - 1;
    session_bad(&s, "earlier time in one chain");
    // Across chains: an older chain holding a later time than the newer chain.
    let mut s = st.bob.clone();
    s.chains.insert(0, chain(7, &[0], t + 1));
    session_bad(&s, "earlier time across chains");
}

#[test]
fn session_pending_step_needs_the_peer_ratchet_key() {
    let st = states(913);
    let mut s = st.fresh_initiator.clone();
    assert_eq!(s.pending, 1);
    s.dhr = None;
    session_bad(&s, "pending without DHr");
}

#[test]
fn session_sending_chain_needs_header_key_and_ratchet_key() {
    let st = states(914);
    let mut s = st.alice.clone();
    assert_eq!(s.pending, 0);
    assert!(s.cks.is_some());
    s.hks = None;
    session_bad(&s, "CKs without HKs");
    let mut s = st.alice.clone();
    s.dhs = None;
    session_bad(&s, "CKs without DHs");
}

#[test]
fn session_without_sending_chain_is_a_fresh_responder() {
    let st = states(915);
    let fresh = fresh_responder(&st);
    let mut s = fresh.clone();
    s.hks = Some([3; 32]);
    session_bad(&s, "HKs without CKs");
    let mut s = fresh.clone();
    s.dhr = Some([3; 32]);
    session_bad(&s, "DHr without CKs or a pending step");
    let mut s = fresh.clone();
    s.initiator = 1;
    s.dhs = None;
    session_bad(&s, "no DHs");
    let mut s = fresh.clone();
    s.ns = 1;
    session_bad(&s, "Ns = 1");
    let mut s = fresh;
    s.pn = 1;
    session_bad(&s, "PN = 1");
}

#[test]
fn session_receiving_chain_key_iff_header_key() {
    let st = states(916);
    let mut s = st.alice.clone();
    assert!(s.ckr.is_some() && s.hkr.is_some());
    s.hkr = None;
    session_bad(&s, "CKr without HKr");
    // HKr without CKr, with nothing else received (Nr = 0, no skipped keys).
    let mut s = st.alice.clone();
    assert!(s.chains.is_empty());
    s.ckr = None;
    s.nr = 0;
    session_bad(&s, "HKr without CKr");
}

#[test]
fn session_receiving_chain_needs_the_peer_ratchet_key() {
    let st = states(917);
    let mut s = st.alice.clone();
    assert_eq!(s.pending, 0);
    s.dhr = None;
    session_bad(&s, "CKr without DHr");
}

#[test]
fn session_nothing_received_means_no_counter_and_no_skipped_keys() {
    let st = states(918);
    let mut s = st.sent_initiator.clone();
    assert!(s.ckr.is_none());
    s.nr = 1;
    session_bad(&s, "Nr = 1 without CKr");
    let mut s = st.sent_initiator.clone();
    s.chains.push(chain(7, &[0], 1));
    session_bad(&s, "skipped keys without CKr");
}

#[test]
fn session_no_skipped_chain_under_the_next_header_key() {
    let st = states(919);
    let mut s = st.bob.clone();
    let t = s.chains[0].keys[0].stored_at;
    s.chains.insert(0, chain(7, &[0], t));
    session_ok(&s, "older chain");
    s.chains[0].hk = s.nhkr;
    session_bad(&s, "chain under NHKr");
}

#[test]
fn session_chain_of_the_current_header_key_is_last() {
    let st = states(920);
    let mut s = st.bob.clone();
    let t = s.chains[0].keys[0].stored_at;
    s.chains.push(chain(7, &[0], t));
    session_bad(&s, "HKr's chain before another");
}

#[test]
fn session_role_only_an_initiator_repeats_a_prefix_or_lacks_a_ratchet_key() {
    let st = states(921);
    let mut s = st.sent_initiator.clone();
    s.initiator = 0;
    session_bad(&s, "responder with a prefix");
    // Without a prefix the fresh initiator (DHs absent, pending) restores; as a responder not.
    let mut s = st.fresh_initiator.clone();
    s.prefix = None;
    session_ok(&s, "initiator without DHs");
    s.initiator = 0;
    session_bad(&s, "responder without DHs");
}

#[test]
fn session_trailing_and_missing_bytes() {
    let st = states(922);
    let blob = st.bob.encode();
    let mut long = blob.clone();
    long.push(0);
    assert_eq!(
        Session::from_bytes(&long).map(|_| ()),
        Err(Error::CorruptState)
    );
    assert_eq!(
        Session::from_bytes(&blob[..blob.len() - 1]).map(|_| ()),
        Err(Error::CorruptState)
    );
}

// ---------------------------------------------------------------------------------------------
// Device state (10.2).

#[test]
fn device_state_version_and_type() {
    let st = states(930);
    let mut d = st.device.clone();
    d.head[0] = 2;
    device_bad(&d, "state version 2");
    let mut d = st.device.clone();
    d.head[1] = 0x10;
    device_bad(&d, "type 0x10");
}

#[test]
fn device_one_or_two_signed_prekeys() {
    let st = states(931);
    let mut d = st.device.clone();
    d.spks.clear();
    d.replay.clear();
    device_bad(&d, "no signed prekey");
    let mut d = st.device.clone();
    d.spks.push((d.next_id, [9; 32]));
    d.next_id += 1;
    device_ok(&d, "two signed prekeys");
    d.spks.push((d.next_id, [10; 32]));
    d.next_id += 1;
    device_bad(&d, "three signed prekeys");
}

#[test]
fn device_at_most_1000_one_time_prekeys() {
    let st = states(932);
    let mut d = st.device.clone();
    d.opks.clear();
    for i in 0..1000u32 {
        d.opks.push((d.next_id + i, [(i % 251) as u8 + 1; 32]));
    }
    d.next_id += 1001;
    device_ok(&d, "1000 one-time prekeys");
    d.opks.push((d.next_id - 1, [7; 32]));
    d.next_id += 1;
    device_bad(&d, "1001 one-time prekeys");
}

#[test]
fn device_one_or_two_last_resort_kem_prekeys() {
    let st = states(933);
    let mut d = st.device.clone();
    d.last_resort.clear();
    d.replay.clear();
    device_bad(&d, "no last-resort prekey");
    let mut d = st.device.clone();
    for _ in 0..2 {
        d.last_resort.push((d.next_id, vec![9; 64]));
        d.next_id += 1;
    }
    device_bad(&d, "three last-resort prekeys");
    d.last_resort.remove(0);
    d.replay.clear();
    device_ok(&d, "two last-resort prekeys");
}

#[test]
fn device_at_most_1000_one_time_kem_prekeys() {
    let st = states(934);
    let mut d = st.device.clone();
    let first = d.next_id;
    d.one_time_kem = (0..1001u32).map(|i| (first + i, vec![5; 64])).collect();
    d.next_id += 1002;
    device_bad(&d, "1001 one-time ML-KEM prekeys");
    d.one_time_kem.pop();
    device_ok(&d, "1000 one-time ML-KEM prekeys");
}

#[test]
fn device_prekey_ids_strictly_increase_from_1() {
    let st = states(935);
    let mut d = st.device.clone();
    assert_eq!(d.opks.len(), 2);
    d.opks.swap(0, 1);
    device_bad(&d, "one-time prekeys descending");
    let mut d = st.device.clone();
    d.opks[1].0 = d.opks[0].0;
    device_bad(&d, "one-time prekey id repeated");
    let mut d = st.device.clone();
    d.one_time_kem.swap(0, 1);
    device_bad(&d, "one-time ML-KEM prekeys descending");
    // Id 0 is never issued: a signed prekey with id 0 (first in its list).
    let mut d = st.device.clone();
    d.replay.clear();
    d.spks = vec![(0, d.spks[0].1)];
    device_bad(&d, "signed prekey id 0");
}

#[test]
fn device_prekey_ids_below_the_next_id() {
    let st = states(936);
    let mut d = st.device.clone();
    let highest = d.one_time_kem.last().unwrap().0;
    assert_eq!(d.next_id, highest + 1);
    d.next_id = highest;
    device_bad(&d, "highest id equals next_prekey_id");
}

#[test]
fn device_prekey_ids_unique_across_lists() {
    let st = states(937);
    let mut d = st.device.clone();
    d.opks[0].0 = d.last_resort[0].0;
    d.opks.sort();
    device_bad(
        &d,
        "one-time prekey with the last-resort ML-KEM prekey's id",
    );
}

#[test]
fn device_at_most_4096_replay_entries() {
    let st = states(938);
    let mut d = st.device.clone();
    let (spk, kem, t) = (d.replay[0].1, d.replay[0].2, d.replay[0].3);
    d.replay = (0..4096u32)
        .map(|i| {
            let mut id = [0u8; 32];
            id[..4].copy_from_slice(&i.to_be_bytes());
            (id, spk, kem, t)
        })
        .collect();
    device_ok(&d, "4096 entries");
    let mut id = [0xffu8; 32];
    id[0] = 0xfe;
    d.replay.push((id, spk, kem, t));
    device_bad(&d, "4097 entries");
}

#[test]
fn device_replay_setup_ids_strictly_increase() {
    let st = states(939);
    let mut d = st.device.clone();
    let e = d.replay[0];
    let mut later = e;
    later.0[31] = later.0[31].wrapping_add(1);
    assert!(later.0 > e.0, "pick a greater id");
    d.replay.push(later);
    device_ok(&d, "two entries ascending");
    d.replay.swap(0, 1);
    device_bad(&d, "descending setup ids");
    d.replay[0] = e;
    device_bad(&d, "equal setup ids");
}

#[test]
fn device_replay_entry_names_a_held_signed_prekey() {
    let st = states(940);
    let mut d = st.device.clone();
    d.replay[0].1 = d.opks[0].0;
    device_bad(&d, "spk id of a one-time prekey");
}

#[test]
fn device_replay_entry_names_a_held_last_resort_kem_prekey() {
    let st = states(941);
    let mut d = st.device.clone();
    d.replay[0].2 = d.one_time_kem[0].0;
    device_bad(&d, "kem id of a one-time ML-KEM prekey");
    let mut d = st.device.clone();
    d.replay[0].2 = d.spks[0].0;
    device_bad(&d, "kem id of the signed prekey");
}

#[test]
fn device_at_most_1000_sessions() {
    let st = states(942);
    let mut d = st.device.clone();
    let blob = d.sessions[0].1.clone();
    d.sessions = (0..1000u32)
        .map(|i| (format!("peer{i:04}").into_bytes(), blob.clone()))
        .collect();
    device_ok(&d, "1000 sessions");
    d.sessions.push((b"peer9999".to_vec(), blob));
    device_bad(&d, "1001 sessions");
}

#[test]
fn device_peer_id_of_1_to_64_bytes() {
    let st = states(943);
    let mut d = st.device.clone();
    d.sessions[0].0 = vec![b'x'; 64];
    device_ok(&d, "64-byte peer id");
    d.sessions[0].0 = vec![b'x'; 65];
    device_bad(&d, "65-byte peer id");
    d.sessions[0].0 = Vec::new();
    device_bad(&d, "empty peer id");
}

#[test]
fn device_peer_ids_strictly_increase() {
    let st = states(944);
    let mut d = st.device.clone();
    let s = d.sessions[0].1.clone();
    d.sessions = vec![(b"a".to_vec(), s.clone()), (b"aa".to_vec(), s.clone())];
    device_ok(&d, "a proper prefix sorts first");
    d.sessions.swap(0, 1);
    device_bad(&d, "descending peer ids");
    d.sessions[0].0 = b"a".to_vec();
    device_bad(&d, "equal peer ids");
}

#[test]
fn device_sessions_pass_the_session_checks() {
    let st = states(945);
    let mut d = st.device.clone();
    let mut s = Sess::parse(&d.sessions[0].1);
    s.nr = MAX_CHAIN_MESSAGES + 1;
    d.sessions[0].1 = s.encode();
    device_bad(&d, "embedded session with Nr = 2^24 + 1");
}

#[test]
fn device_trailing_and_missing_bytes() {
    let st = states(946);
    let blob = st.device.encode();
    let mut long = blob.clone();
    long.push(0);
    assert_eq!(
        Device::from_bytes(&long).map(|_| ()),
        Err(Error::CorruptState)
    );
    assert_eq!(
        Device::from_bytes(&blob[..blob.len() - 1]).map(|_| ()),
        Err(Error::CorruptState)
    );
    assert_eq!(
        Device::from_bytes(&[]).map(|_| ()),
        Err(Error::CorruptState)
    );
}

// ---------------------------------------------------------------------------------------------
// Checks of encrypt and of the device operations that only a restored state can reach
// (11.2, "Encrypt" and "Other device operations"), and the two device caps of `accept`.

const LOW_ORDER: [u8; 32] = [
    0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
    0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
];

fn encrypt(s: &Sess, seed: u64) -> Result<Vec<u8>, Error> {
    let mut session = Session::from_bytes(&s.encode()).unwrap();
    let before = session.to_bytes();
    let got = session.encrypt(&out(b"x"), T0, &mut rng(seed));
    if got.is_err() {
        assert_eq!(*session.to_bytes(), *before, "state changed on {got:?}");
    }
    got
}

#[test]
fn encrypt_without_a_sending_chain_is_corrupt_state() {
    let st = states(950);
    assert_eq!(encrypt(&fresh_responder(&st), 1), Err(Error::CorruptState));
    assert!(encrypt(&st.bob_accepted, 1).is_ok());
}

#[test]
fn encrypt_with_a_low_order_peer_ratchet_key_is_unauthentic() {
    let st = states(951);
    let mut s = st.fresh_initiator.clone();
    assert!(encrypt(&s, 1).is_ok());
    s.dhr = Some(LOW_ORDER);
    session_ok(&s, "low-order DHr restores");
    assert_eq!(encrypt(&s, 1), Err(Error::Unauthentic));
}

#[test]
fn encrypt_past_the_chain_cap_is_too_many_skipped() {
    let st = states(952);
    let mut s = st.alice.clone();
    assert_eq!(s.pending, 0);
    s.ns = MAX_CHAIN_MESSAGES - 1;
    assert!(encrypt(&s, 1).is_ok());
    s.ns = MAX_CHAIN_MESSAGES;
    assert_eq!(encrypt(&s, 1), Err(Error::TooManySkipped));
}

/// `d` with `count` copies of its first session under new peer names (none named "alice" or
/// "bob").
fn with_sessions(d: &Dev, count: usize) -> Device {
    let mut d = d.clone();
    let blob = d.sessions[0].1.clone();
    d.sessions = (0..count)
        .map(|i| (format!("peer{i:04}").into_bytes(), blob.clone()))
        .collect();
    Device::from_bytes(&d.encode()).unwrap()
}

#[test]
fn initiate_to_a_new_peer_with_1000_sessions_is_refused() {
    let mut rng = rng(953);
    let p = new_pair(&mut rng, Prekeys::NONE);
    let bundle =
        target_impl::VerifiedBundle::import(&p.bob.prekey_bundle().unwrap().to_bytes()).unwrap();
    let alice = Dev::parse(&p.alice.to_bytes());
    let mut full = with_sessions(&alice, 1000);
    let before = full.to_bytes();
    assert_eq!(
        full.initiate(&bob_name(), &bundle, &mut rng),
        Err(Error::TooManySkipped)
    );
    assert_eq!(*full.to_bytes(), *before);
    // A peer it already has a session with: replaced, allowed.
    let known = target_impl::PeerId::new("peer0000").unwrap();
    full.initiate(&known, &bundle, &mut rng).unwrap();
    let mut room = with_sessions(&alice, 999);
    room.initiate(&bob_name(), &bundle, &mut rng).unwrap();
}

/// Bob's device from a pair (Alice initiated, nothing sent) edited by `edit`, and Alice's first
/// (reusable-only) initial message.
fn bob_edited(seed: u64, edit: impl Fn(&mut Dev)) -> (Device, Vec<u8>) {
    let mut rng = rng(seed);
    let mut p = new_pair(&mut rng, Prekeys::NONE);
    let m0 = p.a_send(b"m0", T0, &mut rng);
    // Bob needs one session to copy: one with Carol.
    let mut carol = Device::generate(&mut rng).unwrap();
    let bundle =
        target_impl::VerifiedBundle::import(&p.bob.prekey_bundle().unwrap().to_bytes()).unwrap();
    carol.initiate(&bob_name(), &bundle, &mut rng).unwrap();
    let c0 = carol
        .session_mut(&bob_name())
        .unwrap()
        .encrypt(&out(b"c0"), T0, &mut rng)
        .unwrap();
    p.bob
        .decrypt(&target_impl::PeerId::new("carol").unwrap(), &c0, T0)
        .unwrap();
    let mut d = Dev::parse(&p.bob.to_bytes());
    edit(&mut d);
    (Device::from_bytes(&d.encode()).unwrap(), m0)
}

fn accept(bob: &mut Device, m0: &[u8]) -> Result<(), Error> {
    let before = bob.to_bytes();
    let got = bob.decrypt(&alice_name(), m0, T0).map(|_| ());
    if got.is_err() {
        assert_eq!(*bob.to_bytes(), *before, "state changed on {got:?}");
    }
    got
}

#[test]
fn accept_from_a_new_peer_with_1000_sessions_is_refused() {
    let sessions = |count: usize| {
        move |d: &mut Dev| {
            let blob = d.sessions[0].1.clone();
            d.sessions = (0..count)
                .map(|i| (format!("peer{i:04}").into_bytes(), blob.clone()))
                .collect();
        }
    };
    let (mut bob, m0) = bob_edited(954, sessions(1000));
    assert_eq!(accept(&mut bob, &m0), Err(Error::TooManySkipped));
    let (mut bob, m0) = bob_edited(954, sessions(999));
    accept(&mut bob, &m0).unwrap();
}

/// PROTOCOL.md 6.4 step 13: a full replay cache evicts its oldest entry and raises the floor to
/// that entry's `sent_at`; a message the raised floor would refuse is refused before anything
/// changes.
#[test]
fn accept_with_a_full_replay_cache_evicts_the_oldest() {
    let fill = |count: usize, sent_at: u64| {
        move |d: &mut Dev| {
            let (spk, kem) = (d.replay[0].1, d.replay[0].2);
            d.replay = (0..count as u32)
                .map(|i| {
                    let mut id = [0u8; 32];
                    id[..4].copy_from_slice(&i.to_be_bytes());
                    (id, spk, kem, sent_at + u64::from(i))
                })
                .collect();
        }
    };
    // Full, every entry older than Alice's message: the oldest goes, the floor is its time.
    let (mut bob, m0) = bob_edited(955, fill(4096, T0 - 5000));
    accept(&mut bob, &m0).unwrap();
    let after = Dev::parse(&bob.to_bytes());
    assert_eq!(after.replay.len(), 4096);
    assert_eq!(after.replay_floor, T0 - 5000);
    assert!(after.replay.iter().all(|e| e.3 > T0 - 5000));
    assert!(
        after.replay.iter().any(|e| e.3 == T0),
        "Alice's entry is in"
    );
    // Full, and the oldest entry is as new as Alice's message: the floor it would set refuses her.
    let (mut bob, m0) = bob_edited(955, fill(4096, T0));
    assert_eq!(accept(&mut bob, &m0), Err(Error::Replay));
    // One place left: nothing evicted, the floor stays.
    let (mut bob, m0) = bob_edited(955, fill(4095, T0));
    accept(&mut bob, &m0).unwrap();
    assert_eq!(Dev::parse(&bob.to_bytes()).replay_floor, 0);
}

fn device_with_next_id(next_id: u32) -> Device {
    let st = states(956);
    let mut d = st.device.clone();
    d.next_id = next_id;
    Device::from_bytes(&d.encode()).unwrap()
}

/// The draw happens before the id allocation (5.1): the refused rotation has drawn, and
/// changed nothing.
#[test]
fn rotation_with_exhausted_ids_is_refused() {
    for kem in [false, true] {
        let rotate = |d: &mut Device, seed| {
            let mut r = rng(seed);
            if kem {
                d.rotate_last_resort_kem_prekey(&mut r)
            } else {
                d.rotate_signed_prekey(&mut r)
            }
        };
        let mut d = device_with_next_id(u32::MAX);
        let before = d.to_bytes();
        assert_eq!(rotate(&mut d, 1), Err(Error::TooManySkipped), "kem {kem}");
        assert_eq!(*d.to_bytes(), *before);
        let mut d = device_with_next_id(u32::MAX - 1);
        rotate(&mut d, 1).unwrap();
    }
}

#[test]
fn one_time_additions_with_exhausted_ids_are_refused() {
    use rand_core::Rng;
    for kem in [false, true] {
        let add = |d: &mut Device, count, r: &mut rand_chacha::ChaCha20Rng| {
            if kem {
                d.add_one_time_kem_prekeys(count, r)
            } else {
                d.add_one_time_prekeys(count, r)
            }
        };
        let mut d = device_with_next_id(u32::MAX - 1);
        let before = d.to_bytes();
        let mut r = rng(1);
        assert_eq!(
            add(&mut d, 2, &mut r),
            Err(Error::TooManySkipped),
            "kem {kem}"
        );
        assert_eq!(*d.to_bytes(), *before);
        assert_eq!(r.next_u64(), rng(1).next_u64(), "nothing drawn");
        add(&mut d, 1, &mut r).unwrap();
    }
}

#[test]
fn remove_session_changes_nothing_else() {
    let st = states(957);
    let mut d = Device::from_bytes(&st.device.encode()).unwrap();
    let alice = alice_name();
    assert!(d.remove_session(&alice).is_some());
    assert!(d.remove_session(&alice).is_none());
    let mut want = st.device.clone();
    want.sessions.retain(|(p, _)| p != b"alice");
    // The known identity stays (PROTOCOL.md 6.5): only `forget_peer` drops it.
    let known = st
        .device
        .identities()
        .iter()
        .find(|(p, _)| *p == b"alice")
        .map(|(_, id)| id.to_vec());
    want.pinned.push((b"alice".to_vec(), known.unwrap()));
    assert_eq!(*d.to_bytes(), want.encode());
}
