"""A tiny density-map network as ONNX (Conv 3x3 -> Relu -> Conv 1x1, opset 11, input `input`, output
`output`), with its forward pass in NumPy as the reference. Used by the Python module's tests and the
install test. usage: tiny_model.py OUT.onnx [--channels C] [--size HxW]
"""
import argparse

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

HIDDEN = 4


def weights(channels, seed=7):
    rng = np.random.RandomState(seed)
    w1 = rng.uniform(-0.5, 0.5, (HIDDEN, channels, 3, 3)).astype(np.float32)
    b1 = rng.uniform(0.0, 0.2, HIDDEN).astype(np.float32)
    w2 = rng.uniform(0.1, 0.6, (1, HIDDEN, 1, 1)).astype(np.float32)
    b2 = np.array([0.05], np.float32)
    return w1, b1, w2, b2


def make_model(path, channels=5, height=32, width=32, batch=1):
    w1, b1, w2, b2 = weights(channels)
    inits = [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))]
    nodes = [helper.make_node("Conv", ["input", "w1", "b1"], ["h"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Conv", ["r", "w2", "b2"], ["output"], kernel_shape=[1, 1])]
    graph = helper.make_graph(nodes, "tiny_density",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, channels, height, width])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch, 1, height, width])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    onnx.checker.check_model(model)
    onnx.save(model, path)


def forward(x):
    """The model's output for an N x C x H x W float32 input, in float64 loops over the kernel."""
    w1, b1, w2, b2 = (a.astype(np.float64) for a in weights(x.shape[1]))
    x = x.astype(np.float64)
    n, _, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    hidden = np.zeros((n, HIDDEN, h, w)) + b1[None, :, None, None]
    for dy in range(3):
        for dx in range(3):
            hidden += np.einsum("oc,nchw->nohw", w1[:, :, dy, dx], padded[:, :, dy:dy + h, dx:dx + w])
    hidden = np.maximum(hidden, 0)
    return np.einsum("oc,nchw->nohw", w2[:, :, 0, 0], hidden) + b2[None, :, None, None]


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--channels", type=int, default=5)
    p.add_argument("--size", default="32x32")
    a = p.parse_args()
    h, w = (int(v) for v in a.size.split("x"))
    make_model(a.out, a.channels, h, w)
