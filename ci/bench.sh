#!/usr/bin/env bash
# Throughput benchmarks (issue 7): target-impl against vodozemac and against the limit its
# primitives set, all in one criterion run, so that every ratio compares figures taken side by
# side on a noisy machine.
#
#   ci/bench.sh           full run (about 15 minutes on 2 cores), then the report
#   ci/bench.sh --quick   short warm-up and measurement (a few minutes), then the report
#   ci/bench.sh --test    every benchmark once, as a test (ci/test.sh runs this); no report
#
# Time is the benchmark thread's CPU time (benches/benches/throughput/clock.rs): on a shared
# machine, other processes then cost the figures little; BENCH_CLOCK=wall measures wall time.
#
# Then the heap figures (benches/benches/alloc.rs, heap-probe's counting allocator, its own binary).
# The report: bench-report/REPORT.md (tables, targets, heap, limit formulas), report.json and
# chart.svg; criterion's raw output of the run is kept in bench-report/criterion/.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
case "${1:-}" in
  "") ;;
  --quick) mode=quick ;;
  --test) mode=test ;;
  *) echo "usage: ci/bench.sh [--quick | --test]" >&2; exit 2 ;;
esac

if [ "$mode" = test ]; then
  # Criterion runs each benchmark once when started by `cargo test` (the equivalent of
  # `cargo bench -- --test`); the test profile reuses the build of the workspace's tests.
  # `--bench '*'`: the bench targets alone (`--benches` would also run every library's unit
  # tests, which the workspace's test step runs).
  exec cargo test --workspace --all-features --bench '*'
fi

out=bench-report
rm -rf "$out"
mkdir -p "$out"
# Only this run's results: the report must never mix figures of two runs.
export CRITERION_HOME="$PWD/$out/criterion"

args=()
if [ "$mode" = quick ]; then
  args=(--warm-up-time 0.5 --measurement-time 1 --sample-size 20 --nresamples 20000)
fi

# Build first, then run the binary directly: cargo would hold the target directory's lock for
# the whole run, blocking every other build in the workspace.
exe=$(cargo bench -p benches --bench throughput --no-run --message-format=json |
  sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | grep '/throughput-' | tail -n 1)
if [ -z "$exe" ] || [ ! -x "$exe" ]; then
  echo "ci/bench.sh: could not find the built benchmark binary" >&2
  exit 1
fi

if [ "${BENCH_CLOCK:-cpu}" = wall ]; then
  clock="wall time (BENCH_CLOCK=wall)"
else
  clock="the benchmark thread's CPU time, so that other processes on the machine do not inflate the figures (BENCH_CLOCK=wall for wall time)"
fi
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
SECONDS=0
(cd benches && "$exe" --bench ${args[@]+"${args[@]}"})
elapsed=$SECONDS
# Heap figures: their own binary (heap-probe's counting allocator), after the timed run, so
# that the allocator never runs under a timed benchmark. Counts are exact, so one pass does.
alloc_exe=$(cargo bench -p benches --bench alloc --no-run --message-format=json |
  sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | grep '/alloc-' | tail -n 1)
if [ -z "$alloc_exe" ] || [ ! -x "$alloc_exe" ]; then
  echo "ci/bench.sh: could not find the built alloc benchmark binary" >&2
  exit 1
fi
ALLOC_REPORT="$PWD/$out/alloc.json" "$alloc_exe" --bench
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD 2>/dev/null; then commit="$commit (with uncommitted changes)"; fi

cargo run --profile bench -q -p benches --bin bench-report -- "$CRITERION_HOME" "$out" "$mode" \
  "run started $started, benchmarks took ${elapsed} s; commit $commit" \
  "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//' || echo unknown cpu); load average (1/5/15 min) before $load_before, after $load_after" \
  "clock: $clock; $(rustc --version); peer vodozemac 0.11.1 (default features, Olm SessionConfig::version_1)"
