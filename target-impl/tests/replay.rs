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

/// An attacker with a self-made identity floods one peer name with 5,000 initial messages that
/// use only reusable prekeys (each replaces the same session, so `MAX_SESSIONS` never applies).
/// The cache keeps the newest `MAX_REPLAY_CACHE`, the floor rises to the newest evicted time,
/// a newcomer who sends now still gets in, and a replay at or below the floor is refused.
#[test]
fn replay_cache_flood_evicts_the_oldest_and_a_newcomer_still_gets_in() {
    let mut rng = rng(420);
    let mut bob = target_impl::Device::generate(&mut rng).unwrap();
    let bundle =
        target_impl::VerifiedBundle::import(&bob.prekey_bundle().unwrap().to_bytes()).unwrap();
    let mut attacker = target_impl::Device::generate(&mut rng).unwrap();
    let flood = 5_000u64;
    let mut sent = Vec::new();
    for i in 0..flood {
        attacker.initiate(&bob_name(), &bundle, &mut rng).unwrap();
        let wire = attacker
            .session_mut(&bob_name())
            .unwrap()
            .encrypt(&out(b"flood"), T0 + i, &mut rng)
            .unwrap();
        assert!(bob.decrypt(&mallory(), &wire, T0 + i).unwrap().new_session);
        if i < 2 || i + 1 == flood {
            sent.push(wire);
        }
    }
    let info = parse_device(&bob.to_bytes());
    assert_eq!(info.replay_cache.len(), target_impl::MAX_REPLAY_CACHE);
    let evicted = flood - target_impl::MAX_REPLAY_CACHE as u64;
    assert_eq!(info.replay_floor, T0 + evicted - 1, "newest evicted time");

    // A newcomer who sends now gets in.
    let mut carol = target_impl::Device::generate(&mut rng).unwrap();
    carol.initiate(&bob_name(), &bundle, &mut rng).unwrap();
    let now = T0 + flood;
    let hello = carol
        .session_mut(&bob_name())
        .unwrap()
        .encrypt(&out(b"hello"), now, &mut rng)
        .unwrap();
    let carol_name = PeerId::new("carol").unwrap();
    assert_eq!(
        &bob.decrypt(&carol_name, &hello, now).unwrap().payload[..],
        b"hello"
    );

    // Evicted messages are below the floor; a kept one is in the cache: both are replays,
    // under any peer name.
    let mut p = Pair {
        alice: attacker,
        bob,
        a: mallory(),
        b: bob_name(),
    };
    for wire in &sent {
        assert_refused_as(
            &mut p,
            &PeerId::new("replayer").unwrap(),
            wire,
            Error::Replay,
        );
    }
    // Carol's entry evicted one more. With the cache full, a message must be newer than the
    // entry it would evict (the next floor): sent at that entry's time, refused; one second
    // later, accepted.
    assert_eq!(parse_device(&p.bob.to_bytes()).replay_floor, T0 + evicted);
    let oldest_kept = T0 + evicted + 1;
    for (at, want) in [(oldest_kept, Err(Error::Replay)), (oldest_kept + 1, Ok(()))] {
        let mut dave = target_impl::Device::generate(&mut rng).unwrap();
        dave.initiate(&bob_name(), &bundle, &mut rng).unwrap();
        let wire = dave
            .session_mut(&bob_name())
            .unwrap()
            .encrypt(&out(b"late"), at, &mut rng)
            .unwrap();
        let before = p.bob.to_bytes();
        let got = p
            .bob
            .decrypt(&PeerId::new(format!("dave{at}")).unwrap(), &wire, now);
        assert_eq!(got.map(|_| ()), want, "sent at {at}");
        if want.is_err() {
            assert_eq!(*p.bob.to_bytes(), *before);
        }
    }
}

/// A reusable-only initial message dated after the receiver's clock is refused: the floor it
/// could set would pass the receiver's clock and lock newcomers out.
#[test]
fn reusable_only_initial_message_from_the_future_is_refused() {
    let mut rng = rng(430);
    let mut p = new_pair(&mut rng, Prekeys::NONE);
    let early = p.a_send(b"from the future", T0 + 1, &mut rng);
    let a = p.a.clone();
    assert_refused_as(&mut p, &a, &early, Error::Replay);
    assert_eq!(
        &p.bob.decrypt(&a, &early, T0 + 1).unwrap().payload[..],
        b"from the future"
    );
    // With a one-time prekey the message is no replay candidate: the clock does not matter.
    let mut q = new_pair(&mut rng, Prekeys::ALL);
    let early = q.a_send(b"early", T0 + 100, &mut rng);
    assert!(q.bob_gets(&early, T0).is_ok());
}

/// Restore invariant: no replay-cache entry is older than the floor.
#[test]
fn restore_refuses_a_replay_entry_older_than_the_floor() {
    let (p, _, _, _) = accepted(440, Prekeys::NONE);
    let blob = p.bob.to_bytes().to_vec();
    let setup = *p.bob.session(&p.a).unwrap().setup_id();
    let at = (0..blob.len() - 32)
        .find(|&i| blob[i..i + 32] == setup[..])
        .unwrap();
    // setup id (32), prekey ids (4 + 4), sent_at (8), then the floor (8).
    let sent_at = u64::from_be_bytes(blob[at + 40..at + 48].try_into().unwrap());
    assert_eq!(sent_at, T0);
    let with_floor = |floor: u64| {
        let mut b = blob.clone();
        b[at + 48..at + 56].copy_from_slice(&floor.to_be_bytes());
        target_impl::Device::from_bytes(&b).map(|_| ())
    };
    assert_eq!(with_floor(T0), Ok(()));
    assert_eq!(with_floor(T0 + 1), Err(Error::CorruptState));
}
