//! The in-place encrypt path (`Session::outgoing_buffer`, `Session::encrypt_in_place`): the
//! caller writes the payload where it is encrypted. Its messages are byte for byte those of
//! `Session::encrypt` from the same draws; a buffer laid out while the initial prefix was still
//! sent stays usable after it is dropped; a refusal returns the buffer intact and changes
//! nothing.
// Helpers outside #[test] functions may fail loudly too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;
use target_impl::{Error, MAX_PAYLOAD_LEN, Session};

fn in_place(
    s: &mut Session,
    payload: &[u8],
    now: u64,
    rng: &mut rand_chacha::ChaCha20Rng,
) -> Vec<u8> {
    let mut buf = s.outgoing_buffer(payload.len()).unwrap();
    buf.payload_mut().copy_from_slice(payload);
    s.encrypt_in_place(buf, 1, 0, now, rng).unwrap().into_vec()
}

#[test]
fn same_bytes_as_encrypt_in_every_state() {
    let mut rng = rng(1200);
    let mut p = new_pair(&mut rng, Prekeys::ALL);
    // Alice's first message (with the prefix, a pending sending step), then Bob's reply (his
    // step), then Alice's next (hers) and one more in the same chain, each for a few sizes.
    for (who, now) in [
        ("alice", T0),
        ("bob", T0 + 1),
        ("alice", T0 + 2),
        ("alice", T0 + 3),
    ] {
        for len in [0usize, 1, 47, 1000, 5000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let (sender, peer) = if who == "alice" {
                (&mut p.alice, p.b.clone())
            } else {
                (&mut p.bob, p.a.clone())
            };
            let session = sender.session_mut(&peer).unwrap();
            let (mut s1, mut r1) = (session.clone(), rng.clone());
            let want = s1.encrypt(&out(&payload), now, &mut r1).unwrap();
            let got = in_place(session, &payload, now, &mut rng);
            assert_eq!(got, want, "{who} at {now}, {len} bytes");
            assert_eq!(session.to_bytes(), s1.to_bytes());
            let got_msg = if who == "alice" {
                p.bob_gets(&got, now).unwrap()
            } else {
                p.alice_gets(&got, now).unwrap()
            };
            assert_eq!(&got_msg.payload[..], &payload[..]);
        }
    }
}

#[test]
fn a_buffer_laid_out_with_the_prefix_serves_after_the_reply() {
    let mut rng = rng(1210);
    let mut p = new_pair(&mut rng, Prekeys::NONE);
    let m0 = p.a_send(b"hello", T0, &mut rng);
    p.bob_gets(&m0, T0).unwrap();
    // Alice lays out a message while she still sends her prefix...
    let mut buf = p.alice.session(&p.b).unwrap().outgoing_buffer(5).unwrap();
    buf.payload_mut().copy_from_slice(b"later");
    // ...then Bob's reply arrives and she drops it.
    let r0 = p.b_send(b"reply", T0 + 1, &mut rng);
    p.alice_gets(&r0, T0 + 1).unwrap();
    let sealed = p
        .alice
        .session_mut(&p.b)
        .unwrap()
        .encrypt_in_place(buf, 1, 0, T0 + 2, &mut rng)
        .unwrap();
    let wire = sealed.as_bytes().to_vec();
    assert_eq!(wire[1], 0x03, "a ratchet message, no prefix");
    assert_eq!(sealed.into_vec(), wire);
    assert_eq!(&p.bob_gets(&wire, T0 + 2).unwrap().payload[..], b"later");
}

#[test]
fn refusals_return_the_buffer_and_change_nothing() {
    let mut rng = rng(1220);
    let mut p = established(&mut rng, Prekeys::NONE);
    // Over the payload cap: no buffer.
    let bob_session = p.bob.session(&p.a).unwrap();
    assert_eq!(
        bob_session.outgoing_buffer(MAX_PAYLOAD_LEN + 1).map(|_| ()),
        Err(Error::Malformed)
    );
    // A buffer from a session that sends no prefix, sealed by one that does (Carol's first
    // message to Bob): too short for the prefix, refused, buffer and payload intact.
    let mut buf = bob_session.outgoing_buffer(6).unwrap();
    buf.payload_mut().copy_from_slice(b"secret");
    let mut carol = new_pair(&mut rng, Prekeys::NONE);
    let session = carol.alice.session_mut(&carol.b).unwrap();
    let before = session.to_bytes();
    let mut draws = rng.clone();
    let mut refused = session
        .encrypt_in_place(buf, 1, 0, T0, &mut rng)
        .unwrap_err();
    assert_eq!(refused.error, Error::Malformed);
    assert_eq!(refused.buffer.payload_mut(), b"secret");
    assert_eq!(session.to_bytes(), before);
    assert_eq!(
        rand_core::Rng::next_u64(&mut rng),
        rand_core::Rng::next_u64(&mut draws),
        "randomness drawn"
    );
    // The buffer still serves the session it was made for.
    let wire = p
        .bob
        .session_mut(&p.a)
        .unwrap()
        .encrypt_in_place(refused.buffer, 1, 0, T0, &mut rng)
        .unwrap()
        .into_vec();
    assert_eq!(&p.alice_gets(&wire, T0).unwrap().payload[..], b"secret");
}

#[test]
fn an_unsealed_buffer_never_prints_its_payload() {
    let mut rng = rng(1230);
    let p = established(&mut rng, Prekeys::NONE);
    let mut buf = p.bob.session(&p.a).unwrap().outgoing_buffer(16).unwrap();
    buf.payload_mut().copy_from_slice(b"attack at dawn!!");
    let shown = format!("{buf:?}");
    assert!(
        !shown.contains("attack") && !shown.contains("61747461"),
        "{shown}"
    );
}
