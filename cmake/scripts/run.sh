#!/usr/bin/env bash
# Build mcpsse's examples (GCC preset) and run the stdio example server with
# a scripted first MCP exchange, printing what it answers.
#
#   bash cmake/scripts/run.sh
#
# Sends initialize, the initialized notification and tools/list as
# newline-delimited JSON-RPC on the server's stdin, keeps stdin open for a
# moment so replies can be written, then closes it.
#
# Environment: MCPSSE_BUILD_ROOT (default <repo>/build), MCPSSE_JOBS (2),
# MCPSSE_SKIP_SETUP=1 to skip cmake/scripts/setup-debian.sh.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
build_root=${MCPSSE_BUILD_ROOT:-$repo/build}
dir="$build_root/gcc"
jobs=${MCPSSE_JOBS:-2}

if [[ -z ${MCPSSE_SKIP_SETUP:-} ]]; then
  bash cmake/scripts/setup-debian.sh </dev/null
fi

cmake --preset gcc -B "$dir" >/dev/null
if ! cmake --build "$dir" -j "$jobs" --target stdio_server; then
  echo "run.sh: could not build the stdio_server example (examples/stdio_server)" >&2
  exit 1
fi
server="$dir/bin/stdio_server"

requests=(
  '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"mcpsse-run.sh","version":"0.1.0"}}}'
  '{"jsonrpc":"2.0","method":"notifications/initialized"}'
  '{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}'
)

echo
for r in "${requests[@]}"; do
  echo "-> $r"
done
echo
{
  printf '%s\n' "${requests[@]}"
  sleep 1
} | timeout 20 "$server" | while IFS= read -r reply; do
  echo "<- $reply"
done
