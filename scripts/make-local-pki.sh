#!/usr/bin/env bash
# Makes the throw-away PKI that config/adapter.yaml trusts for local runs and tests, in
# config/trust/local/ (ignored by git: its private keys never leave this machine). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/pki/make-test-pki.sh config/trust/local "$@"
