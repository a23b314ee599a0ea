#!/usr/bin/env bash
# Prepare the mcpsse interop test environment in the build tree.
#
#   setup.sh <build-dir> [v2]
#
# <build-dir> is the CMake binary directory of tests/interop. This script
#   - obtains a Node >= 22 binary (node22.sh, cached under <build-dir>/cache
#     or $MCPSSE_INTEROP_CACHE),
#   - copies package.json (the 1.x SDK, and oidc-provider for the auth test)
#     into <build-dir>/npm/, or with `v2` v2/package.json (the 2.x client
#     packages) into <build-dir>/npm-v2/, and
#     runs `npm install --no-package-lock` there, only when a pinned
#     dependency is missing or has a different version, or the package.json
#     changed since the last install.
# The source tree is never written to. Safe to run concurrently (flock).
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 || -z "$1" || ( $# -eq 2 && "$2" != "v2" ) ]]; then
  echo "usage: $0 <build-dir> [v2]" >&2
  exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build_dir="$1"
mkdir -p "$build_dir"
build_dir="$(cd "$build_dir" && pwd)"
cache_dir="${MCPSSE_INTEROP_CACHE:-$build_dir/cache}"
if [[ "${2:-}" == "v2" ]]; then
  pkg_json="$here/v2/package.json"
  npm_dir="$build_dir/npm-v2"
else
  pkg_json="$here/package.json"
  npm_dir="$build_dir/npm"
fi
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

# "name@version ..." of the pinned dependencies, for the messages.
wanted="$("$node" -p 'Object.entries(require(process.argv[1]).dependencies).map(([n, v]) => n + "@" + v).join(" ")' "$pkg_json")"
stamp="$npm_dir/node_modules/.mcpsse-package.json"

# Succeeds when every pinned dependency is installed at exactly its version
# (read from each package's own package.json: export maps may hide it from
# require(), so the file is read directly).
deps_installed() {
  "$node" -e '
    const fs = require("node:fs"), path = require("node:path");
    const [pkgJson, modules] = process.argv.slice(1);
    const deps = JSON.parse(fs.readFileSync(pkgJson, "utf8")).dependencies;
    for (const [name, want] of Object.entries(deps)) {
      let have;
      try { have = JSON.parse(fs.readFileSync(path.join(modules, name, "package.json"), "utf8")).version; } catch { process.exit(1); }
      if (have !== want) process.exit(1);
    }' "$pkg_json" "$npm_dir/node_modules" 2>/dev/null
}

installed_ok() {
  [[ -f "$stamp" ]] || return 1
  cmp -s "$stamp" "$pkg_json" || return 1
  deps_installed
}

install() {
  if installed_ok; then
    echo "setup: $wanted already installed in $npm_dir"
    return 0
  fi
  echo "setup: installing $wanted into $npm_dir (npm $(npm --version))"
  rm -f "$stamp"
  cp "$pkg_json" "$npm_dir/package.json.tmp"
  mv "$npm_dir/package.json.tmp" "$npm_dir/package.json"
  local t0=$SECONDS
  (cd "$npm_dir" && npm install --no-package-lock --no-audit --no-fund \
      --loglevel=error)
  cp "$pkg_json" "$stamp"
  if ! installed_ok; then
    echo "setup: install finished but $wanted is not what $npm_dir/node_modules holds" >&2
    exit 1
  fi
  echo "setup: npm install took $((SECONDS - t0)) s"
}

exec 9>"$npm_dir/.install.lock"
flock -w 280 9 || { echo "setup: timed out waiting for $npm_dir/.install.lock" >&2; exit 1; }
install
echo "setup: ready"
