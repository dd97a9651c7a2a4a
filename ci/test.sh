#!/usr/bin/env bash
# The whole test run, in the order of DESIGN section 6: format, lints, the part scripts (each
# prints its own table), then the workspace's tests last, so the output ends with the test
# runner's own summary (nextest's total). CI runs exactly this through .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step's heading also gives the time the previous one took, so CI's log shows where its
# minutes go.
# A fresh clone builds once: incremental caches would only fill the disk (a few GiB).
if [ "${CI:-}" = true ]; then
  export CARGO_INCREMENTAL=0
fi

# Each step's end also gives the disk the build directories take and what is left, so a CI
# machine that runs out of space shows which step filled it.
disk() {
  local used free
  # A fresh clone has neither directory until its first build: du's complaint is not a failure.
  used=$({ du -sm target fuzz/target 2>/dev/null || true; } | awk '{s += $1} END {printf "%.1f", s / 1024}')
  free=$(df -Pm . | awk 'NR == 2 {printf "%.1f", $4 / 1024}')
  printf '   (disk: %s GiB in target/ and fuzz/target/, %s GiB free)\n' "$used" "$free"
}

SECONDS=0
last=0
step() {
  if [ "$last" -gt 0 ] || [ "$SECONDS" -gt 0 ]; then
    printf '   (%d s)\n' "$((SECONDS - last))"
    disk
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

# The browser tests (challenge-server/tests/browser.rs): Debian's Chromium, playwright-core and
# axe-core, pinned by ci/browser/package-lock.json.
step "ci/browser.sh (Chromium, playwright-core, axe-core)"
ci/browser.sh

# promtool checks the `/metrics` page (challenge-server/tests/metrics.rs), from Debian's package.
step "promtool (Debian's prometheus package, unpacked under target/tools)"
PROMTOOL="$(ci/promtool.sh)"
export PROMTOOL
echo "$PROMTOOL"

# The OpenAPI document's checks (challenge-server/tests/openapi.rs): openapi-spec-validator and
# openapi-python-client from PyPI, pinned by ci/openapi/requirements.txt, in a venv under
# target/tools.
step "ci/openapi.sh (openapi-spec-validator, openapi-python-client)"
OPENAPI_TOOLS="$(ci/openapi.sh)"
export OPENAPI_TOOLS
echo "$OPENAPI_TOOLS"

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
