#!/usr/bin/env bash
# Interop test of mcpsse-bridge with a stdio MCP server nobody here wrote: the
# official @modelcontextprotocol/server-everything (pinned in package.json),
# driven by the official TypeScript SDK client and by curl.
#
#   bridge.sh <mcpsse-bridge> <build-dir>
#
# <build-dir> is the CMake binary directory of tests/interop (setup.sh installs
# the SDK and server-everything into <build-dir>/npm). The child command is
# `node <build-dir>/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js stdio`
# (Node 22 from node22.sh; no npx, no network). This script
#   1. starts `mcpsse-bridge --port 0 -- node .../index.js stdio` and reads the
#      port from its "listening on http://127.0.0.1:PORT/mcp" line on stderr;
#   2. checks that no child runs before any session, then runs
#      bridge_client.mjs (--bridge-pid) over Streamable HTTP and over HTTP+SSE:
#      tools, progress, sampling, elicitation, roots, resources, prompts,
#      logging, subscriptions, two isolated sessions with one child each, and
#      each child gone (exited and reaped) once its session ended; after both
#      runs the bridge has no child left;
#   3. with curl: a session whose child keeps running after its stdin closes
#      (server-everything's toggle-simulated-logging starts a timer) still
#      loses its child after DELETE (the bridge escalates to signals);
#   4. stops the bridge with SIGTERM while a Streamable HTTP session (child with
#      a timer running) and an HTTP+SSE session are open: the bridge exits with
#      status 0 within BRIDGE_STOP_S, the SSE stream ends, and none of the
#      processes below the bridge survives it (no orphan, no zombie: each pid,
#      matched with its start time, is gone from /proc);
#   5. the same with SIGINT (one session);
#   6. --share-child: two sessions, one child, each answers; after stop none left.
# Each check prints "ok - ..." or "not ok - ...", then "N passed, N failed";
# exit status 0 only when all passed. The bridge is always stopped (SIGTERM,
# SIGKILL after 5 s). Needs curl. Environment: BRIDGE_TEST_WAIT_S (default 20)
# how long to wait for the listening line; BRIDGE_STOP_S (default 15) how long
# the bridge may take to exit after a signal; BRIDGE_CHILD_EXIT_MS (default
# 10000) how long a child may take to go after its session ended.
set -uo pipefail

usage() {
  echo "usage: $0 <mcpsse-bridge> <build-dir>" >&2
  exit 2
}
[[ "${1:-}" == "-h" || "${1:-}" == "--help" ]] && { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0; }
[[ $# -eq 2 && -n "$1" && -n "$2" ]] || usage

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bridge_bin="$1"
mkdir -p "$2" || exit 1
build_dir="$(cd "$2" && pwd)"
work="$build_dir/bridge"
wait_s="${BRIDGE_TEST_WAIT_S:-20}"
stop_s="${BRIDGE_STOP_S:-15}"
child_exit_ms="${BRIDGE_CHILD_EXIT_MS:-10000}"
export BRIDGE_CHILD_EXIT_MS="$child_exit_ms"

# shellcheck source-path=SCRIPTDIR source=script_lib.sh
source "$here/script_lib.sh"

require_tools curl
if [[ ! -x "$bridge_bin" ]]; then
  not_ok "bridge binary" "'$bridge_bin' not found or not executable"
  finish
fi
server_js="$build_dir/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
if [[ ! -f "$server_js" ]]; then
  not_ok "server-everything installed" "$server_js is missing; run the interop.setup test (setup.sh $build_dir) first"
  finish
fi
if ! node="$("$here/node22.sh" "${MCPSSE_INTEROP_CACHE:-$build_dir/cache}")"; then
  not_ok "Node >= 22" "node22.sh failed"
  finish
fi
mkdir -p "$work"
rm -f "$work"/*

# ---- processes ------------------------------------------------------------------

# proc_children PID: "pid state" of each direct child of PID (live or zombie), from
# /proc/PID/task/*/children (Linux >= 3.5 with CONFIG_PROC_CHILDREN), else a scan of
# every /proc/N/stat.
proc_children() {
  local f stat rest fields pid pids=()
  if [[ -e "/proc/$1/task/$1/children" ]]; then
    for f in /proc/"$1"/task/*/children; do
      { read -r -a fields <"$f"; } 2>/dev/null
      pids+=(${fields[@]+"${fields[@]}"})
    done
  elif [[ -d "/proc/$1" ]]; then
    for f in /proc/[0-9]*/stat; do
      { read -r stat <"$f"; } 2>/dev/null || continue
      rest="${stat##*) }" # "state ppid pgrp ..." after the command name
      read -r -a fields <<<"$rest"
      if [[ "${fields[1]}" == "$1" ]]; then
        f="${f#/proc/}"
        pids+=("${f%/stat}")
      fi
    done
  fi
  for pid in ${pids[@]+"${pids[@]}"}; do
    { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || continue
    rest="${stat##*) }"
    echo "$pid ${rest%% *}"
  done
}
# proc_tree PID: "pid:starttime" of every process below PID.
proc_tree() {
  local pid rest fields
  while read -r pid _; do
    [[ -n "$pid" ]] || continue
    { read -r rest <"/proc/$pid/stat"; } 2>/dev/null || continue
    rest="${rest##*) }"
    read -r -a fields <<<"$rest"
    echo "$pid:${fields[19]}" # field 22 of stat, the start time
    proc_tree "$pid"
  done < <(proc_children "$1")
}
# proc_alive PID:STARTTIME: the same process still has a /proc entry; prints its state and command.
proc_alive() {
  local pid="${1%%:*}" start="${1#*:}" rest fields
  { read -r rest <"/proc/$pid/stat"; } 2>/dev/null || return 1
  rest="${rest##*) }"
  read -r -a fields <<<"$rest"
  [[ "${fields[19]}" == "$start" ]] || return 1
  echo "pid $pid state ${fields[0]}: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-160)"
}
# count_children PID: live (non-zombie) direct children.
count_children() {
  proc_children "$1" | awk '$2 != "Z"' | wc -l
}
# wait_children PID N SECONDS: until PID has N live children; fails on timeout.
wait_children() {
  local deadline=$((SECONDS + $3))
  while (($(count_children "$1") != $2)); do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# ---- the bridge -------------------------------------------------------------------

bridge_pid=""
bridge_status=""
bridge_log=""
port=""
stop_bridge() {
  [[ -n "$bridge_pid" ]] || return 0
  stop_pid "$bridge_pid" bridge
  bridge_status=$stopped_status
  bridge_pid=""
}
bg_pids=()
# shellcheck disable=SC2317  # called from the traps
cleanup() {
  local p
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
  stop_bridge
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# start_bridge NAME [bridge options...]: starts the bridge in front of
# server-everything (stderr to $work/NAME.log), sets bridge_pid and port.
start_bridge() {
  local name="$1" log="$work/${1//\//-}.log"
  shift
  bridge_log="$log"
  echo "# starting $bridge_bin --port 0 $* -- $node $server_js stdio"
  "$bridge_bin" --port 0 "$@" -- "$node" "$server_js" stdio </dev/null >"$log" 2>&1 &
  bridge_pid=$!
  port=""
  if ! wait_for_listening "$log" "$bridge_pid" "$wait_s"; then
    not_ok "$name: bridge announces its URL" "$listen_failure" "${listen_log[@]}"
    if kill -0 "$bridge_pid" 2>/dev/null; then stop_bridge; else bridge_pid=""; fi
    return 1
  fi
  port="$listen_port"
  ok "$name: bridge announces its URL (port $port, pid $bridge_pid)"
}

# signal_bridge NAME SIGNAL: sends SIGNAL, waits up to stop_s for the exit; sets
# bridge_status (empty if it did not exit in time, then it is killed).
signal_bridge() {
  local name="$1" sig="$2" i t0=$SECONDS
  kill "-$sig" "$bridge_pid"
  for ((i = 0; i < stop_s * 20; i++)); do
    kill -0 "$bridge_pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$bridge_pid" 2>/dev/null; then
    mapfile -t log_lines < <(tail -n 15 "$bridge_log")
    not_ok "$name: the bridge exits after SIG$sig" "still running after ${stop_s} s; log:" "${log_lines[@]}"
    kill -KILL "$bridge_pid" 2>/dev/null
    wait "$bridge_pid" 2>/dev/null
    bridge_pid=""
    bridge_status=""
    return 1
  fi
  wait "$bridge_pid" 2>/dev/null
  bridge_status=$?
  bridge_pid=""
  if ((bridge_status == 0)); then
    ok "$name: the bridge exits with status 0 after SIG$sig (within $((SECONDS - t0 + 1)) s)"
  else
    mapfile -t log_lines < <(tail -n 15 "$bridge_log")
    not_ok "$name: the bridge exits with status 0 after SIG$sig" "status $bridge_status; log:" "${log_lines[@]}"
  fi
}

# expect_gone NAME PID:START...: none of the processes survived.
expect_gone() {
  local name="$1" p left=()
  shift
  if (($# == 0)); then
    not_ok "$name: processes below the bridge were recorded before it stopped" "none: no session had a child"
    return
  fi
  for p in "$@"; do
    if s="$(proc_alive "$p")"; then left+=("$s"); fi
  done
  if ((${#left[@]} == 0)); then
    ok "$name: none of the $# processes below the bridge survived it"
  else
    not_ok "$name: none of the $# processes below the bridge survived it" \
      "left (state Z: a zombie nobody reaped; otherwise an orphan still running):" "${left[@]}"
  fi
}

# ---- curl as a client ---------------------------------------------------------------

protocol=2025-06-18
init_body() {
  printf '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"%s","capabilities":{},"clientInfo":{"name":"mcpsse-bridge-test-%s","version":"0.0.0"}}}' "$protocol" "$1"
}
initialized_body='{"jsonrpc":"2.0","method":"notifications/initialized"}'
call_body() { # id tool arguments-json
  printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"%s","arguments":%s}}' "$1" "$2" "$3"
}

# mcp_post NAME BODY [SESSION]: POST to /mcp; leaves $work/NAME.{headers,out},
# the status in $code.
mcp_post() {
  local name="$1" body="$2" session="${3:-}" extra=()
  [[ -n "$session" ]] && extra=(-H "Mcp-Session-Id: $session" -H "MCP-Protocol-Version: $protocol")
  code="$(curl -sS --max-time 10 -D "$work/${name//\//-}.headers" -o "$work/${name//\//-}.out" -w '%{http_code}' \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    "${extra[@]}" --data-binary "$body" "http://127.0.0.1:$port/mcp" 2>"$work/${name//\//-}.err")"
}
detail() { # what an exchange NAME returned, for the "#" lines
  echo "HTTP status '$code'"
  sed 's/\r$//' "$work/${1//\//-}.headers" 2>/dev/null | head -n 8
  head -c 400 "$work/${1//\//-}.out" 2>/dev/null
  echo
  cat "$work/${1//\//-}.err" 2>/dev/null
}

# open_streamable NAME: initialize + notifications/initialized; sets $session.
open_streamable() {
  local name="$1"
  session=""
  mcp_post "$name.init" "$(init_body "$name")"
  session="$(sed -n 's/^[Mm][Cc][Pp]-[Ss]ession-[Ii][Dd]: *\([^\r]*\).*/\1/p' "$work/${name//\//-}.init.headers" 2>/dev/null)"
  if [[ "$code" != 200 || -z "$session" ]] || ! grep -q '"result"' "$work/${name//\//-}.init.out"; then
    mapfile -t d < <(detail "$name.init")
    not_ok "$name: initialize over Streamable HTTP (curl)" "${d[@]}"
    return 1
  fi
  mcp_post "$name.initialized" "$initialized_body" "$session"
  if [[ "$code" != 202 ]]; then
    mapfile -t d < <(detail "$name.initialized")
    not_ok "$name: notifications/initialized answered 202" "${d[@]}"
    return 1
  fi
}

# call_streamable NAME SESSION ID TOOL ARGS EXPECTED: a tools/call whose answer holds EXPECTED.
call_streamable() {
  mcp_post "$1" "$(call_body "$3" "$4" "$5")" "$2"
  if [[ "$code" == 200 ]] && grep -qF -- "$6" "$work/${1//\//-}.out"; then
    return 0
  fi
  mapfile -t d < <(detail "$1")
  not_ok "$1: tools/call $4 answers '$6'" "${d[@]}"
  return 1
}

# open_legacy NAME: GET /sse in the background (events to $work/NAME.sse), then
# initialize and notifications/initialized to the endpoint it names; sets $sse_pid.
open_legacy() {
  local name="$1" endpoint="" i
  curl -sN --max-time 120 "http://127.0.0.1:$port/sse" >"$work/${name//\//-}.sse" 2>"$work/${name//\//-}.sse.err" &
  sse_pid=$!
  bg_pids+=("$sse_pid")
  for ((i = 0; i < 100; i++)); do
    endpoint="$(sed -n '/^event: *endpoint/{n;s/^data: *//p;q}' "$work/${name//\//-}.sse" | tr -d '\r')"
    [[ -n "$endpoint" ]] && break
    sleep 0.05
  done
  if [[ -z "$endpoint" ]]; then
    not_ok "$name: GET /sse names the message endpoint" "stream so far: $(head -c 300 "$work/${name//\//-}.sse")"
    return 1
  fi
  [[ "$endpoint" == http* ]] || endpoint="http://127.0.0.1:$port$endpoint"
  code="$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "$(init_body "$name")" "$endpoint")"
  for ((i = 0; i < 100; i++)); do
    grep -q '"id":1' "$work/${name//\//-}.sse" && break
    sleep 0.05
  done
  if ! grep -q '"result"' "$work/${name//\//-}.sse"; then
    not_ok "$name: initialize over HTTP+SSE (curl)" "POST status $code; stream: $(head -c 400 "$work/${name//\//-}.sse")"
    return 1
  fi
  curl -sS --max-time 10 -o /dev/null -H 'Content-Type: application/json' --data-binary "$initialized_body" "$endpoint"
}

run_client() { # NAME ARGS...: bridge_client.mjs, its output indented
  local name="$1" out rc t0=$SECONDS
  shift
  out="$(bash "$here/run_client.sh" "$build_dir" bridge_client.mjs "http://127.0.0.1:$port" --bridge-pid "$bridge_pid" "$@" 2>&1)"
  rc=$?
  # shellcheck disable=SC2001  # every line of the client's output, indented
  sed 's/^/    /' <<<"$out"
  if ((rc == 0)); then
    ok "$name: bridge_client.mjs ($(tail -n 1 <<<"$out"), $((SECONDS - t0)) s)"
  else
    mapfile -t failing < <(grep -E '^not ok' <<<"$out")
    not_ok "$name: bridge_client.mjs (exit status $rc)" "${failing[@]}" "$(tail -n 1 <<<"$out")"
  fi
}

# ---- 1, 2: the SDK client over both transports (B1, B2, B3) -----------------------------------------

if start_bridge main; then
  if (($(count_children "$bridge_pid") == 0)); then
    ok "main: no child process before the first initialize"
  else
    not_ok "main: no child process before the first initialize" "$(proc_children "$bridge_pid")"
  fi
  run_client "main/streamable"
  run_client "main/legacy" --legacy
  if wait_children "$bridge_pid" 0 2; then
    ok "main: no child process left after both clients ended their sessions"
  else
    not_ok "main: no child process left after both clients ended their sessions" "$(proc_children "$bridge_pid")"
  fi

  # ---- 3: DELETE ends a child that ignores the end of its stdin (B3) -------------------------
  if open_streamable main/timer; then
    sid="$session"
    if call_streamable main/timer.toggle "$sid" 2 toggle-simulated-logging '{}' 'Started simulated'; then
      mapfile -t tree < <(proc_tree "$bridge_pid")
      curl -sS --max-time 10 -o /dev/null -X DELETE -H "Mcp-Session-Id: $sid" -H "MCP-Protocol-Version: $protocol" \
        "http://127.0.0.1:$port/mcp"
      t0=$SECONDS
      if wait_children "$bridge_pid" 0 $(((child_exit_ms + 999) / 1000)); then
        sleep 0.1
        left=()
        for p in "${tree[@]}"; do s="$(proc_alive "$p")" && left+=("$s"); done
        if ((${#left[@]} == 0)); then
          ok "main: DELETE ends a child that keeps running after its stdin closed (gone after ~$((SECONDS - t0)) s)"
        else
          not_ok "main: DELETE ends a child that keeps running after its stdin closed" "left:" "${left[@]}"
        fi
      else
        not_ok "main: DELETE ends a child that keeps running after its stdin closed" \
          "still there after ${child_exit_ms} ms:" "$(proc_children "$bridge_pid")"
      fi
    fi
  fi

  # ---- 4: SIGTERM with open sessions (B4) ----------------------------------------------
  tree=()
  if open_streamable term/streamable; then
    call_streamable term/streamable.toggle "$session" 2 toggle-simulated-logging '{}' 'Started simulated' || true
  fi
  sse_pid=""
  open_legacy term/legacy || true
  if wait_children "$bridge_pid" 2 5; then
    ok "term: two open sessions, two children"
  else
    not_ok "term: two open sessions, two children" "children: $(proc_children "$bridge_pid" | tr '\n' ' ')"
  fi
  mapfile -t tree < <(proc_tree "$bridge_pid")
  signal_bridge term TERM
  if [[ -n "$sse_pid" ]]; then
    for ((i = 0; i < 40; i++)); do kill -0 "$sse_pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$sse_pid" 2>/dev/null; then
      not_ok "term: the open SSE stream ends when the bridge stops"
      kill "$sse_pid" 2>/dev/null
    else
      ok "term: the open SSE stream ends when the bridge stops"
    fi
    wait "$sse_pid" 2>/dev/null
  fi
  expect_gone term "${tree[@]}"
fi

# ---- 5: SIGINT with an open session (B4) ------------------------------------------------
if start_bridge int; then
  if open_streamable int/streamable; then
    call_streamable int/streamable.echo "$session" 2 echo '{"message":"before SIGINT"}' 'Echo: before SIGINT' || true
  fi
  mapfile -t tree < <(proc_tree "$bridge_pid")
  if ((${#tree[@]} >= 1)); then
    ok "int: one open session, ${#tree[@]} process(es) below the bridge"
  else
    not_ok "int: one open session has a child"
  fi
  signal_bridge int INT
  expect_gone int "${tree[@]}"
fi

# ---- 6: --share-child (B1) ------------------------------------------------------------------
if start_bridge shared --share-child; then
  s1="" s2=""
  open_streamable shared/one && s1="$session"
  open_streamable shared/two && s2="$session"
  if [[ -n "$s1" && -n "$s2" ]]; then
    sleep 0.2 # a second child, if the bridge wrongly started one, would be there by now
    n="$(count_children "$bridge_pid")"
    if ((n == 1)); then
      ok "shared: two sessions, one child"
    else
      not_ok "shared: two sessions, one child" "children: $(proc_children "$bridge_pid" | tr '\n' ' ')"
    fi
    if call_streamable shared/one.echo "$s1" 2 echo '{"message":"one"}' 'Echo: one' &&
      call_streamable shared/two.echo "$s2" 2 echo '{"message":"two"}' 'Echo: two'; then
      ok "shared: both sessions answer through the one child"
    fi
  fi
  mapfile -t tree < <(proc_tree "$bridge_pid")
  signal_bridge shared TERM
  expect_gone shared "${tree[@]}"
fi

finish
