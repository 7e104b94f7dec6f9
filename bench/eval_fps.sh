#!/usr/bin/env bash
# End-to-end frames per second of `crowdrt eval` at 608x608 with medium DIS flow: the pipelined runner (frames of
# coming sequences decoded and their flow computed while the engine runs) against --serial (the seed's loop),
# with the time per stage. Model: the demo UNet-mobilenet_v2 exported at 608x608, fp32. Frames: synthetic
# 1920x1080 sequences (the VisDrone2020-CC source size).
#   usage: bash bench/eval_fps.sh [BUILD_DIR] [SEQUENCES] [FRAMES]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
sequences=${2:-4}
frames=${3:-10}
crowdrt="$build/crowdrt"
work="$build/bench/eval"
mkdir -p "$work"
if [ ! -d "$work/synth/sequences" ]; then
  "$crowdrt" synth --out "$work/synth" --sequences "$sequences" --frames "$frames" --size 1920x1080 --seed 77 --overwrite
fi
"$crowdrt" export --checkpoint models/demo/demo_unet_mobilenet_v2.pth --input-size 608 -o "$work/demo_608.onnx" --overwrite >/dev/null
"$crowdrt" build --onnx "$work/demo_608.onnx" -o "$work/demo_608.plan" --overwrite
echo "## machine"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)   commit: $(git rev-parse --short HEAD)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//') x $(nproc)   load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# Serial and pipelined alternate, twice, so that a change in the machine's load shows instead of favouring one.
# "pipelined-1" prepares frames on one thread, leaving the other core(s) to the engine.
for round in 1 2; do
  for mode in serial pipelined pipelined-1; do
    flag=""
    [ "$mode" = serial ] && flag="--serial"
    [ "$mode" = pipelined-1 ] && flag="--workers 1"
    echo "## $mode (round $round)"
    echo "\$ $crowdrt eval --plan $work/demo_608.plan --data $work/synth --split all --flow medium $flag"
    "$crowdrt" eval --plan "$work/demo_608.plan" --data "$work/synth" --split all --flow medium $flag \
      --json "$work/${mode}_$round.json" --overwrite 2>&1
    echo
  done
done
