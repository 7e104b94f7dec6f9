"""The peer for bench/frames_fps.sh: the seed's eval.py preprocessing loop (cv2 + numpy), timed whole, and
OpenCV's DIS.calc timed alone on the same frames. Prints one line each in frames per second."""
import glob
import os
import sys
import time

import cv2
import numpy as np

PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
           "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}


def warp_flow(img, flow):
    h, w = flow.shape[:2]
    flow = -flow
    flow[:, :, 0] += np.arange(w)
    flow[:, :, 1] += np.arange(h)[:, np.newaxis]
    return cv2.remap(img, flow, None, cv2.INTER_LINEAR)


def main():
    folder, preset = sys.argv[1], sys.argv[2]
    paths = sorted(glob.glob(os.path.join(folder, "*.jpg")))
    inst = cv2.DISOpticalFlow.create(PRESETS[preset])
    inst.setUseSpatialPropagation(False)
    grays = []
    prevgray, flow_img = None, None
    dis_seconds = 0.0
    start = time.perf_counter()
    for path in paths:  # eval.py, minus the model
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        img = cv2.resize(img, (608, 608))
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        grays.append(gray)
        if prevgray is None:
            prevgray = gray.copy()
        if flow_img is not None:
            flow_img = inst.calc(prevgray, gray, warp_flow(flow_img, flow_img))
        else:
            flow_img = inst.calc(prevgray, gray, None)
        x = np.concatenate((img, np.reshape(flow_img * 255., (*img.shape[:2], 2))), axis=2)
        x = (x * 1. / 255.).transpose((2, 0, 1))
        x = np.ascontiguousarray(x, dtype=np.float32)
        prevgray = gray
    loop = time.perf_counter() - start
    # DIS.calc alone on the same gray frames, warm-started the same way (warping not timed).
    prevgray, flow_img = grays[0], None
    for gray in grays:
        init = warp_flow(flow_img, flow_img) if flow_img is not None else None
        t0 = time.perf_counter()
        flow_img = inst.calc(prevgray, gray, init)
        dis_seconds += time.perf_counter() - t0
        prevgray = gray
    n = len(paths)
    print(f"seed python loop: {n} frames, {1000 * loop / n:.2f} ms per frame = {n / loop:.1f} frames/s")
    print(f"cv2 DIS.calc alone: {n} frames, {1000 * dis_seconds / n:.2f} ms per frame = {n / dis_seconds:.1f} frames/s")


if __name__ == "__main__":
    main()
