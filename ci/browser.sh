#!/usr/bin/env bash
# Installs what the browser tests need (idempotent): Debian's Chromium, and playwright-core and
# axe-core at the versions ci/browser/package-lock.json pins. challenge-server/tests/browser.rs
# then drives the pages with it (screenshots under ci/artifacts/).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
if [ ! -d ci/browser/node_modules/playwright-core ] || [ ! -d ci/browser/node_modules/axe-core ]; then
  (cd ci/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "chromium: $(chromium --headless --no-sandbox --version 2>/dev/null | tail -1)"
echo "node: $(node --version), $(cd ci/browser && node -p 'require("playwright-core/package.json").version') playwright-core, $(cd ci/browser && node -p 'require("axe-core/package.json").version') axe-core"
