"""Determinism as the README states it ("Determinism"), bf16 (where the CPU has it; fp32 fallback otherwise) and
int8 CPU plans of the demo model: one plan at one thread count gives bit-identical outputs across calls, Engine
instances, engines running concurrently and threads sharing an engine. (fp32 and the reference backend:
test_determinism.py.)"""
import os
import unittest

from common import synth_frames
from determinism_case import DemoPlans


class ReducedPrecisionDeterminismTest(DemoPlans):
    def test_bf16_cpu_is_bit_identical_at_one_thread_count(self):
        plan = self.plan("bf16")  # without AVX-512 BF16 its layers fall back to fp32 (still checked)
        self.assert_bit_identical(plan, threads=2)

    def test_int8_cpu_is_bit_identical_at_one_thread_count(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(synth_frames(self.dir, frames=2, size="64x32")[0])))
        os.remove(os.path.join(root, "trainlist.txt"))  # its one sequence is a test sequence: calibrate on all
        plan = self.plan("int8", "cpu", "--calib-data", root, "--flow", "ultrafast", "--calib-max", "2")
        self.assert_bit_identical(plan, threads=2)


if __name__ == "__main__":
    unittest.main()
