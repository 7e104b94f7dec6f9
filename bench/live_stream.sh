#!/usr/bin/env bash
# End-to-end frames per second of `crowdrt run` on a live source: the demo model (models/demo, fp32, 448x256)
# counting a 640x360 MJPG stream that ffmpeg serves on loopback at camera rate (25 frames/s, looped, `-re`), with
# two zones and --jsonl, for DURATION seconds; then the same with the live web view (--http) on. The run's own
# summary gives the frames read, counted and dropped (--live-drop oldest keeps the counts on the present frame).
# usage: bash bench/live_stream.sh [BUILD_DIR]
# env:   OUT (BUILD_DIR/bench_live_stream)  DURATION (30)  PORT (18554)  RAW (bench/raw/live_stream)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=${OUT:-$BUILD/bench_live_stream}
DURATION=${DURATION:-30}
PORT=${PORT:-18554}
RAW=${RAW:-bench/raw/live_stream}
CROWDRT=$BUILD/crowdrt
source bench/lib.sh
start_raw
step() { log "\$ $*"; "$@" 2>&1 | tee -a "$raw"; }

demo_clip 100

server=
stop_server() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=; fi; }
trap stop_server EXIT
for http in "" "--http 127.0.0.1:0"; do
  log ""
  log "## a 25 frames/s stream on loopback, ${DURATION} s, ${http:-without the web view}"
  # ffmpeg serves one client and exits when it leaves; the clip is looped, so the stream outlasts the run
  ffmpeg -nostdin -loglevel error -re -stream_loop -1 -i "$OUT/clip.avi" -c copy -f matroska -listen 1 \
    "http://127.0.0.1:$PORT/live.mkv" > /dev/null 2>&1 &
  server=$!
  for _ in $(seq 50); do ss -Hltn "sport = :$PORT" | grep -q . && break; sleep 0.1; done
  # shellcheck disable=SC2086
  step "$CROWDRT" run --plan "$OUT/demo.plan" --input "http://127.0.0.1:$PORT/live.mkv" --out "$OUT/run" \
    --zones "$OUT/zones.json" --jsonl "$OUT/run.jsonl" --duration "$DURATION" --overwrite $http
  stop_server
done
mkdir -p "$RAW"
cp "$raw" "$RAW/raw.txt"
