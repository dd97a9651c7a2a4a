//! Fuzz target `session_decrypt`: the harness body is `target_impl_fuzz::session_decrypt::check` (src/session_decrypt.rs),
//! shared with the regression replay in target-impl/tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| target_impl_fuzz::session_decrypt::check(data));
