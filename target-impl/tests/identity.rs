//! Peer identities: remembered on first contact or pinned; an initial message (or a bundle to
//! initiate with) under another identity is never installed silently, the old session stays
//! until the caller accepts the change; a new session under the same identity is visible.
// Helpers outside #[test] functions may fail loudly too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;
use target_impl::{Delivery, Device, Error, IdentityChange, PeerId, VerifiedBundle};

fn bundle_of(device: &Device) -> VerifiedBundle {
    VerifiedBundle::import(&device.prekey_bundle().unwrap().to_bytes()).unwrap()
}

/// Mallory, with her own identity and Bob's public bundle, writes an initial message to Bob
/// that the transport labels "alice".
fn mallory_to_bob(seed: u64, bob: &Device) -> (Device, Vec<u8>) {
    let mut rng = rng(seed);
    let mut mallory = Device::generate(&mut rng).unwrap();
    mallory
        .initiate(&bob_name(), &bundle_of(bob), &mut rng)
        .unwrap();
    let wire = mallory
        .session_mut(&bob_name())
        .unwrap()
        .encrypt(&out(b"this is alice, really"), T0, &mut rng)
        .unwrap();
    (mallory, wire)
}

fn change_of(delivery: Delivery) -> IdentityChange {
    match delivery {
        Delivery::IdentityChanged(change) => change,
        Delivery::Message(m) => panic!("installed: {m:?}"),
    }
}

#[test]
fn hijack_under_a_known_peer_name_is_not_installed_and_the_old_session_stays() {
    for prekeys in [Prekeys::ALL, Prekeys::NONE] {
        let mut rng = rng(1000);
        let mut p = established(&mut rng, prekeys);
        let (mut mallory, wire) = mallory_to_bob(1001, &p.bob);
        let before = p.bob.to_bytes();
        assert_eq!(
            p.bob.decrypt(&p.a, &wire, T0).map(|_| ()),
            Err(Error::IdentityChanged)
        );
        assert_eq!(*p.bob.to_bytes(), *before, "state changed");
        let change = change_of(p.bob.receive(&p.a, &wire, T0).unwrap());
        assert_eq!(change.peer(), &p.a);
        assert_eq!(change.known_identity(), p.alice.public_identity());
        assert_eq!(change.new_identity(), mallory.public_identity());
        drop(change);
        assert_eq!(*p.bob.to_bytes(), *before, "state changed by receive");
        assert_eq!(p.bob.known_identity(&p.a), Some(p.alice.public_identity()));
        // Bob's next message to "alice" is still under the old session: Alice reads it, Mallory
        // does not.
        let to_alice = p.b_send(b"for alice only", T0, &mut rng);
        assert!(mallory.decrypt(&bob_name(), &to_alice, T0).is_err());
        assert_eq!(
            &p.alice_gets(&to_alice, T0).unwrap().payload[..],
            b"for alice only"
        );
        let reply = p.a_send(b"still me", T0, &mut rng);
        let got = p.bob_gets(&reply, T0).unwrap();
        assert_eq!(&got.payload[..], b"still me");
        assert!(!got.new_session);
    }
}

#[test]
fn an_accepted_identity_change_installs_the_new_session() {
    let mut rng = rng(1010);
    let mut p = established(&mut rng, Prekeys::ALL);
    let (mut mallory, wire) = mallory_to_bob(1011, &p.bob);
    let change = change_of(p.bob.receive(&p.a, &wire, T0).unwrap());
    let got = p.bob.accept_identity_change(change).unwrap();
    assert_eq!(&got.payload[..], b"this is alice, really");
    assert!(got.new_session);
    assert_eq!(p.bob.known_identity(&p.a), Some(mallory.public_identity()));
    let to_new = p.b_send(b"to the new identity", T0, &mut rng);
    assert_eq!(
        &mallory.decrypt(&bob_name(), &to_new, T0).unwrap().payload[..],
        b"to the new identity"
    );
    // The old identity is now the changed one.
    let old = p.a_send(b"old session", T0, &mut rng);
    assert!(p.bob_gets(&old, T0).is_err());
}

#[test]
fn a_stale_or_foreign_identity_change_is_refused() {
    let mut rng = rng(1020);
    let mut p = established(&mut rng, Prekeys::NONE);
    let (_, first) = mallory_to_bob(1021, &p.bob);
    let (_, second) = mallory_to_bob(1022, &p.bob);
    let one = change_of(p.bob.receive(&p.a, &first, T0).unwrap());
    let two = change_of(p.bob.receive(&p.a, &second, T0).unwrap());
    // Another device cannot take a change made for Bob.
    let mut carol = Device::generate(&mut rng).unwrap();
    let before = carol.to_bytes();
    assert_eq!(
        carol.accept_identity_change(two).map(|_| ()),
        Err(Error::Unauthentic)
    );
    assert_eq!(*carol.to_bytes(), *before);
    p.bob.accept_identity_change(one).unwrap();
    // The known identity moved on since the second change was made.
    let two = change_of(p.bob.receive(&p.a, &second, T0).unwrap());
    let (_, third) = mallory_to_bob(1023, &p.bob);
    let three = change_of(p.bob.receive(&p.a, &third, T0).unwrap());
    p.bob.accept_identity_change(three).unwrap();
    let before = p.bob.to_bytes();
    assert_eq!(
        p.bob.accept_identity_change(two).map(|_| ()),
        Err(Error::IdentityChanged)
    );
    assert_eq!(*p.bob.to_bytes(), *before);
    // Accepting a change does not reopen a replay.
    let again = p.bob.decrypt(&PeerId::new("someone").unwrap(), &first, T0);
    assert_eq!(again.map(|_| ()), Err(Error::Replay));
}

#[test]
fn a_reinstall_under_the_same_identity_is_a_visible_new_session() {
    let mut rng = rng(1030);
    let mut p = established(&mut rng, Prekeys::NONE);
    let old_setup = *p.bob.session(&p.a).unwrap().setup_id();
    // Alice sets up anew with the same identity (her session state was lost).
    p.alice.remove_session(&p.b);
    p.alice
        .initiate(&p.b, &bundle_of(&p.bob), &mut rng)
        .unwrap();
    let hello = p.a_send(b"reinstalled", T0 + 1, &mut rng);
    let got = p.bob_gets(&hello, T0 + 1).unwrap();
    assert_eq!(&got.payload[..], b"reinstalled");
    assert!(got.new_session, "the caller sees the new session");
    assert_ne!(p.bob.session(&p.a).unwrap().setup_id(), &old_setup);
    let reply = p.b_send(b"welcome back", T0 + 1, &mut rng);
    assert_eq!(
        &p.alice_gets(&reply, T0 + 1).unwrap().payload[..],
        b"welcome back"
    );
}

#[test]
fn first_contact_is_remembered_and_later_messages_are_not_new_sessions() {
    let mut rng = rng(1040);
    let mut p = new_pair(&mut rng, Prekeys::ALL);
    assert_eq!(p.alice.known_identity(&p.b), Some(p.bob.public_identity()));
    assert_eq!(p.bob.known_identity(&p.a), None);
    let m0 = p.a_send(b"m0", T0, &mut rng);
    let m1 = p.a_send(b"m1", T0, &mut rng);
    assert!(p.bob_gets(&m0, T0).unwrap().new_session);
    assert_eq!(p.bob.known_identity(&p.a), Some(p.alice.public_identity()));
    assert!(!p.bob_gets(&m1, T0).unwrap().new_session);
    // Forgetting the peer makes the next contact a first one again.
    p.bob.forget_peer(&p.a);
    assert_eq!(p.bob.known_identity(&p.a), None);
    assert!(p.bob.session(&p.a).is_none());
}

#[test]
fn a_pinned_identity_is_enforced_on_first_contact() {
    let mut rng = rng(1050);
    let mut p = new_pair(&mut rng, Prekeys::NONE);
    let alice_identity = p.alice.public_identity().clone();
    p.bob.pin_identity(&p.a, &alice_identity).unwrap();
    let (_, wire) = mallory_to_bob(1051, &p.bob);
    let before = p.bob.to_bytes();
    assert_eq!(
        p.bob.decrypt(&p.a, &wire, T0).map(|_| ()),
        Err(Error::IdentityChanged)
    );
    assert_eq!(*p.bob.to_bytes(), *before);
    let hello = p.a_send(b"the real alice", T0, &mut rng);
    assert!(p.bob_gets(&hello, T0).unwrap().new_session);
}

#[test]
fn initiate_against_another_identity_needs_an_explicit_pin() {
    let mut rng = rng(1060);
    let mut p = established(&mut rng, Prekeys::ALL);
    let impostor = Device::generate(&mut rng).unwrap();
    let bundle = bundle_of(&impostor);
    let before = p.alice.to_bytes();
    let mut draws = rng.clone();
    assert_eq!(
        p.alice.initiate(&p.b, &bundle, &mut rng),
        Err(Error::IdentityChanged)
    );
    assert_eq!(*p.alice.to_bytes(), *before, "state changed");
    assert_eq!(
        rand_core::Rng::next_u64(&mut rng),
        rand_core::Rng::next_u64(&mut draws),
        "randomness drawn"
    );
    // The old session still works.
    let m = p.a_send(b"still bob", T0, &mut rng);
    assert_eq!(&p.bob_gets(&m, T0).unwrap().payload[..], b"still bob");
    // Pinning is the explicit acceptance; it deletes the session under the old identity.
    p.alice
        .pin_identity(&p.b, impostor.public_identity())
        .unwrap();
    assert!(p.alice.session(&p.b).is_none());
    p.alice.initiate(&p.b, &bundle, &mut rng).unwrap();
    assert_eq!(
        p.alice.known_identity(&p.b),
        Some(impostor.public_identity())
    );
}

/// Where `needle` starts in `blob` (exactly once).
fn find(blob: &[u8], needle: &[u8]) -> usize {
    let hits: Vec<usize> = (0..=blob.len() - needle.len())
        .filter(|&i| &blob[i..i + needle.len()] == needle)
        .collect();
    assert_eq!(hits.len(), 1, "needle found {} times", hits.len());
    hits[0]
}

#[test]
fn restore_checks_the_known_identities() {
    let mut rng = rng(1070);
    let p = established(&mut rng, Prekeys::ALL);
    let blob = p.bob.to_bytes().to_vec();
    assert!(Device::from_bytes(&blob).is_ok());
    let at = find(&blob, &p.alice.public_identity().to_bytes());
    // A signature that does not verify.
    let mut bad = blob.clone();
    bad[at + 127] ^= 1;
    assert_eq!(
        Device::from_bytes(&bad).map(|_| ()),
        Err(Error::CorruptState)
    );
    // A session with another identity than the one known for its peer.
    let carol = Device::generate(&mut rng).unwrap();
    let mut bad = blob.clone();
    bad[at..at + 128].copy_from_slice(&carol.public_identity().to_bytes());
    assert_eq!(
        Device::from_bytes(&bad).map(|_| ()),
        Err(Error::CorruptState)
    );
    // A session whose peer has no known identity: the count says none.
    let mut bad = blob.clone();
    let peer_at = at - 1 - b"alice".len();
    assert_eq!(&bad[peer_at - 2..peer_at], &[0, 1], "one known peer");
    bad[peer_at - 1] = 0;
    bad.drain(peer_at..at + 128);
    assert_eq!(
        Device::from_bytes(&bad).map(|_| ()),
        Err(Error::CorruptState)
    );
}

#[test]
fn restore_checks_the_known_identities_order() {
    let mut rng = rng(1080);
    let mut bob = Device::generate(&mut rng).unwrap();
    let x = Device::generate(&mut rng).unwrap();
    let y = Device::generate(&mut rng).unwrap();
    bob.pin_identity(&PeerId::new("a").unwrap(), x.public_identity())
        .unwrap();
    bob.pin_identity(&PeerId::new("b").unwrap(), y.public_identity())
        .unwrap();
    let blob = bob.to_bytes().to_vec();
    assert_eq!(*Device::from_bytes(&blob).unwrap().to_bytes(), blob[..]);
    let mut swapped = blob.clone();
    let (ax, by) = (find(&blob, b"\x01a"), find(&blob, b"\x01b"));
    swapped[ax + 1] = b'b';
    swapped[by + 1] = b'a';
    assert_eq!(
        Device::from_bytes(&swapped).map(|_| ()),
        Err(Error::CorruptState)
    );
}

/// `MAX_KNOWN_PEERS`: a device that knows 1000 identities refuses a new peer, by `pin_identity`,
/// `initiate` (before any draw) and an initial message, each with the state unchanged, while a
/// known peer is still served; a blob with 1001 known identities does not restore.
#[test]
fn known_identities_are_capped() {
    use target_impl::MAX_KNOWN_PEERS;
    let mut rng = rng(1090);
    let mut p = new_pair(&mut rng, Prekeys::NONE);
    let stranger = Device::generate(&mut rng).unwrap();
    let name = |i: usize| PeerId::new(format!("p{i:04}")).unwrap();
    // Bob knows 1000 peers, none of them Alice.
    for i in 0..MAX_KNOWN_PEERS {
        p.bob
            .pin_identity(&name(i), stranger.public_identity())
            .unwrap();
    }
    // Restore: 1000 known identities load; a 1001st entry (count and entry added) does not.
    let blob = p.bob.to_bytes().to_vec();
    assert!(Device::from_bytes(&blob).is_ok());
    let first = find(&blob, b"\x05p0000");
    assert_eq!(
        blob[first - 2..first],
        (MAX_KNOWN_PEERS as u16).to_be_bytes()
    );
    let mut over = blob.clone();
    over[first - 2..first].copy_from_slice(&(MAX_KNOWN_PEERS as u16 + 1).to_be_bytes());
    let end = find(&blob, b"\x05p0999") + 1 + 5 + 128;
    let mut entry = b"\x05p1000".to_vec();
    entry.extend_from_slice(&stranger.public_identity().to_bytes());
    over.splice(end..end, entry);
    assert_eq!(
        Device::from_bytes(&over).map(|_| ()),
        Err(Error::CorruptState)
    );
    let before = p.bob.to_bytes();
    assert_eq!(
        p.bob.pin_identity(&p.a, p.alice.public_identity()),
        Err(Error::TooManySkipped)
    );
    assert_eq!(*p.bob.to_bytes(), *before);
    p.bob
        .pin_identity(&name(0), p.alice.public_identity())
        .unwrap();
    p.bob
        .pin_identity(&name(0), stranger.public_identity())
        .unwrap();
    let m0 = p.a_send(b"hello", T0, &mut rng);
    let before = p.bob.to_bytes();
    assert_eq!(p.bob_gets(&m0, T0).map(|_| ()), Err(Error::TooManySkipped));
    assert_eq!(*p.bob.to_bytes(), *before);
    // Initiate to a new peer: refused before any draw.
    let mut draws = rng.clone();
    assert_eq!(
        p.bob
            .initiate(&p.a, &bundle_of(&p.alice), &mut rng)
            .map(|_| ()),
        Err(Error::TooManySkipped)
    );
    assert_eq!(*p.bob.to_bytes(), *before);
    assert_eq!(
        rand_core::Rng::next_u64(&mut rng),
        rand_core::Rng::next_u64(&mut draws),
        "randomness drawn"
    );
    // Room for one more: Alice's message is accepted.
    p.bob.forget_peer(&name(999));
    assert!(p.bob_gets(&m0, T0).is_ok());
}
