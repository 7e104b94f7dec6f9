"""`crowdrt run` on a short synthetic clip, as a folder of images and as an MJPG video, with the constant model
(every count 10.24): it writes what it says (overlays of the frame's size, one CSV line per frame, the plot),
and refuses to replace an earlier run's files without --overwrite.

usage: check_run.py CROWDRT SEQUENCE_DIR MODELS_DIR WORK_DIR
"""
import glob
import os
import shutil
import subprocess
import sys

import cv2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_models import CONSTANT_BIAS  # noqa: E402

SIZE = 64


def fail(msg):
    sys.exit("FAIL: " + msg)


def run(*args, expect=0):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode != expect:
        fail(f"{' '.join(args)} exited {r.returncode} (expected {expect}): {r.stderr.strip()}")
    return r


def check_counts(csv, n):
    lines = open(csv).read().strip().split("\n")
    if lines[0] != "frame,count" or len(lines) != n + 1:
        fail(f"{csv}: expected a header and {n} lines, got {len(lines)} lines")
    for i, line in enumerate(lines[1:]):
        frame, count = line.split(",")
        if int(frame) != i + 1 or abs(float(count) - CONSTANT_BIAS * SIZE * SIZE / 100) > 1e-6:
            fail(f"{csv}: line {i + 2} is {line!r}")


def main():
    crowdrt, sequence, models, work = sys.argv[1:5]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    plan = os.path.join(work, "constant.plan")
    run(crowdrt, "build", "--onnx", os.path.join(models, "constant.onnx"), "-o", plan)
    frames = sorted(glob.glob(os.path.join(sequence, "*.jpg")))
    h, w = cv2.imread(frames[0]).shape[:2]

    out = os.path.join(work, "images")
    run(crowdrt, "run", "--plan", plan, "--input", sequence, "--out", out)
    pngs = sorted(glob.glob(os.path.join(out, "*.png")))
    overlays = [p for p in pngs if os.path.basename(p) != "counts.png"]
    if len(overlays) != len(frames):
        fail(f"{len(overlays)} overlay PNGs for {len(frames)} frames")
    for p in overlays:
        if cv2.imread(p).shape[:2] != (h, w):
            fail(f"{p}: not the frame's size {w}x{h}")
    check_counts(os.path.join(out, "counts.csv"), len(frames))
    if cv2.imread(os.path.join(out, "counts.png")) is None:
        fail("counts.png is not an image")
    before = open(os.path.join(out, "counts.csv")).read()
    r = run(crowdrt, "run", "--plan", plan, "--input", sequence, "--out", out, expect=1)
    if "--overwrite" not in r.stderr or open(os.path.join(out, "counts.csv")).read() != before:
        fail("a second run without --overwrite did not refuse cleanly")

    clip = os.path.join(work, "clip.avi")
    writer = cv2.VideoWriter(clip, cv2.VideoWriter_fourcc(*"MJPG"), 5, (w, h))
    for f in frames:
        writer.write(cv2.imread(f))
    writer.release()
    out = os.path.join(work, "video")
    run(crowdrt, "run", "--plan", plan, "--input", clip, "--out", out)
    check_counts(os.path.join(out, "counts.csv"), len(frames))
    cap = cv2.VideoCapture(os.path.join(out, "overlay.avi"))
    n = 0
    while True:
        ok, image = cap.read()
        if not ok:
            break
        if image.shape[:2] != (h, w):
            fail(f"overlay.avi frame {n} is {image.shape[1]}x{image.shape[0]}, not {w}x{h}")
        n += 1
    if n != len(frames):
        fail(f"overlay.avi holds {n} frames, the clip {len(frames)}")

    one = os.path.join(work, "one")
    run(crowdrt, "run", "--plan", plan, "--input", frames[0], "--out", one)
    check_counts(os.path.join(one, "counts.csv"), 1)
    print(f"ok: {len(frames)} frames as images and as video, one image")


if __name__ == "__main__":
    main()
