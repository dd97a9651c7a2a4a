//! Replayed initial messages: refused by the replay cache when only reusable prekeys were
//! used, by the deleted one-time prekey otherwise, routed to the existing session under the
//! same peer name, and refused once rotation has deleted the prekeys they used.
// Helpers outside #[test] functions may fail loudly too: a panic is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use target_impl::{Error, PeerId};

fn mallory() -> PeerId {
    PeerId::new("mallory").unwrap()
}

/// Alice's first two (prefixed) messages after Bob accepted the first under "alice".
fn accepted(seed: u64, prekeys: Prekeys) -> (Pair, Vec<u8>, Vec<u8>, rand_chacha::ChaCha20Rng) {
    let mut rng = rng(seed);
    let mut p = new_pair(&mut rng, prekeys);
    let first = p.a_send(b"first", T0, &mut rng);
    let second = p.a_send(b"second", T0, &mut rng);
    assert_eq!(&p.bob_gets(&first, T0).unwrap().payload[..], b"first");
    (p, first, second, rng)
}

fn assert_refused_as(p: &mut Pair, peer: &PeerId, wire: &[u8], want: Error) {
    let before = p.bob.to_bytes();
    assert_eq!(p.bob.decrypt(peer, wire, T0).map(|_| ()), Err(want));
    assert_eq!(*p.bob.to_bytes(), *before, "state changed on {want:?}");
}

#[test]
fn replay_to_a_new_peer_name_with_reusable_prekeys_only_is_replay() {
    let (mut p, first, second, _) = accepted(400, Prekeys::NONE);
    let info = parse_device(&p.bob.to_bytes());
    assert_eq!(info.replay_cache.len(), 1, "the setup is remembered");
    assert_refused_as(&mut p, &mallory(), &first, Error::Replay);
    // The initiator's second prefixed message carries the same prefix: also a replay there.
    assert_refused_as(&mut p, &mallory(), &second, Error::Replay);
    assert!(p.bob.session(&mallory()).is_none());
}

#[test]
fn replay_to_a_new_peer_name_after_one_time_prekeys_is_unauthentic() {
    for prekeys in [
        Prekeys::ALL,
        Prekeys {
            opk: true,
            one_time_kem: false,
        },
        Prekeys {
            opk: false,
            one_time_kem: true,
        },
    ] {
        let (mut p, first, _, _) = accepted(401, prekeys);
        let info = parse_device(&p.bob.to_bytes());
        assert!(
            info.replay_cache.is_empty(),
            "{prekeys:?}: nothing to remember"
        );
        assert_eq!(
            p.bob.one_time_prekey_counts(),
            (usize::from(prekeys.opk), usize::from(prekeys.one_time_kem)),
            "{prekeys:?}: the used one-time keys are deleted"
        );
        assert_refused_as(&mut p, &mallory(), &first, Error::Unauthentic);
    }
}

#[test]
fn repeated_initial_message_under_the_same_peer_goes_to_its_session() {
    for prekeys in [Prekeys::NONE, Prekeys::ALL] {
        let (mut p, first, second, mut rng) = accepted(402, prekeys);
        let a = p.a.clone();
        assert_refused_as(&mut p, &a, &first, Error::Replay);
        assert_eq!(&p.bob_gets(&second, T0).unwrap().payload[..], b"second");
        assert_refused_as(&mut p, &a, &second, Error::Replay);
        // The session is the one set up by `first`: Bob's reply reaches Alice.
        let r = p.b_send(b"reply", T0, &mut rng);
        assert_eq!(&p.alice_gets(&r, T0).unwrap().payload[..], b"reply");
        assert!(!p.alice.session(&p.b).unwrap().awaiting_reply());
    }
}

/// Out of order: the second prefixed message arrives first and sets the session up; the first
/// then goes to that session as a skipped message.
#[test]
fn prefixed_messages_out_of_order() {
    let mut rng = rng(403);
    let mut p = new_pair(&mut rng, Prekeys::NONE);
    let first = p.a_send(b"first", T0, &mut rng);
    let second = p.a_send(b"second", T0, &mut rng);
    assert_eq!(&p.bob_gets(&second, T0).unwrap().payload[..], b"second");
    assert_eq!(&p.bob_gets(&first, T0).unwrap().payload[..], b"first");
    let a = p.a.clone();
    assert_refused_as(&mut p, &a, &first, Error::Replay);
    assert_refused_as(&mut p, &mallory(), &first, Error::Replay);
}

#[test]
fn rotating_the_signed_prekey_twice_drops_replay_entries_and_the_prekey() {
    let (mut p, first, _, mut rng) = accepted(404, Prekeys::NONE);
    p.bob.rotate_signed_prekey(&mut rng).unwrap();
    // The previous signed prekey is kept for messages in flight, and so is the entry.
    assert_eq!(parse_device(&p.bob.to_bytes()).replay_cache.len(), 1);
    assert_refused_as(&mut p, &mallory(), &first, Error::Replay);
    p.bob.rotate_signed_prekey(&mut rng).unwrap();
    let info = parse_device(&p.bob.to_bytes());
    assert!(
        info.replay_cache.is_empty(),
        "entry dropped with its prekey"
    );
    assert!(
        !info.signed_prekey_ids.contains(&1),
        "{:?}",
        info.signed_prekey_ids
    );
    // The message is refused because its signed prekey is gone.
    assert_refused_as(&mut p, &mallory(), &first, Error::Unauthentic);
    // Under the original name it still goes to the existing session.
    let a = p.a.clone();
    assert_refused_as(&mut p, &a, &first, Error::Replay);
}

#[test]
fn rotating_the_last_resort_kem_prekey_twice_drops_replay_entries_and_the_prekey() {
    let (mut p, first, _, mut rng) = accepted(405, Prekeys::NONE);
    p.bob.rotate_last_resort_kem_prekey(&mut rng).unwrap();
    assert_eq!(parse_device(&p.bob.to_bytes()).replay_cache.len(), 1);
    assert_refused_as(&mut p, &mallory(), &first, Error::Replay);
    p.bob.rotate_last_resort_kem_prekey(&mut rng).unwrap();
    let info = parse_device(&p.bob.to_bytes());
    assert!(info.replay_cache.is_empty());
    assert!(!info.last_resort_kem_ids.contains(&2));
    assert_refused_as(&mut p, &mallory(), &first, Error::Unauthentic);
}

/// The replay cache refuses replays, not reuse: two initiators using the same reusable
/// prekeys are both accepted (distinct setups, two entries).
#[test]
fn distinct_setups_with_reusable_prekeys_are_both_accepted() {
    let mut rng = rng(406);
    let mut p = new_pair(&mut rng, Prekeys::NONE);
    let first = p.a_send(b"from alice", T0, &mut rng);
    let mut q = new_pair(&mut rng, Prekeys::NONE);
    // Carol initiates to the same Bob.
    q.bob = p.bob.clone();
    let bundle =
        target_impl::VerifiedBundle::import(&p.bob.prekey_bundle().unwrap().to_bytes()).unwrap();
    // Carol's "bob" was another device: she names the new one explicitly.
    q.alice
        .pin_identity(&q.b, bundle.bundle().identity())
        .unwrap();
    q.alice.initiate(&q.b, &bundle, &mut rng).unwrap();
    let from_carol = q.a_send(b"from carol", T0, &mut rng);
    let carol = PeerId::new("carol").unwrap();
    p.bob_gets(&first, T0).unwrap();
    let got = p.bob.decrypt(&carol, &from_carol, T0).unwrap();
    assert_eq!(&got.payload[..], b"from carol");
    assert_eq!(parse_device(&p.bob.to_bytes()).replay_cache.len(), 2);
}
