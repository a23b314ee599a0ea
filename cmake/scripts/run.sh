#!/usr/bin/env bash
# The main job: build mcpsse's everything_server (GCC preset), start it on
# http://127.0.0.1:${MCPSSE_PORT:-3000}/mcp and show a first MCP exchange
# against it with curl (initialize, notifications/initialized, tools/list,
# tools/call). On a terminal the server then keeps running until Ctrl-C, so an
# MCP client (the MCP Inspector, a desktop client) can connect; otherwise it
# stops after the exchange.
#
#   bash cmake/scripts/run.sh
#
# Environment: MCPSSE_PORT (3000), MCPSSE_BUILD_ROOT (default <repo>/build),
# MCPSSE_JOBS (2), MCPSSE_SKIP_SETUP=1 to skip cmake/scripts/setup-debian.sh,
# MCPSSE_RUN_ONCE=1 to stop after the exchange even on a terminal.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
build_root=${MCPSSE_BUILD_ROOT:-$repo/build}
dir="$build_root/gcc"
jobs=${MCPSSE_JOBS:-2}
port=${MCPSSE_PORT:-3000}
url="http://127.0.0.1:$port/mcp"

if [[ -z ${MCPSSE_SKIP_SETUP:-} ]]; then
  bash cmake/scripts/setup-debian.sh </dev/null
fi

cmake --preset gcc -B "$dir" >/dev/null
if ! cmake --build "$dir" -j "$jobs" --target everything_server; then
  echo "run.sh: could not build examples/everything_server" >&2
  exit 1
fi
server="$dir/bin/everything_server"

"$server" --host 127.0.0.1 --port "$port" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "run.sh: everything_server exited (port $port busy?)" >&2; exit 1; fi
  sleep 0.1
done

headers=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
exchange() {  # exchange <body> [extra curl args...]
  local body=$1; shift
  echo "-> POST /mcp $body"
  curl -sS -D "$tmp/headers" "${headers[@]}" "$@" -d "$body" "$url" | sed 's/^/<- /'
  echo
}
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT

echo
exchange '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"run.sh","version":"0.1.0"}}}'
session=$(tr -d '\r' <"$tmp/headers" | awk 'tolower($1)=="mcp-session-id:" {print $2}')
echo "   (session $session)"
auth=(-H "Mcp-Session-Id: $session" -H 'MCP-Protocol-Version: 2025-11-25')
exchange '{"jsonrpc":"2.0","method":"notifications/initialized"}' "${auth[@]}"
exchange '{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}' "${auth[@]}" | cut -c1-300
exchange '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"test_simple_text","arguments":{}}}' "${auth[@]}"

if [[ -t 0 && -z ${MCPSSE_RUN_ONCE:-} ]]; then
  echo "everything_server is serving $url (legacy HTTP+SSE: http://127.0.0.1:$port/sse). Ctrl-C stops it."
  wait "$pid"
fi
