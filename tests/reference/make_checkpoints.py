"""Writes the checkpoints tests/checkpoint reads, with PyTorch itself, plus what each must read back as.

Usage: /usr/bin/python3 tests/reference/make_checkpoints.py OUTDIR

For every readable checkpoint NAME it writes NAME.expected.json (the entries in order: key, dtype, shape,
byte offset and length) and NAME.expected.bin (each tensor's values, contiguous, little-endian), so
the C++ test compares every byte. The malicious files would run `touch OUTDIR/pwned.marker` if
unpickled by Python; this script only pickles them, it never loads them.
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(0)

DTYPE_NAMES = {torch.float32: "f32", torch.float16: "f16", torch.bfloat16: "bf16", torch.float64: "f64",
               torch.int64: "i64", torch.int32: "i32", torch.int8: "i8", torch.uint8: "u8", torch.bool: "bool"}


def expect(name, entries):
    """entries: list of (key, tensor) in the order crowdrt must return them."""
    manifest, blob = [], io.BytesIO()
    for key, t in entries:
        t = t.detach().contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        manifest.append({"key": key, "dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape),
                         "offset": blob.tell(), "bytes": len(raw)})
        blob.write(raw)
    with open(os.path.join(OUT, name + ".expected.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    with open(os.path.join(OUT, name + ".expected.bin"), "wb") as f:
        f.write(blob.getvalue())


def save(obj, name, expected_entries, **kwargs):
    torch.save(obj, os.path.join(OUT, name), **kwargs)
    expect(name, expected_entries)


# Every dtype a state_dict holds; BatchNorm's num_batches_tracked is a 0-d int64.
dtypes = collections.OrderedDict()
dtypes["f32"] = torch.randn(3, 4)
dtypes["f16"] = torch.randn(5).half()
dtypes["bf16"] = torch.randn(2, 3).bfloat16()
dtypes["f64"] = torch.randn(2, 2, dtype=torch.float64)
dtypes["i64"] = torch.arange(-3, 4, dtype=torch.int64) * 1000000000000
dtypes["num_batches_tracked"] = torch.tensor(17)
dtypes["u8"] = torch.arange(0, 256, 7, dtype=torch.uint8)
dtypes["empty"] = torch.zeros(0, 3)
save(dtypes, "dtypes.pth", list(dtypes.items()))

# A real model: the smp-layout Unet with a resnet18 encoder and 5 input channels.
from smp_layout import Model  # noqa: E402

unet = Model("UNet", "resnet18", 5)
for m in unet.modules():
    if isinstance(m, nn.BatchNorm2d):  # non-trivial running statistics
        m.running_mean.normal_()
        m.running_var.uniform_(0.5, 2.0)
        m.num_batches_tracked.fill_(123)
unet_sd = unet.state_dict()
save(unet_sd, "unet_resnet18.pth", list(unet_sd.items()))

# Training-loop wrappers around a small state_dict, and DataParallel's "module." prefix.
small = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 1, 1))
small_sd = small.state_dict()
optimizer = torch.optim.SGD(small.parameters(), lr=0.1, momentum=0.9)
small(torch.randn(1, 3, 8, 8)).sum().backward()
optimizer.step()
small_sd = small.state_dict()
save({"epoch": 7, "state_dict": small_sd, "optimizer": optimizer.state_dict(), "best_mae": 12.5},
     "wrapped_state_dict.pth", list(small_sd.items()))
save({"model": small_sd, "args": {"lr": 0.1, "name": "run"}}, "wrapped_model.pth", list(small_sd.items()))
parallel_sd = nn.DataParallel(small).state_dict()
assert all(k.startswith("module.") for k in parallel_sd)
save(parallel_sd, "data_parallel.pth", list(small_sd.items()))
save({"state_dict": parallel_sd, "epoch": 3}, "wrapped_data_parallel.pth", list(small_sd.items()))
# A 'model' key that holds settings, not weights, is not a wrapper; a file without tensors says so.
beside = collections.OrderedDict(model={"arch": "UNet", "encoder": "resnet18"}, weight=torch.randn(3))
save(beside, "settings_beside_weights.pth", [("weight", beside["weight"])])
torch.save({"epoch": 3, "optimizer": {"lr": 0.1}}, os.path.join(OUT, "no_tensors.pth"))
# Parameters (not detached tensors) go through torch._utils._rebuild_parameter.
params = collections.OrderedDict(weight=nn.Parameter(torch.randn(2, 3)), bias=nn.Parameter(torch.randn(2)))
save(params, "parameters.pth", list(params.items()))

# Views: transposed, sliced, strided, channels_last, expanded; several share one storage.
base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
views = collections.OrderedDict()
views["base"] = base
views["transposed"] = base.t()
views["slice"] = base[1:3, 2:5]
views["column"] = base[:, 1]
views["every_other"] = base[::2, ::3]
views["channels_last"] = torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last)
views["expanded"] = torch.tensor([1.0, 2.0, 3.0])[:, None].expand(3, 4)
views["half_transposed"] = torch.randn(3, 5).half().t()
save(views, "views.pth", list(views.items()))

# Protocol 4 pickles (STACK_GLOBAL, SHORT_BINUNICODE, MEMOIZE, FRAME) from newer torch.save callers.
save(dtypes, "protocol4.pth", list(dtypes.items()), pickle_protocol=4)

# safetensors, written by hand (the package is not installed): header in a non-sorted order.
st_tensors = collections.OrderedDict()
st_tensors["z.weight"] = torch.randn(4, 3)
st_tensors["a.half"] = torch.randn(6).half()
st_tensors["bf16"] = torch.randn(2, 2).bfloat16()
st_tensors["f64"] = torch.randn(3, dtype=torch.float64)
st_tensors["i64"] = torch.tensor([1, -2, 3 << 40])
st_tensors["i32"] = torch.tensor([7, -8], dtype=torch.int32)
st_tensors["i8"] = torch.tensor([-128, 0, 127], dtype=torch.int8)
st_tensors["u8"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
st_tensors["scalar"] = torch.tensor(3.5)
ST_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
             torch.int64: "I64", torch.int32: "I32", torch.int8: "I8", torch.uint8: "U8"}
header, data = collections.OrderedDict(), io.BytesIO()
header["__metadata__"] = {"format": "pt"}
for key, t in st_tensors.items():
    raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
    header[key] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape),
                   "data_offsets": [data.tell(), data.tell() + len(raw)]}
    data.write(raw)
header_bytes = json.dumps(header).encode()
header_bytes += b" " * (-len(header_bytes) % 8)
with open(os.path.join(OUT, "tensors.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(header_bytes)) + header_bytes + data.getvalue())
expect("tensors.safetensors", list(st_tensors.items()))

# The legacy (pre-1.6) format: crowdrt explains how to re-save it.
torch.save(dtypes, os.path.join(OUT, "legacy.pth"), _use_new_zipfile_serialization=False)

# A whole module object instead of a state_dict: refused by the global naming its class.
torch.save(small, os.path.join(OUT, "whole_module.pth"))

# Malicious files. Loading any of them in Python would create the marker.
MARKER = os.path.join(OUT, "pwned.marker")


class RunsShell:
    def __reduce__(self):
        return (os.system, ("touch " + MARKER,))


class RunsEval:
    def __reduce__(self):
        return (eval, ("open(%r, 'w').close()" % MARKER,))


class RunsPopen:
    def __reduce__(self):
        import subprocess
        return (subprocess.Popen, (["touch", MARKER],))


torch.save({"weight": torch.ones(2), "payload": RunsShell()}, os.path.join(OUT, "malicious_system.pth"))
# Protocol 3, because protocol 2 writes subprocess.Popen under its Python 2 name commands.Popen.
torch.save(collections.OrderedDict(weight=torch.ones(2), payload=RunsPopen()), os.path.join(OUT, "malicious_popen.pth"),
           pickle_protocol=3)


def zip_with_pickle(name, pickled):
    """A torch-like archive whose data.pkl is a plain pickle (as an attacker would write it)."""
    with zipfile.ZipFile(os.path.join(OUT, name), "w") as z:
        z.writestr("archive/data.pkl", pickled)
        z.writestr("archive/version", "3\n")


zip_with_pickle("malicious_plain_system.pth", pickle.dumps(RunsShell(), protocol=2))
zip_with_pickle("malicious_plain_eval.pth", pickle.dumps({"w": RunsEval()}, protocol=4))

# A tensor claiming more elements than its storage holds (a hand-made __reduce__ of a view).
class OutOfBounds:
    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2,
                (torch.FloatStorage(4), 0, (100,), (1,), False, collections.OrderedDict()))


torch.save({"weight": OutOfBounds()}, os.path.join(OUT, "out_of_bounds.pth"))
assert not os.path.exists(MARKER)
print("make_checkpoints: wrote", len(os.listdir(OUT)), "files to", OUT)
