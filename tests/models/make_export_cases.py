"""Checkpoints for the `crowdrt export` tests: smp-layout Unet / UnetPlusPlus models (every encoder crowdrt exports)
with random weights and random BatchNorm statistics, saved the ways people save them, with one input and PyTorch's
output for it.

usage: /usr/bin/python3 tests/models/make_export_cases.py OUTDIR        (makes what is not up to date)
       /usr/bin/python3 tests/models/make_export_cases.py --list         (case names, one a line; no torch)

Each case goes to OUTDIR/<case>/: model.pth, input.npy, ref.npy (float32 output of the weights as stored, so fp16
cases compare against the fp16-rounded model) and meta.json (arch spelling, encoder, channels, size, opset, and the
options the test passes). Storage: fp32 or fp16 tensors; plain state_dict, {'state_dict': ...} or 'module.'-prefixed
keys (DataParallel)."""
import hashlib
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "reference")

# name: arch (spelling given to --arch; "auto" lets crowdrt detect it), encoder ("auto" too), channels, HxW,
# storage dtype, wrapping, opset. Sizes small so the whole run stays within a few minutes on 2 cores.
CASES = [
    ("unet_resnet18_c3", "UNet", "resnet18", 3, (64, 64), "fp32", "plain", 11, dict()),
    ("unetpp_resnet34_c5_fp16_wrapped", "UNet++", "resnet34", 5, (64, 96), "fp16", "wrapped", 13, dict()),
    ("unet_resnet50_c5_module", "unet", "resnet50", 5, (64, 64), "fp32", "module", 17, dict(encoder="auto")),
    ("unet_resnet101_c3", "auto", "resnet101", 3, (64, 64), "fp32", "plain", 11, dict(encoder="auto")),
    ("unet_mobilenet_v2_c5_wrapped", "UNet", "mobilenet_v2", 5, (64, 96), "fp32", "wrapped", 11, dict()),
    ("unetpp_mobilenet_v2_c3_fp16", "unetplusplus", "mobilenet_v2", 3, (64, 64), "fp16", "plain", 12, dict()),
    ("unet_efficientnet-b0_c5", "UNet", "efficientnet-b0", 5, (64, 64), "fp32", "plain", 11, dict(encoder="auto")),
    ("unetpp_efficientnet-b0_c3", "UNet++", "efficientnet-b0", 3, (64, 64), "fp32", "plain", 11, dict()),
    ("unetpp_efficientnet-b1_c3_module", "UNet++", "efficientnet-b1", 3, (64, 96), "fp32", "module", 13,
     dict(encoder="auto")),
    ("unet_efficientnet-b2_c5_fp16", "UNet", "efficientnet-b2", 5, (64, 96), "fp16", "plain", 14, dict()),
    ("unet_efficientnet-b3_c3", "auto", "efficientnet-b3", 3, (64, 64), "fp32", "wrapped", 17, dict(encoder="auto")),
]


def generator_hash():
    h = hashlib.sha256()
    for f in (os.path.abspath(__file__), os.path.join(REFERENCE, "smp_layout.py"),
              os.path.join(REFERENCE, "smp_efficientnet.py")):
        with open(f, "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()[:16]


def randomize_batchnorm(model, torch, gen):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            c = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(c, generator=gen) * 0.8 + 0.6)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.1)


def make_case(index, case, outdir, ghash):
    import numpy as np
    import torch
    sys.path.insert(0, REFERENCE)
    from smp_efficientnet import Model

    name, arch, encoder, ch, (h, w), dtype, wrap, opset, options = case
    d = os.path.join(outdir, name)
    want = dict(name=name, arch=arch, encoder=encoder, in_channels=ch, height=h, width=w, dtype=dtype, wrap=wrap,
                opset=opset, options=options, generator=ghash)
    meta_path = os.path.join(d, "meta.json")
    if os.path.exists(meta_path) and all(os.path.exists(os.path.join(d, f)) for f in ("model.pth", "input.npy",
                                                                                        "ref.npy")):
        with open(meta_path) as fh:
            have = json.load(fh)
        if all(have.get(k) == v for k, v in want.items()):
            return have, False
    t0 = time.time()
    seed = 2000 + index
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = Model("UNet++" if arch.lower() in ("unet++", "unetplusplus") else "UNet", encoder, ch)
    randomize_batchnorm(model, torch, gen)
    model.eval()
    state = model.state_dict()
    if dtype == "fp16":  # stored in half precision; the reference runs the weights as stored
        state = {k: (v.half() if v.is_floating_point() else v) for k, v in state.items()}
        model.load_state_dict({k: (v.float() if v.is_floating_point() else v) for k, v in state.items()})
    rng = np.random.default_rng(seed)
    x = np.empty((1, ch, h, w), np.float32)
    x[:, :3] = rng.random((1, 3, h, w), dtype=np.float32)
    if ch > 3:
        x[:, 3:] = (rng.standard_normal((1, ch - 3, h, w)) * 2.0).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy().astype(np.float32)
    if wrap == "module":
        state = {"module." + k: v for k, v in state.items()}
    saved = {"state_dict": state, "epoch": 3} if wrap == "wrapped" else state

    tmp = d + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    torch.save(saved, os.path.join(tmp, "model.pth"))
    np.save(os.path.join(tmp, "input.npy"), x)
    np.save(os.path.join(tmp, "ref.npy"), ref)
    meta = dict(want, parameters=sum(p.numel() for p in model.parameters()), ref_max_abs=float(np.abs(ref).max()),
                seconds=round(time.time() - t0, 2))
    with open(os.path.join(tmp, "meta.json"), "w") as fh:
        json.dump(meta, fh, indent=1, sort_keys=True)
    shutil.rmtree(d, ignore_errors=True)
    os.rename(tmp, d)
    return meta, True


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--list":
        print("\n".join(c[0] for c in CASES))
        return 0
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    import warnings
    warnings.filterwarnings("ignore")
    import torch
    torch.set_num_threads(2)
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    ghash = generator_hash()
    t0 = time.time()
    for i, case in enumerate(CASES):
        meta, made = make_case(i, case, outdir, ghash)
        print(f"{case[0]:36s} {meta['parameters'] / 1e6:6.2f} M parameters, max|ref| {meta['ref_max_abs']:.3g}  "
              f"{'made in %.1f s' % meta['seconds'] if made else 'up to date'}", flush=True)
    print(f"{len(CASES)} case(s) in {outdir} ({time.time() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
