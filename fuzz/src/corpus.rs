//! What the protocol's targets ([`crate::TARGETS`]) and the server's ([`crate::server`]) share:
//! a seed input, and the replay of inputs (seeds, `fuzz/regressions/<target>/*`) through their
//! targets' checks with every failure reported at once. target-impl's and challenge-server's
//! regression tests each include this file by path beside their own part of the harness, so
//! neither depends on the other.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// A target's check: panics (by assertion) if and only if `data` shows a bug.
pub type Check = fn(&[u8]);

/// One seed input.
pub struct Seed {
    /// The target it is for.
    pub target: &'static str,
    /// A file name that says what it is.
    pub name: String,
    /// The input.
    pub bytes: Vec<u8>,
}

/// The seed `name` of `target`.
pub fn seed(target: &'static str, name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Seed {
    Seed {
        target,
        name: name.into(),
        bytes: bytes.into(),
    }
}

/// One input to replay: what a failure names, the check it goes through, its bytes.
pub struct Input {
    /// The seed's or the file's name.
    pub label: String,
    /// Its target's check.
    pub check: Check,
    /// The input.
    pub bytes: Vec<u8>,
}

/// Each seed as an input to its target's check among `targets`; a seed of a target not among
/// them is an error naming it.
pub fn seed_inputs(seeds: Vec<Seed>, targets: &[(&str, Check)]) -> Result<Vec<Input>, String> {
    seeds
        .into_iter()
        .map(|s| {
            let check = targets
                .iter()
                .find(|(name, _)| *name == s.target)
                .map(|(_, check)| *check)
                .ok_or_else(|| format!("seed {}/{}: no such target", s.target, s.name))?;
            Ok(Input {
                label: format!("seed {}/{}", s.target, s.name),
                check,
                bytes: s.bytes,
            })
        })
        .collect()
}

/// Every file of `dir` (a target's regressions) but its `.gitkeep`, by name, as an input to
/// `check`.
pub fn regression_inputs(dir: &Path, check: Check) -> io::Result<Vec<Input>> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let path = e?.path();
        if path.is_file() && path.file_name().is_some_and(|n| n != ".gitkeep") {
            files.push(path);
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|file| {
            Ok(Input {
                label: file.display().to_string(),
                check,
                bytes: std::fs::read(&file)?,
            })
        })
        .collect()
}

/// Runs every input through its check and asserts that none failed, naming every failure and
/// what it asserted; returns how many ran.
pub fn replay(inputs: Vec<Input>) -> usize {
    let count = inputs.len();
    let mut failed = Vec::new();
    for input in inputs {
        let check = input.check;
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&input.bytes))) {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!(
                "{} ({} bytes): {what}",
                input.label,
                input.bytes.len()
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {count} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    count
}
