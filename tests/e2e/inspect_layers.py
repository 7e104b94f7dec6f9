"""`crowdrt inspect` on an ONNX model and on a plan built from it: exit 0, and both print the layers
(one line per convolution at least, and a layer count).
usage: /usr/bin/python3 tests/e2e/inspect_layers.py CROWDRT MODELS_DIR CASE WORK_DIR"""
import json
import os
import re
import sys

from common import TestFailure, expect_ok, fresh_dir, main_guard


def check_layers(r, what, min_convs):
    convs = [l for l in r.out.splitlines() if "conv" in l.lower()]
    if len(convs) < min_convs:
        raise TestFailure(f"inspect {what}: {len(convs)} lines mention a convolution, expected at least {min_convs}\n"
                          f"{r.describe()}")
    if not re.search(r"\b\d+ layers\b", r.out):
        raise TestFailure(f"inspect {what}: no layer count ('N layers') in the output\n{r.describe()}")


def test(crowdrt, models, case, work):
    work = fresh_dir(work)
    onnx = os.path.join(models, case, "model.onnx")
    with open(os.path.join(models, case, "meta.json")) as fh:
        n_conv = json.load(fh)["onnx_ops"]["Conv"]
    plan = os.path.join(work, "model.plan")
    check_layers(expect_ok([crowdrt, "inspect", onnx]), "ONNX", n_conv)
    expect_ok([crowdrt, "build", "--onnx", onnx, "-o", plan])
    # BN folding and fusion may merge nodes, never convolutions
    check_layers(expect_ok([crowdrt, "inspect", plan]), "plan", n_conv)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main_guard(lambda: test(*sys.argv[1:]))
