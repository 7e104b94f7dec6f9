"""crowdrt.FrameSource, crowdrt.Preprocessor and Engine.count on frames, against OpenCV and the seed's input
recipe written independently in Python (tests/reference/seed_input.py)."""
import os
import unittest

import cv2
import numpy as np

from common import crowdrt, scratch, synth_frames, tiny_model, tiny_plan
from seed_input import seed_inputs


class FramesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = scratch()
        cls.frames = synth_frames(cls.dir, frames=4, size="96x64")
        cls.folder = os.path.dirname(cls.frames[0])
        _, cls.plan5 = tiny_plan(cls.dir, channels=5, size=(32, 48))
        _, cls.plan3 = tiny_plan(cls.dir, channels=3, size=(32, 48))

    def test_folder_gives_its_images_in_name_order(self):
        source = crowdrt.FrameSource(self.folder)
        got = list(source)
        self.assertEqual(len(got), 4)
        self.assertEqual(source.position, 4)
        for path, frame in zip(self.frames, got):
            self.assertEqual(frame.dtype, np.uint8)
            np.testing.assert_array_equal(frame, cv2.imread(path, cv2.IMREAD_COLOR))

    def test_single_image(self):
        got = list(crowdrt.FrameSource(self.frames[2]))
        self.assertEqual(len(got), 1)
        np.testing.assert_array_equal(got[0], cv2.imread(self.frames[2]))

    def test_video_gives_what_opencv_decodes(self):
        video = os.path.join(self.dir, "clip.avi")
        writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*"MJPG"), 10, (96, 64))
        for path in self.frames:
            writer.write(cv2.imread(path))
        writer.release()
        capture, expected = cv2.VideoCapture(video), []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            expected.append(frame)
        got = list(crowdrt.FrameSource(video))
        self.assertEqual(len(got), 4)
        for e, g in zip(expected, got):
            np.testing.assert_array_equal(g, e)

    def check_against_seed(self, channels, variant):
        pre = crowdrt.Preprocessor(width=48, height=32, channels=channels, flow="fast", variant=variant)
        ref = list(seed_inputs(self.frames, (48, 32), "fast", channels, variant))
        for path, expected in zip(self.frames, ref):
            x = pre(cv2.imread(path))
            self.assertEqual(x.shape, (1, channels, 32, 48))
            self.assertEqual(x.dtype, np.float32)
            np.testing.assert_allclose(x[:, :3], expected[:, :3], atol=1e-6)
            np.testing.assert_allclose(x[:, 3:], expected[:, 3:], atol=1e-5)
        return pre, ref

    def test_preprocessor_is_the_seed_recipe(self):
        self.check_against_seed(5, "eval")
        self.check_against_seed(5, "calib")
        self.check_against_seed(3, "eval")

    def test_preprocessor_reset_restarts_the_flow(self):
        pre, ref = self.check_against_seed(5, "eval")
        pre.reset()
        np.testing.assert_allclose(pre(cv2.imread(self.frames[0])), ref[0], atol=1e-5)
        self.assertEqual(np.abs(ref[0][:, 3:]).max(), 0.0)  # the first frame of a sequence has no motion

    def test_count_of_frames_is_preprocess_infer_sum_over_100(self):
        engine = crowdrt.Engine(self.plan5, flow="fast")
        ref = list(seed_inputs(self.frames, (48, 32), "fast", 5, "eval"))
        counts = [engine.count(cv2.imread(p)) for p in self.frames]
        for count, x in zip(counts, ref):
            self.assertAlmostEqual(count, tiny_model.forward(x).sum() / 100, delta=1e-4 * abs(count))
        # Without reset the next frame continues the sequence (flow against the last frame) ...
        first_again = engine.count(cv2.imread(self.frames[0]))
        self.assertNotAlmostEqual(first_again, counts[0], places=5)
        # ... and after reset it is the first frame of a new one.
        engine.reset()
        self.assertAlmostEqual(engine.count(cv2.imread(self.frames[0])), counts[0], places=6)

    def test_count_takes_views_of_frames(self):
        engine = crowdrt.Engine(self.plan3)
        wide = np.zeros((64, 100, 3), np.uint8)
        wide[:, 2:98] = cv2.imread(self.frames[1])
        view = wide[:, 2:98]  # rows strided, pixels packed: used in place
        self.assertFalse(view.flags.c_contiguous)
        expected = tiny_model.forward(next(seed_inputs([self.frames[1]], (48, 32), "fast", 3, "eval"))).sum() / 100
        self.assertAlmostEqual(engine.count(view), expected, delta=1e-5 * abs(expected))
        self.assertAlmostEqual(engine.count(np.ascontiguousarray(view[:, :, :])), expected, delta=1e-5 * abs(expected))
        rgb_reversed = np.ascontiguousarray(view[:, :, ::-1])[:, :, ::-1]  # a negative channel stride: copied
        self.assertAlmostEqual(engine.count(rgb_reversed), expected, delta=1e-5 * abs(expected))


if __name__ == "__main__":
    unittest.main()
