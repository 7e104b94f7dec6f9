"""`crowdrt --help`, `crowdrt --version` and each subcommand's `--help` exit 0 and say what the options are.
usage: /usr/bin/python3 tests/e2e/help.py CROWDRT"""
import sys

from common import TestFailure, expect_ok, main_guard

# subcommand → options its help must show (the spec the CLI was written to)
SUBCOMMANDS = {
    "build": ["--onnx", "--precision", "--device", "--threads", "-o", "--overwrite"],
    "infer": ["--plan", "--input", "--output", "--threads", "--overwrite"],
    "perf": ["--plan", "--iterations", "--warmup", "--threads", "--json"],
    "inspect": [],
}


def test(crowdrt):
    r = expect_ok([crowdrt, "--help"])
    for sub in SUBCOMMANDS:
        if sub not in r.out:
            raise TestFailure(f"`crowdrt --help` does not list the subcommand {sub}\n{r.describe()}")
    for sub, opts in SUBCOMMANDS.items():
        r = expect_ok([crowdrt, sub, "--help"])
        if not r.out.strip():
            raise TestFailure(f"`crowdrt {sub} --help` printed nothing on stdout\n{r.describe()}")
        missing = [o for o in opts if o not in r.out]
        if missing:
            raise TestFailure(f"`crowdrt {sub} --help` does not mention {missing}\n{r.describe()}")
    r = expect_ok([crowdrt, "--version"])
    if "crowdrt" not in r.out:
        raise TestFailure(f"`crowdrt --version` does not name the program\n{r.describe()}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main_guard(lambda: test(sys.argv[1]))
