//! Writes the throughput report from one criterion run.
//!
//! `bench-report <criterion-dir> <out-dir> <mode> [note …]`: reads every benchmark's estimates
//! under `criterion-dir`, writes `REPORT.md`, `report.json` and `chart.svg` into `out-dir`,
//! prints the report's tables. `ci/bench.sh` runs it; each note becomes a line of the header.

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
    let report = Report::build(&estimates, &mode, notes)?;
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
