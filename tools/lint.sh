#!/usr/bin/env bash
# `make lint`: clang-tidy (.clang-tidy) on every C++ source of the project's own code, from the build's
# compile_commands.json (tools/lint.sh [BUILD], default build/). Prints the findings; exits 1 on any. Set
# LINT_FILES to a list of sources to check only those. Findings are fixed, or kept with
# `// NOLINT(check): reason` on the line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build}
jobs=${SUSHI_JOBS:-$(nproc)}
tidy=$(command -v clang-tidy || command -v clang-tidy-14 || true)
[ -n "$tidy" ] || { echo "lint: clang-tidy is not installed (tools/install-deps.sh)" >&2; exit 1; }
[ -f "$build/compile_commands.json" ] || { echo "lint: no $build/compile_commands.json (configure first)" >&2; exit 1; }
files=${LINT_FILES:-$(git ls-files 'base/*.cpp' 'models/*.cpp' 'sim/*.cpp' 'rtl/*.cpp' 'sched/*.cpp' \
  'traces/*.cpp' 'explore/*.cpp' 'tools/*.cpp' 'tests/*.cpp' 2>/dev/null | grep -v '^rtl/obj_' || true)}
log=$build/lint.log
: >"$log"
# GCC's flags that clang does not know are dropped; -p uses the build's own include paths and defines.
printf '%s\n' $files | xargs -P "$jobs" -n 4 "$tidy" -p "$build" --quiet \
  --extra-arg=-Wno-unknown-warning-option --extra-arg=-Wno-unused-command-line-argument >>"$log" 2>&1 || true
n=$(grep -c ': \(warning\|error\): ' "$log" || true)
grep -A3 ': \(warning\|error\): ' "$log" | head -200 || true
if [ "$n" -gt 0 ]; then
  echo "lint: $n finding(s) (full log: $log)"
  exit 1
fi
echo "lint: clean ($(printf '%s\n' $files | wc -l) files)"
