"""`crowdrt run` on a short synthetic clip, as a folder of images and as an MJPG video, with the constant model
(every count 10.24): it writes what it says (overlays of the frame's size named after their source frames, each
with a colour bar, one CSV line per frame, the plot; for a video overlay.avi, and with --png the PNGs too), refuses
to replace an earlier run's files without --overwrite, and on a terminal prints its summary on a line of its own.

usage: check_run.py CROWDRT SEQUENCE_DIR MODELS_DIR WORK_DIR
"""
import glob
import os
import sys

import cv2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from make_models import CONSTANT_BIAS  # noqa: E402
from run_checks import constant_plan, fail, run  # noqa: E402
from terminal import line_of, run_on_tty  # noqa: E402

SIZE = 64


def check_counts(csv, n):
    lines = open(csv).read().strip().split("\n")
    if lines[0] != "frame,count" or len(lines) != n + 1:
        fail(f"{csv}: expected a header and {n} lines, got {len(lines)} lines")
    for i, line in enumerate(lines[1:]):
        frame, count = line.split(",")
        if int(frame) != i + 1 or abs(float(count) - CONSTANT_BIAS * SIZE * SIZE / 100) > 1e-6:
            fail(f"{csv}: line {i + 2} is {line!r}")


def check_colour_bar(path):
    """The colour bar's lower part is JET's dark blue, a colour the constant model's red overlay never takes."""
    image = cv2.imread(path)
    right = image[:, image.shape[1] * 4 // 5:].reshape(-1, 3).astype(int)
    blue = ((right[:, 0] > 100) & (right[:, 1] < 60) & (right[:, 2] < 60)).sum()
    if blue < 10:
        fail(f"{path}: no colour bar (no dark blue at the right edge)")


def check_overlay_pngs(out, names):
    found = sorted(os.path.basename(p) for p in glob.glob(os.path.join(out, "*.png")) if os.path.basename(p) != "counts.png")
    if found != sorted(names):
        fail(f"{out}: overlay PNGs {found}, expected {sorted(names)}")


def main():
    crowdrt, sequence, models, work = sys.argv[1:5]
    plan = constant_plan(crowdrt, models, work)
    frames = sorted(glob.glob(os.path.join(sequence, "*.jpg")))
    h, w = cv2.imread(frames[0]).shape[:2]

    out = os.path.join(work, "images")
    run(crowdrt, "run", "--plan", plan, "--input", sequence, "--out", out)
    names = [os.path.splitext(os.path.basename(f))[0] + "_overlay.png" for f in frames]
    check_overlay_pngs(out, names)
    for name in names:
        p = os.path.join(out, name)
        if cv2.imread(p).shape[:2] != (h, w):
            fail(f"{p}: not the frame's size {w}x{h}")
        check_colour_bar(p)
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
    check_overlay_pngs(out, [])
    # --png: the PNGs also, beside the video (as the help says), numbered as counts.csv
    out = os.path.join(work, "video_png")
    run(crowdrt, "run", "--plan", plan, "--input", clip, "--out", out, "--png")
    if not os.path.exists(os.path.join(out, "overlay.avi")):
        fail("run --png on a video wrote no overlay.avi")
    check_overlay_pngs(out, [f"frame_{i + 1:06d}_overlay.png" for i in range(len(frames))])
    check_counts(os.path.join(out, "counts.csv"), len(frames))

    # on a terminal: progress, then the summary on a line of its own
    code, text = run_on_tty([crowdrt, "run", "--plan", plan, "--input", sequence, "--out", os.path.join(work, "tty")])
    if code != 0 or "run: " not in text or " frames in " not in text:
        fail(f"run on a terminal exited {code} or showed no progress: {text!r}")
    if "\r" in line_of(text, " frames in "):
        fail(f"on a terminal the summary lands on the progress line: {line_of(text, ' frames in ')!r}")

    one = os.path.join(work, "one")
    run(crowdrt, "run", "--plan", plan, "--input", frames[0], "--out", one)
    check_counts(os.path.join(one, "counts.csv"), 1)
    print(f"ok: {len(frames)} frames as images and as video, one image")


if __name__ == "__main__":
    main()
