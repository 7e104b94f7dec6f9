"""crowdrt.Engine and crowdrt.build from Python: results against a NumPy forward pass and the crowdrt
program, NumPy arrays in and out without copies, counts."""
import os
import subprocess
import unittest

import numpy as np

from common import CROWDRT_BIN, crowdrt, scratch, tiny_model, tiny_plan


class EngineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = scratch()
        cls.onnx, cls.plan = tiny_plan(cls.dir)
        cls.x = np.random.RandomState(3).uniform(0, 1, (1, 5, 32, 32)).astype(np.float32)

    def test_build_reports_the_plan_it_wrote(self):
        plan = os.path.join(self.dir, "again.plan")
        summary = crowdrt.build(self.onnx, plan, precision="fp32", device="cpu")
        self.assertEqual(summary["plan"], plan)
        self.assertEqual(summary["device"], "cpu")
        self.assertEqual(summary["precision"], "fp32")
        self.assertEqual(summary["macs"], 32 * 32 * (4 * 5 * 9 + 4))
        self.assertTrue(os.path.getsize(plan) > 0)

    def test_names_shapes_device_and_precision(self):
        e = crowdrt.Engine(self.plan)
        self.assertTrue(e.loaded)
        self.assertEqual(e.inputs, [("input", (1, 5, 32, 32))])
        self.assertEqual(e.outputs, [("output", (1, 1, 32, 32))])
        self.assertEqual(e.device, "cpu")
        self.assertEqual(e.precision, "fp32")

    def test_infer_matches_the_numpy_forward_pass(self):
        for device in ("cpu", "ref"):
            _, plan = tiny_plan(self.dir, device=device)
            y = crowdrt.Engine(plan, threads=1).infer(self.x)
            self.assertEqual(y.dtype, np.float32)
            self.assertEqual(y.shape, (1, 1, 32, 32))
            np.testing.assert_allclose(y, tiny_model.forward(self.x), rtol=1e-5, atol=1e-5, err_msg=device)

    def test_infer_matches_the_crowdrt_program(self):
        x_path, y_path = os.path.join(self.dir, "x.npy"), os.path.join(self.dir, "y_cli.npy")
        np.save(x_path, self.x)
        subprocess.run([CROWDRT_BIN, "infer", "--plan", self.plan, "--input", x_path, "--output", y_path,
                        "--threads", "1", "--overwrite"], check=True, stdout=subprocess.DEVNULL)
        y = crowdrt.Engine(self.plan, threads=1).infer(self.x)
        np.testing.assert_array_equal(y, np.load(y_path))

    def test_out_is_written_in_place(self):
        e = crowdrt.Engine(self.plan)
        out = np.full((1, 1, 32, 32), -1, np.float32)
        y = e.infer(self.x, out=out)
        self.assertIs(y, out)
        np.testing.assert_allclose(out, tiny_model.forward(self.x), rtol=1e-5, atol=1e-5)

    def test_strided_and_fortran_inputs_give_the_same_result(self):
        e = crowdrt.Engine(self.plan)
        expected = e.infer(self.x)
        wide = np.zeros((1, 5, 32, 64), np.float32)
        wide[..., ::2] = self.x
        np.testing.assert_array_equal(e.infer(wide[..., ::2]), expected)
        np.testing.assert_array_equal(e.infer(np.asfortranarray(self.x)), expected)

    def test_lists_in_give_lists_out(self):
        e = crowdrt.Engine(self.plan)
        ys = e.infer([self.x])
        self.assertIsInstance(ys, list)
        np.testing.assert_array_equal(ys[0], e.infer(self.x))

    def test_count_is_the_density_sum_over_100(self):
        e = crowdrt.Engine(self.plan)
        expected = tiny_model.forward(self.x).sum() / 100
        self.assertAlmostEqual(e.count(self.x), expected, places=4)

    def test_threads_sharing_an_engine_get_their_own_results(self):
        import threading
        e = crowdrt.Engine(self.plan, threads=1)
        xs = [np.random.RandomState(i).uniform(0, 1, (1, 5, 32, 32)).astype(np.float32) for i in range(4)]
        expected = [e.infer(x) for x in xs]
        wrong = []

        def work(i):
            for _ in range(20):
                if not np.array_equal(e.infer(xs[i]), expected[i]):
                    wrong.append(i)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(wrong, [])

    def test_paths_may_be_path_objects(self):
        import pathlib
        e = crowdrt.Engine(pathlib.Path(self.plan))
        self.assertTrue(e.loaded)

    def test_version(self):
        self.assertRegex(crowdrt.__version__, r"^\d+\.\d+\.\d+$")


if __name__ == "__main__":
    unittest.main()
