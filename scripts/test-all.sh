#!/usr/bin/env bash
# The README's second command: installs what is missing, builds, and runs every test with CTest.
#   scripts/test-all.sh            everything
#   scripts/test-all.sh -L unit    only the tests with that CTest label (unit, cli, lint)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh build
ctest --test-dir build --output-on-failure -j "$(nproc)" "$@"
