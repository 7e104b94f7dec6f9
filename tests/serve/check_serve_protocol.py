"""`crowdrt serve` against the Open Inference (KServe v2) protocol, over HTTP with the client of v2_client.py (written
from the specification): health, server and model metadata, model ready, inference with JSON tensors (flat and
nested) and binary tensors, output selection, the counting model's sequences (start, continue, end, expiry, unknown
id, two interleaved, the limit on live ones, zones from the request and from config.json), the repository's index / load / unload, /metrics, the bearer
token, model names that could leave the repository, and the errors' statuses (400, 401, 404, 413, 429).

usage: check_serve_protocol.py CROWDRT FIXTURE_WORK WORK
"""
import glob
import json
import os
import shutil
import sys
import time

import cv2
import numpy as np
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "eval"))
from make_models import CONSTANT_BIAS, LINEAR_BIAS, LINEAR_WEIGHTS  # noqa: E402
from v2_client import Client, Server  # noqa: E402

TOKEN = "test-token-7f3a"
SIZE = 64
TIMEOUT_S = 2.0
MAX_SEQUENCES = 3
MAX_BYTES = 1_000_000


def fail(msg):
    raise SystemExit("FAIL: " + msg)


def expect(r, status, needle=None, what=""):
    """r: a requests.Response; the status, and for errors the protocol's {"error": "..."} holding needle."""
    if r.status_code != status:
        fail(f"{what}: status {r.status_code}, expected {status}: {r.text[:300]}")
    if status >= 400:
        try:
            message = r.json()["error"]
        except (ValueError, KeyError):
            fail(f"{what}: error body {r.text[:200]!r} is not {{\"error\": ...}}")
        if needle and needle not in message:
            fail(f"{what}: error {message!r} does not say {needle!r}")
    return r


def expect_infer(result, status, needle=None, what=""):
    code, j, arrays = result
    if code != status:
        fail(f"{what}: status {code}, expected {status}: {j}")
    if status >= 400 and (not isinstance(j.get("error"), str) or (needle and needle not in j["error"])):
        fail(f"{what}: error {j} does not say {needle!r}")
    return j, arrays


def linear_reference(x):
    w = np.array(LINEAR_WEIGHTS, np.float64).reshape(1, 5, 1, 1)
    return ((x.astype(np.float64) * w).sum(1, keepdims=True) + LINEAR_BIAS).astype(np.float32)


def frames_of(synth, sequence):
    return [cv2.imread(f) for f in sorted(glob.glob(os.path.join(synth, "sequences", sequence, "*.jpg")))]


def check_auth_and_health(server, c):
    anonymous = requests.Session()
    expect(anonymous.get(server.base + "/v2"), 401, "Authorization: Bearer", "GET /v2 without the token")
    expect(anonymous.get(server.base + "/v2", headers={"Authorization": "Bearer wrong"}), 401, None, "a wrong token")
    expect(anonymous.post(server.base + "/v2/models/linear/infer", data=b"{}"), 401, None, "infer without the token")
    expect(anonymous.get(server.base + "/metrics"), 401, None, "/metrics without the token")
    for path in ("/v2/health/live", "/v2/health/ready"):  # probes carry no token
        expect(anonymous.get(server.base + path), 200, None, path)
    anonymous.close()  # an open keep-alive connection would hold a server thread until the server's 5 s timeout
    meta = expect(c.get("/v2"), 200, what="server metadata").json()
    if meta.get("name") != "crowdrt" or not meta.get("version") or not {"binary_tensor_data", "model_repository", "sequence"} <= set(meta.get("extensions", [])):
        fail(f"server metadata {meta}")
    expect(c.get("/v2/no/such/endpoint"), 404, "no endpoint", "an unknown path")


def check_metadata(c):
    m = expect(c.get("/v2/models/linear"), 200, what="model metadata").json()
    want = {"name": "linear", "versions": ["1"], "platform": "crowdrt_plan",
            "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 5, SIZE, SIZE]}],
            "outputs": [{"name": "output", "datatype": "FP32", "shape": [1, 1, SIZE, SIZE]}]}
    if m != want:
        fail(f"metadata of linear {m}, expected {want}")
    if expect(c.get("/v2/models/linear/versions/1"), 200).json() != want:
        fail("metadata of linear version 1 differs from the model's")
    m = expect(c.get("/v2/models/linear_counting"), 200).json()
    if m["inputs"] != [{"name": "frame", "datatype": "UINT8", "shape": [-1, -1, 3]}] or \
            m["outputs"][0] != {"name": "count", "datatype": "FP64", "shape": [1]}:
        fail(f"metadata of linear_counting {m}")
    expect(c.get("/v2/models/linear/versions/2"), 404, "no version '2'", "an unknown version")
    expect(c.get("/v2/models/nope"), 404, "unknown model 'nope'", "an unknown model")
    for bad in ("a..b", "%2E%2E", "a%5Cb"):
        expect(c.get(f"/v2/models/{bad}"), 400, "without '/', '\\', '..'", f"model name {bad}")
        expect(c.post(f"/v2/repository/models/{bad}/load", data=b""), 400, "'..'", f"load {bad}")
    for path in ("/v2/models/linear/ready", "/v2/models/linear/versions/1/ready", "/v2/models/linear_counting/ready"):
        expect(c.get(path), 200, what=path)
    expect(c.get("/v2/models/nope/ready"), 404, None, "ready of an unknown model")
    expect(c.get("/v2/models/linear/versions/3/ready"), 404, None, "ready of an unknown version")


def check_raw_infer(c):
    rng = np.random.default_rng(5)
    x = rng.random((1, 5, SIZE, SIZE), dtype=np.float32)
    want = linear_reference(x)
    j, out = expect_infer(c.infer("linear", {"input": x}, request_id="r-1"), 200, what="JSON infer")
    if j.get("id") != "r-1" or j["model_name"] != "linear" or j.get("model_version") != "1":
        fail(f"response header {dict((k, v) for k, v in j.items() if k != 'outputs')}")
    if j["outputs"][0]["name"] != "output" or j["outputs"][0]["shape"] != [1, 1, SIZE, SIZE]:
        fail(f"output tensor {j['outputs'][0]['name']} {j['outputs'][0]['shape']}")
    if not np.allclose(out["output"], want, atol=1e-4):
        fail("JSON infer: the output differs from numpy's 1x1 convolution")
    # nested "data", as the shape
    body = {"inputs": [{"name": "input", "shape": [1, 5, SIZE, SIZE], "datatype": "FP32", "data": x.tolist()}]}
    r = expect(c.post("/v2/models/linear/versions/1/infer", json=body), 200, what="nested data")
    if not np.allclose(np.array(r.json()["outputs"][0]["data"], np.float32).reshape(want.shape), want, atol=1e-4):
        fail("nested data: the output differs")
    # binary in, binary out: bit-identical to JSON out (float32 survives JSON exactly)
    _, binary = expect_infer(c.infer("linear", {"input": x}, binary_inputs=True, outputs=[("output", True)]), 200,
                             what="binary infer")
    if not np.array_equal(binary["output"], out["output"]):
        fail("binary infer: the output differs from the JSON one")
    r = c.post("/v2/models/linear/infer", data=json.dumps({"inputs": [{"name": "input", "shape": list(x.shape), "datatype": "FP32",
                                                                        "data": x.reshape(-1).tolist()}],
                                                            "parameters": {"binary_data_output": True}}))
    if r.headers.get("Inference-Header-Content-Length") is None or r.headers.get("Content-Type") != "application/octet-stream":
        fail(f"binary_data_output: headers {dict(r.headers)}")
    # errors
    expect_infer(c.infer("linear", {"input": x.astype(np.float64)}), 400, "FP32", "an FP64 input")
    expect_infer(c.infer("linear", {"input": x[:, :3]}), 400, "shape", "a wrong shape")
    expect_infer(c.infer("linear", {"image": x}), 400, "needs input 'input'", "a wrong input name")
    expect_infer(c.infer("linear", {"input": x}, outputs=[("nope", False)]), 400, "not an output", "an unknown output")
    expect_infer(c.infer("nope", {"input": x}), 404, "unknown model", "infer on an unknown model")
    expect_infer(c.infer("linear", {"input": x}, version="9"), 404, "no version", "infer on an unknown version")
    expect(c.post("/v2/models/linear/infer", data=b"{not json"), 400, "not valid JSON", "malformed JSON")
    expect(c.post("/v2/models/linear/infer", data=b"[1, 2]"), 400, "JSON object", "a JSON array")
    short = {"inputs": [{"name": "input", "shape": [1, 5, SIZE, SIZE], "datatype": "FP32", "data": [1.0, 2.0]}]}
    expect(c.post("/v2/models/linear/infer", json=short), 400, "needs 20480", "data that does not fill the shape")
    typed = {"inputs": [{"name": "input", "shape": [2], "datatype": "UINT8", "data": [1, 300]}]}
    expect(c.post("/v2/models/linear/infer", json=typed), 400, "out of range", "a UINT8 value of 300")
    unknown = {"inputs": [{"name": "input", "shape": [1], "datatype": "COMPLEX", "data": [1]}]}
    expect(c.post("/v2/models/linear/infer", json=unknown), 400, "datatype 'COMPLEX'", "an unknown datatype")
    header = json.dumps({"inputs": [{"name": "input", "shape": [1, 5, SIZE, SIZE], "datatype": "FP32",
                                     "parameters": {"binary_data_size": 16}}]}).encode()
    expect(c.post("/v2/models/linear/infer", data=header + b"\0" * 16, headers={"Inference-Header-Content-Length": str(len(header))}),
           400, "does not match shape", "a binary size that is not the shape's")
    expect(c.post("/v2/models/linear/infer", data=header, headers={"Inference-Header-Content-Length": str(len(header) + 5)}),
           400, "Inference-Header-Content-Length", "a header length past the body")
    expect(c.post("/v2/models/linear/infer", data=b"x" * (MAX_BYTES + 500_000)), 413, "--max-request-bytes", "an oversize body")


def counting(c, frame, seq, start=False, end=False, model="linear_counting", outputs=None, extra=None, binary=True):
    parameters = {"sequence_id": seq}
    if start:
        parameters["sequence_start"] = True
    if end:
        parameters["sequence_end"] = True
    parameters.update(extra or {})
    return c.infer(model, {"frame": frame}, parameters=parameters, outputs=outputs, binary_inputs=binary)


def count_of(result, what):
    j, out = expect_infer(result, 200, what=what)
    return float(out["count"][0])


def check_sequences(c, synth):
    a, b = frames_of(synth, "00001"), frames_of(synth, "00002")
    alone = [count_of(counting(c, f, 10, start=i == 0, end=i == len(a) - 1), f"sequence 10 frame {i}") for i, f in enumerate(a)]
    if len(set(alone)) < 2:
        fail(f"the linear model gave one count on every frame ({alone}): the flow changes nothing?")
    # JSON frames give the same counts as binary ones
    json_counts = [count_of(counting(c, f, "s-json", start=i == 0, end=i == 1, binary=False), "JSON frame") for i, f in enumerate(a[:2])]
    if json_counts != alone[:2]:
        fail(f"JSON frames counted {json_counts}, binary ones {alone[:2]}")
    # two sequences interleaved: each keeps its own flow chain
    interleaved_a, interleaved_b = [], []
    for i in range(len(a)):
        interleaved_a.append(count_of(counting(c, a[i], 11, start=i == 0), "interleaved a"))
        interleaved_b.append(count_of(counting(c, b[i], "seq-b", start=i == 0, end=i == len(a) - 1), "interleaved b"))
    if interleaved_a != alone:
        fail(f"interleaved with another sequence, sequence 11 counted {interleaved_a}; alone {alone}")
    first_b = count_of(counting(c, b[0], 12, start=True, end=True), "b alone")
    if first_b != interleaved_b[0]:
        fail("the first frame of b differs alone and interleaved")
    # sequence_start again restarts the flow
    if count_of(counting(c, a[0], 11, start=True), "restart") != alone[0]:
        fail("sequence_start on a live sequence did not restart its flow")
    # end, then a frame without sequence_start; unknown ids; no id
    j, _ = expect_infer(counting(c, a[1], 11, end=True), 200, what="end")
    if j.get("parameters", {}).get("sequence_end") is not True or j["parameters"].get("sequence_frame") != 2:
        fail(f"the last frame's parameters {j.get('parameters')}")
    expect_infer(counting(c, a[2], 11), 400, "sequence_start", "a frame after sequence_end")
    expect_infer(counting(c, a[0], 999), 400, "is not live", "an unknown sequence id")
    expect_infer(c.infer("linear_counting", {"frame": a[0]}, binary_inputs=True), 400, "sequence_id", "no sequence id")
    expect_infer(counting(c, a[0], 0, start=True), 400, "sequence_id", "sequence id 0")
    expect_infer(counting(c, a[0].astype(np.float32), 13, start=True), 400, "UINT8", "an FP32 frame")
    expect_infer(counting(c, np.zeros((8, 8, 4), np.uint8), 13, start=True), 400, "[height, width, 3]", "a 4-channel frame")
    expect_infer(counting(c, a[0], 13, start=True, extra={"sequence_end": "yes"}), 400, "true or false", "a string sequence_end")
    # expiry: idle for longer than --sequence-timeout
    count_of(counting(c, a[0], 20, start=True), "expiry start")
    time.sleep(TIMEOUT_S + 0.6)
    expect_infer(counting(c, a[1], 20), 400, "idle for more than", "a frame after the sequence expired")
    # at most --max-sequences live
    for s in range(MAX_SEQUENCES):
        count_of(counting(c, a[0], 30 + s, start=True), f"live sequence {s}")
    expect_infer(counting(c, a[0], 40, start=True), 429, "--max-sequences", "one sequence too many")
    metrics = c.get("/metrics").text
    if f'crowdrt_live_sequences{{model="linear_counting"}} {MAX_SEQUENCES}' not in metrics:
        fail(f"/metrics does not give {MAX_SEQUENCES} live sequences: {[l for l in metrics.splitlines() if 'live' in l]}")
    for s in range(MAX_SEQUENCES):
        count_of(counting(c, a[1], 30 + s, end=True), f"end live sequence {s}")
    count_of(counting(c, a[0], 40, start=True, end=True), "a sequence once others ended")
    # the density map on request, binary and JSON
    j, out = expect_infer(counting(c, a[0], 50, start=True, end=True, outputs=[("count", False), ("density", True)]), 200,
                          what="density")
    if out["density"].shape != (1, 1, SIZE, SIZE) or abs(out["density"].astype(np.float64).sum() / 100 - out["count"][0]) > 1e-6:
        fail("the density map does not add up to the count")
    if [o["name"] for o in j["outputs"]] != ["count", "density"]:
        fail(f"outputs {[o['name'] for o in j['outputs']]}, asked count and density")
    return alone


def check_zones(c, synth):
    frames = frames_of(synth, "00003")
    zones = {"zones": [{"name": "left", "polygon": [[0, 0], [0.25, 0], [0.25, 1], [0, 1]], "normalized": True, "limit": 1, "frames": 2},
                       {"name": "rest", "polygon": [[0.25, 0], [1, 0], [1, 1], [0.25, 1]], "normalized": True}]}
    total = CONSTANT_BIAS * SIZE * SIZE / 100
    for i, f in enumerate(frames[:2]):
        j, out = expect_infer(counting(c, f, 60, start=i == 0, model="constant_counting",
                                       extra={"zones": json.dumps(zones)} if i == 0 else None), 200, what="zones")
        if out["zone_names"] != ["left", "rest"] or abs(out["zone_counts"][0] - total / 4) > 1e-6 or \
                abs(out["zone_counts"].sum() - out["count"][0]) > 1e-6 or abs(out["count"][0] - total) > 1e-6:
            fail(f"frame {i}: zones {out}")
        if out["zone_alerts"] != (["left:enter"] if i == 1 else []):
            fail(f"frame {i}: alerts {out['zone_alerts']}")
    # the model's config.json zones (one zone over the whole frame) when the request gives none
    j, out = expect_infer(counting(c, frames[0], 62, start=True, end=True, model="constant_counting"), 200, what="config zones")
    if out["zone_names"] != ["all"] or abs(out["zone_counts"][0] - total) > 1e-6:
        fail(f"the config's zones gave {out}")
    expect_infer(counting(c, frames[2], 60, model="constant_counting", extra={"zones": json.dumps(zones)}), 400,
                 "sequence's first frame", "zones on a later frame")
    expect_infer(counting(c, frames[0], 61, start=True, model="constant_counting", extra={"zones": "{\"zones\": 3}"}), 400,
                 "zones", "malformed zones")


def check_repository(c, repository, fixture_plan):
    index = expect(c.post("/v2/repository/index", data=b""), 200, what="index").json()
    names = {(e["name"], e.get("version"), e["state"]) for e in index}
    for want in (("linear", "1", "READY"), ("linear_counting", "1", "READY"), ("constant", "1", "READY")):
        if want not in names:
            fail(f"index {index} lacks {want}")
    expect(c.post("/v2/repository/models/linear/unload", data=b""), 200, what="unload")
    expect(c.get("/v2/models/linear/ready"), 400, "not loaded", "ready after unload")
    expect(c.get("/v2/models/linear_counting/ready"), 400, "not loaded", "ready of the counting model after unload")
    expect_infer(c.infer("linear", {"input": np.zeros((1, 5, SIZE, SIZE), np.float32)}), 404, "not loaded", "infer after unload")
    if ("linear", None, "UNAVAILABLE") not in {(e["name"], e.get("version"), e["state"]) for e in
                                              expect(c.post("/v2/repository/index", json={}), 200).json()}:
        fail("the index does not give the unloaded model as UNAVAILABLE")
    ready_only = expect(c.post("/v2/repository/index", json={"ready": True}), 200).json()
    if any(e["name"].startswith("linear") for e in ready_only):
        fail(f"index with ready: true lists an unloaded model: {ready_only}")
    expect(c.get("/v2/health/ready"), 200, what="ready with a model unloaded on request")
    expect(c.post("/v2/repository/models/linear/load", data=b""), 200, what="load")
    expect(c.get("/v2/models/linear_counting/ready"), 200, what="ready after load")
    expect(c.post("/v2/repository/models/nope/load", data=b""), 404, "no model 'nope'", "load of an unknown model")
    # a model whose plan is not a plan: 400 naming why, and the server is not ready until it is unloaded
    os.makedirs(os.path.join(repository, "broken", "1"))
    with open(os.path.join(repository, "broken", "1", "model.plan"), "wb") as f:
        f.write(b"not a plan")
    expect(c.post("/v2/repository/models/broken/load", data=b""), 400, "failed to load", "load of a broken plan")
    expect(c.get("/v2/health/ready"), 400, None, "ready with a failed model")
    expect(c.post("/v2/repository/models/broken/unload", data=b""), 200, what="unload of the failed model")
    expect(c.get("/v2/health/ready"), 200, what="ready again")
    # frames on the GPU asked of a CPU plan: the model does not load, saying why
    os.makedirs(os.path.join(repository, "gpuflow", "1"))
    shutil.copy(fixture_plan, os.path.join(repository, "gpuflow", "1", "model.plan"))
    with open(os.path.join(repository, "gpuflow", "config.json"), "w") as f:
        f.write('{"flow_device": "cuda"}')
    expect(c.post("/v2/repository/models/gpuflow/load", data=b""), 400, "flow device cuda needs a CUDA plan",
           "flow_device cuda on a CPU plan")
    expect(c.post("/v2/repository/models/gpuflow/unload", data=b""), 200, what="unload of the CPU plan asking for cuda")
    # a new version appears on reload; the highest serves requests without a version
    os.makedirs(os.path.join(repository, "constant", "3"))
    shutil.copy(fixture_plan, os.path.join(repository, "constant", "3", "model.plan"))
    expect(c.post("/v2/repository/models/constant/load", json={}), 200, what="reload")
    if expect(c.get("/v2/models/constant"), 200).json()["versions"] != ["1", "3"]:
        fail("the reloaded model does not list versions 1 and 3")
    j, _ = expect_infer(c.infer("constant", {"input": np.zeros((1, 5, SIZE, SIZE), np.float32)}), 200, what="latest")
    if j["model_version"] != "3":
        fail(f"a request without a version ran version {j['model_version']}, not the highest (3)")


def check_metrics(c, frames):
    text = expect(c.get("/metrics"), 200, what="/metrics").text
    lines = text.splitlines()
    for needle in ('crowdrt_requests_total{model="linear",endpoint="infer"}',
                   'crowdrt_request_failures_total{model="linear",endpoint="infer"}',
                   '# TYPE crowdrt_stage_duration_seconds histogram',
                   'crowdrt_stage_duration_seconds_bucket{model="linear_counting",stage="preprocess",le="+Inf"}',
                   'crowdrt_stage_duration_seconds_count{model="linear_counting",stage="infer"}',
                   'crowdrt_stage_duration_seconds_count{model="linear",stage="queue"}',
                   'crowdrt_request_duration_seconds_bucket{model="linear_counting",endpoint="infer",le="0.5"}',
                   'crowdrt_request_failures_total{model="",endpoint="server_metadata"}'):
        if not any(l.startswith(needle) for l in lines):
            fail(f"/metrics lacks {needle}")
    got = [l for l in lines if l.startswith('crowdrt_frames_total{model="linear_counting"}')]
    if not got or int(got[0].split()[-1]) != frames:
        fail(f"/metrics counts {got} frames of linear_counting, {frames} were answered")


def main():
    crowdrt, fixture, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    repository = os.path.join(work, "repository")
    shutil.copytree(os.path.join(fixture, "repository"), repository)
    with open(os.path.join(repository, "constant", "config.json"), "w") as f:
        json.dump({"instance_count": 2, "zones": [{"name": "all", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]],
                                                   "normalized": True}]}, f)
    synth = os.path.join(fixture, "synth")
    with Server(crowdrt, repository, "--token", TOKEN, "--sequence-timeout", str(TIMEOUT_S), "--max-sequences",
                str(MAX_SEQUENCES), "--max-request-bytes", str(MAX_BYTES), log=os.path.join(work, "serve.log")) as server:
        c = Client(server.base, TOKEN)
        check_auth_and_health(server, c)
        check_metadata(c)
        check_raw_infer(c)
        check_sequences(c, synth)
        check_zones(c, synth)
        frames = int([l for l in c.get("/metrics").text.splitlines()
                      if l.startswith('crowdrt_frames_total{model="linear_counting"}')][0].split()[-1])
        check_metrics(c, frames)
        check_repository(c, repository, os.path.join(fixture, "repository", "constant", "1", "model.plan"))
        c.session.close()
        code = server.stop()
    if code != 0:
        fail(f"crowdrt serve exited {code} on SIGTERM")
    print("ok: health, metadata, JSON / binary infer, errors, sequences, zones, repository, metrics, token")


if __name__ == "__main__":
    main()
