#!/usr/bin/env bash
# Peak memory of everything_server under worst-case JSON bodies: how much 8 concurrent
# POSTs at the body limit (4 MiB) grow the server's peak resident set (VmHWM) over its
# idle resident set. Target: under 256 MiB.
#
#   bash benchmarks/json_memory.sh --server PATH [--concurrency N] [--rounds N] [--limit-mib N]
#
# Bodies (each a tools/call on one session, just under 4 MiB):
#   wide      arguments {"a":[{},{},...]}: the value count worst case (3 bytes a value)
#   accepted  99,000 empty objects plus one long string: the largest DOM the default
#             limits let through
#   deep      arguments nested 150,000 levels
# Prints one line per body kind and a summary; exits 1 when the growth reaches
# --limit-mib (default 256), 2 on bad usage. Needs curl and python3.
set -euo pipefail

server=""
concurrency=8
rounds=3
limit_mib=256
while (($#)); do
  case "$1" in
    --server) server=${2:?}; shift 2 ;;
    --concurrency) concurrency=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --limit-mib) limit_mib=${2:?}; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "json_memory.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x $server ]] || { echo "json_memory.sh: --server must name the everything_server binary" >&2; exit 2; }

work=$(mktemp -d)
pid=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$server" --port "$port" >"$work/server.log" 2>&1 &
pid=$!
url="http://127.0.0.1:$port/mcp"
for _ in $(seq 100); do
  curl -s -o /dev/null "$url" && break
  sleep 0.1
done

kib() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$pid/status"; }

python3 - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
limit = 4 * 1024 * 1024 - 4096
def call(arguments_text):
    head = '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"test_simple_text","arguments":{"a":'
    return head + arguments_text + '}}}'
n = (limit - 200) // 3
open(f"{work}/wide.json", "w").write(call("[" + ",".join(["{}"] * n) + "]"))
objects = ",".join(["{}"] * 99_000)
pad = limit - 300 - len(objects)
open(f"{work}/accepted.json", "w").write(call("[" + objects + ',"' + "x" * pad + '"]'))
open(f"{work}/deep.json", "w").write(call("[" * 150_000 + "]" * 150_000))
EOF

init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"json_memory","version":"1"}}}'
sid=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
        --data-binary "$init" "$url" | awk 'tolower($1) == "mcp-session-id:" { print $2 }' | tr -d '\r')
[[ -n $sid ]] || { echo "json_memory.sh: initialize failed" >&2; cat "$work/server.log" >&2; exit 1; }

sleep 0.5
idle=$(kib VmRSS)
echo "idle RSS: $((idle / 1024)) MiB ($idle KiB)"
worst=0
for kind in wide accepted deep; do
  statuses=()
  for ((r = 0; r < rounds; r++)); do
    for ((i = 0; i < concurrency; i++)); do
      curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' -H "Mcp-Session-Id: $sid" \
        -H 'MCP-Protocol-Version: 2025-11-25' --data-binary "@$work/$kind.json" "$url" >"$work/status.$i" &
    done
    wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
    for ((i = 0; i < concurrency; i++)); do statuses+=("$(cat "$work/status.$i")"); done
  done
  peak=$(kib VmHWM)
  growth=$((peak - idle))
  ((growth > worst)) && worst=$growth
  printf '%-9s body %7d bytes  HTTP %s  peak RSS %5d MiB  growth over idle %5d MiB\n' \
    "$kind" "$(stat -c %s "$work/$kind.json")" "$(printf '%s\n' "${statuses[@]}" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')" \
    "$((peak / 1024))" "$((growth / 1024))"
done
kill -0 "$pid" || { echo "json_memory.sh: the server died" >&2; exit 1; }
echo "worst growth of peak RSS over idle with $concurrency concurrent bodies: $((worst / 1024)) MiB (limit $limit_mib MiB)"
((worst / 1024 < limit_mib))
