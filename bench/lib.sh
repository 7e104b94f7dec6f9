# Shared by the CPU bench scripts (source it after `cd` to the repository root and setting OUT):
#   ensure_ort       installs onnxruntime-node $ORT_VERSION into $NODE_DIR once (npm registry)
#   start_raw        empties $OUT/raw.txt (the file `log` appends to) and logs the machine header
#   log ARGS         echoes ARGS and appends them to the raw output
#   export_unet S    exports the benchmark model (smp-layout UNet-resnet34, 5 channels, SxS, random weights, as the
#                    seed exports: opset 11, BN folded) into $OUT/models; sets name and onnx
#   ort_latency      ONNX Runtime on $onnx at SxS ($S), $RUNS runs, $THREADS threads, logged; sets ort_json
ORT_VERSION=1.30.0
NODE_DIR=bench/.node
raw=$OUT/raw.txt

ensure_ort() {
  local have
  have=$(node -p "try{require('./$NODE_DIR/node_modules/onnxruntime-node/package.json').version}catch(e){''}" 2>/dev/null || true)
  if [ "$have" != "$ORT_VERSION" ]; then
    echo "installing onnxruntime-node@$ORT_VERSION into $NODE_DIR (once)" >&2
    npm install --ignore-scripts --no-audit --no-fund --prefix "$NODE_DIR" "onnxruntime-node@$ORT_VERSION" >&2
  fi
}

log() { echo "$@" | tee -a "$raw"; }

start_raw() {
  mkdir -p "$OUT"
  : > "$raw"
  log "## machine"
  log "date: $(date -u +%FT%TZ)   commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  log "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//') x $(nproc)   load average: $(cut -d' ' -f1-3 /proc/loadavg)"
}

export_unet() {
  name=unet_resnet34_c5_${1}x${1}
  "$PYTHON" tests/reference/export_models.py "$OUT/models" --model UNet resnet34 5 "$1" "$1" --opset 11 --bn fused \
    --name "$name" >&2
  onnx=$OUT/models/$name/model.onnx
}

ort_latency() {
  log "\$ NODE_PATH=$NODE_DIR/node_modules node bench/ort_bench.js $onnx 5 $S $S $RUNS $THREADS"
  ort_json=$(NODE_PATH=$NODE_DIR/node_modules node bench/ort_bench.js "$onnx" 5 "$S" "$S" "$RUNS" "$THREADS")
  log "$ort_json"
}

# demo_clip N      the demo model (models/demo) exported at 448x256 and built fp32 ($OUT/demo.plan), a synthetic
#                  640x360 sequence of N frames (sets sequence) as an MJPG clip at 25 frames/s ($OUT/clip.avi), and
#                  two zones that split the frame ($OUT/zones.json, the first with a limit); uses `step` and CROWDRT
demo_clip() {
  local frames=$1
  step "$CROWDRT" -q export --checkpoint models/demo/demo_unet_mobilenet_v2.pth --input-size 448x256 -o "$OUT/demo.onnx" --overwrite
  step "$CROWDRT" -q build --onnx "$OUT/demo.onnx" -o "$OUT/demo.plan" --overwrite
  step "$CROWDRT" -q synth --out "$OUT/synth" --sequences 1 --frames "$frames" --size 640x360 --seed 5 --overwrite
  sequence=$(ls -d "$OUT"/synth/sequences/* | head -1)
  ffmpeg -loglevel error -y -framerate 25 -i "$sequence/%05d.jpg" -c:v mjpeg -q:v 3 "$OUT/clip.avi"
  cat > "$OUT/zones.json" <<'ZONES'
{"zones": [{"name": "upper", "polygon": [[0, 0], [1, 0], [1, 0.2], [0, 0.6]], "normalized": true, "limit": 0.5},
           {"name": "lower", "polygon": [[0, 0.6], [1, 0.2], [1, 1], [0, 1]], "normalized": true}]}
ZONES
}
