#!/usr/bin/env bash
# Frames per second of the input pipeline (JPEG decode + resize to 608x608 + colour + DIS flow + packing into
# the 1x5x608x608 tensor) for each DIS preset: crowdrt against the seed's own Python loop (eval.py's
# preprocessing, cv2 + numpy) and against OpenCV's DIS.calc alone on the same resized gray frames.
# Frames: synthetic 1920x1080 VisDrone-like sequences (crowdrt synth), source size of VisDrone2020-CC.
#   usage: bash bench/frames_fps.sh [BUILD_DIR] [FRAMES]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
frames=${2:-60}
python=${PYTHON:-/usr/bin/python3}   # Debian's python3 with cv2 and numpy
work="$build/bench/frames"
seq="$work/synth/sequences/00001"
if [ ! -d "$seq" ]; then
  "$build/crowdrt" synth --out "$work/synth" --sequences 1 --frames "$frames" --size 1920x1080 --seed 1 --overwrite
fi
echo "## machine"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)   commit: $(git rev-parse --short HEAD)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//') x $(nproc)   load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "opencv (python): $("$python" -c 'import cv2; print(cv2.__version__)')   frames: $(ls "$seq" | wc -l) of 1920x1080 JPEG"
echo
for preset in ultrafast fast medium; do
  echo "## $preset"
  echo "\$ $build/crowdrt preprocess --sequence $seq --size 608x608 --flow $preset --channels 5 --mode eval --no-write"
  "$build/crowdrt" preprocess --sequence "$seq" --size 608x608 --flow "$preset" --channels 5 --mode eval --no-write 2>&1
  echo "\$ $python bench/frames_fps_seed.py $seq $preset"
  "$python" bench/frames_fps_seed.py "$seq" "$preset"
  echo
done
