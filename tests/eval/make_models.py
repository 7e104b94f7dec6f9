"""Tiny ONNX models whose density output is known exactly, for the eval / run / bench end-to-end tests.

usage: /usr/bin/python3 tests/eval/make_models.py OUTDIR [SIZE]
  OUTDIR/constant.onnx  1x5xSxS -> 1x1xSxS: a 1x1 convolution with zero weights and bias 0.25, so every pixel is
                        0.25 and every frame's count is 0.25 * S * S / 100 (10.24 for S = 64)
  OUTDIR/linear.onnx    a 1x1 convolution with weights LINEAR_WEIGHTS over (R, G, B, Fx, Fy) and bias
                        LINEAR_BIAS, so the count depends on every input channel, the flow included
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CONSTANT_BIAS = 0.25
LINEAR_WEIGHTS = [0.1, 0.2, 0.3, 1.0, -0.5]
LINEAR_BIAS = 0.01


def conv_model(weights, bias, size):
    w = numpy_helper.from_array(np.array(weights, np.float32).reshape(1, 5, 1, 1), "w")
    b = numpy_helper.from_array(np.array([bias], np.float32), "b")
    node = helper.make_node("Conv", ["input", "w", "b"], ["output"], kernel_shape=[1, 1])
    graph = helper.make_graph([node], "density", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 5, size, size])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, size, size])], [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    onnx.checker.check_model(model)
    return model


def main():
    out = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    os.makedirs(out, exist_ok=True)
    onnx.save(conv_model([0.0] * 5, CONSTANT_BIAS, size), os.path.join(out, "constant.onnx"))
    onnx.save(conv_model(LINEAR_WEIGHTS, LINEAR_BIAS, size), os.path.join(out, "linear.onnx"))


if __name__ == "__main__":
    main()
