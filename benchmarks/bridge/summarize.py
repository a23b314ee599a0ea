#!/usr/bin/env python3
"""Summarise benchmarks/bridge.sh's raw.jsonl into a markdown table and check the targets.

    summarize.py --raw raw.jsonl --out results.md [--meta key=value ...] [--publish FILE]

Result labels are ROW/FIGURE/ROUND: ROW is direct, mcpsse-bridge, mcpsse-bridge-shared,
supergateway or mcp-proxy; FIGURE is latency, throughput or memory. Every figure is the
median over rounds; added latency is computed per round (bridge minus direct of the same
round) before taking the median. Targets (GitHub issue 19): mcpsse-bridge at least 5x
the throughput and at most 1/5 of the added p50 latency of each other bridge.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

ROWS = {
    "mcpsse-bridge": "mcpsse-bridge (one child per session, the default) `{bridge_args}`",
    "mcpsse-bridge-shared": "mcpsse-bridge `--share-child` (one child for all sessions) `{bridge_args}`",
    "supergateway": "supergateway {supergateway} `--outputTransport streamableHttp --stateful` (one child per session)",
    "mcp-proxy": "mcp-proxy {mcp_proxy} (one child for all sessions: its only mode; /mcp stream endpoint, stateful sessions)",
}
# (mcpsse row, other row, why); the first two are the comparison (each tool in its
# per-session-child mode where it has one), the third compares shared child with shared child.
PAIRS = [
    ("mcpsse-bridge", "supergateway", "both one child per session"),
    ("mcpsse-bridge", "mcp-proxy", "mcp-proxy has no per-session-child mode"),
    ("mcpsse-bridge-shared", "mcp-proxy", "both one child for all sessions"),
]
THROUGHPUT_TARGET = 5.0
ADDED_P50_TARGET = 0.2


def med(values):
    values = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    return "n/a" if v is None else f"{v:,.{digits}f}"


def get(r, *path):
    for p in path:
        r = r.get(p) if isinstance(r, dict) else None
    return r


STAT_KEYS = ["rps", "thr_p50", "thr_p99", "cpu_call", "cpu_pct", "p50", "p99", "lat_cpu_call", "added_p50", "added_p99",
             "rss_mib", "kib_session", "open_s", "opened"]


def summarize_run(raw):
    """Medians over one run's rounds: ({row: {key: value}}, {row: errors}, direct p50, direct p99)."""
    runs = {}  # (row, figure) -> {round: result}
    errors = {}
    with open(raw, encoding="utf-8") as f:
        for line in f:
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            parts = r.get("label", "").split("/")
            if len(parts) != 3:
                continue
            row, figure, rnd = parts
            runs.setdefault((row, figure), {})[rnd] = r
            errors[row] = errors.get(row, 0) + int(r.get("errors", 0) or 0)
    direct = runs.get(("direct", "latency"), {})
    stats = {}
    for row in ROWS:
        if not any(k[0] == row for k in runs):
            continue
        lat = runs.get((row, "latency"), {})
        thr = runs.get((row, "throughput"), {})
        mem = runs.get((row, "memory"), {})
        stats[row] = {
            "rps": med([r.get("rps") for r in thr.values()]),
            "thr_p50": med([get(r, "latency_us", "p50") for r in thr.values()]),
            "thr_p99": med([get(r, "latency_us", "p99") for r in thr.values()]),
            "cpu_call": med([r.get("bridge_cpu_us_per_call") for r in thr.values()]),
            "cpu_pct": med([r.get("bridge_cpu_pct") for r in thr.values()]),
            "p50": med([get(r, "latency_us", "p50") for r in lat.values()]),
            "p99": med([get(r, "latency_us", "p99") for r in lat.values()]),
            "lat_cpu_call": med([r.get("bridge_cpu_us_per_call") for r in lat.values()]),
            "added_p50": med([get(r, "latency_us", "p50") - get(direct[k], "latency_us", "p50")
                              for k, r in lat.items() if k in direct and get(r, "latency_us", "p50") is not None]),
            "added_p99": med([get(r, "latency_us", "p99") - get(direct[k], "latency_us", "p99")
                              for k, r in lat.items() if k in direct and get(r, "latency_us", "p99") is not None]),
            "rss_mib": med([r.get("server_rss_after_kib", 0) / 1024 for r in mem.values() if r.get("server_rss_after_kib")]),
            "kib_session": med([r.get("kib_per_session") for r in mem.values()]),
            "open_s": med([r.get("open_s") for r in mem.values()]),
            "opened": med([r.get("opened") for r in mem.values()]),
        }
    return (stats, errors, med([get(r, "latency_us", "p50") for r in direct.values()]),
            med([get(r, "latency_us", "p99") for r in direct.values()]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True, action="append",
                    help="raw.jsonl of a run; repeat it to take the median of several runs' medians")
    ap.add_argument("--out", required=True)
    ap.add_argument("--meta", action="append", default=[])
    ap.add_argument("--publish")
    ap.add_argument("--readme", help="README whose bridge results markers receive the table")
    a = ap.parse_args()
    meta = dict(m.split("=", 1) for m in a.meta)

    per_run = []  # one (stats, errors, direct p50, direct p99, meta) per --raw file
    for raw in a.raw:
        run_meta = {}
        meta_path = os.path.join(os.path.dirname(os.path.abspath(raw)), "meta.json")
        if len(a.raw) > 1 and os.path.exists(meta_path):
            with open(meta_path, encoding="utf-8") as f:
                run_meta = json.load(f)
        per_run.append(summarize_run(raw) + (run_meta,))
    if len(a.raw) == 1:
        with open(os.path.join(os.path.dirname(os.path.abspath(a.raw[0])), "meta.json"), "w", encoding="utf-8") as f:
            json.dump(meta, f)
    elif per_run[0][4]:
        meta = {**per_run[0][4], **meta}
        busy = [p[4].get("busy_runs") for p in per_run]
        meta["busy_runs"] = str(sum(int(b) for b in busy if str(b).isdigit())) + " in all"
        meta["load_start"] = "per run below"
    rows = [row for row in ROWS if any(row in p[0] for p in per_run)]
    stats = {row: {key: med([p[0][row][key] for p in per_run if row in p[0]]) for key in STAT_KEYS} for row in rows}
    errors = {row: sum(p[1].get(row, 0) for p in per_run) for row in rows}
    d_p50 = med([p[2] for p in per_run])
    d_p99 = med([p[3] for p in per_run])

    names = {row: ROWS[row].format(supergateway=meta.get("supergateway", ""), mcp_proxy=meta.get("mcp_proxy", ""),
                                     bridge_args=meta.get("bridge_args", ""))
             for row in rows}
    sessions = meta.get("sessions", "?")
    mem_sessions = meta.get("mem_sessions", "?")
    figures = [
        (f"tools/call echo, {sessions} sessions: calls/s", "rps", 0),
        (f"tools/call echo, {sessions} sessions: p50 latency (µs)", "thr_p50", 0),
        (f"tools/call echo, {sessions} sessions: p99 latency (µs)", "thr_p99", 0),
        ("bridge CPU per call (µs, bridge process alone)", "cpu_call", 1),
        ("bridge CPU use (% of one core)", "cpu_pct", 0),
        ("1 session, sequential: p50 latency (µs)", "p50", 0),
        ("1 session, sequential: p99 latency (µs)", "p99", 0),
        ("1 session, sequential: bridge CPU per call (µs)", "lat_cpu_call", 1),
        ("added p50 latency over the direct call (µs)", "added_p50", 0),
        ("added p99 latency over the direct call (µs)", "added_p99", 0),
        (f"bridge RSS with {mem_sessions} sessions open (MiB, children excluded)", "rss_mib", 1),
        (f"bridge KiB per session ({mem_sessions} sessions, RSS delta)", "kib_session", 1),
        (f"seconds to open {mem_sessions} sessions", "open_s", 1),
        ("sessions opened", "opened", 0),
    ]
    out = []
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load_end = open("/proc/loadavg", encoding="utf-8").read().split()[:3]
    except OSError:
        load_end = ["?"]
    out.append("## Bridge: mcpsse-bridge vs supergateway and mcp-proxy\n")
    out.append(f"Machine and run: cores (nproc): {os.cpu_count()}; CPU: {cpu}; kernel: {platform.release()}; "
               f"date (UTC): {now}; build type: {meta.get('build_type', '?')}; node: {meta.get('node', '?')}; "
               f"git: {meta.get('git', '?')}; load average at the start: {meta.get('load_start', '?')}, "
               f"at the end: {' '.join(load_end)}; runs started while other processes used >= 25 % CPU: "
               f"{meta.get('busy_runs', '?')}.\n")
    out.append(f"Load: {meta.get('rounds', '?')} alternating round(s) of {meta.get('duration_s', '?')} s measured after "
               f"{meta.get('warmup_s', '?')} s warm-up, a fresh bridge per bridge and round (latency, then throughput on it), another for the memory figure; throughput with {sessions} "
               f"connections, each its own MCP session, closed loop; echo text {meta.get('text_bytes', '?')} bytes; "
               f"the stdio server is mcpsse_bench_echo for every bridge. Direct call (no bridge, sequential over the "
               f"server's stdin/stdout): p50 {fmt(d_p50)} µs, p99 {fmt(d_p99)} µs. Figures are medians over rounds; "
               f"memory is one figure per bridge and run.\n")
    if len(per_run) > 1:
        out.append(f"**{len(per_run)} full runs**: every figure below is the median of the {len(per_run)} runs' medians. "
                   "Per run: the load average at its start, the figures started while other processes used >= 25 % "
                   "CPU, and the throughput (calls/s) of each column: "
                   + "; ".join(f"run {i + 1}: load {p[4].get('load_start', '?')}, busy {p[4].get('busy_runs', '?')}, "
                               + ", ".join(f"{fmt(p[0].get(r, {}).get('rps'))}" for r in rows)
                               for i, p in enumerate(per_run)) + ".\n")
    out.append("| figure | " + " | ".join(names[r] for r in rows) + " |")
    out.append("|---|" + "---|" * len(rows))
    for title, key, digits in figures:
        out.append(f"| {title} | " + " | ".join(fmt(stats[r][key], digits) for r in rows) + " |")
    out.append("| errors (all runs) | " + " | ".join(str(errors.get(r, 0)) for r in rows) + " |")
    out.append("")
    out.append("| comparison | throughput ratio (target ≥ 5x) | added p50 ratio (target ≤ 0.2) | CPU per call ratio | "
               "RSS at sessions ratio | verdict |")
    out.append("|---|---|---|---|---|---|")
    verdicts = []
    for mine, theirs, why in PAIRS:
        if mine not in stats or theirs not in stats:
            continue
        m, t = stats[mine], stats[theirs]
        thr = m["rps"] / t["rps"] if m["rps"] and t["rps"] else None
        lat = m["added_p50"] / t["added_p50"] if m["added_p50"] is not None and t["added_p50"] else None
        cpu_r = m["cpu_call"] / t["cpu_call"] if m["cpu_call"] and t["cpu_call"] else None
        mem_r = m["rss_mib"] / t["rss_mib"] if m["rss_mib"] and t["rss_mib"] else None
        ok_thr = thr is not None and thr >= THROUGHPUT_TARGET
        ok_lat = lat is not None and lat <= ADDED_P50_TARGET
        verdict = "PASS" if ok_thr and ok_lat else "FAIL"
        detail = []
        if not ok_thr:
            detail.append("throughput")
        if not ok_lat:
            detail.append("added p50")
        verdicts.append((f"{mine} vs {theirs}", verdict, detail))
        out.append(f"| {mine} vs {theirs} ({why}) | {fmt(thr, 2)}x | {fmt(lat, 3)} | {fmt(cpu_r, 3)} | {fmt(mem_r, 3)} | "
                   f"{verdict}{' (' + ', '.join(detail) + ')' if detail else ''} |")
    out.append("")
    text = "\n".join(out) + "\n"
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(text)
    for name, verdict, detail in verdicts:
        print(f"target check: {name}: {verdict}{' (missed: ' + ', '.join(detail) + ')' if detail else ''}")
    if a.readme:
        begin, end = "<!-- mcpsse-bridge-results:begin -->", "<!-- mcpsse-bridge-results:end -->"
        with open(a.readme, encoding="utf-8") as f:
            readme = f.read()
        b, e = readme.find(begin), readme.find(end)
        if b >= 0 and e > b:
            body = text.split("\n", 1)[1].strip("\n")
            readme = readme[:b + len(begin)] + "\n" + body + "\n" + readme[e:]
            with open(a.readme, "w", encoding="utf-8") as f:
                f.write(readme)
    if a.publish:
        with open(a.publish, "w", encoding="utf-8") as f:
            f.write("# mcpsse-bridge benchmark results\n\nWritten by `benchmarks/bridge.sh`; see the section "
                    "\"Bridge: mcpsse-bridge vs supergateway and mcp-proxy\" of `benchmarks/README.md` for the method."
                    "\n\n" + text.split("\n", 1)[1].lstrip("\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
