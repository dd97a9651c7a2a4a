//! Replays every vector file in a directory (default `vectors/data`) through target-impl and
//! prints positive / negative / steps per file; exits non-zero if any vector does not check.
//! `cargo test -p vectors` runs the same checker.

use std::path::PathBuf;
use std::process::ExitCode;

use vectors::check::{Report, check_file};
use vectors::model::VectorFile;

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data"));
    let mut names: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(e) => {
            eprintln!("{}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    names.sort();
    let mut total = Report::default();
    let mut failed = 0;
    println!(
        "{:<20} {:>8} {:>8} {:>6}  result",
        "file", "positive", "negative", "steps"
    );
    for path in &names {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let checked = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<VectorFile>(&t).map_err(|e| e.to_string()))
            .and_then(|f| check_file(&f).map_err(|e| e.to_string()));
        match checked {
            Ok(r) => {
                println!(
                    "{name:<20} {:>8} {:>8} {:>6}  ok",
                    r.positive, r.negative, r.steps
                );
                total.positive += r.positive;
                total.negative += r.negative;
                total.steps += r.steps;
            }
            Err(e) => {
                failed += 1;
                println!("{name:<20} {:>8} {:>8} {:>6}  FAILED: {e}", "-", "-", "-");
            }
        }
    }
    println!(
        "{:<20} {:>8} {:>8} {:>6}  {}",
        "total",
        total.positive,
        total.negative,
        total.steps,
        if failed == 0 { "ok" } else { "FAILED" }
    );
    if failed == 0 && !names.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
