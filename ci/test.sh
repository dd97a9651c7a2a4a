#!/usr/bin/env bash
# The whole test run, in the order of DESIGN section 6: format, lints, the part scripts (each
# prints its own table), then the workspace's tests last, so the output ends with the test
# runner's own summary (nextest's total). CI runs exactly this through .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step's heading also gives the time the previous one took, so CI's log shows where its
# minutes go.
SECONDS=0
last=0
step() {
  if [ "$last" -gt 0 ] || [ "$SECONDS" -gt 0 ]; then
    printf '   (%d s)\n' "$((SECONDS - last))"
  fi
  last=$SECONDS
  printf '\n== %s\n' "$*"
}

step "cargo fmt --check"
cargo fmt --all -- --check

# The release-build check (challenge-server/tests/release_build.rs) scans a challenge-server
# built without features: built here, first, in the shared target directory, so that it costs
# no second build of the dependencies; the featured builds below replace target/debug's copy.
step "challenge-server built without features (for the release-build check)"
cargo build -p challenge-server --bin challenge-server
mkdir -p target/release-check
cp target/debug/challenge-server target/release-check/challenge-server-without-features
export RELEASE_CHECK_BINARY="$PWD/target/release-check/challenge-server-without-features"

step "cargo clippy (all targets, all features, warnings denied)"
cargo clippy --workspace --all-targets --all-features -- -D warnings

# Part scripts, added by the issues that create them; each installs what it needs itself.
for part in vectors fuzz bench; do
  if [ -x "ci/$part.sh" ]; then
    step "ci/$part.sh"
    case "$part" in
      fuzz) ci/fuzz.sh "${FUZZ_SECONDS:-15}" ;;
      # Test mode: every benchmark once, so they cannot rot (the report is `ci/bench.sh --quick`).
      bench) ci/bench.sh --test ;;
      *) "ci/$part.sh" ;;
    esac
  fi
done

step "doc tests (workspace, all features)"
cargo test --workspace --all-features --doc

# Last, so the output ends with one summary line that counts every test: nextest (on the machine
# with the toolchain); plain `cargo test` where it is missing.
if cargo nextest --version >/dev/null 2>&1; then
  # The `ci` profile (.config/nextest.toml) bounds every test, so a hang fails instead of
  # spending CI's whole budget.
  step "cargo nextest (workspace, all features, profile ci)"
  cargo nextest run --workspace --all-features --no-fail-fast --profile ci
else
  step "cargo test (workspace, all features)"
  cargo test --workspace --all-features
fi
