#!/usr/bin/env bash
# Fails when a source file of adapter/ is longer than 400 lines or a function longer than 80, so
# that every unit can be read on one screen or two (clang-formatted code: a function at namespace
# level opens with a line ending in "{" at column 0 and closes with "}" at column 0; a member
# function defined in a class opens and closes at two spaces).
set -eu
root=${1:-.}
max_file=400
max_function=80
problems=0
while IFS= read -r file; do
  lines=$(wc -l < "$file")
  if [ "$lines" -gt "$max_file" ]; then
    echo "${file#"$root"/}: $lines lines (at most $max_file)"
    problems=$((problems + 1))
  fi
  while IFS= read -r long; do
    echo "${file#"$root"/}:$long"
    problems=$((problems + 1))
  done < <(awk -v max="$max_function" '
    function opens(line) { return line ~ /\{$/ && line !~ /^ *(namespace|struct|class|enum|union|extern)( |$)/ && line !~ /[=,(] *\{$/ }
    function begin(at, text, end_mark) { in_function = 1; start = at; name = text; closer = end_mark }
    # A signature over several lines: the first at column 0, the last ending in "{".
    pending && /^ +[^ ]/ {
      if ($0 ~ /\{$/) { pending = 0; begin(pending_start, pending_name, "^}"); next }
      if ($0 ~ /[(,]$/) next
    }
    { pending = 0 }
    # A type at namespace level: its members are read at two spaces.
    !in_function && !in_type && /^(template.*)?(struct|class|union|enum)( |$).*\{$/ { in_type = 1; next }
    in_type && !in_function && /^\};/ { in_type = 0; next }
    !in_function && !in_type && /^[^ #\/}].*\{$/ && opens($0) { begin(NR, $0, "^}"); next }
    !in_function && !in_type && /^[^ #\/}].*[(,]$/ { pending = 1; pending_start = NR; pending_name = $0; next }
    !in_function && in_type && /^  [^ ].*\{$/ && opens($0) { begin(NR, $0, "^  }"); next }
    in_function && $0 ~ (closer ";?$") {
      if (NR - start + 1 > max) printf "%d: a function of %d lines (at most %d): %s\n", start, NR - start + 1, max, name
      in_function = 0; next
    }
  ' "$file")
done < <(find "$root/adapter" -name '*.cpp' -o -name '*.hpp' | sort)
if [ "$problems" -gt 0 ]; then
  echo "$problems file(s) or function(s) too long: split them where their parts have names"
  exit 1
fi
