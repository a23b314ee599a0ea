#!/usr/bin/env python3
"""Summarize mcpsse_loadgen result lines (side_by_side.sh's raw.jsonl).

  summarize.py --one LINE                      one-line digest of one result (stderr use)
  summarize.py --raw raw.jsonl --out results.md [--meta k=v ...]
               [--publish benchmarks/results.md] [--readme benchmarks/README.md]

Labels are "<server>/<phase>/<round>"; figures are medians over rounds.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

BEGIN = "<!-- mcpsse-bench-results:begin -->"
END = "<!-- mcpsse-bench-results:end -->"

SERVER_NAMES = {
    "mcpsse": "mcpsse everything_server",
    "mcpsse-1t": "mcpsse everything_server, 1 thread",
    "mcpsse-base": "mcpsse baseline everything_server",
    "ts": "TypeScript SDK 1.32.2 (Node 22)",
    "nginx": "nginx, fixed body (POST)",
    "nginx-get": "nginx, fixed body (GET)",
}
SCHED_NAMES = {"batch": "SCHED_BATCH (`chrt --batch 0`)", "other": "SCHED_OTHER"}


def one_line(r):
    label = r.get("label", "?")
    bench = r.get("bench", "?")
    err = r.get("errors", 0)
    if bench in ("call", "legacy") and "rps" in r:
        lat = r.get("latency_us", {})
        return (f"{label:24s} {r['rps']:10.0f} req/s  p50 {lat.get('p50', 0):7.0f} us  "
                f"p99 {lat.get('p99', 0):7.0f} us  errors {err}")
    if bench == "sessions" and "opened" in r:
        kib = r.get("kib_per_session")
        kib_text = f"{kib:.2f} KiB/session" if kib is not None else "no RSS"
        return f"{label:24s} {r['opened']} sessions in {r.get('open_s', 0):.2f} s  {kib_text}  errors {err}"
    if bench == "fanout" and "last_ms_median" in r:
        return (f"{label:24s} {r['opened']} streams: last delivery {r['last_ms_median']:.2f} ms (median of "
                f"{r.get('rounds', 0)} rounds)  errors {err}")
    if bench == "replay" and "events_per_s" in r:
        return f"{label:24s} {r.get('replayed', 0)} events replayed at {r['events_per_s']:.0f} events/s  errors {err}"
    return f"{label:24s} errors {err}: {json.dumps(r.get('error_kinds', {}))}"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def load(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    rows.append({"label": "?/unparsable/1", "errors": 1})
    return rows


def group(rows):
    out = {}
    for r in rows:
        parts = r.get("label", "?/?/1").split("/")
        key = (parts[0], parts[1] if len(parts) > 1 else "?")
        out.setdefault(key, []).append(r)
    return out


def fmt(v, digits=0, unit=""):
    if v is None:
        return "n/a"
    if digits == 0:
        return f"{v:,.0f}{unit}"
    return f"{v:,.{digits}f}{unit}"


def machine_info(meta):
    info = {}
    info["cores (nproc)"] = str(os.cpu_count())
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["CPU"] = model
    info["kernel"] = platform.release()
    info["date (UTC)"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    cxx = meta.get("cxx", "")
    if cxx:
        try:
            info["compiler"] = subprocess.run([cxx, "--version"], capture_output=True, text=True,
                                              check=False).stdout.splitlines()[0]
        except (OSError, IndexError):
            info["compiler"] = cxx
    info["build type"] = meta.get("build_type", "?")
    try:
        with open("/proc/loadavg", encoding="utf-8") as f:
            info["load average at the end"] = " ".join(f.read().split()[:3])
    except OSError:
        pass
    for k in ("node", "nginx", "git"):
        if meta.get(k):
            info[k] = meta[k]
    return info


def tls_summary(g, servers, names, meta):
    """One sentence on the TLS row: what each server's handshakes negotiated."""
    parts = []
    for s in servers:
        rows = g.get((s, "tls"), [])
        if not rows:
            continue
        negotiated = {}
        handshakes = []
        for r in rows:
            tls = r.get("tls", {})
            handshakes.append(tls.get("handshakes"))
            for k, v in tls.get("negotiated", {}).items():
                negotiated[k] = negotiated.get(k, 0) + v
        what = ", ".join(f"{k} ({v} handshakes)" for k, v in sorted(negotiated.items())) or "no handshake recorded"
        parts.append(f"{names.get(s, s)}: {what}")
    if not parts:
        return ""
    return (f"TLS row: TLS {meta.get('tls_version', '?')}, the load generator offering only "
            f"{meta.get('tls_cipher', '?')}, ALPN http/1.1, one EC P-256 server certificate for both servers "
            f"(tests/interop/make_certs.sh), keep-alive (one handshake per connection, in the warm-up); "
            "server CPU per request is the same measure as the plain rows. Negotiated: " + "; ".join(parts) + ".")


def auth_summary(g, meta):
    """One paragraph on the authorization row: what ran, per-round throughput, medians, ratio."""
    auth, noauth = g.get(("mcpsse", "auth"), []), g.get(("mcpsse", "noauth"), [])
    if not auth and not noauth:
        return ""

    def med(rows, *path):
        vals = []
        for r in rows:
            v = r
            for p in path:
                v = v.get(p) if isinstance(v, dict) else None
            vals.append(v)
        return median(vals)

    a_rps, n_rps = med(auth, "rps"), med(noauth, "rps")
    a_p99, n_p99 = med(auth, "latency_us", "p99"), med(noauth, "latency_us", "p99")
    plain = med(g.get(("mcpsse", "throughput"), []), "rps")
    ratio = a_rps / n_rps if a_rps is not None and n_rps else None
    text = (f"Authorization row: everything_server `{meta.get('mcpsse_args', '')}` with "
            f"`{meta.get('auth_args', '?')}`, the load generator sending `Authorization: Bearer` and one "
            "RS256 JWT access token (RSA 2048) on every request, so the signature is checked once and every "
            "later request finds the verdict in the transport's cache; the per-client rate limiter counts every "
            "request against the token's subject at a rate far above the load (nothing is refused). Against the "
            f"same server with `{meta.get('noauth_args', '?')}` and no authorization, in alternating rounds (the "
            "order swaps every round). Per-round throughput (req/s), with / without: "
            + ", ".join(f"{fmt(a.get('rps'))} / {fmt(b.get('rps'))}" for a, b in zip(auth, noauth))
            + f". Medians: {fmt(a_rps)} / {fmt(n_rps)} req/s ({fmt(ratio, 3, 'x')}), p99 {fmt(a_p99, 0, ' µs')} / "
            f"{fmt(n_p99, 0, ' µs')}")
    if plain is not None:
        text += f"; the plain mcpsse row of this run (default limits, loopback exempt): {fmt(plain)} req/s"
    return text + "."


def build_report(rows, meta):
    g = group(rows)

    def med(server, phase, path):
        vals = []
        for r in g.get((server, phase), []):
            v = r
            for p in path:
                v = v.get(p) if isinstance(v, dict) else None
            vals.append(v)
        return median(vals)

    def errors(server):
        return sum(r.get("errors", 0) for (s, _), rs in g.items() if s == server for r in rs)

    servers = [s for s in ("mcpsse", "mcpsse-base", "mcpsse-1t", "ts", "nginx", "nginx-get") if any(k[0] == s for k in g)]
    names = dict(SERVER_NAMES)
    if meta.get("mcpsse_args"):
        names["mcpsse"] = f"mcpsse everything_server `{meta['mcpsse_args']}`"
    lines = []
    info = machine_info(meta)
    lines.append("Machine and run: " + "; ".join(f"{k}: {v}" for k, v in info.items()) + ".")
    lines.append("")
    lines.append(
        f"Load: {meta.get('rounds', '?')} alternating rounds per figure, {meta.get('duration_s', '?')} s measured after "
        f"{meta.get('warmup_s', '?')} s warm-up; server CPUs: {meta.get('server_cpus', 'all')}, load generator CPUs: "
        f"{meta.get('loadgen_cpus', 'all')} (the load generator shares the cores); server scheduling policy: "
        f"{SCHED_NAMES.get(meta.get('server_sched', 'other'), meta.get('server_sched'))} (every server); nginx worker_processes "
        f"{meta.get('nginx_workers', '?')}. Figures are medians over rounds. Runs started while other "
        f"processes used >= 25 % CPU: {meta.get('busy_runs', '?')}.")
    lines.append("")

    c = meta.get("connections", "32")
    lc = meta.get("latency_connections", "16")
    lines.append("| figure | " + " | ".join(names.get(s, s) for s in servers) + " |")
    lines.append("|---|" + "---|" * len(servers))

    def row(title, phase, path, digits=0, unit=""):
        cells = []
        for s in servers:
            cells.append(fmt(med(s, phase, path), digits, unit) if g.get((s, phase)) else "")
        lines.append(f"| {title} | " + " | ".join(cells) + " |")

    row(f"tools/call, {c} conns, JSON: req/s", "throughput", ["rps"])
    row(f"tools/call, {c} conns: p50 latency (µs)", "throughput", ["latency_us", "p50"])
    row(f"tools/call, {c} conns: p99 latency (µs)", "throughput", ["latency_us", "p99"])
    row(f"tools/call, {c} conns: server CPU per request (µs)", "throughput", ["server_cpu_us_per_request"], 1)
    row(f"tools/call, {c} conns: server CPU per request, user (µs)", "throughput", ["server_user_us_per_request"], 1)
    row(f"tools/call, {c} conns: server CPU per request, kernel (µs)", "throughput", ["server_sys_us_per_request"], 1)
    row(f"tools/call, {c} conns: server CPU use (% of one core)", "throughput", ["server_cpu_pct"])
    row(f"tools/call, {c} conns: load generator CPU per request (µs)", "throughput", ["loadgen_cpu_us_per_request"], 1)
    row(f"tools/call, {lc} conns: req/s", "latency", ["rps"])
    row(f"tools/call, {lc} conns: p50 latency (µs)", "latency", ["latency_us", "p50"])
    row(f"tools/call, {lc} conns: p99 latency (µs)", "latency", ["latency_us", "p99"])
    row(f"tools/call, {lc} conns: p99.9 latency (µs)", "latency", ["latency_us", "p999"])
    row(f"tools/call over TLS, {c} conns, JSON: req/s", "tls", ["rps"])
    row(f"tools/call over TLS, {c} conns: p99 latency (µs)", "tls", ["latency_us", "p99"])
    row(f"tools/call over TLS, {c} conns: server CPU per request (µs)", "tls", ["server_cpu_us_per_request"], 1)
    row(f"tools/call over TLS, {c} conns: load generator CPU per request (µs)", "tls", ["loadgen_cpu_us_per_request"], 1)
    auth_what = "JWT bearer token (RS256, cached verification) + per-client rate limiter"
    noauth_what = "no authorization, per-client limiter off (`--client-rate 0`)"
    row(f"tools/call, {c} conns, JSON, {noauth_what}: req/s", "noauth", ["rps"])
    row(f"tools/call, {c} conns, {noauth_what}: p99 latency (µs)", "noauth", ["latency_us", "p99"])
    row(f"tools/call, {c} conns, {noauth_what}: server CPU per request (µs)", "noauth",
        ["server_cpu_us_per_request"], 1)
    row(f"tools/call, {c} conns, JSON, {auth_what}: req/s", "auth", ["rps"])
    row(f"tools/call, {c} conns, {auth_what}: p99 latency (µs)", "auth", ["latency_us", "p99"])
    row(f"tools/call, {c} conns, {auth_what}: server CPU per request (µs)", "auth",
        ["server_cpu_us_per_request"], 1)
    row(f"tools/call, {c} conns, SSE response mode: req/s", "sse", ["rps"])
    row(f"tools/call, {c} conns, stateless: req/s", "stateless", ["rps"])
    row(f"legacy HTTP+SSE tools/call, {c} conns: req/s", "legacy", ["rps"])
    row(f"legacy HTTP+SSE, {c} conns: p99 latency (µs)", "legacy", ["latency_us", "p99"])
    row(f"{meta.get('sessions', '?')} sessions with open SSE streams: server KiB per session (RSS delta)",
        "sessions", ["kib_per_session"], 2)
    row(f"{meta.get('sessions', '?')} sessions: seconds to open", "sessions", ["open_s"], 2)
    row(f"one notification to {meta.get('sessions', '?')} streams: ms until the last stream has it",
        "fanout", ["last_ms_median"], 2)
    row("replay after reconnect (Last-Event-ID): events/s", "replay", ["events_per_s"])
    lines.append("| errors (all runs) | " + " | ".join(str(errors(s)) for s in servers) + " |")
    lines.append("")
    tls_note = tls_summary(g, servers, names, meta)
    if tls_note:
        lines.append(tls_note)
        lines.append("")
    auth_note = auth_summary(g, meta)
    if auth_note:
        lines.append(auth_note)
        lines.append("")

    # Ratios and targets.
    m_rps = med("mcpsse", "throughput", ["rps"])
    t_rps = med("ts", "throughput", ["rps"])
    n_rps = med("nginx", "throughput", ["rps"])
    m_p99 = med("mcpsse", "latency", ["latency_us", "p99"])
    m_kib = med("mcpsse", "sessions", ["kib_per_session"])
    m_fan = med("mcpsse", "fanout", ["last_ms_median"])
    m_open = med("mcpsse", "sessions", ["opened"])
    total_errors = sum(r.get("errors", 0) for r in rows)

    def ratio(a, b):
        return a / b if a is not None and b else None

    def verdict(ok):
        return "n/a" if ok is None else ("met" if ok else "**missed**")

    r_ts = ratio(m_rps, t_rps)
    r_ng = ratio(m_rps, n_rps)
    r_tls = ratio(med("mcpsse", "tls", ["rps"]), med("nginx", "tls", ["rps"]))
    lines.append("| target | measured | verdict |")
    lines.append("|---|---|---|")
    lines.append(f"| tools/call {c} conns JSON ≥ 15x TypeScript SDK | {fmt(r_ts, 2, 'x')} | "
                 f"{verdict(None if r_ts is None else r_ts >= 15)} |")
    lines.append(f"| tools/call {c} conns JSON ≥ 0.5x nginx (POST) | {fmt(r_ng, 2, 'x')} | "
                 f"{verdict(None if r_ng is None else r_ng >= 0.5)} |")
    if g.get(("mcpsse", "tls")) or g.get(("nginx", "tls")):
        lines.append(f"| tools/call over TLS {c} conns JSON ≥ 0.5x nginx over TLS (POST) | {fmt(r_tls, 2, 'x')} | "
                     f"{verdict(None if r_tls is None else r_tls >= 0.5)} |")
    r_auth = ratio(med("mcpsse", "auth", ["rps"]), med("mcpsse", "noauth", ["rps"]))
    if g.get(("mcpsse", "auth")) or g.get(("mcpsse", "noauth")):
        lines.append(f"| tools/call {c} conns JSON with authorization (JWT, cached) and the per-client limiter "
                     f"≥ 0.9x the same without them | {fmt(r_auth, 2, 'x')} | "
                     f"{verdict(None if r_auth is None else r_auth >= 0.9)} |")
    lines.append(f"| p99 latency at {lc} conns < 2 ms | {fmt(m_p99, 0, ' µs')} | "
                 f"{verdict(None if m_p99 is None else m_p99 < 2000)} |")
    lines.append(f"| ≤ 8 KiB server memory per open session ({fmt(m_open)} sessions) | {fmt(m_kib, 2, ' KiB')} | "
                 f"{verdict(None if m_kib is None else m_kib <= 8)} |")
    lines.append(f"| one notification to every stream < 100 ms | {fmt(m_fan, 2, ' ms')} | "
                 f"{verdict(None if m_fan is None else m_fan < 100)} |")
    lines.append(f"| zero errors in every run | {total_errors} | {verdict(total_errors == 0)} |")
    b_rps = med("mcpsse-base", "throughput", ["rps"])
    if b_rps is not None:
        def change(phase, path, digits=1):
            now, before = med("mcpsse", phase, path), med("mcpsse-base", phase, path)
            if now is None or not before:
                return "n/a"
            return f"{100 * (now - before) / before:+.{digits}f} %"
        lines.append("")
        lines.append(f"Against the baseline (`{meta.get('baseline', '?')}`, same arguments, same rounds): "
                     f"throughput {change('throughput', ['rps'])}, p99 at {lc} conns "
                     f"{change('latency', ['latency_us', 'p99'])}, KiB per session "
                     f"{change('sessions', ['kib_per_session'])}, fan-out {change('fanout', ['last_ms_median'])}. "
                     "Per-round throughput (req/s), this build / baseline: "
                     + ", ".join(f"{fmt(a.get('rps'))} / {fmt(b.get('rps'))}"
                                 for a, b in zip(g.get(("mcpsse", "throughput"), []),
                                                 g.get(("mcpsse-base", "throughput"), []))) + ".")
    o_rps = med("mcpsse-1t", "throughput", ["rps"])
    if o_rps is not None:
        lines.append("")
        lines.append(f"For comparison, everything_server on one thread: {fmt(ratio(o_rps, t_rps), 2, 'x')} the "
                     f"TypeScript SDK and {fmt(ratio(o_rps, n_rps), 2, 'x')} nginx in the same run (not a target "
                     "configuration: the targets are measured with the arguments named in the table's header).")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--one")
    ap.add_argument("--raw")
    ap.add_argument("--out")
    ap.add_argument("--meta", action="append", default=[])
    ap.add_argument("--publish")
    ap.add_argument("--readme")
    a = ap.parse_args()
    if a.one is not None:
        try:
            print(one_line(json.loads(a.one)), file=sys.stderr)
        except json.JSONDecodeError:
            print(f"unparsable result: {a.one!r}", file=sys.stderr)
        return 0
    meta = dict(m.split("=", 1) for m in a.meta if "=" in m)
    rows = load(a.raw)
    table = build_report(rows, meta)
    doc = ("# mcpsse benchmark results\n\n"
           "Written by `benchmarks/side_by_side.sh`; see `benchmarks/README.md` for what each figure means.\n\n"
           + table)
    print(table)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(doc)
    if a.publish:
        with open(a.publish, "w", encoding="utf-8") as f:
            f.write(doc)
    if a.readme and os.path.exists(a.readme):
        with open(a.readme, encoding="utf-8") as f:
            text = f.read()
        b, e = text.find(BEGIN), text.find(END)
        if b >= 0 and e > b:
            text = text[:b + len(BEGIN)] + "\n" + table + text[e:]
            with open(a.readme, "w", encoding="utf-8") as f:
                f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
