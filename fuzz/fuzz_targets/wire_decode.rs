//! Fuzz target `wire_decode`: the harness body is `target_impl_fuzz::wire_decode::check` (src/wire_decode.rs),
//! shared with the regression replay in target-impl/tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| target_impl_fuzz::wire_decode::check(data));
