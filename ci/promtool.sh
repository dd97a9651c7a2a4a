#!/usr/bin/env bash
# Prints the path of a promtool, installing it first if needed (idempotent): Debian's
# `prometheus` package, unpacked under target/tools/ without running its maintainer scripts
# (it would add a user and a service; only the `promtool` binary is needed, to check the
# `/metrics` page in challenge-server/tests/metrics.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v promtool >/dev/null 2>&1; then
  command -v promtool
  exit 0
fi
dest="$PWD/target/tools/prometheus"
bin="$dest/usr/bin/promtool"
if [ ! -x "$bin" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # A machine whose package lists are stale or empty gets them refreshed once.
  if ! (cd "$work" && apt-get download prometheus >/dev/null 2>&1); then
    apt-get update -qq >/dev/null
    (cd "$work" && apt-get download prometheus >/dev/null 2>&1)
  fi
  mkdir -p "$dest"
  dpkg -x "$work"/prometheus_*.deb "$dest"
fi
"$bin" --version >/dev/null
echo "$bin"
