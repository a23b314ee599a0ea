#!/usr/bin/python3
"""Checks a Prometheus exposition with the official Python client's parsers.

    /usr/bin/python3 check_metrics.py FILE text|openmetrics [--json] [--expect SERIES=VALUE ...]

FILE is parsed with prometheus_client's text format 0.0.4 parser (`text`) or its
OpenMetrics 1.0.0 parser (`openmetrics`, strict: # EOF, UNIT, canonical `le`, counts).
Fails (exit 1) when it does not parse, when a series (sample name and label set)
appears twice, or when a histogram series has no `+Inf` bucket, no `_count` or no
`_sum`, or its `+Inf` bucket differs from its `_count`. `--json` prints every series
and its value as a JSON object; a series is written `name{a="x",b="y"}` with its
labels sorted by name (values as in the exposition, unescaped). `--expect` asserts a
series' value (repeatable).
"""
import argparse
import json
import math
import sys


def series_key(name, labels):
    if not labels:
        return name
    inner = ",".join('{}="{}"'.format(k, labels[k]) for k in sorted(labels))
    return name + "{" + inner + "}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("format", choices=["text", "openmetrics"])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--expect", action="append", default=[])
    args = ap.parse_args()

    try:
        if args.format == "text":
            from prometheus_client.parser import text_string_to_metric_families
        else:
            from prometheus_client.openmetrics.parser import text_string_to_metric_families
    except ImportError as e:
        print("check_metrics: prometheus_client is not installed ({})".format(e), file=sys.stderr)
        return 2

    with open(args.file, encoding="utf-8") as f:
        text = f.read()

    errors = []
    series = {}
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parsers raise ValueError (and others) on bad input
        print("check_metrics: {} does not parse as {}: {}".format(args.file, args.format, e), file=sys.stderr)
        return 1

    family_names = [f.name for f in families]
    for name in set(family_names):
        if family_names.count(name) > 1:
            errors.append("family {} appears {} times".format(name, family_names.count(name)))

    for family in families:
        histograms = {}
        for s in family.samples:
            key = series_key(s.name, s.labels)
            if key in series:
                errors.append("duplicate series " + key)
            series[key] = s.value
            if family.type == "histogram":
                base = {k: v for k, v in s.labels.items() if k != "le"}
                h = histograms.setdefault(series_key(family.name, base), {})
                if s.name.endswith("_bucket"):
                    if math.isinf(float(s.labels.get("le", "nan"))):
                        h["inf"] = s.value
                elif s.name.endswith("_count"):
                    h["count"] = s.value
                elif s.name.endswith("_sum"):
                    h["sum"] = s.value
        for key, h in histograms.items():
            for part in ("inf", "count", "sum"):
                if part not in h:
                    errors.append("histogram {} has no {}".format(key, "+Inf bucket" if part == "inf" else "_" + part))
            if "inf" in h and "count" in h and h["inf"] != h["count"]:
                errors.append("histogram {}: +Inf bucket {} != _count {}".format(key, h["inf"], h["count"]))

    for expect in args.expect:
        key, _, value = expect.rpartition("=")
        if key not in series:
            errors.append("expected series {} is missing".format(key))
        elif float(series[key]) != float(value):
            errors.append("series {} is {}, expected {}".format(key, series[key], value))

    if args.json:
        json.dump(series, sys.stdout, indent=1, sort_keys=True)
        print()
    for e in errors:
        print("check_metrics: " + e, file=sys.stderr)
    if not errors:
        print("check_metrics: {} ({}): {} families, {} series, OK".format(
            args.file, args.format, len(families), len(series)), file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
