"""Progress and logging (issue 16, item 2): progress lines ("N of M frames, m:ss elapsed") only on a terminal;
-q / --log-level warn hide information and progress, never warnings; -v / --log-level verbose and -q are accepted
before or after the subcommand.
usage: /usr/bin/python3 tests/e2e/progress_log.py CROWDRT WORK_DIR"""
import os
import sys

from common import TestFailure, expect_ok, fresh_dir, main_guard
from terminal import line_of, run_on_tty


def synth(crowdrt, out, *extra):
    return [crowdrt, *extra, "synth", "--out", out, "--sequences", "2", "--frames", "3", "--size", "64x48",
            "--overwrite"]


def test(crowdrt, work):
    work = fresh_dir(work)
    out = os.path.join(work, "synth")
    code, text = run_on_tty(synth(crowdrt, out))
    if code != 0 or "synth: 6 of 6 frames" not in text or "elapsed" not in text:
        raise TestFailure(f"no progress line on a terminal (exit {code}):\n{text!r}")
    summary = "synth: 2 sequences of 3 frames"
    if summary not in text or "\r" in line_of(text, summary):
        raise TestFailure(f"the summary is not on a line of its own:\n{text!r}")
    r = expect_ok(synth(crowdrt, out))
    if "elapsed" in r.err or "\r" in r.err or summary not in r.err:
        raise TestFailure(f"progress written to a pipe, or no summary\n{r.describe()}")
    for quiet in (["-q"], ["--log-level", "warn"], ["--quiet"]):
        r = expect_ok(synth(crowdrt, out, *quiet))
        if r.err.strip():
            raise TestFailure(f"{quiet} still writes information\n{r.describe()}")
        code, text = run_on_tty(synth(crowdrt, out, *quiet))
        if code != 0 or "elapsed" in text:
            raise TestFailure(f"{quiet} still draws progress on a terminal:\n{text!r}")
    r = expect_ok(synth(crowdrt, out)[:-1] + ["--overwrite", "-q"])  # after the subcommand too
    if r.err.strip():
        raise TestFailure(f"-q after the subcommand still writes information\n{r.describe()}")
    expect_ok(synth(crowdrt, out, "-v"))
    expect_ok(synth(crowdrt, out, "--log-level", "verbose"))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main_guard(lambda: test(*sys.argv[1:]))
