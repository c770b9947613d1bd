#!/usr/bin/env bash
# A throw-away PKI for the test broker's TLS listener: make-tls.sh DIR
#   ca.pem, ca.key            the CA the broker's certificate chains to
#   server.pem, server.key    the broker's certificate, for localhost only (not 127.0.0.1)
#   client.pem, client.key    a client certificate from the same CA
#   other-ca.pem              a CA that signed nothing here (a wrong trust anchor)
set -euo pipefail
dir=$(mkdir -p "$1" && cd "$1" && pwd)
[[ -f "$dir/server.pem" && -f "$dir/other-ca.pem" ]] && exit 0
cd "$dir"
quiet() {
  local out
  out=$("$@" 2>&1) || { echo "make-tls.sh: $* failed: $out" >&2; exit 1; }
}
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 \
  -subj "/CN=nqs test broker CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 30 \
  -subj "/CN=nqs unrelated CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"
for name in server client; do
  quiet openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" \
    -subj "/CN=localhost"
  usage=$([[ $name == server ]] && echo serverAuth || echo clientAuth)
  printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' \
    "$usage" > "$name.ext"
  quiet openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out "$name.pem" -days 30 -extfile "$name.ext"
done
chmod 644 ./*.key
