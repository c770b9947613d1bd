#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, checks the configuration and runs
# the daemon in the foreground on the local defaults (config/adapter.yaml). Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
# The throw-away PKI that the local configuration trusts (config/trust/local/), made once.
scripts/make-local-pki.sh
config=${NQS_ADAPTER_CONFIG:-config/adapter.yaml}
build/nqs-adapter check-config --config "$config"
exec build/nqs-adapter run --config "$config"
