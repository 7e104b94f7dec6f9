"""What the `crowdrt run` checks share: failing with one line, running the program, and a fresh work folder with a
plan of the constant model (every density pixel CONSTANT_BIAS)."""
import os
import shutil
import subprocess
import sys


def fail(msg):
    sys.exit("FAIL: " + msg)


def run(*args, expect=0):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode != expect:
        fail(f"{' '.join(args)} exited {r.returncode} (expected {expect}): {r.stderr.strip()}")
    return r


def constant_plan(crowdrt, models, work):
    """Empties WORK (the test's own scratch folder) and builds models/constant.onnx into WORK/constant.plan."""
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    plan = os.path.join(work, "constant.plan")
    run(crowdrt, "build", "--onnx", os.path.join(models, "constant.onnx"), "-o", plan)
    return plan
