#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each briefly (FUZZ_SECONDS, default 20) from the
# committed seed corpus. A crash, leak or sanitizer report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-20}
out=${FUZZ_BUILD:-build-fuzz}
cmake -S fuzz -B "$out" -DCMAKE_CXX_COMPILER=clang++ > /dev/null
cmake --build "$out" -j"$(nproc)"
targets=(fuzz_npy fuzz_plan fuzz_checkpoint_zip fuzz_pickle fuzz_annotations fuzz_calibration_cache fuzz_zones fuzz_infer_request)
# One target per core at a time: each libFuzzer run is single-threaded.
run_target() {
  local target=$1 name=${1#fuzz_}
  local corpus="$out/corpus-$name" log="$out/$1.log"
  mkdir -p "$corpus"
  cp -n fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
  if ! (cd "$out" && "./$target" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 "corpus-$name") > "$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz: $target failed; the crashing input is in $out (crash-*), the log in $log" >&2
    return 1
  fi
  echo "fuzz: $target for ${seconds}s: $(grep -E "stat::(number_of_executed_units|new_units_added)" "$log" | tr -s ' \n' ' ')"
}
export -f run_target
export out seconds
printf '%s\n' "${targets[@]}" | xargs -P "$(nproc)" -I{} bash -c 'run_target {}' || { echo "fuzz: a target failed (above)" >&2; exit 1; }
echo "fuzz: no crashes"
