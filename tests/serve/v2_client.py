"""A small client of the Open Inference (KServe v2) protocol over HTTP/REST, written from the published
specification (REST endpoints, inference request and response JSON, the binary tensor data extension), and a helper
that starts `crowdrt serve` on a free loopback port and always stops it.

Used by the serve tests and bench/serve_load.sh; needs python3-requests and numpy."""
import ctypes
import json
import os
import select
import signal
import subprocess
import time

import numpy as np
import requests

DATATYPES = {"BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
             "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64, "FP16": np.float16,
             "FP32": np.float32, "FP64": np.float64}
NUMPY_TO_DATATYPE = {np.dtype(v): k for k, v in DATATYPES.items()}


class Client:
    def __init__(self, base, token=None, timeout=20):
        self.base = base
        self.session = requests.Session()
        self.timeout = timeout
        if token:
            self.session.headers["Authorization"] = "Bearer " + token

    def get(self, path, **kw):
        return self.session.get(self.base + path, timeout=self.timeout, **kw)

    def post(self, path, **kw):
        return self.session.post(self.base + path, timeout=self.timeout, **kw)

    def infer(self, model, inputs, parameters=None, outputs=None, binary_inputs=False, version=None, request_id=None):
        """inputs: {name: numpy array}; outputs: None (all, JSON) or [(name, binary)]. Returns (status, response json,
        {output name: numpy array}) with binary outputs read from the body after the JSON header."""
        path = f"/v2/models/{model}" + (f"/versions/{version}" if version else "") + "/infer"
        request = {"inputs": []}
        if request_id:
            request["id"] = request_id
        if parameters:
            request["parameters"] = parameters
        if outputs is not None:
            request["outputs"] = [{"name": n, "parameters": {"binary_data": b}} for n, b in outputs]
        blobs = []
        for name, array in inputs.items():
            t = {"name": name, "shape": list(array.shape), "datatype": NUMPY_TO_DATATYPE[array.dtype]}
            if binary_inputs:
                data = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
                t["parameters"] = {"binary_data_size": len(data)}
                blobs.append(data)
            else:
                t["data"] = array.reshape(-1).tolist()
            request["inputs"].append(t)
        header = json.dumps(request).encode()
        if binary_inputs:
            r = self.post(path, data=header + b"".join(blobs),
                          headers={"Inference-Header-Content-Length": str(len(header)),
                                   "Content-Type": "application/octet-stream"})
        else:
            r = self.post(path, data=header, headers={"Content-Type": "application/json"})
        return decode_response(r)


def decode_response(r):
    body = r.content
    length = r.headers.get("Inference-Header-Content-Length")
    head = body[:int(length)] if length is not None else body
    j = json.loads(head) if head else {}
    arrays = {}
    if r.status_code != 200:
        return r.status_code, j, arrays
    rest = body[int(length):] if length is not None else b""
    for out in j["outputs"]:
        size = out.get("parameters", {}).get("binary_data_size")
        if size is not None:
            raw, rest = rest[:size], rest[size:]
            if out["datatype"] == "BYTES":
                items = []
                while raw:
                    n = int.from_bytes(raw[:4], "little")
                    items.append(raw[4:4 + n].decode())
                    raw = raw[4 + n:]
                arrays[out["name"]] = items
            else:
                arrays[out["name"]] = np.frombuffer(raw, DATATYPES[out["datatype"]]).reshape(out["shape"])
        elif out["datatype"] == "BYTES":
            arrays[out["name"]] = list(out["data"])
        else:
            arrays[out["name"]] = np.array(out["data"], DATATYPES[out["datatype"]]).reshape(out["shape"])
    if rest:
        raise AssertionError(f"{len(rest)} bytes after the binary outputs")
    return r.status_code, j, arrays


def _die_with_parent():
    """In the server's child process: SIGKILL it when the test that started it dies (even by SIGKILL, e.g. ctest's
    timeout), so that no server outlives its test (Linux prctl PR_SET_PDEATHSIG)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


class Server:
    """`crowdrt serve` on 127.0.0.1 and free ports (--http-port 0, and --grpc-port 0 unless extra turns gRPC off; the
    ports are read from its first line). grpc_target: "127.0.0.1:PORT", or None without gRPC."""

    def __init__(self, crowdrt, repository, *extra, log=None, start_timeout=30):
        self.log = open(log or os.devnull, "w")
        grpc_port = [] if "--allow-grpc" in extra else ["--grpc-port", "0"]
        self.proc = subprocess.Popen([crowdrt, "serve", "--model-repository", repository, "--http-port", "0", *grpc_port, *extra],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     preexec_fn=_die_with_parent)
        deadline = time.time() + start_timeout
        line = ""
        while time.time() < deadline and self.proc.poll() is None:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                break
        if "http://127.0.0.1:" not in line:
            self.stop()
            raise SystemExit(f"FAIL: crowdrt serve did not start (first line {line!r}, exit {self.proc.poll()})")
        self.port = int(line.split("http://127.0.0.1:")[1].split()[0])
        self.base = f"http://127.0.0.1:{self.port}"
        self.grpc_target = None
        if "grpc 127.0.0.1:" in line:
            self.grpc_target = "127.0.0.1:" + line.split("grpc 127.0.0.1:")[1].split()[0]

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s; returns the exit status. The server finishes the connections it serves
        first: close clients' keep-alive sessions before, or it waits for their 5 s keep-alive timeout."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
