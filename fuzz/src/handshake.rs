//! `handshake`: the PQXDH responder (Bob before any message, from
//! [`fixture`](super::fixture)) fed an arbitrary message as if from Alice, at
//! [`HANDSHAKE_NOW`].
//!
//! Checks:
//! - the error class is one docs/PROTOCOL.md 11.2 allows for a device with no session and an
//!   empty replay cache (`Malformed`, `Unauthentic`, `TooManySkipped`, `Expired`);
//! - on any error but `Expired` the device state is byte-identical;
//! - on acceptance (or `Expired`, which commits) Bob has a session with Alice, the device
//!   restores canonically, and the same message again is refused as `Replay` or
//!   `Unauthentic` without changing anything.

use target_impl::{Device, Error};

use super::fixture::{HANDSHAKE_NOW, world};

/// The target.
pub fn check(data: &[u8]) {
    let world = world();
    let mut device = world.responder.clone();
    let result = device.decrypt(&world.alice, data, HANDSHAKE_NOW);
    let after = device.to_bytes();
    match result {
        Ok(_) | Err(Error::Expired) => {
            assert!(
                device.session(&world.alice).is_some(),
                "accepted ({result:?}) without a session"
            );
            let restored = Device::from_bytes(&after).map(|d| d.to_bytes());
            assert!(
                restored.as_ref().is_ok_and(|r| **r == *after),
                "the device after a handshake does not restore to itself: {:?}",
                restored.err()
            );
            let again = device.decrypt(&world.alice, data, HANDSHAKE_NOW);
            assert!(
                matches!(again, Err(Error::Replay | Error::Unauthentic)),
                "an accepted initial message is accepted again: {again:?}"
            );
            assert!(
                *device.to_bytes() == *after,
                "a refused repeat changed the device"
            );
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::Malformed | Error::Unauthentic | Error::TooManySkipped
                ),
                "a fresh responder refused with {e}"
            );
            assert!(
                *after == *world.responder_blob,
                "refused with {e} but the device changed"
            );
        }
    }
}
