#!/usr/bin/env bash
# Starts the quick start example (argument: its binary) on a free port and checks, with
# curl, that it answers initialize and lists its tool. Prints ctest's summary line
# ("100% tests passed, 0 tests failed out of 1") so cmake/scripts/test.sh counts it.
set -uo pipefail
binary=$1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$binary" "$port" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
url="http://127.0.0.1:$port/mcp"
headers=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
ok=0
for _ in $(seq 50); do
  init=$(curl -s -i --max-time 5 "${headers[@]}" "$url" \
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"smoke","version":"1"}}}' 2>/dev/null) && break
  sleep 0.1
done
session=$(printf '%s' "$init" | tr -d '\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
if [[ -n $session ]]; then
  curl -s --max-time 5 "${headers[@]}" -H "Mcp-Session-Id: $session" "$url" \
    -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null
  list=$(curl -s --max-time 5 "${headers[@]}" -H "Mcp-Session-Id: $session" -H 'MCP-Protocol-Version: 2025-11-25' "$url" \
    -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}')
  if printf '%s' "$list" | grep -q '"name":"greet"'; then ok=1; fi
  echo "tools/list: $list"
else
  echo "quick_start_smoke: no session from initialize: $init" >&2
fi
if ((ok)); then
  echo "100% tests passed, 0 tests failed out of 1"
else
  echo "0% tests passed, 1 tests failed out of 1"
  exit 1
fi
