#!/usr/bin/env bash
# Makes the throw-away PKI that config/adapter.yaml trusts for local runs and tests, in
# config/trust/local/ (ignored by git: its private keys never leave this machine): the RSA
# hierarchy (tests/pki/make-test-pki.sh) and the GOST one (gost_test_pki, built with the daemon;
# NQS_GOST_TEST_PKI names it when it is not build/gost_test_pki). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/pki/make-test-pki.sh config/trust/local "$@"
tool=${NQS_GOST_TEST_PKI:-build/gost_test_pki}
if [[ ! -x "$tool" ]]; then
  echo "make-local-pki: $tool is missing: build first (scripts/build.sh)" >&2
  exit 1
fi
"$tool" config/trust/local
