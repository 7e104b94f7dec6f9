"""`crowdrt perf` means what trtexec means, on a small plan:
- the trtexec-style statistics on stdout, a --json summary whose median_ms is consistent with min/max, with stdev
  and coefficient of variation (a warning on stderr exactly when it is above 10%) and the real thread count;
- --exportTimes writes one record per timed iteration (trtexec's fields: startMs, endMs, latencyMs, ...),
  --exportProfile the layers ([{count}, {name, timeMs, averageMs, percentage}, ...] as trtexec);
- --warmUp is milliseconds and --duration seconds, both honoured (seen in iteration counts, never in timings),
  --iterations a minimum; --json - writes the JSON alone on stdout (no file named '-');
- --loadInputs NAME:FILE.npy reads the input (a wrong name: usage error; a wrong shape: error naming the file);
- bad values (0 or negative iterations / durations, words) are usage errors: exit 2, one line naming the value.
Runs are kept short with small --duration / --warmUp.
usage: /usr/bin/python3 tests/e2e/perf_json.py CROWDRT MODELS_DIR CASE WORK_DIR"""
import json
import math
import os
import re
import sys

import numpy as np
import onnx

from common import TestFailure, expect_error, expect_ok, fresh_dir, main_guard

SHORT = ["--duration", "0.05", "--warmUp", "10"]  # seconds, milliseconds


def load_json(path, r):
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError) as e:
        raise TestFailure(f"{path}: not readable JSON ({e})\n{r.describe()}")


def check(condition, message, r):
    if not condition:
        raise TestFailure(f"{message}\n{r.describe()}")


def statistics_and_exports(crowdrt, plan, work):
    js, times_js, profile_js = (os.path.join(work, n) for n in ("perf.json", "times.json", "profile.json"))
    r = expect_ok([crowdrt, "perf", "--plan", plan, "--iterations", 10, *SHORT, "--threads", 1, "--json", js,
                   "--exportTimes", times_js, "--exportProfile", profile_js])
    for word in ("min", "mean", "median", "p90", "p95", "p99", "max", "stdev", "throughput"):
        check(re.search(rf"\b{word}\b", r.out, re.IGNORECASE), f"perf output does not report {word}", r)
    stats = load_json(js, r)
    med = stats.get("median_ms")
    check(isinstance(med, (int, float)) and not isinstance(med, bool) and med > 0,
          f"{js}: median_ms is {med!r}, expected a positive number: {stats}", r)
    lo, hi = stats.get("min_ms"), stats.get("max_ms")
    check(lo <= med <= hi, f"{js}: min_ms {lo} <= median_ms {med} <= max_ms {hi} does not hold", r)
    check(stats.get("threads") == 1, f"{js}: threads is {stats.get('threads')!r}, expected 1", r)

    times = load_json(times_js, r)
    check(isinstance(times, list) and all(isinstance(t, dict) for t in times),
          f"{times_js}: expected a list of per-iteration records, got {str(times)[:300]}", r)
    check(len(times) == stats.get("iterations") and len(times) >= 10,
          f"{times_js}: {len(times)} records, the summary says {stats.get('iterations')} iterations (at least 10)", r)
    for a, b in zip(times, times[1:]):
        check(a["startMs"] <= a["endMs"] <= b["startMs"], f"{times_js}: records overlap: {a} {b}", r)
    latency = np.array([t["latencyMs"] for t in times])
    check(np.allclose(latency, [t["endMs"] - t["startMs"] for t in times], atol=1e-6),
          f"{times_js}: latencyMs is not endMs - startMs", r)
    check(all({"h2dMs", "computeMs", "d2hMs", "endToEndMs"} <= set(t) for t in times),
          f"{times_js}: records lack trtexec's h2dMs / computeMs / d2hMs / endToEndMs: {times[0]}", r)
    check(math.isclose(stats["min_ms"], latency.min(), rel_tol=1e-9) and
          math.isclose(stats["max_ms"], latency.max(), rel_tol=1e-9),
          f"{js}: min/max differ from the per-iteration records", r)
    check(math.isclose(stats["stdev_ms"], latency.std(), rel_tol=1e-6, abs_tol=1e-9),
          f"{js}: stdev_ms {stats.get('stdev_ms')} is not the records' {latency.std()}", r)
    cv = 100 * latency.std() / latency.mean()
    check(math.isclose(stats["cv_percent"], cv, rel_tol=1e-6, abs_tol=1e-9),
          f"{js}: cv_percent {stats.get('cv_percent')} is not the records' {cv}", r)
    warned = "coefficient of variation" in r.err
    check(warned == (cv > 10), f"CV {cv:.1f}%: a warning on stderr expected {'' if cv > 10 else 'not '}", r)

    profile = load_json(profile_js, r)
    check(isinstance(profile, list) and len(profile) > 1 and profile[0].get("count", 0) > 0 and
          all("name" in p and p["averageMs"] >= 0 and "percentage" in p for p in profile[1:]),
          f"{profile_js}: expected trtexec's [{{count}}, per-layer records]: {str(profile)[:300]}", r)
    print(f"  median {med:.3f} ms, {len(times)} iterations, CV {cv:.1f}%")


def json_on_stdout(crowdrt, plan, work):
    os.chdir(work)
    r = expect_ok([crowdrt, "perf", "--plan", plan, "--iterations", 3, *SHORT, "--threads", 0, "--json", "-"])
    check(not os.path.exists(os.path.join(work, "-")), "--json - wrote a file named '-'", r)
    try:
        stats = json.loads(r.out)
    except ValueError as e:
        raise TestFailure(f"--json -: stdout is not the JSON alone ({e})\n{r.describe()}")
    check("median" in r.err, "--json -: the report should move to stderr", r)
    cores = len(os.sched_getaffinity(0))
    check(stats.get("threads") == cores, f"--threads 0: JSON threads {stats.get('threads')!r}, expected {cores}", r)


def duration_and_warmup(crowdrt, plan, work):
    js = os.path.join(work, "d.json")
    # One iteration asked for, but at least 0.3 s: timed runs go on until one ends past 0.3 s, and no longer.
    r = expect_ok([crowdrt, "perf", "--plan", plan, "--iterations", 1, "--duration", "0.3", "--warmUp", 0,
                   "--threads", 1, "--json", js, "--exportTimes", os.path.join(work, "d_times.json"), "--overwrite"])
    stats, times = load_json(js, r), load_json(os.path.join(work, "d_times.json"), r)
    check(stats["iterations"] == len(times), f"{js} says {stats['iterations']} iterations, {len(times)} records", r)
    check(times[-1]["endMs"] >= 300, f"the last iteration ended at {times[-1]['endMs']} ms, before 0.3 s", r)
    check(len(times) == 1 or times[-2]["endMs"] < 300,
          f"iterations went on after 0.3 s: {[t['endMs'] for t in times[-3:]]}", r)
    check(stats["warmup_iterations"] == 0, f"--warmUp 0 ran {stats['warmup_iterations']} warm-up iterations", r)
    # A tiny duration: the iteration minimum rules.
    r = expect_ok([crowdrt, "perf", "--plan", plan, "--iterations", 12, "--duration", "0.000001", "--warmup", 20,
                   "--threads", 1, "--json", js, "--overwrite"])
    stats = load_json(js, r)
    check(stats["iterations"] == 12, f"--iterations 12 --duration 0.000001 ran {stats['iterations']}", r)
    check(stats["warmup_iterations"] >= 1, f"--warmup 20 (ms) ran {stats['warmup_iterations']} warm-up iterations", r)
    check(stats["warmup_ms"] == 20 and stats["min_iterations"] == 12, f"{js}: the options are not reported", r)


def load_inputs(crowdrt, plan, onnx_path, work):
    model = onnx.load(onnx_path)
    first = model.graph.input[0]
    shape = [d.dim_value for d in first.type.tensor_type.shape.dim]
    x = os.path.join(work, "x.npy")
    np.save(x, np.random.RandomState(0).uniform(0, 1, shape).astype(np.float32))
    expect_ok([crowdrt, "perf", "--plan", plan, "--iterations", 2, *SHORT, "--threads", 1,
               "--loadInputs", f"{first.name}:{x}"])
    expect_error([crowdrt, "perf", "--plan", plan, *SHORT, "--loadInputs", f"no_such_input:{x}"], codes=(2,),
                 mentions=["no_such_input"])
    wrong = os.path.join(work, "wrong.npy")
    np.save(wrong, np.zeros([1, 1, 2, 2], np.float32))
    expect_error([crowdrt, "perf", "--plan", plan, *SHORT, "--loadInputs", f"{first.name}:{wrong}"], codes=(1,),
                 mentions=["wrong.npy"])


def bad_values(crowdrt, plan, work):
    for flag, value in (("--iterations", "0"), ("--iterations", "-3"), ("--iterations", "2.5"), ("--duration", "0"),
                        ("--duration", "-1"), ("--warmUp", "-5"), ("--warmup", "ten"), ("--threads", "-2")):
        out = os.path.join(work, "bad.json")
        r = expect_error([crowdrt, "perf", "--plan", plan, flag, value, "--json", out], codes=(2,),
                         mentions=[value], absent=[out], watch=[work])
        check(not re.search(r"\d{20}", r.err), "the message prints a huge number", r)


def test(crowdrt, models, case, work):
    crowdrt, models, work = os.path.abspath(crowdrt), os.path.abspath(models), fresh_dir(os.path.abspath(work))
    onnx_path, plan = os.path.join(models, case, "model.onnx"), os.path.join(work, "model.plan")
    expect_ok([crowdrt, "build", "--onnx", onnx_path, "-o", plan])
    statistics_and_exports(crowdrt, plan, work)
    json_on_stdout(crowdrt, plan, work)
    duration_and_warmup(crowdrt, plan, work)
    load_inputs(crowdrt, plan, onnx_path, work)
    bad_values(crowdrt, plan, work)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main_guard(lambda: test(*sys.argv[1:]))
