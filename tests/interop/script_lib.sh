# shellcheck shell=bash
# Shared by the interop driver scripts (auth.sh, tls.sh, with_server.sh); sourced, not run.
#
#   ok TEXT                  counts and prints "ok - TEXT"
#   not_ok TEXT [LINE...]    counts and prints "not ok - TEXT", then each LINE as "  # LINE"
#   finish                   prints "N passed, N failed" and exits (0 only when all passed)
#   require_tools TOOL...    not_ok and finish unless every TOOL is on PATH
#   stop_pid PID NAME        SIGTERM, SIGKILL after 5 s; the exit status in $stopped_status

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
