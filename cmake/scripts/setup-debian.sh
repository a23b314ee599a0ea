#!/usr/bin/env bash
# Install what mcpsse's build, tests, examples and tooling need on Debian 12.
#
#   bash cmake/scripts/setup-debian.sh
#
# Idempotent: checks each package with dpkg-query (node/npm by command, since
# Node.js may come from a non-Debian package that bundles npm) and runs
# `apt-get update` + `apt-get install --no-install-recommends` only when
# something is missing.  Needs root, or password-less sudo; otherwise it
# prints what is missing and exits 1.
set -euo pipefail

packages=(
  build-essential g++          # GCC toolchain
  clang libclang-rt-14-dev     # Clang, libFuzzer and the sanitizer runtimes
  cmake ninja-build
  libasio-dev                  # standalone Asio (no CMake config; cmake/Findasio.cmake)
  nlohmann-json3-dev
  catch2                       # Catch2 v2 (tests/support/catch.hpp bridges v2/v3)
  libbenchmark-dev             # benchmarks/
  nginx-light                  # benchmarks: the HTTP ceiling
  haproxy                      # examples/deploy and tests/interop/deploy.sh: the load balancer
  curl                         # cmake/scripts/run.sh and quick_start_smoke.sh: client exchanges
  libssl-dev openssl           # TLS (mcpsse::tls, mcpsse_loadgen --tls; the openssl command makes the
                               # certificates of tests/unit/tls_transport.cpp, tests/interop/tls.sh
                               # and the benchmarks' TLS row)
  python3                      # quick_start_smoke.sh: a free port
  prometheus                   # promtool: tests/interop/check_metrics.sh (metrics.exposition)
  python3-prometheus-client    # its text and OpenMetrics parsers: tests/interop/check_metrics.py
  libhiredis-dev               # mcpsse::redis (RedisStore): the hiredis C client (0.14)
  redis-server                 # tests/unit/redis_store.cpp starts its own redis-server
                               # (never the system service) on a free loopback port
  socat                        # examples/deploy/run.sh's rolling restart: HAProxy's runtime API
  chromium                     # headless browser of tests/interop/browser.sh (sse_server's demo
                               # page, driven by puppeteer-core, which downloads no browser)
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$pkg")
  fi
done
# Node.js + npm (interop clients).  Only ask Debian for them when absent, so a
# Node.js that already ships npm is left alone.
if ! command -v node >/dev/null 2>&1; then
  missing+=(nodejs)
fi
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if ((${#missing[@]} == 0)); then
  echo "setup-debian: all build dependencies present"
  exit 0
fi

echo "setup-debian: missing: ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "setup-debian: not root and no password-less sudo; install them with:" >&2
  echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup-debian: installed ${missing[*]}"
