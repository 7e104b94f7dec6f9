"""Usage errors of the crowdrt program (issue 16, item 4): every bad word or value given on the command line exits
with code 2 and one line on stderr that names the offending word or value, mentions only flags that exist, and
writes nothing. Values are checked while parsing, so no model, plan or dataset is needed (the paths given do not
exist: a check that ran after reading them would fail with another message).
usage: /usr/bin/python3 tests/e2e/usage_errors.py CROWDRT WORK_DIR"""
import os
import re
import sys

from common import TestFailure, expect_error, expect_ok, fresh_dir, main_guard


def cases(work):
    nowhere = os.path.join(work, "does_not_exist")
    onnx, plan, data, out = nowhere + ".onnx", nowhere + ".plan", nowhere + "_data", os.path.join(work, "out")
    build = ["build", "--onnx", onnx, "-o", os.path.join(out, "m.plan")]
    eval_ = ["eval", "--plan", plan, "--data", data]
    run = ["run", "--plan", plan, "--input", nowhere + ".avi", "--out", out]
    prep = ["preprocess", "--sequence", nowhere, "--out", out]
    bench = ["bench", "--model", onnx, "--data", data, "--out", out]
    demo = ["demo", "--out", out, "--checkpoint", nowhere + ".pth"]
    export = ["export", "--checkpoint", nowhere + ".pth", "-o", os.path.join(out, "m.onnx")]
    # (arguments, words the one-line error must contain)
    return [
        (["bogus"], ["'bogus'", "export"]),
        (["--log-level", "loud", "inspect", onnx], ["loud"]),
        (build + ["--precision", "int4"], ["--precision", "int4", "fp32"]),
        (build + ["--device", "gpu"], ["--device", "gpu", "cuda"]),
        (build + ["--calibrator", "max"], ["--calibrator", "max"]),
        (build + ["--flow", "slow"], ["--flow", "slow"]),
        (build + ["--input-shape", "input:1x3xAx64"], ["input:1x3xAx64"]),
        (build + ["--threads", "-1"], ["--threads", "-1"]),
        # issue 18: 65536 threads died of SIGSEGV in libgomp (32768 to 60000 gave its own message)
        (build + ["--threads", "65536"], ["--threads", "65536", "4096"]),
        (eval_ + ["--threads", "32768"], ["--threads", "32768", "4096"]),
        (["perf", "--plan", plan, "--threads", "4097"], ["--threads", "4097", "4096"]),
        (["perf", "--plan", plan, "--iterations", "100000000"], ["--iterations", "100000000", "at most 10000000"]),
        (["perf", "--plan", plan, "--duration", "1e300"], ["--duration", "1e300", "at most 86400"]),
        (build + ["--count-budget", "-0.5"], ["--count-budget", "-0.5"]),
        (eval_ + ["--flow", "slow"], ["--flow", "slow", "medium"]),
        (eval_ + ["--flow-device", "gpu"], ["--flow-device", "gpu"]),
        (eval_ + ["--split", "nosuch"], ["--split", "nosuch"]),
        (eval_ + ["--dataset", "nosuch"], ["nosuch"]),
        (eval_ + ["--workers", "-2"], ["--workers", "-2"]),
        (["infer", "--plan", plan, "--input", nowhere + ".npy", "--output", os.path.join(out, "y.npy"), "--threads",
          "many"], ["--threads", "many"]),
        (["infer", "--plan", plan, "--input", nowhere + ".npy", "--output", os.path.join(out, "y.npy"), "--threads",
          "65536"], ["--threads", "65536", "4096"]),
        (run + ["--flow", "slow"], ["--flow", "slow"]),
        (run + ["--http", "host:"], ["--http", "host:", "HOST:PORT"]),
        (run + ["--http", "99999"], ["--http", "99999", "65535"]),
        (run + ["--live-drop", "newest"], ["--live-drop", "newest"]),
        (run + ["--max-frames", "0"], ["--max-frames", "0"]),
        (run + ["--duration", "-1"], ["--duration", "-1"]),
        (run + ["--reconnect", "-1"], ["--reconnect", "-1"]),
        (["synth", "--out", out, "--size", "640by360"], ["--size", "640by360", "WIDTHxHEIGHT"]),
        (prep + ["--size", "640by360"], ["--size", "640by360"]),
        (prep + ["--flow", "slow"], ["--flow", "slow"]),
        (prep + ["--mode", "train"], ["--mode", "train"]),
        (["calib-data", "--sequences", nowhere, "--out", out, "--flow", "slow"], ["--flow", "slow"]),
        (["calib-data", "--sequences", nowhere, "--out", out, "--every", "0"], ["--every", "0"]),
        (bench + ["--precisions", "fp32,int4"], ["--precisions", "int4"]),
        (bench + ["--flows", "fast,slow"], ["--flows", "slow"]),
        (bench + ["--size", "608"], ["--size", "608"]),
        (bench + ["--device", "gpu"], ["--device", "gpu"]),
        (bench + ["--calibrator", "max"], ["--calibrator", "max"]),
        (bench + ["--calib-max", "-5"], ["--calib-max", "-5"]),
        (demo + ["--size", "640by360"], ["--size", "640by360"]),
        (demo + ["--precisions", "fp8"], ["--precisions", "fp8"]),
        (demo + ["--device", "gpu"], ["--device", "gpu"]),
        (export + ["--input-size", "64by64"], ["--input-size", "64by64"]),
        (export + ["--input-size", "100x64"], ["--input-size", "100x64", "100 wide, 64 high", "128x64"]),
        (export + ["--input-size", "64", "--arch", "resnet"], ["--arch", "resnet"]),
        (export + ["--input-size", "64", "--encoder", "vgg16"], ["--encoder", "vgg16"]),
        (export + ["--input-size", "64", "--in-channels", "three"], ["--in-channels", "three"]),
    ]


HELP = {}


def existing_flags(crowdrt, subcommand):
    """Every --flag shown by the subcommand's --help and the program's own --help."""
    for key in ("", subcommand or ""):
        if key not in HELP:
            HELP[key] = expect_ok([crowdrt, key, "--help"] if key else [crowdrt, "--help"]).out
    return set(re.findall(r"--[A-Za-z][A-Za-z0-9_-]*", HELP[""] + HELP[subcommand or ""]))


def test(crowdrt, work):
    work = fresh_dir(work)
    out = os.path.join(work, "out")
    os.makedirs(out)
    subcommands = {"build", "infer", "eval", "run", "preprocess", "synth", "calib-data", "bench", "demo", "export", "inspect", "perf"}
    for args, mentions in cases(work):
        r = expect_error([crowdrt] + args, codes=(2,), mentions=mentions, watch=[out])
        if "not available in this build" in r.err:
            raise TestFailure(f"a misspelt value is reported as a missing feature\n{r.describe()}")
        if re.search(r"\d{20}", r.err):
            raise TestFailure(f"the error prints a number of 20 digits or more\n{r.describe()}")
        sub = next((a for a in args if a in subcommands), None)
        known = existing_flags(crowdrt, sub)
        unknown = [f for f in re.findall(r"--[A-Za-z][A-Za-z0-9_-]*", r.err) if f not in known]
        if unknown:
            raise TestFailure(f"the error mentions flags that do not exist: {unknown}\n{r.describe()}")
    # the global options are accepted before and after the subcommand (positive control for --log-level above)
    expect_ok([crowdrt, "--log-level", "warn", "synth", "--out", os.path.join(work, "synth_a"), "--sequences", "1",
               "--frames", "1", "--size", "64x48"])
    expect_ok([crowdrt, "synth", "--out", os.path.join(work, "synth_b"), "--sequences", "1", "--frames", "1",
               "--size", "64x48", "-q"])


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main_guard(lambda: test(*sys.argv[1:]))
