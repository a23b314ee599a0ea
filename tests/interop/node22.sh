#!/usr/bin/env bash
# Print the path of a Node.js >= 22 binary for the mcpsse interop tests.
#
#   node22.sh <cache-dir>
#
# Order of preference:
#   1. the system `node`, if its major version is >= 22;
#   2. <cache-dir>/node/bin/node, if present and it reports v22.x;
#   3. otherwise the npm package node-linux-<arch> (a prebuilt Node binary
#      shipped through the npm registry) is fetched with `npm pack` into
#      <cache-dir>, extracted into a temporary directory and renamed into
#      place atomically, under a lock so concurrent test runs don't collide.
#
# Only the path is written to stdout; progress and errors go to stderr.
# Override the pinned version with MCPSSE_NODE22_VERSION.
set -euo pipefail

NODE22_VERSION="${MCPSSE_NODE22_VERSION:-22.23.3}"

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "usage: $0 <cache-dir>" >&2
  exit 2
fi
cache_dir="$1"

node_major() {
  # Prints the major version of the node binary $1, or nothing on failure.
  "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || true
}

# 1. System node.
if sys_node="$(command -v node 2>/dev/null)"; then
  major="$(node_major "$sys_node")"
  if [[ "$major" =~ ^[0-9]+$ ]] && (( major >= 22 )); then
    echo "$sys_node"
    exit 0
  fi
fi

mkdir -p "$cache_dir"
cache_dir="$(cd "$cache_dir" && pwd)"
target="$cache_dir/node"
cached="$target/bin/node"

cached_ok() {
  [[ -x "$cached" ]] && [[ "$(node_major "$cached")" == "22" ]]
}

# 2. Already cached (fast path, no lock needed: the directory only ever
#    appears through an atomic rename of a complete extraction).
if cached_ok; then
  echo "$cached"
  exit 0
fi

# 3. Fetch under a lock.
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node22.sh: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
pkg="node-linux-${arch}@${NODE22_VERSION}"

if ! command -v npm >/dev/null 2>&1; then
  echo "node22.sh: no Node >= 22 found and no npm to fetch $pkg" >&2
  exit 1
fi

fetch() {
  # Re-check now that we hold the lock: another run may have finished.
  if cached_ok; then
    return 0
  fi
  tmp="$(mktemp -d "$cache_dir/.node-fetch.XXXXXX")"
  echo "node22.sh: fetching $pkg" >&2
  if ! (cd "$tmp" && npm pack --silent "$pkg" >pack.log 2>&1); then
    cat "$tmp/pack.log" >&2
    echo "node22.sh: npm pack $pkg failed" >&2
    return 1
  fi
  local tgz
  tgz="$(find "$tmp" -maxdepth 1 -name 'node-linux-*.tgz' | head -n1)"
  if [[ -z "$tgz" ]]; then
    echo "node22.sh: npm pack produced no tarball" >&2
    return 1
  fi
  mkdir "$tmp/x"
  tar -xzf "$tgz" -C "$tmp/x" package/bin/node package/LICENSE
  if [[ "$(node_major "$tmp/x/package/bin/node")" != "22" ]]; then
    echo "node22.sh: extracted binary is not Node 22" >&2
    return 1
  fi
  # Replace a stale or broken copy, then move the new one in atomically.
  if [[ -e "$target" ]]; then
    mv "$target" "$tmp/old"
  fi
  mv "$tmp/x/package" "$target"
  rm -rf "$tmp"
  tmp=""
}

tmp=""
lockdir=""
cleanup() {
  [[ -n "$tmp" ]] && rm -rf "$tmp"
  [[ -n "$lockdir" ]] && rmdir "$lockdir" 2>/dev/null
  return 0
}
trap cleanup EXIT

lock="$cache_dir/.node22.lock"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$lock"
  flock -w 600 9 || { echo "node22.sh: timed out waiting for $lock" >&2; exit 1; }
  fetch
  exec 9>&-
else
  # Fallback without flock: mkdir is atomic.
  for _ in $(seq 1 600); do
    if mkdir "$lock.d" 2>/dev/null; then break; fi
    sleep 1
  done
  [[ -d "$lock.d" ]] || { echo "node22.sh: could not take $lock.d" >&2; exit 1; }
  lockdir="$lock.d"
  fetch
fi

if ! cached_ok; then
  echo "node22.sh: $cached is missing or not Node 22" >&2
  exit 1
fi
echo "$cached"
