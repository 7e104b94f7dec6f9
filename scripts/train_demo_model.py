"""Trains crowdrt's demo model: an smp-layout UNet (mobilenet_v2 encoder, 5 input channels: R, G, B, Fx, Fy)
on synthetic VisDrone-CC-format sequences written by `crowdrt synth`.

usage: /usr/bin/python3 scripts/train_demo_model.py --train ROOT[,ROOT...] --val ROOT --out CKPT.pth
           [--size 448x256] [--flow medium] [--steps 3000] [--batch 16] [--crop 256] [--device auto|cpu|cuda]
           [--threads N] [--log LOG.json]

Inputs are made exactly as `crowdrt eval` makes them (tests/reference/seed_input.py, the seed's eval.py recipe,
which the vision tests compare with `crowdrt preprocess`): each frame resized to --size, RGB / 255, DIS flow of
the seed gray with warm start, flow restarting at each sequence. Targets follow the seed's ground truth: 100 at
each head's pixel (annotations scaled to --size), Gaussian filter with sigma 1, so count = sum / 100.
The checkpoint is the model's state_dict with floating-point tensors stored as float16 (`crowdrt export` reads
it). Runs on a CPU (slow: hours for a good model) or a CUDA GPU (minutes).
"""
import argparse
import glob
import json
import math
import os
import sys
import time
from multiprocessing import Pool

import cv2
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
from seed_input import seed_inputs  # noqa: E402
from smp_layout import Model  # noqa: E402


def read_annotations(path):
    heads = {}
    if os.path.exists(path):
        for line in open(path):
            parts = line.strip().split(",")
            if len(parts) >= 3:
                heads.setdefault(int(parts[0]), []).append((float(parts[1]), float(parts[2])))
    return heads


def density_target(points, source_size, size):
    """100 at each head's pixel of the resized frame, then a Gaussian with sigma 1 (count = sum / 100)."""
    (w0, h0), (w, h) = source_size, size
    d = np.zeros((h, w), np.float32)
    for x, y in points:
        px, py = int(x * w / w0), int(y * h / h0)
        if 0 <= px < w and 0 <= py < h:
            d[py, px] += 100.0
    return cv2.GaussianBlur(d, (7, 7), 1.0, borderType=cv2.BORDER_CONSTANT)


def load_sequence(job):
    root, seq, size, flow = job
    frames = sorted(glob.glob(os.path.join(root, "sequences", seq, "*.jpg")))
    heads = read_annotations(os.path.join(root, "annotations", seq + ".txt"))
    first = cv2.imread(frames[0])
    source_size = (first.shape[1], first.shape[0])
    xs, ys, counts = [], [], []
    for i, x in enumerate(seed_inputs(frames, size, flow, 5, "eval")):
        pts = heads.get(i + 1, [])
        xs.append(x[0].astype(np.float32))
        t = density_target(pts, source_size, size)
        ys.append(t[None])
        counts.append(len(pts))
    return seq, np.stack(xs), np.stack(ys), counts


def load_roots(roots, size, flow, workers):
    jobs = []
    for root in roots:
        for seq in sorted(os.listdir(os.path.join(root, "sequences"))):
            jobs.append((root, seq, size, flow))
    with Pool(workers) as pool:
        parts = pool.map(load_sequence, jobs)
    x = np.concatenate([p[1] for p in parts])
    y = np.concatenate([p[2] for p in parts])
    counts = sum((p[3] for p in parts), [])
    return x, y, counts


def evaluate(model, x, counts, device, batch=8):
    model.eval()
    preds = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = model(torch.from_numpy(x[i:i + batch]).to(device))
            preds += (out.sum(dim=(1, 2, 3)) / 100.0).cpu().tolist()
    model.train()
    err = np.array(preds) - np.array(counts, np.float64)
    return float(np.abs(err).mean()), float(np.sqrt((err ** 2).mean()))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", required=True, help="comma-separated dataset roots (crowdrt synth output)")
    p.add_argument("--val", required=True, help="held-out dataset root")
    p.add_argument("--out", required=True)
    p.add_argument("--size", default="448x256", help="network input WxH")
    p.add_argument("--flow", default="medium")
    p.add_argument("--arch", default="UNet")
    p.add_argument("--encoder", default="mobilenet_v2")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--crop", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--workers", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log", default=None)
    p.add_argument("--keep-best", action="store_true",
                   help="keep the weights of the evaluation (every 250 steps) with the lowest --val MAE; then --val "
                        "picks the model, so judge it on other held-out sequences")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device("cuda" if a.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if a.device == "auto" else a.device))
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    size = tuple(int(v) for v in a.size.split("x"))
    t0 = time.time()
    x, y, counts = load_roots(a.train.split(","), size, a.flow, a.workers)
    vx, _, vcounts = load_roots([a.val], size, a.flow, a.workers)
    print(f"data: {len(x)} training frames, {len(vx)} held-out frames, {size[0]}x{size[1]}, flow {a.flow}, "
          f"{time.time() - t0:.1f} s", flush=True)
    xt, yt = torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)

    model = Model(a.arch, a.encoder, 5).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(math.pi * s / a.steps)))
    h, w = size[1], size[0]
    ch, cw = min(a.crop, h), min(a.crop, w)
    log = {"args": vars(a), "steps": []}
    t0 = time.time()
    best = None
    for step in range(a.steps):
        idx = torch.from_numpy(rng.integers(0, len(x), a.batch)).to(device)
        oy, ox = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        xb = xt[idx, :, oy:oy + ch, ox:ox + cw].clone()
        yb = yt[idx, :, oy:oy + ch, ox:ox + cw].clone()
        if rng.random() < 0.5:  # mirror left-right: the horizontal flow changes sign
            xb, yb = xb.flip(3), yb.flip(3)
            xb[:, 3] = -xb[:, 3]
        if rng.random() < 0.5:  # mirror top-bottom: the vertical flow changes sign
            xb, yb = xb.flip(2), yb.flip(2)
            xb[:, 4] = -xb[:, 4]
        pred = model(xb)
        density_loss = F.mse_loss(pred, yb)
        count_loss = (pred.sum(dim=(1, 2, 3)) - yb.sum(dim=(1, 2, 3))).abs().mean() / 100.0
        loss = density_loss + 0.1 * count_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == a.steps - 1:
            mae, rmse = evaluate(model, vx, vcounts, device)
            entry = dict(step=step, loss=loss.item(), density_mse=density_loss.item(), count_l1=count_loss.item(),
                         val_mae=mae, val_rmse=rmse, seconds=round(time.time() - t0, 1))
            log["steps"].append(entry)
            print(json.dumps(entry), flush=True)
            if a.keep_best and (best is None or mae < best[0]):
                best = (mae, step, {k: v.detach().clone() for k, v in model.state_dict().items()})
    if a.keep_best:
        model.load_state_dict(best[2])
        log["kept_step"] = best[1]
        print(f"kept the weights of step {best[1]}")
    mae, rmse = evaluate(model, vx, vcounts, device)
    log["final"] = dict(val_mae=mae, val_rmse=rmse, val_frames=len(vx), train_frames=len(x),
                        seconds=round(time.time() - t0, 1), device=str(device), torch=torch.__version__)
    print(json.dumps(log["final"]), flush=True)
    state = {k: (v.half() if v.is_floating_point() else v).cpu() for k, v in model.state_dict().items()}
    torch.save(state, a.out)
    print(f"wrote {a.out} ({os.path.getsize(a.out) / 1e6:.1f} MB)")
    if a.log:
        with open(a.log, "w") as f:
            json.dump(log, f, indent=1)


if __name__ == "__main__":
    main()
