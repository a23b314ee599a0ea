#!/usr/bin/env bash
# Cross-instance delivery in examples/deploy `run.sh redis` (three everything_server
# instances sharing sessions through a real redis-server, behind HAProxy round-robin
# with no stickiness): what one instance sends the client is answered, or owed, at
# another one.
#
#   deploy_relay.sh <everything_server> <build-dir>
#
# deploy_relay_client.mjs (the official TypeScript SDK 1.x client, sampling and
# elicitation capabilities, its standalone GET stream open) checks through HAProxy:
#   - test_sampling and test_elicitation, 6 calls each: the server-to-client request
#     goes out on the call's stream from the instance running the tool; the client's
#     JSON-RPC response POST is handed by round-robin to another instance, which must
#     pass it on (through Redis) so that the call completes with the client's answer
#     within 5 s; per call, the instance that ran the tool and the one that took the
#     answer are told apart by their /metrics (most answers must cross); the
#     server-to-client request ids are distinct across the instances;
#   - test_trigger_tool_change three times (on three instances in turn): each
#     notifications/tools/list_changed reaches the client once, on its standalone
#     stream, whichever instance holds that stream;
#   - resources/subscribe at an instance other than the standalone stream's, then
#     test_trigger_resource_update three times (three instances): each
#     notifications/resources/updated reaches the client once, on its standalone
#     stream; none after resources/unsubscribe (at another instance);
#   - logging/setLevel at one instance holds at the three (test_tool_with_logging);
#   - test_tool_with_progress: progress 0, 50, 100 in order;
#   - a call cancelled by the client, whose notifications/cancelled round-robin hands
#     to another instance, stops within 1 s;
#   - an answer (curl) whose id names no instance ("feedc0de-1") is accepted and
#     dropped, without a Redis key for it.
# A deployment without cross-instance delivery fails the first two (the calls time out,
# the notifications raised elsewhere never come).
#
# Needs haproxy, redis-server (with redis-cli) and curl (cmake/scripts/setup-debian.sh installs them) and
# an everything_server built with hiredis (mcpsse::redis); exits 77 (skipped) when one of
# these is missing. The SDK client runs from the interop_npm fixture (<build-dir>/npm,
# run_client.sh). About 8 s. DEPLOY_RELAY_KEEP=1 keeps the work folder (run.sh's,
# HAProxy's and the instances' logs) and prints where it is.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=script_lib.sh
source "$here/script_lib.sh"
deploy="$here/../../examples/deploy"

server_and_build_dir "$@"
skip_without_redis_deployment deploy_relay "$server" redis-cli
require_tools curl

work="$(mktemp -d)"
run_pid=""
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  [[ -n "$run_pid" ]] && stop_pid "$run_pid" run.sh
  if [[ -n "${DEPLOY_RELAY_KEEP:-}" ]]; then echo "# kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

dir="$work/redis"
if ! deploy_start "$deploy/run.sh" "$server" redis "$dir" "$work/run.out" 200; then
  mapfile -t lines <"$work/run.out"
  not_ok "run.sh redis starts redis-server, three instances and HAProxy" "${lines[@]}"
  finish
fi
ok "run.sh redis starts redis-server, three instances and HAProxy"
read -r _ lb_port stats_port <"$dir/balancer"

# HAProxy must have all three instances in its rotation, or round-robin would not
# spread consecutive requests over three instances (the client relies on that).
up=0
for ((i = 0; i < 100; i++)); do
  up="$(curl -sS --max-time 2 "http://127.0.0.1:$stats_port/;csv" |
    awk -F, '$1 == "everything" && $2 ~ /^mcp[123]$/ && $18 ~ /^UP/ { n++ } END { print n + 0 }')"
  ((up == 3)) && break
  sleep 0.05
done
if ((up == 3)); then
  ok "HAProxy's health checks mark the three instances UP"
else
  not_ok "HAProxy's health checks mark the three instances UP" "UP: $up"
fi

t0=$(date +%s%3N)
bash "$here/run_client.sh" "$build_dir" deploy_relay_client.mjs \
  "http://127.0.0.1:$lb_port/mcp" "$dir" >"$work/client.log" 2>&1
rc=$?
mapfile -t lines <"$work/client.log"
if ((rc == 0)); then
  ok "the SDK client: sampling and elicitation answered through other instances, tools/list_changed and resources/updated once from any instance, progress ($(grep -c '^ok ' "$work/client.log") checks, $(($(date +%s%3N) - t0)) ms)"
  grep '^# \|^ok \|^not ok .*# TODO\|^  # ' "$work/client.log" | sed 's/^/  /'
else
  not_ok "the SDK client: sampling and elicitation answered through other instances, tools/list_changed and resources/updated once from any instance, progress (exit $rc)" "${lines[@]}"
  for log in "$dir"/mcp*.log "$dir/balancer.log"; do
    tail -n 15 "$log" | sed "s|^|# $(basename "$log"): |"
  done
fi

# An answer to a request no instance made: its id names an instance that does not
# exist (no lease), so no instance would ever read it: accepted (202) and dropped,
# without a Redis key for it (a client must not be able to fill Redis with them).
port1="$(awk 'NR == 1 { print $2 }' "$dir/instances")"
read -r _ redis_port <"$dir/redis/info"
headers=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
session="$(curl -sS --max-time 5 -D - -o /dev/null "http://127.0.0.1:$port1/mcp" "${headers[@]}" \
  --data-binary '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"sampling":{}},"clientInfo":{"name":"deploy-relay","version":"1"}}}' |
  sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *//p' | tr -d '\r')"
headers+=(-H "Mcp-Session-Id: $session" -H 'MCP-Protocol-Version: 2025-11-25')
curl -sS --max-time 5 -o /dev/null "http://127.0.0.1:$port1/mcp" "${headers[@]}" \
  --data-binary '{"jsonrpc":"2.0","method":"notifications/initialized"}'
status="$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port1/mcp" "${headers[@]}" \
  --data-binary '{"jsonrpc":"2.0","id":"feedc0de-1","result":{"role":"assistant","content":{"type":"text","text":"nobody asked"},"model":"m"}}')"
keys="$(redis-cli -p "$redis_port" --scan --pattern '*relay:inbox:{feedc0de}' | tr '\n' ' ')"
if [[ -n "$session" && "$status" == 2* && -z "$keys" ]]; then
  ok "an answer to a request no instance made (id \"feedc0de-1\") is accepted ($status) and dropped: no Redis key for it"
else
  not_ok "an answer to a request no instance made (id \"feedc0de-1\") is accepted and dropped: no Redis key for it" \
    "session '$session', HTTP $status, Redis keys: ${keys:-none}"
fi

# Every instance is still running (nothing crashed on the way).
gone=()
while read -r n _ pid; do
  kill -0 "$pid" 2>/dev/null || gone+=("$n")
done <"$dir/instances"
if ((${#gone[@]} == 0)); then
  ok "the three instances are still running"
else
  not_ok "the three instances are still running" "gone: ${gone[*]}"
fi
stop_pid "$run_pid" run.sh
run_pid=""
finish
