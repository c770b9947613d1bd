#!/usr/bin/env bash
# Installs the Debian 12 packages nqs-adapter needs to build, run and test; only the missing ones.
# Idempotent: a second run installs nothing and does not touch the network.
#   scripts/install-deps.sh          build and run
#   scripts/install-deps.sh --test   also what the tests use
set -euo pipefail

packages=(
  g++ make cmake pkg-config            # toolchain (C++20 with g++ 12)
  libboost1.81-dev libboost-json1.81-dev  # Asio, Beast, Outcome; JSON
  libyaml-cpp-dev                      # configuration
  libspdlog-dev libfmt-dev             # logging, formatting
  libcli11-dev                         # command line
  libhowardhinnant-date-dev tzdata     # dates and the tz database (Asia/Almaty)
  libxml2-dev libxmlsec1-dev libssl-dev  # hardened XML, XML signatures (OpenSSL back end)
  libgcrypt20-dev                      # GOST: every NCA curve and hash (34.10-2015, 34.310-2004)
  libengine-gost-openssl               # GOST: the faster signatures, loaded by OpenSSL at run time
  openssl                              # the local test PKI (scripts/make-local-pki.sh)
  libsqlite3-dev                       # the embedded store
  libpq-dev                            # the PostgreSQL store (libpq), for several instances
  librabbitmq-dev                      # AMQP 0-9-1 client (rabbitmq-c)
  libgoogle-perftools-dev              # tcmalloc, the daemon's allocator (NQS_TCMALLOC)
  prometheus-cpp-dev                   # the metrics registry and its text exposition
  libvalijson-dev                      # the AIS events against their JSON Schema (header-only)
  rabbitmq-server                      # the broker run-local.sh starts when none is configured
  iproute2                             # ss: is a port taken (scripts/run-local.sh, tests/broker)
  libgtest-dev libgmock-dev            # the unit tests are built with the daemon
)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(
    clang-format                       # the formatting check
    jq                                 # the command-line tests read JSON output
    xmlsec1                            # signs test documents with another tool than ours
    libbenchmark-dev                   # bench/ (Google Benchmark)
    clang libclang-rt-14-dev           # the libFuzzer build of .ci/run
    postgresql                         # a throw-away server for the store and multi-instance tests
    prometheus                         # promtool checks containers/monitoring's alerting rules
  )
fi

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
  "${missing[@]}"
