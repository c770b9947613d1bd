#!/usr/bin/env bash
# Checks the monitoring pack of containers/monitoring:
#   tests/monitoring/check-monitoring.sh RULES_DIR [METRICS_FILE]
# RULES_DIR holds alerts.yml and grafana/dashboards/*.json (containers/monitoring).
# - promtool check rules on alerts.yml (promtool: Debian's prometheus package; PROMTOOL names
#   another), and promtool test rules on tests/monitoring/alerts_test.yml (series given, alerts
#   expected: a dead-letter queue read by the dlq commands has not grown, a step's first breach,
#   the coming year missing);
# - every alert has a severity (critical or warning) and a summary, a description and a runbook,
#   and its runbook names an nqs-adapter command (nqs-adapter queues, dlq list, ...);
# - every dashboard is valid JSON (with jq, else python3; skipped without both) and names its
#   data source by the uid "prometheus" (with jq);
# - with METRICS_FILE (a scrape of /metrics taken after some traffic: a labelled series appears
#   at its first value), every nqs_ metric the rules and dashboards use is in it: a sample line
#   "NAME{..." or "NAME VALUE", or a "# TYPE NAME" line; NAME_bucket of a histogram and
#   NAME_sum, NAME_count of a histogram or summary count by their family's TYPE line.
# Prints each problem; exit 0 with a one-line summary when there is none, 1 otherwise, 2 on a
# usage error.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 RULES_DIR [METRICS_FILE]" >&2
  exit 2
fi
dir=${1%/}
metrics=${2:-}
rules=$dir/alerts.yml
[ -f "$rules" ] || { echo "$rules: no such file" >&2; exit 2; }
if [ -n "$metrics" ] && [ ! -f "$metrics" ]; then
  echo "$metrics: no such file" >&2
  exit 2
fi
shopt -s nullglob
dashboards=("$dir"/grafana/dashboards/*.json)
shopt -u nullglob

problems=0
problem() {
  echo "$*"
  problems=$((problems + 1))
}

# The rules: syntax, expressions, templates.
promtool=${PROMTOOL:-promtool}
if ! command -v "$promtool" >/dev/null; then
  echo "promtool not found: install Debian's prometheus package, or set PROMTOOL" >&2
  exit 2
fi
if ! out=$("$promtool" check rules "$rules" 2>&1); then
  problem "promtool check rules $rules:"
  while IFS= read -r line; do echo "  $line"; done <<<"$out"
fi

# What some alerts do with given series (promtool test rules; the tests name the rules file
# by its place in the source tree).
tests_file=$(dirname "$0")/alerts_test.yml
if [ -f "$tests_file" ] && ! out=$("$promtool" test rules "$tests_file" 2>&1); then
  problem "promtool test rules $tests_file:"
  while IFS= read -r line; do echo "  $line"; done <<<"$out"
fi

# Each alert's labels and annotations (the rules file as written here: one key a line).
while IFS= read -r line; do
  problem "$rules: $line"
done < <(awk '
  function finish() {
    if (name == "") return
    if (!severity) print name ": no severity label (critical or warning)"
    if (!summary) print name ": no summary annotation"
    if (!description) print name ": no description annotation"
    if (!runbook) print name ": no runbook annotation"
    else if (!command) print name ": its runbook names no nqs-adapter command"
    name = ""
  }
  function indent(text) { match(text, /^ */); return RLENGTH }
  BEGIN {
    command_re = "nqs-adapter (run|check-config|inspect|calendar|sla|clock|queues|dlq|evidence)"
    command_re = command_re "([^a-z-]|$)"
  }
  in_runbook && (indent($0) > runbook_indent || $0 ~ /^ *$/) {
    if ($0 ~ command_re) command = 1
    next
  }
  { in_runbook = 0 }
  /^ *- (alert|record):/ {
    finish()
    if ($0 ~ /- alert:/) {
      name = $0; sub(/^ *- alert: */, "", name)
      severity = summary = description = runbook = command = 0
    }
    next
  }
  name == "" { next }
  /^ *severity: *"?(critical|warning)"? *$/ { severity = 1 }
  /^ *summary:/ { summary = 1 }
  /^ *description:/ { description = 1 }
  /^ *runbook:/ {
    runbook = 1; in_runbook = 1; runbook_indent = indent($0)
    if ($0 ~ command_re) command = 1
  }
  END { finish() }
' "$rules")
alerts=$(grep -cE '^ *- alert:' "$rules" || true)

# The dashboards: JSON, and the data source they name.
json_checker=none
if command -v jq >/dev/null; then
  json_checker=jq
elif command -v python3 >/dev/null; then
  json_checker=python3
fi
for dashboard in "${dashboards[@]}"; do
  case $json_checker in
    jq)
      if ! out=$(jq empty "$dashboard" 2>&1); then
        problem "$dashboard: not valid JSON: $out"
        continue
      fi
      while IFS= read -r uid; do
        problem "$dashboard: a data source other than the uid \"prometheus\": $uid"
      done < <(jq -r '[.. | objects | select(has("datasource")) | .datasource
                       | if type == "object" then .uid // "(none)" else tostring end]
                      | unique | .[] | select(. != "prometheus")' "$dashboard")
      ;;
    python3)
      if ! out=$(python3 -m json.tool "$dashboard" 2>&1 >/dev/null); then
        problem "$dashboard: not valid JSON: $out"
      fi
      ;;
    none) ;;
  esac
done

# The metrics used, against a scrape.
present() {
  local name=$1 base
  grep -qE "^$name(\{| )" "$metrics" && return 0
  grep -qE "^# TYPE $name " "$metrics" && return 0
  case $name in
    *_bucket)
      base=${name%_bucket}
      grep -qE "^# TYPE $base histogram$" "$metrics" && return 0
      ;;
    *_sum | *_count)
      base=${name%_*}
      grep -qE "^# TYPE $base (histogram|summary)$" "$metrics" && return 0
      ;;
  esac
  return 1
}
mapfile -t used < <(grep -ohE '\bnqs_[a-z0-9_]+' "$rules" "${dashboards[@]}" | sort -u)
# Exported only under a configuration the scrape may not have, each with why.
declare -A conditional=(
  [nqs_crl_fetch_ok]="only once a CRL distribution point was fetched (trust.crl_fetch)"
)
scrape_note="no scrape given"
if [ -n "$metrics" ]; then
  for name in "${used[@]}"; do
    [ -n "${conditional[$name]:-}" ] && continue
    present "$name" || problem "$name: used by the rules or a dashboard, not in $metrics"
  done
  scrape_note="all in $metrics"
fi

if [ "$problems" -gt 0 ]; then
  echo "$problems problem(s) in the monitoring pack of $dir"
  exit 1
fi
json_note="${#dashboards[@]} dashboard(s)"
[ "$json_checker" = none ] && json_note="$json_note (JSON not checked: no jq nor python3)"
echo "monitoring ok: $alerts alerts, $json_note, ${#used[@]} nqs_ metrics used ($scrape_note)"
