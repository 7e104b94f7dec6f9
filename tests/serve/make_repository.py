"""The serve tests' fixture: synthetic frames, the known-output models of tests/eval/make_models.py built into plans,
and a model repository laid out as Triton's.

usage: make_repository.py CROWDRT WORK
  WORK/synth                  4 sequences of 4 frames, 128x96 (crowdrt synth --seed 21)
  WORK/repository/linear/1/model.plan      1x5x64x64 -> 1x1x64x64, a count that depends on every channel (flow too)
  WORK/repository/constant/1/model.plan    every density pixel 0.25: each frame counts 0.25 * 64 * 64 / 100
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SIZE = 64


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")


def main():
    crowdrt, work = sys.argv[1:3]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    run(crowdrt, "synth", "--out", os.path.join(work, "synth"), "--sequences", "4", "--frames", "4", "--size", "128x96",
        "--seed", "21", "--overwrite", "-q")
    models = os.path.join(work, "models")
    run(sys.executable, os.path.join(HERE, "..", "eval", "make_models.py"), models, str(SIZE))
    for name in ("linear", "constant"):
        folder = os.path.join(work, "repository", name, "1")
        os.makedirs(folder)
        run(crowdrt, "build", "--onnx", os.path.join(models, name + ".onnx"), "-o", os.path.join(folder, "model.plan"), "-q")


if __name__ == "__main__":
    main()
