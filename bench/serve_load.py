"""Load on `crowdrt serve`: C clients at once, each sending the frames of a synthetic sequence to <model>_counting as
binary UINT8 tensors over its own keep-alive connection (a new sequence each time its frames run out), or the raw
model's FP32 input tensor (binary in and out); prints per-request latency (p50 / p99, client-side) and throughput, and the server's own
per-frame stage times from /metrics over the same requests.

usage: serve_load.py BASE_URL MODEL FRAMES_DIR CLIENTS REQUESTS_PER_CLIENT [counting|raw] [--json OUT]
"""
import glob
import http.client
import json
import sys
import threading
import time
import urllib.parse

import cv2
import numpy as np


def metrics(base, model):
    """{stage: (count, sum seconds)} of the model's stage histograms, and its request duration histogram."""
    u = urllib.parse.urlparse(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    out = {}
    for line in text.splitlines():
        for kind in ("_sum", "_count"):
            prefix = f"crowdrt_stage_duration_seconds{kind}{{model=\"{model}\",stage=\""
            if line.startswith(prefix):
                stage = line[len(prefix):].split('"')[0]
                out.setdefault(stage, [0, 0.0])[0 if kind == "_count" else 1] = float(line.split()[-1])
            prefix = f"crowdrt_request_duration_seconds{kind}{{model=\"{model}\",endpoint=\"infer\",protocol=\"http\"}}"
            if line.startswith(prefix):
                out.setdefault("request", [0, 0.0])[0 if kind == "_count" else 1] = float(line.split()[-1])
    return out


def body_of(name, array, parameters):
    data = np.ascontiguousarray(array).tobytes()
    dtype = {np.dtype(np.uint8): "UINT8", np.dtype(np.float32): "FP32"}[array.dtype]
    header = json.dumps({"inputs": [{"name": name, "shape": list(array.shape), "datatype": dtype,
                                     "parameters": {"binary_data_size": len(data)}}],
                         "parameters": parameters}).encode()
    return header, data


def client(base, model, kind, frames, requests, index, latencies, errors, shape):
    u = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    path = f"/v2/models/{model}{'_counting' if kind == 'counting' else ''}/infer"
    seq = 0
    tensor = np.random.default_rng(index).random(shape, dtype=np.float32) if kind == "raw" else None
    for r in range(requests):
        i = r % len(frames)
        if i == 0:
            seq += 1
        if kind == "counting":
            parameters = {"sequence_id": index * 100000 + seq, "sequence_start": i == 0, "sequence_end": i == len(frames) - 1}
            header, data = body_of("frame", frames[i], parameters)
        else:
            header, data = body_of("input", tensor, {"binary_data_output": True})
        t = time.perf_counter()
        conn.request("POST", path, body=header + data,
                     headers={"Inference-Header-Content-Length": str(len(header)), "Content-Type": "application/octet-stream"})
        resp = conn.getresponse()
        payload = resp.read()
        latencies.append(time.perf_counter() - t)
        if resp.status != 200:
            errors.append(f"client {index} request {r}: {resp.status} {payload[:200]!r}")
            return


def main():
    base, model, frames_dir, clients, per_client = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    kind = sys.argv[6] if len(sys.argv) > 6 and not sys.argv[6].startswith("--") else "counting"
    out_json = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    frames = [cv2.imread(f) for f in sorted(glob.glob(frames_dir + "/*.jpg"))]
    u = urllib.parse.urlparse(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request("GET", f"/v2/models/{model}")
    shape = json.loads(c.getresponse().read())["inputs"][0]["shape"]
    label = model + ("_counting" if kind == "counting" else "")
    before = metrics(base, label)
    latencies, errors = [], []
    threads = [threading.Thread(target=client, args=(base, model, kind, frames, per_client, k, latencies, errors, shape))
               for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        sys.exit("FAIL: " + "; ".join(errors[:3]))
    after = metrics(base, label)
    server = {s: ((after[s][1] - before.get(s, [0, 0])[1]) / max(1, after[s][0] - before.get(s, [0, 0])[0]) * 1000)
              for s in after}
    lat = np.array(latencies) * 1000
    row = {"kind": kind, "clients": clients, "requests": len(lat), "p50_ms": float(np.percentile(lat, 50)),
           "p99_ms": float(np.percentile(lat, 99)), "mean_ms": float(lat.mean()), "throughput_per_s": len(lat) / wall,
           "server_mean_ms": {k: round(v, 3) for k, v in server.items()}}
    print(json.dumps(row))
    if out_json:
        with open(out_json, "a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
