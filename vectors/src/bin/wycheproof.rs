//! Runs every Wycheproof case of the six primitives of suite v1 against `target_impl::hazmat`
//! and prints passed / skipped (with reasons) / failed per primitive. Exits non-zero if any case
//! failed.

use std::process::ExitCode;

fn main() -> ExitCode {
    match vectors::wycheproof_runner::run_all() {
        Ok(tallies) => {
            print!("{}", vectors::wycheproof_runner::render(&tallies));
            let failed: usize = tallies.iter().map(|t| t.failures.len()).sum();
            if failed == 0 {
                ExitCode::SUCCESS
            } else {
                eprintln!("{failed} Wycheproof case(s) failed");
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("wycheproof: {e}");
            ExitCode::FAILURE
        }
    }
}
