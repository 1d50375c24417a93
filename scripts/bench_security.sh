#!/usr/bin/env bash
# Produce and consume throughput over PLAINTEXT, SSL and SASL_SSL
# (SCRAM-SHA-512) listeners of one agent, from one run: the TLS/SASL cost
# beside plaintext. Makes its own CA and certificate with openssl.
#
# usage: scripts/bench_security.sh [FLOE_BINARY] [SECONDS]
#   FLOE_BINARY  default target/release/floe
# Prints one JSON summary line per run (floe bench --json).
set -euo pipefail
FLOE=${1:-target/release/floe}
SECONDS_PER_RUN=${2:-10}
FLOE=$(realpath "$FLOE")
DIR=$(mktemp -d)
trap 'kill "${AGENT:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$DIR"' EXIT
cd "$DIR"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=bench-ca -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=bench \
  -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
  -extfile san.ext -out server.pem 2>/dev/null
echo "bench-secret" | "$FLOE" users set bench --mechanism SCRAM-SHA-512 --password-stdin \
  --data-dir data >/dev/null
FLOE_LOG=warn "$FLOE" serve --data-dir data \
  --listeners PLAINTEXT://127.0.0.1:29092,SSL://127.0.0.1:29093,SASL_SSL://127.0.0.1:29094 \
  --tls-cert server.pem --tls-key server.key --http-listen 127.0.0.1:29644 > agent.log 2>&1 &
AGENT=$!
sleep 3
SSL=(--security-protocol ssl --ssl-ca-location ca.pem)
SASL=(--security-protocol sasl_ssl --ssl-ca-location ca.pem --sasl-mechanism SCRAM-SHA-512
      --sasl-username bench --sasl-password bench-secret)
run() { # label mode port topic args...
  local label=$1 mode=$2 port=$3 topic=$4
  shift 4
  printf '%s %s: ' "$label" "$mode"
  "$FLOE" bench "$mode" --bootstrap "127.0.0.1:$port" --topic "$topic" --record-size 1024 \
    --duration "$SECONDS_PER_RUN" --json "$@" | tail -1
}
run plaintext produce 29092 t-plain
run ssl produce 29093 t-ssl "${SSL[@]}"
run sasl_ssl produce 29094 t-sasl "${SASL[@]}"
# Every consumer reads the same topic, the plaintext producer's, after one
# unmeasured read has brought it into the agent's cache (else the first
# consumer alone would pay for the cold reads).
"$FLOE" bench consume --bootstrap 127.0.0.1:29092 --topic t-plain --duration 60 >/dev/null 2>&1
run plaintext consume 29092 t-plain
run ssl consume 29093 t-plain "${SSL[@]}"
run sasl_ssl consume 29094 t-plain "${SASL[@]}"
