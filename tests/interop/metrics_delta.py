#!/usr/bin/python3
"""Compares two scrapes' series maps (from `check_metrics.py --json`).

    python3 metrics_delta.py BEFORE.json AFTER.json SERIES=DELTA [SERIES=DELTA ...]

Each SERIES (written as check_metrics.py writes it: `name{a="x",b="y"}`, labels
sorted by name) must have grown by exactly DELTA between the two scrapes; a series
missing from BEFORE counts as 0 there (label sets appear on first use), one missing
from AFTER fails. Prints "ok - ..." or "not ok - ..." per series; the exit status is
the number of failures (at most 100).
"""
import json
import sys


def main():
    if len(sys.argv) < 4:
        print(__doc__.strip(), file=sys.stderr)
        return 100
    with open(sys.argv[1], encoding="utf-8") as f:
        before = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        after = json.load(f)
    failures = 0
    for spec in sys.argv[3:]:
        key, _, want = spec.rpartition("=")
        want = float(want)
        if key not in after:
            print("not ok - {} grew by {:g}\n  # missing from the second scrape".format(key, want))
            failures += 1
            continue
        got = float(after[key]) - float(before.get(key, 0))
        if got == want:
            print("ok - {} grew by {:g}".format(key, want))
        else:
            print("not ok - {} grew by {:g}\n  # it grew by {:g} ({:g} -> {:g})".format(
                key, want, got, float(before.get(key, 0)), float(after[key])))
            failures += 1
    return min(failures, 100)


if __name__ == "__main__":
    sys.exit(main())
