"""One whole-model case end to end: `crowdrt build` the case's ONNX, `crowdrt infer` its input with 1 and 2
threads, and compare each output with PyTorch's (max|d|/max|ref| <= 1e-4).
usage: /usr/bin/python3 tests/e2e/check_model.py CROWDRT MODELS_DIR CASE WORK_DIR [--device cpu|ref] [--tol T]"""
import argparse
import os

from common import TestFailure, expect_ok, fresh_dir, main_guard
from compare import compare


def test(a):
    case_dir = os.path.join(a.models, a.case)
    for f in ("model.onnx", "input.npy", "ref.npy"):
        if not os.path.exists(os.path.join(case_dir, f)):
            raise TestFailure(f"{case_dir}/{f} missing: the e2e_models fixture did not make this case")
    work = fresh_dir(a.work)
    plan = os.path.join(work, "model.plan")
    expect_ok([a.crowdrt, "build", "--onnx", os.path.join(case_dir, "model.onnx"), "--precision", "fp32",
               "--device", a.device, "-o", plan])
    with open(plan, "rb") as fh:
        if fh.read(8) != b"CRWDPLAN":
            raise TestFailure(f"{plan} does not start with the magic CRWDPLAN")
    failures = []
    for threads in (1, 2):
        out = os.path.join(work, f"out_t{threads}.npy")
        expect_ok([a.crowdrt, "infer", "--plan", plan, "--input", os.path.join(case_dir, "input.npy"),
                   "--output", out, "--threads", threads])
        ok, msg = compare(out, os.path.join(case_dir, "ref.npy"), a.tol)
        print(f"  {a.case} device {a.device} threads {threads}: {msg}", flush=True)
        if not ok:
            failures.append(f"threads {threads}: {msg}")
    if failures:
        raise TestFailure(f"{a.case} ({a.device}) differs from PyTorch: " + "; ".join(failures))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("crowdrt")
    ap.add_argument("models")
    ap.add_argument("case")
    ap.add_argument("work")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()
    main_guard(lambda: test(args))
