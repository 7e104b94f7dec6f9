"""`crowdrt demo` at its smallest (one sequence of 3 frames, fp32 only): its overlays are named after their source
frames (<sequence>_<frame name>_overlay.png, one per frame of the first sequence), its summary gives the network
size as 'W wide, H high', and it prints nothing but warnings on stderr with -q.

usage: check_demo.py CROWDRT CHECKPOINT WORK_DIR
"""
import glob
import os
import shutil
import subprocess
import sys


def fail(msg):
    sys.exit("FAIL: " + msg)


def main():
    crowdrt, checkpoint, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    r = subprocess.run([crowdrt, "-q", "demo", "--out", work, "--checkpoint", checkpoint, "--sequences", "1",
                        "--frames", "3", "--precisions", "fp32", "--size", "448x256"], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"demo exited {r.returncode}: {r.stderr.strip()}")
    if "448 wide, 256 high" not in r.stdout:
        fail(f"demo's summary does not say '448 wide, 256 high':\n{r.stdout}")
    if [line for line in r.stderr.splitlines() if not line.startswith("warning:")]:
        fail(f"demo -q wrote more than warnings on stderr:\n{r.stderr}")
    seq = sorted(os.listdir(os.path.join(work, "data", "sequences")))[0]
    frames = sorted(glob.glob(os.path.join(work, "data", "sequences", seq, "*.jpg")))
    want = sorted(f"{seq}_{os.path.splitext(os.path.basename(f))[0]}_overlay.png" for f in frames)
    got = sorted(os.path.basename(p) for p in glob.glob(os.path.join(work, "*_overlay.png")))
    if got != want or len(want) != 3:
        fail(f"overlays {got}, expected {want}")
    print(f"ok: {len(got)} overlays named after their frames")


if __name__ == "__main__":
    main()
