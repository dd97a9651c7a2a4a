//! Throughput benchmarks of target-impl, measured in one run against vodozemac (the peer) and
//! against the limit its primitives set; and the report that `ci/bench.sh` writes from them.
//!
//! - `benches/throughput/`: the criterion benchmarks, groups `limit`, `ours` and `peer`;
//! - [`model`]: what each report row measures and how its limit is computed;
//! - [`estimates`], [`report`], [`chart`]: read criterion's output and write
//!   `bench-report/REPORT.md`, `report.json` and `chart.svg` (binary `bench-report`).

#![forbid(unsafe_code)]

pub mod chart;
pub mod estimates;
pub mod model;
pub mod report;
