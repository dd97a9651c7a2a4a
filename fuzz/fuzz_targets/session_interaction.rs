//! Fuzz target `session_interaction`: the harness body is `target_impl_fuzz::session_interaction::check` (src/session_interaction.rs),
//! shared with the regression replay in target-impl/tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| target_impl_fuzz::session_interaction::check(data));
