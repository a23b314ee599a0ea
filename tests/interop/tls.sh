#!/usr/bin/env bash
# Interop test of everything_server over TLS (HTTPS on its one port).
#
#   tls.sh <everything_server> <build-dir>
#
# <build-dir> is the CMake binary directory of tests/interop (as for setup.sh,
# whose 1.x SDK install the Node client needs). This script
#   1. makes a throwaway CA and a server certificate for localhost/127.0.0.1
#      (make_certs.sh) in <build-dir>/tls/certs;
#   2. starts `everything_server --host 127.0.0.1 --port 0 --tls-cert ...
#      --tls-key ...` and reads the port from its "listening on https://..."
#      line on stderr;
#   3. checks, each printed as "ok - ..." or "not ok - ...":
#      (a) curl --cacert: an initialize POST to https://localhost:PORT/mcp
#          answers 200 with an Mcp-Session-Id;
#      (b) the TypeScript SDK client (tls_client.mjs, NODE_EXTRA_CA_CERTS=ca.pem)
#          initializes, lists and calls tools over https://127.0.0.1:PORT;
#      (c) a plain-HTTP request to the TLS port fails (closed, or any non-2xx
#          answer) within 2 s instead of hanging, and TLS still works after it;
#      (d) TLS 1.2 and TLS 1.3 both handshake (curl --tlsv1.2 --tls-max 1.2,
#          curl --tlsv1.3), and ALPN selects http/1.1 (openssl s_client);
#      and that the server exits with status 0 on SIGTERM;
#   4. prints "N passed, N failed" and exits non-zero on any failure.
# The server is always stopped (SIGTERM, SIGKILL after 5 s). Needs curl and the
# openssl command. Environment: TLS_TEST_WAIT_S (default 20) how long to wait
# for the server's listening line.
set -uo pipefail

usage() {
  echo "usage: $0 <everything_server> <build-dir>" >&2
  exit 2
}
[[ "${1:-}" == "-h" || "${1:-}" == "--help" ]] && { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0; }
[[ $# -eq 2 && -n "$1" && -n "$2" ]] || usage

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
server_bin="$1"
mkdir -p "$2" || exit 1
build_dir="$(cd "$2" && pwd)"
work="$build_dir/tls"
certs="$work/certs"
log="$work/server.log"
wait_s="${TLS_TEST_WAIT_S:-20}"

# shellcheck source-path=SCRIPTDIR source=script_lib.sh
source "$here/script_lib.sh"

require_tools curl openssl timeout
if [[ ! -x "$server_bin" ]]; then
  not_ok "server binary" "'$server_bin' not found or not executable"
  finish
fi

mkdir -p "$work"
rm -f "$work"/*.out "$work"/*.err "$work"/*.headers

# ---- certificates --------------------------------------------------------
if out="$(bash "$here/make_certs.sh" "$certs" 2>&1)"; then
  ok "throwaway CA and server certificate (${out#make_certs: })"
else
  not_ok "throwaway CA and server certificate" "$out"
  finish
fi

# ---- server --------------------------------------------------------------
server_pid=""
server_status=""
stop_server() {
  [[ -n "$server_pid" ]] || return 0
  stop_pid "$server_pid" server
  server_status=$stopped_status
  server_pid=""
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT
trap 'stop_server; exit 143' TERM

server_args=(--host 127.0.0.1 --port 0 --tls-cert "$certs/server.pem" --tls-key "$certs/server.key")
echo "# starting $server_bin ${server_args[*]}"
"$server_bin" "${server_args[@]}" </dev/null >"$log" 2>&1 &
server_pid=$!

if ! wait_for_listening "$log" "$server_pid" "$wait_s"; then
  kill -0 "$server_pid" 2>/dev/null || server_pid=""
  not_ok "server announces its https URL" "$listen_failure" "${listen_log[@]}"
  finish
fi
port="$listen_port"
scheme="$listen_scheme"
if [[ "$scheme" != https ]]; then
  not_ok "server announces its https URL" "it announced a $scheme URL (TLS options given: ${server_args[*]})"
  finish
fi
ok "server announces its https URL (port $port)"

https_base="https://localhost:$port"
init_body='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"mcpsse-tls-curl","version":"0.0.0"}}}'
# curl_init NAME [curl options...]: initialize POST over https to localhost
# (pinned to 127.0.0.1); leaves $work/NAME.{headers,out,err} and the status code
# in $code, curl's exit status in $rc.
curl_init() {
  local name="$1"
  shift
  code="$(curl -sS --max-time 10 --cacert "$certs/ca.pem" --resolve "localhost:$port:127.0.0.1" \
    -D "$work/$name.headers" -o "$work/$name.out" -w '%{http_code}' \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    --data-binary "$init_body" "$@" "$https_base/mcp" 2>"$work/$name.err")"
  rc=$?
}
curl_detail() {  # what went wrong with a curl_init NAME, for the "#" lines
  local name="$1"
  echo "curl exit $rc, HTTP status '$code'"
  sed 's/\r$//' "$work/$name.err" 2>/dev/null | grep -vE '^(\* (  |Trying|Connected|ALPN: offers|CAfile|CApath|TLSv1\.[23] \(OUT\))|[<>{}] )' | tail -n 8
  sed 's/\r$//' "$work/$name.headers" 2>/dev/null | head -n 8
  head -c 400 "$work/$name.out" 2>/dev/null
  echo
}

# ---- (a) curl: initialize over https ---------------------------------------
curl_init a
session="$(sed -n 's/\r$//; s/^[Mm][Cc][Pp]-[Ss][Ee][Ss][Ss][Ii][Oo][Nn]-[Ii][Dd]: *//p' "$work/a.headers" 2>/dev/null | head -n1)"
if [[ $rc -eq 0 && "$code" == 200 && -n "$session" ]] && grep -q '"protocolVersion"' "$work/a.out"; then
  ok "(a) curl --cacert: initialize over $https_base/mcp -> 200, Mcp-Session-Id $session"
else
  mapfile -t detail < <(curl_detail a)
  not_ok "(a) curl --cacert: initialize over $https_base/mcp -> 200 with Mcp-Session-Id" "${detail[@]}"
fi

# ---- (b) the TypeScript SDK client over https ------------------------------
echo "# (b) TypeScript SDK client, NODE_EXTRA_CA_CERTS=$certs/ca.pem"
NODE_EXTRA_CA_CERTS="$certs/ca.pem" bash "$here/run_client.sh" "$build_dir" tls_client.mjs "https://127.0.0.1:$port" \
  </dev/null 2>&1 | sed 's/^/    /'
client_rc=${PIPESTATUS[0]}
if ((client_rc == 0)); then
  ok "(b) TypeScript SDK client: initialize, tools/list, tools/call over https://127.0.0.1:$port"
else
  not_ok "(b) TypeScript SDK client: initialize, tools/list, tools/call over https://127.0.0.1:$port" \
    "tls_client.mjs exited with status $client_rc (its checks above)"
fi

# ---- (c) plain HTTP to the TLS port -----------------------------------------
t0=$(date +%s%N)
plain_code="$(timeout 2 curl -sS -o "$work/plain.out" -w '%{http_code}' "http://127.0.0.1:$port/mcp" 2>"$work/plain.err")"
plain_rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
plain_err="$(head -c 300 "$work/plain.err")"
if ((plain_rc == 124)); then
  not_ok "(c) plain HTTP to the TLS port fails within 2 s" "curl still waiting after 2 s (killed by timeout): the server hangs on it"
elif [[ "$plain_code" == 2* ]]; then
  not_ok "(c) plain HTTP to the TLS port fails within 2 s" "answered HTTP $plain_code over plain HTTP:" \
    "$(head -c 300 "$work/plain.out")"
else
  ok "(c) plain HTTP to the TLS port fails within 2 s (${ms} ms: curl exit $plain_rc, HTTP status ${plain_code/#000/none}${plain_err:+; ${plain_err//$'\n'/ }})"
fi
curl_init c2
if [[ $rc -eq 0 && "$code" == 200 ]]; then
  ok "(c) TLS still served after the plain-HTTP request"
else
  mapfile -t detail < <(curl_detail c2)
  not_ok "(c) TLS still served after the plain-HTTP request" "${detail[@]}"
fi

# ---- (d) TLS versions and ALPN ------------------------------------------------
for version in 1.2 1.3; do
  if [[ $version == 1.2 ]]; then
    curl_init "tls$version" -v --tlsv1.2 --tls-max 1.2
  else
    curl_init "tls$version" -v --tlsv1.3
  fi
  used="$(grep -m1 -oE 'SSL connection using [^ ]+ / [^ ]+' "$work/tls$version.err" | sed 's/SSL connection using //')"
  if [[ $rc -eq 0 && "$code" == 200 && "$used" == "TLSv$version "* ]]; then
    ok "(d) TLS $version handshake and initialize -> 200 ($used)"
  else
    mapfile -t detail < <(curl_detail "tls$version")
    not_ok "(d) TLS $version handshake and initialize -> 200" "negotiated: ${used:-unknown}" "${detail[@]}"
  fi
done
s_client_out="$(timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername localhost -alpn http/1.1 \
  -CAfile "$certs/ca.pem" -verify_return_error </dev/null 2>&1)"
s_client_rc=$?
if grep -q '^ALPN protocol: http/1.1' <<<"$s_client_out" && grep -q 'Verify return code: 0 (ok)' <<<"$s_client_out"; then
  ok "(d) ALPN: openssl s_client -alpn http/1.1 shows 'ALPN protocol: http/1.1' (certificate verified)"
else
  mapfile -t detail < <(grep -E 'ALPN|Verify return|error|errno|Protocol|Cipher is' <<<"$s_client_out" | head -n 10)
  not_ok "(d) ALPN: openssl s_client -alpn http/1.1 shows 'ALPN protocol: http/1.1'" \
    "openssl s_client exit $s_client_rc" "${detail[@]}"
fi

# ---- shutdown ------------------------------------------------------------------
stop_server
if [[ "$server_status" == 0 ]]; then
  ok "server exits with status 0 on SIGTERM"
else
  mapfile -t server_log < <(tail -n 10 "$log")
  not_ok "server exits with status 0 on SIGTERM" "exit status $server_status; log:" "${server_log[@]}"
fi
finish
