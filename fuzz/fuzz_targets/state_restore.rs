//! Fuzz target `state_restore`: the harness body is `target_impl_fuzz::state_restore::check` (src/state_restore.rs),
//! shared with the regression replay in target-impl/tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| target_impl_fuzz::state_restore::check(data));
