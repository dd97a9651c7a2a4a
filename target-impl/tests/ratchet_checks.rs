//! The checks of ratchet-message decryption (docs/PROTOCOL.md 7.7, the ratchet-message table of
//! 11.2), each tested with only that one check failing: framing inputs that break one framing
//! rule and satisfy the others, and headers or bodies sealed here under the receiver's genuine
//! keys (read from its state blob) with one field chosen, so that every earlier check passes.
// Helpers outside #[test] functions may fail loudly too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::*;
use target_impl::{Device, Error, MAX_CHAIN_MESSAGES, PeerId, Session, hazmat};

const L_HEADER_KEY: &[u8] = b"ti-v1 header key\0";

const LOW_ORDER: [u8; 32] = [
    0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
    0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00,
];

/// The header AEAD key of a header key: `HEK(hk) = Expand(hk, L_HEADER_KEY, 32)` (7.3).
fn hek(hk: &[u8]) -> [u8; 32] {
    let mut key = [0u8; 32];
    hazmat::hkdf_expand(hk, L_HEADER_KEY, &mut key).unwrap();
    key
}

/// AES-256-GCM under `key` with the message's nonce `r[0:12]` (7.3).
fn seal(key: &[u8; 32], r: &[u8; 16], aad: &[u8], plain: &[u8]) -> Vec<u8> {
    hazmat::aes256gcm_seal(key, r[..12].try_into().unwrap(), aad, plain).unwrap()
}

fn header(dh: &[u8; 32], pn: u32, n: u32) -> Vec<u8> {
    let mut h = dh.to_vec();
    h.extend_from_slice(&pn.to_be_bytes());
    h.extend_from_slice(&n.to_be_bytes());
    h.push(0);
    h
}

fn body(payload: &[u8]) -> Vec<u8> {
    let mut b = vec![1u8];
    b.extend_from_slice(&T0.to_be_bytes());
    b.extend_from_slice(&0u32.to_be_bytes());
    b.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    b.extend_from_slice(payload);
    b.resize(target_impl::padded_len(17 + payload.len()), 0);
    b
}

/// A ratchet message with the given header and body plaintexts under `hk` and `mk`.
fn message(ad: &[u8], hk: &[u8], mk: &[u8], header: &[u8], body: &[u8]) -> Vec<u8> {
    let r = [0x5cu8; 16];
    let mut clear = vec![1u8, 3];
    clear.extend_from_slice(&r);
    clear.push((header.len() + 16) as u8);
    let h = seal(&hek(hk), &r, &[ad, &clear].concat(), header);
    let b = seal(mk.try_into().unwrap(), &r, &[ad, &clear, &h].concat(), body);
    [clear, h, b].concat()
}

/// The receiver's keys, from its session blob (layout of PROTOCOL.md 10.1).
struct Keys {
    ad: Vec<u8>,
    dhr: Option<[u8; 32]>,
    ckr: Option<[u8; 32]>,
    hkr: Option<[u8; 32]>,
    nhkr: [u8; 32],
    nr: u32,
    rk: [u8; 32],
    dhs: [u8; 32],
}

fn keys(session: &Session) -> Keys {
    let blob = session.to_bytes();
    let info = parse_session(&blob);
    let secret = |name: &str| {
        info.secrets
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| -> [u8; 32] { blob[r.clone()].try_into().unwrap() })
    };
    // DHr follows the DHs field: locate it after the prefix and PQ_RESERVE.
    let mut at = 4 + 160 + 32;
    if blob[at] == 1 {
        at += 2 + usize::from(u16::from_be_bytes([blob[at + 1], blob[at + 2]]));
    }
    at += 1 + 32;
    if blob[at] == 1 {
        at += 32;
    }
    at += 1;
    let dhr = (blob[at] == 1).then(|| blob[at + 1..at + 33].try_into().unwrap());
    Keys {
        ad: blob[4..164].to_vec(),
        dhr,
        ckr: secret("ckr"),
        hkr: secret("hkr"),
        nhkr: secret("nhkr").unwrap(),
        nr: info.nr,
        rk: secret("rk").unwrap(),
        dhs: secret("dhs private").unwrap(),
    }
}

/// Bob, with a receiving chain from Alice (Alice's next message starts a new chain).
fn bob(seed: u64) -> (Device, PeerId, Keys) {
    let mut rng = rng(seed);
    let mut p = established(&mut rng, Prekeys::NONE);
    let m = p.a_send(b"one more", T0, &mut rng);
    p.bob_gets(&m, T0).unwrap();
    let k = keys(p.bob.session(&p.a).unwrap());
    assert!(k.ckr.is_some() && k.hkr.is_some() && k.dhr.is_some());
    (p.bob, p.a, k)
}

fn assert_refused(bob: &Device, peer: &PeerId, m: &[u8], want: Error, what: &str) {
    let mut bob = bob.clone();
    let before = bob.to_bytes();
    assert_eq!(bob.decrypt(peer, m, T0).map(|_| ()), Err(want), "{what}");
    assert_eq!(*bob.to_bytes(), *before, "{what}: state changed");
}

fn assert_accepted(bob: &Device, peer: &PeerId, m: &[u8], what: &str) {
    let mut bob = bob.clone();
    bob.decrypt(peer, m, T0)
        .unwrap_or_else(|e| panic!("{what}: {e:?}"));
}

/// The `PN` of Alice's current chain, her second (one message in her first): a responder takes a
/// message without the initial prefix only when `PN ≠ 0` (PROTOCOL.md 7.6, one encoding).
const PN_CURRENT: u32 = 1;

/// The message key for counter `n` of chain `ck`.
fn mk_at(ck: &[u8; 32], n: u32) -> [u8; 32] {
    let mut ck = *ck;
    for _ in 0..n {
        ck = *hazmat::hmac_sha256(&ck, &[2]).unwrap();
    }
    *hazmat::hmac_sha256(&ck, &[1]).unwrap()
}

/// A message in Bob's current receiving chain at counter `n` with ratchet key `dh`.
fn current(k: &Keys, dh: &[u8; 32], n: u32) -> Vec<u8> {
    let mk = mk_at(k.ckr.as_ref().unwrap(), n - k.nr);
    message(
        &k.ad,
        k.hkr.as_ref().unwrap(),
        &mk,
        &header(dh, PN_CURRENT, n),
        &body(b"x"),
    )
}

// ---------------------------------------------------------------------------------------------
// Rows 1–8: the device's dispatch and the framing, one rule at a time.

#[test]
fn device_needs_two_bytes_and_a_message_type() {
    let (bob, a, k) = bob(1100);
    let good = current(&k, k.dhr.as_ref().unwrap(), k.nr);
    assert_accepted(&bob, &a, &good, "genuine");
    assert_refused(&bob, &a, &[], Error::Malformed, "empty");
    assert_refused(&bob, &a, &[1], Error::Malformed, "one byte");
    for t in [0u8, 1, 4, 0xff] {
        let mut m = good.clone();
        m[1] = t;
        assert_refused(&bob, &a, &m, Error::Malformed, &format!("type {t}"));
    }
}

#[test]
fn framing_version_alone() {
    let (bob, a, k) = bob(1101);
    let good = current(&k, k.dhr.as_ref().unwrap(), k.nr);
    for v in [0u8, 2, 0x81] {
        let mut m = good.clone();
        m[0] = v;
        assert_refused(&bob, &a, &m, Error::Malformed, &format!("version {v}"));
    }
    assert_refused(&bob, &a, &good[..18], Error::Malformed, "18 bytes");
}

/// `hlen` out of 57..=121 with the total length chosen so that the body length is still a
/// padded length: only the range check fails.
#[test]
fn framing_header_length_range_alone() {
    let (bob, a, k) = bob(1102);
    let good = current(&k, k.dhr.as_ref().unwrap(), k.nr);
    assert_eq!(good.len(), 19 + 57 + 64 + 16);
    for hlen in [56usize, 122, 0xff] {
        let mut m = good[..19].to_vec();
        m[18] = hlen as u8;
        m.resize(19 + hlen + 64 + 16, 0);
        assert!(!ratchet_framing_ok(&m));
        assert_refused(&bob, &a, &m, Error::Malformed, &format!("hlen {hlen}"));
    }
    // 121 is accepted by framing (and then fails authentication).
    let mut m = good[..19].to_vec();
    m[18] = 121;
    m.resize(19 + 121 + 64 + 16, 0);
    assert!(ratchet_framing_ok(&m));
    assert_refused(&bob, &a, &m, Error::Unauthentic, "hlen 121");
}

#[test]
fn framing_length_covers_header_and_tag() {
    let (bob, a, k) = bob(1103);
    let good = current(&k, k.dhr.as_ref().unwrap(), k.nr);
    for len in [19, 19 + 57, 19 + 57 + 15] {
        assert_refused(
            &bob,
            &a,
            &good[..len],
            Error::Malformed,
            &format!("{len} bytes"),
        );
    }
}

#[test]
fn framing_body_length_is_padded_alone() {
    let (bob, a, k) = bob(1104);
    let good = current(&k, k.dhr.as_ref().unwrap(), k.nr);
    for extra in [1usize, 63] {
        let mut m = good.clone();
        m.extend(std::iter::repeat_n(0, extra));
        assert_refused(
            &bob,
            &a,
            &m,
            Error::Malformed,
            &format!("{extra} more bytes"),
        );
    }
    let mut m = good.clone();
    m.extend(std::iter::repeat_n(0, 64));
    assert_refused(&bob, &a, &m, Error::Unauthentic, "body of 128: framed");
}

// ---------------------------------------------------------------------------------------------
// Rows 2–4 and 9: a prefix given to a session, a message with no session.

#[test]
fn session_refuses_a_prefix_of_another_setup() {
    let mut rng = rng(1105);
    let mut p = new_pair(&mut rng, Prekeys::NONE);
    let first = p.a_send(b"first", T0, &mut rng);
    let second = p.a_send(b"second", T0, &mut rng);
    p.bob_gets(&first, T0).unwrap();
    let mut q = new_pair(&mut rng, Prekeys::NONE);
    let other = q.a_send(b"other", T0, &mut rng);
    let plen = initial_prefix_len(&second).unwrap();
    // Another setup's prefix in front of this session's own ratchet message.
    let mut m = other[..plen].to_vec();
    m.extend_from_slice(&second[plen..]);
    let mut s = p.bob.session(&p.a).unwrap().clone();
    let before = s.to_bytes();
    assert_eq!(s.decrypt(&m, T0).map(|_| ()), Err(Error::Unauthentic));
    assert_eq!(*s.to_bytes(), *before);
    // The session's own prefix: decrypts.
    assert_eq!(&s.decrypt(&second, T0).unwrap().payload[..], b"second");
    // A prefix that does not decode, or a bad ratchet part after the own prefix: Malformed.
    let mut s = p.bob.session(&p.a).unwrap().clone();
    let mut bad = second.clone();
    bad[OPK_FLAG_OFFSET] = 2;
    assert_eq!(s.decrypt(&bad, T0).map(|_| ()), Err(Error::Malformed));
    assert_eq!(
        s.decrypt(&second[..second.len() - 1], T0).map(|_| ()),
        Err(Error::Malformed)
    );
}

#[test]
fn ratchet_message_needs_a_session() {
    let (bob, a, k) = bob(1106);
    let good = current(&k, k.dhr.as_ref().unwrap(), k.nr);
    assert_accepted(&bob, &a, &good, "from alice");
    let mallory = PeerId::new("mallory").unwrap();
    assert_refused(&bob, &mallory, &good, Error::Unauthentic, "no session");
}

// ---------------------------------------------------------------------------------------------
// Rows 10–20: headers and bodies sealed under Bob's keys.

#[test]
fn header_that_opens_but_does_not_parse_is_unauthentic() {
    let (bob, a, k) = bob(1107);
    let mk = mk_at(k.ckr.as_ref().unwrap(), 0);
    let hk = k.hkr.unwrap();
    let dh = k.dhr.unwrap();
    let good = message(&k.ad, &hk, &mk, &header(&dh, PN_CURRENT, k.nr), &body(b"x"));
    assert_accepted(&bob, &a, &good, "genuine");
    let mut ext65 = header(&dh, PN_CURRENT, k.nr);
    *ext65.last_mut().unwrap() = 65;
    let mut short = header(&dh, PN_CURRENT, k.nr);
    *short.last_mut().unwrap() = 1;
    let mut long = header(&dh, PN_CURRENT, k.nr);
    long.push(0);
    for (what, h) in [
        ("extension length 65", ext65),
        ("extension length 1, no byte", short),
        ("one byte after the extension", long),
    ] {
        let m = message(&k.ad, &hk, &mk, &h, &body(b"x"));
        assert!(ratchet_framing_ok(&m), "{what}");
        assert_refused(&bob, &a, &m, Error::Unauthentic, what);
    }
    // A header under no candidate key.
    let m = message(
        &k.ad,
        &[9; 32],
        &mk,
        &header(&dh, PN_CURRENT, k.nr),
        &body(b"x"),
    );
    assert_refused(&bob, &a, &m, Error::Unauthentic, "unknown header key");
}

#[test]
fn current_candidate_needs_the_same_ratchet_key() {
    let (bob, a, k) = bob(1108);
    let m = current(&k, &[7; 32], k.nr);
    assert_refused(
        &bob,
        &a,
        &m,
        Error::Unauthentic,
        "other ratchet key under HKr",
    );
}

#[test]
fn current_chain_counter_below_2_pow_24() {
    // Nr set to 2^24 − 1 in Bob's blob (a state that restores): then N = 2^24 skips one key.
    let (bob, a, _) = bob(1109);
    let mut blob = bob.to_bytes().to_vec();
    let info = parse_device(&blob);
    let s = info.session(b"alice");
    let nr_at = s.secrets.iter().find(|(n, _)| n == "nhkr").unwrap().1.end + 4;
    assert_eq!(
        u32::from_be_bytes(blob[nr_at..nr_at + 4].try_into().unwrap()),
        s.nr
    );
    blob[nr_at..nr_at + 4].copy_from_slice(&(MAX_CHAIN_MESSAGES - 1).to_be_bytes());
    let bob = Device::from_bytes(&blob).unwrap();
    let mut k = keys(bob.session(&a).unwrap());
    // The chain key in the blob is that of Nr; derive as if it were.
    assert_eq!(k.nr, MAX_CHAIN_MESSAGES - 1);
    let dh = k.dhr.unwrap();
    assert_accepted(
        &bob,
        &a,
        &current(&k, &dh, MAX_CHAIN_MESSAGES - 1),
        "N = 2^24 - 1",
    );
    k.nr = MAX_CHAIN_MESSAGES - 1;
    let m = current(&k, &dh, MAX_CHAIN_MESSAGES);
    assert_refused(&bob, &a, &m, Error::TooManySkipped, "N = 2^24");
}

/// A message under the next header key (a new chain), its body sealed under the message key
/// Bob derives from it (7.7 `NEXT`: `KDF_RK(RK, DH(DHs, key))`, then the new chain to `n`), so
/// that only the check under test can refuse it.
fn next(k: &Keys, dh: &[u8; 32], pn: u32, n: u32) -> Vec<u8> {
    let shared = hazmat::x25519(&k.dhs, dh).map_or([0; 32], |s| *s);
    let prk = hazmat::hkdf_extract(&k.rk, &shared);
    let mut okm = [0u8; 96];
    hazmat::hkdf_expand(prk.as_slice(), b"ti-v1 root\0", &mut okm).unwrap();
    let ck: [u8; 32] = okm[32..64].try_into().unwrap();
    let mk = mk_at(&ck, n.min(2000));
    message(&k.ad, &k.nhkr, &mk, &header(dh, pn, n), &body(b"x"))
}

#[test]
fn next_candidate_needs_a_new_ratchet_key() {
    let (bob, a, k) = bob(1110);
    let m = next(&k, k.dhr.as_ref().unwrap(), k.nr, 0);
    assert_refused(
        &bob,
        &a,
        &m,
        Error::Unauthentic,
        "the current DHr under NHKr",
    );
    // With a new key: accepted.
    let m = next(&k, &[7; 32], k.nr, 0);
    assert_accepted(&bob, &a, &m, "new ratchet key");
}

#[test]
fn next_candidate_closing_chain_caps() {
    let (bob, a, k) = bob(1111);
    let m = next(&k, &[7; 32], k.nr + 1001, 0);
    assert_refused(&bob, &a, &m, Error::TooManySkipped, "PN = Nr + 1001");
    let m = next(&k, &[7; 32], MAX_CHAIN_MESSAGES, 0);
    assert_refused(&bob, &a, &m, Error::TooManySkipped, "PN = 2^24");
    let m = next(&k, &[7; 32], k.nr + 1000, 0);
    assert_accepted(&bob, &a, &m, "PN = Nr + 1000");
}

#[test]
fn next_candidate_new_chain_caps() {
    let (bob, a, k) = bob(1112);
    let m = next(&k, &[7; 32], k.nr, 1001);
    assert_refused(&bob, &a, &m, Error::TooManySkipped, "N = 1001");
    let m = next(&k, &[7; 32], k.nr, MAX_CHAIN_MESSAGES);
    assert_refused(&bob, &a, &m, Error::TooManySkipped, "N = 2^24");
    let m = next(&k, &[7; 32], k.nr, 1000);
    assert_accepted(&bob, &a, &m, "N = 1000");
}

#[test]
fn next_candidate_low_order_ratchet_key() {
    let (bob, a, k) = bob(1113);
    for point in [LOW_ORDER, [0; 32]] {
        assert!(
            hazmat::x25519(&[1; 32], &point).is_err(),
            "a low-order point"
        );
        let m = next(&k, &point, k.nr, 0);
        assert_refused(&bob, &a, &m, Error::Unauthentic, "low-order ratchet key");
    }
}

#[test]
fn body_tag_must_verify() {
    let (bob, a, k) = bob(1114);
    let dh = k.dhr.unwrap();
    let mut m = current(&k, &dh, k.nr);
    assert_accepted(&bob, &a, &m, "genuine");
    let last = m.len() - 1;
    m[last] ^= 1;
    assert_refused(&bob, &a, &m, Error::Unauthentic, "body tag");
    // Sealed under another message's key.
    let mk = mk_at(k.ckr.as_ref().unwrap(), 1);
    let m = message(
        &k.ad,
        &k.hkr.unwrap(),
        &mk,
        &header(&dh, PN_CURRENT, k.nr),
        &body(b"x"),
    );
    assert_refused(&bob, &a, &m, Error::Unauthentic, "body under the next key");
}

#[test]
fn body_that_opens_but_does_not_parse_is_malformed() {
    let (bob, a, k) = bob(1115);
    let dh = k.dhr.unwrap();
    let mk = mk_at(k.ckr.as_ref().unwrap(), 0);
    let seal_body = |b: &[u8]| {
        message(
            &k.ad,
            &k.hkr.unwrap(),
            &mk,
            &header(&dh, PN_CURRENT, k.nr),
            b,
        )
    };
    assert_accepted(&bob, &a, &seal_body(&body(b"x")), "genuine");
    let mut padding = body(b"x");
    *padding.last_mut().unwrap() = 1;
    let mut length = body(b"x");
    length[13..17].copy_from_slice(&100u32.to_be_bytes());
    let mut overpadded = body(b"x");
    overpadded.resize(128, 0);
    // The receiver's payload cap alone: a body of the largest framed length whose payload
    // length is one over the cap (every other body rule holds).
    let mut over_cap = body(b"x");
    over_cap.resize(target_impl::MAX_PADDED_BODY_LEN, 0);
    let l = target_impl::MAX_PAYLOAD_LEN + 1;
    over_cap[13..17].copy_from_slice(&(l as u32).to_be_bytes());
    assert_eq!(target_impl::padded_len(17 + l), over_cap.len());
    for (what, b) in [
        ("padding byte 1", padding),
        ("payload length past the body", length),
        ("padded past its bucket", overpadded),
        ("payload length over the cap", over_cap),
    ] {
        assert_refused(&bob, &a, &seal_body(&b), Error::Malformed, what);
    }
}
