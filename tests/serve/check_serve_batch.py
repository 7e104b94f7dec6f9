"""`crowdrt serve`'s dynamic batching: the fixture's linear model built as a batch-4 plan (`crowdrt build --input-shape
input:4x5x64x64` on its batch-1 ONNX) with dynamic_batching in its config.json. 4 concurrent sequences of `crowdrt
synth` frames sent to batch4_counting get exactly the per-frame counts of `crowdrt eval --serial` on the batch-1 plan;
4 concurrent batch-1 raw infers get exactly the batch-1 plan's outputs; /metrics shows engine runs of more than one
request; the metadata says the batch; a batch neither 1 nor 4 is refused with 400.

usage: check_serve_batch.py CROWDRT FIXTURE_WORK WORK
"""
import json
import os
import shutil
import subprocess
import sys
import threading

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from check_serve_streams import eval_counts, fail, stream  # noqa: E402
from v2_client import Client, Server  # noqa: E402

SIZE = 64
BATCH = 4


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
    return r


def make_repository(crowdrt, fixture, work):
    repository = os.path.join(work, "repository")
    os.makedirs(os.path.join(repository, "linear", "1"))
    os.makedirs(os.path.join(repository, "batch4", "1"))
    shutil.copy(os.path.join(fixture, "repository", "linear", "1", "model.plan"), os.path.join(repository, "linear", "1"))
    run(crowdrt, "build", "--onnx", os.path.join(fixture, "models", "linear.onnx"), "--input-shape",
        f"input:{BATCH}x5x{SIZE}x{SIZE}", "-o", os.path.join(repository, "batch4", "1", "model.plan"), "-q")
    # Long enough that the streams' frames, each sent as soon as the previous answer came, meet in batches.
    with open(os.path.join(repository, "batch4", "config.json"), "w") as f:
        json.dump({"dynamic_batching": {"max_queue_delay_microseconds": 150000}}, f)
    return repository


def raw_infers(base, model, inputs, results, errors):
    def one(k):
        try:
            code, j, out = Client(base).infer(model, {"input": inputs[k]}, binary_inputs=True, outputs=[("output", True)])
            if code != 200:
                raise RuntimeError(f"status {code}: {j}")
            results[k] = out["output"]
        except Exception as e:  # reported by the caller
            errors.append(f"raw infer {k} on {model}: {e}")
    threads = [threading.Thread(target=one, args=(k,)) for k in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)


def main():
    crowdrt, fixture, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    synth = os.path.join(fixture, "synth")
    repository = make_repository(crowdrt, fixture, work)
    expected = eval_counts(crowdrt, os.path.join(repository, "linear", "1", "model.plan"), synth, work)
    if len(expected) != 4:
        fail(f"eval counted {len(expected)} sequences, the fixture has 4")
    with Server(crowdrt, repository, log=os.path.join(work, "serve.log")) as server:
        c = Client(server.base)
        meta = c.get("/v2/models/batch4").json()
        if meta["inputs"][0]["shape"] != [-1, 5, SIZE, SIZE] or meta.get("parameters", {}).get("max_batch_size") != BATCH:
            fail(f"metadata of the batch-4 plan: {meta}")
        counting_meta = c.get("/v2/models/batch4_counting").json()
        density = [o for o in counting_meta["outputs"] if o["name"] == "density"]
        if not density or density[0]["shape"] != [1, 1, SIZE, SIZE]:
            fail(f"metadata of batch4_counting: {counting_meta}")

        # 4 sequences at once: frames of different sequences share batches, each sequence's frames stay in order.
        results, errors = {}, []
        threads = [threading.Thread(target=stream, args=(server.base, synth, s, 300 + k, results, errors, "batch4_counting"))
                   for k, s in enumerate(sorted(expected))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        if errors or any(t.is_alive() for t in threads):
            fail(f"streams: {errors or 'a stream did not finish in 60 s'}")
        for seq, counts in sorted(expected.items()):
            if results.get(seq) != counts:
                fail(f"sequence {seq}: the batch-4 plan counted {results.get(seq)}, crowdrt eval --serial on the batch-1 "
                     f"plan {counts}")

        # Raw infers of one item each, 4 at once, against the batch-1 plan's answers; the whole batch in one request.
        rng = np.random.default_rng(7)
        inputs = [rng.uniform(-1, 1, (1, 5, SIZE, SIZE)).astype(np.float32) for _ in range(BATCH)]
        want, got, errors = [None] * BATCH, [None] * BATCH, []
        raw_infers(server.base, "linear", inputs, want, errors)
        raw_infers(server.base, "batch4", inputs, got, errors)
        code, j, whole = c.infer("batch4", {"input": np.concatenate(inputs)}, binary_inputs=True, outputs=[("output", True)])
        if errors or code != 200:
            fail(f"raw infers: {errors or j}")
        for k in range(BATCH):
            if got[k].shape != (1, 1, SIZE, SIZE) or not np.array_equal(got[k], want[k]):
                fail(f"raw item {k}: the batch-4 plan gave {got[k].shape}, max difference "
                     f"{np.abs(got[k] - want[k]).max()} from the batch-1 plan")
            if not np.array_equal(whole["output"][k], want[k][0]):
                fail(f"item {k} of a whole-batch request differs from the batch-1 plan's answer")
        code, j, _ = c.infer("batch4", {"input": np.zeros((3, 5, SIZE, SIZE), np.float32)})
        if code != 400 or "[1,5,64,64] (one item" not in j.get("error", ""):
            fail(f"a batch of 3 was answered {code} {j}")

        text = c.get("/metrics").text
        runs = {}
        for line in text.splitlines():
            if line.startswith('crowdrt_batches_total{model="batch4",size="'):
                runs[int(line.split('size="')[1].split('"')[0])] = int(line.split()[-1])
        frames = sum(len(v) for v in expected.values())
        items = sum(size * n for size, n in runs.items())
        if not any(size > 1 for size in runs) or max(runs) > BATCH:
            fail(f"/metrics: batch4's engine runs by size {runs}: none with more than one request, or above {BATCH}")
        if items != frames + BATCH:
            fail(f"/metrics: batch4's runs hold {items} requests; {frames} frames and {BATCH} raw items were sent")
        if 'crowdrt_batches_total{model="linear"' in text:
            fail("/metrics: the batch-1 plan ran through the batcher")
        c.session.close()
        code = server.stop()
    if code != 0:
        fail(f"crowdrt serve exited {code} on SIGTERM")
    print(f"ok: 4 streams ({frames} frames) on a batch-4 plan equal eval --serial on the batch-1 plan; raw items equal; "
          f"engine runs by requests per run: {dict(sorted(runs.items()))}")


if __name__ == "__main__":
    main()
