"""Exports the smp-layout models the CUDA benchmark and the GPU tests use, on the GPU machine itself (its
PyTorch; ONNX files of these sizes are too large to carry there). Random weights, BatchNorm statistics randomised
so that layers keep a useful range; fp32, opset 17.

usage: python3 bench/export_gpu_models.py REFERENCE_DIR OUT_DIR [--bench]
  REFERENCE_DIR holds smp_layout.py (tests/reference); OUT_DIR/small gets the test models (64-128 px);
  with --bench, OUT_DIR/bench gets UNet-resnet34 and UNet++-resnet34 at 608x608.
"""
import os
import sys

import torch

sys.path.insert(0, sys.argv[1])
from smp_layout import Model, conv_macs  # noqa: E402


def randomize(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
                m.bias.copy_(torch.rand(c, generator=gen) * 0.2 - 0.1)
                m.running_mean.copy_(torch.rand(c, generator=gen) * 0.2 - 0.1)
                m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)


def export(arch, encoder, h, w, path, seed, opset=17):
    torch.manual_seed(seed)
    model = Model(arch, encoder, 5).eval()
    randomize(model, seed)
    x = torch.rand(1, 5, h, w)
    kw = {"dynamo": False} if "dynamo" in torch.onnx.export.__code__.co_varnames else {}
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["input"], output_names=["output"], **kw)
    print(f"{path}: {arch}-{encoder} 5x{h}x{w}, {conv_macs(model, (1, 5, h, w)) / 1e9:.2f} GMACs", flush=True)


def main():
    out = sys.argv[2]
    os.makedirs(os.path.join(out, "small"), exist_ok=True)
    export("UNet", "resnet18", 64, 96, os.path.join(out, "small", "unet_resnet18_64x96.onnx"), 1, opset=11)
    export("UNet", "resnet34", 128, 128, os.path.join(out, "small", "unet_resnet34_128x128.onnx"), 2, opset=13)
    export("UNet++", "resnet34", 64, 64, os.path.join(out, "small", "unetpp_resnet34_64x64.onnx"), 3)
    export("UNet", "mobilenet_v2", 64, 64, os.path.join(out, "small", "unet_mobilenet_v2_64x64.onnx"), 4)
    if "--bench" in sys.argv:
        os.makedirs(os.path.join(out, "bench"), exist_ok=True)
        export("UNet", "resnet34", 608, 608, os.path.join(out, "bench", "unet_resnet34_608.onnx"), 5)
        export("UNet++", "resnet34", 608, 608, os.path.join(out, "bench", "unetpp_resnet34_608.onnx"), 6)


if __name__ == "__main__":
    main()
