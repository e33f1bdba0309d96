#!/usr/bin/env bash
# `make lint`: clang-tidy (.clang-tidy) on every C++ source of the project's own code (every .cpp under base
# models sim rtl sched traces explore tools tests; the headers through .clang-tidy's HeaderFilterRegex;
# Verilator's generated code and third-party headers excluded), from the build's compile_commands.json
# (tools/lint.sh [BUILD], default build/). A source the build does not compile (the libFuzzer driver, the
# libc++ check) is checked with the project's flags (-std=c++17 -I.). Prints the findings; exits 1 on any.
# Set LINT_FILES to a list of .cpp sources to check only those (a header is refused: it is checked through
# the sources that include it). Findings are fixed, or kept with `// NOLINT(check): reason` on the line (the
# conventions test refuses a NOLINT without both).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build}
jobs=${SUSHI_JOBS:-$(nproc)}
tidy=$(command -v clang-tidy || command -v clang-tidy-14 || true)
[ -n "$tidy" ] || { echo "lint: clang-tidy is not installed (tools/install-deps.sh)" >&2; exit 1; }
db=$build/compile_commands.json
[ -f "$db" ] || { echo "lint: no $db (configure first)" >&2; exit 1; }
files=${LINT_FILES:-$(git ls-files 'base/*.cpp' 'models/*.cpp' 'sim/*.cpp' 'rtl/*.cpp' 'sched/*.cpp' \
  'traces/*.cpp' 'explore/*.cpp' 'tools/*.cpp' 'tests/*.cpp' | grep -v '^rtl/obj_' || true)}
root=$(pwd)
for f in $files; do
  case $f in
    *.cpp) ;;
    *) echo "lint: LINT_FILES names '$f': list .cpp sources; a header is checked through the sources that" \
         "include it (.clang-tidy HeaderFilterRegex)" >&2; exit 2 ;;
  esac
done
in_db=() other=()
for f in $files; do
  if grep -q "\"file\": \"$root/$f\"" "$db"; then in_db+=("$f"); else other+=("$f"); fi
done
log=$build/lint.log
: >"$log"
# GCC's flags that clang does not know are dropped; -p uses the build's own include paths and defines.
extra=(--quiet --extra-arg=-Wno-unknown-warning-option --extra-arg=-Wno-unused-command-line-argument)
if [ ${#in_db[@]} -gt 0 ]; then
  printf '%s\n' "${in_db[@]}" | xargs -P "$jobs" -n 4 "$tidy" -p "$build" "${extra[@]}" >>"$log" 2>&1 || true
fi
for f in ${other[@]+"${other[@]}"}; do
  "$tidy" "${extra[@]}" "$f" -- -std=c++17 -I. -DSUSHI_GIT_COMMIT='"lint"' -DSUSHI_MODEL_VERSION='"lint"' \
    >>"$log" 2>&1 || true
done
# A finding in a header is reported once per source that includes it: count each place once.
found=$(grep -h ': \(warning\|error\): ' "$log" | sed "s#^$root/##; s#^\./##" | sort -u || true)
n=$(printf '%s' "$found" | grep -c . || true)
grep -A3 ': \(warning\|error\): ' "$log" | head -200 || true
if [ "$n" -gt 0 ]; then
  echo "lint: findings per check:"
  printf '%s\n' "$found" | grep -o '\[[a-z0-9.-]*' | tr -d '[' | sort | uniq -c | sort -rn
  echo "lint: $n finding(s) (full log: $log)"
  exit 1
fi
echo "lint: clean ($(printf '%s\n' $files | wc -l) files)"
