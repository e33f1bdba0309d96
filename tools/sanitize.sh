#!/usr/bin/env bash
# The sanitized build and suite (`make test SANITIZE=1`, `./sushi.sh test-sanitize`): clang with
# AddressSanitizer + UndefinedBehaviorSanitizer (any report is fatal) and libFuzzer instrumentation, in
# build-san/ (SUSHI_SAN_BUILD), then every test through CTest with the run-time options below.
#   tools/sanitize.sh             configure, build everything, run the whole suite
#   tools/sanitize.sh build       configure and build only (tools/fuzz.sh uses this)
#   tools/sanitize.sh ci          the CI subset (.ci/run; tests/sanitizers/README.md): no libFuzzer build
#   tools/sanitize.sh env         print the sanitizer environment (eval it to run a binary by hand)
# Extra arguments after `test` go to ctest (e.g. `tools/sanitize.sh test -R reliability`). SUSHI_SAN_FUZZ=OFF
# configures build-san/ without libFuzzer instrumentation (cheaper; `ci` sets it; fuzz.sh needs it ON).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${SUSHI_SAN_BUILD:-build-san}
jobs=${SUSHI_JOBS:-$(nproc)}
root=$(pwd)
# The CI subset: input readers, size arithmetic, file handling (tests/sanitizers/README.md).
ci_subset='^(reliability|fuzz|faults[.]|cli[.]reliability|cli[.]trace|serving|trace|sweep|checkpoint|training core|a training|a checkpoint)'
# ... without its two longest tests (5.4 of its 13 test-minutes sanitized; `make test SANITIZE=1` runs them).
ci_skip='^(a training run interrupted after an epoch|sweep: SIGKILL at random points)'

# Run-time options, documented in tests/sanitizers/README.md. Every report stops the process
# (halt_on_error, -fno-sanitize-recover): a test that triggers one fails.
san_env() {
  echo "export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0:check_initialization_order=1"
  echo "export LSAN_OPTIONS=suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0"
  echo "export OMPI_MCA_mca_base_component_disable_dlclose=1"
  echo "export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$root/tests/sanitizers/ubsan.supp"
}

configure_build() {
  command -v clang++ >/dev/null || { echo "sanitize: clang++ is not installed (tools/install-deps.sh)" >&2; exit 1; }
  local fuzz=${SUSHI_SAN_FUZZ:-ON}
  if [ ! -f "$build/CMakeCache.txt" ]; then
    # -O1 with line tables only: the sanitizers' recommended optimisation; reports keep FILE:LINE with less
    # debug information to compile (compile time decides whether the sanitized suite fits CI's budget).
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG" -DSUSHI_SANITIZE=ON "-DSUSHI_FUZZ=$fuzz"
  elif ! grep -q "^SUSHI_FUZZ:BOOL=$fuzz\$" "$build/CMakeCache.txt"; then
    cmake -S . -B "$build" "-DSUSHI_FUZZ=$fuzz"  # a `ci` folder used for fuzzing, or the other way round
  fi
  cmake --build "$build" -j "$jobs" "$@"
}

case "${1:-test}" in
  env) san_env ;;
  build) shift; configure_build "$@" ;;
  test)
    shift || true
    configure_build
    eval "$(san_env)"
    cd "$build" && ctest --output-on-failure --no-tests=error -j "$jobs" "$@"
    ;;
  ci)
    export SUSHI_SAN_FUZZ=OFF
    configure_build
    eval "$(san_env)"
    cd "$build" && ctest --output-on-failure --no-tests=error -j "$jobs" -R "$ci_subset" -E "$ci_skip"
    ;;
  *) sed -n '2,11s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
