"""Determinism as the README states it ("Determinism"), fp32: one plan at one thread count gives bit-identical
outputs across calls, Engine instances, engines running concurrently, threads sharing an engine and separate
processes, for the demo model's CPU plan and the reference backend; between thread counts, fp32 CPU plans stay
within 1e-5 of the largest output and the reference backend is bit-identical. (bf16 and int8:
test_determinism_reduced_precision.py.)"""
import unittest

import numpy as np

from determinism_case import DemoPlans, crowdrt


class DeterminismTest(DemoPlans):
    def test_fp32_cpu_is_bit_identical_at_one_thread_count_and_bounded_across(self):
        plan = self.plan("fp32")
        at_two = self.assert_bit_identical(plan, threads=2, another_process=True)
        # another thread count may split a convolution's reduction otherwise (oneDNN): last bits only
        for threads in (1, 16):
            y = crowdrt.Engine(plan, threads=threads).infer(self.x)
            self.assertLessEqual(float(np.abs(y - at_two).max()), 1e-5 * float(np.abs(at_two).max()), threads)

    def test_reference_backend_is_bit_identical_whatever_the_thread_count(self):
        plan = self.plan("fp32", "ref")
        expected = self.assert_bit_identical(plan, threads=1, rounds=1)  # its plain loops take a while
        self.assertTrue(np.array_equal(crowdrt.Engine(plan, threads=16).infer(self.x), expected))


if __name__ == "__main__":
    unittest.main()
