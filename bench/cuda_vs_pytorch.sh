#!/bin/bash
# On the lent GPU machine: the CUDA backend's tests, then crowdrt's CUDA engine against PyTorch 2.11
# (shared/peers/gpu_peers.py) on UNet-resnet34 and UNet++-resnet34, 5 channels, batch 1, 608x608, in one call.
# The bundle B holds bin/ (crowdrt, test_cuda built with -DCROWDRT_WITH_FRAMES=OFF), lib/, device-env.sh,
# bench/ (this script, export_gpu_models.py), reference/smp_layout.py and peers/gpu_peers.py.
#   usage: bash B/bench/cuda_vs_pytorch.sh B OUT [--no-peers]
set -uo pipefail
B=$(cd "$1" && pwd); OUT=$2; shift 2
source "$B/device-env.sh" "$B"
work=$(mktemp -d)
echo "== machine"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "== models"
python3 "$B/bench/export_gpu_models.py" "$B/reference" "$work/models" --bench 2>&1 | grep -v Warning
echo "== gpu tests"
CROWDRT_GPU_MODELS="$work/models/small" "$B/bin/test_cuda" 2>&1 | tail -40
echo "== crowdrt"
for m in unet_resnet34_608 unetpp_resnet34_608; do
  for p in fp32 fp16; do
    "$B/bin/crowdrt" build --onnx "$work/models/bench/$m.onnx" --device cuda --precision $p \
      --timing-cache "$work/timing.json" -o "$work/$m.$p.plan" | tail -1 || continue
    "$B/bin/crowdrt" perf --plan "$work/$m.$p.plan" --iterations 500 --warmup 50 \
      --json "$OUT/perf_${m}_$p.json" | grep -E "^(plan|latency|throughput|GPU|H2D|D2H)"
  done
done
if [ "${1:-}" != "--no-peers" ]; then
  echo "== PyTorch peers"
  COMPILE=0 python3 "$B/peers/gpu_peers.py" 2>&1 | grep -v Warning
fi
