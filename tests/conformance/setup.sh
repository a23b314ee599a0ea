#!/usr/bin/env bash
# Prepare the MCP conformance suites in the build tree.
#
#   setup.sh <build-dir> <version>...
#
# Obtains a Node >= 22 binary (tests/interop/node22.sh, cached under
# <build-dir>/cache or $MCPSSE_INTEROP_CACHE) and installs each pinned
# @modelcontextprotocol/conformance <version> into its own folder
# <build-dir>/suites/<version>/ with `npm install --no-package-lock`, unless
# that exact version is already there. The source tree is never written to.
# Safe to run concurrently (flock).
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 <build-dir> <version>..." >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build_dir="$1"
shift
mkdir -p "$build_dir"
build_dir="$(cd "$build_dir" && pwd)"
cache_dir="${MCPSSE_INTEROP_CACHE:-$build_dir/cache}"

node="$("$here/../interop/node22.sh" "$cache_dir")"
echo "setup: node $("$node" --version) at $node"
npm_bin="$(command -v npm || true)"
if [[ -z "$npm_bin" ]]; then
  echo "setup: npm not found on PATH (needed to install the conformance suites)" >&2
  exit 1
fi
# Run npm and install scripts with Node 22.
export PATH="$(dirname "$node"):$PATH"

pkg="@modelcontextprotocol/conformance"

installed_version() {
  local manifest="$1/node_modules/$pkg/package.json"
  [[ -f "$manifest" ]] || return 0
  "$node" -p 'require(process.argv[1]).version' "$manifest" 2>/dev/null || true
}

install_one() {
  local version="$1" dir="$build_dir/suites/$1"
  mkdir -p "$dir"
  exec 9>"$dir/.install.lock"
  flock -w 280 9 || { echo "setup: timed out waiting for $dir/.install.lock" >&2; exit 1; }
  if [[ "$(installed_version "$dir")" == "$version" ]]; then
    echo "setup: $pkg $version already installed in $dir"
  else
    echo "setup: installing $pkg $version into $dir (npm $(npm --version))"
    printf '{\n  "private": true,\n  "dependencies": { "%s": "%s" }\n}\n' "$pkg" "$version" >"$dir/package.json"
    (cd "$dir" && npm install --no-package-lock --no-audit --no-fund --loglevel=error)
    if [[ "$(installed_version "$dir")" != "$version" ]]; then
      echo "setup: install finished but $pkg $version is not in $dir" >&2
      exit 1
    fi
  fi
  exec 9>&-
}

for version in "$@"; do
  install_one "$version"
done
echo "setup: ready"
