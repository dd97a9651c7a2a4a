//! Fuzz target `seizure_schedule`: the harness body is `target_impl_fuzz::server::seizure_schedule::check` (src/server/seizure_schedule.rs),
//! shared with the regression replay in challenge-server/tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| target_impl_fuzz::server::seizure_schedule::check(data));
