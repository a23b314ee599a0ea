#!/usr/bin/env bash
# The MCP conformance suite through mcpsse-bridge, compared with the same suite
# against the bridged server's own HTTP transport.
#
#   bridge.sh <build-dir> <version> <mcpsse-bridge> <interop-build-dir>
#
# The server is the official @modelcontextprotocol/server-everything, installed
# by tests/interop/setup.sh into <interop-build-dir>/npm (pinned in
# tests/interop/package.json) and run with Node 22. Runs
# `conformance server --suite all` (suite <version>, installed by setup.sh into
# <build-dir>/suites/<version>/) twice, each server on a free port
# (tests/interop/with_server.sh):
#   direct   PORT=<port> node .../server-everything/dist/index.js streamableHttp
#   bridged  mcpsse-bridge --port <port> -- node .../dist/index.js stdio
# Results land in <build-dir>/results/bridge-<version>/{direct,bridged}/, and
# compare.mjs judges them: exit status 0 when every scenario that passes
# directly also passes through the bridge (tests/CHECKLIST.md B5).
set -uo pipefail

if [[ $# -ne 4 ]]; then
  echo "usage: $0 <build-dir> <version> <mcpsse-bridge> <interop-build-dir>" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build_dir="$(cd "$1" && pwd)"
version="$2"
bridge="$3"
interop_dir="$(cd "$4" && pwd)"

node="$("$here/../interop/node22.sh" "${MCPSSE_INTEROP_CACHE:-$build_dir/cache}")" || exit 1
cli="$build_dir/suites/$version/node_modules/@modelcontextprotocol/conformance/dist/index.js"
server_js="$interop_dir/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
if [[ ! -f "$cli" ]]; then
  echo "bridge: $cli is missing; run the conformance.setup test (setup.sh) first" >&2
  exit 1
fi
if [[ ! -f "$server_js" ]]; then
  echo "bridge: $server_js is missing; run the interop.setup test (tests/interop/setup.sh $interop_dir) first" >&2
  exit 1
fi
if [[ ! -x "$bridge" ]]; then
  echo "bridge: mcpsse-bridge '$bridge' not found or not executable" >&2
  exit 1
fi
out="$build_dir/results/bridge-$version"
rm -rf "$out"
mkdir -p "$out/direct" "$out/bridged"

# suite LABEL SERVER [ARGS...]: the suite against a server on a free port.
suite() {
  local label="$1" t0=$SECONDS rc
  shift
  bash "$here/../interop/with_server.sh" "$@" -- \
    "$node" "$cli" server --url 'http://127.0.0.1:{port}/mcp' --suite all -o "$out/$label" \
    >"$out/$label.log" 2>&1
  rc=$?
  echo "bridge: $label run: suite exit status $rc after $((SECONDS - t0)) s (log: $out/$label.log)"
}

echo "bridge: conformance $version; server-everything $("$node" -p 'require(process.argv[1]).version' \
  "${server_js%/dist/index.js}/package.json")"
suite direct /usr/bin/env 'PORT={port}' "$node" "$server_js" streamableHttp
# with_server.sh ends the server's arguments at the first "--", and the bridge
# needs one before its command, so a shell puts it back.
# shellcheck disable=SC2016  # expanded by that shell
suite bridged /bin/bash -c 'exec "$0" --port "$1" -- "$2" "$3" stdio' "$bridge" '{port}' "$node" "$server_js"

exec "$node" "$here/compare.mjs" "$out/direct" "$out/bridged"
