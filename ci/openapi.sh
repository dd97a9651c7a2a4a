#!/usr/bin/env bash
# Prints the bin directory of a Python venv under target/tools/openapi holding
# openapi-spec-validator and openapi-python-client at the versions pinned in
# ci/openapi/requirements.txt (idempotent: reinstalls only when that file changes). The system
# Python is untouched. challenge-server/tests/openapi.rs reads the directory from OPENAPI_TOOLS.
set -euo pipefail
cd "$(dirname "$0")/.."
req="$PWD/ci/openapi/requirements.txt"
venv="$PWD/target/tools/openapi"
stamp="$venv/requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-virtualenv -r "$req" >&2
  echo "$want" >"$stamp"
fi
"$venv/bin/openapi-spec-validator" --help >/dev/null
"$venv/bin/openapi-python-client" --version >/dev/null
echo "$venv/bin"
