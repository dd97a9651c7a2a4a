#!/usr/bin/env bash
# Test vectors (issue 5, DESIGN section 5): Wycheproof against the primitive calls, the Rust
# checker over vectors/data, the JSON Schema, the independent Python re-derivation (once
# vectors/python/check.py exists), and that the generator reproduces vectors/data byte for byte.
# Sets up vectors/python/.venv (gitignored) with the pinned requirements if missing. Prints each
# part's table, then a summary; exits non-zero if any part failed.
set -uo pipefail
cd "$(dirname "$0")/.."

venv=vectors/python/.venv
requirements=vectors/python/requirements.txt
declare -a names=() results=()
failed=0

record() { # name, exit status
  names+=("$1")
  if [ "$2" -eq 0 ]; then results+=("ok"); else results+=("FAILED"); failed=1; fi
}
skip() { names+=("$1"); results+=("skipped: $2"); }
part() { printf '\n-- %s\n' "$*"; }

part "Python environment ($venv)"
python=""
if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's python3 ships venv separately.
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
fi
if [ -x "$venv/bin/python" ] &&
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"; then
  python="$venv/bin/python"
  "$python" -m pip freeze --disable-pip-version-check | grep -iE '^(cryptography|kyber-py|jsonschema)=='
  record "python venv + pinned requirements" 0
else
  record "python venv + pinned requirements" 1
fi

cargo build -q -p vectors --bins || { record "cargo build -p vectors" 1; }

part "Wycheproof against target_impl::hazmat"
cargo run -q -p vectors --bin wycheproof
record "wycheproof (6 primitives)" $?

part "Rust checker over vectors/data"
cargo run -q -p vectors --bin check -- vectors/data
record "rust checker (vectors/data)" $?

part "JSON Schema (vectors/schema/protocol-vectors.schema.json)"
if [ -n "$python" ]; then
  "$python" vectors/schema/validate.py vectors/data
  record "json schema" $?
else
  skip "json schema" "no python environment"
fi

part "Python re-derivation (vectors/python/check.py)"
if [ ! -f vectors/python/check.py ]; then
  echo "vectors/python/check.py does not exist yet: the independent Python implementation is not written"
  skip "python re-derivation" "vectors/python/check.py not present"
elif [ -n "$python" ]; then
  "$python" vectors/python/check.py vectors/data
  record "python re-derivation" $?
else
  record "python re-derivation" 1
fi

part "Generator reproduces vectors/data"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if cargo run -q -p vectors --bin generate -- "$tmp"; then
  same=0
  for f in "$tmp"/*.json vectors/data/*.json; do
    name=$(basename "$f")
    if ! cmp -s "$tmp/$name" "vectors/data/$name"; then
      echo "differs from the generator's output: vectors/data/$name"
      same=1
    fi
  done
  record "generator output unchanged" $same
else
  record "generator output unchanged" 1
fi

printf '\n%-36s %s\n' "vectors part" "result"
for i in "${!names[@]}"; do
  printf '%-36s %s\n' "${names[$i]}" "${results[$i]}"
done
exit "$failed"
