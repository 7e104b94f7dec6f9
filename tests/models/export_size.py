"""`crowdrt export --input-size` is WIDTHxHEIGHT, as every crowdrt size (issue 16, item 1): 96x64 gives a
landscape model (ONNX input 1x3x64x96) and says "96 wide, 64 high"; a portrait size (W < H) still exports as
asked but warns on stderr, even with -q, naming the landscape spelling; on a terminal export shows its progress.
usage: /usr/bin/python3 tests/models/export_size.py CROWDRT WORK_DIR"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
from common import TestFailure, expect_ok, fresh_dir, main_guard  # noqa: E402
from terminal import run_on_tty  # noqa: E402


def input_dims(path):
    import onnx
    model = onnx.load(path)
    return [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]


def test(crowdrt, work):
    import torch
    from smp_efficientnet import Model
    work = fresh_dir(work)
    torch.manual_seed(0)
    ckpt = os.path.join(work, "ckpt.pth")
    torch.save(Model("UNet", "resnet18", 3).state_dict(), ckpt)

    landscape = os.path.join(work, "landscape.onnx")
    r = expect_ok([crowdrt, "export", "--checkpoint", ckpt, "--input-size", "96x64", "-o", landscape])
    if input_dims(landscape) != [1, 3, 64, 96]:
        raise TestFailure(f"--input-size 96x64 gave input {input_dims(landscape)}, not [1, 3, 64, 96]\n{r.describe()}")
    if "96 wide, 64 high" not in r.out or "warning" in r.err:
        raise TestFailure(f"the summary does not say '96 wide, 64 high', or a landscape size warned\n{r.describe()}")

    portrait = os.path.join(work, "portrait.onnx")
    r = expect_ok([crowdrt, "-q", "export", "--checkpoint", ckpt, "--input-size", "64x96", "-o", portrait])
    if input_dims(portrait) != [1, 3, 96, 64]:
        raise TestFailure(f"--input-size 64x96 gave input {input_dims(portrait)}, not [1, 3, 96, 64]\n{r.describe()}")
    warning = [line for line in r.err.splitlines() if line.startswith("warning:")]
    if len(warning) != 1 or "portrait" not in warning[0] or "96x64" not in warning[0]:
        raise TestFailure(f"a portrait size did not warn (even with -q) naming 96x64\n{r.describe()}")

    square = os.path.join(work, "square.onnx")
    code, text = run_on_tty([crowdrt, "export", "--checkpoint", ckpt, "--input-size", "64", "-o", square])
    if code != 0 or input_dims(square) != [1, 3, 64, 64] or "export: 3 of 3 steps" not in text:
        raise TestFailure(f"export --input-size 64 on a terminal (exit {code}) showed no progress or the wrong "
                          f"size:\n{text!r}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    import warnings
    warnings.filterwarnings("ignore")
    main_guard(lambda: test(*sys.argv[1:]))
