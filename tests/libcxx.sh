#!/usr/bin/env bash
# Determinism across standard libraries (issue 14): builds tests/libcxx/main.cpp and the base/ sources it
# needs with clang++ -stdlib=libc++ and checks that it prints tests/golden/stdlib_streams.txt, the text the
# libstdc++ build checks in tests/test_determinism.cpp. Skipped (exit 77) when clang or libc++ is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/test_tmp/libcxx
mkdir -p "$out"
command -v clang++ >/dev/null || { echo "skipped: no clang++"; exit 77; }
echo '#include <version>
#ifndef _LIBCPP_VERSION
#error not libc++
#endif
int main() {}' | clang++ -stdlib=libc++ -x c++ - -o "$out/probe" 2>/dev/null || { echo "skipped: no libc++"; exit 77; }
clang++ -std=c++17 -O1 -ffp-contract=off -stdlib=libc++ -I. -Wall -Wextra -Werror -DSUSHI_GIT_COMMIT='"libcxx"' \
  -DSUSHI_MODEL_VERSION='"libcxx"' tests/libcxx/main.cpp base/random.cpp base/record.cpp base/json.cpp \
  base/provenance.cpp base/files.cpp -o "$out/streams"
"$out/streams" >"$out/streams.txt"
[ "$(nm -C "$out/streams" | grep -c 'std::__1::')" -gt 0 ] || { echo "FAIL: not linked against libc++"; exit 1; }
if diff -u tests/golden/stdlib_streams.txt "$out/streams.txt"; then
  echo "libc++ output equals the libstdc++ golden ($(wc -l <"$out/streams.txt") streams)"
else
  echo "FAIL: libc++ differs from tests/golden/stdlib_streams.txt"
  exit 1
fi
