#!/usr/bin/env bash
# Run one pinned MCP conformance suite (server mode) against everything_server.
#
#   run.sh <build-dir> <version> <label> <server-binary> [server args...]
#
# Starts the server on a free port (tests/interop/with_server.sh), runs
# `conformance server --url http://127.0.0.1:<port>/mcp --suite all` from
# <build-dir>/suites/<version>/ (installed by setup.sh), stores its results in
# <build-dir>/results/<label>/ and judges them with report.mjs against
# expected-failures.txt. Exit status 0 only when every failing scenario is
# listed there for <label> and no listed scenario passes.
set -uo pipefail

if [[ $# -lt 4 ]]; then
  echo "usage: $0 <build-dir> <version> <label> <server-binary> [server args...]" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build_dir="$(cd "$1" && pwd)"
version="$2"
label="$3"
server="$4"
shift 4

node="$("$here/../interop/node22.sh" "${MCPSSE_INTEROP_CACHE:-$build_dir/cache}")" || exit 1
cli="$build_dir/suites/$version/node_modules/@modelcontextprotocol/conformance/dist/index.js"
if [[ ! -f "$cli" ]]; then
  echo "run: $cli is missing; run the conformance.setup test (setup.sh) first" >&2
  exit 1
fi
out="$build_dir/results/$label"
rm -rf "$out"
mkdir -p "$out"

echo "run: conformance $version ($label) against $server $*"
bash "$here/../interop/with_server.sh" "$server" --port '{port}' "$@" -- \
  "$node" "$cli" server --url 'http://127.0.0.1:{port}/mcp' --suite all -o "$out" \
  >"$out/suite.log" 2>&1
suite_rc=$?
echo "run: suite exited with status $suite_rc (log: $out/suite.log)"

exec "$node" "$here/report.mjs" "$out" "$here/expected-failures.txt" "$label"
