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
echo "    certificate's and the document's): the verify alone timed between blocks of the same"
echo "    documents (the machine's speed drifts within a minute), and as timed above, apart"
# Google Benchmark's JSON: one "name", "cpu_time" and "time_unit" line each, in that order, then
# the counters (intake_bench's new-signer runs: two_verifies_us and x_two_verifies).
awk -F'"' '
  function us_of(value, unit) {
    return unit == "ns" ? value / 1000 : unit == "ms" ? value * 1000 : unit == "s" ? value * 1e6 : value
  }
  function number(text,   parts) { split(text, parts, /[:, ]+/); return parts[2] + 0 }
  $2 == "name" { name = $4 }
  $2 == "cpu_time" { time = number($3) }
  $2 == "time_unit" {
    us = us_of(time, $4)
    if (name == "BM_Rsa2048VerifyAlone") rsa_verify = us
    if (name == "BM_GostVerify/lib:0/alg:0") gost_verify = us
    if (name ~ /NewSigner/) { order[++count] = name; doc[name] = us }
  }
  $2 == "two_verifies_us" { between[name] = number($3) }
  $2 == "x_two_verifies" { ratio[name] = number($3) }
  END {
    for (i = 1; i <= count; ++i) {
      n = order[i]
      gost = n ~ /Gost/
      label = (gost ? "GOST 2015/512" : "RSA-2048") (n ~ /NationalCrl/ ? ", the issuing CA'"'"'s CRL of 100,000 entries" : "")
      alone = gost ? gost_verify : rsa_verify
      printf "%s: %6.0f us a document (%5.0f/s); its two verifies %5.0f us between its documents: x%.2f", label, doc[n], 1e6 / doc[n], between[n], ratio[n]
      if (alone) printf "; %5.0f us apart: x%.2f", 2 * alone, doc[n] / (2 * alone)
      printf "\n"
    }
  }' build/bench-intake.json build/bench-gost.json
echo "=== end to end through a local RabbitMQ (${NQS_BENCH_INPUTS:-5000} inputs)"
tests/broker/broker.sh start build/bench-broker 27872 >/dev/null
trap 'tests/broker/broker.sh stop build/bench-broker 27872' EXIT
build/e2e_bench "${NQS_BENCH_INPUTS:-5000}"
echo "=== end to end on GOST 34.10-2015/512 traffic, as NCA issues keys now: the applicants' and the"
echo "    adapter's (two GOST verifies for each new signer's document, a GOST signature each refusal)"
build/e2e_bench "${NQS_BENCH_INPUTS:-5000}" gost
echo "=== a long run: 50,000 applicants never seen before (100,000 inputs), the daemon's peak RSS"
build/e2e_bench 50000 accepted
echo "=== durable timers: one million pending, ten thousand due at once (the real daemon)"
build/timers_bench 1000000 10000
