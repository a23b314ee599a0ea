#!/usr/bin/env bash
# Bridge benchmark (GitHub issue 19): mcpsse-bridge against the stdio-to-HTTP MCP bridges
# users would pick instead, supergateway and mcp-proxy (npm, versions pinned in
# bridge/package.json, on Node 22), all serving the same stdio server, mcpsse_bench_echo
# (bridge/echo_server.cpp: one `echo` tool, one thread), over Streamable HTTP.
#
#   benchmarks/bridge.sh [options]
#
# Rows (each bridge in its per-session-child mode where it has one):
#   mcpsse-bridge           default mode: one child per MCP session, spawned on initialize
#   mcpsse-bridge-shared    --share-child: one child for every session (extra row)
#   supergateway            --outputTransport streamableHttp --stateful: one child per session
#   mcp-proxy               its only mode: one child spawned at start, shared by every
#                           session (stateful sessions on its /mcp stream endpoint)
#
# Figures (mcpsse_bench_bridge_client, built from bridge/bridge_client.cpp, unless named
# otherwise); each bridge is started fresh for every round and for the memory figure:
#   direct       the echo server over its own stdin/stdout, sequential tools/call echo:
#                p50/p99, the baseline of "added latency" (no bridge)
#   latency      one session, sequential tools/call echo through the bridge; added
#                latency = bridge p50 (p99) - direct p50 (p99) of the same round
#   throughput   --sessions connections, each with its own MCP session (so a per-session
#                bridge runs that many children), tools/call echo in a closed loop: calls/s,
#                and the bridge's own CPU time (utime + stime of the bridge process alone,
#                /proc/PID/stat, children excluded) over the measured window per call
#   memory       mcpsse_loadgen sessions: --mem-sessions sessions (initialize + an open GET
#                SSE stream each), VmRSS of the bridge process alone (children excluded)
#                before and after: MiB at N sessions and KiB per session
# Rounds alternate the order of the bridges (reversed every other round). The summary
# (bridge/summarize.py) takes medians over rounds and checks the issue's targets:
# mcpsse-bridge >= 5x the throughput and <= 1/5 of the added p50 latency of each other
# bridge, from the same run (PASS/FAIL; a FAIL is reported, not an error exit).
#
# Options:
#   --smoke               tiny counts, < 1 s per figure, one bridge start per row, results
#                         only in --out-dir (CI);
#                         exits 77 when the npm packages cannot be installed (registry
#                         unreachable)
#   --build-dir DIR       build folder (default <repo>/build/bench-bridge); the npm
#                         packages are installed into DIR/bench-bridge-npm
#   --no-build            use what is in --build-dir (or the paths below); without it a
#                         Release build of the needed targets is configured and built there
#   --bridge PATH         mcpsse-bridge binary      (default: found in the build folder)
#   --echo PATH           mcpsse_bench_echo binary  (default: found in the build folder)
#   --client PATH         mcpsse_bench_bridge_client (default: found in the build folder)
#   --loadgen PATH        mcpsse_loadgen binary     (default: found in the build folder)
#   --out-dir DIR         raw results and logs (default <build-dir>/bench-bridge-results)
#   --no-publish          a full run that writes to --out-dir only, not to
#                         benchmarks/bridge/results.md
#   --rounds N            rounds of the latency and throughput figures (default 3)
#   --duration S          measured seconds per figure (default 10)
#   --warmup S            warm-up seconds per figure (default 2)
#   --sessions N          sessions (= connections) of the throughput figure (default 32)
#   --mem-sessions N      sessions of the memory figure (default 1000)
#   --text TEXT           the echo argument (default: 38 ASCII bytes)
#   --bridge-args "ARGS"  options for mcpsse-bridge (default "--max-children L --max-sessions L
#                         --log-level warning", L = --mem-sessions + --sessions + 100: its
#                         limits raised above the load; the others have no such limits)
#   --wait-idle S         before each run, wait while other processes use >= 25 % CPU, at
#                         most S seconds over the whole script (default 600; smoke 0)
#   --skip-supergateway, --skip-mcp-proxy, --skip-shared   leave a row out
#
# Writes <out-dir>/raw.jsonl (one result line per run), <out-dir>/meta.json,
# <out-dir>/results.md and, unless --smoke or --no-publish, benchmarks/bridge/results.md
# and the results in benchmarks/README.md. Exits non-zero when a run reported an error
# or a bridge failed to start. The median of several full runs (run with --no-publish):
#   python3 benchmarks/bridge/summarize.py --raw RUN1/raw.jsonl --raw RUN2/raw.jsonl \
#     --raw RUN3/raw.jsonl --out combined.md --publish benchmarks/bridge/results.md \
#     --readme benchmarks/README.md
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

# Everything runs inside main(), parsed completely before it runs: editing this file
# during a run cannot derail that run.
main() {

smoke=0
build_dir="$repo/build/bench-bridge"
do_build=1
bridge=""
echo_bin=""
client=""
loadgen=""
out_dir=""
publish=1
rounds=3
duration=10
warmup=2
sessions=32
mem_sessions=1000
text="hello from the mcpsse bridge benchmark"
wait_idle_s=600
skip_sg=0
skip_mp=0
skip_shared=0
bridge_args_text=""

die() { echo "bridge.sh: $*" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --build-dir) build_dir="$2"; shift ;;
    --no-build) do_build=0 ;;
    --bridge) bridge="$2"; shift ;;
    --echo) echo_bin="$2"; shift ;;
    --client) client="$2"; shift ;;
    --loadgen) loadgen="$2"; shift ;;
    --out-dir) out_dir="$2"; shift ;;
    --no-publish) publish=0 ;;
    --rounds) rounds="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --warmup) warmup="$2"; shift ;;
    --sessions) sessions="$2"; shift ;;
    --mem-sessions) mem_sessions="$2"; shift ;;
    --text) text="$2"; shift ;;
    --bridge-args) bridge_args_text="$2"; shift ;;
    --wait-idle) wait_idle_s="$2"; shift ;;
    --skip-supergateway) skip_sg=1 ;;
    --skip-mcp-proxy) skip_mp=1 ;;
    --skip-shared) skip_shared=1 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
for v in rounds sessions mem_sessions wait_idle_s; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "--${v//_/-} takes a whole number"
done
((rounds >= 1 && sessions >= 1 && mem_sessions >= 1)) || die "--rounds, --sessions and --mem-sessions must be >= 1"

if ((smoke)); then
  rounds=1
  duration=0.5
  warmup=0.2
  sessions=4
  mem_sessions=10
  wait_idle_s=0
fi
idle_budget="$wait_idle_s"

mkdir -p "$build_dir"
build_dir="$(cd "$build_dir" && pwd)"
out_dir="${out_dir:-$build_dir/bench-bridge-results}"
mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"
raw="$out_dir/raw.jsonl"
: >"$raw"
logs="$out_dir/logs"
mkdir -p "$logs"
failures=0
log() { echo "bridge.sh: $*" >&2; }

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
  targets=(mcpsse_loadgen mcpsse_bench_echo mcpsse_bench_bridge_client)
  if cmake --build "$build_dir" --target help 2>/dev/null | grep -qw mcpsse-bridge; then targets+=(mcpsse-bridge); fi
  log "building ${targets[*]} (-j2)"
  cmake --build "$build_dir" -j2 --target "${targets[@]}" >"$logs/cmake-build.log" 2>&1 ||
    { tail -50 "$logs/cmake-build.log" >&2; exit 1; }
fi
find_bin() { find "$build_dir" -type f -name "$1" -perm -u+x 2>/dev/null | head -n1; }
[[ -n "$bridge" ]] || bridge="$(find_bin mcpsse-bridge)"
[[ -n "$echo_bin" ]] || echo_bin="$(find_bin mcpsse_bench_echo)"
[[ -n "$client" ]] || client="$(find_bin mcpsse_bench_bridge_client)"
[[ -n "$loadgen" ]] || loadgen="$(find_bin mcpsse_loadgen)"
[[ -x "$bridge" ]] || die "mcpsse-bridge not found (build target mcpsse-bridge or pass --bridge)"
[[ -x "$echo_bin" ]] || die "mcpsse_bench_echo not found (build it or pass --echo)"
[[ -x "$client" ]] || die "mcpsse_bench_bridge_client not found (build it or pass --client)"
[[ -x "$loadgen" ]] || die "mcpsse_loadgen not found (build it or pass --loadgen)"
# supergateway runs its --stdio command through a shell: an absolute path without spaces.
echo_bin="$(cd "$(dirname "$echo_bin")" && pwd)/$(basename "$echo_bin")"
[[ "$echo_bin" != *[[:space:]]* ]] || die "the echo server's path must not contain spaces: $echo_bin"

# ---------------------------------------------------------------------------
# supergateway and mcp-proxy (Node 22, pinned in bridge/package.json)
# ---------------------------------------------------------------------------
node=""
npm_dir="$build_dir/bench-bridge-npm"
if ((!skip_sg || !skip_mp)); then
  mkdir -p "$npm_dir"
  if ! node="$("$repo/tests/interop/node22.sh" "${MCPSSE_INTEROP_CACHE:-$npm_dir/cache}" 2>"$logs/node22.log")"; then
    cat "$logs/node22.log" >&2
    if ((smoke)); then log "SKIP: no Node 22 (npm registry unreachable?)"; exit 77; fi
    exit 1
  fi
  stamp="$npm_dir/node_modules/.mcpsse-bench-package.json"
  if ! (
    exec 9>"$npm_dir/.install.lock"
    flock -w 280 9
    if ! cmp -s "$stamp" "$here/bridge/package.json" 2>/dev/null ||
       [[ ! -f "$npm_dir/node_modules/supergateway/package.json" || ! -f "$npm_dir/node_modules/mcp-proxy/package.json" ]]; then
      log "installing supergateway and mcp-proxy into $npm_dir"
      cp "$here/bridge/package.json" "$npm_dir/package.json"
      (cd "$npm_dir" && PATH="$(dirname "$node"):$PATH" timeout 280 npm install --no-package-lock --no-audit --no-fund \
        --loglevel=error) >"$logs/npm-install.log" 2>&1 || exit 1
      cp "$here/bridge/package.json" "$stamp"
    fi
  ); then
    cat "$logs/npm-install.log" >&2 2>/dev/null || true
    if ((smoke)); then log "SKIP: npm install failed (registry unreachable?)"; exit 77; fi
    exit 1
  fi
fi
# The script a package's "bin" entry names, run with $node directly (no npx, no shell
# wrapper), so that the PID started is the bridge's own.
pkg_bin() {
  "$node" -e 'const p=require(process.argv[1]+"/package.json"); const b=typeof p.bin==="string"?p.bin:p.bin[process.argv[2]]; console.log(require("path").join(process.argv[1], b))' \
    "$npm_dir/node_modules/$1" "$2"
}
pkg_version() { "$node" -p "require('$npm_dir/node_modules/$1/package.json').version"; }
sg_js=""
mp_js=""
if ((!skip_sg)); then sg_js="$(pkg_bin supergateway supergateway)"; fi
if ((!skip_mp)); then mp_js="$(pkg_bin mcp-proxy mcp-proxy)"; fi

# ---------------------------------------------------------------------------
# Process handling
# ---------------------------------------------------------------------------
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile="$(ulimit -n)"
# A per-session bridge holds three pipes per child next to the session's socket.
if ((nofile < 5 * mem_sessions + 100)); then
  log "warning: open files limit $nofile may be too low for $mem_sessions sessions with a child each"
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Ports below the kernel's ephemeral range (its ports may still be draining).
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

bridge_pids=()
# Every bridge runs in a process group of its own (setsid), which its children join:
# stopping it ends the group, and then any child the bridge left behind, by PID.
stop_pid() {
  local pid="$1" i kids=() k
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  read -r -a kids < <(cat /proc/"$pid"/task/*/children 2>/dev/null | tr '\n' ' ') || true
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "PID $pid did not stop within 5 s of SIGTERM: SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  for k in "${kids[@]+"${kids[@]}"}"; do
    if kill -0 "$k" 2>/dev/null; then kill -KILL "$k" 2>/dev/null || true; fi
  done
}
cleanup() {
  local pid
  for pid in "${bridge_pids[@]+"${bridge_pids[@]}"}"; do stop_pid "$pid"; done
  bridge_pids=()
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# start_bridge ROW: starts ROW on a fresh port, waits until it listens; sets PORT and
# BRIDGE_PID (the bridge process itself: setsid execs it, no wrapper in between).
start_bridge() {
  local row="$1" attempt
  for attempt in 1 2 3; do
    PORT="$(pick_port)" || die "no free port"
    local cmd=()
    case "$row" in
      mcpsse-bridge) cmd=("$bridge" --host 127.0.0.1 --port "$PORT" "${bridge_args[@]}" -- "$echo_bin") ;;
      mcpsse-bridge-shared) cmd=("$bridge" --host 127.0.0.1 --port "$PORT" --share-child "${bridge_args[@]}" -- "$echo_bin") ;;
      supergateway) cmd=("$node" "$sg_js" --stdio "$echo_bin" --outputTransport streamableHttp --stateful
                         --port "$PORT" --logLevel none) ;;
      mcp-proxy) cmd=("$node" "$mp_js" --host 127.0.0.1 --port "$PORT" -- "$echo_bin") ;;
      *) die "unknown row $row" ;;
    esac
    setsid "${cmd[@]}" >>"$logs/bridge-$row.log" 2>&1 </dev/null &
    BRIDGE_PID=$!
    bridge_pids+=("$BRIDGE_PID")
    local deadline=$((SECONDS + 30)) ok=0
    while ((SECONDS < deadline)); do
      kill -0 "$BRIDGE_PID" 2>/dev/null || break
      if port_open "$PORT"; then ok=1; break; fi
      sleep 0.05
    done
    if ((ok)); then return 0; fi
    log "$row: start attempt $attempt failed (log: $logs/bridge-$row.log)"
    stop_bridge "$BRIDGE_PID"
  done
  tail -20 "$logs/bridge-$row.log" >&2 || true
  return 1
}
stop_bridge() {
  stop_pid "$1"
  local keep=() pid
  for pid in "${bridge_pids[@]+"${bridge_pids[@]}"}"; do [[ "$pid" == "$1" ]] || keep+=("$pid"); done
  bridge_pids=("${keep[@]+"${keep[@]}"}")
}

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"  # cpu_busy, wait_idle (until other work uses < 25 % of the CPUs)
if ((smoke)); then CPU_BUSY_SPAN=0.1; fi

# run LABEL CMD...: one measurement; its JSON line goes to raw.jsonl with the label and
# the CPU use of others just before it.
run() {
  local label="$1" out rc=0
  shift
  wait_idle
  log "$label"
  out="$("$@" 2>>"$logs/client.log")" || rc=$?
  if [[ -z "$out" ]]; then
    log "$label: no result line (exit $rc); see $logs/client.log"
    failures=$((failures + 1))
    return 0
  fi
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r["label"]=sys.argv[2]; r["others_cpu_pct"]=int(sys.argv[3]); print(json.dumps(r))' \
    "$out" "$label" "$LAST_BUSY" >>"$raw"
  if ((rc != 0)); then
    log "$label: errors (exit $rc): $out"
    failures=$((failures + 1))
  fi
}

# mcpsse-bridge's limits on children and sessions (64 and 1,000 by default) raised above
# what the memory figure opens (the other bridges have no such limits), and only warnings
# logged (supergateway runs with --logLevel none).
limit=$((mem_sessions + sessions + 100))
if [[ -n "$bridge_args_text" ]]; then
  read -r -a bridge_args <<<"$bridge_args_text"
else
  bridge_args=(--max-children "$limit" --max-sessions "$limit" --log-level warning)
fi
rows=(mcpsse-bridge)
((skip_shared)) || rows+=(mcpsse-bridge-shared)
((skip_sg)) || rows+=(supergateway)
((skip_mp)) || rows+=(mcp-proxy)
log "rows: ${rows[*]}; $rounds round(s) of ${duration}s (+${warmup}s warm-up); $sessions sessions; memory at $mem_sessions sessions"
log "load average $(cut -d' ' -f1-3 /proc/loadavg)"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------------------
# 1. Latency and throughput, alternating bridges, a fresh bridge per row and round
#    (latency first: its one session stays open during the throughput figure)
# ---------------------------------------------------------------------------
common=(--duration "$duration" --warmup "$warmup" --text "$text")
# memory_run ROW: the memory figure against the bridge started last.
memory_run() {
  run "$1/memory/1" "$loadgen" sessions --url "http://127.0.0.1:$PORT/mcp" --sessions "$mem_sessions" \
    --server-pid "$BRIDGE_PID" --timeout 60 --quiet
  log "$1: $(cat /proc/"$BRIDGE_PID"/task/*/children 2>/dev/null | wc -w) child process(es) after the memory figure"
}
for ((r = 1; r <= rounds; r++)); do
  run "direct/latency/$r" "$client" direct "${common[@]}" -- "$echo_bin"
  order=("${rows[@]}")
  if ((r % 2 == 0)); then
    order=()
    for ((i = ${#rows[@]} - 1; i >= 0; i--)); do order+=("${rows[i]}"); done
  fi
  for row in "${order[@]}"; do
    if ! start_bridge "$row"; then failures=$((failures + 1)); continue; fi
    run "$row/latency/$r" "$client" call --url "http://127.0.0.1:$PORT/mcp" --sessions 1 "${common[@]}" \
      --bridge-pid "$BRIDGE_PID"
    run "$row/throughput/$r" "$client" call --url "http://127.0.0.1:$PORT/mcp" --sessions "$sessions" "${common[@]}" \
      --bridge-pid "$BRIDGE_PID"
    # Smoke: the memory figure on the same bridge (Node start-ups dominate a smoke run).
    if ((smoke)); then memory_run "$row"; fi
    stop_bridge "$BRIDGE_PID"
  done
done

# ---------------------------------------------------------------------------
# 2. Memory: the bridge's own VmRSS with --mem-sessions sessions open (a fresh bridge)
# ---------------------------------------------------------------------------
if ((!smoke)); then
  for row in "${rows[@]}"; do
    if ! start_bridge "$row"; then failures=$((failures + 1)); continue; fi
    sleep 1  # let the runtime settle (Node's start-up allocations) before the "before" sample
    memory_run "$row"
    stop_bridge "$BRIDGE_PID"
  done
fi

# ---------------------------------------------------------------------------
# 3. Summary
# ---------------------------------------------------------------------------
sg_version=""
mp_version=""
((skip_sg)) || sg_version="$(pkg_version supergateway)"
((skip_mp)) || mp_version="$(pkg_version mcp-proxy)"
summary_args=(--raw "$raw" --out "$out_dir/results.md"
  --meta "rounds=$rounds" --meta "duration_s=$duration" --meta "warmup_s=$warmup"
  --meta "sessions=$sessions" --meta "mem_sessions=$mem_sessions" --meta "text_bytes=${#text}"
  --meta "bridge_args=${bridge_args[*]}" --meta "supergateway=$sg_version" --meta "mcp_proxy=$mp_version"
  --meta "node=$([[ -n "$node" ]] && "$node" --version)"
  --meta "busy_runs=$busy_runs" --meta "load_start=$load_start" --meta "smoke=$smoke"
  --meta "build_type=$(grep -m1 '^CMAKE_BUILD_TYPE:' "$build_dir/CMakeCache.txt" 2>/dev/null | cut -d= -f2)"
  --meta "git=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)")
if ((!smoke && publish)); then summary_args+=(--publish "$here/bridge/results.md" --readme "$here/README.md"); fi
python3 "$here/bridge/summarize.py" "${summary_args[@]}" || failures=$((failures + 1))
log "raw results: $raw"
if ((failures > 0)); then
  log "$failures run(s) reported errors or a bridge failed; see $logs"
  exit 1
fi
log "all runs finished with zero errors"
}

main "$@"; exit
