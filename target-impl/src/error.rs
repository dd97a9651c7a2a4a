//! The protocol's error classes, shared with the vectors and the second implementation
//! (DESIGN section 7, docs/PROTOCOL.md section "Errors").

use core::fmt;

/// Why an input was refused. Classes, not reasons: every failure that involves a key before
/// authentication is the single opaque [`Error::Unauthentic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// Framing that reads no secret is wrong: version, message type, a length, a cap, a flag.
    Malformed,
    /// A check that involves a key failed before authentication succeeded (one opaque class).
    Unauthentic,
    /// A prekey bundle's signature does not verify under its identity key.
    BadSignature,
    /// The header authenticated but the key for its counter is gone: the message was already
    /// received, or its skipped key was evicted or aged out; or an initial message repeats one
    /// the replay cache holds.
    Replay,
    /// An authenticated message would skip more keys than [`crate::MAX_SKIP`] or pass
    /// [`crate::MAX_CHAIN_MESSAGES`]; or a bounded store that must not evict is full (the replay
    /// cache, the sessions, a sending chain, the prekey ids).
    TooManySkipped,
    /// An authenticated message is past its self-destruct time; its key is destroyed.
    Expired,
    /// A serialized state does not restore.
    CorruptState,
    /// An authenticated initial message, or a bundle passed to `initiate`, carries another
    /// identity than the one the device knows for that peer; nothing changed
    /// (`Device::receive` yields the change for the caller to accept explicitly).
    IdentityChanged,
}

impl Error {
    /// The class name as used in docs/PROTOCOL.md and the vector files.
    pub const fn name(self) -> &'static str {
        match self {
            Error::Malformed => "Malformed",
            Error::Unauthentic => "Unauthentic",
            Error::BadSignature => "BadSignature",
            Error::Replay => "Replay",
            Error::TooManySkipped => "TooManySkipped",
            Error::Expired => "Expired",
            Error::CorruptState => "CorruptState",
            Error::IdentityChanged => "IdentityChanged",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for Error {}

impl From<crate::suite::CryptoError> for Error {
    fn from(_: crate::suite::CryptoError) -> Self {
        Error::Unauthentic
    }
}
