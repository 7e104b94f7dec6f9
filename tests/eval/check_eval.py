"""`crowdrt eval` end to end on models whose output is known (tests/eval/make_models.py).

usage: check_eval.py CROWDRT DATA_ROOT MODELS_DIR WORK_DIR constant|order|bench
  constant  every predicted count is 0.25 * 64 * 64 / 100 = 10.24; true counts, MAE, RMSE and GAME(0-3) are
            recomputed here from the annotation files
  order     the linear model: the pipelined run (2 workers) gives exactly the serial run's counts, with the flow
            restarting per sequence and carried over (the seed's way); the counts equal numpy on the seed's input
            recipe (tests/reference/seed_input.py); carrying the flow changes the first frame of later sequences
  bench     `crowdrt bench` over 2 models x 2 precisions x 2 flow presets: every row, in order, in bench.json and
            bench.md; the constant model's MAE equals eval's; int8 is refused without calibration frames and
            measured (with its change against fp32 and a calibration cache) with them
  split     the default split works on a set of fewer than 67 sequences: testlist.txt where there is one (and
            eval says so), else every sequence; the seed's --dataset spelling is accepted; an explicit val on
            such a set fails naming --split
"""
import glob
import json
import math
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
sys.path.insert(0, HERE)
from make_models import CONSTANT_BIAS, LINEAR_BIAS, LINEAR_WEIGHTS  # noqa: E402

SIZE = 64


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def sequences(root):
    return sorted(os.listdir(os.path.join(root, "sequences")))


def heads_of(root, seq):
    frames = sorted(glob.glob(os.path.join(root, "sequences", seq, "*.jpg")))
    heads = [[] for _ in frames]
    for line in open(os.path.join(root, "annotations", seq + ".txt")):
        if line.strip():
            f, x, y = line.strip().split(",")[:3]
            heads[int(f) - 1].append((float(x), float(y)))
    return frames, heads


def game_reference(density, heads, src_w, src_h):
    """GAME(0..3) written from its definition: 4^L cells, cell c of n holds pixels [c*s//n, (c+1)*s//n)."""
    h, w = density.shape
    out = []
    for level in range(4):
        n = 2 ** level
        total = 0.0
        for cy in range(n):
            for cx in range(n):
                y0, y1 = cy * h // n, (cy + 1) * h // n
                x0, x1 = cx * w // n, (cx + 1) * w // n
                pred = float(density[y0:y1, x0:x1].astype(np.float64).sum()) / 100.0
                truth = 0
                for x, y in heads:
                    px = min(max(int(math.floor(x * w / src_w)), 0), w - 1)
                    py = min(max(int(math.floor(y * h / src_h)), 0), h - 1)
                    truth += y0 <= py < y1 and x0 <= px < x1
                total += abs(pred - truth)
        out.append(total)
    return out


def close(a, b, tol, what):
    if abs(a - b) > tol:
        sys.exit(f"FAIL: {what}: crowdrt {a!r}, expected {b!r}")


def check_constant(crowdrt, root, models, work):
    plan = os.path.join(work, "constant.plan")
    run(crowdrt, "build", "--onnx", os.path.join(models, "constant.onnx"), "-o", plan, "--overwrite")
    report = os.path.join(work, "constant.json")
    out = run(crowdrt, "eval", "--plan", plan, "--data", root, "--split", "all", "--json", report, "--csv",
              os.path.join(work, "constant.csv"), "--overwrite")
    if f"({SIZE} wide, {SIZE} high)" not in out or "split all" not in out:
        sys.exit(f"FAIL: eval's header does not give the input as 'W wide, H high' and the split: {out[:300]!r}")
    j = json.load(open(report))
    expected_pred = CONSTANT_BIAS * SIZE * SIZE / 100.0
    rows, errors, games = [], [], []
    for seq in sequences(root):
        frames, heads = heads_of(root, seq)
        import cv2
        src_h, src_w = cv2.imread(frames[0]).shape[:2]
        density = np.full((SIZE, SIZE), CONSTANT_BIAS, np.float32)
        for i, hs in enumerate(heads):
            rows.append((seq, i + 1, float(len(hs))))
            errors.append(len(hs) - expected_pred)
            games.append(game_reference(density, hs, src_w, src_h))
    if j["frames"] != len(rows) or len(j["per_frame"]) != len(rows):
        sys.exit(f"FAIL: {j['frames']} frames reported, {len(rows)} in the dataset")
    for (seq, frame, truth), f in zip(rows, j["per_frame"]):
        if (f["sequence"], f["frame"], f["true"]) != (seq, frame, truth):
            sys.exit(f"FAIL: per_frame entry {f['sequence']}/{f['frame']} true {f['true']}, expected {seq}/{frame} {truth}")
        close(f["pred"], expected_pred, 1e-9, f"pred of {seq}/{frame}")
    close(j["mae"], float(np.mean(np.abs(errors))), 1e-9, "MAE")
    close(j["rmse"], float(np.sqrt(np.mean(np.square(errors)))), 1e-9, "RMSE")
    for level in range(4):
        close(j["game"][level], float(np.mean([g[level] for g in games])), 1e-9, f"GAME({level})")
    csv_lines = open(os.path.join(work, "constant.csv")).read().strip().split("\n")
    if len(csv_lines) != len(rows) + 1 or not csv_lines[0].startswith("sequence,frame,true,pred"):
        sys.exit("FAIL: the CSV has not one header and one line per frame")
    print(f"ok: {len(rows)} frames, pred {expected_pred} each, MAE {j['mae']:.6f}, GAME {j['game']}")


def preds(j):
    return [(f["sequence"], f["frame"], f["pred"]) for f in j["per_frame"]]


def check_order(crowdrt, root, models, work):
    from seed_input import seed_inputs
    plan = os.path.join(work, "linear.plan")
    run(crowdrt, "build", "--onnx", os.path.join(models, "linear.onnx"), "-o", plan, "--overwrite")
    results = {}
    for name, extra in [("pipelined", ["--workers", "2"]), ("serial", ["--serial"]),
                        ("pipelined_carry", ["--workers", "2", "--carry-flow"]), ("serial_carry", ["--serial", "--carry-flow"])]:
        out = os.path.join(work, name + ".json")
        run(crowdrt, "eval", "--plan", plan, "--data", root, "--split", "all", "--flow", "medium", "--json", out,
            "--overwrite", "-q", *extra)
        results[name] = json.load(open(out))
    if preds(results["pipelined"]) != preds(results["serial"]):
        sys.exit("FAIL: pipelined counts differ from the serial ones (flow restarting per sequence)")
    if preds(results["pipelined_carry"]) != preds(results["serial_carry"]):
        sys.exit("FAIL: pipelined counts differ from the serial ones (flow carried across sequences)")
    # Independent reference: the seed's recipe in Python, the 1x1 convolution in numpy.
    w = np.array(LINEAR_WEIGHTS, np.float64).reshape(5, 1, 1)
    ref = []
    for seq in sequences(root):
        frames, _ = heads_of(root, seq)
        for i, x in enumerate(seed_inputs(frames, (SIZE, SIZE), "medium", 5, "eval")):
            ref.append((seq, i + 1, float(((x[0].astype(np.float64) * w).sum(0) + LINEAR_BIAS).sum() / 100.0)))
    for (s, f, p), (rs, rf, rp) in zip(preds(results["pipelined"]), ref):
        if (s, f) != (rs, rf):
            sys.exit(f"FAIL: frame order {s}/{f}, expected {rs}/{rf}")
        close(p, rp, 1e-4 * max(1.0, abs(rp)), f"pred of {s}/{f} against numpy on the seed's input")
    first_of_later = [i for i, f in enumerate(results["serial"]["per_frame"]) if f["frame"] == 1][1:]
    if not first_of_later or all(results["serial"]["per_frame"][i]["pred"] == results["serial_carry"]["per_frame"][i]["pred"]
                                 for i in first_of_later):
        sys.exit("FAIL: --carry-flow changed no first frame of a later sequence")
    # --flow-device: cpu is what a CPU plan does by default; cuda needs a CUDA plan (exit 1, one line); a bad word is
    # a usage error (exit 2).
    out = os.path.join(work, "cpu_flow_device.json")
    run(crowdrt, "eval", "--plan", plan, "--data", root, "--split", "all", "--flow", "medium", "--json", out,
        "--overwrite", "-q", "--flow-device", "cpu")
    if preds(json.load(open(out))) != preds(results["pipelined"]):
        sys.exit("FAIL: --flow-device cpu changed the counts of a CPU plan")
    for word, code, needle in [("cuda", 1, "CUDA plan"), ("gpu", 2, "--flow-device")]:
        r = subprocess.run([crowdrt, "eval", "--plan", plan, "--data", root, "--split", "all", "-q", "--flow-device", word],
                           capture_output=True, text=True)
        lines = r.stderr.strip().splitlines()
        if r.returncode != code or len(lines) != 1 or needle not in lines[0]:
            sys.exit(f"FAIL: --flow-device {word} on a CPU plan: exit {r.returncode}, stderr {r.stderr.strip()!r}")
    print(f"ok: {len(ref)} frames, pipelined == serial (reset and carried flow), numpy agrees; --flow-device checked")


def check_bench(crowdrt, root, models, work):
    out = os.path.join(work, "bench")
    run(crowdrt, "bench", "--model", os.path.join(models, "constant.onnx"), "--model", os.path.join(models, "linear.onnx"),
        "--data", root, "--split", "all", "--precisions", "fp32,bf16", "--flows", "fast,medium", "--out", out,
        "--overwrite")
    j = json.load(open(os.path.join(out, "bench.json")))
    rows = [(r["model"], r["precision"], r["flow"]) for r in j["rows"]]
    expected = [(m, p, f) for m in ("constant", "linear") for p in ("fp32", "bf16") for f in ("fast", "medium")]
    if rows != expected:
        sys.exit(f"FAIL: bench rows {rows}, expected {expected}")
    # The constant model's MAE is the one `eval` reports, whatever the flow.
    plan = os.path.join(out, "constant_fp32.plan")
    ev = os.path.join(work, "bench_eval.json")
    run(crowdrt, "eval", "--plan", plan, "--data", root, "--split", "all", "--json", ev, "--overwrite", "-q")
    mae = json.load(open(ev))["mae"]
    for r in j["rows"]:
        if r["model"] == "constant":
            close(r["mae"], mae, 1e-9, f"bench MAE of {r['precision']}/{r['flow']}")
        if r["precision"] != "fp32" and "delta_mae_vs_fp32" not in r:
            sys.exit("FAIL: a reduced-precision row has no change against fp32")
    table = open(os.path.join(out, "bench.md")).read().strip().split("\n")
    if len(table) != 2 + len(expected) or not table[0].startswith("| model | precision"):
        sys.exit(f"FAIL: bench.md has {len(table)} lines, expected a header, a rule and {len(expected)} rows")
    # int8 needs calibration frames: refused without them, built and measured with them.
    out8 = os.path.join(work, "bench_int8")
    r = subprocess.run([crowdrt, "bench", "--model", os.path.join(models, "linear.onnx"), "--data", root, "--split", "all",
                        "--precisions", "int8", "--flows", "medium", "--out", out8, "--overwrite"],
                       capture_output=True, text=True)
    if r.returncode != 1 or "--calib-data" not in r.stderr:
        sys.exit(f"FAIL: int8 without calibration frames: exit {r.returncode}, {r.stderr.strip()!r}")
    run(crowdrt, "bench", "--model", os.path.join(models, "linear.onnx"), "--data", root, "--split", "all",
        "--precisions", "fp32,int8", "--flows", "medium", "--calib-data", root, "--out", out8, "--overwrite")
    j8 = json.load(open(os.path.join(out8, "bench.json")))["rows"]
    if [r["precision"] for r in j8] != ["fp32", "int8"] or "delta_mae_vs_fp32" not in j8[1]:
        sys.exit(f"FAIL: int8 bench rows {j8}")
    if not os.path.exists(os.path.join(out8, "linear_calib.bin")):
        sys.exit("FAIL: no calibration cache beside the int8 plan")
    print(f"ok: {len(rows)} bench rows, constant MAE {mae}; int8 row with calibration cache")


def check_split(crowdrt, root, models, work):
    import shutil
    plan = os.path.join(work, "constant.plan")
    run(crowdrt, "build", "--onnx", os.path.join(models, "constant.onnx"), "-o", plan, "--overwrite")

    def evaluate(data, *extra):
        report = os.path.join(work, "split.json")
        r = subprocess.run([crowdrt, "eval", "--plan", plan, "--data", data, "--json", report, "--overwrite", "-q",
                            *extra], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"FAIL: eval {list(extra)} on {data} exited {r.returncode}: {r.stderr.strip()}")
        j = json.load(open(report))
        return j["split"], sorted({f["sequence"] for f in j["per_frame"]}), r.stderr

    tested = [line.strip() for line in open(os.path.join(root, "testlist.txt")) if line.strip()]
    split, seqs, err = evaluate(root)
    if split != "test" or seqs != sorted(tested) or "split test" not in err or "testlist.txt" not in err:
        sys.exit(f"FAIL: default split on {len(sequences(root))} sequences with a testlist: {split} {seqs}, "
                 f"stderr {err!r}")
    split, seqs, _ = evaluate(root, "--dataset", "all")
    if split != "all" or seqs != sequences(root):
        sys.exit(f"FAIL: --dataset all evaluated {split} {seqs}")
    # the same set without its lists: every sequence
    bare = os.path.join(work, "bare")
    shutil.rmtree(bare, ignore_errors=True)
    shutil.copytree(os.path.join(root, "sequences"), os.path.join(bare, "sequences"))
    shutil.copytree(os.path.join(root, "annotations"), os.path.join(bare, "annotations"))
    split, seqs, err = evaluate(bare)
    if split != "all" or seqs != sequences(root) or "split all" not in err:
        sys.exit(f"FAIL: default split without testlist.txt: {split} {seqs}, stderr {err!r}")
    r = subprocess.run([crowdrt, "eval", "--plan", plan, "--data", bare, "--split", "val"], capture_output=True,
                       text=True)
    if r.returncode != 1 or "--split" not in r.stderr or "--dataset" in r.stderr:
        sys.exit(f"FAIL: --split val on {len(sequences(root))} sequences: exit {r.returncode}, {r.stderr.strip()!r}")
    print(f"ok: default split test ({len(tested)} sequences), all without lists; --dataset accepted")


def main():
    crowdrt, root, models, work, mode = sys.argv[1:6]
    os.makedirs(work, exist_ok=True)
    {"constant": check_constant, "order": check_order, "bench": check_bench, "split": check_split}[mode](crowdrt, root, models, work)


if __name__ == "__main__":
    main()
