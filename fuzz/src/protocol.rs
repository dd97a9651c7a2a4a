//! The bodies of target-impl's fuzz targets, one module per target, named by noun
//! (re-exported at the fuzz crate's root).
//!
//! Each module's `check(data)` is the whole target: it feeds `data` to one entry point and
//! asserts what must hold. The libFuzzer binaries in `fuzz_targets/` are one line each, and
//! `target-impl/tests/fuzz_regressions.rs` includes this file by path (and `corpus.rs`, the
//! seeds and the replay loop it shares with the server's part) to replay
//! `fuzz/regressions/<target>/` (and the seed corpora) through the very same checks in the
//! workspace's `cargo test`, without libFuzzer.
//!
//! No `unwrap`, `expect`, indexing or `panic!` that input can reach: a check fails only by an
//! `assert!` that states the property the target exists for. Fixed-seed setup
//! ([`fixture`]) is built once per process and is not input-reachable.
#![forbid(unsafe_code)]

pub mod aead_differential;
pub mod blob;
pub mod bundle_import;
pub mod fixture;
pub mod handshake;
pub mod seeds;
pub mod session_decrypt;
pub mod session_interaction;
pub mod state_restore;
pub mod wire_decode;

pub use crate::corpus::Check;

/// Every target, by the name of its `fuzz_targets/<name>.rs` and `regressions/<name>/`.
pub const TARGETS: [(&str, Check); 7] = [
    ("wire_decode", wire_decode::check),
    ("bundle_import", bundle_import::check),
    ("handshake", handshake::check),
    ("session_decrypt", session_decrypt::check),
    ("state_restore", state_restore::check),
    ("aead_differential", aead_differential::check),
    ("session_interaction", session_interaction::check),
];

/// The targets of challenge-server's sans-IO core (`src/server/`), replayed by
/// `challenge-server/tests/fuzz_regressions.rs`: named here so that target-impl's replay knows
/// every target without depending on the server.
pub const SERVER_TARGETS: [&str; 4] = [
    "claim_text",
    "mitm_session",
    "ind_cca_game",
    "seizure_schedule",
];
