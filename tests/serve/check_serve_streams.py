"""`crowdrt serve` under concurrent streams and misbehaving clients: 4 sequences of `crowdrt synth` frames sent at once
as sequences of linear_counting (two engines serving them) get exactly the per-frame counts of `crowdrt eval --serial` on the same frames (the
flow restarting per sequence), while other clients stall mid-request, disconnect mid-body, send malformed and oversize
bodies and leave without reading their answer; the server answers every stream frame, keeps answering health checks
meanwhile, counts exactly the frames it answered in /metrics, and stops cleanly on SIGTERM.

usage: check_serve_streams.py CROWDRT FIXTURE_WORK WORK
"""
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import cv2
import numpy as np
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from v2_client import Client, Server  # noqa: E402

MAX_BYTES = 2_000_000


def fail(msg):
    raise SystemExit("FAIL: " + msg)


def eval_counts(crowdrt, plan, synth, work):
    out = os.path.join(work, "eval.json")
    r = subprocess.run([crowdrt, "eval", "--plan", plan, "--data", synth, "--split", "all", "--serial", "--flow", "medium",
                        "--json", out, "-q"], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"crowdrt eval exited {r.returncode}: {r.stderr.strip()}")
    counts = {}
    for f in json.load(open(out))["per_frame"]:
        counts.setdefault(f["sequence"], []).append(f["pred"])
    return counts


def stream(base, synth, sequence, sequence_id, results, errors, model="linear_counting"):
    try:
        c = Client(base)
        frames = sorted(glob.glob(os.path.join(synth, "sequences", sequence, "*.jpg")))
        counts = []
        for i, path in enumerate(frames):
            parameters = {"sequence_id": sequence_id, "sequence_start": i == 0, "sequence_end": i == len(frames) - 1}
            code, j, out = c.infer(model, {"frame": cv2.imread(path)}, parameters=parameters, binary_inputs=True)
            if code != 200:
                raise RuntimeError(f"frame {i}: status {code}: {j}")
            counts.append(float(out["count"][0]))
        c.session.close()
        results[sequence] = counts
    except Exception as e:  # reported by the main thread
        errors.append(f"stream {sequence}: {e}")


def raw(port, data, read=True, timeout=10):
    """Sends bytes on a fresh connection; returns the answer's first line (or None when not read)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if not read:
            return None
        answer = b""
        while b"\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
        return answer.split(b"\r\n")[0].decode(errors="replace")


def request(path, body, headers=""):
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def main():
    crowdrt, fixture, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    synth = os.path.join(fixture, "synth")
    repository = os.path.join(fixture, "repository")
    expected = eval_counts(crowdrt, os.path.join(repository, "linear", "1", "model.plan"), synth, work)
    if len(expected) != 4:
        fail(f"eval counted {len(expected)} sequences, the fixture has 4")
    with Server(crowdrt, repository, "--max-request-bytes", str(MAX_BYTES), "--http-threads", "12", "--client-timeout", "5", "--instances", "2",
                log=os.path.join(work, "serve.log")) as server:
        port = server.port
        # A stalled client: headers promise a body that never comes; it holds one connection for the whole run.
        stalled = socket.create_connection(("127.0.0.1", port))
        stalled.sendall(request("/v2/models/linear/infer", b"")[:-4].replace(b"Content-Length: 0", b"Content-Length: 5000") + b"\r\n\r\n{\"in")
        # Another one that sent half its headers.
        half = socket.create_connection(("127.0.0.1", port))
        half.sendall(b"POST /v2/models/linear/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")

        results, errors = {}, []
        threads = [threading.Thread(target=stream, args=(server.base, synth, s, 100 + k, results, errors))
                   for k, s in enumerate(sorted(expected))]
        for t in threads:
            t.start()
        # Meanwhile: disconnects mid-body, malformed and oversize bodies, a client that never reads its answer.
        frame = np.zeros((1, 5, 64, 64), np.float32)
        whole = json.dumps({"inputs": [{"name": "input", "shape": [1, 5, 64, 64], "datatype": "FP32",
                                        "data": frame.reshape(-1).tolist()}]}).encode()
        statuses = []
        for _ in range(3):
            raw(port, request("/v2/models/linear/infer", whole)[: len(whole) // 2], read=False)  # gone mid-body
            statuses.append(raw(port, request("/v2/models/linear/infer", b"{\"inputs\": [")))
            statuses.append(raw(port, request("/v2/models/linear_counting/infer", b"\xff\xfe garbage")))
            statuses.append(raw(port, request("/v2/models/linear/infer", b"{}", "Inference-Header-Content-Length: 99999\r\n")))
            raw(port, request("/v2/models/linear/infer", whole), read=False)  # leaves without its answer
            try:
                r = requests.post(server.base + "/v2/models/linear/infer", data=b"0" * (MAX_BYTES + 1), timeout=10)
                statuses.append(f"HTTP/1.1 {r.status_code}")
            except requests.ConnectionError:
                statuses.append("closed")  # the server may answer 413 and close before the body is sent
            t0 = time.time()
            live = requests.get(server.base + "/v2/health/live", timeout=5)
            if live.status_code != 200 or time.time() - t0 > 2:
                fail(f"health check took {time.time() - t0:.2f} s (status {live.status_code}) during the faults")
        for t in threads:
            t.join(60)
        if errors or any(t.is_alive() for t in threads):
            fail(f"streams: {errors or 'a stream did not finish in 60 s'}")
        for s in statuses:
            if not (s.startswith("HTTP/1.1 400") or s.startswith("HTTP/1.1 413") or s == "closed"):
                fail(f"a malformed or oversize request was answered {s!r}, not 400 / 413")
        for seq, counts in sorted(expected.items()):
            if results.get(seq) != counts:
                fail(f"sequence {seq}: the server counted {results.get(seq)}, crowdrt eval --serial {counts}")
        text = requests.get(server.base + "/metrics", timeout=10).text
        frames = sum(len(c) for c in expected.values())
        if f'crowdrt_frames_total{{model="linear_counting"}} {frames}' not in text:
            fail(f"/metrics: {[l for l in text.splitlines() if l.startswith('crowdrt_frames_total')]}, {frames} frames answered")
        if 'crowdrt_live_sequences{model="linear_counting"} 0' not in text:
            fail("sequences are still live after their sequence_end")
        stalled.close()
        half.close()
        code = server.stop()
    if code != 0:
        fail(f"crowdrt serve exited {code} on SIGTERM")
    print(f"ok: 4 concurrent streams, {frames} frames, counts equal eval --serial's; faults answered 400/413; served throughout")


if __name__ == "__main__":
    main()
