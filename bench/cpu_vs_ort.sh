#!/usr/bin/env bash
# crowdrt's CPU engine against ONNX Runtime 1.30 (CPU) on the same ONNX files, batch 1, same thread count.
# usage: bash bench/cpu_vs_ort.sh [BUILD_DIR]       (default: build; `make bench` passes it)
# env:   THREADS (2)  SIZES ("256 608")  RUNS (20)  WARMUP (3: ort_bench.js does 3; crowdrt perf warms up for WARMUP_MS, 500)  OUT (BUILD_DIR/bench)
#        PYTHON (/usr/bin/python3: torch, onnx, numpy)  ORT_ONLY=1 measures ONNX Runtime alone
# Model: smp-layout UNet-resnet34, 5 input channels (RGB + flow), random weights and BatchNorm statistics,
# exported as the seed does (opset 11, BN folded by the exporter). Prints a Markdown table and the raw outputs.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
THREADS=${THREADS:-2}
SIZES=${SIZES:-"256 608"}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}
WARMUP_MS=${WARMUP_MS:-500}
OUT=${OUT:-$BUILD/bench}
PYTHON=${PYTHON:-/usr/bin/python3}
CROWDRT=$BUILD/crowdrt
source bench/lib.sh
ensure_ort
have_crowdrt=1
if [ "${ORT_ONLY:-0}" = 1 ]; then
  have_crowdrt=0
elif [ ! -x "$CROWDRT" ]; then
  echo "note: $CROWDRT not built: measuring ONNX Runtime only" >&2
  have_crowdrt=0
fi

start_raw
log "node $(node --version), onnxruntime-node $ORT_VERSION, threads $THREADS, runs $RUNS after $WARMUP warm-up"

rows=()
for S in $SIZES; do
  export_unet "$S"

  log ""
  log "## $name: ONNX Runtime $ORT_VERSION CPU"
  ort_latency
  ort_ms=$("$PYTHON" -c 'import json,sys; print("%.1f" % json.loads(sys.argv[1])["median_ms"])' "$ort_json")

  crt_ms=n/a; ratio=n/a; check=
  if [ $have_crowdrt = 1 ]; then
    plan=$OUT/$name.plan
    log ""
    log "## $name: crowdrt"
    log "\$ $CROWDRT build --onnx $onnx --precision fp32 --device cpu --threads $THREADS -o $plan --overwrite"
    "$CROWDRT" build --onnx "$onnx" --precision fp32 --device cpu --threads "$THREADS" -o "$plan" --overwrite 2>&1 | tee -a "$raw"
    out=$OUT/$name.out.npy
    log "\$ $CROWDRT infer --plan $plan --input .../input.npy --output $out --threads $THREADS --overwrite"
    "$CROWDRT" infer --plan "$plan" --input "$OUT/models/$name/input.npy" --output "$out" --threads "$THREADS" \
      --overwrite 2>&1 | tee -a "$raw"
    check=$("$PYTHON" tests/e2e/compare.py "$out" "$OUT/models/$name/ref.npy" || true)
    log "against PyTorch: $check"
    js=$OUT/$name.perf.json
    log "\$ $CROWDRT perf --plan $plan --iterations $RUNS --duration 0.001 --warmUp $WARMUP_MS --threads $THREADS --json $js --overwrite"
    "$CROWDRT" perf --plan "$plan" --iterations "$RUNS" --duration 0.001 --warmUp "$WARMUP_MS" --threads "$THREADS" --json "$js" \
      --overwrite 2>&1 | tee -a "$raw"
    crt_ms=$("$PYTHON" -c 'import json,sys; print("%.1f" % json.load(open(sys.argv[1]))["median_ms"])' "$js")
    ratio=$("$PYTHON" -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$crt_ms" "$ort_ms")
    case $check in OK*) check=ok;; *) check="MISMATCH";; esac
  fi
  rows+=("| UNet-resnet34, 5 ch | ${S}x${S} | $ort_ms | $crt_ms | $ratio | ${check:-n/a} |")
done

echo
echo "## CPU, batch 1, fp32, $THREADS threads, median of $RUNS runs"
echo
echo "| model | size | ORT $ORT_VERSION median ms | crowdrt median ms | crowdrt / ORT | crowdrt vs PyTorch (1e-4) |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "## raw output ($raw)"
echo '```'
cat "$raw"
echo '```'
