"""Hostile and damaged models, plans and calibration caches given to the CLI (issue 18): each is refused with one
line naming the file and the node or tensor, exit code 1, nothing written, never a crash, and the huge sizes are
refused before anything is allocated (quickly, in little memory). The models are built here from the Python
tests' tiny model (Conv 3x3 -> Relu -> Conv 1x1), so no fixture is needed.
usage: /usr/bin/python3 tests/e2e/hostile_models.py CROWDRT WORK_DIR"""
import json
import os
import resource
import struct
import sys
import time

import numpy as np
import onnx
from onnx import helper, TensorProto

from common import TestFailure, expect_error, expect_ok, fresh_dir, main_guard, run

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import tiny_model  # noqa: E402  (tests/python/tiny_model.py)


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def edited_plan(plan_path, out_path, edit):
    """The plan with its JSON header changed by edit(header) and the checksum recomputed (src/engine/plan.h)."""
    with open(plan_path, "rb") as f:
        data = f.read()
    header_len = struct.unpack_from("<Q", data, 16)[0]
    header = json.loads(data[24:24 + header_len])
    weights = data[(24 + header_len + 63) // 64 * 64:-8]
    edit(header)
    text = json.dumps(header).encode()
    body = data[:16] + struct.pack("<Q", len(text)) + text
    body += b"\0" * (-len(body) % 64) + weights
    with open(out_path, "wb") as f:
        f.write(body + struct.pack("<Q", fnv1a64(body)))
    return out_path


def node(header, op):
    return next(n for n in header["graph"]["nodes"] if n["op"] == op)


def main():
    crowdrt, work = sys.argv[1], fresh_dir(sys.argv[2])
    out = os.path.join(work, "out")
    os.makedirs(out)
    path = lambda name: os.path.join(work, name)  # noqa: E731
    good = path("tiny.onnx")
    tiny_model.make_model(good, channels=5, height=32, width=32)
    plan = path("tiny.plan")
    expect_ok([crowdrt, "build", "--onnx", good, "-o", plan, "--device", "ref"])  # the positive control
    x = path("x.npy")
    np.save(x, np.zeros((1, 5, 32, 32), np.float32))

    def build_fails(onnx_path, mentions, extra=()):
        target = os.path.join(out, "m.plan")
        expect_error([crowdrt, "build", "--onnx", onnx_path, "-o", target, "--device", "ref", *extra],
                     absent=[target], watch=[out], mentions=mentions)

    def edited_model(name, edit):
        model = onnx.load(good)
        edit(model)
        p = path(name)
        onnx.save(model, p)
        return p

    # A Conv with stride 0 (the reference backend died of SIGFPE), reported as a stride, not a kernel too large.
    def stride_zero(m):
        m.graph.node[0].attribute.append(helper.make_attribute("strides", [0, 1]))
    build_fails(edited_model("stride0.onnx", stride_zero), ["stride0.onnx", "Conv node", "strides [0, 1] holds 0"])

    # An input of 2^40 x 5 x 2^40 x 2^40: an element count past 64 bits (oneDNN died of SIGFPE).
    def huge_input(m):
        dims = m.graph.input[0].type.tensor_type.shape.dim
        for i, d in enumerate([2 ** 40, 5, 2 ** 40, 2 ** 40]):
            dims[i].dim_value = d
    build_fails(edited_model("huge_input.onnx", huge_input), ["huge_input.onnx", "'input'", "64 bits"])

    # A Resize to sizes 2^40 x 2^40 (ran 188 s past 5.8 GB), and 2^20 x 2^20 (4 TiB): refused at once.
    for side, words in ((2 ** 40, ["1099511627776 long", "16 GiB"]), (2 ** 20, ["1x1x1048576x1048576", "16 GiB"])):
        def huge_resize(m, side=side):
            m.graph.initializer.append(helper.make_tensor("sizes", TensorProto.INT64, [4], [1, 1, side, side]))
            m.graph.node[2].output[0] = "small"
            m.graph.node.append(helper.make_node("Resize", ["small", "", "", "sizes"], ["output"], mode="nearest"))
            del m.graph.output[0].type.tensor_type.shape.dim[:]
        p = edited_model(f"resize_{side}.onnx", huge_resize)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.monotonic()
        build_fails(p, [f"resize_{side}.onnx", "Resize node", *words])
        seconds = time.monotonic() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if seconds > 5 or peak_mb > max(before / 1024, 400):
            raise TestFailure(f"Resize to {side}x{side} took {seconds:.1f} s and {peak_mb:.0f} MB before its refusal")

    # An unknown --keep-fp32 name is refused, listing the nearest node names.
    build_fails(good, ["--keep-fp32", "'/Conv_nope'", "nearest node names"], ["--keep-fp32", "/Conv_nope"])

    # Calibration caches whose scale is FLT_MAX (built a plan that could not be loaded), zero or subnormal.
    for name, bits in (("flt_max", "7f7fffff"), ("zero", "00000000"), ("subnormal", "00000001")):
        cache = path(f"{name}_calib.bin")
        with open(cache, "w") as f:
            f.write(f"TRT-8510-EntropyCalibration2\ninput: 3f800000\nh: {bits}\nr: 3c000000\noutput: 3c000000\n")
        build_fails(good, [cache, "tensor 'h'", bits], ["--precision", "int8", "--calib-cache", cache])

    # Plans edited behind a recomputed checksum: a Conv without inputs (inspect died of SIGSEGV in node_macs), a
    # constant of 2^62 + 4 elements stored in 16 bytes, a stride of 0.
    def no_inputs(h):
        node(h, "Conv")["inputs"] = []

    def huge_constant(h):
        weight = h["graph"]["values"][node(h, "Conv")["inputs"][1]]
        weight["shape"], weight["bytes"] = [2 ** 62 + 4], 16

    def plan_stride_zero(h):
        node(h, "Conv")["attrs"]["strides"] = {"ints": [0, 1]}

    for name, edit, words in (("no_inputs.plan", no_inputs, ["has 0 inputs; Conv needs 2 to 4"]),
                              ("huge_constant.plan", huge_constant, ["4611686018427387908 elements", "16 GiB"]),
                              ("stride0.plan", plan_stride_zero, ["strides [0, 1] holds 0"])):
        bad = edited_plan(plan, path(name), edit)
        expect_error([crowdrt, "inspect", bad], mentions=[name, *words])
    y = os.path.join(out, "y.npy")  # infer reads plans as inspect does (engine/plan.cpp)
    expect_error([crowdrt, "infer", "--plan", path("no_inputs.plan"), "--input", x, "--output", y], absent=[y],
                 watch=[out], mentions=["no_inputs.plan", "has 0 inputs"])


if __name__ == "__main__":
    main_guard(main)
