//! Throughput benchmarks, three groups in one run so that every ratio compares figures taken
//! side by side: `limit` (the primitives exactly as target-impl calls them, through `hazmat`),
//! `ours` (target-impl's operations) and `peer` (vodozemac doing the same jobs).
//!
//! `cargo bench -p benches --bench throughput` runs them; `ci/bench.sh` also writes the report;
//! `cargo test -p benches --bench throughput` runs each once as a test.
//!
//! Timing rule for every group: untimed setup prepares each operation's inputs (a batch at a
//! time), the operation alone is timed, and its outputs are dropped after the clock stops. The
//! clock is the benchmark thread's CPU time (`clock.rs`; `BENCH_CLOCK=wall` for wall time).

// A benchmark step that fails must stop the run loudly rather than time an error path: the
// fixtures and timed closures use `expect` and `panic!` for exactly that.
#![allow(clippy::expect_used, clippy::panic)]

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

mod clock;
mod fixtures;
mod limit;
mod ours;
mod peer;

/// Full-run defaults; `ci/bench.sh --quick` shortens them on the command line.
fn config() -> Criterion<clock::Clock> {
    clock::criterion(Duration::from_secs(2), Duration::from_secs(4))
}

criterion_group! {
    name = throughput;
    config = config();
    targets = limit::bench, ours::bench, peer::bench
}
criterion_main!(throughput);
