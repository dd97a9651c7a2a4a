//! `bundle_import`: prekey bundle decoding, signature and ML-KEM key checks, and a session
//! started from whatever verifies.
//!
//! Checks:
//! - `PrekeyBundle::from_bytes` refuses only as `Malformed`; whatever decodes re-encodes to
//!   the same bytes and is what `WireMessage::decode` sees;
//! - `verify` refuses only as `BadSignature` or `Malformed`, and `VerifiedBundle::import`
//!   (decode and verify in one step) decides exactly the same;
//! - a verified bundle (the fuzzer can still choose its unsigned one-time prekey) starts a
//!   session on a fixed initiator: refused only as `Unauthentic` with the device unchanged,
//!   or a session that awaits a reply and encrypts.

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use target_impl::wire::WireMessage;
use target_impl::{Error, Outgoing, PeerId, PrekeyBundle, VerifiedBundle};

use super::fixture::{SEED, T0, world};

/// The target.
pub fn check(data: &[u8]) {
    let imported = VerifiedBundle::import(data);
    let bundle = match PrekeyBundle::from_bytes(data) {
        Ok(bundle) => bundle,
        Err(e) => {
            assert_eq!(e, Error::Malformed, "bundle decoding refused with {e}");
            assert!(
                matches!(imported, Err(Error::Malformed)),
                "decoding refused but import gave {imported:?}"
            );
            return;
        }
    };
    assert!(
        bundle.to_bytes() == data,
        "a decoded bundle re-encodes differently"
    );
    assert!(
        matches!(WireMessage::decode(data), Ok(WireMessage::Bundle(ref b)) if *b == bundle),
        "the wire decoder does not see this bundle"
    );
    let verified = match bundle.verify() {
        Ok(verified) => verified,
        Err(e) => {
            assert!(
                matches!(e, Error::BadSignature | Error::Malformed),
                "verify refused with {e}"
            );
            assert!(
                matches!(imported, Err(i) if i == e),
                "verify refused with {e} but import gave {imported:?}"
            );
            return;
        }
    };
    assert!(
        matches!(&imported, Ok(i) if i.bundle() == verified.bundle()),
        "verify accepted but import gave {imported:?}"
    );
    assert!(
        verified.bundle().to_bytes() == data,
        "a verified bundle re-encodes differently"
    );
    initiate(&verified);
}

fn initiate(bundle: &VerifiedBundle) {
    let world = world();
    let mut device = world.initiator.clone();
    let Ok(peer) = PeerId::new("fuzzed") else {
        return;
    };
    let mut rng = ChaCha20Rng::from_seed(SEED);
    match device.initiate(&peer, bundle, &mut rng) {
        Err(e) => {
            assert_eq!(e, Error::Unauthentic, "initiate refused with {e}");
            assert!(
                *device.to_bytes() == *world.initiator_blob,
                "initiate refused but the device changed"
            );
        }
        Ok(()) => {
            let session = device.session_mut(&peer);
            assert!(
                session.as_ref().is_some_and(|s| s.awaiting_reply()),
                "initiate succeeded without a session that awaits a reply"
            );
            let hello = Outgoing {
                content_type: 1,
                ttl: 0,
                payload: b"hello",
            };
            let sent = session.map(|s| s.encrypt(&hello, T0, &mut rng));
            assert!(
                matches!(sent, Some(Ok(_))),
                "a fresh session does not encrypt: {sent:?}"
            );
        }
    }
}
