#!/bin/bash
# On the lent GPU machine, in one call: `crowdrt serve`'s counting model with a CUDA plan (fp16 UNet-resnet34 608x608,
# medium flow, frames prepared on the GPU per sequence) at 1, 8 and 32 concurrent streams of 608x608 synthetic
# frames sent over loopback HTTP as binary UINT8 tensors, with 1 and 4 engine instances; beside it, in the same run,
# the same frames counted in process (eval::DeviceFramePath). Every stream's counts must equal the in-process ones.
# Then the GPU frame tests (test_cuda_frames, which hold the per-sequence stream input's check).
# B: a bundle made by ../shared/tools/device-bundle.sh of build-gpu's bench_serve_gpu and test_cuda_frames (a build with
# -DCROWDRT_WITH_ONEDNN=OFF -DCROWDRT_GPU_TESTS=ON -DCROWDRT_UNITY_BUILD=OFF, so that it can be carried).
#   usage: bash bench/serve_gpu.sh B OUT [--no-tests]
set -uo pipefail
B=$(cd "$1" && pwd); OUT=$2; shift 2
source "$B/device-env.sh" "$B"
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
echo "== machine"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc
echo "== models"
python3 "$here/bench/export_gpu_models.py" "$here/tests/reference" "$work/models" --bench 2>&1 | grep -v Warning | tail -3
m="$work/models/bench/unet_resnet34_608.onnx"
echo "== bench_serve_gpu"
"$B/bin/bench_serve_gpu" "$m" --precision fp16 --size 608 --frames 60 --streams 1,8,32 --instances 1,4 --work "$work/serve" 2>&1 \
  | tee "$OUT/bench_serve_gpu.log"
if [[ " $* " != *" --no-tests "* ]]; then
  echo "== test_cuda_frames"; "$B/bin/test_cuda_frames" 2>&1 | tee "$OUT/test_cuda_frames.log" | grep -E "^\[ (frames|  FAILED|  PASSED|       OK)|Failure|Expected|actual|Which" | head -40
fi
