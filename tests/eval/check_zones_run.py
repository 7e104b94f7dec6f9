"""`crowdrt run --zones --jsonl` on a short synthetic clip with the constant model: two zones that split the frame
along a slanted line (40 % and 60 % of its area) add up to the frame's count (area-weighted), counts.csv and the
JSON Lines agree per frame, a zone above its low limit enters an alert in both, `--jsonl -` puts nothing but JSON
lines on stdout, an existing JSON Lines file is replaced only with --overwrite, and a malformed zones file (or a
zone outside the frame) fails with one line naming the zone before anything is written.

usage: check_zones_run.py CROWDRT SEQUENCE_DIR MODELS_DIR WORK_DIR
"""
import csv
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_models import CONSTANT_BIAS  # noqa: E402
from run_checks import constant_plan, fail, run  # noqa: E402

SIZE = 64
FRAME_COUNT = CONSTANT_BIAS * SIZE * SIZE / 100
# "upper" is above its limit on every frame; with "frames": 2 it enters on frame 2. "lower" has no limit.
ZONES = {"zones": [
    {"name": "upper", "polygon": [[0, 0], [1, 0], [1, 0.2], [0, 0.6]], "normalized": True, "limit": 1, "frames": 2},
    {"name": "lower", "polygon": [[0, 0.6], [1, 0.2], [1, 1], [0, 1]], "normalized": True},
]}


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if rows[0] != ["frame", "count", "upper", "lower", "alerts"]:
        fail(f"{path}: header {rows[0]}")
    return rows[1:]


def parse_jsonl(text, what):
    records = []
    for i, line in enumerate(text.splitlines()):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            fail(f"{what}: line {i + 1} is not JSON: {line!r}")
    return records


def check_agree(rows, records, n):
    if len(rows) != n or len(records) != n:
        fail(f"{n} frames, but {len(rows)} CSV rows and {len(records)} JSON records")
    for i, (row, rec) in enumerate(zip(rows, records)):
        frame, count, upper, lower = int(row[0]), float(row[1]), float(row[2]), float(row[3])
        if frame != i + 1 or rec["frame"] != i + 1:
            fail(f"frame {i + 1}: CSV frame {frame}, JSON frame {rec['frame']}")
        if abs(count - FRAME_COUNT) > 1e-4 or abs(upper + lower - count) > 1e-4:
            fail(f"frame {i + 1}: zones {upper} + {lower} do not add up to the count {count}")
        if abs(upper - 0.4 * count) > 1e-4:
            fail(f"frame {i + 1}: the zone over 40 % of the frame counts {upper} of {count}")
        if set(rec["zones"]) != {"upper", "lower"}:
            fail(f"frame {i + 1}: JSON zones {rec['zones']}")
        for name, value in (("upper", upper), ("lower", lower)):
            if abs(rec["zones"][name] - value) > 1e-4:
                fail(f"frame {i + 1}: zone {name} is {value} in counts.csv, {rec['zones'][name]} in the JSON")
        if abs(rec["count"] - count) > 1e-4 or not rec["time"] >= 0:
            fail(f"frame {i + 1}: JSON record {rec}")
        want_csv = "upper:enter" if frame == 2 else ""
        want_json = [("upper", "enter")] if frame == 2 else []
        if row[4] != want_csv or [(a["zone"], a["event"]) for a in rec["alerts"]] != want_json:
            fail(f"frame {i + 1}: alerts {row[4]!r} in counts.csv, {rec['alerts']} in the JSON; expected {want_json}")


def main():
    crowdrt, sequence, models, work = sys.argv[1:5]
    plan = constant_plan(crowdrt, models, work)
    n = len(glob.glob(os.path.join(sequence, "*.jpg")))
    zones = os.path.join(work, "zones.json")
    with open(zones, "w") as f:
        json.dump(ZONES, f)

    # to a file
    out, jsonl = os.path.join(work, "file"), os.path.join(work, "file.jsonl")
    r = run(crowdrt, "run", "--plan", plan, "--input", sequence, "--out", out, "--zones", zones, "--jsonl", jsonl)
    check_agree(read_csv(os.path.join(out, "counts.csv")), parse_jsonl(open(jsonl).read(), jsonl), n)
    if "zone upper: mean count" not in r.stdout or "1 enter alert" not in r.stdout:
        fail(f"the summary does not list the zones: {r.stdout!r}")
    before = open(jsonl).read()
    r = run(crowdrt, "run", "--plan", plan, "--input", sequence, "--out", os.path.join(work, "again"), "--zones",
            zones, "--jsonl", jsonl, expect=1)
    if "--overwrite" not in r.stderr or open(jsonl).read() != before:
        fail("a second run onto the JSON Lines file without --overwrite did not refuse cleanly")
    run(crowdrt, "run", "--plan", plan, "--input", sequence, "--out", os.path.join(work, "again"), "--zones",
        zones, "--jsonl", jsonl, "--overwrite")

    # to stdout: nothing but the records there, the summary on stderr
    out = os.path.join(work, "stdout")
    r = run(crowdrt, "run", "--plan", plan, "--input", sequence, "--out", out, "--zones", zones, "--jsonl", "-")
    records = parse_jsonl(r.stdout, "stdout")
    check_agree(read_csv(os.path.join(out, "counts.csv")), records, n)
    if " frames in " not in r.stderr:
        fail(f"with --jsonl - the summary is not on stderr: {r.stderr!r}")

    # without zones: "zones": {} in every record
    r = run(crowdrt, "run", "--plan", plan, "--input", sequence, "--out", os.path.join(work, "plain"), "--jsonl", "-")
    records = parse_jsonl(r.stdout, "stdout without zones")
    if [rec["frame"] for rec in records] != list(range(1, n + 1)) or any(rec["zones"] != {} for rec in records):
        fail(f"records without --zones: {records}")

    # a self-intersecting polygon, and one in pixels past the frame's edge (known only once the frame size is):
    # one line naming the zone, exit 1, nothing written
    bad_zones = {
        "bowtie": {"name": "bowtie", "polygon": [[0, 0], [1, 1], [1, 0], [0, 1]], "normalized": True},
        "outside": {"name": "outside", "polygon": [[0, 0], [5000, 0], [5000, 50]]},
    }
    for name, zone in bad_zones.items():
        bad = os.path.join(work, f"{name}.json")
        with open(bad, "w") as f:
            json.dump({"zones": [zone]}, f)
        out, jsonl = os.path.join(work, f"{name}_out"), os.path.join(work, f"{name}.jsonl")
        r = run(crowdrt, "run", "--plan", plan, "--input", sequence, "--out", out, "--zones", bad, "--jsonl", jsonl,
                expect=1)
        message = r.stderr.strip()
        if "\n" in message or name not in message or r.stdout:
            fail(f"zone {name} gave {message!r} (stdout {r.stdout!r}), not one line naming the zone")
        if os.path.exists(out) or os.path.exists(jsonl):
            fail(f"zone {name}: a malformed zones file still wrote output")
    print(f"ok: {n} frames, zones in counts.csv and JSON Lines (file and stdout), alerts, a malformed zones file")


if __name__ == "__main__":
    main()
