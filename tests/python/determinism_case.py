"""What the determinism tests share (test_determinism.py, test_determinism_reduced_precision.py): the demo model
exported small, its plans built untimed, and the check that one plan at one thread count gives bit-identical
outputs across calls, Engine instances, engines running concurrently, threads sharing an engine and, where asked,
another process."""
import os
import subprocess
import threading
import unittest

import numpy as np

from common import CROWDRT_BIN, crowdrt, scratch

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "..", "models", "demo", "demo_unet_mobilenet_v2.pth")


class DemoPlans(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = scratch()
        cls.onnx = os.path.join(cls.dir, "demo.onnx")
        subprocess.run([CROWDRT_BIN, "export", DEMO, "--input-size", "64x32", "-o", cls.onnx], check=True,
                       stdout=subprocess.DEVNULL)
        cls.x = np.random.RandomState(5).uniform(0, 1, (1, 5, 32, 64)).astype(np.float32)

    def plan(self, precision, device="cpu", *options):
        """Built by the program, untimed (any valid plan serves; timing kernels would take most of the test)."""
        path = os.path.join(self.dir, f"demo_{precision}_{device}.plan")
        subprocess.run([CROWDRT_BIN, "build", "--onnx", self.onnx, "-o", path, "--precision", precision, "--device",
                        device, "--no-tactic-timing", "--threads", "2", *options], check=True, stdout=subprocess.DEVNULL)
        return path

    def assert_bit_identical(self, plan, threads, rounds=3, another_process=False):
        first, second = crowdrt.Engine(plan, threads=threads), crowdrt.Engine(plan, threads=threads)
        expected = first.infer(self.x).copy()
        self.assertTrue(np.array_equal(first.infer(self.x), expected), "the same engine, called again")
        self.assertTrue(np.array_equal(second.infer(self.x), expected), "a second engine")
        differ = []

        def work(engine):
            for _ in range(rounds):
                if not np.array_equal(engine.infer(self.x), expected):
                    differ.append(engine)

        workers = [threading.Thread(target=work, args=(e,)) for e in (first, second, first)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        self.assertEqual(differ, [], "engines running concurrently, and threads sharing one")
        if another_process:
            x_path, y_path = os.path.join(self.dir, "x.npy"), os.path.join(self.dir, "y.npy")
            np.save(x_path, self.x)
            subprocess.run([CROWDRT_BIN, "infer", "--plan", plan, "--input", x_path, "--output", y_path, "--overwrite",
                            "--threads", str(threads)], check=True, stdout=subprocess.DEVNULL)
            self.assertTrue(np.array_equal(np.load(y_path), expected), "another process (crowdrt infer)")
        return expected
