#!/usr/bin/env bash
# Make a throwaway certificate authority and a server certificate it signed,
# for local TLS tests and benchmarks only.
#
#   make_certs.sh <dir>
#
# Writes into <dir> (created if needed; existing files are replaced):
#   ca.pem, ca.key          the CA (CN "mcpsse throwaway test CA"), valid 2 days
#   server.pem, server.key  the server certificate and its key, signed by the CA:
#                           CN localhost, subjectAltName DNS:localhost and
#                           IP:127.0.0.1, extendedKeyUsage serverAuth, valid 2 days
# Keys are EC P-256 (prime256v1), unencrypted. Needs the `openssl` command
# (OpenSSL >= 1.1.1). Prints the folder and the server certificate's subject and
# names on success; exits non-zero with openssl's message otherwise.
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "usage: $0 <dir>" >&2
  exit 2
fi
command -v openssl >/dev/null 2>&1 || { echo "make_certs: the openssl command is not installed" >&2; exit 1; }

mkdir -p "$1"
dir="$(cd "$1" && pwd)"
# Built in a scratch folder and moved in at the end, so a reader never sees a
# key that does not match its certificate.
tmp="$(mktemp -d "$dir/.make_certs.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
serial() { echo "0x$(openssl rand -hex 16)"; }

openssl req -x509 "${ec[@]}" -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -days 2 \
  -set_serial "$(serial)" -subj "/CN=mcpsse throwaway test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$tmp/log" ||
  { cat "$tmp/log" >&2; exit 1; }

openssl req -new "${ec[@]}" -keyout "$tmp/server.key" -out "$tmp/server.csr" \
  -subj "/CN=localhost" 2>"$tmp/log" || { cat "$tmp/log" >&2; exit 1; }

cat >"$tmp/server.ext" <<'EXT'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EXT
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
  -set_serial "$(serial)" -days 2 -extfile "$tmp/server.ext" -out "$tmp/server.pem" 2>"$tmp/log" ||
  { cat "$tmp/log" >&2; exit 1; }

# The chain must verify for the names the tests use.
openssl verify -CAfile "$tmp/ca.pem" -x509_strict "$tmp/server.pem" >"$tmp/log" 2>&1 ||
  { cat "$tmp/log" >&2; exit 1; }

chmod 600 "$tmp/ca.key" "$tmp/server.key"
for f in ca.key ca.pem server.key server.pem; do mv -f "$tmp/$f" "$dir/$f"; done
echo "make_certs: $dir: $(openssl x509 -in "$dir/server.pem" -noout -subject) " \
     "($(openssl x509 -in "$dir/server.pem" -noout -ext subjectAltName 2>/dev/null | tail -n1 | sed 's/^ *//'))"
