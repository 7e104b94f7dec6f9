#!/bin/bash
# On the lent GPU machine, in one call: the GPU flow and GPU frame tests (label gpu), the CUDA DIS beside OpenCV's DIS
# (1, 2 and all threads), and the whole frame on the GPU end to end with the fp16 UNet-resnet34 608x608 plan, medium
# flow, synthetic 1920x1080 JPEG sequences (all host threads, then the host limited to 2 threads with taskset).
# B: a bundle made by ../shared/tools/device-bundle.sh of build-gpu's test_cuda_flow, bench_cuda_flow,
# test_cuda_frames and bench_gpu_frames (a build with -DCROWDRT_WITH_ONEDNN=OFF -DCROWDRT_GPU_TESTS=ON, so that it can be carried).
#   usage: bash bench/gpu_frames.sh B OUT [--no-tests]
set -uo pipefail
B=$(cd "$1" && pwd); OUT=$2; shift 2
source "$B/device-env.sh" "$B"
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
echo "== machine"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc
if [[ " $* " != *" --no-tests "* ]]; then
  echo "== test_cuda_flow"; "$B/bin/test_cuda_flow" 2>&1 | tee "$OUT/test_cuda_flow.log" | grep -E "^\[ (flow|  FAILED|  PASSED|       OK)|Failure|Expected|actual" | head -40
  echo "== test_cuda_frames"; "$B/bin/test_cuda_frames" 2>&1 | tee "$OUT/test_cuda_frames.log" | grep -E "^\[ (frames|  FAILED|  PASSED|       OK)|Failure|Expected|actual|Which" | head -60
fi
echo "== bench_cuda_flow"; "$B/bin/bench_cuda_flow" --frames 40 2>&1 | tee "$OUT/bench_cuda_flow.log"
echo "== models"
python3 "$here/bench/export_gpu_models.py" "$here/tests/reference" "$work/models" --bench 2>&1 | grep -v Warning | tail -3
m="$work/models/bench/unet_resnet34_608.onnx"
echo "== bench_gpu_frames (all threads)"; "$B/bin/bench_gpu_frames" "$m" --precision fp16 --flow medium --sequences 8 --frames 60 --lanes 4 2>&1 | tee "$OUT/bench_gpu_frames.log"
echo "== bench_gpu_frames (taskset -c 0,1)"; taskset -c 0,1 "$B/bin/bench_gpu_frames" "$m" --precision fp16 --flow medium --sequences 8 --frames 60 --lanes 4 2>&1 | tee "$OUT/bench_gpu_frames_2threads.log"
