"""`crowdrt perf --json` on a small plan: exit 0, the trtexec-style statistics on stdout, and a JSON file
whose median_ms is a positive number consistent with min/max.
usage: /usr/bin/python3 tests/e2e/perf_json.py CROWDRT MODELS_DIR CASE WORK_DIR"""
import json
import os
import re
import sys

from common import TestFailure, expect_ok, fresh_dir, main_guard


def test(crowdrt, models, case, work):
    work = fresh_dir(work)
    plan, js = os.path.join(work, "model.plan"), os.path.join(work, "perf.json")
    expect_ok([crowdrt, "build", "--onnx", os.path.join(models, case, "model.onnx"), "-o", plan])
    r = expect_ok([crowdrt, "perf", "--plan", plan, "--iterations", 10, "--warmup", 2, "--threads", 2, "--json", js])
    for word in ("min", "mean", "median", "p90", "p95", "p99", "max", "throughput"):
        if not re.search(rf"\b{word}\b", r.out, re.IGNORECASE):
            raise TestFailure(f"perf output does not report {word}\n{r.describe()}")
    try:
        with open(js) as fh:
            stats = json.load(fh)
    except (OSError, ValueError) as e:
        raise TestFailure(f"{js}: not readable JSON ({e})\n{r.describe()}")
    med = stats.get("median_ms")
    if not isinstance(med, (int, float)) or isinstance(med, bool) or not med > 0:
        raise TestFailure(f"{js}: median_ms is {med!r}, expected a positive number: {stats}")
    lo, hi = stats.get("min_ms"), stats.get("max_ms")
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and not lo <= med <= hi:
        raise TestFailure(f"{js}: min_ms {lo} <= median_ms {med} <= max_ms {hi} does not hold")
    print(f"  median {med:.3f} ms")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main_guard(lambda: test(*sys.argv[1:]))
