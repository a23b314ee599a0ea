#!/usr/bin/python3
"""Checks that every PromQL expression of a Grafana dashboard names exported metrics.

    python3 check_dashboard.py DASHBOARD.json EXPOSITION [--list]

DASHBOARD.json is a Grafana dashboard JSON model. Its expressions are every `expr`
string anywhere in it (panel targets, rows' nested panels) and the metric named by
`label_values(METRIC, label)` / `query_result(...)` in template variable queries.
EXPOSITION is a scrape in the Prometheus text format (0.0.4). A metric name in an
expression must be a sample name of the exposition, as Prometheus stores it: a
counter's `name_total`, a histogram's `name_bucket`, `name_sum` and `name_count`
(taken from the `# TYPE` lines too, so families without samples yet still count),
a gauge's `name`. A histogram's bare family name is not a sample name and fails.

Metric names are the identifiers of an expression left after removing strings,
label matchers `{...}`, range and subquery brackets `[...]`, label lists of
`by`/`without`/`on`/`ignoring`/`group_left`/`group_right`, Grafana variables
(`$name`, `${name}`, `[[name]]`), numbers and durations; identifiers followed by
`(` are functions, and PromQL keywords and aggregation operators are skipped.
`--list` prints each expression's metric names. Exit status 1 when a name is not
exported or an expression names no metric, 2 on unreadable input. Python standard
library only.
"""
import json
import re
import sys

KEYWORDS = {
    # aggregation operators (may be followed by `by (...)` before their parenthesis)
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "limitk", "limit_ratio",
    # binary operators, modifiers, grouping
    "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
    "group_left", "group_right", "start", "end", "atmodifier",
    # literals
    "inf", "nan",
}

IDENT = re.compile(r"(?<![\w.$:])[a-zA-Z_:][a-zA-Z0-9_:]*")


def strip_strings(expr):
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expr)


def metric_names(expr):
    """The metric names an expression selects, in order of appearance."""
    e = strip_strings(expr)
    e = re.sub(r"\[\[[^\]]*\]\]", " ", e)             # [[var]] (old Grafana syntax)
    e = re.sub(r"\$\{[^}]*\}|\$\w+", " ", e)          # ${var}, $var
    e = re.sub(r"\{[^}]*\}", " ", e)                  # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                 # ranges, subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = []
    for m in IDENT.finditer(e):
        word = m.group(0)
        rest = e[m.end():]
        if word.lower() in KEYWORDS:
            continue
        if re.match(r"\s*\(", rest):                  # a function call
            continue
        if word not in names:
            names.append(word)
    return names


def collect_exprs(node, out):
    """Every `expr` string in the dashboard, plus template variable metrics."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                out.append(value)
            else:
                collect_exprs(value, out)
        if node.get("type") == "query" and "query" in node:
            q = node["query"]
            q = q.get("query", "") if isinstance(q, dict) else q
            if isinstance(q, str):
                m = re.match(r"\s*label_values\(\s*(.*?)\s*,\s*[\w]+\s*\)\s*$", q)
                if m:
                    out.append(m.group(1))
                else:
                    m = re.match(r"\s*query_result\((.*)\)\s*$", q)
                    if m:
                        out.append(m.group(1))
    elif isinstance(node, list):
        for item in node:
            collect_exprs(item, out)


def exported_names(text):
    names = set()
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split()
            if len(parts) >= 4 and parts[1] == "TYPE":
                name, kind = parts[2], parts[3]
                if kind == "histogram":
                    names.update({name + "_bucket", name + "_sum", name + "_count"})
                elif kind == "summary":
                    names.update({name, name + "_sum", name + "_count"})
                elif kind == "counter" and not name.endswith("_total"):
                    names.add(name + "_total")
                else:
                    names.add(name)
            continue
        m = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
        if m:
            names.add(m.group(0))
    return names


def main():
    args = [a for a in sys.argv[1:] if a != "--list"]
    if len(args) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        with open(args[0], encoding="utf-8") as f:
            dashboard = json.load(f)
        with open(args[1], encoding="utf-8") as f:
            exported = exported_names(f.read())
    except (OSError, ValueError) as e:
        print("check_dashboard: {}".format(e), file=sys.stderr)
        return 2
    if not exported:
        print("check_dashboard: {} names no metric".format(args[1]), file=sys.stderr)
        return 2

    exprs = []
    collect_exprs(dashboard, exprs)
    errors = []
    used = set()
    for expr in exprs:
        names = metric_names(expr)
        if "--list" in sys.argv:
            print("{}\n    {}".format(expr, " ".join(names) or "(none)"))
        if not names:
            errors.append("names no metric: {}".format(expr))
        for name in names:
            used.add(name)
            if name not in exported:
                errors.append("{} is not exported (in: {})".format(name, expr))
    if not exprs:
        errors.append("the dashboard has no expressions")
    for e in errors:
        print("check_dashboard: " + e, file=sys.stderr)
    if not errors:
        print("check_dashboard: {} expressions, {} distinct metric names, all exported ({} names in the scrape)".format(
            len(exprs), len(used), len(exported)), file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
