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
# gets --redis redis://127.0.0.1:PORT. To restart Redis by hand:
#   redis-server DIR/redis/redis.conf
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
      MCPSSE_CHECK_MS="${MCPSSE_CHECK_MS:-1000}" \
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

# Until a signal, or until the balancer exits.
wait "$balancer_pid"
echo "deploy: $balancer_tool exited with status $?" >&2
exit 1
