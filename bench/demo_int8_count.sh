#!/usr/bin/env bash
# The int8 count target of the calibration issue on the trained demo model (models/demo): the count of int8 engines
# against the fp32 engine's on held-out synthetic sequences, with entropy calibration on 500 frames of other
# synthetic sequences: every Conv int8, then the count budgets BUDGETS (layers kept fp32 until the count error on the
# calibration frames is within the budget). CPU, one thread per engine (the numbers do not depend on timing).
# usage: bash bench/demo_int8_count.sh [BUILD_DIR]
# env:   OUT (BUILD_DIR/bench_int8_count)  CALIB_MAX (500)  FLOW (medium)  BUDGETS ("0.01 0.005")  SIZE (448x256, WIDTHxHEIGHT)
# Takes about 15 minutes on 2 cores (calibration ~3 min, each budget's sensitivity search ~4 min).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=${OUT:-$BUILD/bench_int8_count}
CALIB_MAX=${CALIB_MAX:-500}
FLOW=${FLOW:-medium}
BUDGETS=${BUDGETS:-0.01 0.005}
SIZE=${SIZE:-448x256}
PYTHON=${PYTHON:-/usr/bin/python3}
CROWDRT=$BUILD/crowdrt
source bench/lib.sh
start_raw
step() { log "\$ $*"; "$@" 2>&1 | tee -a "$raw"; }

# The model card's data: calibration sequences (seed 77) and held-out sequences (seed 5151), never trained on.
[ -f "$OUT/train/testlist.txt" ] || step "$CROWDRT" synth --out "$OUT/train" --sequences 40 --frames 20 --size 640x360 --seed 77 --overwrite
[ -f "$OUT/heldout/testlist.txt" ] || step "$CROWDRT" synth --out "$OUT/heldout" --sequences 8 --frames 20 --size 640x360 --seed 5151 --overwrite
step "$CROWDRT" export --checkpoint models/demo/demo_unet_mobilenet_v2.pth --input-size "$SIZE" -o "$OUT/demo.onnx" --overwrite
cache=$OUT/demo_calib.bin
rm -f "$cache"
evaluate() {  # plan name
  "$CROWDRT" eval --plan "$OUT/$1.plan" --data "$OUT/heldout" --split all --flow "$FLOW" --threads 1 --json "$OUT/$1.json" \
    > "$OUT/$1.txt"
  grep -E "^frames:" "$OUT/$1.txt" | sed "s/^/$1 /" | tee -a "$raw"
}
step "$CROWDRT" build --onnx "$OUT/demo.onnx" -o "$OUT/fp32.plan" --threads 1 --overwrite
evaluate fp32
calib=(--calib-data "$OUT/train" --flow "$FLOW" --calib-max "$CALIB_MAX" --calibrator entropy --calib-cache "$cache")
step "$CROWDRT" build --onnx "$OUT/demo.onnx" -o "$OUT/int8.plan" --precision int8 --threads 1 --overwrite \
  --no-tactic-timing "${calib[@]}"
evaluate int8
for b in $BUDGETS; do
  step "$CROWDRT" build --onnx "$OUT/demo.onnx" -o "$OUT/int8_budget_$b.plan" --precision int8 --threads 1 --overwrite \
    --no-tactic-timing "${calib[@]}" --count-budget "$b" --sensitivity "$OUT/sensitivity_$b.json"
  evaluate "int8_budget_$b"
done
log ""
log "## int8 counts against fp32 on the held-out frames"
for plan in int8 $(for b in $BUDGETS; do echo "int8_budget_$b"; done); do
  layers=$("$CROWDRT" inspect "$OUT/$plan.plan" | grep -c "  int8  " || true)
  log "$plan: $layers int8 layers"
  "$PYTHON" bench/compare_counts.py "$OUT/fp32.json" "$OUT/$plan.json" --label "$plan" | tee -a "$raw"
done
log "raw output: $raw"
