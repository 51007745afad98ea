#!/usr/bin/env bash
# format.sh: the tree's one C style (.clang-format), applied or checked.
#
# usage: tools/format.sh          rewrite every C file of the tree in place
#        tools/format.sh --check  list the files that differ; exit 1 if any
# The suite runs --check (ctest format_check). Needs Debian's clang-format
# (14); without it --check exits 77, a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null ||
  { echo "SKIP: clang-format is not installed (apt-get install clang-format)"; exit 77; }
mapfile -t files < <(git ls-files 2>/dev/null '*.c' '*.h' || find node tests fuzz bench tools -name '*.[ch]')
[ ${#files[@]} -gt 0 ] || { echo "format.sh: no C files found" >&2; exit 2; }
case ${1:-} in
  --check)
    bad=()
    for f in "${files[@]}"; do
      clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
    done
    if [ ${#bad[@]} -gt 0 ]; then
      printf 'format.sh: not in the tree style: %s\n' "${bad[@]}" >&2
      echo "format.sh: run tools/format.sh to rewrite them" >&2
      exit 1
    fi
    echo "format.sh: ${#files[@]} files in the tree style" ;;
  "") clang-format -i "${files[@]}" ;;
  -h|--help) sed -n '2,7p' "$0" ;;
  *) echo "format.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac
