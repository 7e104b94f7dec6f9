"""One `crowdrt export` case end to end: export the case's checkpoint, check the ONNX file with onnx.checker
(full_check) and its interface, then run it and compare with PyTorch's output (max|d|/max|ref| <= 1e-4):
  --runtime crowdrt  `crowdrt build --device D` + `crowdrt infer`
  --runtime ort      ONNX Runtime through node (tests/models/ort_run.js); exits 77 (CTest: skipped) when node or
                     onnxruntime-node is unavailable
usage: /usr/bin/python3 tests/models/check_export.py CROWDRT CASES_DIR CASE WORK_DIR [--runtime crowdrt|ort]
       [--device cpu|ref] [--node-path DIR] [--tol T]"""
import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from common import TestFailure, expect_ok, fresh_dir, main_guard, run  # noqa: E402
from compare import compare  # noqa: E402

SKIP = 77


def export(a, meta, work):
    case_dir = os.path.join(a.cases, a.case)
    onnx_path = os.path.join(work, "model.onnx")
    opts = meta["options"]
    arch = meta["arch"]
    encoder = opts.get("encoder", meta["encoder"])
    args = [a.crowdrt, "export", "--checkpoint", os.path.join(case_dir, "model.pth"), "--input-size",
            f"{meta['width']}x{meta['height']}", "-o", onnx_path, "--opset", meta["opset"], "--encoder", encoder]
    if arch != "auto":
        args += ["--arch", arch]
    if meta["in_channels"] == 5:  # 3-channel cases leave --in-channels at auto
        args += ["--in-channels", "5"]
    r = expect_ok(args)
    print(r.out, end="")
    want_arch = "unetplusplus" if meta["arch"].lower() in ("unet++", "unetplusplus") else "unet"
    for needle in (f"model: {want_arch}", f"encoder {meta['encoder']}", f"{meta['in_channels']} input channels",
                   f"input 1x{meta['in_channels']}x{meta['height']}x{meta['width']}", f"wrote {onnx_path}"):
        if needle not in r.out:
            raise TestFailure(f"export output does not say {needle!r}\n{r.describe()}")
    return onnx_path


def check_onnx(path, meta):
    import onnx
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    if model.opset_import[0].version != meta["opset"]:
        raise TestFailure(f"{path}: opset {model.opset_import[0].version}, asked for {meta['opset']}")
    dims = lambda v: [d.dim_value for d in v.type.tensor_type.shape.dim]  # noqa: E731
    c, h, w = meta["in_channels"], meta["height"], meta["width"]
    if [i.name for i in model.graph.input] != ["input"] or dims(model.graph.input[0]) != [1, c, h, w]:
        inputs = [(i.name, dims(i)) for i in model.graph.input]
        raise TestFailure(f"{path}: inputs {inputs}, expected input 1x{c}x{h}x{w}")
    if [o.name for o in model.graph.output] != ["output"] or dims(model.graph.output[0]) != [1, 1, h, w]:
        outputs = [(o.name, dims(o)) for o in model.graph.output]
        raise TestFailure(f"{path}: outputs {outputs}, expected output 1x1x{h}x{w}")
    print(f"  onnx.checker (full_check): ok, {len(model.graph.node)} nodes, opset {meta['opset']}", flush=True)


def run_crowdrt(a, onnx_path, work, case_dir):
    plan = os.path.join(work, "model.plan")
    expect_ok([a.crowdrt, "build", "--onnx", onnx_path, "--precision", "fp32", "--device", a.device, "-o", plan])
    out = os.path.join(work, "out.npy")
    expect_ok([a.crowdrt, "infer", "--plan", plan, "--input", os.path.join(case_dir, "input.npy"), "--output", out])
    return out


def run_ort(a, onnx_path, work, case_dir):
    node = shutil.which("node")
    if node is None:
        print("SKIP: node is not installed, so ONNX Runtime (onnxruntime-node) cannot run", flush=True)
        sys.exit(SKIP)
    out = os.path.join(work, "out_ort.npy")
    env = dict(os.environ, NODE_PATH=os.path.join(a.node_path, "node_modules") if a.node_path else "")
    args = [node, os.path.join(HERE, "ort_run.js"), onnx_path, os.path.join(case_dir, "input.npy"), out]
    print("$ NODE_PATH=" + env["NODE_PATH"] + " " + " ".join(args), flush=True)
    p = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
    print(p.stdout + p.stderr, end="", flush=True)
    if p.returncode == SKIP:
        sys.exit(SKIP)
    if p.returncode != 0:
        raise TestFailure(f"ort_run.js failed with exit code {p.returncode}")
    return out


def test(a):
    case_dir = os.path.join(a.cases, a.case)
    meta_path = os.path.join(case_dir, "meta.json")
    if not os.path.exists(meta_path):
        raise TestFailure(f"{meta_path} missing: the export_cases fixture did not make this case")
    with open(meta_path) as fh:
        meta = json.load(fh)
    work = fresh_dir(a.work)
    onnx_path = export(a, meta, work)
    check_onnx(onnx_path, meta)
    out = (run_ort if a.runtime == "ort" else run_crowdrt)(a, onnx_path, work, case_dir)
    ok, msg = compare(out, os.path.join(case_dir, "ref.npy"), a.tol)
    label = "onnxruntime" if a.runtime == "ort" else f"crowdrt --device {a.device}"
    print(f"  {a.case} {label} vs PyTorch: {msg}", flush=True)
    if not ok:
        raise TestFailure(f"{a.case}: {label} differs from PyTorch: {msg}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("crowdrt")
    ap.add_argument("cases")
    ap.add_argument("case")
    ap.add_argument("work")
    ap.add_argument("--runtime", choices=["crowdrt", "ort"], default="crowdrt")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--node-path", default="", help="folder holding node_modules/onnxruntime-node")
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()
    main_guard(lambda: test(args))
