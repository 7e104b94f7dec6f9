#!/usr/bin/env bash
# crowdrt bf16 and int8 engines against ONNX Runtime 1.30 fp32 (CPU) on the same model, batch 1, same threads,
# and the count the int8 engine gives against the fp32 engine on synthetic sequences.
# usage: bash bench/quant_vs_ort.sh [BUILD_DIR]
# env:   THREADS (2)  SIZE (256)  RUNS (30)  CALIB_MAX (500)  FLOW (medium)  OUT (BUILD_DIR/bench_quant)
#        REUSE=1 keeps the plans of an earlier run (latency again)  COUNTS=0 skips the count comparison
# Model: smp-layout UNet-resnet34, 5 input channels, random weights (no trained model is on main yet), exported as
# the seed does (opset 11, BN folded). Calibration: entropy (EntropyCalibration2) on CALIB_MAX frames of the
# synthetic train sequences (`crowdrt build --calib-data`); counts on the synthetic test sequences.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
THREADS=${THREADS:-2}
S=${SIZE:-256}
RUNS=${RUNS:-30}
CALIB_MAX=${CALIB_MAX:-500}
FLOW=${FLOW:-medium}
OUT=${OUT:-$BUILD/bench_quant}
PYTHON=${PYTHON:-/usr/bin/python3}
CROWDRT=$BUILD/crowdrt
source bench/lib.sh
ensure_ort
start_raw
log "node $(node --version), onnxruntime-node $ORT_VERSION, threads $THREADS, runs $RUNS"

export_unet "$S"
synth=$OUT/synth
if [ ! -f "$synth/testlist.txt" ]; then
  log "\$ $CROWDRT synth --out $synth --sequences 12 --frames 60 --size 640x360 --seed 3"
  "$CROWDRT" synth --out "$synth" --sequences 12 --frames 60 --size 640x360 --seed 3 2>&1 | tee -a "$raw"
fi

cache=$OUT/${name}_calib.bin
[ "${REUSE:-0}" = 1 ] || rm -f "$cache"
for p in fp32 bf16 int8; do
  if [ "${REUSE:-0}" = 1 ] && [ -f "$OUT/$p.plan" ]; then log "reusing $OUT/$p.plan"; continue; fi
  extra=()
  [ $p = int8 ] && extra=(--calib-data "$synth" --flow "$FLOW" --calib-max "$CALIB_MAX" --calib-cache "$cache")
  log ""
  log "\$ $CROWDRT build $onnx --precision $p --threads $THREADS -o $OUT/$p.plan --overwrite ${extra[*]}"
  "$CROWDRT" build "$onnx" --precision $p --threads "$THREADS" -o "$OUT/$p.plan" --overwrite "${extra[@]}" 2>&1 | tee -a "$raw"
done
log ""
log "\$ $CROWDRT inspect $OUT/int8.plan (precision per layer)"
"$CROWDRT" inspect "$OUT/int8.plan" | grep -oE "  (fp32|bf16|int8)  [a-z]+:" | awk '{n[$1]++} END {for (p in n) printf "%s layers: %d\n", p, n[p]}' | tee -a "$raw"

log ""
log "## latency"
ort_latency
ort_ms=$("$PYTHON" -c 'import json,sys; print("%.2f" % json.loads(sys.argv[1])["median_ms"])' "$ort_json")
ort_min=$("$PYTHON" -c 'import json,sys; print("%.2f" % json.loads(sys.argv[1])["min_ms"])' "$ort_json")
declare -A ms mins
for p in fp32 bf16 int8; do
  js=$OUT/$p.perf.json
  log "\$ $CROWDRT perf --plan $OUT/$p.plan --iterations $RUNS --duration 0.001 --warmUp 500 --threads $THREADS --json $js --overwrite"
  "$CROWDRT" perf --plan "$OUT/$p.plan" --iterations "$RUNS" --duration 0.001 --warmUp 500 --threads "$THREADS" --json "$js" --overwrite 2>&1 | tee -a "$raw"
  ms[$p]=$("$PYTHON" -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["median_ms"])' "$js")
  mins[$p]=$("$PYTHON" -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["min_ms"])' "$js")
done

if [ "${COUNTS:-1}" = 1 ]; then
log ""
log "## counts on the synthetic test sequences (eval input, flow $FLOW)"
frames=$OUT/frames
rm -rf "$frames"
for seq in $(cat "$synth/testlist.txt"); do
  "$CROWDRT" preprocess --sequence "$synth/sequences/$seq" --out "$frames/$seq" --size ${S}x${S} --flow "$FLOW" >&2
done
"$PYTHON" - "$CROWDRT" "$OUT" "$synth" "$frames" "$THREADS" <<'PY' | tee -a "$raw"
import os, subprocess, sys
import numpy as np
crowdrt, out, synth, frames, threads = sys.argv[1:]
true, count = [], {"fp32": [], "int8": []}
for seq in sorted(os.listdir(frames)):
    heads = {}
    for line in open(os.path.join(synth, "annotations", seq + ".txt")):
        f = int(line.split(",")[0])
        heads[f] = heads.get(f, 0) + 1
    for i, name in enumerate(sorted(os.listdir(os.path.join(frames, seq)))):
        true.append(heads.get(i + 1, 0))
        for p in count:
            o = os.path.join(out, "count_out.npy")
            subprocess.run([crowdrt, "infer", "--plan", os.path.join(out, p + ".plan"), "--input",
                            os.path.join(frames, seq, name), "--output", o, "--threads", threads, "--overwrite"],
                           check=True, capture_output=True)
            count[p].append(float(np.load(o).sum()) / 100)
true, fp32, int8 = np.array(true), np.array(count["fp32"]), np.array(count["int8"])
d = np.abs(int8 - fp32)
print(f"frames {len(true)}, mean true count {true.mean():.2f}, mean fp32 count {fp32.mean():.3f}, "
      f"mean int8 count {int8.mean():.3f}")
print(f"mean |int8 - fp32| count {d.mean():.4f} = {100 * d.mean() / true.mean():.3f}% of the mean true count "
      f"({100 * d.mean() / max(np.abs(fp32).mean(), 1e-12):.3f}% of mean |fp32 count|); max {d.max():.4f}")
PY
fi

echo
echo "## CPU, batch 1, UNet-resnet34 5 ch ${S}x${S}, $THREADS threads, median of $RUNS runs"
echo
ratio() { "$PYTHON" -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"; }
echo "| engine | median ms | / ORT fp32 median | min ms | / ORT fp32 min |"
echo "|---|---|---|---|---|"
echo "| ONNX Runtime $ORT_VERSION fp32 | $ort_ms | 1.00 | $ort_min | 1.00 |"
for p in fp32 bf16 int8; do
  echo "| crowdrt $p | ${ms[$p]} | $(ratio "${ms[$p]}" "$ort_ms") | ${mins[$p]} | $(ratio "${mins[$p]}" "$ort_min") |"
done
echo
echo "## raw output ($raw)"
echo '```'
cat "$raw"
echo '```'
