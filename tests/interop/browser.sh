#!/usr/bin/env bash
# Interop test of sse_server's live-progress demo page (examples/sse_server/demo.html,
# served at /) in a real headless Chromium driven by puppeteer-core.
#
#   browser.sh <sse_server> <build-dir>
#
# <build-dir> is the CMake binary directory of tests/interop (as for setup.sh, whose
# npm install holds puppeteer-core). This script
#   1. finds Chromium ($CHROMIUM, else chromium, chromium-browser, google-chrome on
#      PATH; Debian package chromium, installed by cmake/scripts/setup-debian.sh),
#   2. starts `sse_server --host 127.0.0.1 --port 0 --log-level debug` (port from its
#      "listening on" line; its access log in <build-dir>/browser/sse_server.log), and a
#      second one with `--cors-origin '*'` (log sse_server_cors.log) for the page served
#      from another origin,
#   3. runs browser_client.mjs: a TCP proxy of its own (Node net) between Chromium and
#      the server, the page loaded through it, and the checks (a full run to 100 %
#      with every step in order, cancel, a forced drop of every live connection
#      resumed with Last-Event-ID and no step lost, disconnect with DELETE, the page
#      on another origin refused without CORS and working with it); a screenshot goes
#      to <build-dir>/browser/demo.png (its path is printed),
#   4. checks the server's access log for the cancelled tools/call (its rpc event,
#      outcome=cancelled, written when the handler ended), and stops the servers.
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed"; exits non-zero
# on any failure, 77 (skipped) only when no Chromium is found. Needs timeout.
# Environment: CHROMIUM (the browser's path), BROWSER_TEST_WAIT_S (default 20) how long
# to wait for the listening line.
set -uo pipefail

usage() {
  echo "usage: $0 <sse_server> <build-dir>" >&2
  exit 2
}
[[ "${1:-}" == "-h" || "${1:-}" == "--help" ]] && { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0; }
[[ $# -eq 2 && -n "$1" && -n "$2" ]] || usage

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
server_bin="$1"
mkdir -p "$2" || exit 1
build_dir="$(cd "$2" && pwd)"
work="$build_dir/browser"
wait_s="${BROWSER_TEST_WAIT_S:-20}"

# shellcheck source-path=SCRIPTDIR source=script_lib.sh
source "$here/script_lib.sh"

chromium="${CHROMIUM:-}"
if [[ -z "$chromium" ]]; then
  for candidate in chromium chromium-browser google-chrome; do
    if command -v "$candidate" >/dev/null 2>&1; then
      chromium="$(command -v "$candidate")"
      break
    fi
  done
fi
if [[ -z "$chromium" || ! -x "$chromium" ]]; then
  echo "browser: SKIPPED: no Chromium found (set CHROMIUM, or install the Debian package chromium: bash cmake/scripts/setup-debian.sh)" >&2
  exit 77
fi
echo "# browser: $("$chromium" --version 2>/dev/null | head -n1) at $chromium"

if [[ ! -f "$build_dir/npm/node_modules/puppeteer-core/package.json" ]]; then
  not_ok "puppeteer-core installed" "not in $build_dir/npm; run the interop.setup test (or setup.sh $build_dir)"
  finish
fi
if [[ ! -x "$server_bin" ]]; then
  not_ok "server binary" "'$server_bin' not found or not executable"
  finish
fi
mkdir -p "$work"
rm -f "$work/demo.png" "$work/demo-log.txt"

declare -A pids=()
# shellcheck disable=SC2317  # called from the traps
stop_servers() {
  local name
  for name in "${!pids[@]}"; do
    stop_pid "${pids[$name]}" "$name"
  done
  pids=()
}
trap stop_servers EXIT
trap 'stop_servers; exit 130' INT
trap 'stop_servers; exit 143' TERM

# start_server NAME ARGS...: starts sse_server with its log in $work/NAME.log; sets
# pids[NAME] and port (from its "listening on" line).
start_server() {
  local name="$1" log="$work/$1.log"
  shift
  rm -f "$log"
  "$server_bin" --host 127.0.0.1 --port 0 --log-level debug "$@" </dev/null >"$log" 2>&1 &
  pids[$name]=$!
  if ! wait_for_listening "$log" "${pids[$name]}" "$wait_s"; then
    not_ok "$name announces its URL" "$listen_failure" "${listen_log[@]}"
    finish
  fi
  port="$listen_port"
  ok "$name listens on port $port${*:+ ($*)}"
}

start_server sse_server
server_port=$port
start_server sse_server_cors --cors-origin '*'
cors_port=$port
log="$work/sse_server.log"

# The client prints its own ok / not ok lines and a last line "client: N passed, N failed".
client_out="$work/client.out"
timeout 90 bash "$here/run_client.sh" "$build_dir" browser_client.mjs \
  "http://127.0.0.1:$server_port" "http://127.0.0.1:$cors_port" "$chromium" "$work" 2>&1 | tee "$client_out"
client_status=${PIPESTATUS[0]}
client_passed="$(sed -n 's/^client: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$client_out")"
client_failed="$(sed -n 's/^client: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$client_out")"
passed=$((passed + ${client_passed:-0}))
failed=$((failed + ${client_failed:-0}))
if [[ $client_status -ne 0 && ${client_failed:-0} -eq 0 ]]; then
  not_ok "browser_client.mjs exits 0" "exit status $client_status"
fi

# The cancelled call, as the server's access log records it: the handler ended cancelled.
if grep -q 'event=rpc .*rpc_method=tools/call tool=build_report outcome=cancelled' "$log"; then
  ok "the server's access log records the cancelled tools/call"
else
  mapfile -t server_log < <(grep -i 'tools/call' "$log" | tail -n 10)
  not_ok "the server's access log records the cancelled tools/call" "${server_log[@]}"
fi

stop_servers
finish
