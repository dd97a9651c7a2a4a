//! The target interface (DESIGN section 4, "Targets"; section 7): a track talks to the protocol
//! only through [`Target`] and [`TargetDevice`], never to target-impl's types, so that the same
//! track runs on target-impl (the one target a release build has, [`real`]) and, in the
//! server's own tests, on weakened copies with one planted flaw each (`weak`, behind the cargo
//! feature `weak-targets` that only those tests enable). It is also where a vendor's own
//! implementation would plug in.
//!
//! Every operation takes its randomness and its time as parameters, as target-impl does, so a
//! seed reproduces every byte whatever the target.

pub mod real;
#[cfg(feature = "weak-targets")]
pub mod weak;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::Error;
pub use crate::api::TargetIdentity;

/// The protocol's error classes (DESIGN section 7): every target answers with these.
pub use target_impl::Error as ProtocolError;

/// One-time prekeys a new device publishes in its bundle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OneTimePrekeys {
    /// One-time X25519 prekeys.
    pub x25519: usize,
    /// One-time ML-KEM prekeys.
    pub kem: usize,
}

/// A message to encrypt.
#[derive(Clone, Copy)]
pub struct Outgoing<'a> {
    /// Content type.
    pub content_type: u8,
    /// Self-destruct TTL in seconds; 0 never expires.
    pub ttl: u32,
    /// The payload.
    pub payload: &'a [u8],
}

impl core::fmt::Debug for Outgoing<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Outgoing")
            .field("content_type", &self.content_type)
            .field("ttl", &self.ttl)
            .field("len", &self.payload.len())
            .finish()
    }
}

/// An authenticated message, as the receiving device delivers it.
pub struct Received {
    /// Content type as sent.
    pub content_type: u8,
    /// The sender's `now` at sending.
    pub sent_at: u64,
    /// TTL as sent.
    pub ttl: u32,
    /// The payload.
    pub payload: Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for Received {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Received")
            .field("content_type", &self.content_type)
            .field("sent_at", &self.sent_at)
            .field("ttl", &self.ttl)
            .field("len", &self.payload.len())
            .finish()
    }
}

/// What a decryption yields: target-impl's outcomes.
#[derive(Debug)]
pub enum Delivery {
    /// The message, authenticated.
    Message(Received),
    /// An initial message that authenticates under another identity than the one the device
    /// knows for the peer: not installed, nothing changed (the bots of a game refuse it, as a
    /// user who compared fingerprints would).
    IdentityChanged {
        /// The identity the device knows (public identity bytes).
        known: Vec<u8>,
        /// The identity the message authenticated under.
        new: Vec<u8>,
    },
}

/// A protocol implementation a track can attack.
pub trait Target: Send + Sync + core::fmt::Debug {
    /// The identity published with every challenge it plays.
    fn identity(&self) -> TargetIdentity;

    /// A new device from `rng`: its long-term identity, signed and last-resort prekeys, then
    /// the one-time prekeys asked for, drawn in that order.
    fn generate(
        &self,
        rng: &mut dyn CryptoRng,
        one_time: OneTimePrekeys,
    ) -> Result<Box<dyn TargetDevice>, Error>;

    /// A device from its state bytes ([`TargetDevice::state`]).
    fn restore(&self, state: &[u8]) -> Result<Box<dyn TargetDevice>, Error>;

    /// Whether `private` is the private half of the `key` of `public_identity` (a
    /// [`TargetDevice::public_identity`]): the `key` win of the oracle tracks. A public identity
    /// that does not decode is `false`. Every target here keeps target-impl's identity format
    /// (a weakened one plants its flaw elsewhere), so target-impl's check is the default.
    fn check_identity_key(
        &self,
        public_identity: &[u8],
        key: IdentityKey,
        private: &[u8; 32],
    ) -> bool {
        real::check_identity_key(public_identity, key, private)
    }
}

/// One of the long-term keys of a device's identity, as a `key` claim names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdentityKey {
    /// The Ed25519 identity (signing) key: the private key is its 32-byte seed.
    Ed25519,
    /// The X25519 identity key: the private key is its 32-byte scalar as drawn (scalars that
    /// differ only in the bits X25519 clamps are the same key).
    X25519,
}

impl IdentityKey {
    /// Every key, in the order claims name them.
    pub const ALL: [IdentityKey; 2] = [IdentityKey::Ed25519, IdentityKey::X25519];

    /// Its name in claims and documents.
    pub fn name(self) -> &'static str {
        match self {
            IdentityKey::Ed25519 => "ed25519",
            IdentityKey::X25519 => "x25519",
        }
    }

    /// The key named `name`.
    pub fn by_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One device of a [`Target`]: a party's whole state.
pub trait TargetDevice: Send {
    /// Its prekey bundle, as a peer fetches it.
    fn bundle(&self) -> Result<Vec<u8>, Error>;

    /// Its public identity (what a user compares as a fingerprint).
    fn public_identity(&self) -> Vec<u8>;

    /// Starts a session with `peer` from `bundle`, which must carry the identity `expected`
    /// (the peer's published identity): another identity is refused
    /// ([`ProtocolError::IdentityChanged`]), as is a bundle that does not verify.
    fn initiate(
        &mut self,
        peer: &str,
        bundle: &[u8],
        expected: &[u8],
        rng: &mut dyn CryptoRng,
    ) -> Result<(), ProtocolError>;

    /// Sets the identity this device expects from `peer` before any contact, so that an
    /// initial message from `peer` under another identity is refused
    /// ([`Delivery::IdentityChanged`]), as by a user who compared fingerprints.
    fn pin_identity(&mut self, peer: &str, identity: &[u8]) -> Result<(), ProtocolError>;

    /// Encrypts `message` to `peer` at `now`.
    fn encrypt(
        &mut self,
        peer: &str,
        message: &Outgoing<'_>,
        now: u64,
        rng: &mut dyn CryptoRng,
    ) -> Result<Vec<u8>, ProtocolError>;

    /// Decrypts `bytes` from `peer` at `now`. On a refusal (any error but
    /// [`ProtocolError::Expired`]) the device is unchanged.
    fn decrypt(&mut self, peer: &str, bytes: &[u8], now: u64) -> Result<Delivery, ProtocolError>;

    /// The whole state, to be stored sealed and given back to [`Target::restore`].
    fn state(&self) -> Zeroizing<Vec<u8>>;

    /// A copy of the device (the health solver advances a sender's copy).
    fn duplicate(&self) -> Box<dyn TargetDevice>;
}

/// The targets this build has: target-impl, and with the feature `weak-targets` (the
/// server's tests only) the weakened ones, by flaw name.
pub fn by_flaw(flaw: Option<&str>) -> Result<&'static dyn Target, Error> {
    match flaw {
        None => Ok(&real::TargetImpl),
        #[cfg(feature = "weak-targets")]
        Some(name) => weak::by_name(name)
            .ok_or_else(|| Error::internal(format!("no weakened target {name:?} in this build"))),
        #[cfg(not(feature = "weak-targets"))]
        Some(_) => Err(Error::internal(
            "this challenge names a weakened test target, which a release build does not have",
        )),
    }
}

/// target-impl, the target of every challenge a release build creates.
pub fn real() -> &'static dyn Target {
    &real::TargetImpl
}
