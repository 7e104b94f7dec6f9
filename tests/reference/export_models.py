"""Whole-model references for the end-to-end tests: smp-layout UNet / UNet++ networks with random weights and
random BatchNorm statistics, exported to ONNX, with one random input and PyTorch's output for it.

usage: /usr/bin/python3 tests/reference/export_models.py OUTDIR [--covering|--quick] [--only CASE[,CASE...]] [--force]
       /usr/bin/python3 tests/reference/export_models.py --list [--covering|--quick]
            (the case names, one a line; no torch needed)
       /usr/bin/python3 tests/reference/export_models.py OUTDIR --model ARCH ENCODER C H W [--opset N] [--name NAME]
            (one extra case, e.g. for benchmarks: UNet resnet34 5 608 608)

Each case goes to OUTDIR/<case>/: model.onnx (input `input`, output `output`, batch 1, fixed shape),
input.npy (float32 NCHW), ref.npy (PyTorch's float32 output) and meta.json. OUTDIR/cases.json lists the cases.
A case whose meta.json matches this generator (same script, same smp_layout.py, same case) is not made again
unless --force is given, so re-running the test fixture costs seconds.

BatchNorm: every BatchNorm2d gets random running_mean/var/weight/bias. Most cases are exported with
training=PRESERVE and no constant folding, so the ONNX file keeps its BatchNormalization nodes and the engine's
BN folding does the work; the cases marked bn=fused are exported the seed's way (training=EVAL, PyTorch folds
BN into the convolutions itself).
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

ARCHS = [("unet", "UNet"), ("unetpp", "UNet++")]
ENCODERS = ["resnet18", "resnet34"]
CHANNELS = [3, 5]
SHAPES = [(64, 64), "nonsquare"]  # non-square alternates between 64x96 and 96x64 (H x W) so H/W swaps show
OPSETS = [11, 13, 17]


def all_cases():
    cases = []
    i = 0
    for tag, arch in ARCHS:
        for enc in ENCODERS:
            for ch in CHANNELS:
                for shape in SHAPES:
                    if shape == "nonsquare":
                        shape = (64, 96) if (i // 2) % 2 == 0 else (96, 64)
                    h, w = shape
                    opset = OPSETS[i % 3]
                    bn = "fused" if i % 4 == 3 else "kept"
                    name = f"{tag}_{enc}_c{ch}_{h}x{w}_op{opset}" + ("_bnfused" if bn == "fused" else "")
                    cases.append(dict(name=name, arch=arch, encoder=enc, in_channels=ch, height=h, width=w,
                                      opset=opset, bn=bn, seed=1000 + i))
                    i += 1
    return cases


# --quick: a subset that still covers both architectures, both encoders, 3 and 5 channels, square and
# non-square (both orientations), opsets 11, 13 and 17, and BN kept and fused.
QUICK = {"unet_resnet18_c3_64x64_op11", "unet_resnet34_c5_96x64_op13_bnfused", "unetpp_resnet18_c3_64x96_op11",
         "unetpp_resnet34_c5_64x64_op17"}


# --covering (what `make test` runs): each architecture with both encoders, 3 and 5 channels, square and both
# non-square orientations, opsets 11, 13 and 17, and BN kept and fused; a superset of QUICK, so that the reference
# backend's and the CLI tests' models are among them. The other 9 of the 16 only recombine these values.
COVERING = QUICK | {"unet_resnet34_c3_64x96_op17", "unetpp_resnet34_c3_64x96_op13",
                    "unetpp_resnet34_c5_96x64_op11_bnfused"}


def select(quick, covering=False):
    cases = all_cases()
    if quick or covering:
        cases = [c for c in cases if c["name"] in (QUICK if quick else COVERING)]
    return cases


def generator_hash():
    h = hashlib.sha256()
    for f in (os.path.abspath(__file__), os.path.join(HERE, "smp_layout.py")):
        with open(f, "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()[:16]


def randomize_batchnorm(model, torch, gen):
    n = 0
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            c = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)        # [0.5, 1.5)
                m.weight.copy_(torch.rand(c, generator=gen) * 0.8 + 0.6)       # [0.6, 1.4)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)
            n += 1
    return n


def make_case(case, outdir, force, ghash):
    import numpy as np
    import onnx
    import torch
    sys.path.insert(0, HERE)
    from smp_layout import Model

    d = os.path.join(outdir, case["name"])
    meta_path = os.path.join(d, "meta.json")
    want = dict(case, generator=ghash)
    if not force and os.path.exists(meta_path) and all(
            os.path.exists(os.path.join(d, f)) for f in ("model.onnx", "input.npy", "ref.npy")):
        try:
            with open(meta_path) as fh:
                have = json.load(fh)
            if all(have.get(k) == v for k, v in want.items()):
                return have, False
        except (OSError, ValueError):
            pass

    t0 = time.time()
    torch.manual_seed(case["seed"])
    np.random.seed(case["seed"])
    gen = torch.Generator().manual_seed(case["seed"])
    model = Model(case["arch"], case["encoder"], case["in_channels"])
    n_bn = randomize_batchnorm(model, torch, gen)
    model.eval()

    c, h, w = case["in_channels"], case["height"], case["width"]
    rng = np.random.default_rng(case["seed"])
    x = np.empty((1, c, h, w), np.float32)
    x[:, :3] = rng.random((1, 3, h, w), dtype=np.float32)                     # RGB / 255
    if c > 3:
        x[:, 3:] = (rng.standard_normal((1, c - 3, h, w)) * 2.0).astype(np.float32)  # flow in pixels
    xt = torch.from_numpy(x)
    with torch.no_grad():
        ref = model(xt).numpy().astype(np.float32)

    tmp = d + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    onnx_path = os.path.join(tmp, "model.onnx")
    if case["bn"] == "kept":
        kw = dict(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    else:
        kw = dict(training=torch.onnx.TrainingMode.EVAL, do_constant_folding=True)
    with torch.no_grad():
        torch.onnx.export(model, xt, onnx_path, opset_version=case["opset"], input_names=["input"],
                          output_names=["output"], **kw)
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    ops = {}
    for node in m.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    n_bn_onnx = ops.get("BatchNormalization", 0)
    if case["bn"] == "kept" and n_bn_onnx != n_bn:
        raise SystemExit(f"{case['name']}: expected {n_bn} BatchNormalization nodes in the ONNX, found {n_bn_onnx}")
    if case["bn"] == "fused" and n_bn_onnx != 0:
        raise SystemExit(f"{case['name']}: expected BN folded by the exporter, found {n_bn_onnx} BatchNormalization")

    np.save(os.path.join(tmp, "input.npy"), x)
    np.save(os.path.join(tmp, "ref.npy"), ref)
    meta = dict(want, input_shape=list(x.shape), output_shape=list(ref.shape), batchnorm_modules=n_bn,
                onnx_ops=ops, ref_max_abs=float(np.abs(ref).max()), seconds=round(time.time() - t0, 2))
    with open(os.path.join(tmp, "meta.json"), "w") as fh:
        json.dump(meta, fh, indent=1, sort_keys=True)
    shutil.rmtree(d, ignore_errors=True)
    os.rename(tmp, d)
    return meta, True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--quick", action="store_true", help="the smallest covering subset of the cases (4)")
    ap.add_argument("--covering", action="store_true",
                    help="each architecture with every value of the other dimensions (7 cases)")
    ap.add_argument("--list", action="store_true", help="print the case names and exit (no torch needed)")
    ap.add_argument("--only", help="comma-separated case names")
    ap.add_argument("--force", action="store_true", help="make every case again even if up to date")
    ap.add_argument("--model", nargs=5, metavar=("ARCH", "ENCODER", "C", "H", "W"),
                    help="export one extra case instead (ARCH UNet or UNet++)")
    ap.add_argument("--opset", type=int, default=11, help="with --model (default 11, as the seed)")
    ap.add_argument("--bn", choices=["kept", "fused"], default="kept", help="with --model")
    ap.add_argument("--name", help="with --model: the case folder name")
    a = ap.parse_args()

    if a.model:
        arch, enc, c, h, w = a.model
        if arch not in ("UNet", "UNet++"):
            ap.error("ARCH must be UNet or UNet++")
        tag = "unet" if arch == "UNet" else "unetpp"
        c, h, w = int(c), int(h), int(w)
        name = a.name or f"{tag}_{enc}_c{c}_{h}x{w}_op{a.opset}"
        cases = [dict(name=name, arch=arch, encoder=enc, in_channels=c, height=h, width=w, opset=a.opset,
                      bn=a.bn, seed=7)]
    else:
        cases = select(a.quick, a.covering)
        if a.only:
            want = set(a.only.split(","))
            unknown = want - {c["name"] for c in all_cases()}
            if unknown:
                ap.error(f"unknown case(s): {', '.join(sorted(unknown))}")
            cases = [c for c in all_cases() if c["name"] in want]
    if a.list:
        print("\n".join(c["name"] for c in cases))
        return 0
    if not a.outdir:
        ap.error("OUTDIR is required")

    import warnings
    warnings.filterwarnings("ignore")  # the exporter's shape-inference chatter; real failures still raise
    import torch
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    os.makedirs(a.outdir, exist_ok=True)
    ghash = generator_hash()
    t0 = time.time()
    metas = []
    for case in cases:
        meta, made = make_case(case, a.outdir, a.force, ghash)
        metas.append(meta)
        state = f"made in {meta['seconds']:.1f} s" if made else "up to date"
        print(f"{case['name']:42s} {'x'.join(map(str, meta['input_shape']))} -> "
              f"{'x'.join(map(str, meta['output_shape']))}  BN nodes {meta['onnx_ops'].get('BatchNormalization', 0):3d}"
              f"  {state}", flush=True)
    if not a.model:
        with open(os.path.join(a.outdir, "cases.json"), "w") as fh:
            json.dump([m["name"] for m in metas], fh, indent=1)
    print(f"{len(metas)} case(s) in {a.outdir} ({time.time() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
