#!/bin/bash
# On the lent GPU machine: the CUDA backend's tests, then crowdrt's CUDA engine against PyTorch 2.11
# (shared/peers/gpu_peers.py) on UNet-resnet34 and UNet++-resnet34, 5 channels, batch 1, 608x608, in one call.
# The bundle B holds bin/ (crowdrt, test_cuda and test_backend_ops built with -DCROWDRT_WITH_FRAMES=OFF
# -DCROWDRT_GPU_TESTS=ON), lib/, device-env.sh,
# bench/ (this script, export_gpu_models.py, calib_cache_random.py), reference/smp_layout.py and
# peers/gpu_peers.py. int8: a min-max calibration cache from 4 random frames (calib_cache_random.py, ONNX Runtime
# on the CPU), then `build --precision int8 -v` for UNet-resnet34 (its per-layer choices and int8/fp16 timings go to OUT).
#   usage: bash B/bench/cuda_vs_pytorch.sh B OUT [--no-peers] [--int8-only]
#   env: PRECISIONS (default "fp32 fp16 int8"), GTEST_FILTER (which GPU tests run; gtest reads it)
set -uo pipefail
B=$(cd "$1" && pwd); OUT=$2; shift 2
source "$B/device-env.sh" "$B"
work=$(mktemp -d)
echo "== machine"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "== models"
python3 "$B/bench/export_gpu_models.py" "$B/reference" "$work/models" --bench 2>&1 | grep -v Warning
echo "== gpu tests"
CROWDRT_GPU_MODELS="$work/models/small" "$B/bin/test_cuda" 2>&1 | tail -80
echo "== gpu op harness (every op's cases in every precision against the reference backend)"
if [ -x "$B/bin/test_backend_ops" ]; then "$B/bin/test_backend_ops" --backend cuda 2>&1 | tail -80
else echo "no bin/test_backend_ops in the bundle"; fi
echo "== crowdrt"
precisions=${PRECISIONS:-"fp32 fp16 int8"}
[[ " $* " == *" --int8-only "* ]] && precisions="fp16 int8"
for m in unet_resnet34_608 unetpp_resnet34_608; do
  for p in $precisions; do
    extra=()
    [ $p = int8 ] && [ $m != unet_resnet34_608 ] && continue  # int8: the target model only
    if [ $p = int8 ]; then
      python3 "$B/bench/calib_cache_random.py" "$work/models/bench/$m.onnx" "$work/$m.calib" --frames 4 || continue
      extra=(--calibrator minmax --calib-cache "$work/$m.calib" -v)
    fi
    "$B/bin/crowdrt" build --onnx "$work/models/bench/$m.onnx" --device cuda --precision $p \
      --timing-cache "$work/timing.json" -o "$work/$m.$p.plan" "${extra[@]}" > "$work/build.log" 2>&1
    rc=$?; tail -1 "$work/build.log"; [ $p = int8 ] && cp "$work/build.log" "$OUT/build_${m}_int8.log"
    [ $rc = 0 ] || continue
    "$B/bin/crowdrt" perf --plan "$work/$m.$p.plan" --iterations 500 --duration 0.001 --warmUp 500 \
      --json "$OUT/perf_${m}_$p.json" | grep -E "^(plan|latency|throughput|GPU|H2D|D2H)"
  done
done
if [[ " $* " != *" --no-peers "* ]]; then
  echo "== PyTorch peers"
  COMPILE=0 python3 "$B/peers/gpu_peers.py" 2>&1 | grep -v Warning
fi
