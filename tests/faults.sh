#!/usr/bin/env bash
# Failure injection (issue 14), one ctest test per case: tests/faults.sh CASE /abs/path/to/sushi, run from the
# source root. SUSHI_FAULT=KIND:N[:MATCH] (base/files.cpp) kills the process during, or just before the
# rename of, its N-th atomic write, or fails that write as a full disk would; `ulimit -f` is the real limit.
# What must hold: a killed run never leaves files that a later run or a reader trusts (no MANIFEST.json,
# readers refuse the folder, the next run cleans up), and write failures are one clear line, exit 2.
set -uo pipefail
name=$1
sushi=$2
tmp=$(pwd)/build/test_tmp/faults/$name
rm -rf "$tmp" && mkdir -p "$tmp"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

fail() {
  echo "FAIL: $*"
  exit 1
}
# expect STATUS CMD...: runs CMD with stdout/stderr in $tmp/out, $tmp/err and checks its exit status.
expect() {
  local want=$1 rc=0
  shift
  "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  echo "\$ ${SUSHI_FAULT:+SUSHI_FAULT=$SUSHI_FAULT }$* -> exit $rc"
  tail -n 3 "$tmp/err"
  [ $rc -eq "$want" ] || fail "expected exit $want"
}
err_has() { grep -Eq -- "$1" "$tmp/err" || fail "stderr does not match: $1"; }
temporaries() { find "$1" -name '*.tmp.*' | wc -l; }
# Every file of folder $1 is MANIFEST.json or listed in it (nothing from another run), and nothing is pending.
complete_folder() {
  [ -f "$1/MANIFEST.json" ] || fail "$1: no MANIFEST.json"
  [ ! -e "$1/MANIFEST.pending" ] || fail "$1: MANIFEST.pending left"
  [ "$(temporaries "$1")" -eq 0 ] || fail "$1: temporaries left"
  local f
  while IFS= read -r f; do
    f=${f#"$1/"}
    case $f in MANIFEST.json | results.v1.store) continue ;; esac
    grep -q "\"path\":\"$f\"" "$1/MANIFEST.json" || fail "$1/$f is not in MANIFEST.json"
  done < <(find "$1" -type f)
}

# The main experiment with its latency-table cache in this case's folder (--set cache_dir=... moves it).
exp=$tmp/sushi_mbv3.yaml
cp workloads/experiments/sushi_mbv3.yaml "$exp" && printf '\ncache_dir: %s\n' "$tmp/cache" >>"$exp"
serve=("$sushi" serve "$exp" --platform zcu104_sushi)
# summary.csv without its provenance comment (which names the cache folder)
rows() { grep -v '^#' "$1"; }
sweep=("$sushi" sweep workloads/sweeps/tiny.yaml --set base.subnet=min -j 1)
summary=zcu104_sushi/latency_constrained/summary.csv

case $name in
  serve_kill)  # killed while writing its 4th file into a folder that holds a finished run of another size
    expect 0 "${serve[@]}" --count 40 --out "$tmp/out1"
    complete_folder "$tmp/out1"
    SUSHI_FAULT=kill-mid:3 expect 137 "${serve[@]}" --count 60 --out "$tmp/out1"
    [ ! -e "$tmp/out1/MANIFEST.json" ] || fail "a killed run left MANIFEST.json"
    [ -e "$tmp/out1/MANIFEST.pending" ] || fail "no MANIFEST.pending"
    [ "$(temporaries "$tmp/out1")" -ge 1 ] || fail "expected the killed write's temporary"
    expect 2 "$sushi" pareto "$tmp/out1/$summary" --x mean_latency_ms --y energy_uj_per_query
    err_has "summary.csv: incomplete output: the run writing .*out1 did not finish"
    expect 0 "${serve[@]}" --count 60 --out "$tmp/out1"
    complete_folder "$tmp/out1"
    grep -q "queries_per_stream 60" "$tmp/out1/$summary" || fail "summary is not the new run's"
    expect 0 "$sushi" pareto "$tmp/out1/$summary" --x mean_latency_ms --y energy_uj_per_query
    ;;
  result_mismatch)  # a results file replaced by hand (or by another run) no longer matches its manifest
    expect 0 "${serve[@]}" --count 40 --out "$tmp/out1"
    printf 'edited by hand\n' >>"$tmp/out1/$summary"
    expect 2 "$sushi" pareto "$tmp/out1/$summary" --x mean_latency_ms --y energy_uj_per_query
    err_has "summary.csv: does not match .*MANIFEST.json"
    ;;
  sweep_kill)  # killed just before results.csv replaces the previous one; the store keeps finished points
    expect 0 "${sweep[@]}" --out "$tmp/sw"
    complete_folder "$tmp/sw"
    SUSHI_FAULT=kill-before:0:results.csv expect 137 "${sweep[@]}" --set base.cache=min --out "$tmp/sw"
    expect 2 "$sushi" pareto "$tmp/sw/results.csv" --x latency_ms --y energy_uj
    err_has "results.csv: incomplete output"
    expect 0 "${sweep[@]}" --set base.cache=min --out "$tmp/sw"
    complete_folder "$tmp/sw"
    expect 0 "$sushi" pareto "$tmp/sw/results.csv" --x latency_ms --y energy_uj
    ;;
  trace_kill)  # killed half-way through a trace: no trace file, and the next write removes the temporary
    SUSHI_FAULT=kill-mid:0 expect 137 "$sushi" trace generate --count 20000 --out "$tmp/t.csv"
    [ ! -e "$tmp/t.csv" ] || fail "a half-written trace is visible"
    [ "$(temporaries "$tmp")" -eq 1 ] || fail "expected one temporary"
    expect 2 "$sushi" trace stats "$tmp/t.csv"
    expect 0 "$sushi" trace generate --count 200 --out "$tmp/t.csv"
    [ "$(temporaries "$tmp")" -eq 0 ] || fail "the stale temporary was not removed"
    expect 0 "$sushi" trace stats "$tmp/t.csv" --json
    grep -q '"queries":200' "$tmp/out" || fail "trace stats"
    ;;
  checkpoint_kill)  # killed while replacing a checkpoint: the old one stays whole and loads
    expect 0 "$sushi" export --supernet workloads/supernets/fmnist_tiny.yaml --random-seed 1 --out "$tmp/w.ckpt"
    cp "$tmp/w.ckpt" "$tmp/before.ckpt"
    SUSHI_FAULT=kill-mid:0 expect 137 "$sushi" export --supernet workloads/supernets/fmnist_tiny.yaml \
      --random-seed 2 --out "$tmp/w.ckpt"
    cmp -s "$tmp/w.ckpt" "$tmp/before.ckpt" || fail "the checkpoint changed"
    expect 0 "$sushi" export --supernet workloads/supernets/fmnist_tiny.yaml --checkpoint "$tmp/w.ckpt" \
      --subnet min --out "$tmp/min.ckpt"
    [ "$(temporaries "$tmp")" -eq 1 ] || fail "expected the killed write's temporary only"
    ;;
  disk_full)  # ENOSPC on a trace, on a serve output file: one line naming the file, exit 2, no temporary
    SUSHI_FAULT=enospc:0 expect 2 "$sushi" trace generate --count 200 --out "$tmp/t.csv"
    err_has "t.csv: cannot write: No space left on device"
    SUSHI_FAULT=enospc:0:summary.csv expect 2 "${serve[@]}" --count 40 --out "$tmp/out1"
    err_has "summary.csv: cannot write: No space left on device"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "expected one line on stderr"
    [ "$(temporaries "$tmp")" -eq 0 ] || fail "temporaries left"
    ;;
  ulimit_f)  # past the file-size limit: a message and exit 2, not a silent SIGXFSZ
    (ulimit -f 16 && expect 2 "$sushi" trace generate --count 100000 --out "$tmp/big.csv") || exit 1
    err_has "big.csv: cannot write: File too large"
    [ "$(temporaries "$tmp")" -eq 0 ] || fail "temporaries left"
    ;;
  cache_optional)  # an unwritable or full cache folder is a warning; the run goes on uncached
    touch "$tmp/file"
    expect 0 "${serve[@]}" --count 40 --out "$tmp/out1" --set cache_dir="$tmp/file/cache"
    err_has "warning: latency table not cached: .*file/cache"
    SUSHI_FAULT=enospc:0:/lt- expect 0 "${serve[@]}" --count 40 --out "$tmp/out2"
    err_has "warning: latency table not cached: .*No space left on device"
    [ "$(rows "$tmp/out1/$summary")" = "$(rows "$tmp/out2/$summary")" ] || fail "results differ"
    ;;
  cache_checksum)  # a hand-edited cache entry is noticed, rebuilt and the results are unchanged
    expect 0 "${serve[@]}" --count 40 --out "$tmp/out1"
    f=$(ls "$tmp"/cache/lt-*.txt)
    sed -i '6s/^[0-9.]*/99.5/' "$f"
    expect 0 "${serve[@]}" --count 40 --out "$tmp/out2"
    err_has "warning: latency-table cache entry ignored: .*checksum"
    [ "$(rows "$tmp/out1/$summary")" = "$(rows "$tmp/out2/$summary")" ] || fail "results differ after the rebuild"
    expect 0 "${serve[@]}" --count 40 --out "$tmp/out3"
    [ ! -s "$tmp/err" ] || fail "the rewritten cache entry is not used cleanly"
    ;;
  *) fail "unknown case $name" ;;
esac
echo "ok: $name"
