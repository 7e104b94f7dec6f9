"""Plans with a batch dimension: the demo model (UNet-mobilenet_v2, models/demo) exported at 64x64 (a batch-1 ONNX),
built once as it is and once with `--input-shape input:2x5x64x64`; two different inputs in one call of the batch-2
plan give what the batch-1 plan gives for each alone: exactly on the reference backend (its loops run each image
alike), within the e2e tolerance (max|d| / max|ref| <= 1e-4) on the CPU engine, whose kernels may differ between the
two shapes.

usage: /usr/bin/python3 tests/e2e/batch_plans.py CROWDRT REPO_ROOT WORK [DEVICE ...]   (default devices: ref cpu)
"""
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import TestFailure, expect_ok  # noqa: E402

SIZE = 64
BATCH = 2
TOLERANCE = {"ref": 0.0, "cpu": 1e-4, "cuda": 1e-4}


def main():
    crowdrt, root, work = sys.argv[1:4]
    devices = sys.argv[4:] or ["ref", "cpu"]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    onnx = os.path.join(work, "demo.onnx")
    expect_ok([crowdrt, "export", os.path.join(root, "models", "demo", "demo_unet_mobilenet_v2.pth"), "--input-size",
               f"{SIZE}x{SIZE}", "-o", onnx, "-q"])
    rng = np.random.default_rng(11)
    items = []
    for k in range(BATCH):
        x = np.concatenate([rng.uniform(0, 1, (1, 3, SIZE, SIZE)), rng.uniform(-3, 3, (1, 2, SIZE, SIZE))], axis=1)
        items.append(os.path.join(work, f"item{k}.npy"))
        np.save(items[-1], x.astype(np.float32))
    whole = os.path.join(work, "batch.npy")
    np.save(whole, np.concatenate([np.load(p) for p in items]))
    for device in devices:
        one, many = os.path.join(work, f"{device}_b1.plan"), os.path.join(work, f"{device}_b{BATCH}.plan")
        build = [crowdrt, "build", "--onnx", onnx, "--device", device, "--no-tactic-timing", "--threads", "1", "-q"]
        expect_ok(build + ["-o", one])
        expect_ok(build + ["--input-shape", f"input:{BATCH}x5x{SIZE}x{SIZE}", "-o", many])
        alone = []
        for k, item in enumerate(items):
            out = os.path.join(work, f"{device}_alone{k}.npy")
            expect_ok([crowdrt, "infer", "--plan", one, "--input", item, "--output", out, "--threads", "1", "-q"])
            alone.append(np.load(out))
        out = os.path.join(work, f"{device}_batch.npy")
        expect_ok([crowdrt, "infer", "--plan", many, "--input", whole, "--output", out, "--threads", "1", "-q"])
        together = np.load(out)
        if together.shape != (BATCH, 1, SIZE, SIZE):
            raise TestFailure(f"{device}: the batch-{BATCH} plan gave {together.shape}")
        for k in range(BATCH):
            ref = alone[k][0]
            rel = float(np.abs(together[k] - ref).max() / max(np.abs(ref).max(), 1e-30))
            print(f"{device}: item {k}: max|d| / max|ref| = {rel:.3e} (tolerance {TOLERANCE[device]:g})")
            if rel > TOLERANCE[device]:
                raise TestFailure(f"{device}: item {k} of the batch-{BATCH} plan differs from the batch-1 plan's "
                                  f"answer: {rel:.3e} > {TOLERANCE[device]:g}")
        if np.array_equal(together[0], together[1]):
            raise TestFailure(f"{device}: two different inputs gave the same density: the check sees nothing")
    print(f"ok: batch-{BATCH} plans equal batch-1 plans item by item on {', '.join(devices)}")


if __name__ == "__main__":
    try:
        main()
    except TestFailure as e:
        print(f"FAIL: {e}")
        sys.exit(1)
