#!/usr/bin/env bash
# The demo until evaluation lands: export a small UNet, build a CPU engine, inspect it, run it, compare
# with PyTorch, and measure it. Everything goes into out/demo (files of its own only).
set -euo pipefail
build=${1:-build}
crowdrt="$build/crowdrt"
out=out/demo
mkdir -p "$out"
echo "== 1. export an smp-layout UNet-resnet18 (5 channels, 256x256) with PyTorch"
/usr/bin/python3 scripts/export_demo_model.py "$out" 256
echo "== 2. build a CPU plan (fp32, oneDNN)"
"$crowdrt" build --onnx "$out/demo_unet_resnet18.onnx" -o "$out/demo_unet_resnet18.plan" --overwrite
echo "== 3. inspect the plan (first layers)"
"$crowdrt" inspect "$out/demo_unet_resnet18.plan" > "$out/inspect.txt"
head -20 "$out/inspect.txt"
echo "(whole listing: $out/inspect.txt)"
echo "== 4. infer and compare with PyTorch"
"$crowdrt" infer --plan "$out/demo_unet_resnet18.plan" --input "$out/input.npy" --output "$out/output.npy" --overwrite
/usr/bin/python3 - "$out" <<'PY'
import sys, numpy as np
a = np.load(f"{sys.argv[1]}/output.npy"); b = np.load(f"{sys.argv[1]}/pytorch_output.npy")
print(f"max|crowdrt - pytorch| / max|pytorch| = {np.abs(a - b).max() / np.abs(b).max():.2e}")
PY
echo "== 5. perf"
"$crowdrt" perf --plan "$out/demo_unet_resnet18.plan" --iterations 30 --warmup 5 --json "$out/perf.json" --overwrite
echo "demo output folder: $out"
