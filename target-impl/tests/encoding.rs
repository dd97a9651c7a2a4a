//! One encoding per message: the initial-message prefix is accepted only by the responder, only
//! on messages of the initiator's first sending chain, where it is required. Every re-encoding
//! of an honest transcript's messages (prefix added, removed, doubled, cut, or taken from another
//! setup, in either direction) is refused and leaves the receiver's state unchanged.
// Helpers outside #[test] functions may fail loudly too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use common::*;
use target_impl::{Device, Error, INITIAL_PREFIX_LEN_WITHOUT_OPK, PeerId, VerifiedBundle};

/// Length of the prefix at the front of an initial message (4 more with a one-time prekey id).
fn prefix_len(m: &[u8]) -> usize {
    assert_eq!(m[1], INITIAL_TYPE);
    INITIAL_PREFIX_LEN_WITHOUT_OPK + 4 * usize::from(m[OPK_FLAG_OFFSET])
}

fn prefix(m: &[u8]) -> Vec<u8> {
    m[..prefix_len(m)].to_vec()
}

fn strip(m: &[u8]) -> Vec<u8> {
    m[prefix_len(m)..].to_vec()
}

fn cat(a: &[u8], b: &[u8]) -> Vec<u8> {
    [a, b].concat()
}

/// Asserts that `receiver` refuses `wire` from `peer` with `want` and keeps its state.
fn refused(receiver: &mut Device, peer: &PeerId, what: &str, wire: &[u8], want: Error) {
    let before = receiver.to_bytes();
    let got = receiver.decrypt(peer, wire, T0).map(|m| m.payload.to_vec());
    assert_eq!(got, Err(want), "{what}");
    assert_eq!(*receiver.to_bytes(), *before, "{what}: state changed");
}

/// A prefix from another setup: Carol initiates to Bob with the same bundle.
fn foreign_prefix(seed: u64, bob: &Device) -> Vec<u8> {
    let mut rng = rng(seed);
    let mut carol = Device::generate(&mut rng).unwrap();
    let bundle = VerifiedBundle::import(&bob.prekey_bundle().unwrap().to_bytes()).unwrap();
    carol.initiate(&bob_name(), &bundle, &mut rng).unwrap();
    let m = carol
        .session_mut(&bob_name())
        .unwrap()
        .encrypt(&out(b"carol"), T0, &mut rng)
        .unwrap();
    prefix(&m)
}

fn every_re_encoding_is_refused(seed: u64, prekeys: Prekeys) {
    let mut rng = rng(seed);
    let mut p = new_pair(&mut rng, prekeys);
    let (a, b) = (p.a.clone(), p.b.clone());
    // Alice's first chain: a0, a1, a2 (prefixed). Bob gets a0 and a2 (a1's key is stored).
    let a0 = p.a_send(b"a0", T0, &mut rng);
    let a1 = p.a_send(b"a1", T0, &mut rng);
    let a2 = p.a_send(b"a2", T0, &mut rng);
    let pre = prefix(&a0);
    assert_eq!(prefix(&a1), pre);
    let other = foreign_prefix(seed + 1, &p.bob);

    // Before Bob has anything: the prefix is required on the first message.
    refused(
        &mut p.bob,
        &a,
        "a0 without prefix, no session",
        &strip(&a0),
        Error::Unauthentic,
    );
    refused(
        &mut p.bob,
        &a,
        "a0 with a doubled prefix",
        &cat(&pre, &a0),
        Error::Malformed,
    );
    refused(
        &mut p.bob,
        &a,
        "a0's ratchet part under another setup's prefix",
        &cat(&other, &strip(&a0)),
        Error::Unauthentic,
    );
    refused(
        &mut p.bob,
        &a,
        "a0 with a cut prefix",
        &cat(&pre[..pre.len() - 1], &strip(&a0)),
        Error::Malformed,
    );
    assert_eq!(&p.bob_gets(&a0, T0).unwrap().payload[..], b"a0");
    assert_eq!(&p.bob_gets(&a2, T0).unwrap().payload[..], b"a2");

    // Bob's first chain: b0, b1. Alice still prefixes (she has received nothing).
    let b0 = p.b_send(b"b0", T0, &mut rng);
    let b1 = p.b_send(b"b1", T0, &mut rng);
    // The initiator never accepts a prefix: her own prefix on Bob's messages, or another's.
    refused(
        &mut p.alice,
        &b,
        "b0 under Alice's own prefix",
        &cat(&pre, &b0),
        Error::Malformed,
    );
    refused(
        &mut p.alice,
        &b,
        "b0 under a doubled prefix",
        &cat(&cat(&pre, &pre), &b0),
        Error::Malformed,
    );
    refused(
        &mut p.alice,
        &b,
        "b0 under another setup's prefix",
        &cat(&other, &b0),
        Error::Unauthentic,
    );
    // First-chain messages lose nothing to the responder's refusals.
    refused(
        &mut p.bob,
        &a,
        "a1 without prefix (stored key)",
        &strip(&a1),
        Error::Unauthentic,
    );
    refused(
        &mut p.bob,
        &a,
        "a1 with a doubled prefix",
        &cat(&pre, &a1),
        Error::Malformed,
    );
    refused(
        &mut p.bob,
        &a,
        "Bob's own b0 under Alice's prefix",
        &cat(&pre, &b0),
        Error::Unauthentic,
    );
    assert_eq!(&p.alice_gets(&b0, T0).unwrap().payload[..], b"b0");
    refused(
        &mut p.alice,
        &b,
        "b1 under Alice's old prefix",
        &cat(&pre, &b1),
        Error::Malformed,
    );

    // Alice's second chain (no prefix): a3, a4.
    let a3 = p.a_send(b"a3", T0, &mut rng);
    let a4 = p.a_send(b"a4", T0, &mut rng);
    assert_ne!(a3[1], INITIAL_TYPE);
    refused(
        &mut p.bob,
        &a,
        "a3 (second chain) under the prefix",
        &cat(&pre, &a3),
        Error::Unauthentic,
    );
    assert_eq!(&p.bob_gets(&a3, T0).unwrap().payload[..], b"a3");
    refused(
        &mut p.bob,
        &a,
        "a4 (current chain) under the prefix",
        &cat(&pre, &a4),
        Error::Unauthentic,
    );
    // a1's key now sits in a closed chain: still only its prefixed encoding opens it.
    refused(
        &mut p.bob,
        &a,
        "a1 without prefix (closed chain)",
        &strip(&a1),
        Error::Unauthentic,
    );
    refused(
        &mut p.bob,
        &a,
        "a1 under another setup's prefix",
        &cat(&other, &strip(&a1)),
        Error::Unauthentic,
    );
    assert_eq!(&p.bob_gets(&a1, T0).unwrap().payload[..], b"a1");
    assert_eq!(&p.bob_gets(&a4, T0).unwrap().payload[..], b"a4");
    assert_eq!(&p.alice_gets(&b1, T0).unwrap().payload[..], b"b1");
}

#[test]
fn every_re_encoding_is_refused_with_one_time_prekeys() {
    every_re_encoding_is_refused(900, Prekeys::ALL);
}

#[test]
fn every_re_encoding_is_refused_with_reusable_prekeys_only() {
    every_re_encoding_is_refused(910, Prekeys::NONE);
}

/// The session API applies the same rule as the device: a responder's session refuses a
/// first-chain message without its prefix, an initiator's session refuses any prefix.
#[test]
fn session_api_refuses_re_encodings() {
    let mut rng = rng(920);
    let mut p = new_pair(&mut rng, Prekeys::ALL);
    let a0 = p.a_send(b"a0", T0, &mut rng);
    let a1 = p.a_send(b"a1", T0, &mut rng);
    p.bob_gets(&a0, T0).unwrap();
    let b0 = p.b_send(b"b0", T0, &mut rng);
    let pre = prefix(&a0);
    let bob_session = p.bob.session_mut(&p.a).unwrap();
    let before = bob_session.to_bytes();
    assert_eq!(
        bob_session.decrypt(&strip(&a1), T0).map(|_| ()),
        Err(Error::Unauthentic)
    );
    assert_eq!(*bob_session.to_bytes(), *before);
    assert_eq!(&bob_session.decrypt(&a1, T0).unwrap().payload[..], b"a1");
    let alice_session = p.alice.session_mut(&p.b).unwrap();
    let before = alice_session.to_bytes();
    assert_eq!(
        alice_session.decrypt(&cat(&pre, &b0), T0).map(|_| ()),
        Err(Error::Malformed)
    );
    assert_eq!(*alice_session.to_bytes(), *before);
    assert_eq!(&alice_session.decrypt(&b0, T0).unwrap().payload[..], b"b0");
}
