#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each briefly (FUZZ_SECONDS, default 20; `make test` gives 5) from the
# committed seed corpus, or for the ONNX and plan targets from seeds they generate (CROWDRT_FUZZ_WRITE_SEEDS).
# A crash, leak or sanitizer report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-20}
out=${FUZZ_BUILD:-build-fuzz}
launcher=()
if command -v ccache > /dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S fuzz -B "$out" -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" > /dev/null
cmake --build "$out" -j"$(nproc)"
# The structure-aware targets (issue 18) first: the engine behind them makes each execution slower.
targets=(fuzz_onnx_import fuzz_plan_graph fuzz_build fuzz_npy fuzz_plan fuzz_checkpoint_zip fuzz_pickle fuzz_annotations
         fuzz_calibration_cache fuzz_zones fuzz_infer_request)
# One target per core at a time: each libFuzzer run is single-threaded.
run_target() {
  local target=$1 name=${1#fuzz_}
  local corpus="$out/corpus-$name" log="$out/$1.log"
  mkdir -p "$corpus"
  cp -n fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
  case $target in
    fuzz_onnx_import | fuzz_plan_graph | fuzz_build) CROWDRT_FUZZ_WRITE_SEEDS="$corpus" "$out/$target" ;;
  esac
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
