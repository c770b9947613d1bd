#!/usr/bin/env bash
# Fails if any C++ source differs from clang-format's output (.clang-format at the top).
set -eu
clang_format=$1
mapfile -t files < <(git ls-files -co --exclude-standard '*.cpp' '*.hpp' 2>/dev/null || find adapter tests bench -name '*.[ch]pp')
[ "${#files[@]}" -gt 0 ] || { echo "no sources found"; exit 1; }
"$clang_format" --dry-run --Werror "${files[@]}"
echo "${#files[@]} files formatted"
