#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each briefly (FUZZ_SECONDS, default 20) from the
# committed seed corpus. A crash, leak or sanitizer report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-20}
out=${FUZZ_BUILD:-build-fuzz}
cmake -S fuzz -B "$out" -DCMAKE_CXX_COMPILER=clang++ > /dev/null
cmake --build "$out" -j"$(nproc)"
for target in fuzz_npy fuzz_plan fuzz_checkpoint_zip fuzz_pickle; do
  name=${target#fuzz_}
  corpus="$out/corpus-$name"
  mkdir -p "$corpus"
  cp -n fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
  echo "fuzz: $target for ${seconds}s"
  "$out/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 "$corpus" 2>&1 | tail -4
done
echo "fuzz: no crashes"
