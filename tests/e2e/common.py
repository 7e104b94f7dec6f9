"""Helpers shared by the end-to-end tests: run the crowdrt program and check how it ends.
Every failure raises TestFailure with a message that says what was run and what came back."""
import os
import shutil
import subprocess
import sys

CRASH_MARKERS = ("Sanitizer", "terminate called", "Segmentation fault", "Aborted", "core dumped",
                 "std::bad_alloc", "runtime error:")
TIMEOUT_S = 600


class TestFailure(Exception):
    pass


class Result:
    def __init__(self, args, code, out, err):
        self.args, self.code, self.out, self.err = args, code, out, err

    def describe(self):
        def clip(s):
            return s if len(s) < 4000 else s[:2000] + "\n...\n" + s[-2000:]
        return (f"command: {' '.join(self.args)}\nexit code: {self.code}\n--- stdout ---\n{clip(self.out)}"
                f"--- stderr ---\n{clip(self.err)}")


def run(args, timeout=TIMEOUT_S):
    args = [str(a) for a in args]
    print("$ " + " ".join(args), flush=True)
    try:
        p = subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TestFailure(f"timed out after {timeout} s: {' '.join(args)}")
    return Result(args, p.returncode, p.stdout, p.stderr)


def check_no_crash(r):
    if r.code < 0 or r.code >= 128:
        raise TestFailure(f"crashed (signal or exit code {r.code})\n{r.describe()}")
    text = r.out + r.err
    for m in CRASH_MARKERS:
        if m in text:
            raise TestFailure(f"output contains {m!r}\n{r.describe()}")


def expect_ok(args, timeout=TIMEOUT_S):
    r = run(args, timeout)
    check_no_crash(r)
    if r.code != 0:
        raise TestFailure(f"expected exit code 0\n{r.describe()}")
    return r


def dir_state(paths):
    """File name → bytes for every file in the folders given (not recursive), and the files given."""
    state = {}
    for p in paths:
        if os.path.isdir(p):
            for name in sorted(os.listdir(p)):
                f = os.path.join(p, name)
                if os.path.isfile(f):
                    with open(f, "rb") as fh:
                        state[f] = fh.read()
                else:
                    state[f] = "<dir>"
        elif os.path.exists(p):
            with open(p, "rb") as fh:
                state[p] = fh.read()
    return state


def expect_error(args, *, codes=(1,), absent=(), watch=(), mentions=None, timeout=TIMEOUT_S):
    """The command must fail cleanly: exit code in `codes`, no crash, exactly one non-empty line on stderr
    (mentioning each string in `mentions`, case-insensitive), none of the paths in `absent` created, and no file
    in the folders/files of `watch` created, changed or removed."""
    before = dir_state(watch)
    r = run(args, timeout)
    print(f"  -> exit {r.code}, stderr: {r.err.strip()!r}", flush=True)
    check_no_crash(r)
    if r.code == 0:
        raise TestFailure(f"expected failure, got exit code 0\n{r.describe()}")
    if r.code not in codes:
        raise TestFailure(f"expected exit code in {list(codes)}, got {r.code}\n{r.describe()}")
    err = r.err.strip("\n")
    if not err.strip():
        raise TestFailure(f"expected a one-line error on stderr, got nothing\n{r.describe()}")
    if "\n" in err:
        raise TestFailure(f"expected a one-line error on stderr, got {len(err.splitlines())} lines\n{r.describe()}")
    for m in mentions or ():
        if m.lower() not in err.lower():
            raise TestFailure(f"expected the error to mention {m!r}\n{r.describe()}")
    for p in absent:
        if os.path.exists(p):
            raise TestFailure(f"{p} was written although the command failed\n{r.describe()}")
    after = dir_state(watch)
    if before != after:
        created = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
        raise TestFailure(f"files touched by a failed command: created {created}, removed {removed}, "
                          f"changed {changed}\n{r.describe()}")
    return r


def fresh_dir(path):
    """The test's own scratch folder under the build tree, emptied."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def main_guard(fn):
    """Runs fn(); prints PASS or the failure and exits 0 / 1."""
    try:
        fn()
    except TestFailure as e:
        print(f"FAIL: {e}", flush=True)
        sys.exit(1)
    print("PASS", flush=True)
    sys.exit(0)
