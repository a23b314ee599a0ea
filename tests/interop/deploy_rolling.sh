#!/usr/bin/env bash
# A rolling restart of examples/deploy `run.sh redis` under a steady load: three
# everything_server instances sharing sessions through a real redis-server, behind
# HAProxy round-robin with no stickiness.
#
#   deploy_rolling.sh <everything_server> <build-dir>
#
# A load generator (deploy_rolling_client.mjs: 8 official TypeScript SDK 1.x
# clients, each with its own session, each calling `greet` in a closed loop and
# checking every answer) runs through HAProxy while run.sh restarts the three
# instances one after another, twice (see examples/deploy/README.md, "Rolling
# restart"):
#   1. `kill -HUP`, the procedure behind HAProxy: each instance is set to `drain`
#      through HAProxy's runtime API, sent SIGTERM, started again on its port once it
#      exited, and set `ready` once its /readyz answers 200;
#   2. `kill -USR1`, SIGTERM only (as a process supervisor that knows nothing of the
#      balancer): until the health check takes it out, HAProxy still sends the
#      instance requests; it serves the sessions it holds while it drains, refuses
#      the others with 503, then stops listening, and haproxy-redis.cfg's retries
#      (conn-failure, empty-response, 503, each on another instance) must hide all of
#      that, and the restarted instance's 503s before its Redis connection is up.
# Checked, for each restart: the instance drained (its log says "draining") and
# exited with status 0, came back on the same port and UP in HAProxy, and served
# calls afterwards (its new process's mcpsse_tool_calls_total); over the whole run:
# zero failed calls (HTTP error, JSON-RPC error, tool error, transport exception,
# timeout, wrong answer), no transport error reported to any client (GET streams
# included), at least 300 calls.
#
# Needs haproxy, redis-server and curl (cmake/scripts/setup-debian.sh installs them)
# and an everything_server built with hiredis (mcpsse::redis); exits 77 (skipped) when
# one of these is missing. The SDK clients run from the interop_npm fixture
# (<build-dir>/npm, run_client.sh). About 10 s. DEPLOY_ROLLING_KEEP=1 keeps the work
# folder (run.sh's, HAProxy's and the instances' logs) and prints where it is.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=script_lib.sh
source "$here/script_lib.sh"
deploy="$here/../../examples/deploy"

server_and_build_dir "$@"
skip_without_redis_deployment deploy_rolling "$server"
require_tools curl socat

sessions=8
min_calls=300
work="$(mktemp -d)"
run_pid=""
load_pid=""
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  [[ -n "$load_pid" ]] && stop_pid "$load_pid" "the load generator"
  [[ -n "$run_pid" ]] && stop_pid "$run_pid" run.sh
  if [[ -n "${DEPLOY_ROLLING_KEEP:-}" ]]; then echo "# kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# tool_calls PORT: the instance's mcpsse_tool_calls_total, summed over its labels.
tool_calls() {
  curl -sS --max-time 5 "http://127.0.0.1:$1/metrics" |
    awk '/^mcpsse_tool_calls_total[{ ]/ { sum += $NF } END { printf "%d\n", sum }'
}

# ---- run.sh redis ------------------------------------------------------------------
if ! deploy_start "$deploy/run.sh" "$server" redis "$work/redis" "$work/run.out" 200; then
  mapfile -t lines <"$work/run.out"
  not_ok "run.sh redis starts redis-server, three instances and HAProxy" "${lines[@]}"
  finish
fi
ok "run.sh redis starts redis-server, three instances and HAProxy"
read -r _ lb_port stats_port <"$work/redis/balancer"
names=() ports=() pids=()
while read -r name port pid; do
  names+=("$name") ports+=("$port") pids+=("$pid")
done <"$work/redis/instances"

# ---- the load ----------------------------------------------------------------------
mkdir -p "$work/load"
INTEROP_TIMEOUT_MS=90000 INTEROP_REQUEST_TIMEOUT_MS=5000 INTEROP_LOAD_MAX_MS=60000 \
  bash "$here/run_client.sh" "$build_dir" deploy_rolling_client.mjs \
  "http://127.0.0.1:$lb_port/mcp" "$sessions" "$work/load" >"$work/load.log" 2>&1 &
load_pid=$!
for ((i = 0; i < 300; i++)); do
  [[ -e "$work/load/running" ]] && break
  kill -0 "$load_pid" 2>/dev/null || break
  sleep 0.05
done
if [[ ! -e "$work/load/running" ]]; then
  mapfile -t lines < <(tail -n 30 "$work/load.log")
  not_ok "$sessions SDK clients initialize and call through HAProxy" "${lines[@]}"
  finish
fi
ok "$sessions SDK clients initialize and call through HAProxy; the load runs"

# ---- the rolling restarts ---------------------------------------------------------
# restart_phase HOW SIGNAL: run.sh restarts the three instances HOW (balancer or
# sigterm) on SIGNAL; checks its report and each instance, then waits until each new
# process served calls.
restart_phase() {
  local how="$1" signal="$2" i t0 n name line report served
  echo "$how" >"$work/load/phase"
  t0=$(date +%s%3N)
  kill "-$signal" "$run_pid"
  for ((i = 0; i < 900; i++)); do
    grep -q "deploy: rolling restart ($how): \(done\|stopped\)" "$work/run.out" && break
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.05
  done
  mapfile -t report < <(sed -n "/deploy: rolling restart ($how): begins/,/deploy: rolling restart ($how): \(done\|stopped\)/p" "$work/run.out")
  if grep -q "deploy: rolling restart ($how): done" "$work/run.out"; then
    ok "rolling restart ($how): run.sh restarts the three instances one after another ($(($(date +%s%3N) - t0)) ms)"
  else
    not_ok "rolling restart ($how): run.sh restarts the three instances one after another" "${report[@]}" \
      "$(tail -n 5 "$work/run.out")"
    return
  fi
  new_pids=()
  while read -r _ _ pid; do new_pids+=("$pid"); done <"$work/redis/instances"
  for n in 0 1 2; do
    name="${names[$n]}"
    line="$(printf '%s\n' "${report[@]}" | grep -m1 "deploy: rolling restart: $name ")"
    echo "# $line"
    if [[ "$line" == *": exited with status 0 "* && "$line" == *" UP on 127.0.0.1:${ports[$n]} "* ]] &&
      grep -q 'everything_server: draining' "$work/redis/$name.log.1" 2>/dev/null &&
      [[ "${new_pids[$n]}" != "${pids[$n]}" ]]; then
      ok "rolling restart ($how): $name drained, exited with status 0, is back on port ${ports[$n]} and UP in HAProxy"
    else
      not_ok "rolling restart ($how): $name drained, exited with status 0, is back on port ${ports[$n]} and UP in HAProxy" \
        "run.sh: $line" "its log before the restart: $(tr '\n' ' ' <"$work/redis/$name.log.1" 2>/dev/null)"
    fi
  done
  pids=("${new_pids[@]}")
  # A new process counts from 0: each must serve calls of the running load (5 s at most).
  for ((i = 0; i < 100; i++)); do
    served=()
    for n in 0 1 2; do served+=("$(tool_calls "${ports[$n]}")"); done
    ((served[0] > 0 && served[1] > 0 && served[2] > 0)) && break
    sleep 0.05
  done
  if ((served[0] > 0 && served[1] > 0 && served[2] > 0)); then
    ok "rolling restart ($how): every restarted instance serves calls (${served[*]} so far)"
  else
    not_ok "rolling restart ($how): every restarted instance serves calls" "tools/call per instance: ${served[*]}"
  fi
  echo "# HAProxy after the $how restart: $(haproxy_retries)"
}
# haproxy_retries: the backend's retries and redispatches so far (statistics CSV).
haproxy_retries() {
  curl -sS --max-time 2 "http://127.0.0.1:$stats_port/;csv" |
    awk -F, '$1 == "everything" && $2 == "BACKEND" { print "retries " $16 ", redispatches " $17 }'
}

sleep 0.5 # some steady load first
restart_phase balancer HUP
restart_phase sigterm USR1
echo after >"$work/load/phase"
sleep 0.5

# ---- the load's verdict ------------------------------------------------------------
touch "$work/load/stop"
wait "$load_pid"
rc=$?
load_pid=""
mapfile -t lines <"$work/load.log"
if ((rc == 0)); then
  ok "the load generator: no failed call, no transport error ($(grep -c '^ok ' "$work/load.log") checks)"
else
  not_ok "the load generator: no failed call, no transport error (exit $rc)" "${lines[@]:0:60}"
  # What the instances logged (warnings: refused and failed requests), with times.
  for log in "$work"/redis/mcp*.log*; do
    grep -h 'status=\|everything_server' "$log" | tail -n 10 | sed "s|^|# $(basename "$log"): |"
  done
fi
summary="$(cat "$work/load/summary.json" 2>/dev/null)"
calls="$(grep -o '"calls":[0-9]*' <<<"$summary" | head -n 1 | cut -d: -f2)"
grep '^# ' "$work/load.log"
if [[ -n "$calls" ]] && ((calls >= min_calls)); then
  ok "the load made at least $min_calls calls ($calls)"
else
  not_ok "the load made at least $min_calls calls" "summary: $summary"
fi
finish
