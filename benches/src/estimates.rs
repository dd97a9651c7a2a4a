//! Reading criterion's results: every `new/benchmark.json` under the output directory names a
//! benchmark (`full_id`), and the `new/estimates.json` beside it holds its estimates.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One benchmark's estimates, nanoseconds per iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Criterion's point estimate of the median.
    pub median: f64,
    /// Lower bound of the median's confidence interval.
    pub median_low: f64,
    /// Upper bound of the median's confidence interval.
    pub median_high: f64,
    /// Criterion's point estimate of the mean.
    pub mean: f64,
}

/// Every benchmark found, by full id (`group/function/parameter`).
pub type Estimates = BTreeMap<String, Estimate>;

/// Reads every benchmark under `dir` (criterion's output directory of one run).
pub fn read(dir: &Path) -> Result<Estimates, String> {
    let mut out = Estimates::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let entries = std::fs::read_dir(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
            let child = entry.path();
            if child.is_dir() {
                if child.file_name().is_some_and(|n| n == "new") {
                    if let Some((id, estimate)) = read_one(&child)? {
                        out.insert(id, estimate);
                    }
                } else {
                    pending.push(child);
                }
            }
        }
    }
    Ok(out)
}

fn read_json(path: &PathBuf) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_one(new_dir: &Path) -> Result<Option<(String, Estimate)>, String> {
    let benchmark = new_dir.join("benchmark.json");
    let estimates = new_dir.join("estimates.json");
    if !benchmark.is_file() || !estimates.is_file() {
        return Ok(None);
    }
    let benchmark = read_json(&benchmark)?;
    let Some(id) = benchmark.get("full_id").and_then(Value::as_str) else {
        return Err(format!("{}: no full_id", new_dir.display()));
    };
    let estimates = read_json(&estimates)?;
    let field = |stat: &str, path: &[&str]| -> Result<f64, String> {
        let mut v = estimates.get(stat);
        for key in path {
            v = v.and_then(|v| v.get(key));
        }
        v.and_then(Value::as_f64)
            .ok_or_else(|| format!("{id}: estimates.json lacks {stat}.{}", path.join(".")))
    };
    Ok(Some((
        id.to_owned(),
        Estimate {
            median: field("median", &["point_estimate"])?,
            median_low: field("median", &["confidence_interval", "lower_bound"])?,
            median_high: field("median", &["confidence_interval", "upper_bound"])?,
            mean: field("mean", &["point_estimate"])?,
        },
    )))
}
