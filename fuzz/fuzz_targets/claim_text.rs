//! Fuzz target `claim_text`: the harness body is `target_impl_fuzz::server::claim_text::check` (src/server/claim_text.rs),
//! shared with the regression replay in challenge-server/tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| target_impl_fuzz::server::claim_text::check(data));
