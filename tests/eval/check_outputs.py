"""Outputs are whole or absent, and interrupts stop (issue 18), for every crowdrt command that writes files.

  full_disk   each command writes onto a small tmpfs that fills up mid-way (mounted in a user and mount namespace,
              `unshare -rm`; where that is refused, a file-size limit as in size_limit, and the test says so)
  size_limit  the same under a file-size limit (RLIMIT_FSIZE, `ulimit -f`: the write fails with EFBIG)
              In both: exit 1, one error line naming the file, and nothing under a final name, no temporary left,
              nothing created (calib-data keeps its complete files, byte for byte those of a full run: --resume)
  interrupt_build   SIGINT / SIGTERM during build's kernel timing (after calibration), export and the Python-free
                    commands' start: exit 128 + signal within a second, "interrupted" on one line, nothing written
  interrupt_frames  the same for run (images and a video), preprocess, eval and calib-data (which keeps its complete
                    files and says --resume)
  kill_rerun  SIGKILL while build and run hold temporaries; the same command again completes and leaves no
              temporary (the killed process's stale ones are removed)

usage: check_outputs.py CROWDRT SEQUENCE_DIR MODELS_DIR WORK_DIR MODE
"""
import glob
import os
import pty
import re
import resource
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_checks import fail  # noqa: E402

CHECKPOINT = os.path.join(HERE, "..", "..", "models", "demo", "demo_unet_mobilenet_v2.pth")
TEMP_MARK = ".crowdrt-tmp-"
STOP_SECONDS = 1.5  # "within a second", with room for a loaded 2-core CI machine


def conv_chain(path, layers, channels, size):
    """Layers of 3x3 convolutions (channels wide) on a 1x5xSIZExSIZE input: slow enough to interrupt its build."""
    rng = np.random.RandomState(3)
    nodes, inits, prev, cin = [], [], "input", 5
    for i in range(layers):
        inits += [numpy_helper.from_array(rng.uniform(-0.1, 0.1, (channels, cin, 3, 3)).astype(np.float32), f"w{i}"),
                  numpy_helper.from_array(np.zeros(channels, np.float32), f"b{i}")]
        nodes += [helper.make_node("Conv", [prev, f"w{i}", f"b{i}"], [f"c{i}"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                  helper.make_node("Relu", [f"c{i}"], [f"r{i}"])]
        prev, cin = f"r{i}", channels
    inits += [numpy_helper.from_array(rng.uniform(0, 0.1, (1, cin, 1, 1)).astype(np.float32), "wo"),
              numpy_helper.from_array(np.zeros(1, np.float32), "bo")]
    nodes.append(helper.make_node("Conv", [prev, "wo", "bo"], ["output"], kernel_shape=[1, 1]))
    graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 5, size, size])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1, size, size])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)]), path)
    return path


def files_under(folder):
    """Every file under folder (dot files included) as relative path -> bytes."""
    out = {}
    for root, _, names in os.walk(folder):
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, folder)] = f.read()
    return out


def temporaries(folder):
    return [p for p in files_under(folder) if TEMP_MARK in os.path.basename(p)]


def error_line(r, what):
    """The program's one error line: the last line of stderr, and the only one starting with 'crowdrt:'."""
    lines = r.stderr.strip().splitlines()
    ours = [l for l in lines if l.startswith("crowdrt:")]
    if len(ours) != 1 or lines[-1] != ours[0]:
        fail(f"{what}: expected one 'crowdrt:' line at the end of stderr, got {r.stderr!r}")
    return ours[0]


class Setup:
    """The inputs every mode uses, made once in WORK."""

    def __init__(self, crowdrt, sequence, models, work):
        self.crowdrt, self.work = crowdrt, work
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        self.sequence = sequence
        self.synth = os.path.dirname(os.path.dirname(sequence))
        self.plan = self.path("constant.plan")
        self.ok("build", "--onnx", os.path.join(models, "constant.onnx"), "-o", self.plan)

    def path(self, *names):
        return os.path.join(self.work, *names)

    def cmd(self, *args):
        return [self.crowdrt] + [str(a) for a in args]

    def ok(self, *args):
        r = subprocess.run(self.cmd(*args), capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"{' '.join(self.cmd(*args))} exited {r.returncode}: {r.stderr.strip()}")
        return r

    def clip(self, frames):
        """An MJPG video of the sequence's frames, looped to `frames` frames."""
        path = self.path(f"clip{frames}.avi")
        loops = -(-frames // len(glob.glob(os.path.join(self.sequence, "*.jpg")))) - 1
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-stream_loop", str(loops), "-framerate", "10", "-i",
                        os.path.join(self.sequence, "%05d.jpg"), "-frames:v", str(frames), "-c:v", "mjpeg", "-q:v", "3",
                        path], check=True)
        return path

    def long_dataset(self, frames):
        """A VisDrone-format root with one sequence of `frames` frames (the video's, as JPEGs) and annotations."""
        root = self.path("long")
        seq = os.path.join(root, "sequences", "00001")
        os.makedirs(seq)
        os.makedirs(os.path.join(root, "annotations"))
        subprocess.run(["ffmpeg", "-loglevel", "error", "-i", self.clip(frames), "-q:v", "3", os.path.join(seq, "%05d.jpg")],
                       check=True)
        with open(os.path.join(root, "annotations", "00001.txt"), "w") as f:
            f.writelines(f"{i},20.0,30.0\n" for i in range(1, frames + 1))
        return root, seq


# --- full disk and file-size limit ---------------------------------------------------------------------------------

def writing_commands(s):
    """(name, a tmpfs's size and a file-size limit in KiB, arguments writing under a folder, whether complete files
    may stay (calib-data)). Each limit is below what the command writes, in total and in its largest file."""
    x = s.path("x.npy")
    np.save(x, np.random.RandomState(0).rand(1, 5, 64, 64).astype(np.float32))
    small = conv_chain(s.path("small.onnx"), 2, 32, 64)
    clip = s.clip(5)
    return [
        ("export", 1024, 1024, lambda d: ["export", CHECKPOINT, "-o", f"{d}/model.onnx", "--input-size", "64x64"], False),
        # the calibration cache (1 KiB) is complete before the plan (45 KiB) fails: neither may stay
        ("build", 16, 16, lambda d: ["build", "--onnx", small, "-o", f"{d}/model.plan", "--int8", "--calib-data",
                                     s.synth, "--calibrator", "minmax", "--calib-max", 1, "--flow", "ultrafast",
                                     "--calib-cache", f"{d}/calib.bin", "--no-tactic-timing"], False),
        ("infer", 8, 8, lambda d: ["infer", "--plan", s.plan, "--input", x, "--output", f"{d}/y.npy"], False),
        ("perf", 4, 4, lambda d: ["perf", "--plan", s.plan, "--iterations", 60, "--duration", 0.1, "--warmUp", 0,
                                  "--json", f"{d}/perf.json", "--exportTimes", f"{d}/times.json"], False),
        ("preprocess", 200, 40, lambda d: ["preprocess", "--sequence", s.sequence, "--out", f"{d}/npy", "--size",
                                           "64x64"], False),
        ("calib-data", 150, 50, lambda d: ["calib-data", "--sequences", s.synth, "--out", f"{d}/calib", "--flow",
                                           "ultrafast", "--max", 4], True),
        ("eval", 4, 4, lambda d: ["eval", "--plan", s.plan, "--data", s.synth, "--split", "all", "--json",
                                  f"{d}/e.json", "--csv", f"{d}/e.csv"], False),
        ("run-images", 48, 10, lambda d: ["run", "--plan", s.plan, "--input", s.sequence, "--out", f"{d}/run"], False),
        # the JSON Lines (a line per frame, in place) fit, the video (25 KiB) does not; OpenCV's writer reports no
        # error, the video is read back
        ("run-video", 20, 20, lambda d: ["run", "--plan", s.plan, "--input", clip, "--out", f"{d}/run", "--jsonl",
                                         f"{d}/frames.jsonl"], False),
        ("synth", 12, 2, lambda d: ["synth", "--out", f"{d}/synth", "--sequences", 2, "--frames", 3, "--size",
                                    "128x96"], False),
    ]


def check_full(name, disk, result, keeps, complete):
    """A command that ran out of space: exit 1, one line naming a file on the disk, nothing incomplete left."""
    what = f"{name} on a full disk"
    if result.returncode != 1:
        fail(f"{what}: exit {result.returncode} (expected 1: the limit did not bite?); stderr {result.stderr!r}")
    line = error_line(result, what)
    if not line.startswith(f"crowdrt: error: {disk}/"):
        fail(f"{what}: the error does not name the file it could not write: {line!r}")
    if temporaries(disk):
        fail(f"{what}: temporaries left: {temporaries(disk)}")
    left = files_under(disk)
    if keeps:  # calib-data: complete files stay for --resume, each as a full run writes it
        for rel, data in left.items():
            if complete.get(rel) != data:
                fail(f"{what}: {rel} is left and differs from a complete run's ({len(data)} bytes)")
    else:
        if left:
            fail(f"{what}: files left under final names: {sorted(left)}")
        if os.listdir(disk):
            fail(f"{what}: the folders it created are left behind: {os.listdir(disk)}")
    print(f"{name}: {line}")


def full_disk_cases(s, limit_for):
    """Each command into a fresh folder; limit_for(folder, KiB) mounts a small file system there (returns None) or
    gives a file-size limit in bytes."""
    for name, tmpfs_kib, file_kib, args, keeps in writing_commands(s):
        complete = {}
        if keeps:  # what a failed run keeps must equal what a complete run writes
            normal = s.path("normal", name)
            os.makedirs(normal)
            s.ok(*args(normal))
            complete = files_under(normal)
        started = time.monotonic()
        disk = s.path("disk", name)
        os.makedirs(disk)
        limit = limit_for(disk, tmpfs_kib, file_kib)
        preexec = None if limit is None else (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)))
        r = subprocess.run(s.cmd(*args(disk)), capture_output=True, text=True, preexec_fn=preexec)
        check_full(name, disk, r, keeps, complete)
        print(f"  ({time.monotonic() - started:.1f} s)")
        if limit is None:
            subprocess.run(["umount", disk], check=True)


def full_disk_in_namespace(argv):
    """full_disk runs itself again in a user and mount namespace, where it may mount a tmpfs; False where the system
    refuses one (then the mode falls back to a file-size limit)."""
    if "--in-namespace" in argv:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"no tmpfs here (unshare -rm: {probe.stderr.strip() or probe.returncode}); "
              "filling a file-size limit instead (RLIMIT_FSIZE)")
        return False
    sys.exit(subprocess.run(["unshare", "-rm", sys.executable] + argv + ["--in-namespace"]).returncode)


def mode_full_disk(s, argv):
    if "--in-namespace" not in argv:
        return mode_size_limit(s, argv)

    def mount(folder, tmpfs_kib, _):
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={tmpfs_kib}k", "tmpfs", folder], check=True)
        return None
    print("full disk: a tmpfs per command (unshare -rm, mount -t tmpfs -o size=...), ENOSPC")
    full_disk_cases(s, mount)


def mode_size_limit(s, argv):
    print("file-size limit: RLIMIT_FSIZE per command, EFBIG")
    full_disk_cases(s, lambda folder, _, file_kib: file_kib * 1024)


# --- interrupts ----------------------------------------------------------------------------------------------------

def wait_for(predicate, what, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.005)
    fail(f"timed out waiting for {what}")


def opened_under(pid, folder):
    """Whether the process has a file under folder open (it is reading its input)."""
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(folder):
                    return True
            except OSError:
                pass
    except OSError:
        pass
    return False


class Terminal:
    """A pseudo-terminal as the command's stderr, so that it draws its progress line ("eval: 3 of 60 frames"): a
    mid-way point to interrupt at for a command that writes nothing until it ends."""

    def __init__(self):
        self.master, self.slave = pty.openpty()
        os.set_blocking(self.master, False)
        self.text = ""

    def read(self):
        try:
            while True:
                chunk = os.read(self.master, 4096)
                if not chunk:
                    break
                self.text += chunk.decode(errors="replace")
        except (BlockingIOError, OSError):
            pass
        return self.text

    def shows(self, pattern):
        return lambda p: re.search(pattern, self.read()) is not None


def interrupt(s, name, args, out, mid_way, sig=signal.SIGINT, left_may_be=None, terminal=None):
    """Starts the command, waits until mid_way(process) holds, sends sig: exit 128 + sig within STOP_SECONDS, one
    'crowdrt: interrupted' line, no temporary, and nothing new under out: left_may_be is None (nothing at all), a set
    of names (the inputs already there) or "complete" (calib-data: its complete files)."""
    p = subprocess.Popen(s.cmd(*args), stdout=subprocess.PIPE, text=True,
                         stderr=terminal.slave if terminal else subprocess.PIPE)
    if terminal:
        os.close(terminal.slave)
    wait_for(lambda: mid_way(p) or p.poll() is not None, f"{name} to get mid-way")
    if p.poll() is not None:
        fail(f"{name} ended (exit {p.returncode}) before it could be interrupted")
    sent = time.monotonic()
    p.send_signal(sig)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        fail(f"{name}: still running 10 s after {sig.name}")
    took = time.monotonic() - sent
    stderr = terminal.read().replace("\r", "\n") if terminal else p.stderr.read()
    r = subprocess.CompletedProcess(p.args, p.returncode, p.stdout.read(), stderr)
    if r.returncode != 128 + sig:
        fail(f"{name}: exit {r.returncode} after {sig.name} (expected {128 + sig}); stderr {r.stderr!r}")
    if took > STOP_SECONDS:
        fail(f"{name}: took {took:.2f} s to stop after {sig.name}")
    line = error_line(r, f"{name} after {sig.name}")
    if not line.startswith("crowdrt: interrupted by "):
        fail(f"{name}: {line!r} does not say it was interrupted")
    if temporaries(out):
        fail(f"{name}: temporaries left after {sig.name}: {temporaries(out)}")
    left = files_under(out)
    if left_may_be != "complete" and set(left) != set(left_may_be or ()):
        fail(f"{name}: after {sig.name} the folder holds {sorted(left)}, expected {sorted(left_may_be or ())}")
    print(f"{name}: {sig.name} -> exit {r.returncode} in {took:.2f} s: {line}")
    return left, line


def has_temporary(folder):
    return lambda p: os.path.isdir(folder) and bool(temporaries(folder))


def mode_interrupt_build(s, argv):
    out = s.path("build")
    os.makedirs(out)
    onnx_path = conv_chain(os.path.join(out, "chain.onnx"), 4, 32, 128)
    build = ["build", "--onnx", onnx_path, "-o", os.path.join(out, "chain.plan"), "--int8", "--calib-data", s.synth,
             "--calibrator", "minmax", "--calib-max", 1, "--flow", "ultrafast"]
    # once the calibration cache is written (a temporary until the plan is done), kernels are timed
    for sig in (signal.SIGINT, signal.SIGTERM):
        interrupt(s, f"build ({sig.name} while timing kernels)", build, out, has_temporary(out), sig, {"chain.onnx"})
    export_out = s.path("export")
    os.makedirs(export_out)
    interrupt(s, "export", ["export", CHECKPOINT, "-o", os.path.join(export_out, "model.onnx"), "--input-size", "64x64"],
              export_out, lambda p: opened_under(p.pid, os.path.abspath(CHECKPOINT)))


def mode_interrupt_frames(s, argv):
    root, seq = s.long_dataset(60)
    clip = s.clip(60)
    out = s.path("run_images")
    interrupt(s, "run (images)", ["run", "--plan", s.plan, "--input", seq, "--out", out], out, has_temporary(out))
    out = s.path("run_video")
    interrupt(s, "run (video)", ["run", "--plan", s.plan, "--input", clip, "--out", out, "--png"], out,
              has_temporary(out), signal.SIGTERM)
    out = s.path("npy")
    interrupt(s, "preprocess", ["preprocess", "--sequence", seq, "--out", out, "--size", "64x64"], out,
              has_temporary(out))
    out = s.path("eval")
    os.makedirs(out)
    plan = os.path.join(out, "chain.plan")  # slower frames than the constant model's: eval is seen mid-way
    s.ok("build", "--onnx", conv_chain(s.path("chain.onnx"), 4, 32, 128), "-o", plan, "--no-tactic-timing")
    terminal = Terminal()
    interrupt(s, "eval", ["eval", "--plan", plan, "--data", root, "--split", "all", "--json", f"{out}/e.json"], out,
              terminal.shows(r"eval: ([1-9]|[1-5][0-9]) of 60"), left_may_be={"chain.plan"}, terminal=terminal)
    out = s.path("calib")
    args = ["calib-data", "--sequences", root, "--out", out, "--flow", "ultrafast", "--max", 30]
    left, line = interrupt(s, "calib-data", args, out,
                           lambda p: len(glob.glob(os.path.join(out, "imgs_flows", "*.npy"))) >= 2,
                           left_may_be="complete")
    if "--resume" not in line or not any(k.startswith("imgs_flows/") for k in left):
        fail(f"calib-data: an interrupt keeps the complete files for --resume and says so: {line!r}, {sorted(left)}")
    s.ok(*args, "--resume")
    if temporaries(out) or len(glob.glob(os.path.join(out, "imgs_flows", "*.npy"))) != 30:
        fail("calib-data --resume after the interrupt did not complete the folder")


# --- kill and run again --------------------------------------------------------------------------------------------

def kill_and_rerun(s, name, args, out, mid_way):
    p = subprocess.Popen(s.cmd(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: mid_way() or p.poll() is not None, f"{name} to hold a temporary")
    if p.poll() is not None:
        fail(f"{name} ended (exit {p.returncode}) before it could be killed: {p.stderr.read()!r}")
    p.kill()
    p.wait()
    stale = temporaries(out)
    if not stale:
        fail(f"{name}: no temporary after SIGKILL; the case tests nothing")
    s.ok(*args)  # the same command again
    if temporaries(out):
        fail(f"{name}: after SIGKILL and a second run, temporaries are left: {temporaries(out)}")
    print(f"{name}: SIGKILL left {len(stale)} temporaries ({stale[0]} ...); the same command again completed and "
          f"removed them")


def mode_kill_rerun(s, argv):
    out = s.path("build")
    os.makedirs(out)
    onnx_path = conv_chain(os.path.join(out, "chain.onnx"), 4, 32, 128)
    kill_and_rerun(s, "build", ["build", "--onnx", onnx_path, "-o", os.path.join(out, "chain.plan"), "--int8",
                                "--calib-data", s.synth, "--calibrator", "minmax", "--calib-max", 1, "--flow",
                                "ultrafast"], out, lambda: bool(temporaries(out)))
    if not os.path.exists(os.path.join(out, "chain.plan")) or not os.path.exists(os.path.join(out, "chain_calib.bin")):
        fail("build: the second run wrote no plan or calibration cache")
    out = s.path("run")
    clip = s.clip(40)
    kill_and_rerun(s, "run", ["run", "--plan", s.plan, "--input", clip, "--out", out, "--png"], out,
                   lambda: len(temporaries(out)) >= 3)
    if len(glob.glob(os.path.join(out, "frame_*_overlay.png"))) != 40 or not os.path.exists(os.path.join(out, "overlay.avi")):
        fail("run: the second run did not write every overlay")


MODES = {"full_disk": mode_full_disk, "size_limit": mode_size_limit, "interrupt_build": mode_interrupt_build,
         "interrupt_frames": mode_interrupt_frames, "kill_rerun": mode_kill_rerun}


def main():
    argv = sys.argv
    crowdrt, sequence, models, work, mode = argv[1:6]
    if mode not in MODES:
        fail(f"unknown mode {mode}; one of {', '.join(MODES)}")
    if mode == "full_disk":
        full_disk_in_namespace(argv)
    start = time.monotonic()
    MODES[mode](Setup(crowdrt, sequence, models, work), argv)
    print(f"PASS {mode} ({time.monotonic() - start:.1f} s)")


if __name__ == "__main__":
    main()
