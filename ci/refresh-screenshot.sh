#!/usr/bin/env bash
# Refreshes the challenge page's screenshot README shows (docs/challenge-page.png) from the
# browser test's output: runs challenge-server/tests/browser.rs (ci/browser.sh installs its
# tools), then copies ci/artifacts/pages/challenge.png. Commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
ci/browser.sh
cargo nextest run -p challenge-server --all-features --test browser
cp ci/artifacts/pages/challenge.png docs/challenge-page.png
echo "docs/challenge-page.png refreshed ($(wc -c < docs/challenge-page.png) bytes)"
