#!/usr/bin/env bash
# Starts three everything_server instances and a load balancer in front of them, all on
# loopback, and keeps them running until Ctrl-C (or SIGTERM), then stops them all.
#
#   run.sh MODE [--server PATH] [--port N] [--dir DIR]
#
# MODE
#   stateless     HAProxy round-robin over three `--stateless` instances, no shared
#                 store (haproxy-stateless.cfg)
#   sticky        HAProxy with a stick table on Mcp-Session-Id over three instances
#                 with sessions (haproxy-sticky.cfg)
#   nginx-sticky  nginx with `hash $http_mcp_session_id consistent` (nginx-sticky.conf);
#                 sessions work only when the instances share a session store, see the
#                 config's comments
#   redis         HAProxy round-robin, no stickiness, over three instances sharing
#                 sessions, stored events and tasks through a redis-server started
#                 here (haproxy-redis.cfg)
# --server PATH   the everything_server binary (default: $MCPSSE_SERVER, else
#                 build/bin/everything_server under the repository, else on PATH)
# --port N        the balancer's port on 127.0.0.1 (default 8080; 0: a free one)
# --dir DIR       where the key, the logs and the balancer's files go (default: a new
#                 temporary folder, removed at exit)
#
# Every instance seals input-required `requestState` with one shared key (a random
# one, written to DIR/state-key, mode 600, passed with --state-key-file), so a retry
# may land on any instance. Each instance listens on a free port and serves /metrics
# and /readyz there; the balancer checks /readyz.
#
# Once everything accepts connections it writes DIR/instances (one line per instance:
# NAME PORT PID), DIR/balancer (the balancer's PID, port and statistics port; no
# statistics page for nginx: 0), and prints
#   deploy: ready: http://127.0.0.1:PORT/mcp
# Logs: DIR/mcp1.log .. DIR/mcp3.log, DIR/balancer.log.
#
# redis mode: redis-server (Debian `redis-server`) runs on a free loopback port with
# DIR/redis/redis.conf (its files in DIR/redis: no snapshots, append-only file synced
# on every write, so a restarted Redis has every session it acknowledged), in the
# foreground, stopped with the rest; DIR/redis/info holds "PID PORT". Each instance
# gets --redis redis://127.0.0.1:PORT, and --instance-lease-ms MS when the environment
# sets MCPSSE_INSTANCE_LEASE_MS=MS (how long after a crash the other instances answer
# the requests it had; everything_server's default 10000). To restart Redis by hand:
#   redis-server DIR/redis/redis.conf
# HAProxy's runtime API listens on DIR/haproxy.sock (mode 600). A rolling restart of
# the three instances, one after another, without failing a request (README.md,
# "Rolling restart"; needs socat):
#   kill -HUP <run.sh's pid>    each set to drain in HAProxy, SIGTERM, started again
#                               on its port, set ready once its /readyz answers 200
#   kill -USR1 <run.sh's pid>   SIGTERM and start only (HAProxy's checks and retries
#                               cover the gap), as a supervisor unaware of HAProxy
# It prints a line per instance and "deploy: rolling restart (HOW): done in N ms"
# (HOW: balancer or sigterm), and updates DIR/instances; an instance's log before its
# restart is kept as DIR/mcpN.log.1.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
usage() {
  sed -n '5,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

mode="${1:-}"
[[ "$mode" == stateless || "$mode" == sticky || "$mode" == nginx-sticky || "$mode" == redis ]] || usage
shift
server="${MCPSSE_SERVER:-}"
lb_port=8080
dir=""
while (($# > 0)); do
  case "$1" in
    --server) (($# >= 2)) || usage; server="$2"; shift 2 ;;
    --port) (($# >= 2)) || usage; lb_port="$2"; shift 2 ;;
    --dir) (($# >= 2)) || usage; dir="$2"; shift 2 ;;
    *) usage ;;
  esac
done
if [[ ! "$lb_port" =~ ^[0-9]+$ ]] || ((lb_port > 65535)); then usage; fi
if [[ -z "$server" ]]; then
  server="$here/../../build/bin/everything_server"
  [[ -x "$server" ]] || server="$(command -v everything_server || true)"
fi
if [[ -z "$server" || ! -x "$server" ]]; then
  echo "deploy: everything_server not found; pass --server PATH" >&2
  exit 2
fi
balancer_tool=haproxy
[[ "$mode" == nginx-sticky ]] && balancer_tool=nginx
if ! command -v "$balancer_tool" >/dev/null 2>&1; then
  echo "deploy: $balancer_tool not found (Debian: apt-get install $balancer_tool)" >&2
  exit 2
fi
if [[ "$mode" == redis ]] && ! command -v redis-server >/dev/null 2>&1; then
  echo "deploy: redis-server not found (Debian: apt-get install redis-server)" >&2
  exit 2
fi

own_dir=0
if [[ -z "$dir" ]]; then
  dir="$(mktemp -d)"
  own_dir=1
fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

pids=()
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  local pid i
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  pids=()
  ((own_dir)) && rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# listening PID PORT: waits up to 5 s for process PID to accept on PORT; true once it
# does; false if it ended or the time passed, and then PID is killed and reaped.
listening() {
  local i
  for ((i = 0; i < 100; i++)); do
    port_open "$2" && break
    kill -0 "$1" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$1" 2>/dev/null && port_open "$2" && return 0
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 1
}
free_port() {
  local p i
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    port_open "$p" || { echo "$p"; return 0; }
  done
  return 1
}

# The shared requestState key: 32 random bytes, hex (kept out of the command line).
umask 077
od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$dir/state-key"
echo >>"$dir/state-key"
umask 022

# The instances, each on a free port (read from its "listening on" line).
instance_flags=(--port 0 --state-key-file "$dir/state-key" --log-level warning)
[[ "$mode" == stateless ]] && instance_flags+=(--stateless)

# redis mode: the shared Redis first, on a free loopback port (retried if taken meanwhile).
if [[ "$mode" == redis ]]; then
  mkdir -p "$dir/redis"
  for attempt in 1 2 3; do
    redis_port="$(free_port)"
    cat >"$dir/redis/redis.conf" <<EOF_REDIS
bind 127.0.0.1
port $redis_port
dir $dir/redis
daemonize no
save ""
appendonly yes
appendfsync always
logfile ""
EOF_REDIS
    redis-server "$dir/redis/redis.conf" </dev/null >"$dir/redis.log" 2>&1 &
    redis_pid=$!
    if listening "$redis_pid" "$redis_port"; then
      pids+=("$redis_pid")
      break
    fi
    if ((attempt == 3)); then
      echo "deploy: redis-server did not start; its log:" >&2
      cat "$dir/redis.log" >&2
      exit 1
    fi
  done
  echo "$redis_pid $redis_port" >"$dir/redis/info"
  instance_flags+=(--redis "redis://127.0.0.1:$redis_port")
  if [[ -n "${MCPSSE_INSTANCE_LEASE_MS:-}" ]]; then
    if [[ ! "$MCPSSE_INSTANCE_LEASE_MS" =~ ^[0-9]+$ ]]; then
      echo "deploy: MCPSSE_INSTANCE_LEASE_MS must be a number of milliseconds" >&2
      exit 2
    fi
    instance_flags+=(--instance-lease-ms "$MCPSSE_INSTANCE_LEASE_MS")
  fi
  echo "deploy: redis-server (pid $redis_pid) on 127.0.0.1:$redis_port"
fi
: >"$dir/instances"
servers=()
for n in 1 2 3; do
  "$server" "${instance_flags[@]}" </dev/null >"$dir/mcp$n.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  port=""
  for ((i = 0; i < 200; i++)); do
    port="$(grep -m1 -oE 'listening on http://[^ /]+:[0-9]+/mcp' "$dir/mcp$n.log" | sed -E 's|.*:([0-9]+)/mcp|\1|')"
    [[ -n "$port" ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if [[ -z "$port" ]]; then
    echo "deploy: instance mcp$n did not start; its log:" >&2
    cat "$dir/mcp$n.log" >&2
    exit 1
  fi
  echo "mcp$n $port $pid" >>"$dir/instances"
  servers+=("127.0.0.1:$port")
done

# The balancer, on the requested port (or a free one; retried if taken meanwhile).
for attempt in 1 2 3; do
  port="$lb_port"
  ((port == 0)) && port="$(free_port)"
  stats_port=0
  if [[ "$balancer_tool" == haproxy ]]; then
    stats_port="$(free_port)"
    MCPSSE_LB_ADDR="127.0.0.1:$port" MCPSSE_STATS_ADDR="127.0.0.1:$stats_port" \
      MCPSSE_SERVER1="${servers[0]}" MCPSSE_SERVER2="${servers[1]}" MCPSSE_SERVER3="${servers[2]}" \
      MCPSSE_CHECK_MS="${MCPSSE_CHECK_MS:-1000}" MCPSSE_ADMIN_SOCKET="$dir/haproxy.sock" \
      haproxy -db -f "$here/haproxy-$mode.cfg" </dev/null >"$dir/balancer.log" 2>&1 &
  else
    mkdir -p "$dir/nginx/tmp"
    sed -e "s/@LB_ADDR@/127.0.0.1:$port/" -e "s/@SERVER1@/${servers[0]}/" -e "s/@SERVER2@/${servers[1]}/" \
      -e "s/@SERVER3@/${servers[2]}/" "$here/nginx-sticky.conf" >"$dir/nginx/nginx.conf"
    # shellcheck disable=SC2094  # nginx's error log and its standard error share the file
    nginx -p "$dir/nginx/" -c "$dir/nginx/nginx.conf" -e "$dir/balancer.log" </dev/null >>"$dir/balancer.log" 2>&1 &
  fi
  balancer_pid=$!
  if listening "$balancer_pid" "$port"; then
    pids+=("$balancer_pid")
    break
  fi
  if ((attempt == 3 || lb_port != 0)); then
    echo "deploy: $balancer_tool did not start on port $port; its log:" >&2
    cat "$dir/balancer.log" >&2
    exit 1
  fi
done
echo "$balancer_pid $port $stats_port" >"$dir/balancer"
echo "deploy: $mode: $balancer_tool (pid $balancer_pid) in front of ${servers[*]}; logs in $dir"
((stats_port)) && echo "deploy: HAProxy statistics: http://127.0.0.1:$stats_port/"
echo "deploy: ready: http://127.0.0.1:$port/mcp"

# ---- rolling restart (redis mode) ----------------------------------------------------
# The HAProxy runtime API on DIR/haproxy.sock (haproxy-redis.cfg's `stats socket`).
admin() { printf '%s\n' "$1" | socat -t 5 stdio "unix-connect:$dir/haproxy.sock"; }
# server_status NAME: server NAME's status in HAProxy's statistics (field 18 of `show
# stat`): UP, DOWN, DRAIN (set to drain and passing its checks), MAINT, "UP 1/2"
# (failed one check)...
server_status() { admin "show stat" | awk -F, -v s="$1" '$1 == "everything" && $2 == s { print $18 }'; }
# ready PORT: true when the instance's /readyz answers 200.
ready() {
  local status=""
  status="$( (exec 3<>"/dev/tcp/127.0.0.1/$1" &&
    printf 'GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3 &&
    read -r -t 2 line <&3 && echo "$line") 2>/dev/null)"
  [[ "$status" == "HTTP/1.1 200"* ]]
}
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
stamp() { date -u +%H:%M:%S.%3N; }
# restart_instance N HOW: restarts instance mcpN (1-3). HOW is `balancer` (the
# procedure for a restart behind HAProxy) or `sigterm` (steps 2-4 only, as a process
# supervisor that knows nothing of the balancer does; HAProxy's health checks and
# retries cover the gap, see haproxy-redis.cfg):
#   1. `set server everything/mcpN state drain`: HAProxy sends it no new request
#      (round-robin, no stickiness) and goes on checking it;
#   2. SIGTERM: the instance drains (/readyz 503, requests in flight are answered,
#      GET streams end with an SSE retry: field, so their clients reconnect through
#      HAProxy) and exits; waited for up to 35 s (its drain timeout is 30 s), then
#      SIGKILL;
#   3. starts it again on the same port with the same flags (the old log becomes
#      DIR/mcpN.log.1);
#   4. waits (up to 10 s) until its /readyz answers 200 (listening, Redis connected);
#   5. `set server everything/mcpN state ready`, and waits (up to 10 s) until HAProxy
#      shows it UP (its health check passes).
# Prints one line, "deploy: rolling restart: mcpN (pid P)[: drain in HAProxy],
# SIGTERM at TIME: exited with status S after T ms; pid Q UP on 127.0.0.1:PORT after
# T ms", and returns 0; or says which step failed and returns 1.
restart_instance() {
  local n="$1" how="$2" name="mcp$1" port old_pid new_pid i t0 t_exit status line flags
  read -r _ port old_pid < <(sed -n "${n}p" "$dir/instances")
  line="deploy: rolling restart: $name (pid $old_pid)"
  t0="$(now_ms)"
  if [[ "$how" == balancer ]]; then
    admin "set server everything/$name state drain" >/dev/null
    line+=": drain in HAProxy"
  fi
  line+=", SIGTERM at $(stamp)"
  kill -TERM "$old_pid" 2>/dev/null
  for ((i = 0; i < 700; i++)); do
    kill -0 "$old_pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$old_pid" 2>/dev/null; then
    kill -KILL "$old_pid" 2>/dev/null
    line+=": still running after 35 s, SIGKILL"
  fi
  wait "$old_pid" 2>/dev/null
  status=$?
  t_exit="$(now_ms)"
  line+=": exited with status $status after $((t_exit - t0)) ms"
  mv -f "$dir/$name.log" "$dir/$name.log.1"
  flags=("${instance_flags[@]}")
  flags[1]="$port" # instance_flags begins with --port 0
  "$server" "${flags[@]}" </dev/null >"$dir/$name.log" 2>&1 &
  new_pid=$!
  for i in "${!pids[@]}"; do
    [[ "${pids[$i]}" == "$old_pid" ]] && pids[i]="$new_pid"
  done
  sed -i "${n}s/.*/$name $port $new_pid/" "$dir/instances"
  for ((i = 0; i < 200; i++)); do
    ready "$port" && break
    kill -0 "$new_pid" 2>/dev/null || break
    sleep 0.05
  done
  if ! ready "$port"; then
    echo "$line; pid $new_pid not ready on 127.0.0.1:$port; its log: $(tr '\n' ' ' <"$dir/$name.log")"
    return 1
  fi
  [[ "$how" == balancer ]] && admin "set server everything/$name state ready" >/dev/null
  for ((i = 0; i < 200; i++)); do
    [[ "$(server_status "$name")" == UP ]] && break
    sleep 0.05
  done
  if [[ "$(server_status "$name")" != UP ]]; then
    echo "$line; pid $new_pid ready on 127.0.0.1:$port but not UP in HAProxy: $(server_status "$name")"
    return 1
  fi
  echo "$line; pid $new_pid UP on 127.0.0.1:$port after $(($(now_ms) - t_exit)) ms"
}
# rolling_restart HOW: restart_instance 1, 2 and 3 HOW, one after another; stops at
# the first that fails.
rolling_restart() {
  local how="$1" n t0
  t0="$(now_ms)"
  if ! command -v socat >/dev/null 2>&1; then
    echo "deploy: rolling restart: needs socat for HAProxy's runtime API (Debian: apt-get install socat)" >&2
    return 1
  fi
  echo "deploy: rolling restart ($how): begins"
  for n in 1 2 3; do
    if ! restart_instance "$n" "$how"; then
      echo "deploy: rolling restart ($how): stopped at mcp$n"
      return 1
    fi
  done
  echo "deploy: rolling restart ($how): done in $(($(now_ms) - t0)) ms"
}

# Until a signal, or until the balancer exits. In redis mode SIGHUP restarts the
# instances one after another through HAProxy's runtime API (rolling_restart
# balancer), SIGUSR1 with SIGTERM only (rolling_restart sigterm); the wait goes on.
restart_requested=""
if [[ "$mode" == redis ]]; then
  trap 'restart_requested=balancer' HUP
  trap 'restart_requested=sigterm' USR1
fi
while true; do
  wait "$balancer_pid"
  status=$?
  if [[ -n "$restart_requested" ]] && kill -0 "$balancer_pid" 2>/dev/null; then
    how="$restart_requested"
    restart_requested=""
    rolling_restart "$how"
    continue
  fi
  kill -0 "$balancer_pid" 2>/dev/null || break
done
echo "deploy: $balancer_tool exited with status $status" >&2
exit 1
