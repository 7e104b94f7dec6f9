#!/usr/bin/env bash
# The live web view of `crowdrt run --http` on the demo model (models/demo, fp32, 448x256) over a synthetic 640x360
# clip with two zones: what the view adds per frame (the same run with and without --http, alternated, and the
# view's own measure of the time to encode and publish each frame), then the page in headless Chromium while the
# run counts (tests/eval/check_live_view.py, whose checks apply), whose screenshot is the README's.
# usage: bash bench/live_view.sh [BUILD_DIR]
# env:   OUT (BUILD_DIR/bench_live_view)  FRAMES (60)  ROUNDS (2)  RAW (bench/raw/live_view: raw.txt, screenshot.png)
# Takes a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=${OUT:-$BUILD/bench_live_view}
FRAMES=${FRAMES:-60}
ROUNDS=${ROUNDS:-2}
RAW=${RAW:-bench/raw/live_view}
PYTHON=${PYTHON:-/usr/bin/python3}
CROWDRT=$BUILD/crowdrt
source bench/lib.sh
start_raw
step() { log "\$ $*"; "$@" 2>&1 | tee -a "$raw"; }

demo_clip "$FRAMES"

log ""
log "## the same run without and with --http (no browser connected), $FRAMES frames, alternated $ROUNDS times"
for round in $(seq "$ROUNDS"); do
  for http in "" "--http 127.0.0.1:0"; do
    # shellcheck disable=SC2086
    step "$CROWDRT" -q run --plan "$OUT/demo.plan" --input "$OUT/clip.avi" --out "$OUT/run" --zones "$OUT/zones.json" \
      --overwrite $http
  done
done

log ""
log "## the page in headless Chromium while the run counts"
step "$PYTHON" tests/eval/check_live_view.py "$CROWDRT" "$sequence" "$BUILD/testdata/eval/models" "$OUT/browser" browser \
  "$RAW/screenshot.png" "$OUT/demo.plan"
cp "$raw" "$RAW/raw.txt"
