"""`crowdrt serve` against the Open Inference (KServe v2) protocol, over HTTP with the client of v2_client.py (written
from the specification): health, server and model metadata, model ready, inference with JSON tensors (flat and
nested) and binary tensors, output selection, the counting model's sequences (start, continue, end, expiry, unknown
id, two interleaved, the limit on live ones, zones from the request and from config.json), the repository's index / load / unload, /metrics, the bearer
token, model names that could leave the repository, and the errors' statuses (400, 401, 404, 413, 429); then the same
server over gRPC with the client of v2_grpc_client.py (stubs compiled from our .proto at run time): every call, raw and
typed tensor contents, the sequences, the errors' status codes, the token in metadata, and gRPC in /metrics.

usage: check_serve_protocol.py CROWDRT FIXTURE_WORK WORK
"""
import glob
import json
import os
import shutil
import sys
import time

import cv2
import grpc
import numpy as np
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "eval"))
from make_models import CONSTANT_BIAS, LINEAR_BIAS, LINEAR_WEIGHTS  # noqa: E402
from v2_client import Client, Server  # noqa: E402
from v2_grpc_client import GrpcClient, parameter_value, pb  # noqa: E402

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
    for needle in ('crowdrt_requests_total{model="linear",endpoint="infer",protocol="http"}',
                   'crowdrt_request_failures_total{model="linear",endpoint="infer",protocol="http"}',
                   '# TYPE crowdrt_stage_duration_seconds histogram',
                   'crowdrt_stage_duration_seconds_bucket{model="linear_counting",stage="preprocess",le="+Inf"}',
                   'crowdrt_stage_duration_seconds_count{model="linear_counting",stage="infer"}',
                   'crowdrt_stage_duration_seconds_count{model="linear",stage="queue"}',
                   'crowdrt_request_duration_seconds_bucket{model="linear_counting",endpoint="infer",protocol="http",le="0.5"}',
                   'crowdrt_request_failures_total{model="",endpoint="server_metadata",protocol="http"}'):
        if not any(l.startswith(needle) for l in lines):
            fail(f"/metrics lacks {needle}")
    got = [l for l in lines if l.startswith('crowdrt_frames_total{model="linear_counting"}')]
    if not got or int(got[0].split()[-1]) != frames:
        fail(f"/metrics counts {got} frames of linear_counting, {frames} were answered")


# ---- the same server over gRPC ----

def expect_code(result, code, needle=None, what=""):
    """result: (grpc.StatusCode, response or details[, arrays]); the code, and for errors details holding needle."""
    got, response = result[0], result[1]
    if got != code:
        fail(f"gRPC {what}: status {got}, expected {code}: {str(response)[:300]}")
    if code != grpc.StatusCode.OK and needle and needle not in response:
        fail(f"gRPC {what}: error {response!r} does not say {needle!r}")
    return result


def grpc_counting(g, frame, seq, start=False, end=False, raw=True, outputs=None):
    parameters = {"sequence_id": seq}
    if start:
        parameters["sequence_start"] = True
    if end:
        parameters["sequence_end"] = True
    return g.infer("linear_counting", {"frame": frame}, parameters=parameters, raw=raw, outputs=outputs)


def grpc_count(result, what):
    _, _, arrays = expect_code(result, grpc.StatusCode.OK, what=what)
    return float(arrays["count"][0])


def check_grpc_health_and_metadata(server, g):
    OK = grpc.StatusCode.OK
    anonymous = GrpcClient(server.grpc_target)
    if not expect_code(anonymous.call("ServerLive", pb.ServerLiveRequest()), OK, what="ServerLive without the token")[1].live:
        fail("ServerLive says not live")
    if not expect_code(anonymous.call("ServerReady", pb.ServerReadyRequest()), OK, what="ServerReady")[1].ready:
        fail("ServerReady says not ready")
    for method, request in (("ServerMetadata", pb.ServerMetadataRequest()), ("ModelMetadata", pb.ModelMetadataRequest(name="linear")),
                            ("ModelInfer", pb.ModelInferRequest(model_name="linear")), ("RepositoryIndex", pb.RepositoryIndexRequest())):
        expect_code(anonymous.call(method, request), grpc.StatusCode.UNAUTHENTICATED, "authorization: Bearer", f"{method} without the token")
    expect_code(anonymous.call("ServerMetadata", pb.ServerMetadataRequest(), metadata=[("authorization", "Bearer wrong")]),
                grpc.StatusCode.UNAUTHENTICATED, None, "a wrong token")
    anonymous.close()
    meta = expect_code(g.call("ServerMetadata", pb.ServerMetadataRequest()), OK, what="ServerMetadata")[1]
    if meta.name != "crowdrt" or not meta.version or not {"binary_tensor_data", "model_repository", "sequence"} <= set(meta.extensions):
        fail(f"gRPC server metadata {meta}")
    m = expect_code(g.call("ModelMetadata", pb.ModelMetadataRequest(name="linear")), OK, what="ModelMetadata")[1]
    got = (m.name, list(m.versions), m.platform, [(t.name, t.datatype, list(t.shape)) for t in m.inputs],
           [(t.name, t.datatype, list(t.shape)) for t in m.outputs])
    want = ("linear", ["1"], "crowdrt_plan", [("input", "FP32", [1, 5, SIZE, SIZE])], [("output", "FP32", [1, 1, SIZE, SIZE])])
    if got != want:
        fail(f"gRPC metadata of linear {got}, expected {want}")
    m = expect_code(g.call("ModelMetadata", pb.ModelMetadataRequest(name="linear_counting", version="1")), OK)[1]
    if [(t.name, t.datatype, list(t.shape)) for t in m.inputs] != [("frame", "UINT8", [-1, -1, 3])]:
        fail(f"gRPC metadata of linear_counting {m}")
    expect_code(g.call("ModelMetadata", pb.ModelMetadataRequest(name="nope")), grpc.StatusCode.NOT_FOUND, "unknown model 'nope'", "an unknown model")
    expect_code(g.call("ModelMetadata", pb.ModelMetadataRequest(name="linear", version="2")), grpc.StatusCode.NOT_FOUND, "no version '2'",
                "an unknown version")
    expect_code(g.call("ModelMetadata", pb.ModelMetadataRequest(name="a..b")), grpc.StatusCode.INVALID_ARGUMENT, "'..'", "name a..b")
    for name in ("linear", "linear_counting"):
        if not expect_code(g.call("ModelReady", pb.ModelReadyRequest(name=name)), OK, what=f"ModelReady {name}")[1].ready:
            fail(f"gRPC ModelReady: {name} is not ready")
    expect_code(g.call("ModelReady", pb.ModelReadyRequest(name="nope")), grpc.StatusCode.NOT_FOUND, None, "ModelReady of an unknown model")


def check_grpc_infer(g):
    """Returns how many ModelInfer calls reached model linear (the metrics must count as many)."""
    OK, INVALID = grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT
    rng = np.random.default_rng(6)
    x = rng.random((1, 5, SIZE, SIZE), dtype=np.float32)
    want = linear_reference(x)
    _, r, out = expect_code(g.infer("linear", {"input": x}, request_id="g-1"), OK, what="raw infer")
    if r.id != "g-1" or r.model_name != "linear" or r.model_version != "1" or [o.name for o in r.outputs] != ["output"]:
        fail(f"gRPC response header {r.id!r} {r.model_name!r} {r.model_version!r} {[o.name for o in r.outputs]}")
    if list(r.outputs[0].shape) != [1, 1, SIZE, SIZE] or not np.allclose(out["output"], want, atol=1e-4):
        fail("gRPC raw infer: the output differs from numpy's 1x1 convolution")
    _, _, typed = expect_code(g.infer("linear", {"input": x}, raw=False, version="1", outputs=["output"]), OK, what="typed infer")
    if not np.array_equal(typed["output"], out["output"]):
        fail("gRPC fp32_contents gave another output than raw_input_contents")
    # errors, each INVALID_ARGUMENT or NOT_FOUND with the HTTP side's message
    expect_code(g.infer("linear", {"input": x.astype(np.float64)}), INVALID, "FP32", "an FP64 input")
    expect_code(g.infer("linear", {"input": x[:, :3]}), INVALID, "shape", "a wrong shape")
    expect_code(g.infer("linear", {"image": x}), INVALID, "needs input 'input'", "a wrong input name")
    expect_code(g.infer("linear", {"input": x}, outputs=["nope"]), INVALID, "not an output", "an unknown output")
    expect_code(g.infer("nope", {"input": x}), grpc.StatusCode.NOT_FOUND, "unknown model", "infer on an unknown model")
    expect_code(g.infer("linear", {"input": x}, version="9"), grpc.StatusCode.NOT_FOUND, "no version", "an unknown version")
    short = g.infer_request("linear", {"input": x})
    short.raw_input_contents[0] = short.raw_input_contents[0][:-4]
    expect_code(g.call("ModelInfer", short), INVALID, "needs 81920", "raw contents one element short")
    extra = g.infer_request("linear", {"input": x})
    extra.raw_input_contents.append(b"\0" * 4)
    expect_code(g.call("ModelInfer", extra), INVALID, "one per input", "more raw contents than inputs")
    both = g.infer_request("linear", {"input": x})
    both.inputs[0].contents.fp32_contents.extend([1.0])
    expect_code(g.call("ModelInfer", both), INVALID, "not both", "contents and raw contents")
    wrong_field = g.infer_request("linear", {"input": x}, raw=False)
    wrong_field.inputs[0].contents.fp64_contents.extend(wrong_field.inputs[0].contents.fp32_contents)
    del wrong_field.inputs[0].contents.fp32_contents[:]
    expect_code(g.call("ModelInfer", wrong_field), INVALID, "fp32_contents", "FP32 elements in fp64_contents")
    typed_range = g.infer_request("linear", {"input": np.array([1, 300], np.uint16)}, raw=False)
    typed_range.inputs[0].datatype = "UINT8"
    expect_code(g.call("ModelInfer", typed_range), INVALID, "out of range", "a UINT8 value of 300")
    unknown = g.infer_request("linear", {"input": x})
    unknown.inputs[0].datatype = "COMPLEX"
    expect_code(g.call("ModelInfer", unknown), INVALID, "datatype 'COMPLEX'", "an unknown datatype")
    negative = g.infer_request("linear", {"input": x})
    negative.inputs[0].shape[1] = -5
    expect_code(g.call("ModelInfer", negative), INVALID, "non-negative", "a negative dimension")
    big = np.zeros(MAX_BYTES // 4 + 100_000, np.float32)
    expect_code(g.infer("linear", {"input": big}), grpc.StatusCode.RESOURCE_EXHAUSTED, None, "a message over --max-request-bytes")
    return 14  # the calls above that named linear and reached the server (2 answered, 12 refused once linear was found)


def check_grpc_sequences(g, http, synth, alone):
    OK, INVALID = grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT
    a, b = frames_of(synth, "00001"), frames_of(synth, "00002")
    idle_start = time.time()
    grpc_count(grpc_counting(g, a[0], 70, start=True), "the sequence left to expire")
    for s in range(MAX_SEQUENCES - 1):  # with 70 live: the limit on live sequences
        grpc_count(grpc_counting(g, a[0], 80 + s, start=True), f"live sequence {s}")
    expect_code(grpc_counting(g, a[0], 90, start=True), grpc.StatusCode.RESOURCE_EXHAUSTED, "--max-sequences", "one sequence too many")
    for s in range(MAX_SEQUENCES - 1):
        grpc_count(grpc_counting(g, a[1], 80 + s, end=True), f"end live sequence {s}")
    # start, continue, end: the same counts as over HTTP (the flow chain is the server's, whichever protocol)
    counts = [grpc_count(grpc_counting(g, f, 71, start=i == 0, end=i == len(a) - 1), f"gRPC frame {i}") for i, f in enumerate(a)]
    if counts != alone:
        fail(f"over gRPC sequence 71 counted {counts}; over HTTP {alone}")
    # typed uint_contents frames, and two sequences interleaved (one with a string id)
    if grpc_count(grpc_counting(g, a[0], "typed", start=True, end=True, raw=False), "a typed frame") != alone[0]:
        fail("a frame in uint_contents counted otherwise than raw")
    interleaved = []
    for i in range(len(a)):
        interleaved.append(grpc_count(grpc_counting(g, a[i], 72, start=i == 0, end=i == len(a) - 1), "interleaved a"))
        grpc_count(grpc_counting(g, b[i], "g-b", start=i == 0, end=i == len(a) - 1), "interleaved b")
    if interleaved != alone:
        fail(f"interleaved over gRPC, sequence 72 counted {interleaved}; alone {alone}")
    # a sequence started over HTTP continues over gRPC: one table of sequences behind both protocols
    count_of(counting(http, a[0], 75, start=True), "HTTP start of sequence 75")
    if grpc_count(grpc_counting(g, a[1], 75, end=True), "gRPC frame 2 of sequence 75") != alone[1]:
        fail("sequence 75's second frame, sent over gRPC after its first over HTTP, counted otherwise than alone")
    # the last frame's response parameters, the density on request
    _, r, out = expect_code(grpc_counting(g, a[0], 73, start=True, end=True, outputs=["count", "density"]), OK, what="density")
    params = {k: parameter_value(v) for k, v in r.parameters.items()}
    if params.get("sequence_end") is not True or params.get("sequence_frame") != 1 or params.get("sequence_id") != 73:
        fail(f"gRPC response parameters {params}")
    if out["density"].shape != (1, 1, SIZE, SIZE) or abs(out["density"].astype(np.float64).sum() / 100 - out["count"][0]) > 1e-6:
        fail("gRPC: the density map does not add up to the count")
    # errors
    expect_code(grpc_counting(g, a[1], 73), INVALID, "sequence_start", "a frame after sequence_end")
    expect_code(grpc_counting(g, a[0], 999), INVALID, "is not live", "an unknown sequence id")
    expect_code(g.infer("linear_counting", {"frame": a[0]}), INVALID, "sequence_id", "no sequence id")
    expect_code(grpc_counting(g, np.zeros((8, 8, 4), np.uint8), 74, start=True), INVALID, "[height, width, 3]", "a 4-channel frame")
    # expiry: sequence 70 has been idle since idle_start
    time.sleep(max(0.0, idle_start + TIMEOUT_S + 0.6 - time.time()))
    expect_code(grpc_counting(g, a[1], 70), INVALID, "idle for more than", "a frame after the sequence expired")
    return len(a) * 3 + 1 + 1 + 1 + 2 + 2 * (MAX_SEQUENCES - 1)  # the frames counted above


def check_grpc_repository(g):
    OK = grpc.StatusCode.OK
    index = expect_code(g.call("RepositoryIndex", pb.RepositoryIndexRequest()), OK, what="RepositoryIndex")[1]
    rows = {(m.name, m.version, m.state) for m in index.models}
    for want in (("linear", "1", "READY"), ("linear_counting", "1", "READY")):
        if want not in rows:
            fail(f"gRPC index {rows} lacks {want}")
    expect_code(g.call("RepositoryModelUnload", pb.RepositoryModelUnloadRequest(model_name="linear_counting")), OK, what="unload")
    if expect_code(g.call("ModelReady", pb.ModelReadyRequest(name="linear")), OK)[1].ready:
        fail("gRPC ModelReady: linear is ready after its unload")
    expect_code(g.infer("linear", {"input": np.zeros((1, 5, SIZE, SIZE), np.float32)}), grpc.StatusCode.NOT_FOUND, "not loaded",
                "infer after unload")
    ready = expect_code(g.call("RepositoryIndex", pb.RepositoryIndexRequest(ready=True)), OK)[1]
    if any(m.name.startswith("linear") for m in ready.models):
        fail("gRPC index with ready: true lists an unloaded model")
    load = pb.RepositoryModelLoadRequest(model_name="linear")
    load.parameters["config"].string_param = "{}"
    expect_code(g.call("RepositoryModelLoad", load), grpc.StatusCode.INVALID_ARGUMENT, "no load / unload parameters", "load parameters")
    expect_code(g.call("RepositoryModelLoad", pb.RepositoryModelLoadRequest(model_name="linear")), OK, what="load")
    if not expect_code(g.call("ModelReady", pb.ModelReadyRequest(name="linear_counting")), OK)[1].ready:
        fail("gRPC ModelReady: linear_counting is not ready after load")
    expect_code(g.call("RepositoryModelLoad", pb.RepositoryModelLoadRequest(model_name="nope")), grpc.StatusCode.NOT_FOUND,
                "no model 'nope'", "load of an unknown model")


def metric(text, line_start):
    got = [l for l in text.splitlines() if l.startswith(line_start)]
    return float(got[0].split()[-1]) if got else 0.0


def check_grpc(server, c, synth, alone):
    if not server.grpc_target:
        fail("crowdrt serve did not say its gRPC port on its first line")
    before = c.get("/metrics").text
    g = GrpcClient(server.grpc_target, TOKEN)
    check_grpc_health_and_metadata(server, g)
    linear_calls = check_grpc_infer(g)
    frames = check_grpc_sequences(g, c, synth, alone)
    check_grpc_repository(g)
    g.close()
    after = c.get("/metrics").text
    calls = metric(after, 'crowdrt_requests_total{model="linear",endpoint="infer",protocol="grpc"}')
    failed = metric(after, 'crowdrt_request_failures_total{model="linear",endpoint="infer",protocol="grpc"}')
    if (calls, failed) != (linear_calls, linear_calls - 2):
        fail(f"/metrics counts {calls} gRPC infer calls of linear ({failed} failed); {linear_calls} were made ({linear_calls - 2} failed)")
    served = metric(after, 'crowdrt_frames_total{model="linear_counting"}') - metric(before, 'crowdrt_frames_total{model="linear_counting"}')
    if served != frames:
        fail(f"/metrics counts {served} more frames of linear_counting; {frames} were answered (all but one over gRPC)")
    if metric(after, 'crowdrt_requests_total{model="",endpoint="server_metadata",protocol="grpc"}') < 2:
        fail("/metrics does not count the gRPC ServerMetadata calls")


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
        alone = check_sequences(c, synth)
        check_zones(c, synth)
        frames = int([l for l in c.get("/metrics").text.splitlines()
                      if l.startswith('crowdrt_frames_total{model="linear_counting"}')][0].split()[-1])
        check_metrics(c, frames)
        check_repository(c, repository, os.path.join(fixture, "repository", "constant", "1", "model.plan"))
        check_grpc(server, c, synth, alone)
        c.session.close()
        code = server.stop()
    if code != 0:
        fail(f"crowdrt serve exited {code} on SIGTERM")
    print("ok: health, metadata, JSON / binary infer, errors, sequences, zones, repository, metrics, token; the same over gRPC")


if __name__ == "__main__":
    main()
