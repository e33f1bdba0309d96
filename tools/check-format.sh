#!/usr/bin/env bash
# Convention check: every tracked C++ file is clang-formatted (.clang-format). Prints the offenders. Outside a
# git checkout (a copied tree) it checks every C++ file of the code folders.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "clang-format is not installed (tools/install-deps.sh installs it)"; exit 1; }
bad=0
while IFS= read -r f; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not clang-formatted: $f (run: clang-format -i $f)"
    bad=1
  fi
done < <(git ls-files '*.cpp' '*.h' 2>/dev/null ||
  find base models sim sched traces explore rtl tools tests \( -name '*.cpp' -o -name '*.h' \) 2>/dev/null)
[ $bad -eq 0 ] && echo "all C++ sources are clang-formatted"
exit $bad
