//! Fuzz target `aead_differential`: the harness body is `target_impl_fuzz::aead_differential::check` (src/aead_differential.rs),
//! shared with the regression replay in target-impl/tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| target_impl_fuzz::aead_differential::check(data));
