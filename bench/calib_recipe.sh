#!/usr/bin/env bash
# The int8 count error of the two calibration recipes (crowdrt build --calib-recipe seed|network) on the demo model
# (models/demo, 448x256 input): calibrated on 640x360 synthetic sequences (as `crowdrt demo` does) and on 1920x1080
# ones, evaluated on held-out synthetic sequences of the same size with the medium flow.
# usage: bench/calib_recipe.sh [BUILD_DIR] [OUT_DIR]; prints the table and writes OUT_DIR/calib_recipe.json.
set -euo pipefail
build=${1:-build}
out=${2:-out/calib_recipe}
crowdrt=$(realpath "$build/crowdrt")
model=$(realpath models/demo/demo_unet_mobilenet_v2.pth)
mkdir -p "$out"
for source in 640x360 1920x1080; do
  d="$out/$source"
  "$crowdrt" synth --out "$d/data" --sequences 3 --frames 12 --size "$source" --seed 2027 --overwrite >/dev/null
  "$crowdrt" synth --out "$d/calib" --sequences 2 --frames 16 --size "$source" --seed 3033 --overwrite >/dev/null
  for recipe in seed network; do
    "$crowdrt" bench --model "$model" --data "$d/data" --split all --size 448x256 --precisions fp32,int8 \
      --flows medium --calib-data "$d/calib" --calib-recipe "$recipe" --out "$d/$recipe" --overwrite >/dev/null
    for p in fp32 int8; do
      "$crowdrt" eval --plan "$d/$recipe/demo_unet_mobilenet_v2_$p.plan" --data "$d/data" --split all --flow medium \
        --json "$d/$recipe/eval_$p.json" --overwrite >/dev/null
    done
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys, os
out = sys.argv[1]
rows = []
for source in ("640x360", "1920x1080"):
    for recipe in ("seed", "network"):
        d = os.path.join(out, source, recipe)
        fp32 = json.load(open(os.path.join(d, "eval_fp32.json")))
        int8 = json.load(open(os.path.join(d, "eval_int8.json")))
        a = [f["pred"] for f in fp32["per_frame"]]
        b = [f["pred"] for f in int8["per_frame"]]
        truth = [f["true"] for f in fp32["per_frame"]]
        rel = sum(abs(x - y) for x, y in zip(a, b)) / max(1e-9, sum(abs(x) for x in a))
        rows.append({"source": source, "recipe": recipe, "frames": len(a), "mae_fp32": fp32["mae"],
                     "mae_int8": int8["mae"], "mean_true": sum(truth) / len(truth),
                     "int8_vs_fp32_count_error": rel})
print("| calibration frames | recipe | frames | mean true count | MAE fp32 | MAE int8 | mean abs(int8 - fp32) / mean fp32 |")
print("|---|---|---:|---:|---:|---:|---:|")
for r in rows:
    print(f"| {r['source']} | {r['recipe']} | {r['frames']} | {r['mean_true']:.2f} | {r['mae_fp32']:.3f} | "
          f"{r['mae_int8']:.3f} | {100 * r['int8_vs_fp32_count_error']:.2f} % |")
json.dump(rows, open(os.path.join(out, "calib_recipe.json"), "w"), indent=1)
PY
