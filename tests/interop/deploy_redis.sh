#!/usr/bin/env bash
# examples/deploy `run.sh redis` on loopback: three everything_server instances sharing
# sessions, stored events and tasks through a real redis-server, behind HAProxy
# round-robin with no stickiness.
#
#   deploy_redis.sh <everything_server> <build-dir>
#
# 1. The official TypeScript SDK client (1.x, deploy_redis_client.mjs) through HAProxy:
#    initialize, tools/list and 9 tools/call on one session, no exchange answered 404;
#    the calls are served by all three instances (each instance's
#    mcpsse_tool_calls_total grows).
# 2. Resumability across instances: a POST tools/call with a progress token, answered
#    as an SSE stream by instance 1, is resumed with GET + Last-Event-ID (its first
#    event) on instance 2, which replays every later event from Redis (the progress
#    notifications and the result), byte for byte as instance 1 sent them. A task
#    (slow_compute, tasks extension) created on instance 1 is polled with tasks/get on
#    instances 2 and 3 until it is completed with its result.
# 3. Redis stopped (SIGKILL): every instance's /readyz answers 503 and HAProxy marks
#    them DOWN; Redis restarted from its append-only file (appendfsync always): /readyz
#    answers 200 again, the session goes on through HAProxy, and a fourth instance
#    started only now (it never saw the session) serves it from Redis.
#
# Server-to-client requests and notifications across instances: deploy_relay.sh.
#
# Needs haproxy, redis-server and curl (cmake/scripts/setup-debian.sh installs them)
# and an everything_server built with hiredis (mcpsse::redis); exits 77 (skipped) when
# one of these is missing. The SDK client runs from the interop_npm fixture
# (<build-dir>/npm, run_client.sh).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=script_lib.sh
source "$here/script_lib.sh"
deploy="$here/../../examples/deploy"

server_and_build_dir "$@"
skip_without_redis_deployment deploy_redis "$server"
require_tools curl

# Bad --redis settings end at once with the usage and exit status 2, before listening.
bad_args_ok=1
for args in "--redis redis://" "--redis http://127.0.0.1:6379" "--redis redis://127.0.0.1:99999" \
  "--redis-prefix p" "--redis redis://127.0.0.1:6379 --stdio" "--instance-lease-ms 1000" \
  "--redis redis://127.0.0.1:6379 --instance-lease-ms 2"; do
  # shellcheck disable=SC2086  # each entry is a list of arguments
  timeout 10 "$server" $args >/dev/null 2>&1
  status=$?
  if ((status != 2)); then
    bad_args_ok=0
    not_ok "everything_server $args exits 2 (got $status)"
  fi
done
((bad_args_ok)) && ok "bad --redis URLs and combinations exit 2 with the usage"

work="$(mktemp -d)"
run_pid=""
extra_pids=()
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  local pid
  for pid in "${extra_pids[@]}"; do stop_pid "$pid" "process $pid"; done
  [[ -n "$run_pid" ]] && stop_pid "$run_pid" run.sh
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# tool_calls PORT: the instance's mcpsse_tool_calls_total, summed over its labels.
tool_calls() {
  curl -sS --max-time 5 "http://127.0.0.1:$1/metrics" |
    awk '/^mcpsse_tool_calls_total[{ ]/ { sum += $NF } END { printf "%d\n", sum }'
}
# readyz PORT: the HTTP status of the instance's readiness endpoint.
readyz() { curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/readyz"; }
# all_ready STATUS: true when every instance's /readyz answers STATUS (waits up to 10 s).
all_ready() {
  local want="$1" i port got
  for ((i = 0; i < 100; i++)); do
    got=""
    for port in "${inst_ports[@]}"; do got+="$(readyz "$port") "; done
    [[ "$got" == "$want $want $want " ]] && return 0
    sleep 0.1
  done
  readyz_seen="$got"
  return 1
}
# haproxy_status STATUS: true when HAProxy's health checks mark all three instances
# STATUS (UP or DOWN) in its statistics CSV (waits up to 10 s).
haproxy_status() {
  local want="$1" i n
  for ((i = 0; i < 100; i++)); do
    n="$(curl -sS --max-time 2 "http://127.0.0.1:$stats_port/;csv" | awk -F, -v s="$want" '$1 == "everything" && $2 ~ /^mcp[123]$/ && $18 ~ "^" s { n++ } END { print n + 0 }')"
    ((n == 3)) && return 0
    sleep 0.1
  done
  return 1
}

# session_call PORT ID: a 2025-11-25 tools/call on the session; sets $status and $body.
session_call() {
  status="$(curl -sS -o "$work/body" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$1/mcp" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H "Mcp-Session-Id: $session" -H 'MCP-Protocol-Version: 2025-11-25' \
    --data-binary '{"jsonrpc":"2.0","id":'"$2"',"method":"tools/call","params":{"name":"test_simple_text","arguments":{}}}')"
  body="$(<"$work/body")"
}
expected_text='"text":"This is a simple text response for testing."'

# ---- run.sh redis ------------------------------------------------------------------
if ! deploy_start "$deploy/run.sh" "$server" redis "$work/redis" "$work/run.out" 300; then
  mapfile -t lines <"$work/run.out"
  not_ok "run.sh redis starts redis-server, three instances and HAProxy" "${lines[@]}"
  finish
fi
ok "run.sh redis starts redis-server, three instances and HAProxy"
read -r _ lb_port stats_port <"$work/redis/balancer"
read -r redis_pid redis_port <"$work/redis/redis/info"
inst_ports=() inst_pids=()
while read -r _ port pid; do
  inst_ports+=("$port") inst_pids+=("$pid")
done <"$work/redis/instances"
if haproxy_status UP; then
  ok "HAProxy's health checks (/readyz) mark the three instances UP"
else
  not_ok "HAProxy's health checks (/readyz) mark the three instances UP"
fi

# ---- 1. the SDK client through round-robin ------------------------------------------
before=()
for port in "${inst_ports[@]}"; do before+=("$(tool_calls "$port")"); done
INTEROP_TIMEOUT_MS=30000 bash "$here/run_client.sh" "$build_dir" deploy_redis_client.mjs \
  "http://127.0.0.1:$lb_port/mcp" 9 "$work/session" >"$work/sdk.log" 2>&1
rc=$?
if ((rc == 0)); then
  ok "the official TypeScript SDK client: initialize, tools/list, 9 tools/call on one session through HAProxy round-robin, no 404 ($(grep -c '^ok ' "$work/sdk.log") checks)"
else
  mapfile -t lines < <(tail -n 30 "$work/sdk.log")
  not_ok "the official TypeScript SDK client through HAProxy round-robin (exit $rc)" "${lines[@]}"
fi
session="$(head -n 1 "$work/session" 2>/dev/null)"
spread=() served=0
for n in 0 1 2; do
  delta=$(($(tool_calls "${inst_ports[$n]}") - before[n]))
  spread+=("$delta")
  ((delta > 0)) && served=$((served + 1))
done
if ((served == 3)); then
  ok "the session's calls were served by all three instances (${spread[*]})"
else
  not_ok "the session's calls were served by all three instances" "tools/call per instance: ${spread[*]}"
fi
if [[ -z "$session" ]]; then
  not_ok "the SDK client wrote its session id"
  finish
fi

# ---- 2. a POST's SSE stream resumed on another instance -----------------------------
headers=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream'
  -H "Mcp-Session-Id: $session" -H 'MCP-Protocol-Version: 2025-11-25')
curl -sS -N --max-time 10 "http://127.0.0.1:${inst_ports[0]}/mcp" "${headers[@]}" -o "$work/post.sse" \
  --data-binary '{"jsonrpc":"2.0","id":100,"method":"tools/call","params":{"name":"test_tool_with_progress","arguments":{},"_meta":{"progressToken":"redis-resume"}}}'
mapfile -t ids < <(sed -n 's/^id: *//p' "$work/post.sse" | tr -d '\r')
if ((${#ids[@]} >= 4)) && grep -q '"id":100,"result"' "$work/post.sse"; then
  ok "instance 1 answers a tools/call with progress as an SSE stream with event ids (${#ids[@]} events)"
  # What a client that lost the stream after the first event is owed: every later event.
  awk -v first="${ids[0]}" 'BEGIN { RS = ""; ORS = "\n\n" } found { print } $0 ~ ("^id: " first "\n") { found = 1 }' \
    "$work/post.sse" >"$work/owed.sse"
  curl -sS -N --max-time 3 "http://127.0.0.1:${inst_ports[1]}/mcp" -H 'Accept: text/event-stream' \
    -H "Mcp-Session-Id: $session" -H 'MCP-Protocol-Version: 2025-11-25' -H "Last-Event-ID: ${ids[0]}" \
    -o "$work/replay.sse" -w '%{http_code}' >"$work/replay.status" 2>"$work/replay.err"
  awk 'BEGIN { RS = ""; ORS = "\n\n" } { print }' "$work/replay.sse" >"$work/replay.norm"
  if [[ "$(<"$work/replay.status")" == 200 ]] && [[ -s "$work/owed.sse" ]] && cmp -s "$work/owed.sse" "$work/replay.norm"; then
    ok "GET with Last-Event-ID on instance 2 replays the rest of instance 1's stream from Redis ($((${#ids[@]} - 1)) events, the result included)"
  else
    mapfile -t lines < <(echo "status $(<"$work/replay.status")"; cat "$work/replay.err"; echo "owed:"; cat "$work/owed.sse"; echo "replayed:"; cat "$work/replay.sse")
    not_ok "GET with Last-Event-ID on instance 2 replays the rest of instance 1's stream from Redis" "${lines[@]:0:30}"
  fi
else
  mapfile -t lines <"$work/post.sse"
  not_ok "instance 1 answers a tools/call with progress as an SSE stream with event ids" "${lines[@]:0:20}"
fi

# ---- 2b. a task created on one instance, polled on the others -----------------------
# A session of its own that declares the tasks extension (the SDK client's does not).
curl -sS --max-time 5 -D "$work/task.head" -o /dev/null "http://127.0.0.1:${inst_ports[0]}/mcp" \
  -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
  --data-binary '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}},"clientInfo":{"name":"deploy-redis-tasks","version":"1"}}}'
task_session="$(sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *//p' "$work/task.head" | tr -d '\r')"
task_headers=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream'
  -H "Mcp-Session-Id: $task_session" -H 'MCP-Protocol-Version: 2025-11-25')
curl -sS --max-time 5 -o /dev/null "http://127.0.0.1:${inst_ports[0]}/mcp" "${task_headers[@]}" \
  --data-binary '{"jsonrpc":"2.0","method":"notifications/initialized"}'
body="$(curl -sS --max-time 5 "http://127.0.0.1:${inst_ports[0]}/mcp" "${task_headers[@]}" \
  --data-binary '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow_compute","arguments":{"seconds":1}}}')"
task_id="$(sed -n 's/.*"taskId":"\([0-9a-zA-Z_-]*\)".*/\1/p' <<<"$body")"
if [[ -z "$task_session" || -z "$task_id" ]]; then
  not_ok "a task created on instance 1 is polled to completion on instances 2 and 3" "session '$task_session', tools/call: $body"
else
  # Alternate between instances 2 and 3 until the task is completed (at most 10 s).
  task_seen=()
  for ((i = 0; i < 50; i++)); do
    port="${inst_ports[$((1 + i % 2))]}"
    body="$(curl -sS --max-time 5 "http://127.0.0.1:$port/mcp" "${task_headers[@]}" -H "Mcp-Name: $task_id" \
      --data-binary '{"jsonrpc":"2.0","id":'$((10 + i))',"method":"tasks/get","params":{"taskId":"'"$task_id"'"}}')"
    task_seen+=("$(sed -n 's/.*"status":"\([a-z_]*\)".*/\1/p' <<<"$body")")
    [[ "$body" == *'"status":"completed"'* ]] && break
    sleep 0.2
  done
  if [[ "$body" == *'"status":"completed"'* && "$body" == *'Computed result in 1000 ms'* ]]; then
    ok "a task created on instance 1 is polled to completion on instances 2 and 3 (${task_seen[*]})"
  else
    not_ok "a task created on instance 1 is polled to completion on instances 2 and 3" "statuses: ${task_seen[*]}" "last: $body"
  fi
fi

# ---- 3. Redis stopped and restarted -------------------------------------------------
kill -KILL "$redis_pid" 2>/dev/null
if all_ready 503; then
  ok "with Redis stopped (SIGKILL) every instance's /readyz answers 503"
else
  not_ok "with Redis stopped (SIGKILL) every instance's /readyz answers 503" "seen: $readyz_seen"
fi
if haproxy_status DOWN; then
  ok "HAProxy's health checks take the three instances out"
else
  not_ok "HAProxy's health checks take the three instances out"
fi
# The same configuration: same port, same directory, the append-only file replayed.
redis-server "$work/redis/redis/redis.conf" </dev/null >>"$work/redis-restart.log" 2>&1 &
extra_pids+=($!)
if all_ready 200; then
  ok "with Redis restarted every instance's /readyz answers 200 again"
else
  not_ok "with Redis restarted every instance's /readyz answers 200 again" "seen: $readyz_seen"
fi
haproxy_status UP || not_ok "HAProxy's health checks put the three instances back"
failures=()
for n in 1 2 3; do
  session_call "$lb_port" $((200 + n))
  [[ "$status" == 200 && "$body" == *"$expected_text"* ]] || failures+=("call $n: HTTP $status $body")
done
if ((${#failures[@]} == 0)); then
  ok "after the restart the session goes on through HAProxy (3 tools/call)"
else
  not_ok "after the restart the session goes on through HAProxy" "${failures[@]}"
fi
# A fresh instance knows the session only from what Redis kept across its restart.
"$server" --port 0 --state-key-file "$work/redis/state-key" --log-level warning \
  --redis "redis://127.0.0.1:$redis_port" </dev/null >"$work/mcp4.log" 2>&1 &
extra_pids+=($!)
# shellcheck disable=SC2154  # listen_port, listen_failure, listen_log: set by wait_for_listening
if wait_for_listening "$work/mcp4.log" "${extra_pids[-1]}" 10; then
  session_call "$listen_port" 300
  if [[ "$status" == 200 && "$body" == *"$expected_text"* ]]; then
    ok "a fourth instance started after the restart serves the session from Redis (appendonly)"
  else
    not_ok "a fourth instance started after the restart serves the session from Redis (appendonly)" "HTTP $status $body"
  fi
else
  not_ok "a fourth instance started after the restart serves the session from Redis" "$listen_failure" "${listen_log[@]}"
fi

# ---- run.sh stops everything -------------------------------------------------------
stop_pid "$run_pid" run.sh
run_pid=""
left=()
read -r lb_pid _ <"$work/redis/balancer"
for pid in "$lb_pid" "${inst_pids[@]}"; do
  if kill -0 "$pid" 2>/dev/null; then
    left+=("$pid")
    kill -KILL "$pid" 2>/dev/null
  fi
done
if ((${#left[@]} == 0)); then
  ok "run.sh redis stops HAProxy and every instance on SIGTERM"
else
  not_ok "run.sh redis stops HAProxy and every instance on SIGTERM" "still running: ${left[*]}"
fi
finish
