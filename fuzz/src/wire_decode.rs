//! `wire_decode`: the framing-only decoder of every wire type (docs/PROTOCOL.md 11.3).
//!
//! Checks: it refuses only as `Malformed`, and whatever decodes re-encodes to exactly the
//! input (decoding is canonical: no second encoding of any message).

use target_impl::Error;
use target_impl::wire::WireMessage;

/// The target.
pub fn check(data: &[u8]) {
    match WireMessage::decode(data) {
        Ok(message) => assert!(
            message.to_bytes() == data,
            "decoded {message:?} re-encodes differently"
        ),
        Err(e) => assert_eq!(e, Error::Malformed, "the wire decoder refused with {e}"),
    }
}
