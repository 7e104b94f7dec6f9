"""What the Python module's tests share: the module from build/python (PYTHONPATH), the crowdrt program
(CROWDRT_BIN), a scratch folder, tiny models and plans, synthetic frames."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "reference"))

import crowdrt  # noqa: E402  (from PYTHONPATH=build/python)
import tiny_model  # noqa: E402

CROWDRT_BIN = os.environ.get("CROWDRT_BIN", "crowdrt")


def scratch():
    return tempfile.mkdtemp(prefix="crowdrt-python-")


def tiny_plan(folder, channels=5, size=(32, 32), device="cpu", batch=1):
    onnx_path = os.path.join(folder, f"tiny{channels}_{size[0]}x{size[1]}_{device}_b{batch}.onnx")
    plan_path = onnx_path[:-5] + ".plan"
    tiny_model.make_model(onnx_path, channels, size[0], size[1], batch)
    crowdrt.build(onnx_path, plan_path, device=device, threads=1, overwrite=True)
    return onnx_path, plan_path


def synth_frames(folder, frames=4, size="96x64"):
    """A folder of synthetic VisDrone-like frames (crowdrt synth); returns the sorted frame paths."""
    root = os.path.join(folder, "synth")
    subprocess.run([CROWDRT_BIN, "synth", "--out", root, "--sequences", "1", "--frames", str(frames), "--size", size],
                   check=True, stdout=subprocess.DEVNULL)
    seq_root = os.path.join(root, "sequences")
    seq = os.path.join(seq_root, sorted(os.listdir(seq_root))[0])
    return sorted(os.path.join(seq, f) for f in os.listdir(seq))
