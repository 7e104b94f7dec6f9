"""Where the CUDA engine's time goes: each layer of a `crowdrt perf --json` profile (GPU, per-layer events) set
against its floor, the larger of its FLOPs at the GPU's peak and its bytes (inputs, weights, output once each)
at the GPU's memory bandwidth. Defaults are the H100 SXM's datasheet peaks (dense fp16 tensor 989 TFLOP/s, fp32
67 TFLOP/s without TF32, HBM3 3.35 TB/s).

usage: python3 bench/cuda_profile_floor.py PERF.json [--top N]
"""
import json
import sys

PEAK_FLOPS = {"fp16": 989e12, "bf16": 989e12, "int8": 1979e12, "fp32": 67e12}  # int8: dense TOP/s (an int8
# plan's fp16 layers are floored at the int8 peak too: those floors are low by half)
BANDWIDTH = 3.35e12


def main():
    d = json.load(open(sys.argv[1]))
    top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 12
    peak = PEAK_FLOPS.get(d["precision"], 67e12)
    # A layer whose kernel reads "(in NAME's ...)" runs inside layer NAME's kernel (a fused chain, a Concat that
    # upsamples, an input read from its staging buffer): its MACs count there, its bytes not (they are the
    # intermediate tensors the fusion keeps on chip), and its own row keeps only the empty step's time.
    profile = [dict(p) for p in d["profile"]]
    by_name = {p["layer"]: p for p in profile}
    for p in profile:
        if p["kernel"].startswith("(in "):
            host = by_name.get(p["kernel"][4:].split("'s ")[0])
            if host is not None:
                host["macs"] = host.get("macs", 0) + p.get("macs", 0)
            p["macs"] = p["bytes"] = 0
    rows = []
    for p in profile:
        floor = max(2 * p.get("macs", 0) / peak, p.get("bytes", 0) / BANDWIDTH) * 1e3
        rows.append((p["mean_ms"], floor, p))
    measured = sum(r[0] for r in rows)
    floors = sum(r[1] for r in rows)
    print(f"{sys.argv[1]}: {d['precision']}, GPU compute median {d['gpu_compute']['median_ms']:.3f} ms (graph replay); "
          f"per-layer events sum {measured:.3f} ms over {len(rows)} layers; sum of floors {floors:.3f} ms")
    kinds = {}
    for ms, floor, p in rows:
        parts = p["kernel"].split(":")
        k = "(fused into another)" if p["kernel"].startswith("(in ") else ":".join(parts[:2])
        a = kinds.setdefault(k, [0, 0.0, 0.0])
        a[0] += 1
        a[1] += ms
        a[2] += floor
    print(f"{'kernel family':<28} {'layers':>6} {'ms':>8} {'floor ms':>9}")
    for k, (n, ms, floor) in sorted(kinds.items(), key=lambda kv: -kv[1][1]):
        print(f"{k:<28} {n:>6} {ms:8.3f} {floor:9.4f}")
    print(f"\nslowest {top} layers: ms, floor ms, GMAC, MB, kernel")
    for ms, floor, p in sorted(rows, key=lambda r: -r[0])[:top]:
        print(f"  {p['layer'][-44:]:<44} {ms:7.4f} {floor:7.4f} {p.get('macs', 0) / 1e9:6.2f} "
              f"{p.get('bytes', 0) / 1e6:7.2f}  {p['kernel']}")


if __name__ == "__main__":
    main()
