#!/usr/bin/env bash
# The front door: works as root on a bare Debian 12 with nothing but bash, apt and coreutils installed.
#   ./sushi.sh demo   install what is missing, configure, build Release, run the main job (tools/demo.sh)
#   ./sushi.sh test   the same set-up, then every test through CTest; non-zero exit on any failure
#   ./sushi.sh build  the set-up only (deps, configure, build); the binary is build/sushi
#   ./sushi.sh test-sanitize | fuzz | lint   ASan+UBSan suite, libFuzzer runs, clang-tidy (tools/*.sh)
# Runs from any working directory. Environment: SUSHI_BUILD (build folder, default build), SUSHI_JOBS
# (parallel build/test jobs, default nproc), SUSHI_DATA (the shared data folder, default ../shared/data).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
build=${SUSHI_BUILD:-build}
jobs=${SUSHI_JOBS:-$(nproc)}

usage() {  # the header above; on stderr unless asked for
  if [ "${1:-2}" -eq 0 ]; then
    sed -n '2,8s/^# \{0,1\}//p' "$0"
  else
    sed -n '2,8s/^# \{0,1\}//p' "$0" >&2
  fi
  exit "${1:-2}"
}

setup() {
  bash tools/install-deps.sh
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
  fi
  cmake --build "$build" -j "$jobs"
}

[ $# -eq 1 ] || usage
case "$1" in
  demo) setup && bash tools/demo.sh "$build" ;;
  test) setup && cd "$build" && ctest --output-on-failure --no-tests=error -j "$jobs" -LE rtl-full ;;
  build) setup ;;
  test-sanitize) bash tools/install-deps.sh && bash tools/sanitize.sh test ;;
  fuzz) bash tools/install-deps.sh && bash tools/fuzz.sh ;;
  lint) setup && bash tools/lint.sh "$build" ;;
  -h | --help | help) usage 0 ;;
  *) echo "sushi.sh: unknown command '$1'" >&2; usage ;;
esac
