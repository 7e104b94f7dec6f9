"""Frame-by-frame comparison of two `crowdrt eval --json` files of the same data (a reference plan and another):
mean |count - reference count| as a share of the mean true count, the target of the int8 calibration issue.
usage: compare_counts.py REFERENCE.json OTHER.json [--label TEXT]"""
import argparse
import json
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("reference")
    p.add_argument("other")
    p.add_argument("--label", default="")
    a = p.parse_args()
    ref, other = (json.load(open(f)) for f in (a.reference, a.other))
    by_frame = {(f["sequence"], f["frame"]): f for f in ref["per_frame"]}
    missing = [(f["sequence"], f["frame"]) for f in other["per_frame"] if (f["sequence"], f["frame"]) not in by_frame]
    if missing or len(other["per_frame"]) != len(ref["per_frame"]):
        sys.exit(f"compare_counts: the two evaluations cover different frames (e.g. {missing[:3]})")
    diffs = [abs(f["pred"] - by_frame[(f["sequence"], f["frame"])]["pred"]) for f in other["per_frame"]]
    n = len(diffs)
    true = sum(f["true"] for f in ref["per_frame"]) / n
    print(f"{a.label or a.other}: frames {n}, mean true {true:.3f}, mean count {sum(f['pred'] for f in ref['per_frame']) / n:.3f}"
          f" (reference) {sum(f['pred'] for f in other['per_frame']) / n:.3f} (this), mean |diff| {sum(diffs) / n:.3f}"
          f" = {100 * sum(diffs) / n / true:.2f}% of the mean true count, max {max(diffs):.2f};"
          f" MAE {other['mae']:.3f} RMSE {other['rmse']:.3f}")


if __name__ == "__main__":
    main()
