"""`crowdrt run` on a live stream served on loopback by ffmpeg's HTTP listen mode (the clip's MJPG frames copied
into Matroska, so the stream's frames are the file's, bit for bit), with the linear model (counts depend on the
pixels and the optical flow):
- the stream counts what the file counts, frame for frame (--live-drop none);
- a source killed mid-run and restarted: one "lost" and one "reconnected after" line, the optical flow restarts
  at the first frame after the gap (CSV flow_restart column, JSON Lines "flow_restart"), whose count is the file's
  first frame's again, and the run goes on to --max-frames;
- a source faster than the counting with --live-drop oldest: every frame read is counted or dropped, and the
  summary says how many of each; --duration ends a live run;
- an unreachable URL (a closed loopback port) fails within seconds with one line naming the URL, exit 1;
- --max-frames bounds a file run too; Ctrl-C ends a live run with its outputs written.

usage: check_live_run.py CROWDRT SEQUENCE_DIR MODELS_DIR WORK_DIR stream|drop
"""
import csv
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import cv2

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_checks import fail, run  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(clip, port, realtime=False):
    """ffmpeg serving CLIP once, to the first client, on loopback; it exits when that client leaves. Connecting to
    see whether it listens would take its one connection, so its listening socket is looked for with ss."""
    url = f"http://127.0.0.1:{port}/live.mkv"
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error"] + (["-re"] if realtime else [])
    args += ["-i", clip, "-c", "copy", "-f", "matroska", "-listen", "1", url]
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 5
    while time.time() < deadline:
        out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True).stdout
        if out.strip():
            return server, url
        time.sleep(0.05)
    server.kill()
    fail(f"ffmpeg did not listen on port {port} within 5 s")


def wait_for_client(port):
    deadline = time.time() + 10
    while time.time() < deadline:
        out = subprocess.run(["ss", "-Htn", "state", "established", f"sport = :{port}"], capture_output=True, text=True)
        if out.stdout.strip():
            return
        time.sleep(0.05)
    fail(f"no client connected to port {port} within 10 s")


def stop(server):
    if server.poll() is None:
        server.kill()
    server.wait(timeout=5)


def counts(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def run_live(crowdrt, *args, expect=0, timeout=30):
    r = subprocess.run([crowdrt, "run", *args], capture_output=True, text=True, timeout=timeout)
    if r.returncode != expect:
        fail(f"run {' '.join(args)} exited {r.returncode} (expected {expect}): {r.stderr.strip()}")
    return r


def live_summary(text):
    m = re.search(r"live \S+: (\d+) frames read, (\d+) counted, (\d+) dropped \(--live-drop (\w+)\), (\d+) unprocessed "
                  r"at the end; (\d+) reconnects? ", text)
    if not m:
        fail(f"no live summary in: {text.strip()}")
    read, counted, dropped, policy, left, reconnects = m.groups()
    return {"read": int(read), "counted": int(counted), "dropped": int(dropped), "policy": policy, "left": int(left),
            "reconnects": int(reconnects)}


def make_clip(path, frames, fps, size=None):
    h, w = cv2.imread(frames[0]).shape[:2]
    size = size or (w, h)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    for f in frames:
        writer.write(cv2.resize(cv2.imread(f), size))
    writer.release()


T0 = time.time()


def step(what):
    print(f"{time.time() - T0:5.1f} s  {what}", flush=True)


def file_counts(crowdrt, plan, clip, work, n):
    run_live(crowdrt, "--plan", plan, "--input", clip, "--out", os.path.join(work, "file"))
    _, rows = counts(os.path.join(work, "file", "counts.csv"))
    if len(rows) != n:
        fail(f"the file run counted {len(rows)} frames, not {n}")
    return [row[1] for row in rows]


def check_stream(crowdrt, plan, clip, work, n, frames):
    """The stream counts what the file counts; a source killed and restarted; an unreachable URL."""
    reference = file_counts(crowdrt, plan, clip, work, n)
    step("file run")

    port = free_port()
    server, url = start_server(clip, port)
    try:
        r = run_live(crowdrt, "--plan", plan, "--input", url, "--out", os.path.join(work, "stream"), "--live-drop", "none",
                     "--reconnect", "0")
    finally:
        stop(server)
    header, rows = counts(os.path.join(work, "stream", "counts.csv"))
    if header != ["frame", "count", "flow_restart"]:
        fail(f"stream counts.csv header {header}")
    if [r[1] for r in rows] != reference or any(r[2] != "0" for r in rows):
        fail(f"the stream counted {[r[1:] for r in rows]}, the file {reference}")
    s = live_summary(r.stdout)
    if (s["read"], s["counted"], s["dropped"], s["left"], s["reconnects"]) != (n, n, 0, 0, 0):
        fail(f"stream summary {s}, expected {n} read and counted, nothing dropped or left")
    step("stream equals file")

    port = free_port()
    server, url = start_server(clip, port, realtime=True)
    out = os.path.join(work, "reconnect")
    jsonl = os.path.join(work, "reconnect.jsonl")
    max_frames = n  # at least one frame comes before the gap, so the restarted source has enough left
    # The restarted source sends the clip twice: its first n frames are the clip's, and it outlasts the run.
    twice = os.path.join(work, "twice.avi")
    make_clip(twice, frames * 4, 25)
    client = subprocess.Popen([crowdrt, "run", "--plan", plan, "--input", url, "--out", out, "--live-drop", "none",
                               "--max-frames", str(max_frames), "--jsonl", jsonl], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    second = None
    try:
        wait_for_client(port)
        time.sleep(0.2)  # a few of the 25 frames/s served, then the source dies
        server.kill()
        server.wait(timeout=5)
        second, _ = start_server(twice, port)
        stdout, stderr = client.communicate(timeout=30)
    finally:
        if client.poll() is None:
            client.kill()
        for p in (server, second):
            if p:
                stop(p)
    if client.returncode != 0:
        fail(f"the reconnecting run exited {client.returncode}: {stderr.strip()}")
    lost = [line for line in stderr.splitlines() if "stream lost" in line]
    back = [line for line in stderr.splitlines() if re.search(r"reconnected after [0-9.]+ s", line)]
    if len(lost) != 1 or len(back) != 1 or url not in lost[0]:
        fail(f"expected one 'stream lost' and one 'reconnected after' line naming {url}, got: {stderr.strip()}")
    _, rows = counts(os.path.join(out, "counts.csv"))
    if len(rows) != max_frames:
        fail(f"the reconnecting run counted {len(rows)} frames, not --max-frames {max_frames}")
    restarts = [i for i, r in enumerate(rows) if r[2] == "1"]
    if len(restarts) != 1 or restarts[0] == 0:
        fail(f"expected one flow restart after frame 1, got flow_restart {[r[2] for r in rows]}")
    k = restarts[0]
    # Before the gap the first k frames of the clip; after it the clip from its start again, flow from zero.
    expected = reference[:k] + reference[:max_frames - k]
    if [r[1] for r in rows] != expected:
        fail(f"counts around the gap at frame {k + 1}: {[r[1] for r in rows]}, expected {expected}")
    records = [json.loads(line) for line in open(jsonl)]
    if [rec["frame"] for rec in records if rec.get("flow_restart")] != [k + 1] or len(records) != max_frames:
        fail(f"JSON Lines flow_restart {[rec.get('flow_restart') for rec in records]}, expected only frame {k + 1}")
    s = live_summary(stdout)
    if s["reconnects"] != 1 or s["counted"] != max_frames or f"restarted at frame {k + 1}" not in stdout:
        fail(f"reconnect summary: {stdout.strip()}")
    step("reconnect")

    url = f"http://127.0.0.1:{free_port()}/nothing.mkv"
    started = time.time()
    r = run_live(crowdrt, "--plan", plan, "--input", url, "--out", os.path.join(work, "unreachable"), expect=1)
    lines = r.stderr.strip().splitlines()
    if len(lines) != 1 or url not in lines[0] or "check" not in lines[0] or time.time() - started > 8:
        fail(f"unreachable URL: {r.stderr.strip()!r} after {time.time() - started:.1f} s")
    if os.path.exists(os.path.join(work, "unreachable")):
        fail("the unreachable URL's run made its output folder")
    step("unreachable URL")


def check_drop(crowdrt, plan, clip, work, frames):
    """--max-frames on a file; --live-drop oldest accounting on a source faster than the counting; --duration;
    Ctrl-C; a GStreamer pipeline."""
    r = run_live(crowdrt, "--plan", plan, "--input", clip, "--out", os.path.join(work, "file_max"), "--max-frames", "3")
    _, rows = counts(os.path.join(work, "file_max", "counts.csv"))
    if [int(row[0]) for row in rows] != [1, 2, 3] or not r.stdout.startswith("3 frames in"):
        fail(f"--max-frames 3 on a file of {2 * len(frames)} frames: {rows}, {r.stdout.strip()}")
    step("--max-frames on a file")

    # Large frames sent as fast as TCP takes them: frames are dropped, and every frame read is counted or dropped.
    big = os.path.join(work, "big.avi")
    sent = 16
    make_clip(big, (frames * sent)[:sent], 100, size=(640, 480))
    port = free_port()
    server, url = start_server(big, port)
    try:
        r = run_live(crowdrt, "--plan", plan, "--input", url, "--out", os.path.join(work, "drop"), "--reconnect", "0")
    finally:
        stop(server)
    s = live_summary(r.stdout)
    _, rows = counts(os.path.join(work, "drop", "counts.csv"))
    if s["policy"] != "oldest" or s["read"] != sent or s["counted"] != len(rows) or s["counted"] + s["dropped"] != sent:
        fail(f"drop accounting: {s}, {len(rows)} CSV rows, {sent} frames sent")
    if [int(row[0]) for row in rows] != list(range(1, len(rows) + 1)):
        fail("the counted frames are not numbered 1, 2, ... in the CSV")
    step(f"live-drop oldest: {s['read']} read, {s['counted']} counted, {s['dropped']} dropped")

    # --duration ends a live run that would go on (a real-time source of 8 s).
    long_clip = os.path.join(work, "long.avi")
    make_clip(long_clip, (frames * 40)[:200], 25)
    port = free_port()
    server, url = start_server(long_clip, port, realtime=True)
    started = time.time()
    try:
        r = run_live(crowdrt, "--plan", plan, "--input", url, "--out", os.path.join(work, "duration"), "--duration", "0.5")
    finally:
        stop(server)
    s = live_summary(r.stdout)
    if time.time() - started > 8 or not 0 < s["counted"] < 200 or s["counted"] + s["dropped"] + s["left"] != s["read"]:
        fail(f"--duration 0.5 on an 8 s stream: {s} after {time.time() - started:.1f} s")
    step("--duration")

    # Ctrl-C ends a live run as the stream's end would: what was counted is written, exit 0.
    port = free_port()
    server, url = start_server(long_clip, port, realtime=True)
    out = os.path.join(work, "interrupt")
    client = subprocess.Popen([crowdrt, "run", "--plan", plan, "--input", url, "--out", out], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        wait_for_client(port)
        time.sleep(0.5)
        client.send_signal(signal.SIGINT)
        stdout, stderr = client.communicate(timeout=20)
    finally:
        if client.poll() is None:
            client.kill()
        stop(server)
    if client.returncode != 0 or "stopped by an interrupt" not in stdout:
        fail(f"Ctrl-C on a live run: exit {client.returncode}, {stdout.strip()} {stderr.strip()}")
    s = live_summary(stdout)
    _, rows = counts(os.path.join(out, "counts.csv"))
    if len(rows) != s["counted"] or s["counted"] + s["dropped"] + s["left"] != s["read"]:
        fail(f"Ctrl-C on a live run: {s}, {len(rows)} CSV rows")
    step("interrupt")

    # A GStreamer pipeline (OpenCV's GStreamer backend): a test source's frames, as many as --max-frames asks.
    pipeline = "videotestsrc num-buffers=30 pattern=ball ! video/x-raw,width=160,height=96 ! videoconvert ! appsink"
    r = run_live(crowdrt, "--plan", plan, "--input", pipeline, "--out", os.path.join(work, "gstreamer"),
                 "--max-frames", "4", "--live-drop", "none")
    _, rows = counts(os.path.join(work, "gstreamer", "counts.csv"))
    if [int(row[0]) for row in rows] != [1, 2, 3, 4] or not r.stdout.startswith("4 frames in"):
        fail(f"GStreamer pipeline with --max-frames 4: {rows}, {r.stdout.strip()} {r.stderr.strip()}")
    step("GStreamer pipeline")


def main():
    crowdrt, sequence, models, work, mode = sys.argv[1:6]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    plan = os.path.join(work, "linear.plan")
    run(crowdrt, "build", "--onnx", os.path.join(models, "linear.onnx"), "-o", plan)
    frames = sorted(glob.glob(os.path.join(sequence, "*.jpg")))
    clip = os.path.join(work, "clip.avi")
    make_clip(clip, frames + frames, 25)  # the sequence twice, so that the reconnect test has frames to spare
    if mode == "stream":
        check_stream(crowdrt, plan, clip, work, 2 * len(frames), frames)
    elif mode == "drop":
        check_drop(crowdrt, plan, clip, work, frames)
    else:
        fail(f"unknown mode {mode}")
    print(f"live input checks ({mode}) passed")


if __name__ == "__main__":
    main()
