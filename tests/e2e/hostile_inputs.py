"""Inputs and outputs that are not what they claim, given to the CLI (issue 18, item 5): each is refused with one
line naming the file, exit code 1, nothing written, never a crash, never a wait.
- files: a FIFO (with no writer), a device or a folder where a model, plan, checkpoint, tensor, calibration
  cache, zones file or video is read; an output path that is a FIFO or /dev/null, even with --overwrite (nothing
  under /dev is ever written: the refusal comes first); a .pth whose data.pkl claims 4 GiB; a dataset list whose
  bytes would drive the terminal (escape sequences, invalid UTF-8) and a zone name holding one, shown escaped.
- frames: a JPEG cut in half, an empty, a garbage and a 65500x65500-claiming image, a PNG with a wrong CRC in
  eval, run, preprocess and calib-data; an empty and a damaged video in run (no "0 frames" success), with no
  OpenCV / FFmpeg / GStreamer lines before our one.
The models are built here from the Python tests' tiny model, the frames by `crowdrt synth`: no fixture is needed.
usage: /usr/bin/python3 tests/e2e/hostile_inputs.py CROWDRT WORK_DIR files|frames"""
import json
import os
import resource
import shutil
import stat
import struct
import sys
import zipfile
import zlib

import numpy as np

from common import TestFailure, expect_error, expect_ok, fresh_dir, main_guard

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import tiny_model  # noqa: E402  (tests/python/tiny_model.py)

WAIT_S = 20  # a command that waits on a FIFO is killed after this and reported as a failure


class Work:
    def __init__(self, crowdrt, work):
        self.crowdrt, self.work = crowdrt, fresh_dir(work)
        self.out = os.path.join(self.work, "out")   # where outputs go; watched for any change
        os.makedirs(self.out)
        self.onnx = self.path("tiny.onnx")
        tiny_model.make_model(self.onnx, channels=5, height=32, width=32)
        self.plan = self.path("tiny.plan")
        expect_ok([crowdrt, "build", "--onnx", self.onnx, "-o", self.plan, "--no-tactic-timing"])

    def path(self, name):
        return os.path.join(self.work, name)

    def fifo(self, name):
        p = self.path(name)
        os.mkfifo(p)
        return p

    def write(self, name, data):
        p = self.path(name)
        with open(p, "wb") as fh:
            fh.write(data)
        return p

    def fails(self, args, mentions, absent=(), watch=True):
        """watch=False where the command may keep what it wrote before the error (run, calib-data: made atomic in
        another change)."""
        return expect_error([self.crowdrt, *args], absent=absent, watch=[self.out] if watch else [],
                            mentions=mentions, timeout=WAIT_S)


def bomb_checkpoint(w, name, claimed):
    """A .pth (zip, deflated) whose data.pkl declares `claimed` bytes, in local header and central directory alike."""
    p = w.path(name)
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("bomb/data.pkl", b"\x80\x02}q\x00." + b"\0" * 4000)
        z.writestr("bomb/byteorder", b"little")
        z.writestr("bomb/version", b"3\n")
    data = bytearray(open(p, "rb").read())
    for sig, size_at, name_len_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        at = data.find(sig)
        while at >= 0:
            (n,) = struct.unpack_from("<H", data, at + name_len_at)
            if data[at + name_at:at + name_at + n].endswith(b"data.pkl"):
                struct.pack_into("<I", data, at + size_at, claimed)
            at = data.find(sig, at + 4)
    with open(p, "wb") as fh:
        fh.write(data)
    return p


def files(w):
    out = w.out
    x = w.path("x.npy")
    np.save(x, np.zeros((1, 5, 32, 32), np.float32))
    folder = w.path("a_folder")
    os.makedirs(folder)
    y = os.path.join(out, "y.npy")

    # Inputs: a FIFO with no writer (the probe: `run --input FIFO` blocked) in every file role, a device and a
    # folder in some (all roles read through the same check: core/file.h).
    fifo = w.fifo("fifo_in")
    for special, kind in ((fifo, "FIFO"), ("/dev/null", "character device"), (folder, "folder")):
        w.fails(["build", "--onnx", special, "-o", os.path.join(out, "m.plan")], [special, kind],
                absent=[os.path.join(out, "m.plan")])
        w.fails(["infer", "--plan", w.plan, "--input", special, "--output", y], [special, kind], absent=[y])
    w.fails(["inspect", fifo], [fifo, "FIFO"])
    w.fails(["perf", "--plan", fifo, "--iterations", 1], [fifo, "FIFO"])
    w.fails(["export", fifo, "--input-size", "64x64", "-o", os.path.join(out, "m.onnx")], [fifo, "FIFO"],
            absent=[os.path.join(out, "m.onnx")])
    w.fails(["build", "--onnx", w.onnx, "-o", os.path.join(out, "m.plan"), "--precision", "int8", "--calib-cache",
             fifo], [fifo, "FIFO"], absent=[os.path.join(out, "m.plan")])
    for special, kind in ((fifo, "FIFO"), ("/dev/null", "character device")):  # a folder is a folder of frames
        w.fails(["run", "--plan", w.plan, "--input", special, "--out", os.path.join(out, "run")], [special, kind],
                absent=[os.path.join(out, "run")])
    data = synth_dataset(w, "data")
    clip = first_sequence(data)
    zones_fifo = w.fifo("zones.json")
    w.fails(["run", "--plan", w.plan, "--input", clip, "--zones", zones_fifo, "--out", os.path.join(out, "run")],
            [zones_fifo, "FIFO"], absent=[os.path.join(out, "run")])

    # Outputs: a FIFO or a device is never replaced, --overwrite or not. /dev/null is only looked at: the
    # refusal comes before any write, and the test checks that it is still a character device.
    out_fifo = os.path.join(w.work, "out_fifo.npy")
    os.mkfifo(out_fifo)
    for command in (["infer", "--plan", w.plan, "--input", x, "--output"], ["build", "--onnx", w.onnx, "-o"],
                    ["perf", "--plan", w.plan, "--iterations", 1, "--json"]):
        w.fails([*command, out_fifo, "--overwrite"], [out_fifo, "never replaces"])
    w.fails(["infer", "--plan", w.plan, "--input", x, "--output", "/dev/null", "--overwrite"], ["/dev/null", "never replaces"])
    if not stat.S_ISFIFO(os.stat(out_fifo).st_mode) or not stat.S_ISCHR(os.stat("/dev/null").st_mode):
        raise TestFailure("a special file given as an output was replaced")

    # A .pth whose data.pkl claims 4 GiB (refused after 15 s and 2.2 GB before): refused at once, in little
    # memory, as one claiming more than deflate can give from its compressed bytes (1032 to 1 at most).
    for name, claimed, says in (("bomb.pth", 0xFFFF0000, "claims 4294901760 bytes, more than the 67108864"),
                                ("ratio.pth", 60 << 20, "more than deflate can give")):
        bomb = bomb_checkpoint(w, name, claimed)
        w.fails(["export", bomb, "--input-size", "64x64", "-o", os.path.join(out, "bomb.onnx")], [bomb, "data.pkl", says],
                absent=[os.path.join(out, "bomb.onnx")])
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if peak_mb > 400:
        raise TestFailure(f"a command of this test used {peak_mb:.0f} MB")

    # A dataset list whose bytes are terminal escapes and invalid UTF-8: quoted escaped, never raw.
    testlist = w.write("testlist.txt", b"seq\x1b[31mRED\x07\xff\xfe\n")
    r = w.fails(["eval", "--plan", w.plan, "--data", data, "--split", testlist], ["\\x1b[31mRED\\x07\\xff\\xfe"])
    if "\x1b" in r.err or "\x07" in r.err:
        raise TestFailure(f"raw control bytes reached the terminal: {r.err!r}")
    # ... and a zone name that would clear the screen, in run's summary on stdout
    zones = w.write("escape_zones.json", json.dumps({"zones": [{"name": "hall\x1b[2J", "polygon": [[0, 0], [1, 0], [1, 1]],
                                                          "normalized": True}]}).encode())
    r = expect_ok([w.crowdrt, "run", "--plan", w.plan, "--input", clip, "--zones", zones, "--out", w.path("run_zones")])
    if "\x1b" in r.out + r.err or "zone hall\\x1b[2J: mean count" not in r.out + r.err:
        raise TestFailure(f"the zone name was not shown escaped\n{r.describe()}")


def synth_dataset(w, name, frames=3):
    root = w.path(name)
    expect_ok([w.crowdrt, "synth", "--out", root, "--sequences", 1, "--frames", frames, "--size", "64x48"])
    return root


def first_sequence(data):
    seq_root = os.path.join(data, "sequences")
    return os.path.join(seq_root, sorted(os.listdir(seq_root))[0])


def damaged_images(good_jpeg):
    """name → (bytes, what the error says) of each damage the probes tried."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = lambda w_, h_: chunk(b"IHDR", struct.pack(">IIBBBBB", w_, h_, 8, 2, 0, 0, 0))  # noqa: E731
    rows = b"".join(b"\0" + b"\x80" * 12 for _ in range(4))
    png = b"\x89PNG\r\n\x1a\n" + ihdr(4, 4) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    bad_crc = bytearray(png)
    bad_crc[8 + 8 + 3] ^= 1  # IHDR's width, its CRC unchanged
    huge = b"\x89PNG\r\n\x1a\n" + ihdr(65500, 65500) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    return {"half.jpg": (good_jpeg[:len(good_jpeg) // 2], "JPEG is truncated"),
            "zero.jpg": (b"", "is empty (0 bytes)"),
            "garbage.jpg": (np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes(),
                            "not a readable image"),
            "crc.png": (bytes(bad_crc), "wrong CRC"),
            "huge.png": (huge, "claims 65500x65500 pixels")}


def frames(w):
    out = w.out
    data = synth_dataset(w, "data")
    seq = first_sequence(data)
    names = sorted(os.listdir(seq))
    with open(os.path.join(seq, names[1]), "rb") as fh:
        good = fh.read()
    frame = os.path.join(seq, names[1])
    for damage, (content, says) in damaged_images(good).items():
        # the second frame of the sequence is replaced: the first is read and counted before it
        os.remove(frame)
        frame = os.path.join(seq, os.path.splitext(names[1])[0] + os.path.splitext(damage)[1])
        with open(frame, "wb") as fh:
            fh.write(content)
        mentions = [frame, says]
        w.fails(["preprocess", "--sequence", seq, "--size", "32x32", "--no-write"], mentions)
        if damage not in ("half.jpg", "huge.png"):
            continue  # every command reads frames through vision::decode_frame: two damages are enough there
        w.fails(["eval", "--plan", w.plan, "--data", data, "--split", "all", "--json", os.path.join(out, "e.json")],
                mentions, absent=[os.path.join(out, "e.json")])
        w.fails(["run", "--plan", w.plan, "--input", seq, "--out", os.path.join(out, "run")], mentions, watch=False)
        w.fails(["calib-data", "--sequences", os.path.join(data, "sequences"), "--out", os.path.join(out, "calib")],
                mentions, watch=False)
        shutil.rmtree(os.path.join(out, "run"), ignore_errors=True)
        shutil.rmtree(os.path.join(out, "calib"), ignore_errors=True)

    # Videos: empty, garbage, cut after its header. `run` said "0 frames ... wrote overlay.avi" and wrote nothing.
    clip = w.path("clip.avi")
    expect_ok(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5", "-frames:v", 3,
               "-c:v", "mjpeg", clip])
    with open(clip, "rb") as fh:
        whole = fh.read()
    for name, content in (("empty.avi", b""), ("garbage.avi", b"\x5a" * 4000), ("header_only.avi", whole[:300])):
        video = w.write(name, content)
        run_out = os.path.join(out, "run_" + name)
        w.fails(["run", "--plan", w.plan, "--input", video, "--out", run_out], [video], absent=[run_out])
    run_out = os.path.join(out, "run_clip")
    r = expect_ok([w.crowdrt, "run", "--plan", w.plan, "--input", clip, "--out", run_out])
    if "3 frames" not in r.out + r.err:
        raise TestFailure(f"the whole clip was not read to its 3 frames\n{r.describe()}")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[3] not in ("files", "frames"):
        sys.exit(__doc__)
    main_guard(lambda: {"files": files, "frames": frames}[sys.argv[3]](Work(sys.argv[1], sys.argv[2])))
