//! Fuzz target `bundle_import`: the harness body is `target_impl_fuzz::bundle_import::check` (src/bundle_import.rs),
//! shared with the regression replay in target-impl/tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| target_impl_fuzz::bundle_import::check(data));
