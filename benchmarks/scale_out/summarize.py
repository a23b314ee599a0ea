#!/usr/bin/env python3
"""Helpers of benchmarks/scale_out.sh (Python standard library only).

  summarize.py annotate --line JSON [--before SNAP --after SNAP] [--pids NAME=PID,...]
                        [--set KEY=VALUE ...]
      SNAP: a snapshot file of scale_out.sh ("### redis": Redis `INFO commandstats` and
      `INFO cpu`; "### instance NAME": that instance's /metrics). Prints the load
      generator's result line with the scale-out facts added (and one line of progress
      on stderr):
      "window": what happened between the two snapshots (tools/call count summed over
      the instances, Redis commands by command and per tools/call, Redis CPU per
      tools/call); "instances": each instance's counters at the second snapshot and,
      from the load generator's per-process RSS ("server_pids"), its RSS growth per
      session it holds.

  summarize.py report --raw RAW.jsonl --out results.md [--meta KEY=VALUE ...]
      The tables of results.md (medians over rounds) from the annotated lines.
"""
import argparse
import json
import statistics
import sys

# ---------------------------------------------------------------------------
# snapshots (written by scale_out.sh with redis-cli and curl: a Python start takes
# most of a second on a busy 2-core machine, too slow to take one in a run's window)
# ---------------------------------------------------------------------------


def metric_sum(lines, name):
    """Sum of every sample of metric `name` (any labels) in Prometheus text lines."""
    total = 0.0
    for line in lines:
        if line.startswith(name + "{") or line.startswith(name + " "):
            try:
                total += float(line.rsplit(" ", 1)[1])
            except ValueError:
                pass
    return total


def parse_snapshot(path):
    """A snapshot file: "### redis" followed by `INFO commandstats` and `INFO cpu`, then
    "### instance NAME" followed by the lines of its /metrics."""
    sections = {}
    current = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.startswith("### "):
                current = line[4:]
                sections[current] = []
            elif current is not None:
                sections[current].append(line)
    snap = {"instances": {}}
    if "redis" in sections:
        calls, info = {}, {}
        for line in sections["redis"]:
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                info[k] = v
        for k, v in info.items():
            if k.startswith("cmdstat_"):
                fields = dict(f.split("=", 1) for f in v.split(",") if "=" in f)
                calls[k[len("cmdstat_"):]] = int(fields.get("calls", 0))
        snap["redis"] = {"calls": calls, "cpu_user_s": float(info.get("used_cpu_user", 0)),
                         "cpu_sys_s": float(info.get("used_cpu_sys", 0))}
    for key, lines in sections.items():
        if key.startswith("instance "):
            snap["instances"][key[len("instance "):]] = {
                "tool_calls": int(metric_sum(lines, "mcpsse_tool_calls_total")),
                "sessions_open": int(metric_sum(lines, "mcpsse_sessions_open")),
                "streams_open": int(metric_sum(lines, "mcpsse_sse_streams_open"))}
    return snap


# ---------------------------------------------------------------------------
# annotate
# ---------------------------------------------------------------------------


def annotate(args):
    line = json.loads(args.line)
    before = parse_snapshot(args.before) if args.before else None
    after = parse_snapshot(args.after) if args.after else None
    if before and after:
        window = {}
        calls = sum(after["instances"][n]["tool_calls"] - before["instances"].get(n, {}).get("tool_calls", 0)
                    for n in after["instances"])
        window["tool_calls"] = calls
        if "redis" in after and "redis" in before:
            b, a = before["redis"], after["redis"]
            # The snapshots' own INFO commands (two each, from redis-cli) are left out.
            delta = {c: n - b["calls"].get(c, 0) for c, n in a["calls"].items()}
            delta["info"] = delta.get("info", 0) - 2
            delta = {c: n for c, n in sorted(delta.items()) if n > 0}
            window["redis_calls"] = delta
            total = sum(delta.values())
            window["redis_commands"] = total
            cpu_us = ((a["cpu_user_s"] - b["cpu_user_s"]) + (a["cpu_sys_s"] - b["cpu_sys_s"])) * 1e6
            window["redis_cpu_us"] = cpu_us
            if calls > 0:
                window["redis_commands_per_call"] = total / calls
                window["redis_calls_per_call"] = {c: n / calls for c, n in delta.items()}
                window["redis_cpu_us_per_call"] = cpu_us / calls
        line["window"] = window
    if after:
        inst = {n: dict(v) for n, v in after["instances"].items()}
        pids = dict(p.split("=", 1) for p in args.pids.split(",")) if args.pids else {}
        by_pid = {str(p.get("pid")): p for p in line.get("server_pids", [])}
        if not by_pid and line.get("server_rss_after_kib") is not None and len(pids) == 1:
            by_pid = {list(pids.values())[0]: {"rss_before_kib": line.get("server_rss_before_kib"),
                                               "rss_after_kib": line.get("server_rss_after_kib")}}
        for name, pid in pids.items():
            p = by_pid.get(pid)
            if name not in inst:
                inst[name] = {}
            inst[name]["pid"] = int(pid)
            if p and p.get("rss_after_kib") is not None and p.get("rss_before_kib") is not None:
                growth = p["rss_after_kib"] - p["rss_before_kib"]
                inst[name]["rss_growth_kib"] = growth
                held = inst[name].get("sessions_open", 0)
                if held > 0:
                    inst[name]["kib_per_session"] = growth / held
            if p and p.get("cpu_us_per_request") is not None:
                inst[name]["cpu_us_per_request"] = p["cpu_us_per_request"]
        line["instances"] = inst
    for kv in args.set or []:
        k, v = kv.split("=", 1)
        line[k] = v
    print(json.dumps(line))
    one_line(line)


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------


def med(values):
    values = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(values) if values else None


def fmt(v, digits=0, unit=""):
    return "n/a" if v is None else f"{v:,.{digits}f}{unit}"


def ratio(a, b):
    return a / b if a is not None and b else None


CALL_ROWS = [
    ("direct", "1 instance, direct, in-memory sessions"),
    ("direct-redis", "1 instance, direct, `--redis`"),
    ("rr", "3 instances `--redis`, HAProxy round-robin (haproxy-redis.cfg)"),
    ("sticky", "3 instances `--redis`, HAProxy sticky by Mcp-Session-Id (haproxy-sticky.cfg)"),
]
REPLAY_ROWS = [
    ("memory", "same instance, in-memory event store"),
    ("redis-same", "same instance, `--redis` (Redis XRANGE merged with unconfirmed copies)"),
    ("redis-other", "another instance, `--redis` (session restored and events read from Redis)"),
]


def report(args):
    rows = []
    with open(args.raw, encoding="utf-8") as f:
        for text in f:
            text = text.strip()
            if text:
                try:
                    rows.append(json.loads(text))
                except json.JSONDecodeError:
                    pass
    meta = dict(kv.split("=", 1) for kv in args.meta or [])
    by = {}
    for r in rows:
        parts = r.get("label", "").split("/")
        if len(parts) >= 2:
            by.setdefault((parts[0], parts[1]), []).append(r)
    out = []
    smoke = meta.get("smoke") == "1"
    out.append("# Scale-out benchmark results" + (" (SMOKE RUN: not results)" if smoke else ""))
    out.append("")
    if smoke:
        out.append("**Smoke run: tiny counts and ~1 s runs on a shared machine; it shows that the script works "
                   "end to end, its numbers mean nothing.**")
        out.append("")
    out.append("Written by `benchmarks/scale_out.sh` (see benchmarks/README.md, \"Scale-out\"). Medians over "
               f"{meta.get('runs', '1')} whole run(s) of {meta.get('rounds', '?')} round(s) each; raw lines in "
               "`raw/`.")
    out.append("")
    out.append("Run: " + ", ".join(f"{k}={v}" for k, v in sorted(meta.items())))
    out.append("")

    # 1. tools/call
    out.append("## tools/call (JSON responses)")
    out.append("")
    out.append(f"{meta.get('connections', '?')} connections, each with a session of its own "
               "(`mcpsse_loadgen call --session-per-connection`), closed loop. Server CPU is the instances', "
               "HAProxy's and redis-server's together, per request. Redis commands and Redis CPU are counted "
               "between two snapshots taken after the warm-up (INFO commandstats / INFO cpu deltas) and divided "
               "by the tools/call count of the instances' /metrics over the same interval.")
    out.append("")
    out.append("| setup | req/s | vs 1 direct | p50 µs | p99 µs | server CPU µs/req | Redis cmds/call | "
               "Redis CPU µs/call | errors |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    base_rps = med([r.get("rps") for r in by.get(("call", "direct"), [])])
    for key, title in CALL_ROWS:
        rs = by.get(("call", key), [])
        if not rs:
            continue
        rps = med([r.get("rps") for r in rs])
        p50 = med([r.get("latency_us", {}).get("p50") for r in rs])
        p99 = med([r.get("latency_us", {}).get("p99") for r in rs])
        cpu = med([r.get("server_cpu_us_per_request") for r in rs])
        cmds = med([r.get("window", {}).get("redis_commands_per_call") for r in rs])
        rcpu = med([r.get("window", {}).get("redis_cpu_us_per_call") for r in rs])
        errors = sum(r.get("errors", 0) for r in rs)
        out.append(f"| {title} | {fmt(rps)} | {fmt(ratio(rps, base_rps), 2, 'x')} | {fmt(p50)} | {fmt(p99)} | "
                   f"{fmt(cpu, 1)} | {fmt(cmds, 3)} | {fmt(rcpu, 2)} | {errors} |")
    out.append("")
    out.append("Redis commands per tools/call, by command (median over rounds):")
    out.append("")
    for key, title in CALL_ROWS:
        rs = by.get(("call", key), [])
        if not rs or key == "direct":
            continue
        cmds = sorted({c for r in rs for c in r.get("window", {}).get("redis_calls_per_call", {})})
        parts = [f"`{c}` {fmt(med([r['window']['redis_calls_per_call'].get(c, 0) for r in rs if 'window' in r]), 4)}"
                 for c in cmds]
        out.append(f"- {title}: " + (", ".join(parts) if parts else "none"))
    out.append("")

    # 2. replay
    out.append("## Replay after reconnect")
    out.append("")
    out.append(f"`mcpsse_loadgen replay`: {meta.get('replay_events', '?')} notifications sent while the session's "
               "GET stream is disconnected, then a GET with Last-Event-ID; events per second from that GET to the "
               "last replayed event.")
    out.append("")
    out.append("| replayed by | events/s | replay ms | errors |")
    out.append("|---|---:|---:|---:|")
    for key, title in REPLAY_ROWS:
        rs = by.get(("replay", key), [])
        if not rs:
            continue
        eps = med([r.get("events_per_s") for r in rs])
        ms = med([r.get("replay_s", 0) * 1000 for r in rs])
        out.append(f"| {title} | {fmt(eps)} | {fmt(ms, 2)} | {sum(r.get('errors', 0) for r in rs)} |")
    out.append("")

    # 3. fan-out
    out.append("## One notification to many streams over 3 instances")
    out.append("")
    for r in [x for k, v in sorted(by.items()) if k[0] == "fanout" for x in v]:
        cfg = r.get("label", "").split("/")[1]
        what = r.get("measured", "")
        delivered = r.get("delivered", [])
        lbs = str(r.get("balancers", "1"))
        through = "HAProxy" if lbs == "1" else f"{lbs} HAProxy processes (the descriptor limit)"
        out.append(f"- `{cfg}` ({r.get('label')}): {r.get('opened', 0):,} streams opened through {through} "
                   f"({r.get('balancer', '?')}); {what}. Delivered per round: "
                   f"{', '.join(str(d) for d in delivered) or 'n/a'}; last arrival per round (ms): "
                   f"{', '.join(fmt(x, 1) for x in r.get('last_ms', [])) or 'n/a'} (median "
                   f"{fmt(r.get('last_ms_median'), 1)}); median arrival (ms): "
                   f"{', '.join(fmt(x, 1) for x in r.get('median_arrival_ms', [])) or 'n/a'}; errors "
                   f"{r.get('errors', 0)}.")
        inst = r.get("instances", {})
        if inst:
            out.append("  Streams and sessions held per instance: " + ", ".join(
                f"{n} {v.get('streams_open', 0):,} streams / {v.get('sessions_open', 0):,} sessions"
                for n, v in sorted(inst.items())) + ".")
        w = r.get("window", {})
        if w.get("redis_calls"):
            out.append("  Redis commands during the run (sessions opened, streams, notification rounds): " + ", ".join(
                f"`{c}` {n:,}" for c, n in w["redis_calls"].items()) + ".")
    for cfg in sorted({k[1] for k in by if k[0] == "fanout"}):
        rs = by[("fanout", cfg)]
        if len(rs) > 1:
            out.append(f"- `{cfg}`, median over {len(rs)} runs of each run's median last arrival: "
                       f"{fmt(med([r.get('last_ms_median') for r in rs]), 1)} ms.")
    out.append("")

    # 4. memory
    out.append("## Memory per session")
    out.append("")
    out.append("RSS growth of each instance while every session has its GET stream open, divided by the sessions "
               "that instance holds (its `mcpsse_sessions_open`). Target: `--redis` within 10 % of in-memory.")
    out.append("")
    out.append("| setup | instance | sessions held | RSS growth KiB | KiB/session |")
    out.append("|---|---|---:|---:|---:|")
    mem = {}
    for (kind, cfg), rs in sorted(by.items()):
        if kind not in ("sessions", "fanout"):
            continue
        for r in rs:
            for name, v in sorted(r.get("instances", {}).items()):
                if "kib_per_session" in v:
                    out.append(f"| {kind}/{cfg} | {name} | {v.get('sessions_open', 0):,} | "
                               f"{fmt(v.get('rss_growth_kib'))} | {fmt(v.get('kib_per_session'), 2)} |")
                    mem.setdefault((kind, cfg), []).append(v["kib_per_session"])
    out.append("")
    for kind in ("sessions", "fanout"):
        m, rd = med(mem.get((kind, "memory"), [])), med(mem.get((kind, "redis"), []))
        if m is not None and rd is not None:
            rr = ratio(rd, m)
            verdict = "n/a" if rr is None else ("within 10 %" if rr <= 1.10 else "above the 10 % target")
            if smoke:
                verdict = "smoke run: too few sessions for a verdict"
            out.append(f"- {kind}: `--redis` {fmt(rd, 2)} KiB/session vs in-memory {fmt(m, 2)} "
                       f"({fmt(rr, 3, 'x')}, {verdict}).")
    out.append("")
    errors = sum(r.get("errors", 0) for r in rows)
    out.append(f"Runs: {len(rows)}, errors: {errors}.")
    text = "\n".join(out) + "\n"
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(text)


def one_line(r):
    """One line of progress on stderr."""
    label = r.get("label", "?")
    bits = [label]
    if r.get("bench") == "call":
        bits.append(f"{fmt(r.get('rps'))} req/s p50 {fmt(r.get('latency_us', {}).get('p50'))} µs "
                    f"p99 {fmt(r.get('latency_us', {}).get('p99'))} µs")
        w = r.get("window", {})
        if "redis_commands_per_call" in w:
            bits.append(f"redis {fmt(w['redis_commands_per_call'], 3)} cmds/call {w.get('redis_calls', {})}")
    elif r.get("bench") == "replay":
        bits.append(f"{fmt(r.get('events_per_s'))} events/s ({r.get('replayed', 0)} replayed)")
    elif r.get("bench") in ("fanout", "sessions"):
        bits.append(f"{r.get('opened', 0)} streams; delivered {r.get('delivered', '-')}; last_ms "
                    f"{r.get('last_ms', '-')}")
        for n, v in sorted(r.get("instances", {}).items()):
            if "kib_per_session" in v:
                bits.append(f"{n} {fmt(v['kib_per_session'], 2)} KiB/session")
    bits.append(f"errors {r.get('errors', 0)} {r.get('error_kinds', {}) or ''}")
    print(" | ".join(bits), file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("annotate")
    a.add_argument("--line", required=True)
    a.add_argument("--before")
    a.add_argument("--after")
    a.add_argument("--pids")
    a.add_argument("--set", action="append")
    a.set_defaults(fn=annotate)
    r = sub.add_parser("report")
    r.add_argument("--raw", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--meta", action="append")
    r.set_defaults(fn=report)
    args = p.parse_args()
    args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
