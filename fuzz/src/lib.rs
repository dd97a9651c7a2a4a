//! The bodies of the fuzz targets, one module per target, named by noun: target-impl's in
//! `protocol.rs` (re-exported here, and included by path in target-impl's regression replay)
//! and challenge-server's sans-IO core in [`server`] (included by path in challenge-server's).
//! Each crate's replay includes only its own part, and [`corpus`] (seeds, the replay loop) which
//! both share, so neither depends on the other.
#![forbid(unsafe_code)]

pub mod corpus;
#[path = "protocol.rs"]
mod protocol;
pub mod server;

pub use protocol::*;
