#!/usr/bin/env bash
# examples/deploy on loopback: everything_server instances behind a real HAProxy.
#
#   deploy.sh <everything_server> <build-dir> [--sticky-only]
#   (--sticky-only: parts 1, 2 and 4)
#
# 1. The configs: `haproxy -c` on every examples/deploy/haproxy-*.cfg, `nginx -t` on
#    nginx-sticky.conf (a temporary prefix).
# 2. --state-key: a requestState sealed by one instance is accepted by another started
#    with the same key (there read with --state-key-file) and refused (-32602) by one
#    with a different key; a key shorter than 16 bytes, or a key file that cannot be
#    read, is a usage error (exit status 2).
# 3. Stateless (run.sh stateless: three --stateless instances, HAProxy round-robin, no
#    shared store): 2026-07-28 tools/call requests through HAProxy all succeed and are
#    spread over all three instances (each instance's mcpsse_tool_calls_total);
#    multi-round input-required calls through HAProxy succeed although their rounds
#    land on different instances (the shared key); the official 2.x SDK client
#    (stateless_client.mjs) passes through HAProxy; one instance is killed (SIGKILL):
#    requests right after the kill still succeed (HAProxy retries elsewhere), the
#    health check on /readyz marks it DOWN (HAProxy's statistics CSV), and the later
#    requests are spread over the two others.
# 4. Sticky (run.sh sticky: instances with sessions, HAProxy stick table on
#    Mcp-Session-Id): three sessions initialized through HAProxy, each followed by
#    tools/call requests, a GET stream and a DELETE, all on the instance that created it
#    (another instance would answer 404); a legacy HTTP+SSE session whose POSTs reach
#    the instance holding its stream (learnt from the GET /sse Mcp-Session-Id header).
#
# Needs haproxy, nginx and curl (cmake/scripts/setup-debian.sh installs them);
# exits 77 (skipped) only when haproxy is not installed. The SDK client runs from the
# interop_npm_v2 fixture (<build-dir>/npm-v2, run_client.sh --v2).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=script_lib.sh
source "$here/script_lib.sh"
deploy="$here/../../examples/deploy"

server_and_build_dir "$@"
if ! command -v haproxy >/dev/null 2>&1; then
  echo "deploy: skipped: haproxy is not installed (Debian: apt-get install haproxy, see cmake/scripts/setup-debian.sh)"
  exit 77
fi
require_tools nginx curl

work="$(mktemp -d)"
run_pid=""
extra_pids=()
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  local pid
  for pid in "${extra_pids[@]}"; do stop_pid "$pid" instance; done
  [[ -n "$run_pid" ]] && stop_pid "$run_pid" run.sh
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

VERSION=2026-07-28
META='{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"deploy-test","version":"1"},"io.modelcontextprotocol/clientCapabilities":{"elicitation":{}}}'
rpc_id=0

# post_stateless PORT TOOL [EXTRA_PARAMS]: a 2026-07-28 tools/call (EXTRA_PARAMS: more
# members of params, as JSON text after a comma); sets $status and $body. Built and read
# with printf and sed, not a JSON tool: a process start costs up to a second on a busy
# CI machine, and this runs about a hundred times.
post_stateless() {
  local port="$1" tool="$2" extra="${3:-}"
  rpc_id=$((rpc_id + 1))
  local params
  printf -v params '{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"%s","arguments":{},"_meta":%s%s}}' \
    "$rpc_id" "$tool" "$META" "${extra:+,$extra}"
  status="$(curl -sS -o "$work/body" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port/mcp" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H "MCP-Protocol-Version: $VERSION" -H 'Mcp-Method: tools/call' -H "Mcp-Name: $tool" --data-binary "$params")"
  body="$(<"$work/body")"
}

# json_string NAME: the (last) string member NAME of $body (compact JSON; the strings
# read here have no escapes); empty when absent.
json_string() { sed -n 's/.*"'"$1"'":"\([^"\\]*\)".*/\1/p' <<<"$body" | head -n 1; }
# json_number NAME: the (last) number member NAME of $body; empty when absent.
json_number() { sed -n 's/.*"'"$1"'":\(-\{0,1\}[0-9][0-9]*\).*/\1/p' <<<"$body" | head -n 1; }

# tool_calls PORT: the instance's mcpsse_tool_calls_total, summed over its labels.
tool_calls() {
  curl -sS --max-time 5 "http://127.0.0.1:$1/metrics" |
    awk '/^mcpsse_tool_calls_total[{ ]/ { sum += $NF } END { printf "%d\n", sum }'
}

# start_deploy MODE: run.sh MODE in the background on a free port; sets lb_port,
# stats_port, inst_names/inst_ports/inst_pids, or fails the run.
start_deploy() {
  local mode="$1"
  if ! deploy_start "$deploy/run.sh" "$server" "$mode" "$work/$mode" "$work/$mode.out" 500; then
    mapfile -t lines <"$work/$mode.out"
    not_ok "run.sh $mode starts three instances and HAProxy" "${lines[@]}"
    finish
  fi
  ok "run.sh $mode starts three instances and HAProxy"
  read -r _ lb_port stats_port <"$work/$mode/balancer"
  inst_names=() inst_ports=() inst_pids=()
  while read -r name port pid; do
    inst_names+=("$name") inst_ports+=("$port") inst_pids+=("$pid")
  done <"$work/$mode/instances"
}

# stop_deploy: SIGTERM to run.sh, which must stop every process it started.
stop_deploy() {
  local mode="$1" pid left=()
  stop_pid "$run_pid" run.sh
  run_pid=""
  read -r pid _ <"$work/$mode/balancer"
  for pid in "$pid" "${inst_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      left+=("$pid")
      kill -KILL "$pid" 2>/dev/null
    fi
  done
  if ((${#left[@]} == 0)); then
    ok "run.sh $mode stops the balancer and every instance on SIGTERM"
  else
    not_ok "run.sh $mode stops the balancer and every instance on SIGTERM" "still running: ${left[*]}"
  fi
}

# server_status NAME: the HAProxy status (UP, DOWN, ...) of server NAME of backend
# "everything", from the statistics CSV.
server_status() {
  curl -sS --max-time 5 "http://127.0.0.1:$stats_port/;csv" |
    awk -F, -v name="$1" '$1 == "everything" && $2 == name { print $18 }'
}

# ---- 1. the configs ---------------------------------------------------------------------

for cfg in "$deploy"/haproxy-*.cfg; do
  if out="$(MCPSSE_LB_ADDR=127.0.0.1:8080 MCPSSE_STATS_ADDR=127.0.0.1:8081 MCPSSE_SERVER1=127.0.0.1:3001 \
    MCPSSE_SERVER2=127.0.0.1:3002 MCPSSE_SERVER3=127.0.0.1:3003 MCPSSE_CHECK_MS=1000 MCPSSE_REDIS_ADDR=127.0.0.1:6379 \
    haproxy -c -f "$cfg" 2>&1)"; then
    ok "haproxy -c accepts $(basename "$cfg")"
  else
    mapfile -t lines <<<"$out"
    not_ok "haproxy -c accepts $(basename "$cfg")" "${lines[@]}"
  fi
done
mkdir -p "$work/nginx/tmp"
sed -e 's/@LB_ADDR@/127.0.0.1:8080/' -e 's/@SERVER\([123]\)@/127.0.0.1:300\1/' \
  "$deploy/nginx-sticky.conf" >"$work/nginx/nginx.conf"
if out="$(nginx -t -p "$work/nginx/" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" 2>&1)"; then
  ok "nginx -t accepts nginx-sticky.conf"
else
  mapfile -t lines <<<"$out"
  not_ok "nginx -t accepts nginx-sticky.conf" "${lines[@]}"
fi

# ---- 2. --state-key ---------------------------------------------------------------------

"$server" --port 0 --state-key short-key </dev/null >"$work/short.log" 2>&1
rc=$?
if ((rc == 2)) && grep -q 'state-key needs at least 16 bytes' "$work/short.log"; then
  ok "--state-key shorter than 16 bytes: usage error, exit status 2"
else
  mapfile -t lines <"$work/short.log"
  not_ok "--state-key shorter than 16 bytes: usage error, exit status 2" "exit status $rc" "${lines[@]}"
fi

printf 'too-short\n' >"$work/short-key"
"$server" --port 0 --state-key-file "$work/short-key" </dev/null >"$work/short-file.log" 2>&1
rc_short=$?
"$server" --port 0 --state-key-file "$work/no-such-file" </dev/null >"$work/no-file.log" 2>&1
rc_missing=$?
if ((rc_short == 2 && rc_missing == 2)) && grep -q 'cannot be read' "$work/no-file.log"; then
  ok "--state-key-file with a short key or an unreadable file: usage error, exit status 2"
else
  mapfile -t lines < <(cat "$work/short-file.log" "$work/no-file.log")
  not_ok "--state-key-file with a short key or an unreadable file: usage error, exit status 2" \
    "exit status $rc_short and $rc_missing" "${lines[@]}"
fi
printf '0123456789abcdef-shared-key\n' >"$work/shared-key"

# start_instance NAME ARGS...: an everything_server on a free port; sets its port in
# port_of_NAME.
start_instance() {
  local name="$1"
  shift
  "$server" --port 0 --log-level warning "$@" </dev/null >"$work/$name.log" 2>&1 &
  local pid=$!
  extra_pids+=("$pid")
  if ! wait_for_listening "$work/$name.log" "$pid" 20; then
    not_ok "instance $name starts" "$listen_failure" "${listen_log[@]}"
    finish
  fi
  printf -v "port_of_$name" '%s' "$listen_port"
}
start_instance a --state-key 0123456789abcdef-shared-key
start_instance b --state-key-file "$work/shared-key"
start_instance c --state-key 0123456789abcdef-other--key
# shellcheck disable=SC2154  # set by start_instance
{
  post_stateless "$port_of_a" test_input_required_result_request_state
  state="$(json_string requestState)"
  if [[ "$status" == 200 && -n "$state" ]]; then
    ok "instance a answers input-required with a sealed requestState"
  else
    not_ok "instance a answers input-required with a sealed requestState" "HTTP $status" "$body"
  fi
  retry='"inputResponses":{"confirm":{"action":"accept","content":{"ok":true}}},"requestState":"'"$state"'"'
  post_stateless "$port_of_b" test_input_required_result_request_state "$retry"
  text="$(json_string text)"
  if [[ "$status" == 200 && "$text" == "state-ok: confirmed=true" ]]; then
    ok "instance b (the same key, from --state-key-file) accepts a's requestState"
  else
    not_ok "instance b (the same key, from --state-key-file) accepts a's requestState" "HTTP $status" "$body"
  fi
  post_stateless "$port_of_c" test_input_required_result_request_state "$retry"
  code="$(json_number code)"
  if [[ "$code" == -32602 ]] && [[ "$body" == *"integrity check failed"* ]]; then
    ok "instance c (another --state-key) refuses a's requestState with -32602"
  else
    not_ok "instance c (another --state-key) refuses a's requestState with -32602" "HTTP $status" "$body"
  fi
}
for pid in "${extra_pids[@]}"; do stop_pid "$pid" instance; done
extra_pids=()

# ---- 3. stateless behind HAProxy round-robin --------------------------------------------

if [[ "${3:-}" != --sticky-only ]]; then
  start_deploy stateless
  before=()
  for port in "${inst_ports[@]}"; do before+=("$(tool_calls "$port")"); done
  requests=30
  failures=()
  for ((n = 0; n < requests; n++)); do
    post_stateless "$lb_port" test_simple_text
    text="$(json_string text)"
    [[ "$status" == 200 && -n "$text" ]] || failures+=("request $n: HTTP $status $body")
  done
  if ((${#failures[@]} == 0)); then
    ok "$requests stateless tools/call requests through HAProxy all succeed"
  else
    not_ok "$requests stateless tools/call requests through HAProxy all succeed" "${failures[@]:0:5}"
  fi
  spread=() total=0 all_used=1
  for i in 0 1 2; do
    delta=$(($(tool_calls "${inst_ports[$i]}") - before[i]))
    spread+=("${inst_names[$i]}=$delta")
    total=$((total + delta))
    ((delta > 0)) || all_used=0
  done
  if ((all_used && total == requests)); then
    ok "the requests are spread over all three instances (${spread[*]})"
  else
    not_ok "the requests are spread over all three instances" "counted ${spread[*]} (total $total of $requests)"
  fi

  # Multi-round calls: each round goes to the next instance in the rotation.
  failures=()
  for ((n = 0; n < 6; n++)); do
    post_stateless "$lb_port" test_input_required_result_multi_round
    state="$(json_string requestState)"
    round2='"inputResponses":{"step1":{"action":"accept","content":{"name":"Ada"}}},"requestState":"'"$state"'"'
    post_stateless "$lb_port" test_input_required_result_multi_round "$round2"
    state="$(json_string requestState)"
    round3='"inputResponses":{"step2":{"action":"accept","content":{"color":"teal"}}},"requestState":"'"$state"'"'
    post_stateless "$lb_port" test_input_required_result_multi_round "$round3"
    text="$(json_string text)"
    [[ "$text" == "Name: Ada, color: teal" ]] || failures+=("call $n: HTTP $status $body")
  done
  if ((${#failures[@]} == 0)); then
    ok "multi-round input-required calls through HAProxy succeed (rounds on different instances, one key)"
  else
    not_ok "multi-round input-required calls through HAProxy succeed" "${failures[@]:0:3}"
  fi

  # The official 2.x SDK client through HAProxy. One of its checks cannot pass here
  # unless its two requests meet on one instance: a subscriptions/listen stream open on
  # one instance hears only that instance's list changes, and the tool call that makes
  # the change goes to the next instance. Delivery across instances needs a shared bus
  # (issue #20's Redis part); until then that check may fail, and only that one.
  INTEROP_CONCURRENCY=20 bash "$here/run_client.sh" --v2 "$build_dir" stateless_client.mjs \
    "http://127.0.0.1:$lb_port" >"$work/sdk.log" 2>&1
  rc=$?
  passed_checks="$(grep -cE '^ok ' "$work/sdk.log")"
  mapfile -t failed_checks < <(grep -E '^not ok ' "$work/sdk.log")
  if ((rc == 0)); then
    ok "the official 2.x SDK client (stateless_client.mjs) passes through HAProxy ($passed_checks checks)"
  elif ((${#failed_checks[@]} == 1 && passed_checks > 0)) &&
    [[ "${failed_checks[0]}" == "not ok - subscriptions/listen delivers tools/list_changed" ]]; then
    ok "the official 2.x SDK client (stateless_client.mjs) passes through HAProxy ($passed_checks checks; list_changed across instances is not delivered without a shared bus)"
  else
    mapfile -t lines < <(grep -vE '^ok ' "$work/sdk.log" | tail -n 30)
    not_ok "the official 2.x SDK client (stateless_client.mjs) passes through HAProxy (exit $rc)" "${lines[@]}"
  fi

  # Kill one instance: HAProxy retries its share elsewhere, then the check takes it out.
  kill -KILL "${inst_pids[1]}"
  killed_at=$SECONDS
  failures=()
  for ((n = 0; n < 6; n++)); do
    post_stateless "$lb_port" test_simple_text
    [[ "$status" == 200 ]] || failures+=("request $n: HTTP $status $body")
  done
  if ((${#failures[@]} == 0)); then
    ok "requests right after ${inst_names[1]} was killed still succeed (HAProxy redispatches)"
  else
    not_ok "requests right after ${inst_names[1]} was killed still succeed" "${failures[@]:0:3}"
  fi
  state=""
  for ((i = 0; i < 100; i++)); do
    state="$(server_status "${inst_names[1]}")"
    [[ "$state" == DOWN* ]] && break
    sleep 0.1
  done
  if [[ "$state" == DOWN* ]]; then
    ok "the /readyz health check marks ${inst_names[1]} DOWN ($((SECONDS - killed_at)) s or less after the kill)"
  else
    not_ok "the /readyz health check marks ${inst_names[1]} DOWN within 10 s" "status: ${state:-(none)}"
  fi
  before=("$(tool_calls "${inst_ports[0]}")" "$(tool_calls "${inst_ports[2]}")")
  failures=()
  for ((n = 0; n < 20; n++)); do
    post_stateless "$lb_port" test_simple_text
    [[ "$status" == 200 ]] || failures+=("request $n: HTTP $status $body")
  done
  d0=$(($(tool_calls "${inst_ports[0]}") - before[0]))
  d2=$(($(tool_calls "${inst_ports[2]}") - before[1]))
  if ((${#failures[@]} == 0 && d0 > 0 && d2 > 0 && d0 + d2 == 20)); then
    ok "after the check: 20 requests succeed on the two live instances (${inst_names[0]}=$d0 ${inst_names[2]}=$d2)"
  else
    not_ok "after the check: 20 requests succeed on the two live instances" \
      "${inst_names[0]}=$d0 ${inst_names[2]}=$d2" "${failures[@]:0:3}"
  fi
  stop_deploy stateless
fi

# ---- 4. sessions behind HAProxy's stick table ---------------------------------------------

# metric PORT NAME: the instance's metric NAME summed over its labels.
metric() {
  curl -sS --max-time 5 "http://127.0.0.1:$1/metrics" |
    awk -v name="$2" '$1 == name || index($1, name "{") == 1 { sum += $NF } END { printf "%d\n", sum }'
}

# post_session PORT SESSION BODY: a POST of a session-based revision (2025-11-25);
# SESSION empty for initialize. Sets $status, $body and $session (the response's
# Mcp-Session-Id, if any).
post_session() {
  local port="$1" sid="$2" data="$3"
  local headers=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
  [[ -n "$sid" ]] && headers+=(-H "Mcp-Session-Id: $sid" -H 'MCP-Protocol-Version: 2025-11-25')
  status="$(curl -sS -o "$work/body" -D "$work/head" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port/mcp" \
    "${headers[@]}" --data-binary "$data")"
  body="$(<"$work/body")"
  session="$(tr -d '\r' <"$work/head" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *//p')"
}

start_deploy sticky
opened_before=() calls_before=()
for port in "${inst_ports[@]}"; do
  opened_before+=("$(metric "$port" mcpsse_sessions_opened_total)")
  calls_before+=("$(tool_calls "$port")")
done
failures=()
for s in 1 2 3; do
  post_session "$lb_port" "" '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"deploy-test","version":"1"}}}'
  if [[ "$status" != 200 || -z "$session" ]]; then
    failures+=("session $s: initialize: HTTP $status, Mcp-Session-Id '${session}': $body")
    continue
  fi
  sid="$session"
  post_session "$lb_port" "$sid" '{"jsonrpc":"2.0","method":"notifications/initialized"}'
  [[ "$status" == 202 ]] || failures+=("session $s: notifications/initialized: HTTP $status $body")
  for n in 1 2 3 4; do
    post_session "$lb_port" "$sid" '{"jsonrpc":"2.0","id":'$((n + 1))',"method":"tools/call","params":{"name":"test_simple_text","arguments":{}}}'
    [[ "$status" == 200 && "$body" == *'"result"'* ]] || failures+=("session $s: tools/call $n: HTTP $status $body")
  done
  # The standalone stream: its head, then curl gives up after a second.
  get_status="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$lb_port/mcp" \
    -H 'Accept: text/event-stream' -H "Mcp-Session-Id: $sid" -H 'MCP-Protocol-Version: 2025-11-25' 2>/dev/null)"
  [[ "$get_status" == 200 ]] || failures+=("session $s: GET stream: HTTP $get_status")
  del_status="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 -X DELETE "http://127.0.0.1:$lb_port/mcp" \
    -H "Mcp-Session-Id: $sid" -H 'MCP-Protocol-Version: 2025-11-25')"
  [[ "$del_status" == 200 || "$del_status" == 204 ]] || failures+=("session $s: DELETE: HTTP $del_status")
done
if ((${#failures[@]} == 0)); then
  ok "three sessions through HAProxy: initialize, 4 tools/call, GET stream and DELETE each reach their instance"
else
  not_ok "three sessions through HAProxy: every request reaches the session's instance" "${failures[@]:0:5}"
fi
spread=() spread_ok=1
for i in 0 1 2; do
  opened=$(($(metric "${inst_ports[$i]}" mcpsse_sessions_opened_total) - opened_before[i]))
  calls=$(($(tool_calls "${inst_ports[$i]}") - calls_before[i]))
  spread+=("${inst_names[$i]}: $opened session(s), $calls call(s)")
  ((opened == 1 && calls == 4)) || spread_ok=0
done
if ((spread_ok)); then
  ok "one session per instance (initialize round-robin), each session's calls on its own instance"
else
  not_ok "one session per instance, each session's calls on its own instance" "${spread[@]}"
fi

# Legacy HTTP+SSE: the table learns the id from the GET /sse response's Mcp-Session-Id,
# and the POSTs (which name it only in the URL) follow the stream.
for s in 1 2; do
  curl -sS -N --max-time 20 -D "$work/sse$s.head" -o "$work/sse$s.events" "http://127.0.0.1:$lb_port/sse" \
    -H 'Accept: text/event-stream' 2>/dev/null &
  sse_pid=$!
  extra_pids+=("$sse_pid")
  endpoint=""
  for ((i = 0; i < 100; i++)); do
    endpoint="$(sed -n 's/^data: *\(\/messages?sessionId=[^[:space:]]*\).*/\1/p' "$work/sse$s.events" 2>/dev/null | head -n 1)"
    [[ -n "$endpoint" ]] && break
    sleep 0.05
  done
  header_id="$(tr -d '\r' <"$work/sse$s.head" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *//p')"
  if [[ -n "$endpoint" && "$endpoint" == "/messages?sessionId=$header_id" ]]; then
    ok "legacy session $s: the GET /sse head's Mcp-Session-Id is the endpoint event's sessionId"
  else
    not_ok "legacy session $s: the GET /sse head's Mcp-Session-Id is the endpoint event's sessionId" \
      "endpoint '$endpoint', header '$header_id'"
  fi
  failures=()
  post_status="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$lb_port$endpoint" \
    -H 'Content-Type: application/json' \
    --data-binary '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"deploy-test","version":"1"}}}')"
  [[ "$post_status" == 202 ]] || failures+=("initialize: HTTP $post_status")
  post_status="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$lb_port$endpoint" \
    -H 'Content-Type: application/json' \
    --data-binary '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"test_simple_text","arguments":{}}}')"
  [[ "$post_status" == 202 ]] || failures+=("tools/call: HTTP $post_status")
  for ((i = 0; i < 100; i++)); do
    grep -q '"id":2' "$work/sse$s.events" 2>/dev/null && break
    sleep 0.05
  done
  grep -q '"id":2,"result"\|"result".*"id":2' "$work/sse$s.events" || failures+=("no tools/call reply on the stream")
  if ((${#failures[@]} == 0)); then
    ok "legacy session $s: POSTs through HAProxy reach the instance holding the stream (replies on it)"
  else
    mapfile -t lines < <(tail -n 5 "$work/sse$s.events")
    not_ok "legacy session $s: POSTs through HAProxy reach the instance holding the stream" "${failures[@]}" "${lines[@]}"
  fi
  kill -TERM "$sse_pid" 2>/dev/null
  wait "$sse_pid" 2>/dev/null
  extra_pids=()
done
stop_deploy sticky

finish
