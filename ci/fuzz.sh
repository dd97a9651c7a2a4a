#!/usr/bin/env bash
# Builds every fuzz target of fuzz/ with the address sanitizer on stable Rust and runs each for
# SECONDS (default 30), two at a time; fails on any crash, timeout, leak or out-of-memory, and
# prints a table: target, executions, executions per second, corpus size, coverage.
#
#   ci/fuzz.sh [seconds-per-target]
#
# Environment: FUZZ_JOBS (targets run at once, default 2), FUZZ_TIMEOUT (seconds one input may
# take before it counts as a hang, default 10), FUZZ_TARGETS (space-separated subset),
# FUZZ_SANITIZER (address, the default, or none).
# docs/FUZZING.md explains the choices, the table and what to do with a crash.
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${1:-30}"
jobs="${FUZZ_JOBS:-2}"
timeout="${FUZZ_TIMEOUT:-10}"
sanitizer="${FUZZ_SANITIZER:-address}"
cargo_fuzz_version=0.13.2

step() { printf -- '-- %s\n' "$*"; }
started=$SECONDS

if ! cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $cargo_fuzz_version"; then
  step "installing cargo-fuzz $cargo_fuzz_version"
  cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked
fi
# Every [[bin]] of fuzz/Cargo.toml (the server's: claim_text, mitm_session, ind_cca_game, seizure_schedule), unless
# FUZZ_TARGETS names a subset.
read -r -a targets <<<"${FUZZ_TARGETS:-$(cargo fuzz list --fuzz-dir fuzz | tr '\n' ' ')}"

# The harness (fuzz/src) is linted by the root clippy in ci/test.sh, which builds it into
# target-impl/tests/fuzz_regressions.rs; the targets are one line each. Clippy of the fuzz
# workspace itself (`cargo clippy --manifest-path fuzz/Cargo.toml --all-targets -- -D
# warnings`) would cost a third build of the dependencies, so CI checks only its format.
step "fuzz/ format (its own workspace)"
cargo fmt --manifest-path fuzz/Cargo.toml -- --check

step "seed corpora (fixed-seed conversation) -> fuzz/seeds"
seeds_started=$SECONDS
cargo run --manifest-path fuzz/Cargo.toml --quiet --example seed_corpus -- fuzz/seeds
echo "seeds written in $((SECONDS - seeds_started))s"

# The address sanitizer is nightly-only (-Zsanitizer=address): on stable Rust it needs
# RUSTC_BOOTSTRAP=1, set for these commands only. docs/FUZZING.md says why ASan rather than
# `-s none`. -O: optimized; -a: with debug assertions and overflow checks.
case "$sanitizer" in
  address) fuzz=(env RUSTC_BOOTSTRAP=1 cargo fuzz) ;;
  none) fuzz=(cargo fuzz) ;;
  *) echo "FUZZ_SANITIZER must be address or none" >&2; exit 2 ;;
esac
flags=(-O -a --sanitizer "$sanitizer" --fuzz-dir fuzz)
mkdir -p fuzz/logs
step "building the targets (sanitizer: $sanitizer; log in fuzz/logs/build.log)"
build_started=$SECONDS
if ! "${fuzz[@]}" build "${flags[@]}" >fuzz/logs/build.log 2>&1; then
  tail -n 60 fuzz/logs/build.log
  echo "fuzz build failed: a target stopped compiling" >&2
  exit 1
fi
echo "built in $((SECONDS - build_started))s"

run_target() {
  local t=$1
  # A target's own dictionary if it has one (claim_text: JSON), else the wire one.
  local dict="fuzz/dict/$t.dict"
  [ -f "$dict" ] || dict=fuzz/dict/wire.dict
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  touch "fuzz/logs/$t.stamp"
  # -max_total_time bounds the run; -timeout makes a slow input a failure (a hang);
  # -rss_limit_mb an out-of-memory one; leaks fail through LeakSanitizer (on with ASan).
  if "${fuzz[@]}" run "${flags[@]}" "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
    -max_total_time="$secs" -timeout="$timeout" -rss_limit_mb=2048 -print_final_stats=1 \
    -dict="$dict" >"fuzz/logs/$t.log" 2>&1; then
    echo 0 >"fuzz/logs/$t.rc"
  else
    echo $? >"fuzz/logs/$t.rc"
  fi
}

step "running each target for ${secs}s, ${jobs} at a time"
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  run_target "$t" &
done
wait

# One line per target from its libFuzzer log.
stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n1; }
failed=()
printf '\n%-20s %12s %9s %15s %18s  %s\n' target executions exec/s corpus coverage status
for t in "${targets[@]}"; do
  log="fuzz/logs/$t.log"
  done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|NEW|REDUCE|pulse|INITED)' "$log" | tail -n1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\).*/\1 pcs, \2 ft/p' <<<"$done_line")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$done_line")
  new_artifacts=$(find "fuzz/artifacts/$t" -type f -newer "fuzz/logs/$t.stamp" | wc -l)
  status=ok
  rc=$(cat "fuzz/logs/$t.rc" 2>/dev/null || echo 1)
  if [ "$rc" -ne 0 ] || [ "$new_artifacts" -gt 0 ]; then
    if grep -q 'ERROR: libFuzzer: timeout' "$log"; then status=TIMEOUT
    elif grep -q 'ERROR: LeakSanitizer' "$log"; then status=LEAK
    elif grep -q 'ERROR: libFuzzer: out-of-memory' "$log"; then status=OOM
    elif grep -q 'ERROR: AddressSanitizer' "$log"; then status=ASAN
    else status=CRASH; fi
    failed+=("$t")
  fi
  printf '%-20s %12s %9s %15s %18s  %s\n' "$t" "$(stat number_of_executed_units "$log")" \
    "$(stat average_exec_per_sec "$log")" "${corp:--}" "${cov:--}" "$status"
done
printf '(sanitizer %s; %ss per target, %s at a time; corpus: inputs/bytes kept by libFuzzer; coverage: edges (pcs) and features (ft); %ss in all)\n' \
  "$sanitizer" "$secs" "$jobs" "$((SECONDS - started))"

if [ "${#failed[@]}" -gt 0 ]; then
  for t in "${failed[@]}"; do
    printf '\n== %s failed; end of fuzz/logs/%s.log:\n' "$t" "$t"
    grep -v -E '^#[0-9]+|^\s*$' "fuzz/logs/$t.log" | tail -n 60
    printf '\nartifacts: %s\n' "$(find "fuzz/artifacts/$t" -type f -newer "fuzz/logs/$t.stamp" | tr '\n' ' ')"
  done
  printf '\nTo keep a crash as a regression: see docs/FUZZING.md ("A crash").\n' >&2
  exit 1
fi
