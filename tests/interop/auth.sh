#!/usr/bin/env bash
# Interop test of everything_server as an OAuth 2.1 resource server, with
# oidc-provider as the authorization server and the 1.x SDK client.
#
#   auth.sh <everything_server> <build-dir>
#
# <build-dir> is the CMake binary directory of tests/interop (as for setup.sh,
# whose install holds the SDK and oidc-provider). This script
#   1. picks a free port P for the server, so that the resource is
#      R = http://127.0.0.1:P/mcp;
#   2. starts auth_oidc_server.mjs (issuer http://127.0.0.1:<its port>,
#      accepting the resource indicators R and http://127.0.0.1:P/other) and
#      waits for its public JWKS file in <build-dir>/auth;
#   3. starts `everything_server --host 127.0.0.1 --port P --resource R
#      --auth-issuer <issuer> --auth-jwks <file> --auth-token static-dev-token`
#      and waits for its "listening on http://...:P/mcp" line on stderr (both
#      are restarted on another port, up to 3 times, if the server exits
#      first);
#   4. checks, each printed as "ok - ..." or "not ok - ...":
#      (a) curl, no token: initialize -> 401 with WWW-Authenticate
#          `Bearer resource_metadata="http://127.0.0.1:P/.well-known/oauth-protected-resource/mcp"`;
#      (b) that metadata document (RFC 9728): resource R, authorization_servers
#          [issuer], bearer_methods_supported ["header"];
#      (c) the SDK client auth_client.mjs (ClientCredentialsProvider) end to end;
#      (d) a token from oidc-provider's token endpoint (curl, client
#          credentials, resource R; its header and payload are printed):
#          initialize -> 200 with an Mcp-Session-Id, then tools/list -> 200;
#      (e) that token with its payload changed (sub "admin", signature kept),
#          a token signed by another key under the issuer's kid, and a token
#          that is no JWT -> 401 with error="invalid_token";
#      (f) a token for the resource http://127.0.0.1:P/other (aud is not R)
#          -> 401 with error="invalid_token";
#      (g) the static token -> 200;
#      (h) the server exits 0 on SIGTERM;
#      (i) restarted with --auth-scope mcp:tools --auth-scope mcp:admin: no
#          token -> 401 whose challenge names scope="mcp:tools mcp:admin"; the
#          oidc-provider token (scope "mcp:tools mcp:read") -> 403 with
#          error="insufficient_scope" whose scope lists the granted and the
#          required scopes; a new token for exactly that scope (the step-up the
#          official client-credentials provider does not do) -> 200; the static
#          token -> 200; exit 0 on SIGTERM;
#   5. prints "N passed, N failed" and exits non-zero on any failure.
# Both processes are always stopped (SIGTERM, SIGKILL after 5 s). Needs curl.
# Environment: AUTH_TEST_WAIT_S (default 20) how long to wait for each process.
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
work="$build_dir/auth"
wait_s="${AUTH_TEST_WAIT_S:-20}"
client_id=mcpsse-interop
client_secret=mcpsse-interop-secret
static_token=static-dev-token

# shellcheck source-path=SCRIPTDIR source=script_lib.sh
source "$here/script_lib.sh"

require_tools curl timeout
if [[ ! -x "$server_bin" ]]; then
  not_ok "server binary" "'$server_bin' not found or not executable"
  finish
fi
if ! node="$("$here/node22.sh" "${MCPSSE_INTEROP_CACHE:-$build_dir/cache}")"; then
  not_ok "Node >= 22" "node22.sh failed; run the interop.setup test (or setup.sh $build_dir) first"
  finish
fi

mkdir -p "$work"
rm -f "$work"/*.out "$work"/*.err "$work"/*.headers "$work"/*.log "$work"/jwks.json

# ---- processes -------------------------------------------------------------------
oidc_pid=""
server_pid=""
server_status=""
stop_server() {
  [[ -n "$server_pid" ]] || return 0
  stop_pid "$server_pid" everything_server
  server_status=$stopped_status
  server_pid=""
}
stop_oidc() {
  [[ -n "$oidc_pid" ]] || return 0
  stop_pid "$oidc_pid" auth_oidc_server.mjs
  oidc_pid=""
}
# shellcheck disable=SC2317  # called from the traps
stop_all() { stop_server; stop_oidc; }
trap stop_all EXIT
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {  # a random port in 20000-59999 on which nothing is listening now
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

# start_oidc: auth_oidc_server.mjs for the resources of $port; sets $issuer.
start_oidc() {
  rm -f "$work/jwks.json"
  bash "$here/run_client.sh" "$build_dir" auth_oidc_server.mjs --jwks-out "$work/jwks.json" \
    --resource "$resource" --resource "$other_resource" --client-id "$client_id" --client-secret "$client_secret" \
    --scopes "mcp:tools mcp:read mcp:admin" \
    </dev/null >"$work/oidc.out" 2>"$work/oidc.err" &
  oidc_pid=$!
  issuer=""
  local deadline=$((SECONDS + wait_s))
  while ((SECONDS < deadline)); do
    issuer="$(sed -n 's/^issuer //p' "$work/oidc.out" 2>/dev/null | head -n1)"
    [[ -n "$issuer" && -s "$work/jwks.json" ]] && return 0
    kill -0 "$oidc_pid" 2>/dev/null || break
    sleep 0.1
  done
  local log
  mapfile -t log < <(tail -n 20 "$work/oidc.err")
  not_ok "authorization server (auth_oidc_server.mjs) ready" "no issuer line and JWKS file within ${wait_s} s; stderr:" "${log[@]}"
  finish
}

# start_server [extra args...]: everything_server on $port; returns 1 if it exited
# before listening (the port may have been taken), fails the run on other problems.
start_server() {
  local args=(--host 127.0.0.1 --port "$port" --resource "$resource" --auth-issuer "$issuer"
    --auth-jwks "$work/jwks.json" --auth-token "$static_token" "$@")
  echo "# starting $server_bin ${args[*]}"
  "$server_bin" "${args[@]}" </dev/null >"$work/server.log" 2>&1 &
  server_pid=$!
  local deadline=$((SECONDS + wait_s)) log
  while ((SECONDS < deadline)); do
    grep -qE "listening on http://[^ /]+:$port/mcp" "$work/server.log" 2>/dev/null && return 0
    if ! kill -0 "$server_pid" 2>/dev/null; then
      wait "$server_pid" 2>/dev/null
      server_status=$?
      server_pid=""
      return 1
    fi
    sleep 0.1
  done
  mapfile -t log < <(tail -n 20 "$work/server.log")
  not_ok "everything_server announces http://127.0.0.1:$port/mcp" "no listening line within ${wait_s} s; log:" "${log[@]}"
  finish
}

started=0
for attempt in 1 2 3; do
  port="$(pick_port)" || { not_ok "a free port" "none found"; finish; }
  resource="http://127.0.0.1:$port/mcp"
  other_resource="http://127.0.0.1:$port/other"
  start_oidc
  if start_server; then
    started=1
    break
  fi
  mapfile -t server_log < <(tail -n 10 "$work/server.log")
  stop_oidc
  echo "# everything_server exited with status $server_status before listening (attempt $attempt, port $port)"
  ((${#server_log[@]})) && printf '#   %s\n' "${server_log[@]}"
done
if ((!started)); then
  not_ok "everything_server starts with the auth options" "it exited with status $server_status three times; last log:" \
    "${server_log[@]}"
  finish
fi
ok "authorization server at $issuer (JWKS in $work/jwks.json), everything_server at $resource"

base="http://127.0.0.1:$port"
metadata_url="$base/.well-known/oauth-protected-resource/mcp"
init_body='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"mcpsse-auth-curl","version":"0.0.0"}}}'

# mcp_post NAME BODY [curl options...]: POST to $resource; leaves $work/NAME.{headers,out,err},
# the status code in $code, curl's exit status in $rc, WWW-Authenticate in $challenge and
# Mcp-Session-Id in $session.
mcp_post() {
  local name="$1" body="$2"
  shift 2
  code="$(curl -sS --max-time 10 -D "$work/$name.headers" -o "$work/$name.out" -w '%{http_code}' \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    --data-binary "$body" "$@" "$resource" 2>"$work/$name.err")"
  rc=$?
  challenge="$(header "$name" www-authenticate)"
  session="$(header "$name" mcp-session-id)"
}
header() {  # header NAME FIELD: the first FIELD header of $work/NAME.headers
  sed -n 's/\r$//p' "$work/$1.headers" 2>/dev/null | awk -v f="$2" '{ i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == f) { v = substr($0, i + 1); sub(/^ +/, "", v); print v; exit } }'
}
detail() {  # what a mcp_post NAME got, for the "#" lines
  echo "curl exit $rc, HTTP status '$code'"
  sed 's/\r$//' "$work/$1.err" 2>/dev/null | tail -n 4
  sed 's/\r$//' "$work/$1.headers" 2>/dev/null | head -n 10
  head -c 400 "$work/$1.out" 2>/dev/null
  echo
}
init() { mcp_post "$1" "$init_body" ${2:+-H "Authorization: Bearer $2"}; }
# expect_refused NAME STATUS ERROR WHAT: the last mcp_post NAME answered STATUS with a
# Bearer challenge carrying resource_metadata and, if ERROR is not empty, error="ERROR".
expect_refused() {
  local name="$1" status="$2" error="$3" what="$4"
  if [[ $rc -eq 0 && "$code" == "$status" && "$challenge" =~ ^[Bb]earer\  &&
        "$challenge" == *"resource_metadata=\"$metadata_url\""* &&
        ( -z "$error" || "$challenge" == *"error=\"$error\""* ) ]]; then
    ok "$what -> $status ($challenge)"
  else
    local d
    mapfile -t d < <(detail "$name")
    not_ok "$what -> $status with Bearer resource_metadata=\"$metadata_url\"${error:+, error=\"$error\"}" \
      "WWW-Authenticate: ${challenge:-(none)}" "${d[@]}"
  fi
}
expect_ok() {  # expect_ok NAME WHAT: the last mcp_post NAME answered 200 with a result
  local name="$1" what="$2"
  if [[ $rc -eq 0 && "$code" == 200 ]] && grep -q '"result"' "$work/$name.out"; then
    ok "$what -> 200${session:+, Mcp-Session-Id $session}"
  else
    local d
    mapfile -t d < <(detail "$name")
    not_ok "$what -> 200 with a result" "${d[@]}"
  fi
}

# ---- (a) no token ------------------------------------------------------------------
init a
expect_refused a 401 "" "(a) initialize without a token"

# ---- (b) protected resource metadata ----------------------------------------------
prm_code="$(curl -sS --max-time 10 -o "$work/prm.out" -w '%{http_code}' "$metadata_url" 2>"$work/prm.err")"
# shellcheck disable=SC2016  # JavaScript, not shell expansions
prm_check="$("$node" -e '
  const [file, resource, issuer] = process.argv.slice(1);
  let m;
  try { m = JSON.parse(require("node:fs").readFileSync(file, "utf8")); } catch (e) { console.log(`not JSON: ${e.message}`); process.exit(); }
  const problems = [];
  if (m.resource !== resource) problems.push(`resource ${JSON.stringify(m.resource)}, expected ${JSON.stringify(resource)}`);
  if (!Array.isArray(m.authorization_servers) || !m.authorization_servers.includes(issuer))
    problems.push(`authorization_servers ${JSON.stringify(m.authorization_servers)}, expected [${JSON.stringify(issuer)}]`);
  if (!Array.isArray(m.bearer_methods_supported) || !m.bearer_methods_supported.includes("header"))
    problems.push(`bearer_methods_supported ${JSON.stringify(m.bearer_methods_supported)}, expected ["header"]`);
  console.log(problems.join("; "));' "$work/prm.out" "$resource" "$issuer" 2>&1)"
if [[ "$prm_code" == 200 && -z "$prm_check" ]]; then
  ok "(b) GET $metadata_url -> 200: $(tr -d '\n' <"$work/prm.out" | head -c 300)"
else
  not_ok "(b) GET $metadata_url -> 200 with resource $resource and authorization_servers [$issuer]" \
    "HTTP status '$prm_code'${prm_check:+; $prm_check}" "$(head -c 400 "$work/prm.out" 2>/dev/null)" \
    "$(head -c 300 "$work/prm.err" 2>/dev/null)"
fi

# ---- (c) the SDK client --------------------------------------------------------------
echo "# (c) TypeScript SDK client with ClientCredentialsProvider"
bash "$here/run_client.sh" "$build_dir" auth_client.mjs "$resource" --issuer "$issuer" \
  --client-id "$client_id" --client-secret "$client_secret" </dev/null 2>&1 | sed 's/^/    /'
client_rc=${PIPESTATUS[0]}
if ((client_rc == 0)); then
  ok "(c) TypeScript SDK client: 401, discovery, client_credentials token, initialize, tools/list, tools/call"
else
  not_ok "(c) TypeScript SDK client: 401, discovery, client_credentials token, initialize, tools/list, tools/call" \
    "auth_client.mjs exited with status $client_rc (its checks above)"
fi

# ---- (d) a token fetched with curl -----------------------------------------------------
# fetch_token NAME RESOURCE [SCOPE]: client credentials token for RESOURCE (scope SCOPE,
# default "mcp:tools mcp:read") into $token ("" on failure).
token_endpoint="$(curl -sS --max-time 10 "$issuer/.well-known/openid-configuration" 2>/dev/null |
  "$node" -e 'let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => { try { console.log(JSON.parse(s).token_endpoint ?? "") } catch { console.log("") } })')"
fetch_token() {
  token="$(curl -sS --max-time 10 -u "$client_id:$client_secret" -d grant_type=client_credentials \
    --data-urlencode "scope=${3:-mcp:tools mcp:read}" --data-urlencode "resource=$2" -o "$work/$1.out" -w '%{http_code}' \
    "${token_endpoint:-$issuer/token}" 2>"$work/$1.err")"
  if [[ "$token" == 200 ]]; then
    token="$("$node" -p 'JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")).access_token ?? ""' "$work/$1.out" 2>/dev/null)"
  else
    token=""
  fi
}
jwt_part() {  # jwt_part TOKEN INDEX: the decoded JSON of part INDEX
  "$node" -p 'Buffer.from(process.argv[1].split(".")[Number(process.argv[2])] ?? "", "base64url").toString()' "$1" "$2" 2>/dev/null
}
fetch_token d-token "$resource"
if [[ -n "$token" ]]; then
  oidc_token="$token"
  echo "#   token header:  $(jwt_part "$token" 0)"
  echo "#   token payload: $(jwt_part "$token" 1)"
  init d "$oidc_token"
  expect_ok d "(d) initialize with a client_credentials token from ${token_endpoint:-$issuer/token}"
  d_session="$session"
  mcp_post d-initialized '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
    -H "Authorization: Bearer $oidc_token" -H "Mcp-Session-Id: $d_session" -H 'MCP-Protocol-Version: 2025-06-18'
  list='{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
  mcp_post d-list "$list" -H "Authorization: Bearer $oidc_token" -H "Mcp-Session-Id: $d_session" -H 'MCP-Protocol-Version: 2025-06-18'
  expect_ok d-list "(d) tools/list with that token in the session"
else
  oidc_token=""
  not_ok "(d) a client_credentials token from ${token_endpoint:-$issuer/token} for $resource" \
    "$(head -c 400 "$work/d-token.out" 2>/dev/null)" "$(head -c 300 "$work/d-token.err" 2>/dev/null)"
fi

# ---- (e) tampered and forged tokens ------------------------------------------------------
if [[ -n "$oidc_token" ]]; then
  tampered="$("$node" -p '
    const [h, p, s] = process.argv[1].split(".");
    const payload = JSON.parse(Buffer.from(p, "base64url"));
    payload.sub = "admin";
    [h, Buffer.from(JSON.stringify(payload)).toString("base64url"), s].join(".")' "$oidc_token")"
  init e-tampered "$tampered"
  expect_refused e-tampered 401 invalid_token "(e) the token with its payload changed (sub admin), signature kept"
  # shellcheck disable=SC2016  # JavaScript, not shell expansions
  forged="$("$node" -p '
    const crypto = require("node:crypto");
    const [h, p] = process.argv[1].split(".");
    const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    const sig = crypto.sign("sha256", Buffer.from(`${h}.${p}`), privateKey).toString("base64url");
    `${h}.${p}.${sig}`' "$oidc_token")"
  init e-forged "$forged"
  expect_refused e-forged 401 invalid_token "(e) the same claims signed by another RSA key under the issuer's kid"
fi
init e-garbage not-a-jwt
expect_refused e-garbage 401 invalid_token "(e) a token that is neither a JWT nor a static token"

# ---- (f) a token for another resource -----------------------------------------------------
fetch_token f-token "$other_resource"
if [[ -n "$token" ]]; then
  echo "#   other token payload: $(jwt_part "$token" 1)"
  init f "$token"
  expect_refused f 401 invalid_token "(f) a token whose aud is $other_resource"
else
  not_ok "(f) a client_credentials token for $other_resource" \
    "$(head -c 400 "$work/f-token.out" 2>/dev/null)" "$(head -c 300 "$work/f-token.err" 2>/dev/null)"
fi

# ---- (g) the static token ------------------------------------------------------------------
init g "$static_token"
expect_ok g "(g) initialize with the static token"

# ---- (h) shutdown ----------------------------------------------------------------------------
stop_server
if [[ "$server_status" == 0 ]]; then
  ok "(h) everything_server exits with status 0 on SIGTERM"
else
  mapfile -t server_log < <(tail -n 10 "$work/server.log")
  not_ok "(h) everything_server exits with status 0 on SIGTERM" "exit status $server_status; log:" "${server_log[@]}"
fi

# ---- (i) required scopes ----------------------------------------------------------------------
if start_server --auth-scope mcp:tools --auth-scope mcp:admin; then
  init i-none
  expect_refused i-none 401 "" "(i) with --auth-scope mcp:tools --auth-scope mcp:admin: initialize without a token"
  if [[ "$challenge" == *'scope="mcp:tools mcp:admin"'* ]]; then
    ok "(i) the challenge names the required scopes"
  else
    not_ok "(i) the challenge names the required scopes" "WWW-Authenticate: ${challenge:-(none)}, expected scope=\"mcp:tools mcp:admin\""
  fi
  if [[ -n "$oidc_token" ]]; then
    init i-scope "$oidc_token"
    expect_refused i-scope 403 insufficient_scope "(i) the oidc-provider token (scope mcp:tools mcp:read)"
    # Step-up (MCP 2025-11-25): a new token for the challenge's scope, then the retry.
    step_up_scope="$(header i-scope www-authenticate | sed -n 's/.*[ ,]scope="\([^"]*\)".*/\1/p')"
    fetch_token i-step-up-token "$resource" "$step_up_scope"
    if [[ "$step_up_scope" == "mcp:tools mcp:read mcp:admin" && -n "$token" ]]; then
      init i-step-up "$token"
      expect_ok i-step-up "(i) step-up: a token for the 403's scope=\"$step_up_scope\" from the authorization server, then initialize"
    else
      not_ok "(i) step-up: a token for the 403's scope" "scope from the challenge: '${step_up_scope}', token: ${token:+obtained}"
    fi
  fi
  init i-static "$static_token"
  expect_ok i-static "(i) initialize with the static token (every scope)"
  stop_server
  if [[ "$server_status" == 0 ]]; then
    ok "(i) everything_server exits with status 0 on SIGTERM"
  else
    mapfile -t server_log < <(tail -n 10 "$work/server.log")
    not_ok "(i) everything_server exits with status 0 on SIGTERM" "exit status $server_status; log:" "${server_log[@]}"
  fi
else
  mapfile -t server_log < <(tail -n 10 "$work/server.log")
  not_ok "(i) everything_server restarts on port $port with --auth-scope" "exit status $server_status; log:" "${server_log[@]}"
fi
stop_oidc
finish
