//! `session_decrypt`: arbitrary bytes into a live, established session (Bob's, from
//! [`fixture`](super::fixture)).
//!
//! Input: one clock byte ([`session_clock`](super::fixture::session_clock)), then the message.
//! Checks:
//! - `decrypt` and `decrypt_in_place` agree on the outcome and leave the same state;
//! - what decrypts is not expired at the clock, and `expires_at` is `sent_at + ttl`;
//! - on any error the caller's buffer holds no plaintext (each byte is the input's or zero);
//! - on any error but `Expired` the serialized state is byte-identical;
//! - on `Expired` the state changed (the message's key is gone), only in the receiving-side
//!   fields docs/PROTOCOL.md 7.7 lets a commit touch, and it restores;
//! - after a success or an `Expired`, the state restores, and the same message again is
//!   refused as `Replay` or `Unauthentic` without changing anything.

use target_impl::{Error, Message, Received, Session};

use super::blob::SessionFields;
use super::fixture::{session_clock, world};

/// What a decryption yielded, comparable between the owned and the in-place API.
#[derive(Debug, PartialEq, Eq)]
enum Outcome<'a> {
    Opened {
        content_type: u8,
        sent_at: u64,
        ttl: u32,
        expires_at: Option<u64>,
        payload: &'a [u8],
    },
    Refused(Error),
}

fn owned(result: &Result<Message, Error>) -> Outcome<'_> {
    match result {
        Ok(m) => Outcome::Opened {
            content_type: m.content_type,
            sent_at: m.sent_at,
            ttl: m.ttl,
            expires_at: m.expires_at,
            payload: m.payload.as_slice(),
        },
        Err(e) => Outcome::Refused(*e),
    }
}

fn in_place<'a>(result: &Result<Received<'a>, Error>) -> Outcome<'a> {
    match result {
        Ok(m) => Outcome::Opened {
            content_type: m.content_type,
            sent_at: m.sent_at,
            ttl: m.ttl,
            expires_at: m.expires_at,
            payload: m.payload,
        },
        Err(e) => Outcome::Refused(*e),
    }
}

/// The target.
pub fn check(data: &[u8]) {
    let Some((&clock, message)) = data.split_first() else {
        return;
    };
    let world = world();
    let now = session_clock(clock);

    let mut session = world.session.clone();
    let result = session.decrypt(message, now);
    let after = session.to_bytes();

    let mut other = world.session.clone();
    let mut buf = message.to_vec();
    let result_in_place = other.decrypt_in_place(&mut buf, now);
    assert_eq!(
        owned(&result),
        in_place(&result_in_place),
        "decrypt and decrypt_in_place disagree"
    );
    assert!(
        *other.to_bytes() == *after,
        "decrypt and decrypt_in_place leave different states"
    );
    if result.is_err() {
        let released = buf.iter().zip(message).any(|(b, m)| b != m && *b != 0);
        assert!(
            !released,
            "refused ({result:?}) but the buffer was changed to non-zero bytes"
        );
    }

    match result {
        Ok(m) => {
            let expected = (m.ttl > 0)
                .then(|| m.sent_at.checked_add(u64::from(m.ttl)))
                .flatten();
            assert!(
                m.expires_at == expected && expected.is_none_or(|at| now < at),
                "decrypted at {now}: sent at {}, TTL {}, expires at {:?}",
                m.sent_at,
                m.ttl,
                m.expires_at
            );
            check_committed(&mut session, &after, message, now);
        }
        Err(Error::Expired) => {
            check_expired_change(&world.session_blob, &after);
            check_committed(&mut session, &after, message, now);
        }
        Err(e) => assert!(
            *after == *world.session_blob,
            "refused with {e} but the session state changed"
        ),
    }
}

/// After a commit (success or `Expired`): the state restores canonically and the message's
/// key is gone.
fn check_committed(session: &mut Session, blob: &[u8], message: &[u8], now: u64) {
    let restored = Session::from_bytes(blob).map(|s| s.to_bytes());
    assert!(
        restored.as_ref().is_ok_and(|r| **r == *blob),
        "the state after a decryption does not restore to itself: {:?}",
        restored.err()
    );
    let again = session.decrypt(message, now);
    assert!(
        matches!(again, Err(Error::Replay | Error::Unauthentic)),
        "a message whose key was used decrypts again to {again:?}"
    );
    assert!(
        *session.to_bytes() == *blob,
        "a refused repeat changed the state"
    );
}

/// An `Expired` decryption commits (something changes), and only in the fields a commit may
/// touch.
fn check_expired_change(before: &[u8], after: &[u8]) {
    assert!(before != after, "Expired but nothing was committed");
    let parsed = (SessionFields::parse(before), SessionFields::parse(after));
    assert!(
        parsed.0.is_some() && parsed.1.is_some(),
        "a session blob does not have the layout of docs/PROTOCOL.md 10.1 (update \
         fuzz/src/blob.rs if the layout changed)"
    );
    let (Some(b), Some(a)) = parsed else {
        return;
    };
    for ((name, x), (_, y)) in b
        .untouched_by_decrypt()
        .iter()
        .zip(a.untouched_by_decrypt())
    {
        assert!(
            *x == y,
            "Expired changed {name}, which no decryption may touch"
        );
    }
    assert!(
        a.initial_prefix == b.initial_prefix || a.initial_prefix == [0],
        "Expired changed the initial prefix other than by clearing it"
    );
    assert!(
        a.pending == b.pending || a.pending == [1],
        "Expired cleared the pending ratchet step"
    );
}
