#!/usr/bin/env bash
# Run one mcpsse interop client script with Node >= 22 against the MCP SDK
# installed by setup.sh.
#
#   run_client.sh [--v2] <build-dir> <client.mjs> [client args...]
#
# <build-dir> is the CMake binary directory of tests/interop (as for
# setup.sh). The client scripts are copied next to <build-dir>/npm/node_modules
# (with --v2: <build-dir>/npm-v2, the 2.x client packages that `setup.sh
# <build-dir> v2` installs), since ES modules resolve packages relative to the
# importing file, so the source tree stays free of node_modules. The client's
# exit code is returned.
set -euo pipefail

flavour=""
if [[ "${1:-}" == "--v2" ]]; then
  flavour=v2
  shift
fi
if [[ $# -lt 2 ]]; then
  echo "usage: $0 [--v2] <build-dir> <client.mjs> [args...]" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build_dir="$(cd "$1" && pwd)"
client="$2"
shift 2
cache_dir="${MCPSSE_INTEROP_CACHE:-$build_dir/cache}"
if [[ "$flavour" == "v2" ]]; then
  npm_dir="$build_dir/npm-v2"
  marker="@modelcontextprotocol/client"
  setup_hint="the interop.setup.v2 test (or setup.sh $build_dir v2)"
else
  npm_dir="$build_dir/npm"
  marker="@modelcontextprotocol/sdk"
  setup_hint="the interop.setup test (or setup.sh $build_dir)"
fi

if [[ ! -f "$npm_dir/node_modules/$marker/package.json" ]]; then
  echo "run_client: $marker is not installed in $npm_dir; run $setup_hint first" >&2
  exit 1
fi
node="$("$here/node22.sh" "$cache_dir")"

# Refresh the copies of the client scripts (atomic rename: other tests may be
# running from the same folder at the same time).
for f in "$here"/*.mjs; do
  dest="$npm_dir/$(basename "$f")"
  if ! cmp -s "$f" "$dest"; then
    tmp="$(mktemp "$npm_dir/.copy.XXXXXX")"
    cp "$f" "$tmp"
    mv -f "$tmp" "$dest"
  fi
done

exec "$node" "$npm_dir/$(basename "$client")" "$@"
