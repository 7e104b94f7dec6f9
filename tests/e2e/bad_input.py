"""Bad input of one kind, given to the CLI: it must fail with one line on stderr, a non-zero exit code below 128,
no crash, and nothing written at the output path (nor any file created, changed or removed beside it).
usage: /usr/bin/python3 tests/e2e/bad_input.py CROWDRT MODELS_DIR CASE WORK_DIR KIND
KIND is one of the names in KINDS below; CASE is a reference case with 3 input channels (its plan is built first)."""
import os
import struct
import sys

import numpy as np

from common import TestFailure, check_no_crash, expect_error, expect_ok, fresh_dir, main_guard, run
from compare import compare


class Ctx:
    def __init__(self, crowdrt, models, case, work):
        self.crowdrt, self.work = crowdrt, fresh_dir(work)
        self.case_dir = os.path.join(models, case)
        self.onnx = os.path.join(self.case_dir, "model.onnx")
        self.input = os.path.join(self.case_dir, "input.npy")
        self.x = np.load(self.input)
        self.out_dir = os.path.join(self.work, "out")   # where every output goes; watched for any change
        os.makedirs(self.out_dir)
        self._plan = None

    def path(self, name):
        return os.path.join(self.work, name)

    def out(self, name):
        return os.path.join(self.out_dir, name)

    def plan(self):
        """A good plan of the case, built once."""
        if self._plan is None:
            self._plan = self.path("good.plan")
            # untimed: any valid plan serves, and timing kernels would take most of this test's time
            expect_ok([self.crowdrt, "build", "--onnx", self.onnx, "-o", self._plan, "--no-tactic-timing"])
        return self._plan

    def write(self, name, data):
        p = self.path(name)
        with open(p, "wb") as fh:
            fh.write(data)
        return p

    def build_fails(self, onnx, **kw):
        out = self.out("model.plan")
        return expect_error([self.crowdrt, "build", "--onnx", onnx, "-o", out], absent=[out], watch=[self.out_dir], **kw)

    def infer_fails(self, plan, inp, **kw):
        out = self.out("y.npy")
        return expect_error([self.crowdrt, "infer", "--plan", plan, "--input", inp, "--output", out], absent=[out],
                            watch=[self.out_dir], **kw)

    def perf_fails(self, plan, **kw):
        out = self.out("perf.json")
        return expect_error([self.crowdrt, "perf", "--plan", plan, "--iterations", 2, "--warmup", 0, "--json", out],
                            absent=[out], watch=[self.out_dir], **kw)

    def plan_bytes(self):
        with open(self.plan(), "rb") as fh:
            return bytearray(fh.read())


def truncated_onnx(c):
    with open(c.onnx, "rb") as fh:
        data = fh.read()
    for frac in (0.5, 0.97):
        c.build_fails(c.write(f"truncated_{frac}.onnx", data[:int(len(data) * frac)]))


def garbage_onnx(c):
    rng = np.random.default_rng(1)
    c.build_fails(c.write("garbage.onnx", rng.integers(0, 256, 100_000, dtype=np.uint8).tobytes()))
    c.build_fails(c.write("text.onnx", b"this is not an ONNX model\n" * 100))


def empty_onnx(c):
    c.build_fails(c.write("empty.onnx", b""))


def npy_wrong_channels(c):
    n, ch, h, w = c.x.shape
    other = 5 if ch == 3 else 3
    p = c.path("wrong_channels.npy")
    np.save(p, np.zeros((n, other, h, w), np.float32))
    c.infer_fails(c.plan(), p)


def npy_wrong_shape(c):
    n, ch, h, w = c.x.shape
    for i, shape in enumerate([(n, ch, h // 2, w), (n, ch, h, w + 32), (2, ch, h, w), (ch, h, w), (1, 1, n, ch, h, w)]):
        p = c.path(f"wrong_shape_{i}.npy")
        np.save(p, np.zeros(shape, np.float32))
        c.infer_fails(c.plan(), p)


def npy_wrong_dtype(c):
    p = c.path("float64.npy")
    np.save(p, c.x.astype(np.float64))
    # converting silently would also be defensible; what is not is a crash or a wrong answer, so accept
    # either a clean refusal or a success whose output is then checked elsewhere
    out = c.out("y.npy")
    r = run([c.crowdrt, "infer", "--plan", c.plan(), "--input", p, "--output", out])
    check_no_crash(r)
    if r.code != 0:
        c.infer_fails(c.plan(), p)
    else:
        ok, msg = compare(out, os.path.join(c.case_dir, "ref.npy"))
        if not ok:
            raise TestFailure(f"float64 input accepted but the output is wrong: {msg}")


def npy_garbage(c):
    c.infer_fails(c.plan(), c.write("garbage.npy", b"\x93NUMPY\x01\x00" + b"\xff" * 64))
    c.infer_fails(c.plan(), c.write("text.npy", b"not a numpy file at all"))
    with open(c.input, "rb") as fh:
        data = fh.read()
    c.infer_fails(c.plan(), c.write("truncated.npy", data[:len(data) // 2]))


def plan_corrupted(c):
    data = c.plan_bytes()
    mid = len(data) // 2
    data[mid] ^= 0xFF
    p = c.write("corrupted.plan", bytes(data))
    c.infer_fails(p, c.input)
    c.perf_fails(p)


def plan_truncated(c):
    data = c.plan_bytes()
    for frac in (0.5, 0.999):
        p = c.write(f"truncated_{frac}.plan", bytes(data[:int(len(data) * frac)]))
        c.infer_fails(p, c.input)
    c.infer_fails(c.write("magic_only.plan", b"CRWDPLAN"), c.input)


def plan_version(c):
    data = c.plan_bytes()
    if data[:8] != b"CRWDPLAN":
        raise TestFailure(f"{c.plan()} does not start with CRWDPLAN")
    (version,) = struct.unpack_from("<I", data, 8)
    for other in (version + 1, 0 if version != 0 else 2):
        struct.pack_into("<I", data, 8, other)
        p = c.write(f"version_{other}.plan", bytes(data))
        c.infer_fails(p, c.input, mentions=["version"])
        c.perf_fails(p, mentions=["version"])


def plan_bad_magic(c):
    data = c.plan_bytes()
    data[0:8] = b"NOTAPLAN"
    c.infer_fails(c.write("bad_magic.plan", bytes(data)), c.input)
    c.infer_fails(c.onnx, c.input)   # an ONNX file given as a plan


def missing_file(c):
    nowhere = c.path("does_not_exist")
    codes = (1, 2)  # a missing file may be reported as a usage error
    c.build_fails(nowhere + ".onnx", codes=codes)
    c.infer_fails(nowhere + ".plan", c.input, codes=codes)
    c.infer_fails(c.plan(), nowhere + ".npy", codes=codes)
    c.perf_fails(nowhere + ".plan", codes=codes)
    expect_error([c.crowdrt, "inspect", nowhere + ".plan"], codes=codes)
    # an output folder that does not exist
    expect_error([c.crowdrt, "build", "--onnx", c.onnx, "-o", os.path.join(nowhere, "m.plan")], codes=codes,
                 absent=[nowhere])


def build_no_overwrite(c):
    p = c.out("existing.plan")
    content = b"a file the user wants to keep\n"
    with open(p, "wb") as fh:
        fh.write(content)
    expect_error([c.crowdrt, "build", "--onnx", c.onnx, "-o", p], watch=[c.out_dir])
    with open(p, "rb") as fh:
        if fh.read() != content:
            raise TestFailure(f"{p} changed")
    # positive control: with --overwrite it is replaced by a plan
    expect_ok([c.crowdrt, "build", "--onnx", c.onnx, "-o", p, "--overwrite"])
    with open(p, "rb") as fh:
        if fh.read(8) != b"CRWDPLAN":
            raise TestFailure(f"{p} is not a plan after build --overwrite")


def infer_no_overwrite(c):
    p = c.out("existing.npy")
    content = b"a file the user wants to keep\n"
    with open(p, "wb") as fh:
        fh.write(content)
    expect_error([c.crowdrt, "infer", "--plan", c.plan(), "--input", c.input, "--output", p], watch=[c.out_dir])
    with open(p, "rb") as fh:
        if fh.read() != content:
            raise TestFailure(f"{p} changed")
    expect_ok([c.crowdrt, "infer", "--plan", c.plan(), "--input", c.input, "--output", p, "--overwrite"])
    y = np.load(p)
    if y.shape[0] != 1 or y.ndim != 4:
        raise TestFailure(f"{p}: shape {y.shape} after infer --overwrite")


def usage_error(c):
    expect_error([c.crowdrt], codes=(2,))
    expect_error([c.crowdrt, "no-such-subcommand"], codes=(2,))
    expect_error([c.crowdrt, "build", "--onnx", c.onnx, "-o", c.out("m.plan"), "--no-such-flag"], codes=(2,),
                 absent=[c.out("m.plan")], watch=[c.out_dir])
    expect_error([c.crowdrt, "build", "-o", c.out("m.plan")], codes=(2,), watch=[c.out_dir])      # no model
    # a value out of range: a usage error, or an error from the builder that says so
    expect_error([c.crowdrt, "build", "--onnx", c.onnx, "-o", c.out("m.plan"), "--precision", "fp7"], codes=(1, 2),
                 absent=[c.out("m.plan")], watch=[c.out_dir])
    expect_error([c.crowdrt, "infer", "--plan", c.plan(), "--input", c.input], codes=(2,), watch=[c.out_dir])
    expect_error([c.crowdrt, "perf", "--plan", c.plan(), "--iterations", "-3"], codes=(2,), watch=[c.out_dir])


KINDS = {f.__name__: f for f in (truncated_onnx, garbage_onnx, empty_onnx, npy_wrong_channels, npy_wrong_shape,
                                 npy_wrong_dtype, npy_garbage, plan_corrupted, plan_truncated, plan_version,
                                 plan_bad_magic, missing_file, build_no_overwrite, infer_no_overwrite, usage_error)}

if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--list":
        print("\n".join(KINDS))
        sys.exit(0)
    if len(sys.argv) != 6 or sys.argv[5] not in KINDS:
        sys.exit(__doc__ + "\nkinds: " + " ".join(KINDS))
    crowdrt, models, case, work, kind = sys.argv[1:]
    main_guard(lambda: KINDS[kind](Ctx(crowdrt, models, case, work)))
