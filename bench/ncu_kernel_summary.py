#!/usr/bin/env python3
"""Sums an `ncu --csv --metrics gpu__time_duration.sum` log per kernel name: calls, total and mean microseconds.

usage: ncu_kernel_summary.py LOG.csv [--frames N]   (N: frames the profiled run computed, to print per-frame totals)
"""
import csv
import sys
from collections import defaultdict


def main():
    path = sys.argv[1]
    frames = int(sys.argv[sys.argv.index("--frames") + 1]) if "--frames" in sys.argv else 1
    rows = []
    with open(path, newline="") as f:
        lines = [l for l in f if l.startswith('"')]
    for row in csv.DictReader(lines):
        if row.get("Metric Name") != "gpu__time_duration.sum":
            continue
        value = float(row["Metric Value"].replace(",", ""))
        unit = row.get("Metric Unit", "nsecond")
        us = value / 1000.0 if unit.startswith("n") else value if unit.startswith("u") else value * 1000.0
        name = row["Kernel Name"].split("(")[0].split("<")[0].replace("crowdrt::vision::dis_kernels::", "")
        rows.append((name, us))
    total = defaultdict(float)
    calls = defaultdict(int)
    for name, us in rows:
        total[name] += us
        calls[name] += 1
    grand = sum(total.values())
    print(f"{'kernel':32s} {'calls/frame':>11s} {'us/frame':>9s} {'mean us':>8s} {'share':>6s}")
    for name in sorted(total, key=total.get, reverse=True):
        print(f"{name:32s} {calls[name] / frames:11.1f} {total[name] / frames:9.1f} {total[name] / calls[name]:8.2f} "
              f"{100 * total[name] / grand:5.1f}%")
    print(f"{'all kernels':32s} {len(rows) / frames:11.1f} {grand / frames:9.1f}")


if __name__ == "__main__":
    main()
