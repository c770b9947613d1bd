#!/usr/bin/env bash
# Fails when an include of adapter/ points up: each folder of adapter/ is in one layer of the
# README's "Layout" section, and a file includes only headers of its own folder and of lower
# layers. A folder missing from the list fails too, so that a new one is given its place.
set -eu
root=${1:-.}
readme=$root/README.md
adapter=$root/adapter

# The numbered lines of the layer list: "N. folder/ folder/   what they hold".
declare -A layer_of
while read -r number rest; do
  number=${number%.}
  for word in $rest; do
    case $word in
      */) layer_of[${word%/}]=$number ;;
      *) break ;;
    esac
  done
done < <(sed -n '/^<!-- layers -->$/,/^<!-- \/layers -->$/p' "$readme" | grep -E '^ *[0-9]+\. ')
[ "${#layer_of[@]}" -gt 0 ] || { echo "$readme: no layer list between <!-- layers --> marks"; exit 1; }

problems=0
for dir in "$adapter"/*/; do
  folder=$(basename "$dir")
  if [ -z "${layer_of[$folder]:-}" ]; then
    echo "adapter/$folder/ is in no layer of the README's Layout section"
    problems=$((problems + 1))
    continue
  fi
  own=${layer_of[$folder]}
  while IFS=: read -r file line include; do
    target=${include#*\"}
    target=${target%%/*}
    [ "$target" = "$folder" ] && continue
    [ -n "${layer_of[$target]:-}" ] || continue  # generated/ and the like
    if [ "${layer_of[$target]}" -ge "$own" ]; then
      echo "${file#"$root"/}:$line: $folder (layer $own) includes $target (layer ${layer_of[$target]})"
      problems=$((problems + 1))
    fi
  done < <(grep -Hn '^#include "[a-z_]*/' "$dir"*.[ch]pp || true)
done
if [ "$problems" -gt 0 ]; then
  echo "$problems includes point up or sideways"
  exit 1
fi
echo "${#layer_of[@]} folders in layers; every include points down"
