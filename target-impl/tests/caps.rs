//! Every cap at its boundary: the skip limit, the skipped-key store (keys, chains, age), replay
//! of consumed keys, payload size, peer-name length, one-time prekey counts.
// Helpers outside #[test] functions may fail loudly too: a panic is a failed test.
#![allow(clippy::panic)]

mod common;

use common::*;
use target_impl::{
    Device, Error, MAX_ONE_TIME_KEM_PREKEYS, MAX_ONE_TIME_PREKEYS, MAX_PAYLOAD_LEN,
    MAX_PEER_ID_LEN, MAX_SKIP, MAX_SKIPPED_AGE_SECS, MAX_SKIPPED_CHAINS, MAX_SKIPPED_KEYS, PeerId,
};

fn label(i: usize) -> Vec<u8> {
    format!("message {i}").into_bytes()
}

/// Alice sends `count` messages in one chain (the first starts a new DH ratchet step).
fn burst(p: &mut Pair, count: usize, rng: &mut rand_chacha::ChaCha20Rng) -> Vec<Vec<u8>> {
    (0..count).map(|i| p.a_send(&label(i), T0, rng)).collect()
}

fn assert_delivers(p: &mut Pair, wire: &[u8], i: usize) {
    let got = p
        .bob_gets(wire, T0)
        .unwrap_or_else(|e| panic!("message {i}: {e:?}"));
    assert_eq!(&got.payload[..], &label(i)[..]);
}

/// Refused with `want`, and Bob's whole device state is unchanged.
fn assert_refused(p: &mut Pair, wire: &[u8], now: u64, want: Error) {
    let before = p.bob.to_bytes();
    assert_eq!(p.bob_gets(wire, now).map(|_| ()), Err(want));
    assert_eq!(*p.bob.to_bytes(), *before, "state changed on {want:?}");
}

const SKIP: usize = MAX_SKIP as usize;

#[test]
fn new_chain_skip_of_exactly_max_skip_is_accepted_one_more_is_refused() {
    let mut rng = rng(100);
    let mut p = established(&mut rng, Prekeys::ALL);
    let msgs = burst(&mut p, SKIP + 2, &mut rng);
    // First message of a chain Bob has not seen, with counter MAX_SKIP + 1: too far.
    assert_refused(&mut p, &msgs[SKIP + 1], T0, Error::TooManySkipped);
    // Counter MAX_SKIP: exactly MAX_SKIP keys skipped.
    assert_delivers(&mut p, &msgs[SKIP], SKIP);
    assert_eq!(skipped_of(&p.bob, &p.a).len(), SKIP);
    assert_delivers(&mut p, &msgs[SKIP + 1], SKIP + 1);
    for i in [0, 1, SKIP / 2, SKIP - 1] {
        assert_delivers(&mut p, &msgs[i], i);
    }
}

#[test]
fn current_chain_skip_of_exactly_max_skip_is_accepted_one_more_is_refused() {
    let mut rng = rng(101);
    let mut p = established(&mut rng, Prekeys::ALL);
    let msgs = burst(&mut p, SKIP + 3, &mut rng);
    assert_delivers(&mut p, &msgs[0], 0);
    assert_refused(&mut p, &msgs[SKIP + 2], T0, Error::TooManySkipped);
    assert_delivers(&mut p, &msgs[SKIP + 1], SKIP + 1);
    assert_eq!(skipped_of(&p.bob, &p.a).len(), SKIP);
    assert_delivers(&mut p, &msgs[SKIP + 2], SKIP + 2);
    assert_delivers(&mut p, &msgs[SKIP], SKIP);
}

/// The previous chain's unreceived tail (PN in the new chain's header) counts against the cap
/// too: a new chain whose PN makes Bob skip MAX_SKIP keys of the old chain is accepted, one
/// more is refused.
#[test]
fn previous_chain_tail_of_max_skip_is_accepted_one_more_is_refused() {
    for (sent, ok) in [(SKIP + 1, true), (SKIP + 2, false)] {
        let mut rng = rng(102);
        let mut p = established(&mut rng, Prekeys::ALL);
        let old = burst(&mut p, sent, &mut rng);
        assert_delivers(&mut p, &old[0], 0);
        let r = p.b_send(b"turn", T0, &mut rng);
        p.alice_gets(&r, T0).unwrap();
        let new = p.a_send(b"new chain", T0, &mut rng);
        if ok {
            assert_eq!(&p.bob_gets(&new, T0).unwrap().payload[..], b"new chain");
            assert_eq!(skipped_of(&p.bob, &p.a).len(), SKIP);
            assert_delivers(&mut p, &old[sent - 1], sent - 1);
        } else {
            assert_refused(&mut p, &new, T0, Error::TooManySkipped);
        }
    }
}

#[test]
fn skipped_store_evicts_oldest_key_beyond_max_skipped_keys() {
    // The scenario below fills the store in two skips.
    const _: () = assert!(MAX_SKIPPED_KEYS <= 2 * SKIP);
    let mut rng = rng(103);
    let mut p = established(&mut rng, Prekeys::ALL);
    let last = MAX_SKIPPED_KEYS + 3;
    let msgs = burst(&mut p, last + 1, &mut rng);
    // Skip 0..SKIP, then SKIP+1..=MAX_SKIPPED_KEYS: the store is exactly full.
    assert_delivers(&mut p, &msgs[SKIP], SKIP);
    assert_delivers(&mut p, &msgs[MAX_SKIPPED_KEYS + 1], MAX_SKIPPED_KEYS + 1);
    let stored = skipped_of(&p.bob, &p.a);
    assert_eq!(stored.len(), MAX_SKIPPED_KEYS);
    assert_eq!(stored[0].n, 0);
    // One more skipped key (MAX_SKIPPED_KEYS + 2) evicts the oldest (counter 0).
    assert_delivers(&mut p, &msgs[last], last);
    let stored = skipped_of(&p.bob, &p.a);
    assert_eq!(stored.len(), MAX_SKIPPED_KEYS);
    assert_eq!(stored[0].n, 1);
    assert_eq!(stored.last().unwrap().n, (MAX_SKIPPED_KEYS + 2) as u32);
    // The evicted message is refused (its key is gone: the code reports Replay).
    assert_refused(&mut p, &msgs[0], T0, Error::Replay);
    // The next oldest and the newest skipped keys still work.
    assert_delivers(&mut p, &msgs[1], 1);
    assert_delivers(&mut p, &msgs[MAX_SKIPPED_KEYS + 2], MAX_SKIPPED_KEYS + 2);
    assert_delivers(&mut p, &msgs[MAX_SKIPPED_KEYS], MAX_SKIPPED_KEYS);
    // A lossy session does not wedge: both directions keep working.
    let r = p.b_send(b"still here", T0, &mut rng);
    assert_eq!(&p.alice_gets(&r, T0).unwrap().payload[..], b"still here");
    let m = p.a_send(b"me too", T0, &mut rng);
    assert_eq!(&p.bob_gets(&m, T0).unwrap().payload[..], b"me too");
}

#[test]
fn skipped_chains_beyond_max_evict_the_oldest_chain() {
    let mut rng = rng(104);
    let mut p = established(&mut rng, Prekeys::ALL);
    let mut first_of_chain = Vec::new();
    for round in 0..=MAX_SKIPPED_CHAINS {
        // A new chain from Alice; Bob gets only its second message.
        let m0 = p.a_send(&label(round), T0, &mut rng);
        let m1 = p.a_send(b"second", T0, &mut rng);
        p.bob_gets(&m1, T0).unwrap();
        first_of_chain.push(m0);
        assert_eq!(chains_of(&p.bob, &p.a), (round + 1).min(MAX_SKIPPED_CHAINS));
        let r = p.b_send(b"turn", T0, &mut rng);
        p.alice_gets(&r, T0).unwrap();
    }
    let stored = skipped_of(&p.bob, &p.a);
    assert_eq!(stored.len(), MAX_SKIPPED_CHAINS);
    // The oldest chain's header key is no longer a candidate: its message no longer
    // authenticates at all.
    assert_refused(&mut p, &first_of_chain[0], T0, Error::Unauthentic);
    for (round, m) in first_of_chain.iter().enumerate().skip(1) {
        assert_delivers(&mut p, m, round);
    }
    assert_eq!(chains_of(&p.bob, &p.a), 0);
}

#[test]
fn skipped_keys_older_than_max_age_are_refused_and_purged() {
    let mut rng = rng(105);
    let mut p = established(&mut rng, Prekeys::ALL);
    let msgs = burst(&mut p, 3, &mut rng);
    assert_delivers(&mut p, &msgs[1], 1);
    assert_eq!(
        skipped_of(&p.bob, &p.a),
        vec![SkippedInfo {
            chain: 0,
            n: 0,
            stored_at: T0
        }]
    );
    // One second before the limit the key still works.
    let mut young = p.clone();
    let got = young
        .bob_gets(&msgs[0], T0 + MAX_SKIPPED_AGE_SECS - 1)
        .unwrap();
    assert_eq!(&got.payload[..], &label(0)[..]);
    // At the limit it is refused (the code reports Replay: no live key), state untouched.
    assert_refused(&mut p, &msgs[0], T0 + MAX_SKIPPED_AGE_SECS, Error::Replay);
    assert_eq!(skipped_of(&p.bob, &p.a).len(), 1);
    // The next successful decryption purges it.
    let got = p.bob_gets(&msgs[2], T0 + MAX_SKIPPED_AGE_SECS).unwrap();
    assert_eq!(&got.payload[..], &label(2)[..]);
    assert!(skipped_of(&p.bob, &p.a).is_empty());
    assert_refused(&mut p, &msgs[0], T0 + MAX_SKIPPED_AGE_SECS, Error::Replay);
}

#[test]
fn replay_of_a_consumed_skipped_key_or_current_message_is_replay() {
    let mut rng = rng(106);
    let mut p = established(&mut rng, Prekeys::ALL);
    let msgs = burst(&mut p, 3, &mut rng);
    assert_delivers(&mut p, &msgs[2], 2);
    assert_delivers(&mut p, &msgs[0], 0);
    assert_refused(&mut p, &msgs[0], T0, Error::Replay);
    assert_refused(&mut p, &msgs[2], T0, Error::Replay);
    assert_delivers(&mut p, &msgs[1], 1);
    assert_refused(&mut p, &msgs[1], T0, Error::Replay);
    // After a DH turn the fully consumed old chain is forgotten, header key included: its
    // messages no longer authenticate at all (Unauthentic, not Replay); the new chain's
    // messages are Replay.
    let r = p.b_send(b"turn", T0, &mut rng);
    p.alice_gets(&r, T0).unwrap();
    let next = p.a_send(b"next", T0, &mut rng);
    p.bob_gets(&next, T0).unwrap();
    for m in &msgs {
        assert_refused(&mut p, m, T0, Error::Unauthentic);
    }
    assert_refused(&mut p, &next, T0, Error::Replay);
}

#[test]
fn payload_cap_on_encrypt() {
    let mut rng = rng(107);
    let mut p = established(&mut rng, Prekeys::NONE);
    let big = vec![0x42u8; MAX_PAYLOAD_LEN + 1];
    let before = p.alice.to_bytes();
    let session = p.alice.session_mut(&p.b).unwrap();
    assert_eq!(
        session.encrypt(&out(&big), T0, &mut rng),
        Err(Error::Malformed)
    );
    assert_eq!(*p.alice.to_bytes(), *before);
    // Exactly MAX_PAYLOAD_LEN round-trips.
    let max = &big[..MAX_PAYLOAD_LEN];
    let wire = p.a_send(max, T0, &mut rng);
    assert!(framing_ok(&wire));
    let got = p.bob_gets(&wire, T0).unwrap();
    assert!(got.payload[..] == *max);
    // And the session goes on.
    let wire = p.a_send(b"small", T0, &mut rng);
    assert_eq!(&p.bob_gets(&wire, T0).unwrap().payload[..], b"small");
}

#[test]
fn peer_id_length_bounds() {
    assert_eq!(PeerId::new(b""), Err(Error::Malformed));
    assert_eq!(
        PeerId::new(vec![b'x'; MAX_PEER_ID_LEN + 1]),
        Err(Error::Malformed)
    );
    assert_eq!(
        PeerId::new(vec![b'x'; MAX_PEER_ID_LEN]).unwrap().as_bytes(),
        &[b'x'; MAX_PEER_ID_LEN][..]
    );
    assert_eq!(PeerId::new([0u8]).unwrap().as_bytes(), &[0u8]);
}

#[test]
fn one_time_prekey_caps() {
    let mut rng = rng(108);
    let mut d = Device::generate(&mut rng).unwrap();
    let fresh = d.to_bytes();
    for too_many in [MAX_ONE_TIME_PREKEYS + 1, usize::MAX] {
        assert_eq!(
            d.add_one_time_prekeys(too_many, &mut rng),
            Err(Error::Malformed)
        );
    }
    for too_many in [MAX_ONE_TIME_KEM_PREKEYS + 1, usize::MAX] {
        assert_eq!(
            d.add_one_time_kem_prekeys(too_many, &mut rng),
            Err(Error::Malformed)
        );
    }
    assert_eq!(*d.to_bytes(), *fresh);

    d.add_one_time_prekeys(MAX_ONE_TIME_PREKEYS - 1, &mut rng)
        .unwrap();
    d.add_one_time_prekeys(1, &mut rng).unwrap();
    d.add_one_time_kem_prekeys(MAX_ONE_TIME_KEM_PREKEYS, &mut rng)
        .unwrap();
    assert_eq!(
        d.one_time_prekey_counts(),
        (MAX_ONE_TIME_PREKEYS, MAX_ONE_TIME_KEM_PREKEYS)
    );
    let full = d.to_bytes();
    assert_eq!(d.add_one_time_prekeys(1, &mut rng), Err(Error::Malformed));
    assert_eq!(
        d.add_one_time_kem_prekeys(1, &mut rng),
        Err(Error::Malformed)
    );
    assert_eq!(*d.to_bytes(), *full);
    // Adding zero to a full store is fine, and a full device restores.
    d.add_one_time_prekeys(0, &mut rng).unwrap();
    assert_eq!(*Device::from_bytes(&full).unwrap().to_bytes(), *full);
}
