//! Writes the throughput report from one criterion run.
//!
//! `bench-report <criterion-dir> <out-dir> <mode> [note …]`: reads every benchmark's estimates
//! under `criterion-dir`, writes `REPORT.md`, `report.json` and `chart.svg` into `out-dir`,
//! prints the report's tables; `<out-dir>/alloc.json`, the `alloc` bench's heap figures, becomes
//! the heap section when present. `ci/bench.sh` runs it; each note becomes a line of the header.

use std::path::PathBuf;
use std::process::ExitCode;

use benches::{chart, estimates, report::Report};

fn run() -> Result<(), String> {
    let mut args = std::env::args_os().skip(1);
    let usage = "usage: bench-report <criterion-dir> <out-dir> <mode> [note …]";
    let criterion_dir = PathBuf::from(args.next().ok_or(usage)?);
    let out_dir = PathBuf::from(args.next().ok_or(usage)?);
    let mode = args.next().ok_or(usage)?.to_string_lossy().into_owned();
    let notes: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();

    let estimates = estimates::read(&criterion_dir)?;
    let mut report = Report::build(&estimates, &mode, notes)?;
    // The `alloc` bench writes its figures beside the report before this runs (ci/bench.sh).
    let heap_path = out_dir.join("alloc.json");
    if let Ok(text) = std::fs::read_to_string(&heap_path) {
        let heap =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", heap_path.display()))?;
        report.heap = Some(heap);
    }
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let write = |name: &str, contents: &str| {
        let path = out_dir.join(name);
        std::fs::write(&path, contents).map_err(|e| format!("{}: {e}", path.display()))
    };
    let markdown = report.markdown();
    write("REPORT.md", &markdown)?;
    let json = serde_json::to_string_pretty(&report.json()).map_err(|e| e.to_string())?;
    write("report.json", &(json + "\n"))?;
    write("chart.svg", &chart::svg(&report)?)?;
    print!("{markdown}");
    println!(
        "\nwrote {}/REPORT.md, report.json, chart.svg",
        out_dir.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-report: {e}");
            ExitCode::FAILURE
        }
    }
}
