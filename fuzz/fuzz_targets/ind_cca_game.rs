//! Fuzz target `ind_cca_game`: the harness body is `target_impl_fuzz::server::ind_cca_game::check` (src/server/ind_cca_game.rs),
//! shared with the regression replay in challenge-server/tests/fuzz_regressions.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| target_impl_fuzz::server::ind_cca_game::check(data));
