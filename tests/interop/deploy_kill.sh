#!/usr/bin/env bash
# The kill test: an instance of examples/deploy `run.sh redis` (three everything_server
# instances sharing sessions and events through a real redis-server, behind HAProxy
# round-robin with no stickiness) dies with SIGKILL in the middle of a long tool call.
#
#   deploy_kill.sh <everything_server> <build-dir>
#
# The instances run with a short instance lease (MCPSSE_INSTANCE_LEASE_MS, run.sh's
# --instance-lease-ms; 1000 ms here). deploy_kill_client.mjs (the official
# TypeScript SDK 1.x client) holds a standalone GET stream, calls `slow_compute` (4 s,
# progress every 100 ms) on the instance holding that stream, and SIGKILLs that
# instance after 8 progress notifications. Checked (README.md, "An instance that
# dies"): the SDK reconnects through HAProxy with Last-Event-ID and the call rejects
# with -32603, data.reason "instance_lost", within lease + reconnection delay + 5 s;
# every progress notification stored in Redis before the kill reached the client
# once, in order, without a gap, and nothing else did (lost = scheduled - stored,
# printed); the session goes on (`greet` answers; tools/list_changed arrives on the
# resumed standalone stream); the request is answered once (one error stored). Then
# HAProxy must mark the dead instance DOWN; the survivors' resumption metrics are
# printed. Twice, each in a deployment of its own: the SDK's first reconnection
# 1.5 s after the kill (after the lease), then 0.3 s (within the lease: the instance
# it reaches waits for the lease to lapse, then answers with the error).
#
# Needs haproxy, redis-server (with redis-cli) and curl (cmake/scripts/setup-debian.sh
# installs them) and an everything_server built with hiredis (mcpsse::redis); exits 77
# (skipped) when one of these is missing. The SDK client runs from the interop_npm
# fixture (<build-dir>/npm, run_client.sh). About 10 s. DEPLOY_KILL_KEEP=1 keeps the
# work folder (run.sh's, HAProxy's and the instances' logs) and prints where it is.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=script_lib.sh
source "$here/script_lib.sh"
deploy="$here/../../examples/deploy"

server_and_build_dir "$@"
skip_without_redis_deployment deploy_kill "$server" redis-cli
require_tools curl

lease_ms=1000
work="$(mktemp -d)"
run_pid=""
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  [[ -n "$run_pid" ]] && stop_pid "$run_pid" run.sh
  if [[ -n "${DEPLOY_KILL_KEEP:-}" ]]; then echo "# kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# scenario NAME RECONNECT_MS EARLY: a deployment of its own (lease $lease_ms ms) in
# $work/NAME; the client's first reconnection after RECONNECT_MS; EARLY=1 when that
# is within the lease.
scenario() {
  local name="$1" reconnect_ms="$2" early="$3" dir="$work/$1" rc t0 n r victim status i
  local -a names=() ports=() pids=() dead=() lines=()
  export MCPSSE_INSTANCE_LEASE_MS="$lease_ms"
  if ! deploy_start "$deploy/run.sh" "$server" redis "$dir" "$work/$name.run.out" 200; then
    mapfile -t lines <"$work/$name.run.out"
    not_ok "$name: run.sh redis (lease $lease_ms ms) starts redis-server, three instances and HAProxy" "${lines[@]}"
    stop_pid "$run_pid" run.sh
    run_pid=""
    return
  fi
  ok "$name: run.sh redis (lease $lease_ms ms) starts redis-server, three instances and HAProxy"
  read -r _ lb_port stats_port <"$dir/balancer"
  while read -r n port pid; do
    names+=("$n") ports+=("$port") pids+=("$pid")
  done <"$dir/instances"

  t0=$(date +%s%3N)
  DEPLOY_KILL_LEASE_MS="$lease_ms" DEPLOY_KILL_RECONNECT_MS="$reconnect_ms" DEPLOY_KILL_EARLY="$early" \
    DEPLOY_KILL_REDIS_CLI="$(command -v redis-cli)" \
    bash "$here/run_client.sh" "$build_dir" deploy_kill_client.mjs \
    "http://127.0.0.1:$lb_port/mcp" "$dir" >"$work/$name.client.log" 2>&1
  rc=$?
  mapfile -t lines <"$work/$name.client.log"
  if ((rc == 0)); then
    ok "$name: the SDK client: the kill, the error, the replay and the session afterwards ($(grep -c '^ok ' "$work/$name.client.log") checks, $(($(date +%s%3N) - t0)) ms)"
    grep '^# \|^ok \|^not ok .*# TODO' "$work/$name.client.log" | sed 's/^/  /'
  else
    not_ok "$name: the SDK client: the kill, the error, the replay and the session afterwards (exit $rc)" "${lines[@]}"
    for log in "$dir"/mcp*.log "$dir/balancer.log"; do
      tail -n 15 "$log" | sed "s|^|# $(basename "$log"): |"
    done
  fi

  # The deployment afterwards: one instance gone, DOWN in HAProxy.
  for n in 0 1 2; do kill -0 "${pids[$n]}" 2>/dev/null || dead+=("$n"); done
  if ((${#dead[@]} == 1)); then
    victim="${names[${dead[0]}]}"
    status=""
    for ((i = 0; i < 100; i++)); do
      status="$(curl -sS --max-time 2 "http://127.0.0.1:$stats_port/;csv" |
        awk -F, -v s="$victim" '$1 == "everything" && $2 == s { print $18 }')"
      [[ "$status" == DOWN* ]] && break
      sleep 0.05
    done
    if [[ "$status" == DOWN* ]]; then
      ok "$name: exactly one instance was killed ($victim), HAProxy marks it DOWN"
    else
      not_ok "$name: exactly one instance was killed ($victim), HAProxy marks it DOWN" "status: $status"
    fi
    # Information: resumptions answered from the shared store are not counted there.
    for n in 0 1 2; do
      [[ "$n" == "${dead[0]}" ]] && continue
      r="$(curl -sS --max-time 5 "http://127.0.0.1:${ports[$n]}/metrics" |
        awk '/^mcpsse_sse_(resumptions|replayed_events)_total[{ ]/ { printf "%s %d; ", $1, $NF }')"
      echo "# $name: ${names[$n]}: $r"
    done
  else
    not_ok "$name: exactly one instance was killed" "gone: ${dead[*]}"
  fi
  stop_pid "$run_pid" run.sh
  run_pid=""
}

# 1. The SDK's first reconnection after the lease ran out: the full check.
scenario after-lease $((lease_ms + 500)) 0
# 2. Within the lease (the SDK's default delay is 1 s, everything_server's lease 10 s).
scenario within-lease 300 1
finish
