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
