#!/usr/bin/env bash
# Seeds the intake fuzzer: every fixture signed with the xmlsec1 command-line tool and the test
# PKI, plus a few hostile shapes. make-corpus.sh PKI_DIR OUT_DIR
set -euo pipefail
pki=$1
out=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
for pair in voucher-application:individual-sign recognition-center-decision:center-head \
            sick-leave-notice:individual-sign recognition-outcome:center-head service-act:center-head; do
  doc=${pair%%:*}
  signer=${pair##*:}
  element=$(grep -o '<v:[A-Za-z]*' "$root/tests/fixtures/documents/$doc.xml" | head -1 | cut -c4-)
  xmlsec1 --sign --privkey-pem "$pki/$signer.key,$pki/$signer.pem" \
    --id-attr:Id "urn:kz:enbek:nqs:voucher:1:$element" \
    --output "$out/$doc.xml" "$root/tests/fixtures/documents/$doc.xml"
done
printf '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>' > "$out/doctype.xml"
printf '<a>&undeclared;</a>' > "$out/entity.xml"
printf '<?xml version="1.0" encoding="ISO-8859-1"?><a/>' > "$out/latin1.xml"
