"""Compares an engine output with PyTorch's reference: same shape, float32, finite, and
max|out - ref| / max|ref| <= tol (default 1e-4).
usage: /usr/bin/python3 tests/e2e/compare.py OUT.npy REF.npy [--tol 1e-4]   (exit 0 if within, 1 if not)"""
import argparse
import sys

import numpy as np


def compare(out_path, ref_path, tol=1e-4):
    """Returns (ok, message)."""
    try:
        out = np.load(out_path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001 - any unreadable file is a failed comparison
        return False, f"{out_path}: not a readable .npy ({e})"
    ref = np.load(ref_path, allow_pickle=False)
    if out.dtype != np.float32:
        return False, f"{out_path}: dtype {out.dtype}, expected float32"
    if out.shape != ref.shape:
        return False, f"{out_path}: shape {out.shape}, expected {ref.shape}"
    if not np.all(np.isfinite(out)):
        return False, f"{out_path}: {int(np.sum(~np.isfinite(out)))} non-finite values"
    diff = np.abs(out.astype(np.float64) - ref.astype(np.float64))
    scale = float(np.abs(ref).max())
    if scale == 0.0:
        return False, f"{ref_path}: the reference is all zeros, a useless test"
    rel = float(diff.max()) / scale
    where = np.unravel_index(int(np.argmax(diff)), diff.shape)
    msg = (f"max|d| = {diff.max():.3e} at {tuple(int(i) for i in where)} (out {out[where]:.6g}, ref {ref[where]:.6g}), "
           f"max|ref| = {scale:.4g}, max|d|/max|ref| = {rel:.3e} (tolerance {tol:g}), mean|d| = {diff.mean():.3e}")
    return rel <= tol, msg


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("ref")
    ap.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()
    ok, msg = compare(a.out, a.ref, a.tol)
    print(("OK   " if ok else "FAIL ") + msg)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
