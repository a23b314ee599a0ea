#!/usr/bin/env bash
# Checks the Grafana dashboard against what everything_server exports.
#
#   dashboard.sh <everything_server> <dashboard.json> <build-dir>
#
# Starts `everything_server --host 127.0.0.1 --port 0 --log-format none`, scrapes
# its /metrics (text format) and runs check_dashboard.py: every PromQL expression
# of the dashboard (and its template variable queries) must name only sample
# names the scrape exports. Then, so that the check is known to be able to fail,
# the same check on a copy of the dashboard with two extra expressions, one naming
# a histogram by its bare family name and one a metric nobody exports: it must
# fail and name both. Also checks that the dashboard has a Prometheus datasource
# variable and that every panel's targets use it. Prints "ok - ..." / "not ok -
# ..." and "N passed, N failed"; exit 77 (skipped) without /usr/bin/python3.
set -uo pipefail

usage() {
  echo "usage: $0 <everything_server> <dashboard.json> <build-dir>" >&2
  exit 2
}
[[ $# -eq 3 && -n "$1" && -n "$2" && -n "$3" ]] || usage

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
server_bin="$1"
dashboard="$2"
mkdir -p "$3" || exit 1
work="$(cd "$3" && pwd)/dashboard"
python=/usr/bin/python3

# shellcheck source-path=SCRIPTDIR source=script_lib.sh
source "$here/script_lib.sh"

[[ -x "$python" ]] || { echo "dashboard: SKIPPED: no $python" >&2; exit 77; }
require_tools curl
if [[ ! -x "$server_bin" ]]; then
  not_ok "server binary" "'$server_bin' not found or not executable"
  finish
fi
mkdir -p "$work"
rm -f "$work"/*

server_pid=""
# shellcheck disable=SC2317  # called from the traps
stop_server() {
  [[ -n "$server_pid" ]] || return 0
  stop_pid "$server_pid" server
  server_pid=""
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT
trap 'stop_server; exit 143' TERM

"$server_bin" --host 127.0.0.1 --port 0 --log-format none </dev/null >"$work/server.log" 2>&1 &
server_pid=$!
if ! wait_for_listening "$work/server.log" "$server_pid" 20; then
  kill -0 "$server_pid" 2>/dev/null || server_pid=""
  not_ok "everything_server announces its URL" "$listen_failure" "${listen_log[@]}"
  finish
fi
port="$listen_port"

if curl -fsS --max-time 5 -o "$work/scrape.txt" "http://127.0.0.1:$port/metrics"; then
  ok "scraped everything_server's /metrics ($(grep -c '^# TYPE' "$work/scrape.txt") families)"
else
  not_ok "scraped everything_server's /metrics"
  finish
fi

if out="$("$python" "$here/check_dashboard.py" "$dashboard" "$work/scrape.txt" 2>&1)"; then
  ok "every expression of $(basename "$dashboard") names exported metrics: ${out#check_dashboard: }"
else
  mapfile -t lines <<<"$out"
  not_ok "every expression of $(basename "$dashboard") names exported metrics" "${lines[@]}"
fi

# The datasource variable, and every target using it.
if out="$("$python" - "$dashboard" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
ds = [n for n, v in variables.items() if v.get("type") == "datasource" and v.get("query") == "prometheus"]
problems = [] if ds else ["no datasource variable of type prometheus"]
def panels(ps):
    for p in ps:
        yield p
        yield from panels(p.get("panels", []))
count = 0
for p in panels(d.get("panels", [])):
    for t in p.get("targets", []):
        count += 1
        uid = (t.get("datasource") or p.get("datasource") or {}).get("uid", "")
        if not ds or uid not in ("${%s}" % ds[0], "$" + ds[0]):
            problems.append("panel %r target %s uses datasource %r" % (p.get("title"), t.get("refId"), uid))
for x in problems:
    print(x)
print("%d targets" % count)
sys.exit(1 if problems else 0)
EOF
)"; then
  ok "a Prometheus datasource variable, used by every target (${out})"
else
  mapfile -t lines <<<"$out"
  not_ok "a Prometheus datasource variable, used by every target" "${lines[@]}"
fi

# Negative control: the checker must catch names that are not exported.
"$python" - "$dashboard" "$work/broken.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["panels"].append({"type": "timeseries", "title": "broken", "targets": [
    {"refId": "A", "expr": 'histogram_quantile(0.9, sum by (le) (rate(mcpsse_http_request_duration_seconds{route="mcp"}[5m])))'},
    {"refId": "B", "expr": 'sum(rate(mcpsse_made_up_things_total[5m]))'}]})
json.dump(d, open(sys.argv[2], "w"))
EOF
rc=0
out="$("$python" "$here/check_dashboard.py" "$work/broken.json" "$work/scrape.txt" 2>&1)" || rc=$?
if ((rc == 1)) && grep -q 'mcpsse_http_request_duration_seconds is not exported' <<<"$out" &&
  grep -q 'mcpsse_made_up_things_total is not exported' <<<"$out"; then
  ok "the check fails on a bare histogram name and on a metric nobody exports"
else
  mapfile -t lines <<<"$out"
  not_ok "the check fails on a bare histogram name and on a metric nobody exports" "exit $rc" "${lines[@]}"
fi

finish
