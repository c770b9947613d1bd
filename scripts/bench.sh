#!/usr/bin/env bash
# Runs the benchmarks on this machine and prints the figures README.md quotes, with the machine's
# own RSA-2048 verify rate (openssl speed) beside them. Nothing is asserted.
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
build/gost_bench --benchmark_min_time=1
echo "=== intake (one core)"
build/intake_bench --benchmark_min_time=2
echo "=== end to end through a local RabbitMQ (${NQS_BENCH_INPUTS:-5000} inputs)"
tests/broker/broker.sh start build/bench-broker 27872 >/dev/null
trap 'tests/broker/broker.sh stop build/bench-broker 27872' EXIT
build/e2e_bench "${NQS_BENCH_INPUTS:-5000}"
echo "=== durable timers: one million pending, ten thousand due at once (the real daemon)"
build/timers_bench 1000000 10000
