"""The seed's network input, computed independently with Debian's python3-opencv and numpy, following
shared/SEED.md "Input tensor" literally (eval: the seed's eval.py; calib: prepare_calibration_data.py then
crowd_trt_calibrator.py), and compared with the .npy files `crowdrt preprocess` wrote.

usage: seed_input.py SEQUENCE_DIR CROWDRT_OUT_DIR --size WxH --flow P --channels C --mode eval|calib --tol T
Prints the largest absolute difference per channel; exits 1 when one exceeds its tolerance
(RGB: 1e-6; flow: T pixels).
"""
import argparse
import glob
import os
import sys

import cv2
import numpy as np

PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
           "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}


def warp_flow(img, flow):  # as in the seed
    h, w = flow.shape[:2]
    flow = -flow
    flow[:, :, 0] += np.arange(w)
    flow[:, :, 1] += np.arange(h)[:, np.newaxis]
    return cv2.remap(img, flow, None, cv2.INTER_LINEAR)


def seed_inputs(frames, size, flow_type, channels, mode):
    inst = None
    if channels == 5:
        inst = cv2.DISOpticalFlow.create(PRESETS[flow_type])
        inst.setUseSpatialPropagation(False)
    prevgray, flow_img = None, None
    for path in frames:
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if mode == "eval":  # eval.py: resize, RGB, gray of RGB with the BGR formula, flow, stack, /255
            img = cv2.resize(img, size)
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            if channels == 3:
                yield (img.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
                continue
            gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        else:  # prepare_calibration_data.py: gray of the BGR frame at source resolution
            if channels == 3:  # crowd_trt_calibrator._preprocess_crowd
                rgb = cv2.resize(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), size)
                yield (rgb.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
                continue
            gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        if prevgray is None:
            prevgray = gray.copy()
        if flow_img is not None:
            flow_img = inst.calc(prevgray, gray, warp_flow(flow_img, flow_img))
        else:
            flow_img = inst.calc(prevgray, gray, None)
        prevgray = gray
        if mode == "eval":
            stack = np.concatenate((img, np.reshape(flow_img * 255., (*img.shape[:2], 2))), axis=2)
            stack = stack * 1. / 255.
        else:  # crowd_trt_calibrator._preprocess_crowd_with_optical_flow on the saved float32 flow
            rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            stack = np.concatenate((rgb, np.reshape(flow_img.astype(np.float32) * 255., (*rgb.shape[:2], 2))), axis=2)
            stack = cv2.resize(stack, size)
            stack = stack.astype(np.float32) / 255.0
        yield stack.transpose(2, 0, 1).astype(np.float32)[None]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("sequence")
    p.add_argument("crowdrt_out")
    p.add_argument("--size", default="608x608")
    p.add_argument("--flow", default="medium")
    p.add_argument("--channels", type=int, default=5)
    p.add_argument("--mode", default="eval")
    p.add_argument("--tol", type=float, default=1e-4)
    a = p.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    frames = sorted(f for f in glob.glob(os.path.join(a.sequence, "*")) if f.lower().endswith((".jpg", ".png")))
    if not frames:
        sys.exit(f"no frames in {a.sequence}")
    worst = np.zeros(a.channels)
    for path, ref in zip(frames, seed_inputs(frames, (w, h), a.flow, a.channels, a.mode)):
        ours_path = os.path.join(a.crowdrt_out, os.path.splitext(os.path.basename(path))[0] + ".npy")
        ours = np.load(ours_path)
        if ours.shape != ref.shape or ours.dtype != np.float32:
            sys.exit(f"{ours_path}: {ours.dtype} {ours.shape}, expected float32 {ref.shape}")
        worst = np.maximum(worst, np.abs(ours - ref).reshape(a.channels, -1).max(axis=1))
    tolerance = np.array([1e-6] * 3 + [a.tol] * (a.channels - 3))
    print(f"{a.mode} {a.flow} {a.channels}ch {len(frames)} frames: max |crowdrt - seed| per channel",
          " ".join(f"{v:.3g}" for v in worst), "tolerance", " ".join(f"{v:.3g}" for v in tolerance))
    sys.exit(0 if np.all(worst <= tolerance) else 1)


if __name__ == "__main__":
    main()
