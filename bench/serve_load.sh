#!/usr/bin/env bash
# What `crowdrt serve` adds to a frame's latency, and its throughput at 1, 4 and 16 concurrent clients, on the demo
# model (models/demo, UNet-mobilenet_v2, 448x256, CPU fp32) with 640x360 synthetic frames and the medium flow.
#   in process:  crowdrt perf (the engine alone) and crowdrt eval --serial (resize, flow, packing, inference per frame)
#   served:      bench/serve_load.py against crowdrt serve on 127.0.0.1: the raw model with 1 client, then
#                demo_counting with 1, 4 and 16 clients (binary tensors, one keep-alive connection and sequence each),
#                then demo4_counting (the same model built with batch 4, dynamic batching 5 ms) with 4 clients
# usage: bench/serve_load.sh [BUILD_DIR] [OUT_DIR]; raw output in OUT_DIR/raw.txt, rows in OUT_DIR/load.jsonl.
set -euo pipefail
# OpenMP threads that wait by spinning lose their time slices on a machine shared with other work, and libgomp spins
# only while a process has no more OpenMP threads than cores: the one-thread-pool in-process runs spin, the server
# (a thread pool per request thread) does not, so each would meet the machine's other load differently. Passive
# waiting for all runs makes them comparable.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
build=${1:-build}
OUT=${2:-out/serve_load}
PY=/usr/bin/python3
crowdrt=$(realpath "$build/crowdrt")
source bench/lib.sh
start_raw
log "OMP_WAIT_POLICY=$OMP_WAIT_POLICY"
rm -f "$OUT/load.jsonl"
mkdir -p "$OUT/repository/demo/1"
"$crowdrt" export models/demo/demo_unet_mobilenet_v2.pth --input-size 448x256 -o "$OUT/demo.onnx" --overwrite -q
"$crowdrt" build --onnx "$OUT/demo.onnx" -o "$OUT/repository/demo/1/model.plan" --overwrite -q
mkdir -p "$OUT/repository/demo4/1"
"$crowdrt" build --onnx "$OUT/demo.onnx" --input-shape input:4x5x256x448 -o "$OUT/repository/demo4/1/model.plan" --overwrite -q
echo '{"dynamic_batching": {"max_queue_delay_microseconds": 5000}}' > "$OUT/repository/demo4/config.json"
"$crowdrt" synth --out "$OUT/synth" --sequences 1 --frames 10 --size 640x360 --seed 2027 --overwrite -q
frames=$OUT/synth/sequences/$(ls "$OUT/synth/sequences" | head -1)

log "## in process"
log "\$ crowdrt perf --plan demo fp32 --duration 5"
"$crowdrt" perf --plan "$OUT/repository/demo/1/model.plan" --duration 5 --json "$OUT/perf.json" --overwrite -q | tee -a "$raw"
log "\$ crowdrt eval --serial --flow medium (10 frames x 3 runs; per-frame stage means)"
for run in 1 2 3; do
  "$crowdrt" eval --plan "$OUT/repository/demo/1/model.plan" --data "$OUT/synth" --split all --serial --flow medium \
    --json "$OUT/eval_$run.json" --overwrite -q > /dev/null
  $PY -c "import json,sys; t=json.load(open(sys.argv[1]))['timings']; print(json.dumps({k: round(v['mean_ms'], 3) for k, v in t.items()}))" \
    "$OUT/eval_$run.json" | tee -a "$raw"
done

log "## served (crowdrt serve --model-repository $OUT/repository --http-port 0 --allow-grpc false)"
"$crowdrt" serve --model-repository "$OUT/repository" --http-port 0 --allow-grpc false > "$OUT/serve.out" 2> "$OUT/serve.err" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "http://" "$OUT/serve.out" && break; sleep 0.1; done
base=$(grep -o 'http://127.0.0.1:[0-9]*' "$OUT/serve.out")
$PY bench/serve_load.py "$base" demo "$frames" 1 4 counting > /dev/null  # warm-up
log "\$ serve_load.py raw, 1 client x 30"
$PY bench/serve_load.py "$base" demo "$frames" 1 30 raw --json "$OUT/load.jsonl" | tee -a "$raw"
for c in 1 4 16; do
  n=$(( c == 1 ? 40 : (c == 4 ? 20 : 8) ))
  log "\$ serve_load.py counting, $c clients x $n"
  $PY bench/serve_load.py "$base" demo "$frames" "$c" "$n" counting --json "$OUT/load.jsonl" | tee -a "$raw"
done
$PY bench/serve_load.py "$base" demo4 "$frames" 4 2 counting > /dev/null  # warm-up
log "\$ serve_load.py counting on the batch-4 plan, 4 clients x 20"
$PY bench/serve_load.py "$base" demo4 "$frames" 4 20 counting --json "$OUT/load.jsonl" | tee -a "$raw"
log "$(curl -s "$base/metrics" | grep '^crowdrt_batches_total' || true)"
kill $server
wait $server || true
trap - EXIT
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
