"""Writes a TensorRT-format min-max calibration cache for an ONNX model from random frames (uniform [0, 1), as
the benchmark's input), with ONNX Runtime on the CPU: every tensor's max|x| over the frames, as the scale
max|x| / 127 in hex. For speed benchmarks of int8 engines where no calibration data travels (the GPU bundle
reads no images); the accuracy of such a cache means nothing. crowdrt reads it with
`build --precision int8 --calibrator minmax --calib-cache FILE`.

usage: python3 bench/calib_cache_random.py MODEL.onnx CACHE [--frames N]
"""
import struct
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main():
    model_path, cache_path = sys.argv[1], sys.argv[2]
    frames = int(sys.argv[sys.argv.index("--frames") + 1]) if "--frames" in sys.argv else 4
    model = onnx.load(model_path)
    known = {o.name for o in model.graph.output}
    names = [o for n in model.graph.node for o in n.output if o and o not in known]
    for name in names:
        model.graph.output.append(onnx.ValueInfoProto(name=name))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    outputs = [o.name for o in session.get_outputs()]
    amax = {}
    for seed in range(frames):
        x = np.random.default_rng(11 + seed).random(inp.shape, dtype=np.float32)
        values = session.run(outputs, {inp.name: x})
        for name, value in [(inp.name, x)] + list(zip(outputs, values)):
            if not isinstance(value, np.ndarray) or value.dtype != np.float32 or value.size == 0:
                continue
            amax[name] = max(amax.get(name, 0.0), float(np.abs(value).max()))
    with open(cache_path, "w") as f:
        f.write("TRT-8510-MinMaxCalibration\n")
        for name, m in amax.items():
            if m > 0:
                f.write(f"{name}: {struct.unpack('>I', struct.pack('>f', m / 127.0))[0]:08x}\n")
    print(f"{cache_path}: {len(amax)} tensors over {frames} random frames", flush=True)


if __name__ == "__main__":
    main()
