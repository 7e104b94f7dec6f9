"""crowdrt.FrameSource, crowdrt.Preprocessor and Engine.count on frames, against OpenCV and the seed's input
recipe written independently in Python (tests/reference/seed_input.py); FrameSource on a stream URL (ffmpeg serving
on loopback) and Engine.count with zones."""
import json
import os
import socket
import subprocess
import time
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

    def clip(self):
        video = os.path.join(self.dir, "clip.avi")
        writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*"MJPG"), 10, (96, 64))
        for path in self.frames:
            writer.write(cv2.imread(path))
        writer.release()
        return video

    def test_video_gives_what_opencv_decodes(self):
        video = self.clip()
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

    def test_stream_url_gives_the_files_frames(self):
        video = self.clip()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"http://127.0.0.1:{port}/live.mkv"
        # ffmpeg serves the clip's MJPG frames unchanged (copied into Matroska) to one client on loopback.
        server = subprocess.Popen(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", video, "-c", "copy", "-f", "matroska",
                                   "-listen", "1", url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 5
            while time.time() < deadline and not subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True,
                                                                text=True).stdout.strip():
                time.sleep(0.05)
            source = crowdrt.FrameSource(url, live_drop="none", reconnect=0)
            self.assertTrue(source.live)
            got = list(source)
        finally:
            server.kill()
            server.wait(timeout=5)
        expected = list(crowdrt.FrameSource(video))
        self.assertEqual(len(got), len(expected))
        for e, g in zip(expected, got):
            np.testing.assert_array_equal(g, e)
        self.assertEqual((source.dropped, source.reconnects, source.after_gap), (0, 0, False))
        self.assertFalse(crowdrt.FrameSource(video).live)

    def test_unreachable_stream_url_is_an_error_naming_it(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # closed again: nothing listens there
        url = f"http://127.0.0.1:{port}/none.mkv"
        with self.assertRaisesRegex(crowdrt.Error, "127.0.0.1:%d.*check" % port):
            crowdrt.FrameSource(url)
        with self.assertRaisesRegex(crowdrt.Error, "live_drop"):
            crowdrt.FrameSource(url, live_drop="newest")

    def test_count_with_zones_splits_the_frames_count(self):
        zones = [{"name": "left", "polygon": [[0, 0], [0.3, 0], [0.7, 1], [0, 1]], "normalized": True, "limit": 3},
                 {"name": "right", "polygon": [[0.3, 0], [1, 0], [1, 1], [0.7, 1]], "normalized": True}]
        path = os.path.join(self.dir, "zones.json")
        with open(path, "w") as f:
            json.dump({"zones": zones}, f)
        self.assertEqual([z["name"] for z in crowdrt.read_zones(path)], ["left", "right"])
        plain, engine = crowdrt.Engine(self.plan5, flow="fast"), crowdrt.Engine(self.plan5, flow="fast")
        for i, frame in enumerate(self.frames):
            given = path if i % 2 else zones  # a zones file or the zones themselves
            got = engine.count(cv2.imread(frame), given)
            self.assertEqual(set(got["zones"]), {"left", "right"})
            self.assertEqual(got["count"], plain.count(cv2.imread(frame)))
            self.assertAlmostEqual(got["zones"]["left"] + got["zones"]["right"], got["count"], delta=1e-5)
        with self.assertRaisesRegex(crowdrt.Error, "bow"):
            engine.count(cv2.imread(self.frames[0]), [{"name": "bow", "polygon": [[0, 0], [1, 1], [1, 0], [0, 1]],
                                                       "normalized": True}])
        with self.assertRaisesRegex(crowdrt.Error, "unknown key 'colour'"):
            engine.count(cv2.imread(self.frames[0]), [dict(zones[0], colour="red")])
        with self.assertRaisesRegex(crowdrt.Error, "frames"):
            engine.count(np.zeros((1, 5, 32, 48), np.float32), zones)


if __name__ == "__main__":
    unittest.main()
