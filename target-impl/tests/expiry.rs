//! Self-destruct: a message is expired from `sent_at + ttl` on; an expired message's ratchet
//! advance is committed (its key is gone), no plaintext is released, TTL 0 never expires, and
//! times near `u64::MAX` do not overflow.

mod common;

use common::*;
use target_impl::{Error, Outgoing};

const TTL: u32 = 30;
const SECRET: &[u8] = b"PLAINTEXT-CANARY: this message self-destructs";

fn with_ttl(ttl: u32) -> Outgoing<'static> {
    Outgoing {
        content_type: 7,
        ttl,
        payload: SECRET,
    }
}

#[test]
fn ttl_boundary() {
    let mut rng = rng(200);
    let mut p = established(&mut rng, Prekeys::ALL);
    let sent_at = T0 + 1000;
    let m = p.a_send_with(&with_ttl(TTL), sent_at, &mut rng);

    let mut early = p.clone();
    let got = early.bob_gets(&m, sent_at + u64::from(TTL) - 1).unwrap();
    assert_eq!(&got.payload[..], SECRET);
    assert_eq!(got.content_type, 7);
    assert_eq!(got.sent_at, sent_at);
    assert_eq!(got.ttl, TTL);
    assert_eq!(got.expires_at, Some(sent_at + u64::from(TTL)));

    for late in [sent_at + u64::from(TTL), sent_at + u64::from(TTL) + 1] {
        let mut q = p.clone();
        assert_eq!(q.bob_gets(&m, late).map(|_| ()), Err(Error::Expired));
    }
}

/// After `Expired` the message's key is gone (a second delivery is `Replay`) and the chain has
/// advanced (the next message decrypts).
#[test]
fn expired_message_commits_the_ratchet_advance() {
    let mut rng = rng(201);
    let mut p = established(&mut rng, Prekeys::ALL);
    let expiring = p.a_send_with(&with_ttl(TTL), T0, &mut rng);
    let next = p.a_send(b"next", T0, &mut rng);
    let later = T0 + u64::from(TTL);

    let before = p.bob.to_bytes();
    assert_eq!(
        p.bob_gets(&expiring, later).map(|_| ()),
        Err(Error::Expired)
    );
    assert_ne!(*p.bob.to_bytes(), *before, "the advance must be committed");
    let info = parse_session(&p.bob.session(&p.a).unwrap().to_bytes());
    assert!(
        info.skipped.is_empty(),
        "no key kept for the expired message"
    );

    let committed = p.bob.to_bytes();
    assert_eq!(p.bob_gets(&expiring, later).map(|_| ()), Err(Error::Replay));
    assert_eq!(*p.bob.to_bytes(), *committed);
    assert_eq!(&p.bob_gets(&next, later).unwrap().payload[..], b"next");
}

/// The same for a message whose key was stored as skipped: the stored key is deleted.
#[test]
fn expired_skipped_message_deletes_its_stored_key() {
    let mut rng = rng(202);
    let mut p = established(&mut rng, Prekeys::ALL);
    let expiring = p.a_send_with(&with_ttl(TTL), T0, &mut rng);
    let next = p.a_send(b"next", T0, &mut rng);
    p.bob_gets(&next, T0).unwrap();
    assert_eq!(skipped_of(&p.bob, &p.a).len(), 1);

    let later = T0 + u64::from(TTL) + 1;
    assert_eq!(
        p.bob_gets(&expiring, later).map(|_| ()),
        Err(Error::Expired)
    );
    assert!(skipped_of(&p.bob, &p.a).is_empty());
    assert_eq!(p.bob_gets(&expiring, later).map(|_| ()), Err(Error::Replay));
}

/// An expired message releases no plaintext into the caller's buffer.
#[test]
fn expired_in_place_leaves_no_plaintext() {
    let mut rng = rng(203);
    let mut p = established(&mut rng, Prekeys::ALL);
    let expiring = p.a_send_with(&with_ttl(TTL), T0, &mut rng);
    let mut buf = expiring.clone();
    let session = p.bob.session_mut(&p.a).unwrap();
    let got = session
        .decrypt_in_place(&mut buf, T0 + u64::from(TTL))
        .map(|_| ());
    assert_eq!(got, Err(Error::Expired));
    assert!(!contains_window(&buf, SECRET));
}

/// An expired initial message still sets the session up (its prekeys are consumed): a repeat
/// is `Replay`, and the initiator's next message decrypts.
#[test]
fn expired_initial_message_commits_the_session() {
    let mut rng = rng(204);
    let mut p = new_pair(&mut rng, Prekeys::ALL);
    let first = p.a_send_with(&with_ttl(TTL), T0, &mut rng);
    let second = p.a_send(b"second", T0, &mut rng);
    assert_eq!(p.bob.one_time_prekey_counts(), (2, 2));

    let later = T0 + u64::from(TTL);
    assert_eq!(p.bob_gets(&first, later).map(|_| ()), Err(Error::Expired));
    assert!(p.bob.session(&p.a).is_some());
    assert_eq!(p.bob.one_time_prekey_counts(), (1, 1));
    assert_eq!(p.bob_gets(&first, later).map(|_| ()), Err(Error::Replay));
    assert_eq!(&p.bob_gets(&second, later).unwrap().payload[..], b"second");
}

#[test]
fn ttl_zero_never_expires() {
    let mut rng = rng(205);
    let mut p = established(&mut rng, Prekeys::ALL);
    let m = p.a_send_with(&with_ttl(0), T0, &mut rng);
    let got = p.bob_gets(&m, u64::MAX).unwrap();
    assert_eq!(&got.payload[..], SECRET);
    assert_eq!(got.ttl, 0);
    assert_eq!(got.expires_at, None);
}

/// `sent_at + ttl` near and past `u64::MAX`: no overflow. A sum that fits is enforced as
/// usual; a sum past `u64::MAX` is reported as no expiry (body.rs: no `now` reaches it).
#[test]
fn times_near_u64_max_do_not_overflow() {
    // Sum exactly u64::MAX.
    let mut rng = rng(206);
    let mut p = established(&mut rng, Prekeys::ALL);
    let sent_at = u64::MAX - u64::from(TTL);
    let m = p.a_send_with(&with_ttl(TTL), sent_at, &mut rng);
    let mut q = p.clone();
    let got = q.bob_gets(&m, u64::MAX - 1).unwrap();
    assert_eq!(got.sent_at, sent_at);
    assert_eq!(got.expires_at, Some(u64::MAX));
    assert_eq!(p.bob_gets(&m, u64::MAX).map(|_| ()), Err(Error::Expired));

    // Sums past u64::MAX.
    for (sent_at, ttl) in [(u64::MAX - 10, TTL), (u64::MAX, 1), (u64::MAX, u32::MAX)] {
        let m = p.a_send_with(&with_ttl(ttl), sent_at, &mut rng);
        for now in [0, sent_at, u64::MAX] {
            let mut q = p.clone();
            let got = q.bob_gets(&m, now).unwrap();
            assert_eq!((got.sent_at, got.ttl), (sent_at, ttl));
            assert_eq!(got.expires_at, None, "{sent_at} + {ttl}");
        }
        p.bob_gets(&m, u64::MAX).unwrap();
    }
}
