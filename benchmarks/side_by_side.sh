#!/usr/bin/env bash
# Side-by-side benchmark: mcpsse's everything_server, the official TypeScript SDK
# server (ts_server/server.mjs on Node 22) and nginx (a fixed response from memory),
# driven by mcpsse_loadgen with the same load, in alternating rounds.
#
#   benchmarks/side_by_side.sh [options]
#
# Options:
#   --smoke                 ~2 s per run, tiny counts; results only in --out-dir (CI)
#   --build-dir DIR         build folder (default <repo>/build/bench-release)
#   --no-build              use what is in --build-dir (or --loadgen/--mcpsse-server)
#                           (without it, cmake/scripts/setup-debian.sh first installs
#                           missing Debian packages, nginx-light among them;
#                           MCPSSE_SKIP_SETUP=1 skips that)
#   --loadgen PATH          mcpsse_loadgen binary (default: found in the build folder)
#   --mcpsse-server PATH    everything_server binary (default: found in the build folder)
#   --baseline-server PATH  a second everything_server (e.g. built from the commit before
#                           a change) run with the same arguments in the same alternating
#                           rounds, and in the sessions and fan-out runs, as
#                           "mcpsse-base": a before/after comparison in one run. Its
#                           results stay in --out-dir (nothing is published)
#   --mcpsse-args "ARGS"    extra arguments for everything_server (default
#                           "--threads 2 --share-nothing": one io_context per core of the
#                           2-core reference machine; "" for one thread). Every row runs
#                           everything_server with its own defaults for what these do not
#                           set: metrics counted and served at /metrics, the access log at
#                           --log-format text --log-level info on stderr (into
#                           <out-dir>/logs/server-NAME.log); the operations row shows what
#                           that costs
#   --mcpsse-sse-args "A"   arguments that make everything_server answer POSTs with SSE
#                           (enables the mcpsse SSE-mode round; default: none)
#   --mcpsse-legacy-path P  path of everything_server's legacy SSE endpoint (default /sse;
#                           empty: no mcpsse legacy round)
#   --broadcast-tool NAME   tool whose call notifies every session's GET stream
#                           (default test_trigger_tool_change: tools/list_changed to all)
#   --emit-tool NAME        tool called --replay-events times while the GET stream is
#                           disconnected (default test_trigger_tool_change)
#   --replay-events N       events of the replay run (default 1000; mcpsse's in-memory event
#                           store keeps 1,024 events per session by default)
#   --out-dir DIR           raw results and logs (default <build-dir>/bench-results)
#   --no-publish            a full run that writes its results to --out-dir only, not to
#                           benchmarks/results.md and README.md (e.g. a partial run with
#                           --skip-* options)
#   --rounds N              rounds of each throughput/latency run (default 3)
#   --duration S            measured seconds per run (default 10)
#   --warmup S              warm-up seconds per run (default 2)
#   --connections N         connections of the throughput runs (default 32)
#   --latency-connections N connections of the latency runs (default 16)
#   --sessions N            sessions of the sessions/fanout runs (default 10000)
#   --server-cpus LIST      taskset CPU list for every server (default: all CPUs)
#   --loadgen-cpus LIST     taskset CPU list for the load generator (default: all CPUs)
#   --server-sched POLICY   scheduling policy of every server: batch (default; SCHED_BATCH
#                           through `chrt --batch 0`, so a server thread woken by the load
#                           generator does not preempt it) or other (SCHED_OTHER)
#   --nginx-workers N       nginx worker_processes (default 1)
#   --wait-idle S           before each run, wait while other processes use >= 25 % CPU,
#                           at most S seconds over the whole script (default 600; smoke 0)
#   --skip-ts, --skip-nginx, --skip-mcpsse   leave a server out
#   --skip-mcpsse-1t        leave out the extra one-thread everything_server of the
#                           throughput and latency rounds (shown for comparison)
#   --skip-tls              leave out the TLS row (tools/call over TLS, everything_server
#                           and nginx alternating, after the plain throughput rounds;
#                           same certificate, TLS version and cipher for both)
#   --tls-version V         TLS version of the TLS row (default 1.3)
#   --tls-cipher NAME       the one cipher the load generator offers in the TLS row
#                           (default TLS_AES_128_GCM_SHA256; a TLS 1.2 name with
#                           --tls-version 1.2, e.g. ECDHE-ECDSA-AES128-GCM-SHA256)
#   --require-tls           fail when the TLS row cannot run (a load generator or an
#                           everything_server built without TLS); otherwise it is skipped
#                           with a note (bench.smoke passes it when the build has
#                           mcpsse::tls)
#   --skip-auth             leave out the authorization row (tools/call with a JWT bearer
#                           token, verified once and then cached, and the per-client rate
#                           limiter on at a rate far above the load, against the same
#                           everything_server without them (--client-rate 0), alternating,
#                           after the TLS row)
#   --require-auth          fail when the authorization row cannot run (everything_server
#                           built without mcpsse::jwt); otherwise it is skipped with a note
#                           (bench.smoke passes it when the build has mcpsse::jwt)
#   --skip-ops              leave out the operations row (tools/call against everything_server
#                           with its defaults: metrics counted and served at /metrics, the
#                           access log at --log-format text --log-level info on stderr;
#                           against the same everything_server with --no-metrics
#                           --log-format none, alternating, --rounds rounds, after the
#                           authorization row)
#   --require-ops           fail when the operations row cannot run (an everything_server
#                           without --no-metrics or --log-format); otherwise it is skipped
#                           with a note (bench.smoke passes it)
#
# Writes <out-dir>/raw.jsonl (one loadgen result line per run), <out-dir>/results.md,
# and, unless --smoke, benchmarks/results.md and the table in benchmarks/README.md.
# Exits non-zero if any run reported an error or a server failed to start.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

# Everything runs inside main(), which bash parses completely before running it, so
# editing this file while a run is in progress cannot derail that run.
main() {

smoke=0
build_dir="$repo/build/bench-release"
do_build=1
loadgen=""
mcpsse_server=""
baseline_server=""
mcpsse_args="--threads 2 --share-nothing"
mcpsse_sse_args=""
mcpsse_legacy_path="/sse"
broadcast_tool="test_trigger_tool_change"
emit_tool="test_trigger_tool_change"
out_dir=""
rounds=3
duration=10
warmup=2
connections=32
latency_connections=16
sessions=10000
fanout_rounds=5
replay_events=1000
server_cpus=""
loadgen_cpus=""
server_sched="batch"
nginx_workers=1
skip_ts=0
skip_nginx=0
skip_mcpsse=0
skip_mcpsse_1t=0
skip_tls=0
skip_auth=0
skip_ops=0
publish=1
require_tls=0
require_auth=0
require_ops=0
tls_version="1.3"
tls_cipher="TLS_AES_128_GCM_SHA256"
wait_idle_s=600

die() { echo "side_by_side: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --build-dir) build_dir="$2"; shift ;;
    --no-build) do_build=0 ;;
    --loadgen) loadgen="$2"; shift ;;
    --mcpsse-server) mcpsse_server="$2"; shift ;;
    --baseline-server) baseline_server="$2"; shift ;;
    --mcpsse-args) mcpsse_args="$2"; shift ;;
    --mcpsse-sse-args) mcpsse_sse_args="$2"; shift ;;
    --mcpsse-legacy-path) mcpsse_legacy_path="$2"; shift ;;
    --broadcast-tool) broadcast_tool="$2"; shift ;;
    --emit-tool) emit_tool="$2"; shift ;;
    --replay-events) replay_events="$2"; shift ;;
    --wait-idle) wait_idle_s="$2"; shift ;;
    --out-dir) out_dir="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --warmup) warmup="$2"; shift ;;
    --connections) connections="$2"; shift ;;
    --latency-connections) latency_connections="$2"; shift ;;
    --sessions) sessions="$2"; shift ;;
    --server-cpus) server_cpus="$2"; shift ;;
    --loadgen-cpus) loadgen_cpus="$2"; shift ;;
    --server-sched) server_sched="$2"; shift ;;
    --nginx-workers) nginx_workers="$2"; shift ;;
    --skip-ts) skip_ts=1 ;;
    --skip-nginx) skip_nginx=1 ;;
    --skip-mcpsse) skip_mcpsse=1 ;;
    --skip-mcpsse-1t) skip_mcpsse_1t=1 ;;
    --skip-tls) skip_tls=1 ;;
    --skip-auth) skip_auth=1 ;;
    --require-auth) require_auth=1 ;;
    --skip-ops) skip_ops=1 ;;
    --require-ops) require_ops=1 ;;
    --no-publish) publish=0 ;;
    --require-tls) require_tls=1 ;;
    --tls-version) tls_version="$2"; shift ;;
    --tls-cipher) tls_cipher="$2"; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

[[ "$server_sched" == batch || "$server_sched" == other ]] || die "--server-sched takes batch or other"
[[ "$tls_version" == 1.2 || "$tls_version" == 1.3 ]] || die "--tls-version takes 1.2 or 1.3"
((!(skip_tls && require_tls))) || die "--skip-tls and --require-tls contradict each other"
((!(skip_auth && require_auth))) || die "--skip-auth and --require-auth contradict each other"
((!(skip_ops && require_ops))) || die "--skip-ops and --require-ops contradict each other"
[[ -z "$baseline_server" || -x "$baseline_server" ]] || die "--baseline-server: $baseline_server is not an executable"

if ((smoke)); then
  rounds=1
  duration=2
  warmup=0.5
  sessions=50
  fanout_rounds=2
  replay_events=100
  wait_idle_s=0
fi
idle_budget="$wait_idle_s"

mkdir -p "$build_dir"
build_dir="$(cd "$build_dir" && pwd)"
out_dir="${out_dir:-$build_dir/bench-results}"
mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"
raw="$out_dir/raw.jsonl"
: >"$raw"
logs="$out_dir/logs"
mkdir -p "$logs"
failures=0

log() { echo "side_by_side: $*" >&2; }

# ---------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------
if ((do_build)); then
  # A fresh Debian machine lacks the headers, Google Benchmark and nginx-light.
  if [[ "${MCPSSE_SKIP_SETUP:-0}" != 1 ]]; then
    bash "$repo/cmake/scripts/setup-debian.sh" </dev/null >"$logs/setup-debian.log" 2>&1 ||
      { cat "$logs/setup-debian.log" >&2; exit 1; }
  fi
  gen=()
  if [[ ! -f "$build_dir/CMakeCache.txt" ]] && command -v ninja >/dev/null 2>&1; then gen=(-G Ninja); fi
  log "configuring Release build in $build_dir"
  cmake -S "$repo" -B "$build_dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DMCPSSE_BUILD_BENCHMARKS=ON -DMCPSSE_BUILD_EXAMPLES=ON -DMCPSSE_BUILD_TESTS=OFF -DMCPSSE_WERROR=OFF \
    >"$logs/cmake-configure.log" 2>&1 || { cat "$logs/cmake-configure.log" >&2; exit 1; }
  targets=(mcpsse_loadgen)
  if cmake --build "$build_dir" --target help 2>/dev/null | grep -qw everything_server; then
    targets+=(everything_server)
  fi
  log "building ${targets[*]} (-j2)"
  cmake --build "$build_dir" -j2 --target "${targets[@]}" >"$logs/cmake-build.log" 2>&1 ||
    { tail -50 "$logs/cmake-build.log" >&2; exit 1; }
fi
find_bin() { find "$build_dir" -type f -name "$1" -perm -u+x 2>/dev/null | head -n1; }
[[ -n "$loadgen" ]] || loadgen="$(find_bin mcpsse_loadgen)"
[[ -x "$loadgen" ]] || die "mcpsse_loadgen not found (build it or pass --loadgen)"
if ((!skip_mcpsse)); then
  [[ -n "$mcpsse_server" ]] || mcpsse_server="$(find_bin everything_server)"
  if [[ -z "$mcpsse_server" || ! -x "$mcpsse_server" ]]; then
    log "everything_server not found: mcpsse runs are skipped"
    skip_mcpsse=1
  fi
fi

# ---------------------------------------------------------------------------
# The TypeScript SDK server (Node 22) and nginx
# ---------------------------------------------------------------------------
node=""
ts_dir="$build_dir/bench-ts"
if ((!skip_ts)); then
  mkdir -p "$ts_dir"
  node="$("$repo/tests/interop/node22.sh" "${MCPSSE_INTEROP_CACHE:-$ts_dir/cache}")"
  stamp="$ts_dir/node_modules/.mcpsse-bench-package.json"
  (
    exec 9>"$ts_dir/.install.lock"
    flock -w 280 9
    if ! cmp -s "$stamp" "$here/ts_server/package.json" 2>/dev/null ||
       [[ ! -f "$ts_dir/node_modules/@modelcontextprotocol/sdk/package.json" ]]; then
      log "installing the TypeScript SDK into $ts_dir"
      cp "$here/ts_server/package.json" "$ts_dir/package.json"
      (cd "$ts_dir" && PATH="$(dirname "$node"):$PATH" npm install --no-package-lock --no-audit --no-fund \
        --loglevel=error) >"$logs/npm-install.log" 2>&1 || { cat "$logs/npm-install.log" >&2; exit 1; }
      cp "$here/ts_server/package.json" "$stamp"
    fi
  )
  cp "$here/ts_server/server.mjs" "$ts_dir/server.mjs"
fi
nginx_bin="${NGINX:-/usr/sbin/nginx}"
if ((!skip_nginx)) && [[ ! -x "$nginx_bin" ]]; then
  nginx_bin="$(command -v nginx || true)"
  [[ -n "$nginx_bin" ]] || die "nginx not found (apt-get install nginx-light, or --skip-nginx)"
fi

# ---------------------------------------------------------------------------
# Process handling
# ---------------------------------------------------------------------------
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile="$(ulimit -n)"
server_pids=()
cpu_prefix() { if [[ -n "$1" ]]; then echo "taskset -c $1"; fi; }
srv_prefix="$(cpu_prefix "$server_cpus")"
# Every server runs under the same scheduling policy. With SCHED_BATCH a server thread
# that the load generator's request wakes waits for the end of the running thread's
# slice instead of preempting it: a server with more threads than idle cores (mcpsse
# share-nothing on 2 cores beside the load generator) then switches far less often.
case "$server_sched" in
  batch)
    if chrt --batch 0 true 2>/dev/null; then
      srv_prefix="chrt --batch 0 $srv_prefix"
    else
      log "chrt --batch 0 is not permitted here: servers run under SCHED_OTHER"
      server_sched="other"
    fi ;;
  *) ;;  # other (checked with the options)
esac
lg_prefix="$(cpu_prefix "$loadgen_cpus")"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Ports outside the kernel's ephemeral range: after a 10,000-connection run its ports
# are still draining, and a listener there could not bind.
read -r eph_lo eph_hi </proc/sys/net/ipv4/ip_local_port_range || { eph_lo=32768; eph_hi=60999; }
if ((eph_lo > 12000)); then port_lo=10000; port_hi=$((eph_lo - 1)); else port_lo=$((eph_hi + 1)); port_hi=65000; fi
pick_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((port_lo + (RANDOM * 32768 + RANDOM) % (port_hi - port_lo)))
    if ! port_open "$p"; then echo "$p"; return 0; fi
  done
  return 1
}

stop_pid() {
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${server_pids[@]}"; do stop_pid "$pid"; done
  server_pids=()
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# start_server NAME PORT CMD... : starts in the background, waits for the port;
# sets SERVER_PID.
start_server() {
  local name="$1" port="$2"
  shift 2
  # shellcheck disable=SC2086
  $srv_prefix "$@" >"$logs/server-$name.log" 2>&1 </dev/null &
  SERVER_PID=$!
  server_pids+=("$SERVER_PID")
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "$name exited before listening; log:"
      cat "$logs/server-$name.log" >&2
      return 1
    fi
    if port_open "$port"; then return 0; fi
    sleep 0.1
  done
  log "$name did not listen on $port within 30 s"
  return 1
}
stop_server() {
  stop_pid "$1"
  local keep=() pid
  for pid in "${server_pids[@]}"; do [[ "$pid" == "$1" ]] || keep+=("$pid"); done
  server_pids=("${keep[@]+"${keep[@]}"}")
}

# Starts server $1 (mcpsse | mcpsse-1t | mcpsse-base | mcpsse-sse | mcpsse-tls | mcpsse-auth |
# mcpsse-noauth | mcpsse-ops | mcpsse-noops | ts | ts-sse | ts-stateless | nginx | nginx-tls)
# on a fresh port;
# sets PORT and SERVER_PID. Tries three ports (one may be taken meanwhile).
launch() {
  local attempt
  for attempt in 1 2 3; do
    if launch_once "$1"; then return 0; fi
    log "$1: start attempt $attempt failed"
  done
  return 1
}
launch_once() {
  local which="$1"
  PORT="$(pick_port)" || die "no free port"
  case "$which" in
    mcpsse)
      # shellcheck disable=SC2086
      start_server "$which" "$PORT" "$mcpsse_server" --host 127.0.0.1 --port "$PORT" $mcpsse_args ;;
    mcpsse-1t)
      start_server "$which" "$PORT" "$mcpsse_server" --host 127.0.0.1 --port "$PORT" ;;
    mcpsse-base)
      # shellcheck disable=SC2086
      start_server "$which" "$PORT" "$baseline_server" --host 127.0.0.1 --port "$PORT" $mcpsse_args ;;
    mcpsse-sse)
      # shellcheck disable=SC2086
      start_server "$which" "$PORT" "$mcpsse_server" --host 127.0.0.1 --port "$PORT" $mcpsse_args $mcpsse_sse_args ;;
    ts) start_server "$which" "$PORT" "$node" "$ts_dir/server.mjs" --host 127.0.0.1 --port "$PORT" ;;
    ts-sse) start_server "$which" "$PORT" "$node" "$ts_dir/server.mjs" --host 127.0.0.1 --port "$PORT" --sse ;;
    ts-stateless) start_server "$which" "$PORT" "$node" "$ts_dir/server.mjs" --host 127.0.0.1 --port "$PORT" --stateless ;;
    mcpsse-tls)
      # shellcheck disable=SC2086
      start_server "$which" "$PORT" "$mcpsse_server" --host 127.0.0.1 --port "$PORT" $mcpsse_args \
        --tls-cert "$tls_dir/server.pem" --tls-key "$tls_dir/server.key" ;;
    mcpsse-auth)
      # shellcheck disable=SC2086
      start_server "$which" "$PORT" "$mcpsse_server" --host 127.0.0.1 --port "$PORT" $mcpsse_args \
        "${auth_server_args[@]}" ;;
    mcpsse-noauth)
      # shellcheck disable=SC2086
      start_server "$which" "$PORT" "$mcpsse_server" --host 127.0.0.1 --port "$PORT" $mcpsse_args \
        "${noauth_server_args[@]}" ;;
    mcpsse-ops)
      # shellcheck disable=SC2086
      start_server "$which" "$PORT" "$mcpsse_server" --host 127.0.0.1 --port "$PORT" $mcpsse_args \
        "${ops_server_args[@]}" ;;
    mcpsse-noops)
      # shellcheck disable=SC2086
      start_server "$which" "$PORT" "$mcpsse_server" --host 127.0.0.1 --port "$PORT" $mcpsse_args \
        "${noops_server_args[@]}" ;;
    nginx | nginx-tls)
      local prefix="$build_dir/bench-$which" listen_tls="" tls=""
      if [[ "$which" == nginx-tls ]]; then
        listen_tls=" ssl"
        tls="ssl_certificate $tls_dir/server.pem; ssl_certificate_key $tls_dir/server.key; ssl_protocols TLSv1.2 TLSv1.3;"
      fi
      mkdir -p "$prefix/tmp"
      sed -e "s|@PREFIX@|$prefix|g" -e "s|@PORT@|$PORT|g" -e "s|@WORKERS@|$nginx_workers|g" \
          -e "s|@NOFILE@|$nofile|g" -e "s|@CONNECTIONS@|$((nofile / 2))|g" \
          -e "s|@LISTEN_TLS@|$listen_tls|g" -e "s|@TLS@|$tls|g" \
          "$here/nginx/nginx.conf.in" >"$prefix/nginx.conf"
      start_server "$which" "$PORT" "$nginx_bin" -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" ;;
    *) die "unknown server $which" ;;
  esac
}

# lg LABEL SUBCOMMAND ARGS... : one loadgen run; its result line goes to raw.jsonl.
lg() {
  local label="$1"
  shift
  local line rc=0
  wait_idle
  # shellcheck disable=SC2086
  line="$($lg_prefix "$loadgen" "$@" --label "$label" --quiet 2>>"$logs/loadgen.log")" || rc=$?
  line="$(printf '%s\n' "$line" | tail -n1)"
  if [[ -z "$line" ]]; then
    line="{\"label\":\"$label\",\"bench\":\"$1\",\"errors\":1,\"error_kinds\":{\"no result line (exit $rc)\":1}}"
  fi
  line="$(printf '%s' "$line" | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["cpu_busy_before_pct"]=int(sys.argv[1]); print(json.dumps(r))' "$LAST_BUSY" 2>/dev/null || printf '%s' "$line")"
  printf '%s\n' "$line" >>"$raw"
  python3 "$here/summarize.py" --one "$line" >&2 || true
  if ((rc != 0)); then failures=$((failures + 1)); fi
}

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"  # cpu_busy, wait_idle (waits until other work uses < 25 % of the CPUs)

load_note() {
  local load
  load="$(cut -d' ' -f1 /proc/loadavg)"
  log "load average $load"
  if python3 -c "import sys; sys.exit(0 if float('$load') > 1.5 else 1)"; then
    log "warning: the machine is busy (load $load); numbers will be noisy"
  fi
}

servers=()
((skip_mcpsse)) || servers+=(mcpsse)
[[ -z "$baseline_server" ]] || servers+=(mcpsse-base)
((skip_mcpsse || skip_mcpsse_1t)) || [[ -z "$mcpsse_args" ]] || servers+=(mcpsse-1t)
((skip_ts)) || servers+=(ts)
((skip_nginx)) || servers+=(nginx)
[[ ${#servers[@]} -gt 0 ]] || die "no server to run"
log "servers: ${servers[*]}; rounds $rounds x ${duration}s (+${warmup}s warm-up)"
load_note

# ---------------------------------------------------------------------------
# 1. Throughput (32 connections) and latency (16 connections), alternating servers
# ---------------------------------------------------------------------------
declare -A port_of pid_of
for s in "${servers[@]}"; do
  launch "$s" || { failures=$((failures + 1)); continue; }
  port_of[$s]="$PORT"
  pid_of[$s]="$SERVER_PID"
done

call_args() {  # server connections -> loadgen arguments
  local s="$1" c="$2"
  local url="http://127.0.0.1:${port_of[$s]}/mcp"
  local common=(--url "$url" --connections "$c" --duration "$duration" --warmup "$warmup")
  common+=(--server-pid "${pid_of[$s]}")
  case "$s" in
    nginx) echo "call ${common[*]} --raw-post" ;;
    *) echo "call ${common[*]} --mode json" ;;
  esac
}
for phase in throughput latency; do
  conns=$connections
  [[ "$phase" == latency ]] && conns=$latency_connections
  for ((r = 1; r <= rounds; r++)); do
    for s in "${servers[@]}"; do
      [[ -n "${port_of[$s]:-}" ]] || continue
      # shellcheck disable=SC2046
      lg "$s/$phase/$r" $(call_args "$s" "$conns")
    done
  done
done
if [[ -n "${port_of[nginx]:-}" ]]; then
  for ((r = 1; r <= rounds; r++)); do
    lg "nginx-get/throughput/$r" call --url "http://127.0.0.1:${port_of[nginx]}/mcp" --connections "$connections" \
      --duration "$duration" --warmup "$warmup" --raw-get --server-pid "${pid_of[nginx]}"
  done
fi
for s in "${servers[@]}"; do
  if [[ -n "${pid_of[$s]:-}" ]]; then stop_server "${pid_of[$s]}"; fi
done

# ---------------------------------------------------------------------------
# 1b. TLS: tools/call over TLS (keep-alive: one handshake per connection, in the
#     warm-up), everything_server and nginx alternating; same certificate, TLS
#     version and the one cipher the load generator offers
# ---------------------------------------------------------------------------
tls_servers=()
tls_dir="$build_dir/bench-tls"
if ((!skip_tls)); then
  tls_missing=""
  # (Help texts read whole: grep -q in a pipeline could end the writer with SIGPIPE.)
  help_text="$("$loadgen" --help 2>&1 || true)"
  if [[ "$help_text" != *"--tls CA_FILE"* ]]; then
    tls_missing="mcpsse_loadgen was built without TLS (OpenSSL not found when configured)"
  else
    if ((!skip_mcpsse)); then
      help_text="$("$mcpsse_server" --help 2>&1 || true)"
      if [[ "$help_text" == *"--tls-cert"* ]]; then
        tls_servers+=(mcpsse-tls)
      else
        tls_missing="everything_server has no --tls-cert (built without mcpsse::tls?)"
      fi
    fi
    ((skip_nginx)) || tls_servers+=(nginx-tls)
  fi
  if [[ -n "$tls_missing" ]]; then
    if ((require_tls)); then
      log "TLS row: $tls_missing"
      failures=$((failures + 1))
    else
      log "TLS row skipped: $tls_missing"
    fi
  fi
  if ((${#tls_servers[@]} > 0)); then
    if ! bash "$repo/tests/interop/make_certs.sh" "$tls_dir" >"$logs/make_certs.log" 2>&1; then
      cat "$logs/make_certs.log" >&2
      log "TLS row: could not make the certificates"
      failures=$((failures + 1))
      tls_servers=()
    fi
  fi
fi
declare -A tls_port_of tls_pid_of
for s in "${tls_servers[@]}"; do
  launch "$s" || { failures=$((failures + 1)); continue; }
  tls_port_of[$s]="$PORT"
  tls_pid_of[$s]="$SERVER_PID"
done
for ((r = 1; r <= rounds && ${#tls_servers[@]} > 0; r++)); do
  for s in "${tls_servers[@]}"; do
    [[ -n "${tls_port_of[$s]:-}" ]] || continue
    variant="--mode json"
    [[ "$s" != nginx-tls ]] || variant="--raw-post"
    # shellcheck disable=SC2086
    lg "${s%-tls}/tls/$r" call --url "https://127.0.0.1:${tls_port_of[$s]}/mcp" --tls "$tls_dir/ca.pem" \
      --tls-version "$tls_version" --tls-cipher "$tls_cipher" --connections "$connections" \
      --duration "$duration" --warmup "$warmup" --server-pid "${tls_pid_of[$s]}" $variant
  done
done
for s in "${tls_servers[@]}"; do
  if [[ -n "${tls_pid_of[$s]:-}" ]]; then stop_server "${tls_pid_of[$s]}"; fi
done

# ---------------------------------------------------------------------------
# 1c. Authorization and per-client limits: tools/call with a JWT access token (RS256,
#     verified once, then found in the transport's verdict cache) and the per-client
#     rate limiter on at a rate far above the load (its bookkeeping runs on every
#     request, nothing is refused), against the same everything_server with neither
#     (--client-rate 0), alternating rounds (the order swaps every round)
# ---------------------------------------------------------------------------
auth_dir="$build_dir/bench-auth"
auth_issuer="https://issuer.mcpsse-bench.example"
auth_resource="https://mcpsse-bench.example/mcp"
auth_scope="mcp:tools"
auth_limits=(--client-rate 10000000 --client-burst 10000000)
auth_server_args=(--resource "$auth_resource" --auth-issuer "$auth_issuer" --auth-jwks "$auth_dir/jwks.json"
  --auth-scope "$auth_scope" "${auth_limits[@]}")
noauth_server_args=(--client-rate 0)
auth_token=""
auth_servers=()
# make_auth_token: an RSA 2048 key, its JWKS and one RS256 access token (RFC 9068:
# typ at+jwt, kid; iss, aud, sub, client_id, scope, iat, exp in 6 h) in $auth_dir.
make_auth_token() {
  rm -rf "$auth_dir"
  mkdir -p "$auth_dir"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$auth_dir/key.pem" || return 1
  python3 - "$auth_dir" "$auth_issuer" "$auth_resource" "$auth_scope" <<'PY'
import base64, json, re, subprocess, sys, time
d, iss, aud, scope = sys.argv[1:5]
def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout
key = f"{d}/key.pem"
modulus = openssl("rsa", "-in", key, "-noout", "-modulus").decode().strip().split("=", 1)[1]
exponent = int(re.search(r"publicExponent: (\d+)", openssl("rsa", "-in", key, "-noout", "-text").decode()).group(1))
n = bytes.fromhex(modulus).lstrip(b"\0")
e = exponent.to_bytes((exponent.bit_length() + 7) // 8, "big")
kid = "bench-" + b64(openssl("dgst", "-sha256", "-binary", data=n))[:16]
with open(f"{d}/jwks.json", "w") as f:
    json.dump({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": b64(n), "e": b64(e)}]}, f)
now = int(time.time())
header = {"alg": "RS256", "typ": "at+jwt", "kid": kid}
claims = {"iss": iss, "aud": aud, "sub": "mcpsse-bench-client", "client_id": "mcpsse_loadgen", "scope": scope,
          "iat": now, "exp": now + 6 * 3600}
signing_input = (b64(json.dumps(header, separators=(",", ":")).encode()) + "." +
                 b64(json.dumps(claims, separators=(",", ":")).encode()))
signature = openssl("dgst", "-sha256", "-sign", key, "-binary", data=signing_input.encode())
with open(f"{d}/token", "w") as f:
    f.write(signing_input + "." + b64(signature))
PY
}
# auth_check PORT: initialize with the token must answer 200, without it 401.
auth_check() {
  local url="http://127.0.0.1:$1/mcp" code init
  init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"side_by_side","version":"0"}}}'
  code="$(curl -s -o "$logs/auth-check.out" -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H "Authorization: Bearer $auth_token" --data "$init" "$url")" || true
  if [[ "$code" != 200 ]]; then
    log "authorization row: initialize with the token answered HTTP $code (expected 200):"
    cat "$logs/auth-check.out" >&2 || true
    return 1
  fi
  code="$(curl -s -o "$logs/auth-check.out" -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' --data "$init" "$url")" || true
  if [[ "$code" != 401 ]]; then
    log "authorization row: initialize without a token answered HTTP $code (expected 401)"
    return 1
  fi
}
if ((!skip_auth && !skip_mcpsse)); then
  auth_missing=""
  help_text="$("$mcpsse_server" --help 2>&1 || true)"
  if [[ "$help_text" != *"--auth-jwks"* || "$help_text" != *"--client-rate"* ]]; then
    auth_missing="everything_server has no --auth-jwks or --client-rate"
  elif ! command -v openssl >/dev/null || ! command -v curl >/dev/null; then
    auth_missing="the openssl and curl commands are needed"
  fi
  if [[ -n "$auth_missing" ]]; then
    if ((require_auth)); then
      log "authorization row: $auth_missing"
      failures=$((failures + 1))
    else
      log "authorization row skipped: $auth_missing"
    fi
  elif ! make_auth_token >"$logs/make_auth_token.log" 2>&1; then
    cat "$logs/make_auth_token.log" >&2
    log "authorization row: could not make the key and token"
    failures=$((failures + 1))
  else
    auth_token="$(cat "$auth_dir/token")"
    auth_servers=(mcpsse-noauth mcpsse-auth)
  fi
fi
declare -A auth_port_of auth_pid_of
for s in "${auth_servers[@]}"; do
  if ! launch "$s"; then
    # An everything_server without mcpsse::jwt refuses --auth-jwks when it starts.
    if ((!require_auth)) && grep -q "built without JWT" "$logs/server-$s.log" 2>/dev/null; then
      log "authorization row skipped: everything_server was built without mcpsse::jwt"
    else
      failures=$((failures + 1))
    fi
    continue
  fi
  if [[ "$s" == mcpsse-auth ]] && ! auth_check "$PORT"; then
    failures=$((failures + 1))
    stop_server "$SERVER_PID"
    continue
  fi
  auth_port_of[$s]="$PORT"
  auth_pid_of[$s]="$SERVER_PID"
done
if [[ -n "${auth_port_of[mcpsse-auth]:-}" && -n "${auth_port_of[mcpsse-noauth]:-}" ]]; then
  for ((r = 1; r <= rounds; r++)); do
    order=(mcpsse-noauth mcpsse-auth)
    ((r % 2)) || order=(mcpsse-auth mcpsse-noauth)
    for s in "${order[@]}"; do
      extra=()
      phase=noauth
      if [[ "$s" == mcpsse-auth ]]; then
        extra=(--header "Authorization: Bearer $auth_token")
        phase=auth
      fi
      lg "mcpsse/$phase/$r" call --url "http://127.0.0.1:${auth_port_of[$s]}/mcp" --connections "$connections" \
        --duration "$duration" --warmup "$warmup" --server-pid "${auth_pid_of[$s]}" --mode json "${extra[@]}"
    done
  done
fi
for s in "${auth_servers[@]}"; do
  if [[ -n "${auth_pid_of[$s]:-}" ]]; then stop_server "${auth_pid_of[$s]}"; fi
done

# ---------------------------------------------------------------------------
# 1d. Operations: tools/call against everything_server with its defaults (metrics
#     counted and served at /metrics, the access log at --log-format text --log-level
#     info on stderr, which start_server sends to $logs/server-mcpsse-ops.log), against
#     the same everything_server observing nothing (--no-metrics --log-format none),
#     alternating rounds (the order swaps every round), the load of the authorization row
# ---------------------------------------------------------------------------
# The defaults, spelled out so that the row keeps measuring them if they change.
ops_server_args=(--log-format text --log-level info)
noops_server_args=(--no-metrics --log-format none)
ops_servers=()
# ops_check PORT EXPECTED: GET /metrics must answer EXPECTED (200 with metrics, 404 without).
ops_check() {
  local code
  code="$(curl -s -o "$logs/ops-check.out" -w '%{http_code}' "http://127.0.0.1:$1/metrics")" || true
  if [[ "$code" != "$2" ]]; then
    log "operations row: GET /metrics answered HTTP $code (expected $2)"
    return 1
  fi
}
if ((!skip_ops && !skip_mcpsse)); then
  ops_missing=""
  help_text="$("$mcpsse_server" --help 2>&1 || true)"
  if [[ "$help_text" != *"--no-metrics"* || "$help_text" != *"--log-format"* ]]; then
    ops_missing="everything_server has no --no-metrics or --log-format"
  elif ! command -v curl >/dev/null; then
    ops_missing="the curl command is needed"
  fi
  if [[ -n "$ops_missing" ]]; then
    if ((require_ops)); then
      log "operations row: $ops_missing"
      failures=$((failures + 1))
    else
      log "operations row skipped: $ops_missing"
    fi
  else
    ops_servers=(mcpsse-noops mcpsse-ops)
  fi
elif ((require_ops)); then
  log "operations row: cannot run with --skip-mcpsse or without everything_server"
  failures=$((failures + 1))
fi
declare -A ops_port_of ops_pid_of
for s in "${ops_servers[@]}"; do
  launch "$s" || { failures=$((failures + 1)); continue; }
  expected=200
  [[ "$s" == mcpsse-ops ]] || expected=404
  if ! ops_check "$PORT" "$expected"; then
    failures=$((failures + 1))
    stop_server "$SERVER_PID"
    continue
  fi
  ops_port_of[$s]="$PORT"
  ops_pid_of[$s]="$SERVER_PID"
done
ops_ran=0
if [[ -n "${ops_port_of[mcpsse-ops]:-}" && -n "${ops_port_of[mcpsse-noops]:-}" ]]; then
  ops_ran=1
  for ((r = 1; r <= rounds; r++)); do
    order=(mcpsse-noops mcpsse-ops)
    ((r % 2)) || order=(mcpsse-ops mcpsse-noops)
    for s in "${order[@]}"; do
      lg "mcpsse/${s#mcpsse-}/$r" call --url "http://127.0.0.1:${ops_port_of[$s]}/mcp" --connections "$connections" \
        --duration "$duration" --warmup "$warmup" --server-pid "${ops_pid_of[$s]}" --mode json
    done
  done
elif ((${#ops_servers[@]} > 0 && require_ops)); then
  log "operations row: a server failed to start or to pass its check; the row did not run"
fi
for s in "${ops_servers[@]}"; do
  if [[ -n "${ops_pid_of[$s]:-}" ]]; then stop_server "${ops_pid_of[$s]}"; fi
done
# The access log was on in one server and off in the other: its session events must be
# in the first server's log only (at info, requests are debug events and not written).
if ((ops_ran)); then
  if ! grep -q 'event=session_opened' "$logs/server-mcpsse-ops.log"; then
    log "operations row: no access log line in $logs/server-mcpsse-ops.log"
    failures=$((failures + 1))
  fi
  if grep -q 'event=' "$logs/server-mcpsse-noops.log"; then
    log "operations row: access log lines in $logs/server-mcpsse-noops.log (--log-format none)"
    failures=$((failures + 1))
  fi
fi

# ---------------------------------------------------------------------------
# 2. Other response modes and transports (one round each)
# ---------------------------------------------------------------------------
if ((!skip_ts)); then
  if launch ts-sse; then
    lg "ts/sse/1" call --url "http://127.0.0.1:$PORT/mcp" --connections "$connections" --duration "$duration" \
      --warmup "$warmup" --mode sse
    stop_server "$SERVER_PID"
  else failures=$((failures + 1)); fi
  if launch ts-stateless; then
    lg "ts/stateless/1" call --url "http://127.0.0.1:$PORT/mcp" --connections "$connections" --duration "$duration" \
      --warmup "$warmup" --stateless
    stop_server "$SERVER_PID"
  else failures=$((failures + 1)); fi
  if launch ts; then
    lg "ts/legacy/1" legacy --url "http://127.0.0.1:$PORT/sse" --connections "$connections" --duration "$duration" \
      --warmup "$warmup"
    stop_server "$SERVER_PID"
  else failures=$((failures + 1)); fi
fi
if ((!skip_mcpsse)); then
  if [[ -n "$mcpsse_sse_args" ]]; then
    if launch mcpsse-sse; then
      lg "mcpsse/sse/1" call --url "http://127.0.0.1:$PORT/mcp" --connections "$connections" --duration "$duration" \
        --warmup "$warmup" --mode sse
      stop_server "$SERVER_PID"
    else failures=$((failures + 1)); fi
  fi
  if [[ -n "$mcpsse_legacy_path" ]]; then
    if launch mcpsse; then
      lg "mcpsse/legacy/1" legacy --url "http://127.0.0.1:$PORT$mcpsse_legacy_path" --connections "$connections" \
        --duration "$duration" --warmup "$warmup"
      stop_server "$SERVER_PID"
    else failures=$((failures + 1)); fi
  fi
fi

# ---------------------------------------------------------------------------
# 3. Many sessions: memory per open stream, fan-out, replay (fresh server each)
# ---------------------------------------------------------------------------
stream_servers=()
((skip_mcpsse)) || stream_servers+=(mcpsse)
[[ -z "$baseline_server" ]] || stream_servers+=(mcpsse-base)
((skip_ts)) || stream_servers+=(ts)
for s in "${stream_servers[@]}"; do
  if launch "$s"; then
    sleep 0.5
    lg "$s/sessions/1" sessions --url "http://127.0.0.1:$PORT/mcp" --sessions "$sessions" --server-pid "$SERVER_PID"
    stop_server "$SERVER_PID"
  else failures=$((failures + 1)); fi
  if launch "$s"; then
    lg "$s/fanout/1" fanout --url "http://127.0.0.1:$PORT/mcp" --sessions "$sessions" --rounds "$fanout_rounds" \
      --trigger-tool "$broadcast_tool" --server-pid "$SERVER_PID"
    stop_server "$SERVER_PID"
  else failures=$((failures + 1)); fi
  [[ "$s" != mcpsse-base ]] || continue
  if launch "$s"; then
    lg "$s/replay/1" replay --url "http://127.0.0.1:$PORT/mcp" --events "$replay_events" --emit-tool "$emit_tool"
    stop_server "$SERVER_PID"
  else failures=$((failures + 1)); fi
done

# The operations row's paragraph (summarize.py knows nothing of it): every round's
# throughput, the medians of throughput, p99 and server CPU per request, and the ratios.
ops_summary() {
  python3 - "$raw" "$mcpsse_args" "${ops_server_args[*]}" "${noops_server_args[*]}" <<'PY'
import json, statistics, sys
raw, margs, on_args, off_args = sys.argv[1:5]
rows = {"ops": [], "noops": []}
with open(raw, encoding="utf-8") as f:
    for line in f:
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        parts = r.get("label", "").split("/")
        if len(parts) == 3 and parts[0] == "mcpsse" and parts[1] in rows:
            rows[parts[1]].append(r)
on, off = rows["ops"], rows["noops"]
if not on and not off:
    sys.exit(0)
def med(rs, *path):
    vals = []
    for r in rs:
        v = r
        for p in path:
            v = v.get(p) if isinstance(v, dict) else None
        if isinstance(v, (int, float)):
            vals.append(v)
    return statistics.median(vals) if vals else None
def fmt(v, digits=0, unit=""):
    return "n/a" if v is None else f"{v:,.{digits}f}{unit}"
def ratio(a, b):
    return a / b if a is not None and b else None
on_rps, off_rps = med(on, "rps"), med(off, "rps")
on_p99, off_p99 = med(on, "latency_us", "p99"), med(off, "latency_us", "p99")
on_cpu, off_cpu = med(on, "server_cpu_us_per_request"), med(off, "server_cpu_us_per_request")
errors = sum(r.get("errors", 0) for r in on + off)
print(f"Operations row: everything_server `{margs}` with its defaults (`{on_args}`: metrics counted and served "
      "at /metrics, the access log on stderr, written to a file; at info it writes session events, requests are "
      f"debug events) against the same server with `{off_args}` (nothing observed), in alternating rounds (the "
      "order swaps every round), with the load of the authorization row. Per-round throughput (req/s), on / off: "
      + ", ".join(f"{fmt(a.get('rps'))} / {fmt(b.get('rps'))}" for a, b in zip(on, off))
      + f". Medians: {fmt(on_rps)} / {fmt(off_rps)} req/s ({fmt(ratio(on_rps, off_rps), 3, 'x')}), "
      f"p99 {fmt(on_p99, 0, ' µs')} / {fmt(off_p99, 0, ' µs')} ({fmt(ratio(on_p99, off_p99), 3, 'x')}), "
      f"server CPU per request {fmt(on_cpu, 1, ' µs')} / {fmt(off_cpu, 1, ' µs')}; errors {errors}.")
PY
}
# ops_publish FILE PARAGRAPH: appends the paragraph to a results file; with a README
# (third argument "readme"), puts it before the end marker of the results section.
ops_publish() {
  python3 - "$@" <<'PY'
import sys
path, para = sys.argv[1], sys.argv[2]
readme = len(sys.argv) > 3
with open(path, encoding="utf-8") as f:
    text = f.read()
if readme:
    end = "<!-- mcpsse-bench-results:end -->"
    e = text.find(end)
    if e < 0:
        sys.exit(0)
    text = text[:e] + "\n" + para + "\n" + text[e:]
else:
    text = text.rstrip("\n") + "\n\n" + para + "\n"
with open(path, "w", encoding="utf-8") as f:
    f.write(text)
PY
}

# ---------------------------------------------------------------------------
# 4. Summary
# ---------------------------------------------------------------------------
summary_args=(--raw "$raw" --out "$out_dir/results.md" --meta "busy_runs=$busy_runs"
  --meta "rounds=$rounds" --meta "duration_s=$duration" --meta "warmup_s=$warmup"
  --meta "connections=$connections" --meta "latency_connections=$latency_connections"
  --meta "sessions=$sessions" --meta "nginx_workers=$nginx_workers" --meta "mcpsse_args=$mcpsse_args"
  --meta "server_cpus=${server_cpus:-all}" --meta "server_sched=$server_sched" --meta "loadgen_cpus=${loadgen_cpus:-all}"
  --meta "tls_version=$tls_version" --meta "tls_cipher=$tls_cipher"
  --meta "auth_args=--resource $auth_resource --auth-issuer $auth_issuer --auth-jwks FILE --auth-scope $auth_scope ${auth_limits[*]}"
  --meta "noauth_args=${noauth_server_args[*]}"
  --meta "smoke=$smoke" --meta "cxx=$(grep -m1 '^CMAKE_CXX_COMPILER:' "$build_dir/CMakeCache.txt" 2>/dev/null | cut -d= -f2)"
  --meta "build_type=$(grep -m1 '^CMAKE_BUILD_TYPE:' "$build_dir/CMakeCache.txt" 2>/dev/null | cut -d= -f2)"
  --meta "node=$([[ -n "$node" ]] && "$node" --version)"
  --meta "nginx=$( ((skip_nginx)) || "$nginx_bin" -v 2>&1 | sed 's/.*: //')"
  --meta "git=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)"
  --meta "baseline=$baseline_server")
if ((!smoke && publish)) && [[ -z "$baseline_server" ]]; then
  summary_args+=(--publish "$here/results.md" --readme "$here/README.md")
fi
python3 "$here/summarize.py" "${summary_args[@]}"
ops_note="$(ops_summary)" || ops_note=""
if [[ -n "$ops_note" ]]; then
  printf '\n%s\n' "$ops_note"
  ops_publish "$out_dir/results.md" "$ops_note"
  if ((!smoke && publish)) && [[ -z "$baseline_server" ]]; then
    ops_publish "$here/results.md" "$ops_note"
    ops_publish "$here/README.md" "$ops_note" readme
  fi
fi
log "raw results: $raw"
if ((failures > 0)); then
  log "$failures run(s) reported errors or a server failed; see $logs"
  exit 1
fi
log "all runs finished with zero errors"
}

main "$@"
