//! promtool, which checks the `/metrics` page and the documented scrape configuration:
//! `PROMTOOL` (ci/test.sh installs it through ci/promtool.sh and sets it) or the PATH.

use std::io::Write as _;
use std::process::{Command, Stdio};

/// The promtool to run; under CI a missing one fails the test, elsewhere it says so loudly and
/// the caller's own checks stand alone.
pub fn find(what: &str) -> Option<String> {
    let found = std::env::var("PROMTOOL").ok().or_else(|| {
        Command::new("promtool")
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| "promtool".to_owned())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "promtool is missing under CI: ci/test.sh installs it and sets PROMTOOL"
        );
        eprintln!(
            "WARNING: promtool not found (set PROMTOOL, or run ci/promtool.sh): {what} was not \
             checked by promtool"
        );
    }
    found
}

/// `promtool <args…>` with `input` on standard input: `Err` with its output if it refuses.
pub fn run(promtool: &str, args: &[&str], input: &str) -> Result<(), String> {
    let mut child = Command::new(promtool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {promtool}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .map_err(|e| format!("cannot write to promtool: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("promtool did not finish: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "promtool {} refused it:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
