"""`crowdrt run --http` while it counts a 300-frame clip (the synthetic sequence looped), on 127.0.0.1 only:

browser: headless Chromium, driven over its DevTools pipe (no network, no extra package), opens the page; the page
  must receive at least MIN_EVENTS frame records, each equal (as text) to the same frame's line of --jsonl, in
  frame order with none missing; it must show the overlay, the zone table (with the zone above its limit in alert),
  the alert list and the plot. A screenshot goes to WORK_DIR/screenshot.png (and to SCREENSHOT_COPY if given).
clients: a second run on the same port fails with one line; 50 clients open /events and leave (some read, some read nothing, some reset the connection), at most 10
  at a time; afterwards the server holds no client, the process has as many threads as before (RSS before and
  after is printed, its growth bounded) and the counting went on throughout.

The run is ended (SIGINT) once the checks are done, so the test takes seconds whatever the machine's speed.

usage: check_live_view.py CROWDRT SEQUENCE_DIR MODELS_DIR WORK_DIR browser|clients [SCREENSHOT_COPY [PLAN]]
  PLAN: count with this plan instead of one built from MODELS_DIR/linear.onnx (bench/live_view.sh gives the demo
  model's, for the README's screenshot)
"""
import base64
import concurrent.futures
import glob
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_checks import fail, run  # noqa: E402

MIN_EVENTS = 15
CLIP_FRAMES = 300
ZONES = {"zones": [
    {"name": "upper", "polygon": [[0, 0], [1, 0], [1, 0.2], [0, 0.6]], "normalized": True, "limit": 0.5, "frames": 2},
    {"name": "lower", "polygon": [[0, 0.6], [1, 0.2], [1, 1], [0, 1]], "normalized": True},
]}


def make_clip(sequence, path):
    """The sequence's frames (00001.jpg, ...) looped into a CLIP_FRAMES-frame MJPG video, copied, not re-encoded."""
    n = len(glob.glob(os.path.join(sequence, "*.jpg")))
    if n == 0 or CLIP_FRAMES % n:
        fail(f"{sequence}: {n} frames, not a divisor of {CLIP_FRAMES}")
    run("ffmpeg", "-loglevel", "error", "-y", "-stream_loop", str(CLIP_FRAMES // n - 1), "-framerate", "25", "-i",
        os.path.join(sequence, "%05d.jpg"), "-c:v", "copy", path)


class Counting:
    """`crowdrt run --http 127.0.0.1:0` in the background; its stderr is collected by a thread of its own."""

    def __init__(self, args):
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines, self.url = [], None
        found = threading.Event()

        def collect():
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                m = re.match(r"web view: (http://\S+)$", line.strip())
                if m and not self.url:
                    self.url = m.group(1)
                    found.set()
            found.set()

        self.reader = threading.Thread(target=collect, daemon=True)
        self.reader.start()
        if not found.wait(60) or not self.url:
            self.end()
            fail(f"crowdrt run printed no web view URL: {self.lines}")

    def get(self, path, timeout=5):
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=timeout) as r:
            return r.read()

    def health(self):
        return json.loads(self.get("health"))

    def status(self):
        """Threads and RSS (kB) from /proc/PID/status."""
        fields = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.split()
        return int(fields["Threads"][0]), int(fields["VmRSS"][0])

    def end(self, how=signal.SIGINT):
        if self.proc.poll() is None:
            self.proc.send_signal(how)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=5)


def wait_until(what, done, seconds):
    deadline = time.monotonic() + seconds
    while True:
        value = done()
        if value:
            return value
        if time.monotonic() > deadline:
            fail(f"{what}: not within {seconds} s")
        time.sleep(0.05)


class Browser:
    """Headless Chromium over --remote-debugging-pipe: JSON messages ended by a NUL byte, written to its fd 3 and
    read from its fd 4 (the Chrome DevTools Protocol)."""

    def __init__(self, work):
        to_read, self.to_chrome = os.pipe()
        self.from_chrome, to_write = os.pipe()

        def give_pipes():  # in the child: the pipe ends become its fds 3 and 4 (dup2 leaves them inheritable)
            os.dup2(to_read, 100)
            os.dup2(to_write, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)

        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if not chromium:
            fail("chromium is not installed (scripts/install-deps.sh installs it)")
        self.log = open(os.path.join(work, "chromium.log"), "w")
        self.proc = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
             "--window-size=1000,620", f"--user-data-dir={os.path.join(work, 'profile')}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, close_fds=False, preexec_fn=give_pipes)
        os.close(to_read)
        os.close(to_write)
        self.buffer, self.next_id, self.session = b"", 0, None

    def send(self, method, params=None, session=True, timeout=20):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" not in self.buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self.from_chrome], [], [], left)[0]:
                    fail(f"Chromium did not answer {method} within {timeout} s")
                chunk = os.read(self.from_chrome, 1 << 20)
                if not chunk:
                    fail(f"Chromium ended while asked {method} (see chromium.log)")
                self.buffer += chunk
            text, _, self.buffer = self.buffer.partition(b"\0")
            reply = json.loads(text)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    fail(f"Chromium: {method}: {reply['error']}")
                return reply["result"]

    def open(self, url):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        self.send("Page.navigate", {"url": url})

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            fail(f"the page's script failed on {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"]))

    def close(self):
        """Ends the browser; a second call does nothing."""
        if self.log.closed:
            return
        try:
            self.send("Browser.close", session=False, timeout=5)
        except (SystemExit, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


PAGE_STATE = """(() => {
  const canvas = document.getElementById("plot");
  if (!canvas) return null;  // the page is not loaded yet
  const g = canvas.getContext("2d");
  const pixels = canvas.width > 0 ? g.getImageData(0, 0, canvas.width, canvas.height).data : [];
  let drawn = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) ++drawn;
  const image = document.getElementById("overlay");
  return {
    events: Number(document.body.dataset.events),
    received: document.getElementById("received").textContent,
    count: document.getElementById("count").textContent,
    image: image.complete ? image.naturalWidth : 0,
    zones: [...document.querySelectorAll("#zones tr")].map(r => [r.dataset.zone, r.cells[1].textContent, r.className]),
    alerts: [...document.querySelectorAll("#alerts li")].map(li => li.textContent),
    plotted: drawn,
  };
})()"""


def check_browser(crowdrt, plan, clip, work, copy, browser):
    zones = os.path.join(work, "zones.json")
    with open(zones, "w") as f:
        json.dump(ZONES, f)
    jsonl = os.path.join(work, "frames.jsonl")
    browser.send("Browser.getVersion", session=False)  # started and listening
    counting = Counting([crowdrt, "-q", "run", "--plan", plan, "--input", clip, "--out", os.path.join(work, "out"),
                         "--zones", zones, "--jsonl", jsonl, "--http", "127.0.0.1:0"])
    try:
        started = time.monotonic()
        browser.open(counting.url)
        state = wait_until(
            f"the page receiving {MIN_EVENTS} events, its overlay and an alert",
            lambda: (lambda s: s if s and s["events"] >= MIN_EVENTS and s["image"] > 0 and s["alerts"] else None)(
                browser.evaluate(PAGE_STATE)), 30)
        seconds = time.monotonic() - started
        shot = os.path.join(work, "screenshot.png")
        browser.screenshot(shot)
    finally:
        browser.close()
        # SIGKILL: Ctrl-C cancels a run on a file and writes nothing (issue 18), while --jsonl holds every record
        # written before a kill, whole lines only, which is what the page's events are compared with.
        counting.end(signal.SIGKILL)
    print(f"screenshot: {shot}")
    if copy:
        os.makedirs(os.path.dirname(os.path.abspath(copy)), exist_ok=True)
        shutil.copyfile(shot, copy)
        print(f"screenshot copied to {copy}")

    by_frame = {}
    with open(jsonl) as f:
        for line in f:
            by_frame[json.loads(line)["frame"]] = line.rstrip("\n")
    received = state["received"].splitlines()
    frames = [json.loads(line)["frame"] for line in received]
    if len(received) < MIN_EVENTS or len(received) != state["events"]:
        fail(f"the page kept {len(received)} records of {state['events']} events")
    if frames != list(range(frames[0], frames[0] + len(frames))):
        fail(f"the page's events are not the frames in order, none missing: {frames}")
    for frame, line in zip(frames, received):
        if by_frame.get(frame) != line:
            fail(f"frame {frame}: the page received {line!r}, --jsonl wrote {by_frame.get(frame)!r}")
    last = json.loads(received[-1])
    if state["count"] != f"{last['count']:.1f}":
        fail(f"the page shows count {state['count']}, its last record {last['count']}")
    shown = {z[0]: z for z in state["zones"]}
    if set(shown) != {"upper", "lower"}:
        fail(f"the zone table lists {state['zones']}")
    for name, value in last["zones"].items():
        if shown[name][1] != f"{value:.1f}":
            fail(f"zone {name}: the page shows {shown[name][1]}, the last record {value}")
    if shown["upper"][2] != "alerting" or shown["lower"][2] == "alerting":
        fail(f"zone 'upper' (above its limit) should be in alert, 'lower' not: {state['zones']}")
    if not any("upper enter" in a for a in state["alerts"]):
        fail(f"the alert list has no 'upper enter': {state['alerts']}")
    if state["plotted"] < 500:
        fail(f"the plot has {state['plotted']} drawn pixels")
    print(f"ok: the page received {len(received)} events (frames {frames[0]}..{frames[-1]}) in {seconds:.1f} s, each "
          f"equal to its --jsonl line; overlay {state['image']} px wide, zones {state['zones']}, alerts shown")


def one_client(host, port, kind, seed):
    """One /events client; returns the HTTP status it got (0 when it got none)."""
    rng = random.Random(seed)
    s = socket.socket()
    if kind == "stalled":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    s.settimeout(5)
    s.connect((host, port))
    s.sendall(f"GET /events HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    status = 0
    if kind == "stalled":  # asks, reads nothing for a while, leaves
        time.sleep(rng.uniform(0.2, 0.6))
    else:
        head = b""
        while b"\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
        m = re.match(rb"HTTP/1\.1 (\d+)", head)
        status = int(m.group(1)) if m else 0
        end = time.monotonic() + rng.uniform(0.05, 0.4)
        while status == 200 and time.monotonic() < end:
            if not s.recv(65536):
                break
    if kind == "reset":  # leaves without a FIN: the server's next write fails
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return kind, status


def check_clients(crowdrt, plan, clip, work):
    counting = Counting([crowdrt, "-q", "run", "--plan", plan, "--input", clip, "--out", os.path.join(work, "out"),
                         "--jsonl", os.path.join(work, "frames.jsonl"), "--http", "127.0.0.1:0"])
    try:
        host, port = re.match(r"http://([\d.]+):(\d+)/", counting.url).groups()
        wait_until("5 frames counted", lambda: counting.health()["frames"] >= 5, 30)
        # A second run on the same port fails with one line before writing anything.
        busy = os.path.join(work, "busy")
        r = run(crowdrt, "run", "--plan", plan, "--input", clip, "--out", busy, "--http", f"127.0.0.1:{port}", expect=1)
        if "\n" in r.stderr.strip() or f"cannot listen on 127.0.0.1:{port}" not in r.stderr or os.path.exists(busy):
            fail(f"a second run on port {port}: {r.stderr!r}, output folder made: {os.path.exists(busy)}")
        threads_before, rss_before = counting.status()
        frames_before = counting.health()["frames"]
        kinds = ["reader", "stalled", "reset", "reader", "reader"] * 10
        with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
            results = list(pool.map(lambda i: one_client(host, int(port), kinds[i], i), range(len(kinds))))
        answered = [status for kind, status in results if kind != "stalled"]
        if any(status not in (200, 503) for status in answered) or answered.count(200) == 0:
            fail(f"/events clients got the statuses {answered}")
        health = wait_until("the clients' places freed", lambda: (lambda h: h if h["event_clients"] == 0 else None)(
            counting.health()), 10)
        # The server's threads are all started with it; a client must leave none behind.
        threads_after = wait_until("the thread count back to its baseline",
                                   lambda: (lambda t: t if t[0] == threads_before else None)(counting.status()), 10)
        rss_after = threads_after[1]
        frames_after = counting.health()["frames"]
        if counting.proc.poll() is not None:
            fail(f"crowdrt run ended during the clients: {counting.lines}")
    finally:
        counting.end()
    print(f"50 clients ({answered.count(200)} streams, {answered.count(503)} refused at the limit, "
          f"{health['dropped_events']} events dropped for slow clients): threads {threads_before} before and after, "
          f"RSS {rss_before / 1024:.1f} MiB before, {rss_after / 1024:.1f} MiB after; frames counted "
          f"{frames_before} -> {frames_after} meanwhile")
    if rss_after - rss_before > 32 * 1024:
        fail(f"RSS grew by {(rss_after - rss_before) / 1024:.1f} MiB during 50 clients")
    if frames_after <= frames_before:
        fail("the counting did not go on while clients came and went")
    print("ok: no thread left behind, RSS bounded, the counting went on")


def main():
    crowdrt, sequence, models, work, mode = sys.argv[1:6]
    copy = sys.argv[6] if len(sys.argv) > 6 else None
    plan = os.path.abspath(sys.argv[7]) if len(sys.argv) > 7 else None
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    if mode not in ("browser", "clients"):
        fail(f"mode {mode!r}: give browser or clients")
    browser = Browser(work) if mode == "browser" else None  # it starts while the plan and the clip are made
    try:
        if not plan:
            plan = os.path.join(work, "linear.plan")
            run(crowdrt, "build", "--onnx", os.path.join(models, "linear.onnx"), "-o", plan)
        clip = os.path.join(work, "clip.avi")
        make_clip(sequence, clip)
        if browser:
            check_browser(crowdrt, plan, clip, work, copy, browser)
        else:
            check_clients(crowdrt, plan, clip, work)
    finally:
        if browser:
            browser.close()


if __name__ == "__main__":
    main()
