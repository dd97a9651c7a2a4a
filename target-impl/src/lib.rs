//! A reference end-to-end-encrypted messaging protocol: PQXDH session setup (X25519 +
//! ML-KEM-768) and a Double Ratchet with header encryption, padding and self-destruct.
//!
//! Sans-IO: every operation takes bytes and returns bytes; randomness (`rand_core` 0.10
//! [`CryptoRng`](rand_core::CryptoRng)) and time (`u64` seconds since the Unix epoch) are
//! parameters, so a seed reproduces a whole conversation byte for byte. docs/PROTOCOL.md
//! specifies every byte; this crate is its reference implementation.
//!
//! ```
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! use target_impl::{Device, Outgoing, PeerId, VerifiedBundle};
//!
//! let mut rng = ChaCha20Rng::from_seed([7; 32]);
//! let mut alice = Device::generate(&mut rng)?;
//! let mut bob = Device::generate(&mut rng)?;
//! let bundle = VerifiedBundle::import(&bob.prekey_bundle()?.to_bytes())?;
//! let (to_bob, to_alice) = (PeerId::new("bob")?, PeerId::new("alice")?);
//! alice.initiate(&to_bob, &bundle, &mut rng)?;
//! let hello = Outgoing { content_type: 1, ttl: 0, payload: b"hello" };
//! let wire = alice.session_mut(&to_bob).unwrap().encrypt(&hello, 1_700_000_000, &mut rng)?;
//! let got = bob.decrypt(&to_alice, &wire, 1_700_000_001)?;
//! assert_eq!(&got.payload[..], b"hello");
//! # Ok::<(), target_impl::Error>(())
//! ```

#![forbid(unsafe_code)]

mod body;
mod codec;
mod device;
mod error;
mod identity;
mod keys;
mod labels;
mod pqxdh;
mod prekeys;
mod session;
mod skipped;
#[cfg_attr(not(feature = "hazmat"), allow(unreachable_pub, dead_code))]
mod suite;
pub mod wire;

#[cfg(feature = "hazmat")]
pub mod hazmat;
#[cfg(feature = "arbitrary")]
pub mod testing;

pub use body::{
    BODY_PREAMBLE_LEN, MAX_PADDED_BODY_LEN, MAX_PAYLOAD_LEN, PADDING_BUCKETS, padded_len,
};
pub use device::{
    Delivery, Device, IdentityChange, MAX_KNOWN_PEERS, MAX_ONE_TIME_KEM_PREKEYS,
    MAX_ONE_TIME_PREKEYS, MAX_PEER_ID_LEN, MAX_REPLAY_CACHE, MAX_ROTATED_PREKEYS, MAX_SESSIONS,
    PeerId,
};
pub use error::Error;
pub use identity::{PUBLIC_IDENTITY_LEN, PublicIdentity};
pub use pqxdh::{INITIAL_PREFIX_LEN_WITHOUT_OPK, INITIAL_TYPE};
pub use prekeys::{BUNDLE_LEN_WITHOUT_OPK, BUNDLE_TYPE, KemKind, PrekeyBundle, VerifiedBundle};
pub use session::{
    MAX_CHAIN_MESSAGES, MAX_HEADER_EXT_LEN, MIN_MESSAGE_LEN, Message, Outgoing, OutgoingBuffer,
    RANDOM_LEN, RATCHET_TYPE, Received, Sealed, Session, Unsealed,
};
pub use skipped::{MAX_SKIP, MAX_SKIPPED_AGE_SECS, MAX_SKIPPED_CHAINS, MAX_SKIPPED_KEYS};

/// Protocol version (suite v1): the first byte of every wire message.
pub const VERSION: u8 = 1;
/// Version byte of the state blobs.
pub const STATE_VERSION: u8 = 1;
/// Type byte of a session state blob.
pub const SESSION_STATE_TYPE: u8 = 0x10;
/// Type byte of a device state blob.
pub const DEVICE_STATE_TYPE: u8 = 0x11;

/// README's usage example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExample;

/// Hex rendering of public bytes in `Debug` output (never used on secrets).
pub(crate) struct HexBytes<'a>(pub(crate) &'a [u8]);

impl core::fmt::Debug for HexBytes<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}
