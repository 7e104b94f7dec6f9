#!/usr/bin/python3
"""Writes small single-op cases, computed by PyTorch, for the reference kernels' tests.

Usage: /usr/bin/python3 tests/reference/make_op_cases.py OUT_DIR

OUT_DIR gets one .npy per input and output and cases.json, a list of
  {"name", "op" (IR op name), "attrs" (canonical IR attributes, see src/ir/graph.h),
   "inputs" (file names, null for an omitted optional input), "output" (file name)}.
JSON integers are int attributes, JSON floats float attributes, lists of either int/float lists.

Shapes are odd on purpose (7x9 planes, 5/13/17 channels) so that no kernel gets by on a power of two.
Where PyTorch has no op with the ONNX semantics (some Resize nearest_mode/coordinate combinations),
the expected output is the ONNX Resize spec's index formula evaluated in numpy; those cases say so.
"""
import json
import math
import os
import sys

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:  # the python3 first on PATH may lack torch; Debian's /usr/bin/python3 has it
    sys.exit(f"make_op_cases.py needs PyTorch and numpy ({e}); run it with /usr/bin/python3 "
             "(apt-get install python3-torch python3-numpy)")

INF = float("inf")


class Writer:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.cases = []

    def save(self, name, array):
        array = np.ascontiguousarray(np.asarray(array, dtype=np.float32))
        np.save(os.path.join(self.out_dir, name), array)
        return name

    def add(self, name, op, attrs, inputs, output):
        """inputs: torch tensors or None (omitted optional input); output: the expected torch tensor."""
        assert name not in {c["name"] for c in self.cases}, name
        files = []
        for i, t in enumerate(inputs):
            files.append(None if t is None else self.save(f"{name}.in{i}.npy", t.detach().numpy()))
        out = self.save(f"{name}.out.npy", output.detach().numpy())
        self.cases.append({"name": name, "op": op, "attrs": attrs, "inputs": files, "output": out})

    def finish(self):
        with open(os.path.join(self.out_dir, "cases.json"), "w") as f:
            json.dump({"cases": self.cases}, f, indent=1)


def randn(*shape, scale=1.0):
    return torch.randn(shape, dtype=torch.float32) * scale


def conv_attrs(w, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), group=1):
    return {"kernel_shape": list(w.shape[2:]), "strides": list(stride), "pads": list(pads),
            "dilations": list(dilation), "group": group}


# PyTorch padding is symmetric per axis; asymmetric ONNX pads (t, l, b, r) are F.pad before the op.
def torch_pad(x, pads, value=0.0):
    t, l, b, r = pads
    return F.pad(x, (l, r, t, b), value=value)


def conv_cases(w_):
    specs = [  # name, x shape, w shape, stride, pads t l b r, dilation, group, bias
        ("conv_3x3_same", (1, 3, 7, 9), (5, 3, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, True),
        ("conv_stride2_asymmetric_pads", (2, 5, 9, 7), (13, 5, 3, 3), (2, 2), (1, 0, 2, 1), (1, 1), 1, True),
        ("conv_dilation2_no_bias", (1, 4, 11, 10), (6, 4, 3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 1, False),
        ("conv_group3_stride2x1", (1, 6, 8, 9), (9, 2, 3, 3), (2, 1), (1, 1, 1, 1), (1, 1), 3, True),
        ("conv_depthwise17", (1, 17, 9, 8), (17, 1, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 17, True),
        ("conv_rect_kernel_2x3_stride1x2", (1, 5, 7, 9), (13, 5, 2, 3), (1, 2), (0, 1, 1, 0), (1, 1), 1, True),
        ("conv_1x1", (1, 17, 5, 7), (5, 17, 1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1, True),
        ("conv_7x7_stride2_pad3", (1, 3, 13, 11), (5, 3, 7, 7), (2, 2), (3, 3, 3, 3), (1, 1), 1, False),
    ]
    for name, xs, ws, stride, pads, dilation, group, has_bias in specs:
        x, w = randn(*xs), randn(*ws, scale=0.3)
        b = randn(ws[0]) if has_bias else None
        y = F.conv2d(torch_pad(x, pads), w, b, stride=stride, dilation=dilation, groups=group)
        w_.add(name, "Conv", conv_attrs(w, stride, pads, dilation, group), [x, w, b], y)

    # Fused epilogue: y = act(conv(x) + B + residual), one case per activation.
    x, w, b = randn(1, 5, 7, 9), randn(13, 5, 3, 3, scale=0.3), randn(13)
    conv = F.conv2d(x, w, b, padding=1)
    residual = randn(*conv.shape)
    pre = conv + residual
    epilogues = [
        ("relu", 0.0, 0.0, torch.relu(pre)),
        ("leaky_relu", 0.1, 0.0, F.leaky_relu(pre, 0.1)),
        ("clip", 0.0, 6.0, torch.clamp(pre, 0.0, 6.0)),
        ("sigmoid", 0.0, 0.0, torch.sigmoid(pre)),
        ("hard_sigmoid", 0.2, 0.5, torch.clamp(0.2 * pre + 0.5, 0.0, 1.0)),
        ("hard_swish", 0.0, 0.0, F.hardswish(pre)),
    ]
    for act, alpha, beta, y in epilogues:
        attrs = dict(conv_attrs(w, pads=(1, 1, 1, 1)), activation=act, alpha=alpha, beta=beta, fused_add=1)
        w_.add(f"conv_fused_add_{act}", "Conv", attrs, [x, w, b, residual], y)
    # Residual without bias (inputs[2] omitted), and activation without residual.
    y = torch.relu(F.conv2d(x, w, None, padding=1) + residual)
    w_.add("conv_fused_add_no_bias", "Conv", dict(conv_attrs(w, pads=(1, 1, 1, 1)), activation="relu",
                                                  alpha=0.0, beta=0.0, fused_add=1), [x, w, None, residual], y)
    w_.add("conv_fused_clip_no_residual", "Conv",
           dict(conv_attrs(w, pads=(1, 1, 1, 1)), activation="clip", alpha=-0.5, beta=0.75),
           [x, w, b], torch.clamp(conv, -0.5, 0.75))


def conv_transpose_cases(w_):
    specs = [  # name, x, w (Cin, Cout/g, kh, kw), stride, padding (per axis), output_padding, dilation, group, bias
        ("conv_transpose_stride2_output_padding", (1, 4, 5, 6), (4, 3, 3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 1, True),
        ("conv_transpose_4x4_stride2_pad1", (2, 5, 4, 7), (5, 13, 4, 4), (2, 2), (1, 1), (0, 0), (1, 1), 1, False),
        ("conv_transpose_group3_dilation2", (1, 6, 4, 5), (6, 2, 3, 3), (2, 3), (1, 0), (1, 2), (2, 2), 3, True),
        ("conv_transpose_2x2_stride2", (1, 3, 7, 9), (3, 5, 2, 2), (2, 2), (0, 0), (0, 0), (1, 1), 1, True),
        ("conv_transpose_stride1_rect", (1, 5, 6, 7), (5, 4, 2, 3), (1, 1), (0, 1), (0, 0), (1, 1), 1, True),
    ]
    for name, xs, ws, stride, padding, out_pad, dilation, group, has_bias in specs:
        x, w = randn(*xs), randn(*ws, scale=0.3)
        b = randn(ws[1] * group) if has_bias else None
        y = F.conv_transpose2d(x, w, b, stride=stride, padding=padding, output_padding=out_pad, groups=group,
                               dilation=dilation)
        attrs = conv_attrs(w, stride, (padding[0], padding[1], padding[0], padding[1]), dilation, group)
        attrs["output_padding"] = list(out_pad)
        w_.add(name, "ConvTranspose", attrs, [x, w, b], y)


def batchnorm_cases(w_):
    x = randn(2, 5, 7, 9)
    scale, shift, mean = randn(5), randn(5), randn(5)
    var = torch.rand(5) + 0.1
    y = F.batch_norm(x, mean, var, scale, shift, training=False, eps=1e-3)
    w_.add("batchnorm_eps1e-3", "BatchNormalization", {"epsilon": 1e-3}, [x, scale, shift, mean, var], y)
    x = randn(1, 13, 3)  # rank 3: channels are still dimension 1
    scale, shift, mean, var = randn(13), randn(13), randn(13), torch.rand(13) + 0.5
    y = F.batch_norm(x, mean, var, scale, shift, training=False, eps=1e-5)
    w_.add("batchnorm_rank3", "BatchNormalization", {"epsilon": 1e-5}, [x, scale, shift, mean, var], y)


def activation_cases(w_):
    x = randn(1, 3, 7, 9, scale=4.0)
    w_.add("relu", "Relu", {}, [x], torch.relu(x))
    w_.add("leaky_relu", "LeakyRelu", {"alpha": 0.2}, [x], F.leaky_relu(x, 0.2))
    w_.add("clip_min_max", "Clip", {"min": -1.0, "max": 2.5}, [x], torch.clamp(x, -1.0, 2.5))
    w_.add("clip_max_only", "Clip", {"max": 1.5}, [x], torch.clamp(x, max=1.5))  # absent min = -inf
    w_.add("sigmoid", "Sigmoid", {}, [x], torch.sigmoid(x))
    w_.add("hard_sigmoid_onnx_default", "HardSigmoid", {"alpha": 0.2, "beta": 0.5}, [x],
           torch.clamp(0.2 * x + 0.5, 0.0, 1.0))
    w_.add("hard_sigmoid_pytorch", "HardSigmoid", {"alpha": 1.0 / 6.0, "beta": 0.5}, [x], F.hardsigmoid(x))
    w_.add("hard_swish", "HardSwish", {}, [x], F.hardswish(x))


def binary_cases(w_):
    ops = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}
    shapes = [  # name, a, b
        ("same_shape", (1, 5, 7, 9), (1, 5, 7, 9)),
        ("per_channel", (2, 5, 7, 9), (1, 5, 1, 1)),
        ("trailing_vector", (1, 5, 7, 9), (9,)),
        ("both_broadcast", (2, 1, 7, 1), (1, 5, 1, 9)),
        ("lower_rank_left", (7, 1), (2, 3, 1, 5)),
        ("scalar", (1, 3, 7, 9), ()),
        ("rank6", (2, 1, 3, 1, 2, 3), (4, 1, 5, 1, 1)),
    ]
    for op, fn in ops.items():
        for name, sa, sb in shapes:
            a, b = randn(*sa), randn(*sb)
            if op == "Div":
                b = torch.sign(b) * (b.abs() + 0.5)  # away from zero
            w_.add(f"{op.lower()}_{name}", op, {}, [a, b], fn(a, b))


def concat_cases(w_):
    parts = [randn(1, 5, 7, 9), randn(1, 13, 7, 9), randn(1, 17, 7, 9)]
    w_.add("concat_channels_5_13_17", "Concat", {"axis": 1}, parts, torch.cat(parts, 1))
    for axis, shapes in [(0, [(2, 3, 4, 5), (1, 3, 4, 5)]), (2, [(1, 3, 7, 9), (1, 3, 2, 9), (1, 3, 5, 9)]),
                         (3, [(2, 3, 7, 9), (2, 3, 7, 1)]), (1, [(3, 4), (3, 7)])]:
        parts = [randn(*s) for s in shapes]
        w_.add(f"concat_axis{axis}_rank{len(shapes[0])}_{len(parts)}inputs", "Concat", {"axis": axis}, parts,
               torch.cat(parts, axis))


def pool_attrs(kernel, stride, pads, ceil_mode, **extra):
    return dict({"kernel_shape": list(kernel), "strides": list(stride), "pads": list(pads),
                 "ceil_mode": int(ceil_mode)}, **extra)


def pool_cases(w_):
    max_specs = [  # name, x, kernel, stride, padding (per axis), dilation, ceil_mode
        ("maxpool_3x3_stride2_pad1", (1, 3, 7, 9), (3, 3), (2, 2), (1, 1), (1, 1), False),
        ("maxpool_2x2_stride2_ceil_drops_window_in_padding", (1, 5, 7, 7), (2, 2), (2, 2), (1, 1), (1, 1), True),
        ("maxpool_3x3_stride2_ceil", (1, 5, 8, 10), (3, 3), (2, 2), (0, 0), (1, 1), True),
        ("maxpool_dilation2_ceil", (1, 3, 11, 10), (3, 3), (2, 2), (1, 1), (2, 2), True),
        ("maxpool_rect_2x3_stride1x2", (2, 13, 7, 9), (2, 3), (1, 2), (1, 1), (1, 1), False),
    ]
    for name, xs, kernel, stride, padding, dilation, ceil_mode in max_specs:
        x = randn(*xs)
        y = F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode=ceil_mode)
        attrs = pool_attrs(kernel, stride, (padding[0], padding[1], padding[0], padding[1]), ceil_mode,
                           dilations=list(dilation))
        w_.add(name, "MaxPool", attrs, [x], y)
    # Asymmetric pads (t, l, b, r) = (0, 1, 1, 0): padding with -inf never wins a max.
    x = randn(1, 5, 7, 9)
    y = F.max_pool2d(torch_pad(x, (0, 1, 1, 0), value=-INF), (2, 2), (2, 2))
    w_.add("maxpool_asymmetric_pads", "MaxPool", pool_attrs((2, 2), (2, 2), (0, 1, 1, 0), False,
                                                             dilations=[1, 1]), [x], y)

    avg_specs = [  # name, x, kernel, stride, padding (per axis), ceil_mode, count_include_pad
        ("avgpool_3x3_stride2_pad1_exclude_pad", (1, 4, 7, 9), (3, 3), (2, 2), (1, 1), False, False),
        ("avgpool_3x3_stride2_pad1_include_pad", (1, 4, 7, 9), (3, 3), (2, 2), (1, 1), False, True),
        ("avgpool_3x3_stride2_pad1_ceil_exclude_pad", (1, 4, 8, 10), (3, 3), (2, 2), (1, 1), True, False),
        ("avgpool_3x3_stride2_pad1_ceil_include_pad", (1, 4, 8, 10), (3, 3), (2, 2), (1, 1), True, True),
        ("avgpool_2x2_stride2_ceil_no_pad", (2, 5, 7, 9), (2, 2), (2, 2), (0, 0), True, True),
        ("avgpool_2x3_stride2_ceil_include_pad", (1, 3, 9, 8), (2, 3), (2, 2), (1, 1), True, True),
    ]
    for name, xs, kernel, stride, padding, ceil_mode, include_pad in avg_specs:
        x = randn(*xs)
        y = F.avg_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode, count_include_pad=include_pad)
        attrs = pool_attrs(kernel, stride, (padding[0], padding[1], padding[0], padding[1]), ceil_mode,
                           count_include_pad=int(include_pad))
        w_.add(name, "AveragePool", attrs, [x], y)

    x = randn(2, 13, 7, 9)
    w_.add("global_average_pool", "GlobalAveragePool", {}, [x], x.mean(dim=(2, 3), keepdim=True))


def reduce_mean_cases(w_):
    x = randn(2, 5, 7, 9)
    for axes, keepdims in [([2, 3], 1), ([1], 0), ([0, 2], 0), ([0, 1, 2, 3], 1), ([3], 1)]:
        name = f"reduce_mean_axes{''.join(map(str, axes))}_keepdims{keepdims}"
        w_.add(name, "ReduceMean", {"axes": axes, "keepdims": keepdims}, [x],
               x.mean(dim=tuple(axes), keepdim=bool(keepdims)))


def resize_attrs(scales, mode, transform, nearest_mode="round_prefer_floor"):
    return {"scales": [float(s) for s in scales], "mode": mode, "coordinate_transformation_mode": transform,
            "nearest_mode": nearest_mode}


def size_scales(x, size):
    # What fold_constants records when sizes are given: out/in as float32.
    return [1.0, 1.0] + [float(np.float32(o) / np.float32(i)) for o, i in zip(size, x.shape[2:])]


def onnx_nearest_reference(x, size, scales, transform, nearest_mode):
    """The ONNX Resize spec's nearest formula in numpy float32 (for modes PyTorch has no op for)."""
    def indices(in_size, out_size, scale):
        out = np.arange(out_size, dtype=np.float32)
        scale = np.float32(scale)
        if transform == "asymmetric":
            src = out / scale
        elif transform == "align_corners":
            src = out * np.float32(in_size - 1) / np.float32(out_size - 1) if out_size > 1 else out * 0
        elif transform == "half_pixel":
            src = (out + np.float32(0.5)) / scale - np.float32(0.5)
        else:
            raise ValueError(transform)
        if nearest_mode == "ceil":
            idx = np.ceil(src)
        elif nearest_mode == "floor":
            idx = np.floor(src)
        elif nearest_mode == "round_prefer_floor":
            idx = np.where(src - np.floor(src) == 0.5, np.floor(src), np.round(src))
        else:
            idx = np.where(src - np.floor(src) == 0.5, np.ceil(src), np.round(src))
        return np.clip(idx, 0, in_size - 1).astype(np.int64)
    rows = indices(x.shape[2], size[0], scales[2])
    cols = indices(x.shape[3], size[1], scales[3])
    return torch.from_numpy(x.numpy()[:, :, rows][:, :, :, cols].copy())


def resize_cases(w_):
    x = randn(1, 3, 7, 9)
    # PyTorch nearest = ONNX asymmetric + floor, mapping with the given scale factor.
    w_.add("resize_nearest_scale2", "Resize", resize_attrs([1, 1, 2, 2], "nearest", "asymmetric", "floor"), [x],
           F.interpolate(x, scale_factor=2.0, mode="nearest"))
    w_.add("resize_nearest_scale3x1.5", "Resize", resize_attrs([1, 1, 3, 1.5], "nearest", "asymmetric", "floor"),
           [x], F.interpolate(x, scale_factor=(3.0, 1.5), mode="nearest"))
    # Sizes coprime with the input's, so that no output maps exactly onto an integer input coordinate, where
    # ONNX's x/scale and PyTorch's x*(in/out) can round to different sides in float.
    for size in [(10, 13), (4, 5), (17, 2)]:
        w_.add(f"resize_nearest_size{size[0]}x{size[1]}", "Resize",
               resize_attrs(size_scales(x, size), "nearest", "asymmetric", "floor"), [x],
               F.interpolate(x, size=size, mode="nearest"))
    # PyTorch nearest-exact = floor((x + 0.5) / scale) = ONNX tf_half_pixel_for_nearest + floor, and also
    # half_pixel + round_prefer_ceil (round half up of (x + 0.5) / scale - 0.5).
    for size in [(14, 18), (10, 13), (3, 4)]:
        y = F.interpolate(x, size=size, mode="nearest-exact")
        tag = f"{size[0]}x{size[1]}"
        w_.add(f"resize_nearest_exact_tf_half_pixel_{tag}", "Resize",
               resize_attrs(size_scales(x, size), "nearest", "tf_half_pixel_for_nearest", "floor"), [x], y)
        w_.add(f"resize_nearest_half_pixel_round_prefer_ceil_{tag}", "Resize",
               resize_attrs(size_scales(x, size), "nearest", "half_pixel", "round_prefer_ceil"), [x], y)
    # Downscale by 2 with half_pixel puts every output exactly between two inputs (2x + 0.5): the tie-breaking
    # of round_prefer_floor picks 2x (PyTorch nearest), round_prefer_ceil 2x + 1 (PyTorch nearest-exact).
    x8 = randn(2, 5, 8, 10)
    w_.add("resize_half_pixel_round_prefer_floor_tie", "Resize",
           resize_attrs([1, 1, 0.5, 0.5], "nearest", "half_pixel", "round_prefer_floor"), [x8],
           F.interpolate(x8, scale_factor=0.5, mode="nearest"))
    w_.add("resize_half_pixel_round_prefer_ceil_tie", "Resize",
           resize_attrs([1, 1, 0.5, 0.5], "nearest", "half_pixel", "round_prefer_ceil"), [x8],
           F.interpolate(x8, scale_factor=0.5, mode="nearest-exact"))
    # No PyTorch op: the ONNX formula in numpy.
    for transform, nearest_mode, size in [("asymmetric", "ceil", (10, 13)),
                                          ("align_corners", "round_prefer_floor", (10, 13)),
                                          ("align_corners", "round_prefer_ceil", (13, 17)),
                                          ("half_pixel", "floor", (10, 13)),
                                          ("half_pixel", "round_prefer_floor", (10, 13))]:
        scales = size_scales(x, size)
        w_.add(f"resize_nearest_{transform}_{nearest_mode}_numpy_spec", "Resize",
               resize_attrs(scales, "nearest", transform, nearest_mode), [x],
               onnx_nearest_reference(x, size, scales, transform, nearest_mode))

    # Bilinear: align_corners=False is ONNX half_pixel (and pytorch_half_pixel, equal while outputs are > 1).
    for tag, kwargs, scales in [("scale2", {"scale_factor": 2.0}, [1, 1, 2, 2]),
                                ("size10x13", {"size": (10, 13)}, size_scales(x, (10, 13))),
                                ("size4x5", {"size": (4, 5)}, size_scales(x, (4, 5))),
                                ("scale1.5x2.5", {"scale_factor": (1.5, 2.5)}, [1, 1, 1.5, 2.5])]:
        y = F.interpolate(x, mode="bilinear", align_corners=False, **kwargs)
        w_.add(f"resize_bilinear_half_pixel_{tag}", "Resize", resize_attrs(scales, "linear", "half_pixel"), [x], y)
        w_.add(f"resize_bilinear_pytorch_half_pixel_{tag}", "Resize",
               resize_attrs(scales, "linear", "pytorch_half_pixel"), [x], y)
        y = F.interpolate(x, mode="bilinear", align_corners=True, **kwargs)
        w_.add(f"resize_bilinear_align_corners_{tag}", "Resize", resize_attrs(scales, "linear", "align_corners"),
               [x], y)
    # Linear with asymmetric coordinates has no PyTorch op; test_reference_kernels.cpp checks it by hand.


def pad_cases(w_):
    x = randn(1, 3, 7, 9)

    def onnx_pads(torch_pads, rank=4):
        # F.pad lists (last-dim begin, last-dim end, previous-dim begin, ...); ONNX (all begins, all ends).
        begins, ends = [0] * rank, [0] * rank
        for i in range(len(torch_pads) // 2):
            begins[rank - 1 - i], ends[rank - 1 - i] = torch_pads[2 * i], torch_pads[2 * i + 1]
        return begins + ends

    for name, torch_pads, mode, value in [
        ("pad_constant_hw", (1, 2, 0, 3), "constant", 0.5),
        ("pad_constant_channels", (0, 0, 0, 0, 1, 2), "constant", -1.25),
        ("pad_constant_negative_crops", (-1, 2, 1, -2), "constant", 0.0),
        ("pad_reflect", (2, 1, 3, 2), "reflect", 0.0),
        ("pad_reflect_max", (8, 8, 6, 6), "reflect", 0.0),
        ("pad_edge", (0, 3, 2, 1), "replicate", 0.0),
        ("pad_edge_large", (12, 1, 0, 10), "replicate", 0.0),
    ]:
        y = F.pad(x, torch_pads, mode=mode, value=value) if mode == "constant" else F.pad(x, torch_pads, mode=mode)
        onnx_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}[mode]
        w_.add(name, "Pad", {"mode": onnx_mode, "pads": onnx_pads(torch_pads), "value": float(value)}, [x], y)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: /usr/bin/python3 make_op_cases.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(20240601)
    w = Writer(out_dir)
    for make in [conv_cases, conv_transpose_cases, batchnorm_cases, activation_cases, binary_cases, concat_cases,
                 pool_cases, reduce_mean_cases, resize_cases, pad_cases]:
        make(w)
    w.finish()
    print(f"wrote {len(w.cases)} op cases to {out_dir}")


if __name__ == "__main__":
    main()
