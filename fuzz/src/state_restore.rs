//! `state_restore`: arbitrary bytes restored as a session state and as a device state.
//!
//! Checks:
//! - `Session::from_bytes` and `Device::from_bytes` refuse only as `CorruptState`;
//! - whatever restores re-serializes to the same bytes (the blobs are canonical);
//! - a restored session encrypts or refuses with a class docs/PROTOCOL.md 11.2 allows
//!   (`CorruptState`, `Unauthentic`, `TooManySkipped`) leaving the state unchanged, and the
//!   state after a successful encrypt restores too (restore admits only states from which
//!   the protocol stays within restorable states);
//! - a restored device publishes a bundle that verifies (its signatures are recomputed).

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use target_impl::{Device, Error, Outgoing, Session, VerifiedBundle};

use super::fixture::{SEED, T0};

/// The target.
pub fn check(data: &[u8]) {
    match Session::from_bytes(data) {
        Ok(session) => {
            assert!(
                *session.to_bytes() == *data,
                "a restored session re-serializes differently"
            );
            encrypt_after_restore(session, data);
        }
        Err(e) => assert_eq!(e, Error::CorruptState, "session restore refused with {e}"),
    }
    match Device::from_bytes(data) {
        Ok(device) => {
            assert!(
                *device.to_bytes() == *data,
                "a restored device re-serializes differently"
            );
            let bundle = device.prekey_bundle().map(|b| b.to_bytes());
            let verified = bundle.as_ref().map(|b| VerifiedBundle::import(b));
            assert!(
                matches!(verified, Ok(Ok(_))),
                "a restored device's bundle does not verify: {verified:?}"
            );
        }
        Err(e) => assert_eq!(e, Error::CorruptState, "device restore refused with {e}"),
    }
}

fn encrypt_after_restore(mut session: Session, blob: &[u8]) {
    let mut rng = ChaCha20Rng::from_seed(SEED);
    let message = Outgoing {
        content_type: 1,
        ttl: 0,
        payload: b"after restore",
    };
    match session.encrypt(&message, T0, &mut rng) {
        Ok(_) => {
            let after = session.to_bytes();
            let restored = Session::from_bytes(&after).map(|s| s.to_bytes());
            assert!(
                restored.as_ref().is_ok_and(|r| **r == *after),
                "the state after encrypting from a restored state does not restore: {:?}",
                restored.err()
            );
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::CorruptState | Error::Unauthentic | Error::TooManySkipped
                ),
                "encrypt after restore refused with {e}"
            );
            assert!(
                *session.to_bytes() == *blob,
                "encrypt refused with {e} but the state changed"
            );
        }
    }
}
