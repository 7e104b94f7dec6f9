"""API misuse from Python raises crowdrt.Error (a RuntimeError) with a message that says what to do;
nothing aborts the interpreter."""
import json
import os
import stat
import struct
import unittest

import numpy as np

from common import crowdrt, scratch, tiny_plan


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def plan_for_another_device(plan_path, out_path):
    """The same plan with another device fingerprint in its header and a valid checksum (src/engine/plan.h)."""
    with open(plan_path, "rb") as f:
        data = f.read()
    header_len = struct.unpack_from("<Q", data, 16)[0]
    header = json.loads(data[24:24 + header_len])
    device = header["device"]
    other = ("X" * len(device)) if device != "X" * len(device) else ("Y" * len(device))
    new_header = data[24:24 + header_len].replace(json.dumps(device).encode(), json.dumps(other).encode(), 1)
    assert len(new_header) == header_len and new_header != data[24:24 + header_len]
    body = data[:24] + new_header + data[24 + header_len:-8]
    with open(out_path, "wb") as f:
        f.write(body + struct.pack("<Q", fnv1a64(body)))


class ErrorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = scratch()
        cls.onnx, cls.plan = tiny_plan(cls.dir)
        cls.engine = crowdrt.Engine(cls.plan)

    def assertError(self, pattern, fn, *args, **kwargs):
        with self.assertRaisesRegex(crowdrt.Error, pattern):
            fn(*args, **kwargs)

    def test_error_is_a_runtime_error(self):
        self.assertTrue(issubclass(crowdrt.Error, RuntimeError))

    def test_wrong_shape(self):
        self.assertError(r"input 'input' must be 1x5x32x32, got 1x3x32x32: the model takes 5 channels",
                         self.engine.infer, np.zeros((1, 3, 32, 32), np.float32))
        self.assertError(r"must be 1x5x32x32, got 5x32x32: 4 dimensions", self.engine.infer,
                         np.zeros((5, 32, 32), np.float32))

    def test_wrong_dtype(self):
        self.assertError(r"expected float32, got float64; convert with x.astype\(numpy.float32\)",
                         self.engine.infer, np.zeros((1, 5, 32, 32)))
        self.assertError(r"expected a numpy.ndarray of float32, got list", self.engine.infer, [[1.0, 2.0]])
        self.assertError(r"out must be a writeable C-contiguous float32", self.engine.infer,
                         np.zeros((1, 5, 32, 32), np.float32), out=np.zeros((1, 1, 32, 32)))
        self.assertError(r"output 'output' must be 1x1x32x32, got 1x1x16x16", self.engine.infer,
                         np.zeros((1, 5, 32, 32), np.float32), out=np.zeros((1, 1, 16, 16), np.float32))

    def test_wrong_number_of_inputs(self):
        x = np.zeros((1, 5, 32, 32), np.float32)
        self.assertError(r"the plan has 1 inputs, given 2", self.engine.infer, [x, x])

    def test_count_of_something_that_is_no_frame(self):
        self.assertError(r"expected a frame \(H x W x 3 uint8, BGR\) or a network input", self.engine.count,
                         np.zeros((8, 8, 3), np.int32))
        self.assertError(r"expected H x W x 3 uint8 .* got shape 8x8x4", self.engine.count, np.zeros((8, 8, 4), np.uint8))
        self.assertError(r"frame: empty \(0x0", self.engine.count, np.zeros((0, 0, 3), np.uint8))

    def test_plan_for_another_device(self):
        other = os.path.join(self.dir, "other_device.plan")
        plan_for_another_device(self.plan, other)
        self.assertError(r"plan was built for device 'X+' but this machine is .*rebuild it here", crowdrt.Engine, other)

    def test_use_after_a_failed_load(self):
        e = crowdrt.Engine()
        self.assertError(r"no plan is loaded .*call load", lambda: e.inputs)
        missing = os.path.join(self.dir, "missing.plan")
        self.assertError(r"missing.plan", e.load, missing)
        self.assertFalse(e.loaded)
        self.assertError(r"no plan is loaded, the last load failed: .*missing.plan", e.infer,
                         np.zeros((1, 5, 32, 32), np.float32))
        self.assertError(r"the last load failed", e.count, np.zeros((32, 32, 3), np.uint8))
        e.load(self.plan)  # a later load that succeeds makes it usable again
        self.assertEqual(e.infer(np.zeros((1, 5, 32, 32), np.float32)).shape, (1, 1, 32, 32))

    def test_not_a_plan(self):
        bad = os.path.join(self.dir, "not_a.plan")
        with open(bad, "wb") as f:
            f.write(b"hello, this is not a plan at all" * 4)
        self.assertError(r"not_a.plan", crowdrt.Engine, bad)

    def test_bad_engine_options(self):
        self.assertError(r"flow preset 'slow': choose ultrafast, fast, medium", crowdrt.Engine, self.plan, flow="slow")
        self.assertError(r"threads is -1", crowdrt.Engine, self.plan, threads=-1)
        # issue 18: 65536 threads took the interpreter down with a SIGSEGV in libgomp
        self.assertError(r"threads is 65536; give 0 \(every core\) or 1 to 4096", crowdrt.Engine, self.plan, threads=65536)

    def test_hostile_sizes_and_threads_at_build_are_errors_not_a_dead_interpreter(self):
        out = os.path.join(self.dir, "hostile.plan")
        big = 2 ** 40
        self.assertError(r"value 'input': shape 1099511627776x5x1099511627776x1099511627776 has more elements than 64 "
                         r"bits count", crowdrt.build, self.onnx, out, input_shapes={"input": [big, 5, big, big]})
        self.assertError(r"threads is 65536", crowdrt.build, self.onnx, out, threads=65536)
        self.assertFalse(os.path.exists(out))
        crowdrt.build(self.onnx, out)  # and the interpreter goes on
        self.assertTrue(os.path.exists(out))

    def test_build_passes_calibration_options_to_the_builder(self):
        out = os.path.join(self.dir, "calibrated.plan")
        missing = os.path.join(self.dir, "no_calibration_here")
        self.assertError(r"no_calibration_here", crowdrt.build, self.onnx, out, precision="int8", calib_dir=missing,
                         calib_cache=os.path.join(self.dir, "c.bin"), calib_max=10)
        self.assertError(r"unknown calibrator 'kl'", crowdrt.build, self.onnx, out, precision="int8", calibrator="kl",
                         calib_cache=os.path.join(self.dir, "c.bin"))
        self.assertFalse(os.path.exists(out))
        self.assertError(r"precision", crowdrt.build, self.onnx, out, precision="fp8")
        self.assertError(r"device 'tpu' is not available", crowdrt.build, self.onnx, out, device="tpu")

    def test_build_never_replaces_a_file_unless_told(self):
        size = os.path.getsize(self.plan)
        self.assertError(r"already exists; pass overwrite", crowdrt.build, self.onnx, self.plan)
        self.assertEqual(os.path.getsize(self.plan), size)
        crowdrt.build(self.onnx, self.plan, overwrite=True)

    def test_bad_preprocessor_options(self):
        self.assertError(r"4 input channels", crowdrt.Preprocessor, channels=4)
        self.assertError(r"input mode 'train'", crowdrt.Preprocessor, variant="train")
        self.assertError(r"size 0x608 must be positive", crowdrt.Preprocessor, width=0)

    def test_frame_source_of_nothing(self):
        self.assertError(r"no such video, image or folder", crowdrt.FrameSource, os.path.join(self.dir, "none.mp4"))
        empty = os.path.join(self.dir, "empty_folder")
        os.makedirs(empty, exist_ok=True)
        self.assertError(r"no .jpg or .png frames", crowdrt.FrameSource, empty)
        junk = os.path.join(self.dir, "junk.avi")
        with open(junk, "wb") as f:
            f.write(b"\0" * 100)
        self.assertError(r"junk.avi", crowdrt.FrameSource, junk)

    def test_frame_source_of_a_video_with_no_frame_raises(self):
        # a video cut after its header opens, then yields nothing: an error, not 0 frames in silence
        import subprocess
        whole = os.path.join(self.dir, "whole.avi")
        subprocess.run(["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5", "-frames:v", "3",
                        "-c:v", "mjpeg", whole], check=True)
        self.assertEqual(len(list(crowdrt.FrameSource(whole))), 3)
        cut = os.path.join(self.dir, "cut.avi")
        with open(whole, "rb") as f, open(cut, "wb") as g:
            g.write(f.read()[:300])
        with self.assertRaisesRegex(crowdrt.Error, r"cut.avi"):
            list(crowdrt.FrameSource(cut))
        self.assertError(r"empty.avi", crowdrt.FrameSource, self._write("empty.avi", b""))

    def test_frame_source_refuses_special_files_without_waiting(self):
        fifo = os.path.join(self.dir, "fifo.avi")
        os.mkfifo(fifo)
        self.assertError(r"fifo.avi: is a FIFO", crowdrt.FrameSource, fifo)
        self.assertError(r"/dev/null: is a character device", crowdrt.FrameSource, "/dev/null")

    def test_frame_source_names_a_damaged_image(self):
        half = self._write("half.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
                                        b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\x12\x34")
        self.assertError(r"half.jpg: JPEG is truncated", crowdrt.FrameSource, half)
        self.assertError(r"zero.png: is empty", crowdrt.FrameSource, self._write("zero.png", b""))

    def test_build_never_replaces_a_special_file(self):
        fifo = os.path.join(self.dir, "out_fifo.plan")
        os.mkfifo(fifo)
        self.assertError(r"is a FIFO.*never replaces", crowdrt.build, self.onnx, fifo, overwrite=True)
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))

    def _write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path


if __name__ == "__main__":
    unittest.main()
