//! Fuzz target `mitm_session`: the harness body is `target_impl_fuzz::server::mitm_session::check` (src/server/mitm_session.rs),
//! shared with the regression replay in challenge-server/tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| target_impl_fuzz::server::mitm_session::check(data));
