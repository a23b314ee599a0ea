#!/usr/bin/env bash
# Prepare the mcpsse interop test environment in the build tree.
#
#   setup.sh <build-dir>
#
# <build-dir> is the CMake binary directory of tests/interop. This script
#   - obtains a Node >= 22 binary (node22.sh, cached under <build-dir>/cache
#     or $MCPSSE_INTEROP_CACHE),
#   - copies package.json into <build-dir>/npm/ and runs `npm install
#     --no-package-lock` there, only when the installed MCP SDK is missing,
#     has a different version, or package.json changed since the last install.
# The source tree is never written to. Safe to run concurrently (flock).
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "usage: $0 <build-dir>" >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build_dir="$1"
mkdir -p "$build_dir"
build_dir="$(cd "$build_dir" && pwd)"
cache_dir="${MCPSSE_INTEROP_CACHE:-$build_dir/cache}"
npm_dir="$build_dir/npm"
mkdir -p "$npm_dir"

node="$("$here/node22.sh" "$cache_dir")"
echo "setup: node $("$node" --version) at $node"

# npm is a JavaScript program; put Node 22 first on PATH so npm and any
# package install scripts run with it rather than an older system node.
npm_bin="$(command -v npm || true)"
if [[ -z "$npm_bin" ]]; then
  echo "setup: npm not found on PATH (needed to install the MCP SDK)" >&2
  exit 1
fi
node_dir="$(dirname "$node")"
export PATH="$node_dir:$PATH"

want_sdk="$("$node" -p 'require(process.argv[1]).dependencies["@modelcontextprotocol/sdk"]' "$here/package.json")"
stamp="$npm_dir/node_modules/.mcpsse-package.json"

installed_ok() {
  local sdk_pkg="$npm_dir/node_modules/@modelcontextprotocol/sdk/package.json"
  [[ -f "$sdk_pkg" && -f "$stamp" ]] || return 1
  cmp -s "$stamp" "$here/package.json" || return 1
  local have
  have="$("$node" -p 'require(process.argv[1]).version' "$sdk_pkg" 2>/dev/null || true)"
  [[ "$have" == "$want_sdk" ]]
}

install() {
  if installed_ok; then
    echo "setup: @modelcontextprotocol/sdk $want_sdk already installed in $npm_dir"
    return 0
  fi
  echo "setup: installing @modelcontextprotocol/sdk $want_sdk into $npm_dir (npm $(npm --version))"
  rm -f "$stamp"
  cp "$here/package.json" "$npm_dir/package.json.tmp"
  mv "$npm_dir/package.json.tmp" "$npm_dir/package.json"
  local t0=$SECONDS
  (cd "$npm_dir" && npm install --no-package-lock --no-audit --no-fund \
      --loglevel=error)
  cp "$here/package.json" "$stamp"
  if ! installed_ok; then
    echo "setup: install finished but the SDK $want_sdk is not where expected" >&2
    exit 1
  fi
  echo "setup: npm install took $((SECONDS - t0)) s"
}

exec 9>"$npm_dir/.install.lock"
flock -w 280 9 || { echo "setup: timed out waiting for $npm_dir/.install.lock" >&2; exit 1; }
install
echo "setup: ready"
