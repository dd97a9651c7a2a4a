//! The report: each operation's time for ours, vodozemac and the limit, their ratios, the
//! issue's targets, rendered as Markdown and JSON.
//!
//! Every figure is criterion's point estimate of the median time per iteration, and every
//! ratio divides two estimates of the same run (one `cargo bench` invocation, one criterion
//! output directory): on a noisy machine a ratio measured side by side is what means something.

use serde_json::{Value, json};

use crate::estimates::{Estimate, Estimates};
use crate::model::{self, Operation, Section, Sum};

/// Which statistic every figure uses.
pub const STATISTIC: &str =
    "median (criterion's point estimate, ns per iteration, of the clock named in `run`)";

/// One row: an operation with its figures.
#[derive(Debug, Clone)]
pub struct Row {
    /// The operation.
    pub op: Operation,
    /// Ours, ns.
    pub ours: Option<f64>,
    /// vodozemac, ns.
    pub peer: Option<f64>,
    /// The limit, ns.
    pub limit: Option<f64>,
}

impl Row {
    /// ours / vodozemac (time ratio: below 1 is faster than vodozemac).
    pub fn ours_over_peer(&self) -> Option<f64> {
        Some(self.ours? / self.peer?)
    }
    /// ours / limit.
    pub fn ours_over_limit(&self) -> Option<f64> {
        Some(self.ours? / self.limit?)
    }
    /// Messages per second (ours).
    pub fn msgs_per_s(&self) -> Option<f64> {
        (self.op.messages > 0).then_some(self.op.messages as f64 * 1e9 / self.ours?)
    }
    /// Payload bytes per second (ours).
    pub fn bytes_per_s(&self) -> Option<f64> {
        Some(self.msgs_per_s()? * self.op.payload as f64)
    }
}

/// Comparison of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// The value must be at least this.
    AtLeast,
    /// The value must be at most this.
    AtMost,
}

/// One of the targets.
#[derive(Debug, Clone)]
pub struct Target {
    /// What is compared.
    pub name: String,
    /// The measured ratio.
    pub value: f64,
    /// Direction of the comparison.
    pub goal: Goal,
    /// The target, if any (informational rows have none).
    pub target: Option<f64>,
    /// The stretch target, if any.
    pub stretch: Option<f64>,
}

impl Target {
    fn passes(&self, bound: f64) -> bool {
        match self.goal {
            Goal::AtLeast => self.value >= bound,
            Goal::AtMost => self.value <= bound,
        }
    }
    /// Whether the target is met (`None`: informational).
    pub fn met(&self) -> Option<bool> {
        self.target.map(|t| self.passes(t))
    }
    /// Whether the stretch target is met.
    pub fn stretch_met(&self) -> Option<bool> {
        self.stretch.map(|t| self.passes(t))
    }
}

/// The whole report.
#[derive(Debug, Clone)]
pub struct Report {
    /// `quick` or `full`.
    pub mode: String,
    /// Free text about the run (date, commit, load), shown as given.
    pub run_notes: Vec<String>,
    /// Every row.
    pub rows: Vec<Row>,
    /// Every primitive benchmark of the limit group.
    pub primitives: Vec<(String, Estimate)>,
    /// The targets.
    pub targets: Vec<Target>,
    /// The `alloc` bench's output (`alloc.json`), when it ran: heap figures per operation and
    /// the state blob sizes.
    pub heap: Option<Value>,
}

fn eval(sum: &Sum, estimates: &Estimates, missing: &mut Vec<String>) -> Option<f64> {
    let mut total = 0.0;
    for (id, count) in &sum.0 {
        match estimates.get(id) {
            Some(e) => total += f64::from(*count) * e.median,
            None => {
                if !missing.contains(id) {
                    missing.push(id.clone());
                }
                return None;
            }
        }
    }
    Some(total)
}

impl Report {
    /// Builds the report from one run's estimates; every benchmark the model names must be
    /// there (a missing one is an error, so a renamed benchmark cannot silently drop a row).
    pub fn build(
        estimates: &Estimates,
        mode: &str,
        run_notes: Vec<String>,
    ) -> Result<Self, String> {
        let mut missing = Vec::new();
        let rows: Vec<Row> = model::operations()
            .into_iter()
            .map(|op| Row {
                ours: op
                    .ours
                    .as_ref()
                    .and_then(|s| eval(s, estimates, &mut missing)),
                peer: op
                    .peer
                    .as_ref()
                    .and_then(|s| eval(s, estimates, &mut missing)),
                limit: op
                    .limit
                    .as_ref()
                    .and_then(|s| eval(s, estimates, &mut missing)),
                op,
            })
            .collect();
        let primitives: Vec<(String, Estimate)> = model::Primitive::all()
            .into_iter()
            .map(|p| p.id())
            .filter_map(|id| match estimates.get(&id) {
                Some(e) => Some((id, *e)),
                None => {
                    if !missing.contains(&id) {
                        missing.push(id);
                    }
                    None
                }
            })
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "benchmarks missing from the criterion output: {}",
                missing.join(", ")
            ));
        }
        let targets = targets(&rows)?;
        Ok(Self {
            mode: mode.to_owned(),
            run_notes,
            rows,
            primitives,
            targets,
            heap: None,
        })
    }

    /// The row with this key.
    pub fn row(&self, key: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.op.key == key)
    }

    /// The operation slowest relative to its limit (largest ours / limit).
    pub fn slowest_vs_limit(&self) -> Option<(&Row, f64)> {
        self.rows
            .iter()
            .filter_map(|r| Some((r, r.ours_over_limit()?)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

fn targets(rows: &[Row]) -> Result<Vec<Target>, String> {
    let get = |key: &str| {
        rows.iter()
            .find(|r| r.op.key == key)
            .ok_or_else(|| format!("no row {key}"))
    };
    let need = |v: Option<f64>, what: &str| v.ok_or_else(|| format!("no figure for {what}"));
    let mut out = Vec::new();

    let one_way = get("one_way/1024")?;
    out.push(Target {
        name: "one-way 1 KiB encrypt+decrypt: ours msgs/s ÷ vodozemac msgs/s".into(),
        value: 1.0 / need(one_way.ours_over_peer(), "one_way/1024 vs peer")?,
        goal: Goal::AtLeast,
        target: Some(8.0),
        stretch: None,
    });
    out.push(Target {
        name: "one-way 1 KiB encrypt+decrypt: ours / limit".into(),
        value: need(one_way.ours_over_limit(), "one_way/1024 vs limit")?,
        goal: Goal::AtMost,
        target: Some(1.15),
        stretch: None,
    });
    let ping = get("ping_pong/1024")?;
    out.push(Target {
        name: "ping-pong 1 KiB (DH turn every message): ours / limit".into(),
        value: need(ping.ours_over_limit(), "ping_pong/1024 vs limit")?,
        goal: Goal::AtMost,
        target: Some(1.1),
        stretch: None,
    });
    out.push(Target {
        name: "ping-pong 1 KiB (DH turn every message): ours msgs/s ÷ vodozemac msgs/s".into(),
        value: 1.0 / need(ping.ours_over_peer(), "ping_pong/1024 vs peer")?,
        goal: Goal::AtLeast,
        target: Some(2.0),
        stretch: None,
    });
    for v in ["one_time", "no_one_time"] {
        let total = get(&format!("pqxdh_total_{v}"))?;
        let label = v.replace('_', "-");
        out.push(Target {
            name: format!(
                "PQXDH initiator + responder with first message ({label} prekeys): ours / limit"
            ),
            value: need(total.ours_over_limit(), "pqxdh vs limit")?,
            goal: Goal::AtMost,
            target: Some(1.05),
            stretch: None,
        });
        out.push(Target {
            name: format!(
                "PQXDH ({label} prekeys) / vodozemac Olm outbound + inbound session creation"
            ),
            value: need(total.ours_over_peer(), "pqxdh vs peer")?,
            goal: Goal::AtMost,
            target: None,
            stretch: Some(1.0),
        });
    }
    for skip in model::SKIPS {
        let ooo = need(get(&format!("out_of_order/{skip}"))?.ours, "out of order")?;
        let in_order = need(get(&format!("in_order/{}", skip + 1))?.ours, "in order")?;
        out.push(Target {
            name: format!(
                "out of order: message {} first, then the {skip} skipped, total ÷ {} in order",
                skip + 1,
                skip + 1
            ),
            value: ooo / in_order,
            goal: Goal::AtMost,
            target: Some(2.0),
            stretch: None,
        });
    }
    let big = get(&format!("one_way/{}", model::BIG_PAYLOAD))?;
    out.push(Target {
        name: "1 MiB encrypt+decrypt: ours / limit".into(),
        value: need(big.ours_over_limit(), "one_way 1 MiB vs limit")?,
        goal: Goal::AtMost,
        target: Some(1.1),
        stretch: None,
    });
    Ok(out)
}

/// The heap section: what each operation allocates per message (heap-probe's counting
/// allocator, in the `alloc` bench binary), its peak live heap, and the state blob sizes.
fn heap_markdown(heap: &Value, line: &mut impl FnMut(&str)) {
    line("## Heap (the `alloc` bench: exact counts through heap-probe, not timed)");
    line("");
    line(
        "Allocations and bytes are per message, averaged over the run's messages; peak is the most \
         heap live at once during one operation, above what was live before it (the output \
         buffer included). aws-lc keeps its AES and X25519 contexts in its own C heap, which \
         this count does not see.",
    );
    line("");
    line("| operation | payload | allocations | bytes allocated | peak live |");
    line("|---|---:|---:|---:|---:|");
    for r in heap["rows"].as_array().into_iter().flatten() {
        line(&format!(
            "| `{}` | {} | {} | {} | {} |",
            r["operation"].as_str().unwrap_or("?"),
            r["payload_bytes"].as_u64().map_or("?".into(), fmt_bytes),
            r["allocations_per_message"]
                .as_f64()
                .map_or("?".into(), |v| format!("{v:.2}")),
            r["bytes_per_message"]
                .as_f64()
                .map_or("?".into(), |v| fmt_bytes(v as u64)),
            r["peak_live_bytes"].as_u64().map_or("?".into(), fmt_bytes),
        ));
    }
    line("");
    let st = &heap["state"];
    line("| state blob | bytes |");
    line("|---|---:|");
    for (name, key) in [
        (
            "session (responder, after the first message)",
            "session_blob_bytes",
        ),
        (
            "device (fresh, no one-time prekeys)",
            "device_blob_bytes_fresh",
        ),
        (
            "device with that one session",
            "device_blob_bytes_one_session",
        ),
    ] {
        line(&format!(
            "| {name} | {} |",
            st[key].as_u64().map_or("?".into(), |v| v.to_string())
        ));
    }
    line("");
}

/// A byte count, human-readable (B, KiB, MiB).
fn fmt_bytes(b: u64) -> String {
    if b >= 1 << 20 {
        format!("{:.2} MiB", b as f64 / f64::from(1u32 << 20))
    } else if b >= 1 << 10 {
        format!("{:.1} KiB", b as f64 / 1024.0)
    } else {
        format!("{b} B")
    }
}

/// A duration in ns, human-readable.
pub fn fmt_time(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

fn fmt_rate(per_s: f64, unit: &str) -> String {
    if per_s >= 1e9 {
        format!("{:.2} G{unit}", per_s / 1e9)
    } else if per_s >= 1e6 {
        format!("{:.2} M{unit}", per_s / 1e6)
    } else if per_s >= 1e3 {
        format!("{:.1} k{unit}", per_s / 1e3)
    } else {
        format!("{per_s:.0} {unit}")
    }
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map(f).unwrap_or_else(|| "—".into())
}

fn ratio(v: f64) -> String {
    format!("{v:.2}×")
}

fn verdict(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "—",
    }
}

impl Report {
    /// REPORT.md.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let mut line = |s: &str| {
            md.push_str(s);
            md.push('\n');
        };
        line("# Throughput report");
        line("");
        line(&format!(
            "Mode: **{}**. Every figure is criterion's point estimate of the **median** time per \
             operation; every ratio divides two figures of this same run. `ours/vodozemac` and \
             `ours/limit` are time ratios (below 1 is faster). Throughput is ours: messages/s \
             and payload bytes/s (10⁶ = M).",
            self.mode
        ));
        for note in &self.run_notes {
            line(&format!("- {note}"));
        }
        line("");
        line("## Targets (issue 13)");
        line("");
        line("| target | measured | target | status | stretch | status |");
        line("|---|---:|---:|---|---:|---|");
        for t in &self.targets {
            let cmp = match t.goal {
                Goal::AtLeast => "≥",
                Goal::AtMost => "≤",
            };
            line(&format!(
                "| {} | {} | {} | {} | {} | {} |",
                t.name,
                ratio(t.value),
                opt(t.target, |v| format!("{cmp} {v}")),
                verdict(t.met()),
                opt(t.stretch, |v| format!("{cmp} {v}")),
                verdict(t.stretch_met()),
            ));
        }
        line("");
        if let Some((row, r)) = self.slowest_vs_limit() {
            line(&format!(
                "Slowest relative to its limit: **{}** ({}) at {} its limit.",
                row.op.key,
                row.op.title,
                ratio(r)
            ));
            line("");
        }
        for section in Section::ALL {
            let rows: Vec<&Row> = self
                .rows
                .iter()
                .filter(|r| r.op.section == section)
                .collect();
            if rows.is_empty() {
                continue;
            }
            line(&format!("## {}", section.title()));
            line("");
            line(
                "| operation | ours | vodozemac | limit | ours/vodozemac | ours/limit | msgs/s | bytes/s |",
            );
            line("|---|---:|---:|---:|---:|---:|---:|---:|");
            for r in rows {
                line(&format!(
                    "| {} `{}` | {} | {} | {} | {} | {} | {} | {} |",
                    r.op.title,
                    r.op.key,
                    opt(r.ours, fmt_time),
                    opt(r.peer, fmt_time),
                    opt(r.limit, fmt_time),
                    opt(r.ours_over_peer(), ratio),
                    opt(r.ours_over_limit(), ratio),
                    opt(r.msgs_per_s(), |v| fmt_rate(v, "")),
                    opt(r.bytes_per_s(), |v| fmt_rate(v, "B/s")),
                ));
            }
            line("");
        }
        if let Some(heap) = &self.heap {
            heap_markdown(heap, &mut line);
        }
        line("## Primitives (the `limit` group: hazmat calls at protocol lengths)");
        line("");
        line("| primitive | median | 95 % CI of the median | mean |");
        line("|---|---:|---:|---:|");
        for (id, e) in &self.primitives {
            line(&format!(
                "| `{}` | {} | {} – {} | {} |",
                id.strip_prefix("limit/").unwrap_or(id),
                fmt_time(e.median),
                fmt_time(e.median_low),
                fmt_time(e.median_high),
                fmt_time(e.mean),
            ));
        }
        line("");
        line("## Limit formulas");
        line("");
        line(
            "Each limit is the sum of the primitive calls the operation makes (benches/src/model.rs \
             documents each formula beside its code). AES sizes are padded body lengths; AAD is \
             179 B for headers and 236 B for bodies.",
        );
        line("");
        for r in &self.rows {
            if let Some(limit) = &r.op.limit {
                line(&format!("- `{}` = {}", r.op.key, limit.render()));
            }
        }
        md
    }

    /// report.json.
    pub fn json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                json!({
                    "key": r.op.key,
                    "title": r.op.title,
                    "section": r.op.section.title(),
                    "ours_ns": r.ours,
                    "vodozemac_ns": r.peer,
                    "limit_ns": r.limit,
                    "ours_over_vodozemac": r.ours_over_peer(),
                    "ours_over_limit": r.ours_over_limit(),
                    "msgs_per_s": r.msgs_per_s(),
                    "bytes_per_s": r.bytes_per_s(),
                    "messages": r.op.messages,
                    "payload_bytes": r.op.payload,
                    "ours_formula": r.op.ours.as_ref().map(Sum::render),
                    "vodozemac_formula": r.op.peer.as_ref().map(Sum::render),
                    "limit_formula": r.op.limit.as_ref().map(Sum::render),
                })
            })
            .collect();
        let primitives: Vec<Value> = self
            .primitives
            .iter()
            .map(|(id, e)| {
                json!({
                    "id": id,
                    "median_ns": e.median,
                    "median_ci95_ns": [e.median_low, e.median_high],
                    "mean_ns": e.mean,
                })
            })
            .collect();
        let targets: Vec<Value> = self
            .targets
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "value": t.value,
                    "goal": match t.goal { Goal::AtLeast => "at_least", Goal::AtMost => "at_most" },
                    "target": t.target,
                    "met": t.met(),
                    "stretch": t.stretch,
                    "stretch_met": t.stretch_met(),
                })
            })
            .collect();
        json!({
            "mode": self.mode,
            "statistic": STATISTIC,
            "run": self.run_notes,
            "slowest_vs_limit": self.slowest_vs_limit().map(|(r, v)| json!({"key": r.op.key, "ours_over_limit": v})),
            "targets": targets,
            "operations": rows,
            "primitives": primitives,
            "heap": self.heap,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimates::Estimate;

    fn every_id() -> Vec<String> {
        let mut ids: Vec<String> = model::Primitive::all()
            .into_iter()
            .map(|p| p.id())
            .collect();
        for op in model::operations() {
            for sum in [&op.ours, &op.peer, &op.limit].into_iter().flatten() {
                ids.extend(sum.0.iter().map(|(id, _)| id.clone()));
            }
        }
        ids
    }

    fn estimates(ns: f64) -> Estimates {
        every_id()
            .into_iter()
            .map(|id| {
                let e = Estimate {
                    median: ns,
                    median_low: ns,
                    median_high: ns,
                    mean: ns,
                };
                (id, e)
            })
            .collect()
    }

    #[test]
    fn heap_section_renders_the_alloc_bench_output() {
        let mut report = Report::build(&estimates(1000.0), "test", vec![]).unwrap();
        assert!(!report.markdown().contains("## Heap"));
        report.heap = Some(json!({
            "rows": [{"operation": "decrypt_in_place", "payload_bytes": 1048576,
                      "allocations_per_message": 0.0, "bytes_per_message": 0.0,
                      "peak_live_bytes": 0}],
            "state": {"session_blob_bytes": 473, "device_blob_bytes_fresh": 194,
                      "device_blob_bytes_one_session": 855},
        }));
        let md = report.markdown();
        assert!(
            md.contains("| `decrypt_in_place` | 1.00 MiB | 0.00 | 0 B | 0 B |"),
            "{md}"
        );
        assert!(md.contains("| device with that one session | 855 |"));
        assert_eq!(report.json()["heap"]["state"]["session_blob_bytes"], 473);
    }

    #[test]
    fn report_renders_from_a_complete_run() {
        let report = Report::build(&estimates(1000.0), "test", vec!["note".into()]).unwrap();
        let md = report.markdown();
        assert!(md.contains("## Targets (issue 13)") && md.contains("`one_way/1024`"));
        let json = report.json();
        assert_eq!(json["mode"], "test");
        assert!(json["operations"].as_array().unwrap().len() >= 20);
        let svg = crate::chart::svg(&report).unwrap();
        assert!(svg.contains("<svg") && svg.contains("vodozemac"));
        // One-way 1 KiB: ours is one benchmark, vodozemac one: equal times are ratio 1.
        let one_way = report.row("one_way/1024").unwrap();
        assert_eq!(one_way.ours_over_peer(), Some(1.0));
        assert_eq!(one_way.msgs_per_s(), Some(1e6));
    }

    #[test]
    fn a_missing_benchmark_is_an_error() {
        let mut partial = estimates(1000.0);
        partial.remove("ours/one_way/1024");
        let err = Report::build(&partial, "test", vec![]).unwrap_err();
        assert!(err.contains("ours/one_way/1024"), "{err}");
    }
}
