#!/usr/bin/env bash
# Scale-out benchmark (issue #20): everything_server instances sharing sessions and
# stream events through Redis behind HAProxy, against one instance, driven by
# mcpsse_loadgen on loopback.
#
#   benchmarks/scale_out.sh [options]
#
# What it measures (each a section of results.md):
#   1. tools/call, JSON responses, --connections connections each with a session of its
#      own, closed loop, in alternating rounds over four setups: one instance direct
#      (in-memory sessions), one instance direct with --redis, three --redis instances
#      behind HAProxy round-robin (examples/deploy/haproxy-redis.cfg) and the same three
#      instances behind HAProxy sticky by Mcp-Session-Id (haproxy-sticky.cfg): req/s,
#      p50/p99, CPU per request (instances + HAProxy + redis-server), and what Redis does
#      per tools/call (INFO commandstats deltas by command, redis-server CPU) between two
#      snapshots taken after the warm-up.
#   2. Replay after reconnect: events per second of a Last-Event-ID resumption replayed
#      by the same instance from memory (no Redis), by the same --redis instance, and by
#      another --redis instance (from Redis).
#   3. One notification to --sessions streams opened through HAProxy over three
#      instances (HAProxy maxconn and the descriptor limits raised for it). With --redis
#      the broadcast is triggered through HAProxy and crosses instances (RelayStore):
#      every stream must get every notification. In memory only the instance that runs
#      it can reach its own streams: that run records how many streams it reached and
#      how fast (per-instance fan-out).
#   4. Memory per session: RSS growth / sessions held, per instance, --redis against
#      in-memory (one instance direct, and three instances behind HAProxy sticky, from
#      the fan-out runs); target: within 10 %.
#
# Options:
#   --smoke                 ~1 s runs, tiny counts; results only in --out-dir (CI)
#   --build-dir DIR         build folder (default <repo>/build/bench-release)
#   --no-build              use what is in --build-dir (or --loadgen/--mcpsse-server)
#                           (without it, the Release build is configured and
#                           mcpsse_loadgen and everything_server are built)
#   --loadgen PATH          mcpsse_loadgen binary (default: found in the build folder)
#   --mcpsse-server PATH    everything_server binary built with hiredis (default: found in
#                           the build folder)
#   --mcpsse-args "ARGS"    extra arguments of every instance (default "": one thread)
#   --out-dir DIR           raw results and logs (default <build-dir>/scale-out-results)
#   --no-publish            a full run that writes to --out-dir only, not to
#                           benchmarks/scale_out/results.md and raw/
#   --runs N                whole runs of sections 1-4, one after another (default 3;
#                           smoke 1), each in <out-dir>/run-K; results.md gives the
#                           medians over all of them (a target counts only as the
#                           median of three full runs)
#   --rounds N              rounds of the tools/call and replay runs (default 3)
#   --duration S            measured seconds per tools/call run (default 10)
#   --warmup S              warm-up seconds per tools/call run (default 2)
#   --connections N         connections (and sessions) of the tools/call runs (default 32)
#   --sessions N            streams of the fan-out runs (default 10000)
#   --mem-sessions N        sessions of the one-instance memory runs (default 10000)
#   --fanout-rounds N       notifications timed per fan-out run (default 5)
#   --fanout-balancer B     sticky (default) or rr: the HAProxy config the fan-out
#                           streams are opened through
#   --per-instance-broadcast
#                           fan-out with --redis: trigger on mcp1 directly and count
#                           only the streams mcp1 holds, as the in-memory run does
#   --replay-events N       events of the replay runs (default 1000; the in-memory event
#                           store and RedisStore keep 1,024 events per stream by default)
#   --redis-aof             redis-server with appendonly yes, appendfsync always (as
#                           examples/deploy/run.sh redis); default: no persistence
#   --wait-idle S           before each run, wait while other processes use >= 25 % CPU,
#                           at most S seconds over the whole script (default 600; smoke 0)
#
# Needs haproxy, redis-server and an everything_server built with hiredis; without them
# it prints why and exits 77 (a skip for CTest). Writes <out-dir>/raw.jsonl (one
# annotated loadgen line per run), <out-dir>/results.md and, unless --smoke or
# --no-publish, benchmarks/scale_out/results.md and benchmarks/scale_out/raw/.
# Exits 1 if any run reported an error or a process failed to start.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# stop_pid PID NAME, wait_for_listening LOG PID SECONDS
# shellcheck source-path=SCRIPTDIR source=../tests/interop/script_lib.sh
source "$repo/tests/interop/script_lib.sh"

# Everything runs inside main(), parsed completely before it runs (editing this file
# during a run cannot derail it).
main() {

all_args=("$@")
smoke=0
runs=3
build_dir="$repo/build/bench-release"
do_build=1
loadgen=""
mcpsse_server=""
mcpsse_args=""
out_dir=""
publish=1
rounds=3
duration=10
warmup=2
connections=32
sessions=10000
mem_sessions=10000
fanout_rounds=5
fanout_balancer=sticky
per_instance=0
replay_events=1000
redis_aof=0
wait_idle_s=600

die() { echo "scale_out: $*" >&2; exit 2; }
log() { echo "scale_out: $*" >&2; }
skip() { echo "scale_out: SKIP: $*" >&2; exit 77; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --build-dir) build_dir="$2"; shift ;;
    --no-build) do_build=0 ;;
    --loadgen) loadgen="$2"; shift ;;
    --mcpsse-server) mcpsse_server="$2"; shift ;;
    --mcpsse-args) mcpsse_args="$2"; shift ;;
    --out-dir) out_dir="$2"; shift ;;
    --no-publish) publish=0 ;;
    --runs) runs="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --warmup) warmup="$2"; shift ;;
    --connections) connections="$2"; shift ;;
    --sessions) sessions="$2"; shift ;;
    --mem-sessions) mem_sessions="$2"; shift ;;
    --fanout-rounds) fanout_rounds="$2"; shift ;;
    --fanout-balancer) fanout_balancer="$2"; shift ;;
    --per-instance-broadcast) per_instance=1 ;;
    --replay-events) replay_events="$2"; shift ;;
    --redis-aof) redis_aof=1 ;;
    --wait-idle) wait_idle_s="$2"; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
[[ "$fanout_balancer" == sticky || "$fanout_balancer" == rr ]] || die "--fanout-balancer takes sticky or rr"
positive() { if [[ ! "$2" =~ ^[0-9]+$ ]] || (($2 == 0)); then die "$1 takes a whole number above 0"; fi; }
seconds() { [[ "$2" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "$1 takes a number of seconds"; }
positive --rounds "$rounds"
positive --runs "$runs"
positive --connections "$connections"
positive --sessions "$sessions"
positive --mem-sessions "$mem_sessions"
positive --fanout-rounds "$fanout_rounds"
positive --replay-events "$replay_events"
[[ "$wait_idle_s" =~ ^[0-9]+$ ]] || die "--wait-idle takes a whole number of seconds"
seconds --duration "$duration"
seconds --warmup "$warmup"

if ((smoke)); then
  rounds=1
  duration=1
  warmup=0.5
  connections=6
  sessions=60
  mem_sessions=60
  fanout_rounds=2
  replay_events=50
  wait_idle_s=0
  runs=1
fi
idle_budget="$wait_idle_s"

for tool in haproxy redis-server redis-cli python3 curl; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not found (Debian: apt-get install ${tool/python3/python3-minimal})"
done

mkdir -p "$build_dir"
build_dir="$(cd "$build_dir" && pwd)"
out_dir="${out_dir:-$build_dir/scale-out-results}"
mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"
rm -f "$out_dir"/haproxy-*.cfg "$out_dir"/snap-*.txt
raw="$out_dir/raw.jsonl"
: >"$raw"
logs="$out_dir/logs"
rm -rf "$logs"
mkdir -p "$logs"
failures=0

# ---------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------
if ((do_build)); then
  gen=()
  if [[ ! -f "$build_dir/CMakeCache.txt" ]] && command -v ninja >/dev/null 2>&1; then gen=(-G Ninja); fi
  log "configuring Release build in $build_dir"
  cmake -S "$repo" -B "$build_dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DMCPSSE_BUILD_BENCHMARKS=ON -DMCPSSE_BUILD_EXAMPLES=ON -DMCPSSE_BUILD_TESTS=OFF -DMCPSSE_WERROR=OFF \
    >"$logs/cmake-configure.log" 2>&1 || { cat "$logs/cmake-configure.log" >&2; exit 1; }
  log "building mcpsse_loadgen everything_server (-j2)"
  cmake --build "$build_dir" -j2 --target mcpsse_loadgen everything_server >"$logs/cmake-build.log" 2>&1 ||
    { tail -50 "$logs/cmake-build.log" >&2; exit 1; }
fi
find_bin() { find "$build_dir" -type f -name "$1" -perm -u+x -print -quit 2>/dev/null; }
[[ -n "$loadgen" ]] || loadgen="$(find_bin mcpsse_loadgen)"
[[ -x "$loadgen" ]] || die "mcpsse_loadgen not found (build it or pass --loadgen)"
[[ -n "$mcpsse_server" ]] || mcpsse_server="$(find_bin everything_server)"
[[ -n "$mcpsse_server" && -x "$mcpsse_server" ]] || die "everything_server not found (build it or pass --mcpsse-server)"
help_text="$("$loadgen" --help 2>&1 || true)"
[[ "$help_text" == *"--session-per-connection"* ]] || die "$loadgen is too old (no --session-per-connection): rebuild it"
help_text="$("$mcpsse_server" --help 2>&1 || true)"
[[ "$help_text" == *"--redis URL"* ]] || skip "everything_server has no --redis option"
# A build without hiredis refuses --redis at start (exit 2, before listening).
probe="$("$mcpsse_server" --port 0 --redis redis://127.0.0.1:1 --log-format none </dev/null 2>&1 & pid=$!
  sleep 0.3; kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true)" || true
[[ "$probe" != *"built without Redis"* ]] || skip "everything_server was built without hiredis (Debian: libhiredis-dev, then rebuild)"

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"  # cpu_busy, wait_idle, busy_runs

py() { python3 -B "$here/scale_out/summarize.py" "$@"; }

# report_and_publish: results.md from raw.jsonl (and, for a full run, the published copy).
report_and_publish() {
  local git_rev stamp
  git_rev="$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)"
  local -a meta=(--meta "smoke=$smoke" --meta "runs=$runs" --meta "rounds=$rounds" --meta "duration_s=$duration"
    --meta "warmup_s=$warmup" --meta "connections=$connections" --meta "sessions=$sessions"
    --meta "mem_sessions=$mem_sessions" --meta "fanout_balancer=$fanout_balancer"
    --meta "per_instance_broadcast=$per_instance" --meta "replay_events=$replay_events"
    --meta "mcpsse_args=${mcpsse_args:-(none)}" --meta "redis_aof=$redis_aof"
    --meta "busy_runs=$busy_runs" --meta "git=$git_rev" --meta "nproc=$(nproc)"
    --meta "redis=$(redis-server --version | grep -oE 'v=[^ ]+' | cut -d= -f2)"
    --meta "haproxy=$(haproxy -v | awk 'NR == 1 {print $3}')")
  py report --raw "$raw" --out "$out_dir/results.md" "${meta[@]}" >/dev/null
  log "results: $out_dir/results.md"
  if ((!smoke && publish)); then
    mkdir -p "$here/scale_out/raw"
    stamp="$(date -u +%Y%m%dT%H%M%SZ)-$git_rev"
    cp "$raw" "$here/scale_out/raw/$stamp.jsonl"
    cp "$out_dir/results.md" "$here/scale_out/results.md"
    log "published benchmarks/scale_out/results.md and raw/$stamp.jsonl"
  fi
}

# Several runs: this script again, once per run, in <out-dir>/run-K, then one report
# over all their lines.
if ((runs > 1)); then
  for ((k = 1; k <= runs; k++)); do
    log "run $k of $runs (log: $out_dir/run-$k.log)"
    bash "${BASH_SOURCE[0]}" "${all_args[@]}" --runs 1 --no-build --no-publish --loadgen "$loadgen" \
      --mcpsse-server "$mcpsse_server" --out-dir "$out_dir/run-$k" >"$out_dir/run-$k.log" 2>&1 ||
      failures=$((failures + 1))
    cat "$out_dir/run-$k/raw.jsonl" >>"$raw" 2>/dev/null || true
    busy_runs=$((busy_runs + $(grep -oE 'busy_runs=[0-9]+' "$out_dir/run-$k/results.md" | head -1 | cut -d= -f2 || echo 0)))
  done
  report_and_publish
  log "raw results: $raw"
  if ((failures > 0)); then
    log "$failures of $runs run(s) failed; see $out_dir/run-*.log"
    exit 1
  fi
  log "all $runs runs finished with zero errors"
  exit 0
fi

# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
pids=()
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Ports below the kernel's ephemeral range: after a run with thousands of connections
# its ports are still draining.
read -r eph_lo eph_hi </proc/sys/net/ipv4/ip_local_port_range || { eph_lo=32768; eph_hi=60999; }
if ((eph_lo > 12000)); then port_lo=10000; port_hi=$((eph_lo - 1)); else port_lo=$((eph_hi + 1)); port_hi=65000; fi
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((port_lo + (RANDOM * 32768 + RANDOM) % (port_hi - port_lo)))
    port_open "$p" || { echo "$p"; return 0; }
  done
  return 1
}
forget_pid() {
  local keep=() p
  for p in "${pids[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
  pids=("${keep[@]+"${keep[@]}"}")
}
stop() { stop_pid "$1" "${2:-process $1}" || true; forget_pid "$1"; }
cleanup() {
  local p
  for p in "${pids[@]+"${pids[@]}"}"; do stop_pid "$p" "process $p" || true; done
  pids=()
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# wait_port PID PORT NAME: up to 10 s for PID to accept on PORT.
wait_port() {
  local i
  for ((i = 0; i < 200; i++)); do
    port_open "$2" && return 0
    kill -0 "$1" 2>/dev/null || break
    sleep 0.05
  done
  log "$3 did not listen on $2; its log:"
  tail -20 "$logs/$3.log" >&2 || true
  return 1
}

# start_redis: a redis-server of this run on a free loopback port; sets redis_pid,
# redis_port, redis_addr.
start_redis() {
  local dir="$out_dir/redis"
  rm -rf "$dir"
  mkdir -p "$dir"
  for _ in 1 2 3; do
    redis_port="$(free_port)" || die "no free port"
    {
      echo "bind 127.0.0.1"
      echo "port $redis_port"
      echo "dir $dir"
      echo "daemonize no"
      echo "save \"\""
      echo "maxclients 10000"
      if ((redis_aof)); then echo "appendonly yes"; echo "appendfsync always"; else echo "appendonly no"; fi
      echo "logfile \"\""
    } >"$dir/redis.conf"
    redis-server "$dir/redis.conf" </dev/null >"$logs/redis.log" 2>&1 &
    redis_pid=$!
    pids+=("$redis_pid")
    if wait_port "$redis_pid" "$redis_port" redis; then
      redis_addr="127.0.0.1:$redis_port"
      return 0
    fi
    stop "$redis_pid" redis-server
  done
  return 1
}
redis_cmd() { redis-cli -h 127.0.0.1 -p "$redis_port" "$@" >/dev/null; }

# start_instance NAME [ARGS...]: an everything_server on a free port (--port 0);
# sets inst_port[NAME], inst_pid[NAME].
declare -A inst_port inst_pid
start_instance() {
  local name="$1" pid
  shift
  # shellcheck disable=SC2086
  "$mcpsse_server" --host 127.0.0.1 --port 0 --log-format none --state-key-file "$out_dir/state-key" \
    $mcpsse_args "$@" </dev/null >"$logs/$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  if ! wait_for_listening "$logs/$name.log" "$pid" 15; then
    log "$name: $listen_failure"
    printf '  %s\n' "${listen_log[@]}" >&2
    forget_pid "$pid"
    return 1
  fi
  inst_port[$name]="$listen_port"
  inst_pid[$name]="$pid"
}
stop_instance() {
  if [[ -n "${inst_pid[$1]:-}" ]]; then stop "${inst_pid[$1]}" "$1"; fi
  unset "inst_pid[$1]" "inst_port[$1]"
}

# start_haproxy NAME CFG MAXCONN I1 I2 I3: HAProxy with a copy of examples/deploy/CFG
# (its global maxconn set to MAXCONN; HAProxy raises its descriptor limit to about twice
# that, within the hard limit) in front of the instances; sets lb_port[NAME],
# lb_pid[NAME].
declare -A lb_port lb_pid
start_haproxy() {
  local name="$1" cfg="$repo/examples/deploy/$2" maxconn="$3" port pid
  shift 3
  local edit=(-e "s/^    maxconn [0-9]*$/    maxconn $maxconn/")
  sed "${edit[@]}" "$cfg" >"$out_dir/haproxy-$name.cfg"
  grep -q "^    maxconn $maxconn$" "$out_dir/haproxy-$name.cfg" || { log "$cfg: no global maxconn line to raise"; return 1; }
  cfg="$out_dir/haproxy-$name.cfg"
  for _ in 1 2 3; do
    port="$(free_port)" || die "no free port"
    MCPSSE_LB_ADDR="127.0.0.1:$port" MCPSSE_STATS_ADDR="127.0.0.1:$(free_port)" \
      MCPSSE_SERVER1="127.0.0.1:${inst_port[$1]}" MCPSSE_SERVER2="127.0.0.1:${inst_port[$2]}" \
      MCPSSE_SERVER3="127.0.0.1:${inst_port[$3]}" MCPSSE_CHECK_MS=1000 \
      haproxy -db -f "$cfg" </dev/null >"$logs/haproxy-$name.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    if wait_port "$pid" "$port" "haproxy-$name"; then
      lb_port[$name]="$port"
      lb_pid[$name]="$pid"
      return 0
    fi
    stop "$pid" "haproxy-$name"
  done
  return 1
}
stop_haproxy() {
  if [[ -n "${lb_pid[$1]:-}" ]]; then stop "${lb_pid[$1]}" "haproxy-$1"; fi
  unset "lb_pid[$1]" "lb_port[$1]"
}
# snapshot FILE NAME...: Redis INFO commandstats and cpu, and the named instances'
# counters from /metrics, into FILE (read by summarize.py; curl and redis-cli, fast
# enough to take inside a run's measured window).
snapshot() {
  local file="$1" n
  shift
  {
    echo "### redis"
    redis-cli -h 127.0.0.1 -p "$redis_port" INFO commandstats
    redis-cli -h 127.0.0.1 -p "$redis_port" INFO cpu
    for n in "$@"; do
      echo "### instance $n"
      curl -sS --max-time 10 "http://127.0.0.1:${inst_port[$n]}/metrics" |
        grep -E '^mcpsse_(tool_calls_total|sessions_open|sse_streams_open)' || true
    done
  } >"$file" 2>>"$logs/snapshot.log"
}

# lg LABEL INSTANCES PIDS EXTRA SUBCOMMAND ARGS... : one loadgen run. INSTANCES (names,
# space separated) are snapshotted after the warm-up (call) or before the run, and
# after it; PIDS ("name=pid,...") name the --server-pid list; EXTRA ("k=v;k=v") is
# added to the line. The annotated line goes to raw.jsonl.
lg() {
  local label="$1" names="$2" pidmap="$3" extra="$4"
  shift 4
  local line rc=0 before="$out_dir/snap-before.txt" after="$out_dir/snap-after.txt" lg_pid
  local -a inames sets=()
  read -r -a inames <<<"$names"
  rm -f "$before" "$after"
  wait_idle
  if [[ "$1" == call ]]; then
    "$loadgen" "$@" --label "$label" --quiet >"$out_dir/lg.out" 2>>"$logs/loadgen.log" &
    lg_pid=$!
    sleep "$warmup"
    sleep 0.2
    snapshot "$before" "${inames[@]}" || true
    wait "$lg_pid" || rc=$?
  else
    snapshot "$before" "${inames[@]}" || true
    "$loadgen" "$@" --label "$label" --quiet >"$out_dir/lg.out" 2>>"$logs/loadgen.log" || rc=$?
  fi
  snapshot "$after" "${inames[@]}" || true
  line="$(tail -n1 "$out_dir/lg.out")"
  if [[ -z "$line" ]]; then
    line="{\"label\":\"$label\",\"bench\":\"$1\",\"errors\":1,\"error_kinds\":{\"no result line (exit $rc)\":1}}"
  fi
  local kv
  IFS=';' read -r -a kvs <<<"$extra"
  for kv in "${kvs[@]+"${kvs[@]}"}"; do [[ -z "$kv" ]] || sets+=(--set "$kv"); done
  sets+=(--set "cpu_busy_before_pct=$LAST_BUSY")
  local args=(--line "$line" --pids "$pidmap" "${sets[@]}")
  [[ -f "$before" && -f "$after" ]] && args+=(--before "$before" --after "$after")
  [[ ! -f "$before" && -f "$after" ]] && args+=(--after "$after")
  line="$(py annotate "${args[@]}")" || line="$(tail -n1 "$out_dir/lg.out")"
  printf '%s\n' "$line" >>"$raw"
  if ((rc != 0)); then failures=$((failures + 1)); fi
}
pidlist() {  # NAME... -> "name=pid,..." of instances
  local out="" n
  for n in "$@"; do out+="${out:+,}$n=${inst_pid[$n]}"; done
  echo "$out"
}
pidvals() {  # "name=pid,..." -> "pid,pid,..."
  echo "$1" | tr ',' '\n' | cut -d= -f2 | paste -sd,
}

log "load average $(cut -d' ' -f1 /proc/loadavg); rounds $rounds x ${duration}s (+${warmup}s warm-up), $connections connections"
umask 077
od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$out_dir/state-key"
echo >>"$out_dir/state-key"
umask 022
start_redis || { log "redis-server did not start"; exit 1; }
log "redis-server $(redis-server --version | grep -oE 'v=[^ ]+') on $redis_addr (pid $redis_pid)"
redis_flag=(--redis "redis://$redis_addr")

# ---------------------------------------------------------------------------
# 1. tools/call: 1 direct, 1 direct --redis, 3 behind round-robin, 3 behind sticky
# ---------------------------------------------------------------------------
call_ok=1
start_instance direct || call_ok=0
start_instance direct-redis "${redis_flag[@]}" --redis-prefix "scale:direct:" || call_ok=0
for n in mcp1 mcp2 mcp3; do start_instance "$n" "${redis_flag[@]}" --redis-prefix "scale:three:" || call_ok=0; done
if ((call_ok)); then
  lb_maxconn=$((connections + 1000))
  start_haproxy rr haproxy-redis.cfg "$lb_maxconn" mcp1 mcp2 mcp3 || call_ok=0
  start_haproxy sticky haproxy-sticky.cfg "$lb_maxconn" mcp1 mcp2 mcp3 || call_ok=0
fi
# ---------------------------------------------------------------------------
# 2. Replay after reconnect: memory (same instance), Redis (same instance), Redis
#    (another instance). Run before the tools/call rounds: its notification tool
#    notifies every session of the instance, and those rounds leave sessions behind
# ---------------------------------------------------------------------------
if [[ -n "${inst_port[direct]:-}" && -n "${inst_port[mcp1]:-}" && -n "${inst_port[mcp2]:-}" ]]; then
  for ((r = 1; r <= rounds; r++)); do
    order=(memory redis-same redis-other)
    ((r % 2)) || order=(redis-other redis-same memory)
    for s in "${order[@]}"; do
      case "$s" in
        memory) lg "replay/memory/$r" "direct" "" "" replay --url "http://127.0.0.1:${inst_port[direct]}/mcp" \
          --events "$replay_events" ;;
        redis-same) lg "replay/redis-same/$r" "mcp1" "" "" replay --url "http://127.0.0.1:${inst_port[mcp1]}/mcp" \
          --events "$replay_events" ;;
        redis-other) lg "replay/redis-other/$r" "mcp1 mcp2" "" "" replay \
          --url "http://127.0.0.1:${inst_port[mcp1]}/mcp" --resume-url "http://127.0.0.1:${inst_port[mcp2]}/mcp" \
          --events "$replay_events" ;;
      esac
    done
  done
else
  failures=$((failures + 1))
fi
if ((call_ok)); then
  three="mcp1 mcp2 mcp3"
  for ((r = 1; r <= rounds; r++)); do
    order=(direct direct-redis rr sticky)
    ((r % 2)) || order=(sticky rr direct-redis direct)
    for s in "${order[@]}"; do
      case "$s" in
        direct | direct-redis)
          url="http://127.0.0.1:${inst_port[$s]}/mcp"
          names="$s"
          pm="$(pidlist "$s"),redis=$redis_pid" ;;
        *)
          url="http://127.0.0.1:${lb_port[$s]}/mcp"
          names="$three"
          # shellcheck disable=SC2086
          pm="$(pidlist $three),haproxy=${lb_pid[$s]},redis=$redis_pid" ;;
      esac
      lg "call/$s/$r" "$names" "$pm" "setup=$s" call --url "$url" --connections "$connections" \
        --duration "$duration" --warmup "$warmup" --mode json --session-per-connection --server-pid "$(pidvals "$pm")"
    done
  done
else
  failures=$((failures + 1))
fi

stop_haproxy rr
stop_haproxy sticky
for n in direct direct-redis mcp1 mcp2 mcp3; do stop_instance "$n"; done

# ---------------------------------------------------------------------------
# 3./4. Many sessions: memory per session on one instance direct (in-memory and
#       --redis), then one notification to --sessions streams over three instances
#       behind HAProxy (in-memory and --redis), fresh processes and an empty Redis each
# ---------------------------------------------------------------------------
for cfg in memory redis; do
  redis_cmd FLUSHALL || true
  args=()
  [[ "$cfg" == memory ]] || args=("${redis_flag[@]}")
  if start_instance "one-$cfg" "${args[@]}"; then
    sleep 0.5
    lg "sessions/$cfg/1" "one-$cfg" "$(pidlist "one-$cfg")" "setup=1 instance direct" sessions \
      --url "http://127.0.0.1:${inst_port[one-$cfg]}/mcp" --sessions "$mem_sessions" \
      --server-pid "${inst_pid[one-$cfg]}"
  else failures=$((failures + 1)); fi
  stop_instance "one-$cfg"
done

# Each stream is one client connection to HAProxy (maxconn counts those) and one from
# HAProxy to an instance: HAProxy asks for about 2 x maxconn descriptors and cannot
# get more than the hard limit (ulimit -Hn). When one HAProxy cannot hold every
# stream, the streams are spread over several HAProxy processes in front of the same
# instances (as a pair of load balancers would be), session i through the (i mod n)-th.
hard_fds="$(ulimit -Hn)"
fan_lbs=0
for n in 1 2 3 4; do
  fan_maxconn=$(((sessions + n - 1) / n + 100))
  if ((2 * fan_maxconn + 50 <= hard_fds)); then fan_lbs=$n; break; fi
done
fan_possible=1
if ((fan_lbs == 0)); then
  log "fan-out: $sessions streams need about $((2 * sessions + 250)) descriptors over HAProxy processes of"
  log "  at most $hard_fds each (the hard limit) even split over 4: raise it (limits.conf, systemd"
  log "  LimitNOFILE, docker --ulimit nofile=65536:65536) or lower --sessions; the fan-out runs are not made"
  fan_possible=0
  failures=$((failures + 1))
elif ((fan_lbs > 1)); then
  log "fan-out: one HAProxy would need about $((2 * (sessions + 100) + 50)) descriptors (hard limit $hard_fds):"
  log "  the streams go through $fan_lbs HAProxy processes of maxconn $fan_maxconn each"
fi
fan_cfg=haproxy-sticky.cfg
[[ "$fanout_balancer" == sticky ]] || fan_cfg=haproxy-redis.cfg
for cfg in memory redis; do
  ((fan_possible)) || break
  redis_cmd FLUSHALL || true
  args=()
  [[ "$cfg" == memory ]] || args=("${redis_flag[@]}")
  if [[ "$cfg" == memory && "$fanout_balancer" == rr ]]; then
    log "fan-out: the in-memory configuration needs sticky routing; skipped with --fanout-balancer rr"
    continue
  fi
  ok=1
  for n in mcp1 mcp2 mcp3; do start_instance "$n" "${args[@]}" || ok=0; done
  for ((k = 1; k <= fan_lbs; k++)); do
    ((ok)) && { start_haproxy "fan$k" "$fan_cfg" "$fan_maxconn" mcp1 mcp2 mcp3 || ok=0; }
  done
  if ((ok)); then
    fan_url="http://127.0.0.1:${lb_port[fan1]}/mcp"
    also=()
    for ((k = 2; k <= fan_lbs; k++)); do also+=(--also-url "http://127.0.0.1:${lb_port[fan$k]}/mcp"); done
    trigger=()
    if [[ "$cfg" == redis ]] && ((!per_instance)); then
      # The broadcast runs at whichever instance HAProxy sends the trigger to and crosses
      # instances through Redis: every stream must get every notification.
      measured="cross-instance broadcast: triggered through HAProxy, every stream must get each notification"
    elif [[ "$cfg" == redis ]]; then
      # Any instance serves the first session's tools/call (Redis); mcp1 runs the broadcast.
      trigger=(--trigger-url "http://127.0.0.1:${inst_port[mcp1]}/mcp" --settle 500)
      measured="per-instance fan-out: the broadcast runs on mcp1 only and counts the streams mcp1 holds (--per-instance-broadcast)"
    else
      # Without Redis only the first session's own instance knows it: through HAProxy.
      trigger=(--settle 500)
      measured="per-instance fan-out: in memory, the broadcast runs on the instance holding the first session (sticky) and reaches only the streams it holds"
    fi
    pm="$(pidlist mcp1 mcp2 mcp3)"
    lg "fanout/$cfg/1" "mcp1 mcp2 mcp3" "$pm" "balancer=$fanout_balancer;balancers=$fan_lbs;measured=$measured" fanout \
      --url "$fan_url" "${also[@]}" --sessions "$sessions" --rounds "$fanout_rounds" --server-pid "$(pidvals "$pm")" \
      "${trigger[@]}"
  else failures=$((failures + 1)); fi
  for ((k = 1; k <= fan_lbs; k++)); do stop_haproxy "fan$k"; done
  for n in mcp1 mcp2 mcp3; do stop_instance "$n"; done
done

# ---------------------------------------------------------------------------
# 5. Summary
# ---------------------------------------------------------------------------
report_and_publish
log "raw results: $raw"
if ((failures > 0)); then
  log "$failures run(s) reported errors or a process failed; see $logs"
  exit 1
fi
log "all runs finished with zero errors"
}

main "$@"
