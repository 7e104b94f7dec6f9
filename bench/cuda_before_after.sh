#!/bin/bash
# On the lent GPU machine: two builds of crowdrt's CUDA engine timed in one call, alternating, so that a change
# meant to leave performance alone (a refactor) can be shown to, on the same machine at the same moment.
# Each round, each build: `build --device cuda` with its own fresh timing cache (tactics timed as a user's build
# times them), then `perf` (median GPU compute time of 500 CUDA-graph replays, as bench/cuda_vs_pytorch.sh).
# Models: UNet-resnet34 (fp32, fp16, int8 with a min-max cache from 4 random frames) and UNet++-resnet34 (fp32,
# fp16), batch 1, 5 channels, 608x608, exported on that machine by bench/export_gpu_models.py.
#   usage: bash bench/cuda_before_after.sh BEFORE AFTER OUT [ROUNDS]
#   BEFORE, AFTER: bundles made by ../shared/tools/device-bundle.sh holding bin/crowdrt (built with
#   -DCROWDRT_WITH_FRAMES=OFF); run from the repository root (bench/ and tests/reference are read from it).
#   env: PRECISIONS (default "fp32 fp16 int8")
set -uo pipefail
if [ $# -lt 3 ]; then
  echo "usage: bash bench/cuda_before_after.sh BEFORE_BUNDLE AFTER_BUNDLE OUT [ROUNDS]" >&2
  exit 2
fi
before=$(cd "$1" && pwd); after=$(cd "$2" && pwd); OUT=$3; rounds=${4:-2}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"
source "$after/device-env.sh" "$after"
work=$(mktemp -d)
echo "== machine"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "== models"
python3 "$here/bench/export_gpu_models.py" "$here/tests/reference" "$work/models" --bench 2>&1 | grep -v Warning | tail -2
python3 "$here/bench/calib_cache_random.py" "$work/models/bench/unet_resnet34_608.onnx" "$work/calib" --frames 4 || exit 1
precisions=${PRECISIONS:-"fp32 fp16 int8"}
for r in $(seq 1 "$rounds"); do
  for side in before after; do
    b=$before; [ $side = after ] && b=$after
    # Each bundle's own libraries first (the two may differ).
    export LD_LIBRARY_PATH="$b/lib:${LD_LIBRARY_PATH}"
    rm -f "$work/timing.json"
    for m in unet_resnet34_608 unetpp_resnet34_608; do
      for p in $precisions; do
        [ $p = int8 ] && [ $m != unet_resnet34_608 ] && continue
        extra=()
        [ $p = int8 ] && extra=(--calibrator minmax --calib-cache "$work/calib")
        plan="$work/$side.$m.$p.plan"; json="$OUT/perf_${side}_r${r}_${m}_$p.json"
        if ! "$b/bin/crowdrt" build --onnx "$work/models/bench/$m.onnx" --device cuda --precision $p \
            --timing-cache "$work/timing.json" -o "$plan" --overwrite "${extra[@]}" > "$work/build.log" 2>&1; then
          echo "round $r $side $m $p: build failed: $(tail -1 "$work/build.log")"; continue
        fi
        "$b/bin/crowdrt" perf --plan "$plan" --iterations 500 --duration 0.001 --warmUp 500 --json "$json" > /dev/null \
          || { echo "round $r $side $m $p: perf failed"; continue; }
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("round %s %-6s %-20s %-4s GPU compute median %.4f ms" % (sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], d["gpu_compute"]["median_ms"]))' \
          "$json" "$r" "$side" "$m" "$p"
      done
    done
  done
done
echo "== medians over rounds (ms)"
python3 - "$OUT" <<'EOF'
import glob, json, os, re, statistics, sys
rows = {}
for f in glob.glob(os.path.join(sys.argv[1], "perf_*_r*_*.json")):
    m = re.match(r"perf_(before|after)_r(\d+)_(.+)_(fp32|fp16|int8)\.json", os.path.basename(f))
    rows.setdefault((m.group(3), m.group(4)), {}).setdefault(m.group(1), []).append(
        json.load(open(f))["gpu_compute"]["median_ms"])
print("| model | precision | before | after | after / before |")
print("|---|---|---|---|---|")
for (model, p), sides in sorted(rows.items()):
    b, a = sides.get("before", []), sides.get("after", [])
    if not b or not a:
        continue
    mb, ma = statistics.median(b), statistics.median(a)
    print("| %s | %s | %.4f (%s) | %.4f (%s) | %.3f |" % (model, p, mb, ", ".join("%.4f" % x for x in b), ma,
                                                      ", ".join("%.4f" % x for x in a), ma / mb))
EOF
