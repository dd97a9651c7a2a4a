//! The bodies of challenge-server's fuzz targets: its sans-IO core, built without the `server`
//! feature (no tokio, sqlx or axum) and without the weak targets, so every session runs on the
//! real target-impl.
//!
//! As in the protocol's targets, `check(data)` is the whole target and fails only by an
//! `assert!` naming the property; `challenge-server/tests/fuzz_regressions.rs` includes this
//! file by path (and `corpus.rs`, as target-impl's replay does) and replays
//! `fuzz/regressions/<target>/` and [`seeds`] through the same checks.

pub mod claim_text;
pub mod ind_cca_game;
pub mod mitm_session;
pub mod seeds;
pub mod seizure_schedule;

pub use crate::corpus::Check;

/// Every target, by the name of its `fuzz_targets/<name>.rs` and `regressions/<name>/`.
pub const TARGETS: [(&str, Check); 4] = [
    ("claim_text", claim_text::check),
    ("mitm_session", mitm_session::check),
    ("ind_cca_game", ind_cca_game::check),
    ("seizure_schedule", seizure_schedule::check),
];
