#!/usr/bin/env bash
# Runs the benchmarks on this machine and prints the figures README.md quotes, with the machine's
# own RSA-2048 verify rate (openssl speed) beside them, and each new-signer intake figure against
# its two verifies measured in the same run. Nothing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
tests/pki/make-test-pki.sh build/test-pki
build/gost_test_pki build/test-pki
echo "=== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "=== openssl speed rsa2048 (one core)"
openssl speed -seconds 3 rsa2048 2>/dev/null | grep -E '^(rsa 2048|                  sign)'
echo "=== GOST primitives (one core), each with gost-engine (lib:0) and libgcrypt (lib:1)"
build/gost_bench --benchmark_min_time=1 --benchmark_out=build/bench-gost.json \
  --benchmark_out_format=json
echo "=== intake (one core)"
build/intake_bench --benchmark_min_time=2 --benchmark_out=build/bench-intake.json \
  --benchmark_out_format=json
echo "=== a document from an applicant never seen before, against its two verifies (the leaf"
echo "    certificate's and the document's), all measured above"
# Google Benchmark's JSON: one "name", "cpu_time" and "time_unit" line each, in that order.
awk -F'"' '
  $2 == "name" { name = $4 }
  $2 == "cpu_time" { split($3, value, /[:, ]+/); time = value[2] }
  $2 == "time_unit" {
    us = $4 == "ns" ? time / 1000 : $4 == "ms" ? time * 1000 : $4 == "s" ? time * 1e6 : time
    if (name ~ /^BM_IntakeRsaNewSigner/) rsa_new = us
    if (name == "BM_Rsa2048VerifyAlone") rsa_verify = us
    if (name ~ /^BM_IntakeGostNewSigner/) gost_new = us
    if (name == "BM_GostVerify/lib:0/alg:0") gost_verify = us
    if (name ~ /^BM_IntakeNationalCrlRsaNewSigner/) rsa_national = us
    if (name ~ /^BM_IntakeNationalCrlGostNewSigner/) gost_national = us
  }
  END {
    if (rsa_new && rsa_verify)
      printf "RSA-2048:      %6.0f us a document (%5.0f/s), its two verifies %5.0f us: x%.2f\n",
             rsa_new, 1e6 / rsa_new, 2 * rsa_verify, rsa_new / (2 * rsa_verify)
    if (gost_new && gost_verify)
      printf "GOST 2015/512: %6.0f us a document (%5.0f/s), its two verifies %5.0f us: x%.2f\n",
             gost_new, 1e6 / gost_new, 2 * gost_verify, gost_new / (2 * gost_verify)
    if (rsa_national && rsa_verify)
      printf "RSA-2048, the issuing CA'"'"'s CRL of 100,000 entries:      %6.0f us (%5.0f/s): x%.2f\n",
             rsa_national, 1e6 / rsa_national, rsa_national / (2 * rsa_verify)
    if (gost_national && gost_verify)
      printf "GOST 2015/512, the issuing CA'"'"'s CRL of 100,000 entries: %6.0f us (%5.0f/s): x%.2f\n",
             gost_national, 1e6 / gost_national, gost_national / (2 * gost_verify)
  }' build/bench-intake.json build/bench-gost.json
echo "=== end to end through a local RabbitMQ (${NQS_BENCH_INPUTS:-5000} inputs)"
tests/broker/broker.sh start build/bench-broker 27872 >/dev/null
trap 'tests/broker/broker.sh stop build/bench-broker 27872' EXIT
build/e2e_bench "${NQS_BENCH_INPUTS:-5000}"
echo "=== a long run: 50,000 applicants never seen before (100,000 inputs), the daemon's peak RSS"
build/e2e_bench 50000 accepted
echo "=== durable timers: one million pending, ten thousand due at once (the real daemon)"
build/timers_bench 1000000 10000
