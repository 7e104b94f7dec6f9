"""A small client of the Open Inference (KServe v2) protocol over gRPC, written from the published specification
(the GRPCInferenceService messages: raw_input_contents / raw_output_contents, typed contents, InferParameter maps).
The stubs are generated at run time from the server's own src/serve/kserve/grpc_predict_v2.proto with
grpc_tools.protoc into a temporary folder.

Needs python3-grpcio, python3-grpc-tools and numpy (Debian's /usr/bin/python3)."""
import atexit
import importlib
import os
import shutil
import sys
import tempfile

import grpc
import numpy as np
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "..", "..", "src", "serve", "kserve", "grpc_predict_v2.proto")

DATATYPES = {"BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
             "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64, "FP16": np.float16,
             "FP32": np.float32, "FP64": np.float64}
NUMPY_TO_DATATYPE = {np.dtype(v): k for k, v in DATATYPES.items()}
# The typed contents field of each datatype (the protocol's InferTensorContents).
CONTENTS_FIELD = {"BOOL": "bool_contents", "INT8": "int_contents", "INT16": "int_contents", "INT32": "int_contents",
                  "INT64": "int64_contents", "UINT8": "uint_contents", "UINT16": "uint_contents",
                  "UINT32": "uint_contents", "UINT64": "uint64_contents", "FP32": "fp32_contents",
                  "FP64": "fp64_contents"}


def generated_modules():
    """(messages module, stubs module) compiled from the server's .proto."""
    out = tempfile.mkdtemp(prefix="crowdrt_grpc_")
    atexit.register(shutil.rmtree, out, True)
    folder = os.path.dirname(os.path.abspath(PROTO))
    if protoc.main(["protoc", f"-I{folder}", f"--python_out={out}", f"--grpc_python_out={out}", os.path.abspath(PROTO)]) != 0:
        raise SystemExit(f"FAIL: grpc_tools.protoc could not compile {PROTO}")
    sys.path.insert(0, out)
    return importlib.import_module("grpc_predict_v2_pb2"), importlib.import_module("grpc_predict_v2_pb2_grpc")


pb, pb_grpc = generated_modules()


def set_parameter(parameter, value):
    if isinstance(value, bool):
        parameter.bool_param = value
    elif isinstance(value, int):
        parameter.int64_param = value
    elif isinstance(value, float):
        parameter.double_param = value
    else:
        parameter.string_param = value


def parameter_value(parameter):
    return getattr(parameter, parameter.WhichOneof("parameter_choice"))


def decode_outputs(response):
    """{output name: numpy array, or a list of str for BYTES} from raw_output_contents."""
    if len(response.raw_output_contents) != len(response.outputs):
        raise AssertionError(f"{len(response.raw_output_contents)} raw contents for {len(response.outputs)} outputs")
    arrays = {}
    for out, raw in zip(response.outputs, response.raw_output_contents):
        if out.datatype == "BYTES":
            items = []
            while raw:
                n = int.from_bytes(raw[:4], "little")
                items.append(raw[4:4 + n].decode())
                raw = raw[4 + n:]
            arrays[out.name] = items
        else:
            arrays[out.name] = np.frombuffer(raw, DATATYPES[out.datatype]).reshape(list(out.shape))
    return arrays


class GrpcClient:
    def __init__(self, target, token=None, timeout=20):
        self.channel = grpc.insecure_channel(target, options=[("grpc.max_send_message_length", 64 << 20),
                                                              ("grpc.max_receive_message_length", 64 << 20)])
        self.stub = pb_grpc.GRPCInferenceServiceStub(self.channel)
        self.metadata = [("authorization", "Bearer " + token)] if token else []
        self.timeout = timeout

    def call(self, method, request, metadata=None):
        """(grpc.StatusCode, the response or the error's details)."""
        try:
            return grpc.StatusCode.OK, getattr(self.stub, method)(request, timeout=self.timeout,
                                                                  metadata=self.metadata if metadata is None else metadata)
        except grpc.RpcError as e:
            return e.code(), e.details()

    def infer_request(self, model, inputs, parameters=None, outputs=None, raw=True, version="", request_id=""):
        """inputs: {name: numpy array}, sent as raw_input_contents or (raw=False) typed contents."""
        request = pb.ModelInferRequest(model_name=model, model_version=version, id=request_id)
        for name, value in (parameters or {}).items():
            set_parameter(request.parameters[name], value)
        for name, array in inputs.items():
            datatype = NUMPY_TO_DATATYPE[array.dtype]
            tensor = request.inputs.add(name=name, datatype=datatype, shape=list(array.shape))
            if raw:
                request.raw_input_contents.append(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes())
            else:
                getattr(tensor.contents, CONTENTS_FIELD[datatype]).extend(array.reshape(-1).tolist())
        for name in outputs or []:
            request.outputs.add(name=name)
        return request

    def infer(self, model, inputs, **kw):
        """(status code, response or error details, {output name: array})."""
        code, response = self.call("ModelInfer", self.infer_request(model, inputs, **kw))
        return code, response, decode_outputs(response) if code == grpc.StatusCode.OK else {}

    def close(self):
        self.channel.close()
