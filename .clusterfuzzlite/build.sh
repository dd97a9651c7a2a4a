#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build of the same targets ci/fuzz.sh runs: every [[bin]] of
# fuzz/Cargo.toml, instrumented for the builder's $SANITIZER by `cargo fuzz build`, copied to
# $OUT with its seed corpus (the generated seeds plus the kept regressions) and the wire
# dictionary. Run from the repository root ($SRC/crypto-challenge in the image).

mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)

# Seeds first, from a plain build: the builder's compiler flags (sanitizer, coverage) are for
# the fuzz targets only, and a plain binary would not link with them.
env -u RUSTFLAGS -u CFLAGS -u CXXFLAGS -u LDFLAGS \
  cargo run --manifest-path fuzz/Cargo.toml --release --target-dir "${WORK:-/tmp}/seed-target" \
  --example seed_corpus -- "${WORK:-/tmp}/seeds"

# -O: optimized; -a: debug assertions and overflow checks, as in ci/fuzz.sh.
cargo fuzz build --fuzz-dir fuzz -O -a

built=fuzz/target/x86_64-unknown-linux-gnu/release
for t in "${targets[@]}"; do
  cp "$built/$t" "$OUT/"
  if [ -f "fuzz/dict/$t.dict" ]; then cp "fuzz/dict/$t.dict" "$OUT/$t.dict"
  else cp fuzz/dict/wire.dict "$OUT/$t.dict"; fi
  corpus=$(mktemp -d)
  cp "${WORK:-/tmp}/seeds/$t/"* "$corpus/"
  find "fuzz/regressions/$t" -type f ! -name .gitkeep -exec cp {} "$corpus/" \;
  (cd "$corpus" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
  rm -rf "$corpus"
  # One input may take this long before it counts as a hang (as ci/fuzz.sh's FUZZ_TIMEOUT).
  printf '[libfuzzer]\ntimeout = 10\n' >"$OUT/$t.options"
done
