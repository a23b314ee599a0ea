#!/usr/bin/env bash
# Run a client against a server started on a free local port.
#
#   with_server.sh <server-binary> [server args...] -- <client command...>
#
# Every "{port}" in the server arguments and in the client command is
# replaced by the chosen port (also exported as MCPSSE_TEST_PORT). The
# server is started in the background; once 127.0.0.1:<port> accepts TCP
# connections the client runs. The server is always stopped afterwards
# (SIGTERM, then SIGKILL after 5 s) and the client's exit code is returned.
# The client runs with stdin from /dev/null.
# If the server exits before accepting (say the port was taken in the
# meantime) another port is tried, up to 3 times.
#
# Environment: WITH_SERVER_WAIT_S (default 20) how long to wait for the port.
set -uo pipefail

usage() {
  echo "usage: $0 <server-binary> [server args...] -- <client command...>" >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
server_bin="$1"
shift
server_args=()
while [[ $# -gt 0 && "$1" != "--" ]]; do
  server_args+=("$1")
  shift
done
[[ $# -gt 0 ]] || usage
shift # the "--"
[[ $# -gt 0 ]] || usage
client_cmd=("$@")

if [[ ! -x "$server_bin" ]]; then
  echo "with_server: server binary '$server_bin' not found or not executable" >&2
  exit 1
fi

wait_s="${WITH_SERVER_WAIT_S:-20}"
server_pid=""
client_pid=""

# shellcheck source-path=SCRIPTDIR source=script_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/script_lib.sh"
stop_server() {
  [[ -n "$server_pid" ]] || return 0
  stop_pid "$server_pid" server
  server_pid=""
}
# shellcheck disable=SC2317  # called from the signal traps
stop_client() {
  [[ -n "$client_pid" ]] || return 0
  kill -TERM "$client_pid" 2>/dev/null
  wait "$client_pid" 2>/dev/null
  client_pid=""
}
trap stop_server EXIT
trap 'stop_client; stop_server; exit 130' INT
trap 'stop_client; stop_server; exit 143' TERM

port_open() {
  # Succeeds if something accepts TCP connections on 127.0.0.1:$1.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pick_port() {
  # A random port in 20000-59999 on which nothing is listening now.
  local p i
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    if ! port_open "$p"; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

substitute() {
  # Prints each argument with {port} replaced, NUL-separated.
  local a
  for a in "$@"; do
    printf '%s\0' "${a//\{port\}/$port}"
  done
}

port=""
for attempt in 1 2 3; do
  port="$(pick_port)" || { echo "with_server: no free port found" >&2; exit 1; }
  mapfile -d '' args < <(substitute ${server_args[@]+"${server_args[@]}"})
  echo "with_server: starting $server_bin ${args[*]} (port $port, attempt $attempt)" >&2
  "$server_bin" ${args[@]+"${args[@]}"} </dev/null &
  server_pid=$!
  ready=0
  deadline=$((SECONDS + wait_s))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      break
    fi
    if port_open "$port"; then
      ready=1
      break
    fi
    sleep 0.1
  done
  if ((ready)); then
    # The port might have been taken by someone else after we picked it, in
    # which case our server fails to bind and exits: make sure it is still
    # running a moment later.
    sleep 0.2
    if kill -0 "$server_pid" 2>/dev/null; then
      break
    fi
    ready=0
  fi
  if kill -0 "$server_pid" 2>/dev/null; then
    echo "with_server: server did not accept connections on port $port within ${wait_s} s" >&2
    exit 1
  fi
  wait "$server_pid"
  rc=$?
  server_pid=""
  echo "with_server: server exited with status $rc before accepting connections" >&2
  if ((attempt == 3)); then
    exit 1
  fi
done

export MCPSSE_TEST_PORT="$port"
mapfile -d '' cmd < <(substitute "${client_cmd[@]}")
# Run the client in the background and wait for it, so that a SIGTERM (say
# from a ctest timeout) is handled at once and still stops the server. The
# client's stdin is therefore /dev/null.
"${cmd[@]}" &
client_pid=$!
wait "$client_pid"
client_rc=$?
client_pid=""
stop_server
exit "$client_rc"
