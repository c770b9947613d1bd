#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the daemon in the
# foreground on the local defaults (config/adapter.yaml): SQLite under var/, the throw-away test
# PKI, and a RabbitMQ on 127.0.0.1:5672 that this script starts under build/local-broker when
# NQS_AMQP_URL is not set and nothing listens there. Stop the daemon with Ctrl-C; the broker
# keeps running (tests/broker/broker.sh stop build/local-broker 5672 stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
# The throw-away PKI that the local configuration trusts (config/trust/local/), made once.
scripts/make-local-pki.sh
if [[ -z "${NQS_AMQP_URL:-}" ]] && ! ss -ltn 2>/dev/null | grep -qE '127.0.0.1:5672 |\*:5672 |0.0.0.0:5672 '; then
  tests/broker/broker.sh start build/local-broker 5672
fi
config=${NQS_ADAPTER_CONFIG:-config/adapter.yaml}
build/nqs-adapter check-config --config "$config"
exec build/nqs-adapter run --config "$config"
