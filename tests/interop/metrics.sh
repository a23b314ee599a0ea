#!/usr/bin/env bash
# Interop test of everything_server's operations endpoints: metrics under a known
# load, the separate metrics listener, and draining on SIGTERM.
#
#   metrics.sh <everything_server> <build-dir>
#
# <build-dir> is the CMake binary directory of tests/interop (as for setup.sh,
# whose 1.x SDK install the Node client needs). This script
#   1. starts `everything_server --host 127.0.0.1 --port 0 --log-format none`
#      (port from its "listening on http://..." line), scrapes /metrics, runs the
#      SDK client metrics_client.mjs (initialize, tools/list, ping, METRICS_CALLS
#      greet calls, a progress call, an isError call, an unknown tool, DELETE;
#      it records every HTTP exchange and JSON-RPC request it sent), scrapes
#      again and checks that the counters grew by what was sent
#      (metrics_delta.py): JSON-RPC requests by method and outcome, tool calls
#      by tool and outcome (the unknown tool under tool="other"), HTTP requests
#      on route "mcp" by method and status as the client saw them, the request
#      duration histogram's count, the session opened and deleted under the
#      negotiated protocol revision, response and standalone SSE streams;
#   2. validates both scrapes: text format 0.0.4 with promtool and
#      prometheus_client's text parser, and a scrape with
#      `Accept: application/openmetrics-text; version=1.0.0` with its OpenMetrics
#      parser (check_metrics.sh), with absolute values of the fresh server;
#   3. drains that server: a curl session starts `slow_compute` (3 s), SIGTERM
#      arrives while it runs; then /readyz answers 503 {"status":"draining"},
#      /healthz 200, /metrics mcpsse_draining 1, a new initialize 503; the slow
#      call's response arrives complete and the process exits with status 0;
#   4. starts a second server with `--metrics-port 0`: /metrics on the side port
#      (the line "metrics on http://..."), counting the MCP port's requests, and
#      404 for /metrics on the MCP port; exit status 0 on SIGTERM.
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed"; exits
# non-zero on any failure, 77 (skipped) when promtool, /usr/bin/python3's
# prometheus_client or the SDK install is missing. Needs curl and timeout.
# Environment: METRICS_CALLS (default 20), METRICS_TEST_WAIT_S (default 20) how
# long to wait for a listening line.
set -uo pipefail

usage() {
  echo "usage: $0 <everything_server> <build-dir>" >&2
  exit 2
}
[[ "${1:-}" == "-h" || "${1:-}" == "--help" ]] && { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0; }
[[ $# -eq 2 && -n "$1" && -n "$2" ]] || usage

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
server_bin="$1"
mkdir -p "$2" || exit 1
build_dir="$(cd "$2" && pwd)"
work="$build_dir/metrics"
wait_s="${METRICS_TEST_WAIT_S:-20}"
calls="${METRICS_CALLS:-20}"
python=/usr/bin/python3

# shellcheck source-path=SCRIPTDIR source=script_lib.sh
source "$here/script_lib.sh"

skip() {
  echo "metrics: SKIPPED: $1" >&2
  exit 77
}
command -v promtool >/dev/null 2>&1 || skip "promtool not found (Debian package prometheus)"
"$python" -c 'import prometheus_client' 2>/dev/null ||
  skip "$python has no prometheus_client (Debian package python3-prometheus-client)"
[[ -f "$build_dir/npm/node_modules/@modelcontextprotocol/sdk/package.json" ]] ||
  skip "the MCP TypeScript SDK is not installed in $build_dir/npm (run setup.sh $build_dir)"
require_tools curl timeout
if [[ ! -x "$server_bin" ]]; then
  not_ok "server binary" "'$server_bin' not found or not executable"
  finish
fi

mkdir -p "$work"
rm -f "$work"/*

# ---- servers ---------------------------------------------------------------
# start_server NAME ARGS...: starts everything_server with its log in
# $work/NAME.log; sets pids[NAME], and port / metrics_port from its lines.
declare -A pids=()
port=""
metrics_port=""
# shellcheck disable=SC2317  # called from the traps
stop_all() {
  local name
  for name in "${!pids[@]}"; do
    stop_pid "${pids[$name]}" "$name"
  done
  pids=()
}
trap stop_all EXIT
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM

start_server() {
  local name="$1" log="$work/$1.log" line
  shift
  echo "# starting $server_bin $*"
  "$server_bin" "$@" </dev/null >"$log" 2>&1 &
  pids[$name]=$!
  port=""
  metrics_port=""
  if ! wait_for_listening "$log" "${pids[$name]}" "$wait_s"; then
    not_ok "$name announces its URL" "$listen_failure" "${listen_log[@]}"
    return 1
  fi
  port="$listen_port"
  line="$(grep -m1 -oE 'metrics on http://[^ /]+:[0-9]+/metrics' "$log" 2>/dev/null)"
  if [[ -n "$line" ]]; then
    metrics_port="${line##*:}"
    metrics_port="${metrics_port%/metrics}"
  fi
  ok "$name announces its URL (port $port${metrics_port:+, metrics port $metrics_port})"
}

# wait_exit NAME SECONDS: waits for the server to exit; sets exit_status ("" if it
# is still running).
wait_exit() {
  local pid="${pids[$1]}" deadline=$((SECONDS + $2))
  exit_status=""
  while ((SECONDS < deadline)) && kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null
    exit_status=$?
    unset "pids[$1]"
  fi
}

# scrape URL FILE [openmetrics]: GET the exposition; the response head goes to FILE.head.
scrape() {
  local accept=()
  [[ "${3:-}" == openmetrics ]] && accept=(-H 'Accept: application/openmetrics-text; version=1.0.0')
  curl -sS --max-time 5 "${accept[@]}" -D "$2.head" -o "$2" "$1"
}

# series FILE FORMAT JSON [--expect ...]: validates FILE (check_metrics.sh) and writes its
# series map to JSON; prints check_metrics' messages on failure.
series() {
  local file="$1" format="$2" json="$3" rc=0
  shift 3
  bash "$here/check_metrics.sh" "$file" "$format" --json "$@" >"$json" 2>"$json.err" || rc=$?
  ((rc == 77)) && skip "$(cat "$json.err")"
  return "$rc"
}

rpc_json() {  # rpc_json ID METHOD PARAMS
  printf '{"jsonrpc":"2.0","id":%s,"method":"%s","params":%s}' "$1" "$2" "$3"
}
init_body="$(rpc_json 1 initialize '{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"mcpsse-metrics-curl","version":"0.0.0"}}')"
# mcp_post URL BODY OUT [headers...]: POST with MCP's headers; prints the status.
mcp_post() {
  local url="$1" body="$2" out="$3"
  shift 3
  curl -sS --max-time 15 -o "$out" -D "$out.head" -w '%{http_code}' \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' "$@" \
    --data-binary "$body" "$url"
}

# ---- 1. metrics under load -------------------------------------------------
start_server load --host 127.0.0.1 --port 0 --log-format none || finish
base="http://127.0.0.1:$port"

scrape "$base/metrics" "$work/before.txt"
if grep -qi '^content-type: text/plain; version=0.0.4' "$work/before.txt.head" &&
  series "$work/before.txt" text "$work/before.json"; then
  ok "scrape before the load: text format 0.0.4, promtool and prometheus_client accept it"
else
  mapfile -t err < <(head -n 5 "$work/before.txt.head"; tail -n 20 "$work/before.json.err")
  not_ok "scrape before the load: text format 0.0.4, promtool and prometheus_client accept it" "${err[@]}"
  finish
fi

record="$work/record.json"
if out="$(bash "$here/run_client.sh" "$build_dir" metrics_client.mjs "$base" "$calls" "$record" 2>&1)"; then
  ok "SDK client load: $calls greet calls and the rest (metrics_client.mjs)"
  printf '%s\n' "$out" | sed 's/^/  # /'
else
  mapfile -t lines <<<"$out"
  not_ok "SDK client load (metrics_client.mjs)" "${lines[@]}"
  finish
fi

# What the client sent, from its wire record: SERIES=DELTA lines for metrics_delta.py,
# after checking that the record is the mix metrics_client.mjs promises (so the
# expectations below are not just the record repeated).
mapfile -t deltas < <("$python" - "$record" "$calls" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
pv = r["protocolVersion"]
rpc_sent = sum(r["rpc"].values())
problems = []
if r["rpc"].get("tools/call") != n + 3:
    problems.append("the client sent {} tools/call, expected {}".format(r["rpc"].get("tools/call"), n + 3))
if r["http"].get("POST 200") != rpc_sent:
    problems.append("POST 200 {} != JSON-RPC requests sent {}".format(r["http"].get("POST 200"), rpc_sent))
if r["http"].get("DELETE 200") != 1:
    problems.append("DELETE 200 seen {} times".format(r["http"].get("DELETE 200")))
for p in problems:
    print("PROBLEM " + p)
out = [
    'mcpsse_rpc_requests_total{method="tools/call",outcome="success"}=%d' % (n + 2),
    'mcpsse_rpc_requests_total{method="tools/call",outcome="error"}=1',
    'mcpsse_tool_calls_total{outcome="success",tool="greet"}=%d' % n,
    'mcpsse_tool_calls_total{outcome="success",tool="test_tool_with_progress"}=1',
    'mcpsse_tool_calls_total{outcome="success",tool="test_error_handling"}=1',
    'mcpsse_tool_calls_total{outcome="error",tool="other"}=1',
    'mcpsse_sessions_opened_total{protocol_version="%s"}=1' % pv,
    'mcpsse_sessions_ended_total{protocol_version="%s",reason="deleted"}=1' % pv,
    'mcpsse_sessions_open{protocol_version="%s"}=0' % pv,
    'mcpsse_sse_streams_opened_total{kind="response"}=%d' % r["sseResponses"],
    'mcpsse_sse_streams_opened_total{kind="standalone"}=%d' % r["http"].get("GET 200", 0),
    'mcpsse_http_request_duration_seconds_count{route="mcp"}=%d' % sum(r["http"].values()),
]
for m in ("initialize", "tools/list", "ping"):
    out.append('mcpsse_rpc_requests_total{method="%s",outcome="success"}=%d' % (m, r["rpc"].get(m, 0)))
for key, count in sorted(r["http"].items()):
    method, status = key.split()
    out.append('mcpsse_http_requests_total{method="%s",route="mcp",status="%s"}=%d' % (method, status, count))
print("\n".join(out))
EOF
)
problems=()
expectations=()
for d in "${deltas[@]}"; do
  if [[ "$d" == PROBLEM* ]]; then problems+=("${d#PROBLEM }"); else expectations+=("$d"); fi
done
if ((${#problems[@]} == 0 && ${#expectations[@]} > 10)); then
  ok "the client's wire record: one POST per JSON-RPC request, $((calls + 3)) tools/call, one DELETE"
else
  not_ok "the client's wire record: one POST per JSON-RPC request, $((calls + 3)) tools/call, one DELETE" \
    "${problems[@]}" "$(cat "$record")"
fi

# The standalone GET stream and the DELETE are counted when the server has ended
# them, which may be a moment after the client returned: scrape until the counters
# match (at most 3 s), then report that scrape.
for ((i = 0; i < 30; i++)); do
  scrape "$base/metrics" "$work/after.txt"
  series "$work/after.txt" text "$work/after.json" &&
    "$python" "$here/metrics_delta.py" "$work/before.json" "$work/after.json" "${expectations[@]}" >/dev/null &&
    break
  sleep 0.1
done
while IFS= read -r line; do
  case "$line" in
    "ok - "*) ok "counter ${line#ok - }" ;;
    "not ok - "*) failed=$((failed + 1)); echo "not ok - counter ${line#not ok - }" ;;
    *) echo "$line" ;;
  esac
done < <("$python" "$here/metrics_delta.py" "$work/before.json" "$work/after.json" "${expectations[@]}")

# The same server in both formats, with absolute values (it started at zero).
absolute=(
  --expect "mcpsse_rpc_requests_total{method=\"tools/call\",outcome=\"success\"}=$((calls + 2))"
  --expect "mcpsse_tool_calls_total{outcome=\"success\",tool=\"greet\"}=$calls"
  --expect 'mcpsse_rpc_requests_in_flight=0'
  --expect 'mcpsse_draining=0'
)
if series "$work/after.txt" text "$work/after.json" "${absolute[@]}"; then
  ok "scrape after the load: promtool and the text parser accept it, absolute values as sent"
else
  mapfile -t err < <(tail -n 20 "$work/after.json.err")
  not_ok "scrape after the load: promtool and the text parser accept it, absolute values as sent" "${err[@]}"
fi
scrape "$base/metrics" "$work/after.om" openmetrics
if grep -qi '^content-type: application/openmetrics-text; version=1.0.0' "$work/after.om.head" &&
  [[ "$(tail -n 1 "$work/after.om")" == "# EOF" ]] &&
  series "$work/after.om" openmetrics "$work/after.om.json" "${absolute[@]}"; then
  ok "OpenMetrics scrape (Accept: application/openmetrics-text; version=1.0.0): the OpenMetrics parser accepts it, same values"
else
  mapfile -t err < <(head -n 5 "$work/after.om.head"; tail -n 20 "$work/after.om.json.err")
  not_ok "OpenMetrics scrape (Accept: application/openmetrics-text; version=1.0.0): the OpenMetrics parser accepts it, same values" \
    "${err[@]}"
fi

# ---- 2. drain on SIGTERM ---------------------------------------------------
status="$(mcp_post "$base/mcp" "$init_body" "$work/drain-init.out")"
session="$(grep -i '^mcp-session-id:' "$work/drain-init.out.head" | tr -d '\r' | sed 's/^[^:]*: *//')"
session_headers=(-H "Mcp-Session-Id: $session" -H 'MCP-Protocol-Version: 2025-06-18')
status2="$(mcp_post "$base/mcp" '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$work/drain-initialized.out" \
  "${session_headers[@]}")"
if [[ "$status" == 200 && -n "$session" && "$status2" == 202 ]]; then
  ok "curl session for the drain (initialize 200, notifications/initialized 202)"
else
  not_ok "curl session for the drain" "initialize $status, session '$session', notifications/initialized $status2"
fi
slow_body="$(rpc_json 2 tools/call '{"name":"slow_compute","arguments":{"seconds":3,"label":"drain"}}')"
mcp_post "$base/mcp" "$slow_body" "$work/slow.out" "${session_headers[@]}" >"$work/slow.status" 2>"$work/slow.err" &
slow_pid=$!
in_flight=""
for ((i = 0; i < 50; i++)); do
  if curl -sS --max-time 2 "$base/metrics" | grep -qx 'mcpsse_rpc_requests_in_flight 1'; then in_flight=yes; break; fi
  sleep 0.1
done
if [[ -n "$in_flight" ]]; then
  ok "slow_compute (3 s) in flight (mcpsse_rpc_requests_in_flight 1)"
else
  not_ok "slow_compute (3 s) in flight (mcpsse_rpc_requests_in_flight 1)" "not seen within 5 s"
fi

kill -TERM "${pids[load]}"
sleep 0.3
ready_status="$(curl -sS --max-time 2 -o "$work/readyz.out" -w '%{http_code}' "$base/readyz")"
ready_body="$(tr -d ' \r\n' <"$work/readyz.out")"
if [[ "$ready_status" == 503 && "$ready_body" == '{"status":"draining"}' ]]; then
  ok "while draining /readyz answers 503 {\"status\":\"draining\"}"
else
  not_ok "while draining /readyz answers 503 {\"status\":\"draining\"}" "got $ready_status '$ready_body'"
fi
health_status="$(curl -sS --max-time 2 -o "$work/healthz.out" -w '%{http_code}' "$base/healthz")"
if [[ "$health_status" == 200 ]]; then
  ok "while draining /healthz answers 200 ($(tr -d '\r\n' <"$work/healthz.out"))"
else
  not_ok "while draining /healthz answers 200" "got $health_status '$(cat "$work/healthz.out")'"
fi
if curl -sS --max-time 2 "$base/metrics" | grep -qx 'mcpsse_draining 1'; then
  ok "while draining /metrics shows mcpsse_draining 1"
else
  not_ok "while draining /metrics shows mcpsse_draining 1"
fi
new_status="$(mcp_post "$base/mcp" "$init_body" "$work/drain-new.out")"
if [[ "$new_status" == 503 ]]; then
  ok "while draining a new initialize gets 503"
else
  not_ok "while draining a new initialize gets 503" "got $new_status: $(head -c 300 "$work/drain-new.out")"
fi

wait "$slow_pid"
slow_rc=$?
slow_status="$(cat "$work/slow.status")"
# The result arrives as JSON or as an SSE event; either way one JSON-RPC response, id 2.
if ((slow_rc == 0)) && [[ "$slow_status" == 200 ]] &&
  grep -q '"id":2' "$work/slow.out" && grep -q 'Computed drain in 3000 ms' "$work/slow.out" &&
  ! grep -q '"error"' "$work/slow.out"; then
  ok "the slow call's response arrived complete during the drain"
else
  mapfile -t err < <(head -c 600 "$work/slow.out"; echo; cat "$work/slow.err")
  not_ok "the slow call's response arrived complete during the drain" "curl exit $slow_rc, status $slow_status" "${err[@]}"
fi
wait_exit load 10
if [[ "$exit_status" == 0 ]]; then
  ok "the server exits with status 0 after draining"
else
  mapfile -t err < <(tail -n 10 "$work/load.log")
  not_ok "the server exits with status 0 after draining" "exit status '${exit_status:-still running after 10 s}'" \
    "${err[@]}"
fi

# ---- 3. a metrics listener of its own --------------------------------------
if start_server side --host 127.0.0.1 --port 0 --metrics-port 0 --log-format none; then
  if [[ -n "$metrics_port" && "$metrics_port" != "$port" ]]; then
    ok "--metrics-port 0: a listener of its own (port $metrics_port)"
    status="$(mcp_post "http://127.0.0.1:$port/mcp" "$init_body" "$work/side-init.out")"
    mcp_404="$(curl -sS --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")"
    if [[ "$mcp_404" == 404 ]]; then
      ok "--metrics-port: /metrics on the MCP port answers 404"
    else
      not_ok "--metrics-port: /metrics on the MCP port answers 404" "got $mcp_404"
    fi
    health="$(curl -sS --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")"
    if [[ "$health" == 200 ]]; then
      ok "--metrics-port: /healthz stays on the MCP port"
    else
      not_ok "--metrics-port: /healthz stays on the MCP port" "got $health"
    fi
    scrape "http://127.0.0.1:$metrics_port/metrics" "$work/side.txt"
    if [[ "$status" == 200 ]] && series "$work/side.txt" text "$work/side.json" \
      --expect 'mcpsse_http_requests_total{method="POST",route="mcp",status="200"}=1' \
      --expect 'mcpsse_sessions_opened_total{protocol_version="2025-06-18"}=1' \
      --expect 'mcpsse_sessions_open{protocol_version="2025-06-18"}=1'; then
      ok "--metrics-port: the side port serves the MCP port's counters (one initialize, one session), valid text format"
    else
      mapfile -t err < <(tail -n 20 "$work/side.json.err")
      not_ok "--metrics-port: the side port serves the MCP port's counters" "initialize answered $status" "${err[@]}"
    fi
  else
    not_ok "--metrics-port 0: a listener of its own" "no 'metrics on http://HOST:PORT/metrics' line (or the MCP port)"
  fi
  kill -TERM "${pids[side]}"
  wait_exit side 10
  if [[ "$exit_status" == 0 ]]; then
    ok "the --metrics-port server exits with status 0 on SIGTERM"
  else
    not_ok "the --metrics-port server exits with status 0 on SIGTERM" "exit status '${exit_status:-still running after 10 s}'"
  fi
fi

finish
