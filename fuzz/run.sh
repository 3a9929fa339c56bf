#!/usr/bin/env bash
# Builds and runs finetok's libFuzzer targets (jsonl, loaders, roundtrip, spm, jinja, regex) with AddressSanitizer.
#
#   fuzz/run.sh [TARGET...] [-- libFuzzer options]     e.g. fuzz/run.sh roundtrip -- -max_total_time=600
#
# Run from anywhere; it works in the repository root. Each target is compiled together with the
# Tokenizer, Builder and Jinja sources as one module (so it can reach internal API), with
# `swiftc -sanitize=fuzzer,address -parse-as-library`. New corpus entries go to fuzz/corpus/TARGET;
# crashes to fuzz/crashes/ (commit them, and add a regression test).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do targets+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#targets[@]} -eq 0 ] && targets=(jsonl loaders roundtrip spm jinja regex)
options=("$@")
[ ${#options[@]} -eq 0 ] && options=(-max_total_time=60)

out=.build-fuzz
export ASAN_OPTIONS="${ASAN_OPTIONS:-symbolize=0:detect_leaks=0}"
for t in "${targets[@]}"; do
  echo "== building $t"
  src="$out/src-$t"   # one copy per target, so several runs can build at once
  rm -rf "$src"
  mkdir -p "$src"
  for f in $(find Sources/Tokenizer Sources/Builder Sources/Jinja -name '*.swift'); do
    sed -E '/^import (Tokenizer|Builder|Jinja)$/d' "$f" > "$src/$(basename "$(dirname "$f")")_$(basename "$f")"
  done
  swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name FinetokFuzz \
    "$src"/*.swift "fuzz/targets/$t.swift" -o "$out/$t"
  mkdir -p "fuzz/corpus/$t" fuzz/crashes
  echo "== running $t ${options[*]}"
  "$out/$t" "fuzz/corpus/$t" -artifact_prefix=fuzz/crashes/ "${options[@]}" 2>&1 | grep -vE '^(#[0-9]+\s+(NEW|REDUCE|pulse)|\s*"|###### |MS: )' | tail -n 25
done
