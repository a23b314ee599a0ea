# shellcheck shell=bash
# Shared by the interop driver scripts (auth.sh, tls.sh, with_server.sh); sourced, not run.
#
#   ok TEXT                  counts and prints "ok - TEXT"
#   not_ok TEXT [LINE...]    counts and prints "not ok - TEXT", then each LINE as "  # LINE"
#   finish                   prints "N passed, N failed" and exits (0 only when all passed)
#   require_tools TOOL...    not_ok and finish unless every TOOL is on PATH
#   stop_pid PID NAME        SIGTERM, SIGKILL after 5 s; the exit status in $stopped_status
#   wait_for_listening LOG PID SECONDS
#                            waits for the "listening on http(s)://HOST:PORT/mcp" line that the
#                            examples and mcpsse-bridge print on start; sets listen_scheme and
#                            listen_port (0 returned), or listen_failure and listen_log (the
#                            log's last 20 lines; 1 returned) when PID exits first (it is then
#                            reaped) or SECONDS pass

# server_and_build_dir "$@": the arguments of a script run as
# `SCRIPT <everything_server> <build-dir>`: sets `server` and `build_dir`, or prints the
# usage and exits 2.
server_and_build_dir() {
  if (($# < 2)) || [[ ! -x "$1" ]]; then
    echo "usage: $0 <everything_server> <build-dir>" >&2
    exit 2
  fi
  server="$1"
  # shellcheck disable=SC2034  # read by the sourcing script
  build_dir="$2"
}
# skip_without_redis_deployment NAME SERVER [TOOL...]: exits 77 (ctest: skipped), saying
# why, unless haproxy, redis-server and each TOOL are installed and SERVER was built
# with hiredis (mcpsse::redis). A build without it says so for any --redis (here an
# invalid URL, so a build with it stops at once too, without listening).
skip_without_redis_deployment() {
  local name="$1" server="$2" tool
  shift 2
  for tool in haproxy redis-server "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "$name: skipped: $tool is not installed (Debian: apt-get install ${tool/redis-cli/redis-tools}, see cmake/scripts/setup-debian.sh)"
      exit 77
    fi
  done
  if "$server" --redis 'redis://' 2>&1 | grep -q 'built without Redis'; then
    echo "$name: skipped: $server was built without the mcpsse::redis component (hiredis not found; Debian: libhiredis-dev)"
    exit 77
  fi
}
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() {
  failed=$((failed + 1))
  echo "not ok - $1"
  shift
  local line
  for line in "$@"; do printf '  # %s\n' "$line"; done
}
finish() {
  echo "$passed passed, $failed failed"
  ((failed == 0 && passed > 0))
  exit $?
}
require_tools() {
  local tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      not_ok "tool $tool available" "install it (Debian: bash cmake/scripts/setup-debian.sh)"
      finish
    fi
  done
}
stop_pid() {
  local pid="$1" i
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$(basename "$0" .sh): $2 did not stop on SIGTERM within 5 s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  wait "$pid" 2>/dev/null
  # shellcheck disable=SC2034  # read by the caller
  stopped_status=$?
}

# shellcheck disable=SC2034  # listen_* are read by the caller
wait_for_listening() {
  local log="$1" pid="$2" seconds="$3" line deadline
  deadline=$((SECONDS + seconds))
  listen_scheme=""
  listen_port=""
  listen_failure=""
  listen_log=()
  while ((SECONDS < deadline)); do
    line="$(grep -m1 -oE 'listening on https?://[^ /]+:[0-9]+/mcp' "$log" 2>/dev/null)"
    if [[ -n "$line" ]]; then
      listen_scheme="${line#listening on }"
      listen_scheme="${listen_scheme%%://*}"
      listen_port="${line##*:}"
      listen_port="${listen_port%/mcp}"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  mapfile -t listen_log < <(tail -n 20 "$log" 2>/dev/null)
  if kill -0 "$pid" 2>/dev/null; then
    listen_failure="no 'listening on http(s)://HOST:PORT/mcp' line within $seconds s; log:"
  else
    wait "$pid" 2>/dev/null
    listen_failure="it exited with status $? before listening; log:"
  fi
  return 1
}

# deploy_start RUN_SH SERVER MODE DIR OUT CHECK_MS: starts examples/deploy/run.sh (RUN_SH)
# in MODE with the everything_server SERVER, on a free port, files in DIR, output in OUT,
# health checks every CHECK_MS ms, in the background; sets run_pid and waits up to 15 s
# for its "ready" line. True once it came; false if run.sh ended or the time passed (OUT
# then says why).
deploy_start() {
  local run_sh="$1" server_bin="$2" mode="$3" dir="$4" out="$5" check_ms="$6" i
  mkdir -p "$dir"
  MCPSSE_CHECK_MS="$check_ms" bash "$run_sh" "$mode" --server "$server_bin" --port 0 --dir "$dir" >"$out" 2>&1 &
  run_pid=$!
  for ((i = 0; i < 300; i++)); do
    grep -q 'deploy: ready:' "$out" 2>/dev/null && return 0
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.05
  done
  grep -q 'deploy: ready:' "$out" 2>/dev/null
}
