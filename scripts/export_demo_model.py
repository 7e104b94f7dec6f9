"""Exports the demo network: an smp-layout UNet-resnet18 with 5 input channels (RGB + flow) and random
BatchNorm statistics, as ONNX, plus one random input. Until the trained demo model lands, this stands
in for it: the engine's work is the same whatever the weights.
usage: /usr/bin/python3 scripts/export_demo_model.py OUT_DIR [SIZE]"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "reference"))
from smp_layout import Model  # noqa: E402

out, size = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 256
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
model = Model("UNet", "resnet18", 5)
for m in model.modules():
    if isinstance(m, torch.nn.BatchNorm2d):
        m.running_mean.uniform_(-0.2, 0.2)
        m.running_var.uniform_(0.5, 1.5)
model.eval()
x = torch.rand(1, 5, size, size)
with torch.no_grad():
    torch.onnx.export(model, x, os.path.join(out, "demo_unet_resnet18.onnx"), opset_version=11,
                      input_names=["input"], output_names=["output"])
    np.save(os.path.join(out, "input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out, "pytorch_output.npy"), model(x).numpy().astype(np.float32))
print(f"exported {out}/demo_unet_resnet18.onnx (5x{size}x{size})")
