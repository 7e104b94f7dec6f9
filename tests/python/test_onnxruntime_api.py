"""crowdrt.Engine as an ONNX Runtime user expects it: run(output_names, {name: array}), get_inputs() /
get_outputs() with name, shape and type, a context manager that releases the plan, useful reprs, count() per
batch item, and messages in Python's spelling."""
import os
import unittest

import cv2
import numpy as np

from common import crowdrt, scratch, tiny_model, tiny_plan


class OnnxRuntimeApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = scratch()
        cls.onnx, cls.plan = tiny_plan(cls.dir)
        _, cls.plan2 = tiny_plan(cls.dir, batch=2)
        cls.x = np.random.RandomState(5).uniform(0, 1, (1, 5, 32, 32)).astype(np.float32)

    def test_get_inputs_and_outputs_name_shape_and_type(self):
        e = crowdrt.Engine(self.plan)
        [i], [o] = e.get_inputs(), e.get_outputs()
        self.assertIsInstance(i, crowdrt.NodeArg)
        self.assertEqual((i.name, i.shape, i.type), ("input", [1, 5, 32, 32], "tensor(float)"))
        self.assertEqual((o.name, o.shape, o.type), ("output", [1, 1, 32, 32], "tensor(float)"))
        self.assertEqual(repr(i), "NodeArg(name='input', type='tensor(float)', shape=[1, 5, 32, 32])")
        self.assertEqual(e.get_inputs(), [crowdrt.NodeArg("input", [1, 5, 32, 32])])
        self.assertNotEqual(e.get_outputs(), [crowdrt.NodeArg("output", [1, 1, 32, 32], "tensor(uint8)")])

    def test_run_returns_the_named_outputs_as_a_list(self):
        e = crowdrt.Engine(self.plan)
        expected = tiny_model.forward(self.x)
        for names in (None, ["output"]):
            ys = e.run(names, {"input": self.x})
            self.assertIsInstance(ys, list)
            self.assertEqual(len(ys), 1)
            self.assertEqual(ys[0].dtype, np.float32)
            np.testing.assert_allclose(ys[0], expected, rtol=1e-5, atol=1e-5)
        self.assertEqual(len(e.run(["output", "output"], {"input": self.x})), 2)

    def test_run_refuses_unknown_and_missing_names(self):
        e = crowdrt.Engine(self.plan)
        with self.assertRaisesRegex(crowdrt.Error, r"'image', which is not an input of the plan \(its inputs: 'input'\)"):
            e.run(None, {"image": self.x})
        with self.assertRaisesRegex(crowdrt.Error, r"input 'input' is missing from input_feed"):
            e.run(None, {})
        with self.assertRaisesRegex(crowdrt.Error, r"'density' is not an output of the plan \(its outputs: 'output'\)"):
            e.run(["density"], {"input": self.x})
        with self.assertRaisesRegex(crowdrt.Error, r"output_names must be a list of names or None"):
            e.run("output", {"input": self.x})

    def test_with_releases_the_plan(self):
        with crowdrt.Engine(self.plan) as e:
            self.assertIsInstance(e, crowdrt.Engine)
            self.assertTrue(e.loaded)
            e.infer(self.x)
        self.assertFalse(e.loaded)
        self.assertEqual(repr(e), "<crowdrt.Engine: closed>")
        with self.assertRaisesRegex(crowdrt.Error, r"closed .*load\(plan\) to use it again"):
            e.infer(self.x)
        e.load(self.plan)
        self.assertEqual(e.infer(self.x).shape, (1, 1, 32, 32))

    def test_with_lets_exceptions_through_and_still_closes(self):
        with self.assertRaises(KeyError):
            with crowdrt.Engine(self.plan) as e:
                raise KeyError("from the block")
        self.assertFalse(e.loaded)

    def test_close_while_other_threads_infer_raises_no_crash(self):
        import threading
        e = crowdrt.Engine(self.plan, threads=1)
        started, unexpected = threading.Barrier(3), []

        def work():
            started.wait()
            for _ in range(200):
                try:
                    e.infer(self.x)
                except crowdrt.Error:
                    pass  # closed under it: refused, never freed memory used
                except Exception as error:  # noqa: BLE001
                    unexpected.append(error)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        started.wait()
        e.close()
        for t in threads:
            t.join()
        self.assertEqual(unexpected, [])
        self.assertFalse(e.loaded)

    def test_reprs_say_what_is_inside(self):
        e = crowdrt.Engine(self.plan)
        self.assertEqual(repr(e), f"<crowdrt.Engine {self.plan!r} on cpu, fp32, inputs input 1x5x32x32, "
                                  f"outputs output 1x1x32x32>")
        self.assertEqual(repr(crowdrt.Engine()), "<crowdrt.Engine: no plan loaded>")
        self.assertEqual(repr(crowdrt.Preprocessor(width=48, height=32, channels=3, flow="fast")),
                         "<crowdrt.Preprocessor 48 wide, 32 high, 3 channels, flow 'fast', variant 'eval'>")
        image = os.path.join(self.dir, "one.png")
        cv2.imwrite(image, np.zeros((8, 8, 3), np.uint8))
        source = crowdrt.FrameSource(image)
        next(source)
        self.assertEqual(repr(source), f"<crowdrt.FrameSource {image!r} at frame 1>")

    def test_count_of_a_batch_is_one_count_per_item(self):
        e = crowdrt.Engine(self.plan2)
        x = np.random.RandomState(9).uniform(0, 1, (2, 5, 32, 32)).astype(np.float32)
        counts = e.count(x)
        self.assertIsInstance(counts, list)
        expected = tiny_model.forward(x).reshape(2, -1).sum(axis=1) / 100
        np.testing.assert_allclose(counts, expected, rtol=1e-5)
        self.assertNotAlmostEqual(counts[0], counts[1], places=3)
        self.assertIsInstance(crowdrt.Engine(self.plan).count(self.x), float)

    def test_errors_speak_python(self):
        with self.assertRaises(crowdrt.Error) as caught:
            crowdrt.build(self.onnx, self.plan)
        self.assertIn("pass overwrite=True", str(caught.exception))
        self.assertNotIn("overwrite = true", str(caught.exception))
        with self.assertRaises(crowdrt.Error) as caught:
            crowdrt.Engine(self.plan, threads=-1)
        self.assertNotIn("::", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
