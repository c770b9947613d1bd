#!/usr/bin/env bash
# Command-line tests of nqs-adapter: cli_test.sh CASE PATH-TO-nqs-adapter
# Run from the source tree (CTest does), so that config/adapter.yaml is the shipped one.
set -u
case_name=$1
nqs=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL [$case_name]: $*" >&2; exit 1; }
# expect_run RC EXPECTED_STDOUT -- command...: exact exit code and exact standard output.
expect_run() {
  local want_rc=$1 want_out=$2; shift 3
  local out rc
  out=$("$@" 2>"$work/stderr"); rc=$?
  [ "$rc" = "$want_rc" ] || fail "'$*' exited $rc, expected $want_rc; stderr: $(cat "$work/stderr")"
  [ "$out" = "$want_out" ] || fail "'$*' printed [$out], expected [$want_out]"
}
stderr_has() { grep -qF -- "$1" "$work/stderr" || fail "stderr lacks [$1]: $(cat "$work/stderr")"; }

# A configuration outside the source tree that names the shipped files by absolute path.
write_config() {
  local format=${1:-text}
  {
    echo "log: {level: info, format: $format}"
    echo "calendar:"
    echo "  files:"
    for f in "$PWD"/config/calendar/kz-*.yaml; do echo "    - $f"; done
    echo "intake:"
    echo "  envelope_schema: $PWD/xsd/envelope.xsd"
    echo "  mappings:"
    for f in "$PWD"/mappings/*.yaml; do echo "    - $f"; done
    echo "trust:"
    echo "  anchors: [$PWD/config/trust/local/ca-chain.pem]"
    echo "  crls: [$PWD/config/trust/local/root.crl.pem, $PWD/config/trust/local/issuing.crl.pem]"
    echo "domain: {mci: {2025: 3932}}"
    echo "signing: {key: $PWD/config/trust/local/adapter-sign.key, certificate: $PWD/config/trust/local/adapter-chain.pem}"
    echo "outbound:"
    echo "  mappings:"
    for f in "$PWD"/mappings/outbound/*.yaml; do echo "    - $f"; done
    echo "store: {url: 'sqlite:$work/store.sqlite'}"
    # No broker in these tests: the daemon keeps trying to connect while it runs.
    echo "amqp: {url: 'amqp://guest:guest@127.0.0.1:9/', reconnect_initial_delay: 100ms}"
  } > "$work/adapter.yaml"
}

# Signs a fixture with the xmlsec1 command-line tool and the local test PKI:
# sign_fixture FIXTURE SIGNER OUT [c14n-uri]
sign_fixture() {
  local fixture=$1 signer=$2 out=$3 c14n=${4:-}
  local template="tests/fixtures/documents/$fixture.xml"
  if [[ -n "$c14n" ]]; then
    sed "s#http://www.w3.org/2001/10/xml-exc-c14n\##$c14n#g" "$template" > "$work/template.xml"
    template="$work/template.xml"
  fi
  local element
  element=$(grep -o '<v:[A-Za-z]*' "tests/fixtures/documents/$fixture.xml" | head -1 | cut -c4-)
  xmlsec1 --sign --privkey-pem "config/trust/local/$signer.key,config/trust/local/$signer.pem" \
    --id-attr:Id "urn:kz:enbek:nqs:voucher:1:$element" --output "$out" "$template" \
    || fail "xmlsec1 could not sign $fixture"
}

# Starts the daemon in the background, waits (bounded) until it says it started.
start_daemon() {
  "$nqs" run --config "$1" 2>"$work/daemon.log" &
  daemon_pid=$!
  for _ in $(seq 1 200); do
    grep -q "nqs-adapter started" "$work/daemon.log" && return 0
    kill -0 "$daemon_pid" 2>/dev/null || fail "daemon exited early: $(cat "$work/daemon.log")"
    sleep 0.05
  done
  fail "daemon did not start: $(cat "$work/daemon.log")"
}

case "$case_name" in
  calendar_add_example)
    # Nauryz, a weekend and two moved days between 20 and 26 March 2025.
    expect_run 0 "2025-03-26" -- "$nqs" calendar add 2025-03-20 1
    expect_run 0 "2026-01-05" -- "$nqs" calendar add 2025-12-31 1
    ;;
  calendar_add_zero)
    expect_run 0 "2025-03-22" -- "$nqs" calendar add 2025-03-22 0
    expect_run 0 "2025-03-26" -- "$nqs" calendar add 2025-03-22 1
    ;;
  calendar_is_working)
    expect_run 0 "2025-03-20 working" -- "$nqs" calendar is-working 2025-03-20
    expect_run 0 "2025-03-24 non-working day off moved from Saturday 2025-03-22 (Nauryz meirami)" \
      -- "$nqs" calendar is-working 2025-03-24
    # The option may also come after the subcommand's arguments.
    expect_run 0 "2024-06-16 non-working religious day off, never moved: Kurban ait (first day)" \
      -- "$nqs" calendar is-working 2024-06-16 --config config/adapter.yaml
    ;;
  calendar_is_working_weekend)
    expect_run 0 "2025-01-04 non-working weekend (Saturday)" -- "$nqs" calendar is-working 2025-01-04
    expect_run 0 "2025-01-05 working decreed working day in exchange for Friday 2025-01-03 (Government decree on the transfer of days off in 2025)" \
      -- "$nqs" calendar is-working 2025-01-05
    ;;
  calendar_year)
    out=$("$nqs" calendar year 2025) || fail "calendar year failed"
    [ "$(echo "$out" | wc -l)" = 17 ] || fail "expected 17 lines for 2025, got: $out"
    [ "$(echo "$out" | head -1)" = "2025-01-01 non-working public holiday: New Year" ] || fail "first line: $out"
    echo "$out" | grep -qx "2025-01-05 working decreed working day in exchange for Friday 2025-01-03 (Government decree on the transfer of days off in 2025)" \
      || fail "working Sunday missing: $out"
    # Weekends that are plain weekends are not listed; weekend holidays neither (they are Saturdays).
    echo "$out" | grep -q "^2025-03-22" && fail "a Saturday was listed: $out"
    true
    ;;
  calendar_not_covered)
    expect_run 1 "" -- "$nqs" calendar is-working 2030-01-01
    stderr_has "2030-01-01 is outside the working-day calendar (years covered: 2023-2027)"
    expect_run 1 "" -- "$nqs" calendar add 2027-12-30 2
    stderr_has "2028-01-01 is outside the working-day calendar"
    expect_run 1 "" -- "$nqs" calendar year 2031
    ;;
  calendar_bad_date)
    expect_run 2 "" -- "$nqs" calendar add 2025-13-01 1
    stderr_has "'2025-13-01' is not a date written YYYY-MM-DD"
    expect_run 2 "" -- "$nqs" calendar is-working tomorrow
    ;;
  calendar_negative_n)
    expect_run 2 "" -- "$nqs" calendar add 2025-03-20 -1
    expect_run 2 "" -- "$nqs" calendar add 2025-03-20 one
    ;;
  check_config_ok)
    expect_run 0 "config/adapter.yaml: configuration is valid (calendar 2023-2027, time zone Asia/Almaty, 5 document mappings, 4 trust anchors, 4 CRLs)" \
      -- "$nqs" check-config
    ;;
  check_config_broken)
    write_config
    sed -i 's/level: info/level: loud/; s#  files:#  files:\n    - missing.yaml#; s#^trust:#trust:\n  anchor: []#' "$work/adapter.yaml"
    expect_run 1 "" -- "$nqs" check-config --config "$work/adapter.yaml"
    stderr_has "$work/adapter.yaml:1:14: log.level: 'loud' is not one of: trace, debug, info, warn, error"
    stderr_has "calendar.files[0]: file not found: $work/missing.yaml"
    stderr_has "trust.anchor: unknown key, did you mean 'anchors'?"
    stderr_has "3 problems found"
    ;;
  check_config_due_dates)
    # A table without the LMC's extension step: allowed, but the AIS is told no extendDueBy.
    write_config
    printf 'deadlines:\n  steps:\n    - {step: lmc_payment, responsible: lmc, stages: [act_received], working_days: 5, basis: Rules 380 art. 17}\n' >> "$work/adapter.yaml"
    expect_run 0 "$work/adapter.yaml: configuration is valid (calendar 2023-2027, time zone Asia/Almaty, 5 document mappings, 2 trust anchors, 2 CRLs)" \
      -- "$nqs" check-config --config "$work/adapter.yaml"
    stderr_has "note: RecordSickLeave carries no extendDueBy when the application enters extension_requested"
    stderr_has "note: RegisterApplication carries no reviewDueBy"
    grep -q "payDueBy" "$work/stderr" && fail "payDueBy has its step: $(cat "$work/stderr")"
    # The shipped table gives every due date.
    expect_run 0 "config/adapter.yaml: configuration is valid (calendar 2023-2027, time zone Asia/Almaty, 5 document mappings, 4 trust anchors, 4 CRLs)" \
      -- "$nqs" check-config
    grep -q "note:" "$work/stderr" && fail "a note for the shipped table: $(cat "$work/stderr")"
    true
    ;;
  check_config_env)
    printf 'bogus: 1\n' > "$work/adapter.yaml"
    expect_run 1 "" -- env NQS_ADAPTER_CONFIG="$work/adapter.yaml" "$nqs" check-config
    stderr_has "bogus: unknown key"
    # An explicit --config wins over the environment.
    write_config
    expect_run 0 "$work/adapter.yaml: configuration is valid (calendar 2023-2027, time zone Asia/Almaty, 5 document mappings, 2 trust anchors, 2 CRLs)" \
      -- env NQS_ADAPTER_CONFIG=/nonexistent.yaml "$nqs" check-config --config "$work/adapter.yaml"
    ;;
  check_config_next_year)
    # From 1 November the coming year's calendar and MCI are expected: said, not refused. The
    # clock is moved forward into the last year the shipped calendars cover (2027; a later one
    # moves this test with the files).
    write_config
    sed -i 's#^domain: .*#domain: {mci: {2025: 3932, 2027: 4600}}#' "$work/adapter.yaml"
    hours_to() { echo $(( ($(date -d "$1" +%s) - $(date +%s)) / 3600 )); }
    cp "$work/adapter.yaml" "$work/october.yaml"
    echo "clock: {offset: $(hours_to '2027-10-15 06:00 UTC')h}" >> "$work/october.yaml"
    "$nqs" check-config --config "$work/october.yaml" > /dev/null 2>"$work/stderr" \
      || fail "october: $(cat "$work/stderr")"
    ! grep -q "warning" "$work/stderr" || fail "a warning in October: $(cat "$work/stderr")"
    echo "clock: {offset: $(hours_to '2027-11-15 06:00 UTC')h}" >> "$work/adapter.yaml"
    "$nqs" check-config --config "$work/adapter.yaml" > /dev/null 2>"$work/stderr" \
      || fail "november: $(cat "$work/stderr")"
    stderr_has "warning: 2027 configured; 2028 lacks the calendar file (calendar.files: kz-2028.yaml) and the MCI (domain.mci: 2028) (add it before 2028-01-01)"
    ;;
  check_config_urls)
    # Every connection setting is checked before anything connects, each with its key path.
    write_config
    expect_run 1 "" -- env NQS_AMQP_URL=http://nope "$nqs" check-config --config "$work/adapter.yaml"
    stderr_has "amqp: NQS_AMQP_URL: 'http://nope' is not an amqp:// or amqps:// URL"
    # In the environment, commas separate URLs: a host list inside one URL is two bad URLs.
    expect_run 1 "" -- env NQS_AMQP_URL=amqp://h1:5672,h2:5672/ "$nqs" check-config --config "$work/adapter.yaml"
    stderr_has "NQS_AMQP_URL: 'h2:5672/' is not an amqp:// or amqps:// URL"
    expect_run 0 "$work/adapter.yaml: configuration is valid (calendar 2023-2027, time zone Asia/Almaty, 5 document mappings, 2 trust anchors, 2 CRLs)" \
      -- env "NQS_AMQP_URL=amqp://n1:5672/, amqp://n2:5672/" "$nqs" check-config --config "$work/adapter.yaml"
    sed -i '/^store:/d; /^amqp:/d' "$work/adapter.yaml"
    printf 'amqp:\n  url: [amqp://n1:5672/, amqp://n2:99999/]\nstore: {url: "postgresql://nqs:s3cret@db:5432/nqs?target_session_attrs=any"}\n' >> "$work/adapter.yaml"
    expect_run 1 "" -- "$nqs" check-config --config "$work/adapter.yaml"
    stderr_has "amqp.url[1]: 'amqp://n2:99999/': '99999' is not a port (1 to 65535)"
    stderr_has "store.url: 'postgresql://nqs:***@db:5432/nqs?target_session_attrs=any': target_session_attrs=any may land on a standby"
    if grep -q s3cret "$work/stderr"; then fail "a password in a message"; fi
    ;;
  signing_pkcs12)
    # The adapter's key as NCA RK delivers it: a password-protected PKCS#12, here made by
    # `openssl pkcs12 -export`; its password from a file or the environment, never the configuration.
    write_config
    openssl pkcs12 -export -inkey config/trust/local/adapter-sign.key \
      -in config/trust/local/adapter-chain.pem -passout pass:right-one -out "$work/adapter.p12" \
      || fail "openssl pkcs12 -export"
    printf 'right-one\n' > "$work/password"
    sed -i "s#^signing: .*#signing: {pkcs12: $work/adapter.p12, password_file: $work/password}#" "$work/adapter.yaml"
    expect_run 0 "$work/adapter.yaml: configuration is valid (calendar 2023-2027, time zone Asia/Almaty, 5 document mappings, 2 trust anchors, 2 CRLs)" \
      -- "$nqs" check-config --config "$work/adapter.yaml"
    sed -i "s#^signing: .*#signing: {pkcs12: $work/adapter.p12}#" "$work/adapter.yaml"
    expect_run 0 "$work/adapter.yaml: configuration is valid (calendar 2023-2027, time zone Asia/Almaty, 5 document mappings, 2 trust anchors, 2 CRLs)" \
      -- env NQS_SIGNING_PASSWORD=right-one "$nqs" check-config --config "$work/adapter.yaml"
    # A wrong password: a clear error, and the daemon does not start.
    expect_run 78 "" -- env NQS_SIGNING_PASSWORD=wrong "$nqs" run --config "$work/adapter.yaml"
    stderr_has "signing: $work/adapter.p12: the password is wrong"
    stderr_has "not started because of the configuration problems above"
    if grep -q wrong "$work/adapter.yaml"; then fail "a password in the configuration"; fi
    ;;
  check_config_signing_certificate)
    # A signing certificate that has ended, or that is not the key's, is refused before start.
    write_config
    sed -i "s#^signing: .*#signing: {key: $PWD/config/trust/local/individual-expired.key, certificate: $PWD/config/trust/local/individual-expired.pem}#" "$work/adapter.yaml"
    expect_run 1 "" -- "$nqs" check-config --config "$work/adapter.yaml"
    stderr_has "signing: the certificate 'GN=IVAN,SN=IVANOV,serialNumber=IIN850101300124"
    stderr_has "has ended (2021-01-01"
    sed -i "s#^signing: .*#signing: {key: $PWD/config/trust/local/individual-sign.key, certificate: $PWD/config/trust/local/adapter-chain.pem}#" "$work/adapter.yaml"
    expect_run 1 "" -- "$nqs" check-config --config "$work/adapter.yaml"
    stderr_has "the first certificate is not the one of the key"
    ;;
  run_refuses_bad_config)
    printf 'calendar: {files: []}\n' > "$work/adapter.yaml"
    expect_run 78 "" -- "$nqs" run --config "$work/adapter.yaml"
    stderr_has "calendar.files: list at least one calendar file"
    stderr_has "not started because of the configuration problems above"
    ;;
  run_stops_on_sigterm)
    write_config
    start_daemon "$work/adapter.yaml"
    kill -TERM "$daemon_pid"
    wait "$daemon_pid"; rc=$?
    [ "$rc" = 0 ] || fail "daemon exited $rc after SIGTERM: $(cat "$work/daemon.log")"
    grep -q "info stopping signal=SIGTERM" "$work/daemon.log" || fail "no stop line: $(cat "$work/daemon.log")"
    grep -q "info nqs-adapter stopped" "$work/daemon.log" || fail "no stopped line"
    [ -f "$work/store.sqlite" ] || fail "the store was not created where configured"
    ;;
  run_json_logs)
    write_config json
    start_daemon "$work/adapter.yaml"
    kill -INT "$daemon_pid"
    wait "$daemon_pid" || fail "daemon failed after SIGINT"
    # Every line is one JSON object with time, level and message.
    jq -e -s 'length >= 3 and all(.[]; (.time|type)=="string" and (.level|type)=="string" and (.message|type)=="string")' \
      "$work/daemon.log" >/dev/null || fail "not JSON lines: $(cat "$work/daemon.log")"
    jq -e -s 'any(.[]; .message=="nqs-adapter started" and .calendar=="2023-2027" and .time_zone=="Asia/Almaty")' \
      "$work/daemon.log" >/dev/null || fail "start line lacks fields: $(cat "$work/daemon.log")"
    jq -e -s 'any(.[]; .message=="stopping" and .signal=="SIGINT")' "$work/daemon.log" >/dev/null \
      || fail "no stop line: $(cat "$work/daemon.log")"
    ;;
  help_lists_commands)
    out=$("$nqs" --help) || fail "--help failed"
    for cmd in run check-config calendar; do
      echo "$out" | grep -qE "^  $cmd " || fail "--help lacks $cmd: $out"
    done
    echo "$out" | grep -qE "^  inspect " || fail "--help lacks inspect: $out"
    echo "$out" | grep -qE "^  sla " || fail "--help lacks sla: $out"
    echo "$out" | grep -qE "^  clock " || fail "--help lacks clock: $out"
    for cmd in dlq queues evidence send demo; do
      echo "$out" | grep -qE "^  $cmd " || fail "--help lacks $cmd: $out"
    done
    "$nqs" calendar --help | grep -q "is-working" || fail "calendar --help lacks is-working"
    "$nqs" evidence --help | grep -q "verify" || fail "evidence --help lacks verify"
    expect_run 2 "" -- "$nqs"
    expect_run 2 "" -- "$nqs" frobnicate
    ;;
  inspect_accepts_xmlsec1_signed_files)
    # Signed by another tool (the xmlsec1 command line), in both canonicalizations.
    sign_fixture voucher-application individual-sign "$work/application.xml"
    sign_fixture service-act center-head "$work/act.xml" "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    sign_fixture recognition-center-decision center-head "$work/decision.xml"
    out=$("$nqs" inspect "$work/application.xml" "$work/act.xml" "$work/decision.xml") || fail "inspect exited $?: $out"
    [ "$(echo "$out" | wc -l)" = 3 ] || fail "expected 3 lines: $out"
    echo "$out" | jq -e -s 'all(.[]; .outcome=="accepted" and .reason==null)' >/dev/null || fail "not all accepted: $out"
    echo "$out" | jq -e -s '.[0] | .file=="'"$work"'/application.xml" and .documentType=="VoucherApplication"
      and .signer.iin=="850101300124" and .signer.bin==null and (.signer.subject|contains("IIN850101300124"))
      and .command.type=="SubmitVoucherApplication" and .command.payload.applicant.iin=="850101300124"' >/dev/null \
      || fail "application line: $out"
    echo "$out" | jq -e -s '.[1] | .documentType=="ServiceAct" and .signer.bin=="120340501232"
      and .command.payload.totalTiyn==1250075' >/dev/null || fail "act line: $out"
    ;;
  commands_load_what_they_use)
    # A fresh clone: the shipped configuration, its local test PKI never made.
    mkdir -p "$work/clone"
    git ls-files -z config xsd mappings | tar -cf - --null -T - | tar -xf - -C "$work/clone"
    [ ! -e "$work/clone/config/trust/local" ] || fail "the copy holds a local PKI"
    cfg="$work/clone/config/adapter.yaml"
    expect_run 0 "2025-03-26" -- "$nqs" calendar add 2025-03-20 1 --config "$cfg"
    expect_run 0 "2025-03-24 non-working day off moved from Saturday 2025-03-22 (Nauryz meirami)" \
      -- "$nqs" calendar is-working 2025-03-24 --config "$cfg"
    "$nqs" clock show --config "$cfg" > /dev/null 2>"$work/stderr" || fail "clock show: $(cat "$work/stderr")"
    # What needs the PKI says how to make it.
    expect_run 1 "" -- "$nqs" check-config --config "$cfg"
    stderr_has "trust.anchors[0]: file not found"
    stderr_has "signing.key: file not found"
    stderr_has "the local test PKI is missing: make it with scripts/make-local-pki.sh"
    # inspect needs the trust anchors, not the signing key.
    cp -r config/trust "$work/clone/config/trust"
    rm "$work/clone/config/trust/local/adapter-sign.key"
    expect_run 1 "" -- "$nqs" check-config --config "$cfg"
    stderr_has "signing.key: file not found"
    sign_fixture voucher-application individual-sign "$work/application.xml"
    out=$("$nqs" inspect --offline --config "$cfg" "$work/application.xml" 2>"$work/stderr") \
      || fail "inspect exited $?: $out $(cat "$work/stderr")"
    echo "$out" | jq -e '.outcome=="accepted"' >/dev/null || fail "inspect printed [$out]"
    ! grep -q "signing" "$work/stderr" || fail "inspect asked for the signing key: $(cat "$work/stderr")"
    # A PKCS#12 whose password comes from the environment: only what signs asks for it.
    sed -i 's#^  key: trust/local/adapter-sign.key#  pkcs12: trust/local/gost-adapter-sign.p12#; /^  certificate: trust\/local\/adapter-chain.pem/d' "$cfg"
    grep -q "pkcs12: trust/local/gost-adapter-sign.p12" "$cfg" || fail "no pkcs12 in the copy"
    expect_run 0 "2025-03-26" -- env -u NQS_SIGNING_PASSWORD "$nqs" calendar add 2025-03-20 1 --config "$cfg"
    out=$(env -u NQS_SIGNING_PASSWORD "$nqs" inspect --offline --config "$cfg" "$work/application.xml" 2>"$work/stderr") \
      || fail "inspect asked for the password: $out $(cat "$work/stderr")"
    expect_run 1 "" -- env -u NQS_SIGNING_PASSWORD "$nqs" check-config --config "$cfg"
    stderr_has "signing.pkcs12: its password is needed"
    ;;
  send_refused_in_production)
    # Under the production profile nothing is sent without --yes: refused before any connection.
    write_config
    echo "profile: production" >> "$work/adapter.yaml"
    echo '{"eventId": "e1"}' > "$work/event.json"
    expect_run 1 "" -- "$nqs" send --queue ais --config "$work/adapter.yaml" "$work/event.json"
    stderr_has "the production profile: what is sent is processed for real; give --yes to send"
    # With --yes it goes on to the broker (none here).
    expect_run 1 "" -- "$nqs" send --yes --queue ais --config "$work/adapter.yaml" "$work/event.json"
    ! grep -q "give --yes" "$work/stderr" || fail "refused with --yes: $(cat "$work/stderr")"
    expect_run 2 "" -- "$nqs" send --queue ais --config "$work/adapter.yaml" "$work/missing.json"
    stderr_has "missing.json: cannot be read"
    # A FIFO (no end, and opening it waits for a writer) is refused before it is opened.
    mkfifo "$work/fifo"
    expect_run 2 "" -- timeout 10 "$nqs" send --queue ais --config "$work/adapter.yaml" "$work/fifo"
    stderr_has "fifo: cannot be read (or not a regular file)"
    # The demo plays made-up people with the local test PKI: never under the production profile.
    expect_run 1 "" -- "$nqs" demo --config "$work/adapter.yaml"
    stderr_has "demo plays made-up people with the local test PKI: refused under the production profile"
    ;;
  inspect_offline)
    # inspect judges revocation as the daemon would: here by an OCSP responder that does not
    # answer (a closed port), so the signer's status cannot be had; --offline uses the CRL files.
    sign_fixture voucher-application individual-sign "$work/application.xml"
    write_config
    sed -i "s#^  crls: \(.*\)#  crls: \1\n  revocation: ocsp\n  ocsp_url: http://127.0.0.1:9/#" "$work/adapter.yaml"
    out=$("$nqs" inspect --config "$work/adapter.yaml" "$work/application.xml" 2>"$work/stderr")
    [ $? = 1 ] || fail "inspect should refuse: $out"
    echo "$out" | jq -e '.reason=="certificate.untrusted" and (.detail|contains("cannot be checked"))' >/dev/null \
      || fail "online: $out"
    out=$("$nqs" inspect --offline --config "$work/adapter.yaml" "$work/application.xml") \
      || fail "inspect --offline exited $?: $out"
    echo "$out" | jq -e '.outcome=="accepted"' >/dev/null || fail "offline: $out"
    ;;
  inspect_accepts_gost_kalkan_files)
    # Signed as NCALayer signs (GOST 34.10-2015/512 and a legal entity's 34.310-2004 key,
    # inclusive c14n #WithComments), by the local PKI's GOST half, with the shipped configuration.
    "${NQS_GOST_TEST_PKI:?}" config/trust/local --corpus "$work/gost" || fail "gost_test_pki failed"
    out=$("$nqs" inspect "$work"/gost/gost-*.xml) || fail "inspect exited $?: $out"
    [ "$(echo "$out" | wc -l)" = 5 ] || fail "expected 5 lines: $out"
    echo "$out" | jq -e -s 'all(.[]; .outcome=="accepted" and .reason==null)' >/dev/null || fail "not all accepted: $out"
    echo "$out" | jq -e -s 'map(select(.documentType=="VoucherApplication"))[0]
      | .signer.iin=="850101300124" and .command.type=="SubmitVoucherApplication"' >/dev/null \
      || fail "application line: $out"
    grep -q 'gost34310-gost34311' "$work/gost/gost-recognition-outcome.xml" || fail "no 34.310-2004 signature"
    grep -q 'REC-xml-c14n-20010315#WithComments' "$work/gost/gost-service-act.xml" || fail "not Kalkan's profile"
    # A changed byte is refused as NCALayer's verifier would.
    sed 's/Сварщик/Инженер/' "$work/gost/gost-voucher-application.xml" > "$work/altered.xml"
    out=$("$nqs" inspect "$work/altered.xml"); rc=$?
    [ "$rc" = 1 ] || fail "an altered GOST document: inspect exited $rc"
    echo "$out" | jq -e '.reason=="signature.invalid"' >/dev/null || fail "altered: $out"
    ;;
  inspect_rejects_with_reasons)
    sign_fixture voucher-application individual-sign "$work/good.xml"
    sed 's/Сварщик/Инженер/' "$work/good.xml" > "$work/altered.xml"
    sign_fixture voucher-application individual-revoked "$work/revoked.xml"
    printf '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>' > "$work/xxe.xml"
    out=$("$nqs" inspect "$work/good.xml" "$work/altered.xml" "$work/revoked.xml" "$work/xxe.xml"); rc=$?
    [ "$rc" = 1 ] || fail "inspect exited $rc with a rejection, expected 1"
    echo "$out" | jq -e -s '[.[].reason] == [null, "signature.invalid", "certificate.revoked", "xml.forbidden_construct"]' >/dev/null \
      || fail "reasons: $out"
    echo "$out" | jq -e -s '.[1].detail | contains("changed after signing")' >/dev/null || fail "detail: $out"
    # A refused certificate still says who claims to have signed.
    echo "$out" | jq -e -s '.[2] | .signer.iin=="850101300124" and .command==null' >/dev/null || fail "revoked: $out"
    ;;
  inspect_usage)
    expect_run 2 "" -- "$nqs" inspect
    expect_run 2 "" -- "$nqs" inspect "$work/does-not-exist.xml"
    stderr_has "does-not-exist.xml: cannot be read"
    sign_fixture voucher-application individual-sign "$work/good.xml"
    expect_run 2 "" -- "$nqs" inspect --at yesterday "$work/good.xml"
    # --at judges certificates as at another instant: a certificate that expired on 2021-01-01 is
    # refused now and accepted as at 2020.
    sign_fixture voucher-application individual-expired "$work/expired.xml"
    out=$("$nqs" inspect "$work/expired.xml"); rc=$?
    [ "$rc" = 1 ] || fail "expected a rejection now"
    echo "$out" | jq -e '.reason=="certificate.expired" and (.detail|contains("expired on 2021-01-01"))' >/dev/null || fail "now: $out"
    out=$("$nqs" inspect --at 2020-06-01T00:00:00+06:00 "$work/expired.xml") || fail "expected acceptance as at 2020: $out"
    echo "$out" | jq -e '.outcome=="accepted"' >/dev/null || fail "at 2020: $out"
    ;;
  version)
    expect_run 0 "0.1.0" -- "$nqs" --version
    ;;
  clock_advance)
    write_config
    # Without a control file the running clock cannot be moved.
    expect_run 1 "" -- "$nqs" clock advance 1h --config "$work/adapter.yaml"
    stderr_has "clock.control_file is not set"
    echo "clock: {offset: 1h, control_file: $work/clock-offset}" >> "$work/adapter.yaml"
    expect_run 0 "the clock of $work/adapter.yaml is now 37h00m ahead of the system clock" -- \
      "$nqs" clock advance 36h --config "$work/adapter.yaml"
    expect_run 0 "the clock of $work/adapter.yaml is now 3d13h ahead of the system clock" -- \
      "$nqs" clock advance 2d --config "$work/adapter.yaml"
    # The file holds what was advanced (84h); the configured offset (1h) comes on top.
    [ "$(cat "$work/clock-offset")" = "84h" ] || fail "control file: $(cat "$work/clock-offset")"
    out=$("$nqs" clock show --config "$work/adapter.yaml") || fail "clock show failed"
    echo "$out" | grep -qE '^20[0-9-]{8}T[0-9:.]{12}\+05:00 \(offset 30(5999999|6000000|6000001) ms\)$' \
      || fail "clock show: $out"
    expect_run 2 "" -- "$nqs" clock advance soon --config "$work/adapter.yaml"
    # The production profile refuses a shifted clock at start-up.
    sed -i '1i profile: production' "$work/adapter.yaml"
    expect_run 78 "" -- "$nqs" run --config "$work/adapter.yaml"
    stderr_has "clock.offset: not allowed in the production profile"
    ;;
  sla_list_empty)
    write_config
    out=$("$nqs" sla list --config "$work/adapter.yaml") || fail "sla list failed"
    echo "$out" | head -1 | grep -q "^APPLICATION  *STEP  *RESPONSIBLE  *STARTED  *DUE  *STATE$" || fail "header: $out"
    echo "$out" | tail -1 | grep -q "^0 open deadlines at " || fail "footer: $out"
    expect_run 0 "" -- "$nqs" sla list --overdue --json --config "$work/adapter.yaml"
    ;;
  *)
    fail "unknown case"
    ;;
esac
echo "PASS [$case_name]"
