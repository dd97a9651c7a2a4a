//! State blobs: canonical round trips, every truncation and many byte flips refused or
//! restored canonically, random input refused without panicking, and a state restored from an
//! old copy never repeats a (key, nonce) pair.
// Helpers outside #[test] functions may fail loudly too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use common::*;
use rand_core::Rng;
use target_impl::{Device, Error, PeerId, RANDOM_LEN, Session, VerifiedBundle};

/// Bob with every kind of state: one-time X25519 and ML-KEM prekeys, replay-cache entries
/// (Alice and Carol used only reusable prekeys), a session with Alice holding skipped keys in two
/// chains, a session with Carol; Carol's own session still awaits a reply (has a prefix).
struct World {
    pair: Pair,
    carol: Device,
    carol_name: PeerId,
    /// Undelivered messages from Alice to Bob.
    pending: Vec<Vec<u8>>,
}

fn world(seed: u64) -> World {
    let mut rng = rng(seed);
    let mut p = new_pair(&mut rng, Prekeys::NONE);
    // Carol uses the last-resort bundle before Bob adds one-time prekeys.
    let mut carol = Device::generate(&mut rng).unwrap();
    let carol_name = PeerId::new("carol").unwrap();
    let bundle = VerifiedBundle::import(&p.bob.prekey_bundle().unwrap().to_bytes()).unwrap();
    carol.initiate(&p.b, &bundle, &mut rng).unwrap();
    let from_carol = carol
        .session_mut(&p.b)
        .unwrap()
        .encrypt(&out(b"carol"), T0, &mut rng)
        .unwrap();
    p.bob.decrypt(&carol_name, &from_carol, T0).unwrap();
    p.bob.add_one_time_prekeys(2, &mut rng).unwrap();
    p.bob.add_one_time_kem_prekeys(2, &mut rng).unwrap();

    let m0 = p.a_send(b"m0", T0, &mut rng);
    let m1 = p.a_send(b"m1", T0, &mut rng);
    p.bob_gets(&m1, T0).unwrap();
    let r = p.b_send(b"r", T0 + 1, &mut rng);
    p.alice_gets(&r, T0 + 1).unwrap();
    let m2 = p.a_send(b"m2", T0 + 2, &mut rng);
    let m3 = p.a_send(b"m3", T0 + 2, &mut rng);
    let m4 = p.a_send(b"m4", T0 + 2, &mut rng);
    p.bob_gets(&m4, T0 + 3).unwrap();

    let info = parse_device(&p.bob.to_bytes());
    assert_eq!(
        info.replay_cache.len(),
        2,
        "Alice and Carol used reusable prekeys"
    );
    assert_eq!(info.one_time_prekey_ids.len(), 2);
    assert_eq!(info.one_time_kem_ids.len(), 2);
    assert_eq!(info.session(b"alice").chains, 2);
    assert_eq!(info.session(b"alice").skipped.len(), 3);
    assert!(carol.session(&p.b).unwrap().awaiting_reply());
    World {
        pair: p,
        carol,
        carol_name,
        pending: vec![m0, m2, m3],
    }
}

/// Every session blob of the world.
fn session_blobs(w: &World) -> Vec<(&'static str, Vec<u8>)> {
    let p = &w.pair;
    vec![
        (
            "bob-alice",
            p.bob.session(&p.a).unwrap().to_bytes().to_vec(),
        ),
        (
            "alice-bob",
            p.alice.session(&p.b).unwrap().to_bytes().to_vec(),
        ),
        (
            "bob-carol",
            p.bob.session(&w.carol_name).unwrap().to_bytes().to_vec(),
        ),
        (
            "carol-bob",
            w.carol.session(&p.b).unwrap().to_bytes().to_vec(),
        ),
    ]
}

/// A blob that restores must be the canonical encoding of what it restored to.
fn check_device(what: &str, blob: &[u8]) {
    match Device::from_bytes(blob) {
        Err(e) => assert_eq!(e, Error::CorruptState, "{what}"),
        Ok(d) => assert_eq!(*d.to_bytes(), *blob, "{what}: restored but not canonical"),
    }
}

fn check_session(what: &str, blob: &[u8]) {
    match Session::from_bytes(blob) {
        Err(e) => assert_eq!(e, Error::CorruptState, "{what}"),
        Ok(s) => assert_eq!(*s.to_bytes(), *blob, "{what}: restored but not canonical"),
    }
}

#[test]
fn blobs_round_trip_and_the_restored_device_behaves_the_same() {
    let w = world(500);
    let blob = w.pair.bob.to_bytes();
    let mut restored = Device::from_bytes(&blob).unwrap();
    assert_eq!(*restored.to_bytes(), *blob);
    for (name, s) in session_blobs(&w) {
        assert_eq!(
            *Session::from_bytes(&s).unwrap().to_bytes(),
            s[..],
            "{name}"
        );
        parse_session(&s);
    }
    let alice_blob = w.pair.alice.to_bytes();
    assert_eq!(
        *Device::from_bytes(&alice_blob).unwrap().to_bytes(),
        *alice_blob
    );
    let carol_blob = w.carol.to_bytes();
    assert_eq!(
        *Device::from_bytes(&carol_blob).unwrap().to_bytes(),
        *carol_blob
    );

    // The restored Bob and the original decrypt alike and end in the same state.
    let mut original = w.pair.bob.clone();
    for m in &w.pending {
        let a = original.decrypt(&w.pair.a, m, T0 + 4).unwrap();
        let b = restored.decrypt(&w.pair.a, m, T0 + 4).unwrap();
        assert_eq!(a, b);
    }
    assert_eq!(*original.to_bytes(), *restored.to_bytes());
    // And it publishes the same bundle.
    assert_eq!(
        original.prekey_bundle().unwrap().to_bytes(),
        restored.prekey_bundle().unwrap().to_bytes()
    );
}

#[test]
fn every_truncation_is_corrupt_state() {
    let w = world(501);
    let blob = w.pair.bob.to_bytes();
    for len in 0..blob.len() {
        assert_eq!(
            Device::from_bytes(&blob[..len]).map(|_| ()),
            Err(Error::CorruptState),
            "device blob cut to {len}"
        );
    }
    for (name, s) in session_blobs(&w) {
        for len in 0..s.len() {
            assert_eq!(
                Session::from_bytes(&s[..len]).map(|_| ()),
                Err(Error::CorruptState),
                "{name} cut to {len}"
            );
        }
    }
    let mut longer = blob.to_vec();
    longer.push(0);
    assert_eq!(
        Device::from_bytes(&longer).map(|_| ()),
        Err(Error::CorruptState)
    );
}

#[test]
fn byte_flips_are_refused_or_restore_canonically() {
    let w = world(502);
    let blob = w.pair.bob.to_bytes();
    let mut refused = 0;
    for i in 0..blob.len() {
        for bit in [0x01u8, 0x80] {
            let mut x = blob.to_vec();
            x[i] ^= bit;
            check_device(&format!("device flip {bit:#04x} at {i}"), &x);
            refused += usize::from(Device::from_bytes(&x).is_err());
        }
    }
    // Not vacuous: framing fields are refused, secret fields restore.
    assert!(refused > 50 && refused < blob.len(), "{refused}");
    for (name, s) in session_blobs(&w) {
        for i in 0..s.len() {
            for bit in [0x01u8, 0x80] {
                let mut x = s.clone();
                x[i] ^= bit;
                check_session(&format!("{name} flip {bit:#04x} at {i}"), &x);
            }
        }
    }
}

#[test]
fn random_bytes_are_corrupt_state_and_never_panic() {
    let w = world(503);
    let device_blob = w.pair.bob.to_bytes();
    let session_blob = session_blobs(&w)[0].1.clone();
    let mut rng = rng(504);
    for round in 0..3000usize {
        let len = (rng.next_u32() % 4096) as usize;
        let mut x = vec![0u8; len];
        rng.fill_bytes(&mut x);
        assert_eq!(
            Device::from_bytes(&x).map(|_| ()),
            Err(Error::CorruptState),
            "{round}"
        );
        assert_eq!(
            Session::from_bytes(&x).map(|_| ()),
            Err(Error::CorruptState),
            "{round}"
        );
        // With a valid type header, and a valid blob with a random tail: the parser goes
        // deeper; anything accepted must be canonical.
        if len >= 2 {
            let mut d = x.clone();
            d[..2].copy_from_slice(&[1, 0x11]);
            check_device("random device", &d);
            let mut s = x.clone();
            s[..2].copy_from_slice(&[1, 0x10]);
            check_session("random session", &s);
        }
        let cut = len % device_blob.len();
        let mut d = device_blob[..cut].to_vec();
        d.extend_from_slice(&x[..x.len().min(200)]);
        check_device("device with random tail", &d);
        let cut = len % session_blob.len();
        let mut s = session_blob[..cut].to_vec();
        s.extend_from_slice(&x[..x.len().min(200)]);
        check_session("session with random tail", &s);
    }
}

const P1: &[u8; 40] = b"first plaintext: attack at dawn, east!!!";
const P2: &[u8; 40] = b"other plaintext: retreat at dusk, west!!";

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

/// Two encryptions from one restored copy, with different randomness.
struct Fork {
    c1: Vec<u8>,
    c2: Vec<u8>,
    state1: Vec<u8>,
    state2: Vec<u8>,
}

fn fork(alice_blob: &[u8], b: &PeerId) -> Fork {
    let mut a1 = Device::from_bytes(alice_blob).unwrap();
    let mut a2 = Device::from_bytes(alice_blob).unwrap();
    let c1 = a1
        .session_mut(b)
        .unwrap()
        .encrypt(&out(P1), T0 + 5, &mut rng(510))
        .unwrap();
    let c2 = a2
        .session_mut(b)
        .unwrap()
        .encrypt(&out(P2), T0 + 5, &mut rng(511))
        .unwrap();
    assert_eq!(c1.len(), c2.len());
    Fork {
        c1,
        c2,
        state1: a1.to_bytes().to_vec(),
        state2: a2.to_bytes().to_vec(),
    }
}

/// The clear random value, the header ciphertext, and the body ciphertext (without tags).
fn parts(c: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let header_len = usize::from(c[CLEAR_LEN - 1]);
    (
        &c[2..2 + RANDOM_LEN],
        &c[CLEAR_LEN..CLEAR_LEN + header_len],
        &c[CLEAR_LEN + header_len..c.len() - TAG_LEN],
    )
}

fn assert_no_keystream_reuse(f: &Fork) {
    let (r1, h1, b1) = parts(&f.c1);
    let (r2, h2, b2) = parts(&f.c2);
    assert_ne!(r1, r2, "fresh r");
    // Same header plaintext: equal ciphertexts would mean the same (key, nonce).
    assert_ne!(h1, h2);
    // Bodies: preamble (equal), payload (P1 / P2), zero padding (equal).
    let mut pt_xor = vec![0u8; b1.len()];
    pt_xor[17..17 + P1.len()].copy_from_slice(&xor(P1, P2));
    let ct_xor = xor(b1, b2);
    assert_ne!(ct_xor, pt_xor, "AES-GCM keystream reused");
    assert!(
        ct_xor[..17].iter().any(|&x| x != 0),
        "equal preambles encrypt alike"
    );
}

/// Alice's state is restored twice from the same old copy in the middle of a sending chain:
/// both copies use the same message key (their states after encrypting are identical), yet
/// the fresh `r` gives each message its own key and nonce. Bob accepts the first of the two
/// and refuses the other as `Replay` (same counter), in either order.
#[test]
fn restored_copy_mid_chain_never_repeats_key_and_nonce() {
    let mut rng = rng(505);
    let mut p = established(&mut rng, Prekeys::ALL);
    let m = p.a_send(b"chain started", T0 + 1, &mut rng);
    p.bob_gets(&m, T0 + 1).unwrap();
    let old = p.alice.to_bytes();
    let info = parse_device(&old);
    assert!(!info.session(b"bob").send_step_pending, "mid-chain");

    let f = fork(&old, &p.b);
    assert_eq!(f.state1, f.state2, "both copies used the same message key");
    assert_no_keystream_reuse(&f);

    for (first, second, payload) in [(&f.c1, &f.c2, P1), (&f.c2, &f.c1, P2)] {
        let mut q = p.clone();
        assert_eq!(&q.bob_gets(first, T0 + 6).unwrap().payload[..], payload);
        let before = q.bob.to_bytes();
        assert_eq!(q.bob_gets(second, T0 + 6).map(|_| ()), Err(Error::Replay));
        assert_eq!(*q.bob.to_bytes(), *before);
    }
}

/// Restored with a DH ratchet step pending, the two copies draw different ratchet keys: two
/// different chains under the same header key. Bob accepts the first to arrive; the other
/// names a ratchet key other than the current chain's and is refused as `Unauthentic`.
#[test]
fn restored_copy_with_step_pending_never_repeats_key_and_nonce() {
    let mut rng = rng(506);
    let p = established(&mut rng, Prekeys::ALL);
    let old = p.alice.to_bytes();
    assert!(parse_device(&old).session(b"bob").send_step_pending);

    let f = fork(&old, &p.b);
    assert_ne!(f.state1, f.state2, "different ratchet keys");
    assert_no_keystream_reuse(&f);

    for (first, second, payload) in [(&f.c1, &f.c2, P1), (&f.c2, &f.c1, P2)] {
        let mut q = p.clone();
        assert_eq!(&q.bob_gets(first, T0 + 6).unwrap().payload[..], payload);
        let before = q.bob.to_bytes();
        assert_eq!(
            q.bob_gets(second, T0 + 6).map(|_| ()),
            Err(Error::Unauthentic)
        );
        assert_eq!(*q.bob.to_bytes(), *before);
    }
}

/// A blob whose current receiving chain's skipped keys are not in the newest stored chain is
/// not a reachable state: restoring it must fail, or a later skip would store a second chain
/// under the same header key (and the session's own blob would no longer restore).
#[test]
fn skipped_chain_of_the_current_header_key_must_be_newest() {
    let mut rng = rng(77);
    let mut p = established(&mut rng, Prekeys::NONE);
    // Alice's chain 2: Bob skips message 0 (stored under chain 2's header key).
    let skipped_a = p.a_send(b"a0", T0, &mut rng);
    let a1 = p.a_send(b"a1", T0, &mut rng);
    p.bob_gets(&a1, T0).unwrap();
    // A DH turn, then Alice's chain 3: Bob skips message 0 again (now the current chain).
    let r = p.b_send(b"turn", T0, &mut rng);
    p.alice_gets(&r, T0).unwrap();
    let _skipped_b = p.a_send(b"b0", T0, &mut rng);
    let b1 = p.a_send(b"b1", T0, &mut rng);
    p.bob_gets(&b1, T0).unwrap();

    let blob = p.bob.session(&p.a).unwrap().to_bytes().to_vec();
    let info = parse_session(&blob);
    assert_eq!(info.chains, 2, "two chains of skipped keys");
    let start = |i: usize| {
        info.secrets
            .iter()
            .find(|(name, _)| *name == format!("skipped chain {i} header key"))
            .unwrap()
            .1
            .start
    };
    let (c0, c1) = (start(0), start(1));
    let mut swapped = blob[..c0].to_vec();
    swapped.extend_from_slice(&blob[c1..]);
    swapped.extend_from_slice(&blob[c0..c1]);
    assert_eq!(swapped.len(), blob.len());
    assert_eq!(
        Session::from_bytes(&swapped).unwrap_err(),
        Error::CorruptState
    );
    // The honest blob restores, and its old chain's key still opens its message.
    let mut restored = Session::from_bytes(&blob).unwrap();
    assert_eq!(
        &restored.decrypt(&skipped_a, T0).unwrap().payload[..],
        b"a0"
    );
}
