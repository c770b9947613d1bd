#!/usr/bin/env bash
# Configures and builds into a folder (default: build); extra arguments go to CMake.
#   scripts/build.sh [BUILD_DIR] [-DNAME=VALUE ...]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
shift || true
cmake -S . -B "$build_dir" "$@"
cmake --build "$build_dir" -j "$(nproc)"
