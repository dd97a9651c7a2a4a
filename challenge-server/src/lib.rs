//! The crypto-challenge bounty service (DESIGN section 4): publishes the real ciphertext traffic
//! of target-impl, takes commit-then-reveal claims with signed receipts, judges them, logs every
//! public event in an RFC 6962 transparency log, and reveals its seed at the close so that anyone
//! can check the contest with [`verify`].
//!
//! Layers: [`http`] (routes, extractors), [`tracks`] (the games, behind one interface),
//! [`targets`] (the protocol under attack, behind one interface), [`store`] (persistence),
//! [`log`] (transparency), [`config`]. [`challenges`], [`claims`] and [`health`] are the
//! operations that the HTTP handlers, the CLI and the [`scheduler`] call, all on the shared
//! [`state::App`]; [`server`] only starts them.
//!
//! Those layers, the binary and `verify`'s client come with the default feature `server`.
//! Without it the crate is the sans-IO core that fuzz/ builds: [`tracks`], [`targets`],
//! [`seed`], [`pow`], [`fields`], the [`api`] and [`log::event`] types and the claim texts
//! ([`claims`]), with no runtime, database or HTTP stack.

#![forbid(unsafe_code)]

pub mod api;
#[cfg(feature = "server")]
pub mod challenges;
pub mod claims;
pub mod clock;
pub mod config;
pub mod error;
pub mod fields;
#[cfg(feature = "server")]
pub mod health;
#[cfg(feature = "server")]
pub mod http;
pub mod keys;
pub mod log;
#[cfg(feature = "server")]
pub mod metrics;
pub mod pow;
#[cfg(feature = "server")]
pub mod scheduler;
pub mod seed;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod sessions;
#[cfg(feature = "server")]
pub mod state;
#[cfg(feature = "server")]
pub mod store;
pub mod target_deps;
pub mod targets;
pub mod tracks;
#[cfg(feature = "server")]
pub mod verify;

pub use config::Config;
pub use error::Error;
#[cfg(feature = "server")]
pub use server::RunningServer;
#[cfg(feature = "server")]
pub use state::App;

/// The target-impl version this server was built with (its Cargo.toml `version`).
pub const TARGET_IMPL_VERSION: &str = env!("TARGET_IMPL_VERSION");
/// SHA-256 of target-impl's source listing (build.rs; docs/API.md, "target-impl identity").
pub const TARGET_IMPL_SOURCE_SHA256: &str = env!("TARGET_IMPL_SOURCE_SHA256");
/// SHA-256 of the Cargo.lock packages reachable from target-impl ([`target_deps`]; docs/API.md,
/// "target-impl identity").
pub const TARGET_IMPL_DEPS_SHA256: &str = env!("TARGET_IMPL_DEPS_SHA256");
