#!/usr/bin/env bash
# `make fuzz FUZZ_SECONDS=N [FUZZ_TARGETS="a b"] [FUZZ_JOBS=J]`: builds the libFuzzer binary in the sanitized
# build folder (tools/sanitize.sh build) and runs each fuzz target of tests/fuzz/targets.cpp for N seconds
# (default 60), J targets at a time (default 1). Seeds: tests/fuzz/corpus/TARGET (read only); the growing
# corpus, crash/timeout/OOM artifacts and the log of each run: build-san/fuzz/TARGET/. Prints one line per
# target (executions, coverage, corpus size, findings); exits 1 when any target found something.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${SUSHI_SAN_BUILD:-build-san}
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
bash tools/sanitize.sh build --target sushi_fuzz
eval "$(bash tools/sanitize.sh env)"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1
targets=${FUZZ_TARGETS:-$(SUSHI_FUZZ_TARGET=list "$build/sushi_fuzz")}

run_target() {
  local t=$1 dir="$build/fuzz/$1"
  rm -rf "$dir/artifacts" && mkdir -p "$dir/corpus" "$dir/artifacts"  # findings of this run only
  # -rss_limit_mb / -malloc_limit_mb: an input that makes a loader allocate more than 2 GB is a finding
  # (the issue's memory blow-ups); -timeout: one input running over 10 s is a hang.
  SUSHI_FUZZ_TARGET=$t "$build/sushi_fuzz" "$dir/corpus" "tests/fuzz/corpus/$t" -max_total_time="$secs" \
    -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/" >"$dir/log.txt" 2>&1 || true
  local execs cov files found
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log.txt" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$dir/log.txt" | tail -1 | cut -d' ' -f2)
  files=$(find "$dir/corpus" -type f | wc -l)
  found=$(find "$dir/artifacts" -type f | wc -l)
  printf '%-20s %4ss  execs %-10s cov %-6s corpus %-5s findings %s\n' "$t" "$secs" "${execs:-?}" "${cov:-?}" \
    "$files" "$found"
}

export -f run_target
export build secs
printf '%s\n' $targets | xargs -P "$jobs" -I{} bash -c 'run_target {}'
bad=$(find "$build/fuzz" -path '*/artifacts/*' -type f | wc -l)
if [ "$bad" -gt 0 ]; then
  echo "fuzz: $bad finding(s):"
  find "$build/fuzz" -path '*/artifacts/*' -type f
  echo "reproduce: eval \"\$(tools/sanitize.sh env)\"; SUSHI_FUZZ_TARGET=TARGET $build/sushi_fuzz FILE"
  exit 1
fi
echo "fuzz: no findings"
