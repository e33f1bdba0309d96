#!/usr/bin/env bash
# CLI checks of the front door, one ctest test per case: tests/frontdoor.sh CASE /abs/path/to/sushi, run from
# the source root. Errors must be one line on stderr with exit status 2, and stdout must carry only the table
# or the JSON.
set -uo pipefail
name=$1
sushi=$2
root=$(pwd)
tmp=$root/build/test_tmp/frontdoor_cli/$name
rm -rf "$tmp" && mkdir -p "$tmp"

fail() {
  echo "FAIL: $*"
  exit 1
}
# expect_error STATUS REGEX CMD...: exit STATUS, nothing on stdout, exactly one line on stderr matching REGEX.
expect_error() {
  local want=$1 re=$2 rc=0
  shift 2
  "$@" >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
  echo "\$ $* -> exit $rc"
  cat "$tmp/stdout" "$tmp/stderr"
  [ $rc -eq "$want" ] || fail "expected exit $want"
  [ ! -s "$tmp/stdout" ] || fail "expected nothing on stdout"
  [ "$(wc -l <"$tmp/stderr")" -eq 1 ] || fail "expected one line on stderr"
  grep -Eq -- "$re" "$tmp/stderr" || fail "stderr does not match: $re"
}
run() {
  echo "\$ $*"
  "$@" || fail "exit $?"
}

case $name in
  extra_positional)
    expect_error 2 "^sushi info: error: unexpected argument 'min' \(see sushi info --help\)$" \
      "$sushi" info --supernet workloads/supernets/ofa_mbv3.yaml min
    expect_error 2 "^sushi trace: error: unexpected argument 'b.csv' 'c'" \
      "$sushi" trace stats traces/sample_gamma_cv4.csv b.csv c
    ;;
  unwritable_out)
    expect_error 2 "^sushi trace: error: /proc/sushi_nope/t.csv: cannot write: " \
      "$sushi" trace generate --kind poisson --rate 10 --count 10 --seed 1 --out /proc/sushi_nope/t.csv
    expect_error 2 "^sushi serve: error: /proc/sushi_nope.*: cannot " \
      "$sushi" serve workloads/experiments/sushi_mbv3.yaml --count 50 --platform zcu104_sushi --out /proc/sushi_nope
    expect_error 2 "^sushi export: error: /proc/sushi_nope.ckpt: cannot write: " \
      "$sushi" export --supernet workloads/supernets/fmnist_tiny.yaml --random-seed 1 --out /proc/sushi_nope.ckpt
    expect_error 2 "^sushi sim: error: /proc/sushi_nope/x.vcd: cannot (write: |open trace file for writing$)" \
      "$sushi" sim --accel workloads/accel/zcu104_sushi.yaml --supernet workloads/supernets/fmnist_tiny.yaml \
      --subnet min --trace /proc/sushi_nope/x.vcd --json
    ;;
  sim_trace_json)
    SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 "$sushi" sim --accel workloads/accel/zcu104_sushi.yaml \
      --supernet workloads/supernets/fmnist_tiny.yaml --subnet min --fidelity cycle --trace "$tmp/s" --json \
      >"$tmp/stdout" || fail "exit $?"
    head -c 300 "$tmp/stdout"
    echo
    [ "$(wc -l <"$tmp/stdout")" -eq 1 ] || fail "stdout is not one JSON line: $(head -n 2 "$tmp/stdout")"
    grep -q '^{.*}$' "$tmp/stdout" || fail "stdout is not a JSON object"
    [ -s "$tmp/s.vcd" ] || fail "no VCD written"
    ;;
  yaml_duplicate_key)
    cp workloads/supernets/fmnist_tiny.yaml "$tmp/dup.yaml"
    echo "classes: 12" >>"$tmp/dup.yaml"
    line=$(wc -l <"$tmp/dup.yaml")
    expect_error 2 "^sushi info: error: $tmp/dup.yaml:$line: duplicate key 'classes'$" \
      "$sushi" info --supernet "$tmp/dup.yaml"
    ;;
  trace_duplicate_id)
    printf '# a trace\nid,arrival_ms,slo_ms,acc_target\n0,1,5,0\n1,2,5,0\n1,3,5,0\n' >"$tmp/t.csv"
    expect_error 2 "^sushi trace: error: $tmp/t.csv: line 5: duplicate id 1$" "$sushi" trace stats "$tmp/t.csv"
    ;;
  accuracy_target_150)
    printf 'id,arrival_ms,slo_ms,acc_target\n0,1,0,75\n1,2,0,150\n' >"$tmp/t.csv"
    expect_error 2 "^sushi trace: error: $tmp/t.csv: line 3: column acc_target: expected a percentage <= 100" \
      "$sushi" trace stats "$tmp/t.csv"
    # In an experiment (a copy outside workloads/: its paths still resolve from the project root).
    sed 's/acc_target: \[74.5, 76.6\]/acc_target: [74.5, 150]/' workloads/experiments/sushi_mbv3.yaml >"$tmp/e.yaml"
    line=$(grep -n 'acc_target: \[74.5, 150\]' "$tmp/e.yaml" | cut -d: -f1)
    [ -n "$line" ] || fail "sushi_mbv3.yaml no longer has the acc_target this test edits"
    expect_error 2 "^sushi serve: error: $tmp/e.yaml: key 'streams\[1\].trace.constraints.acc_target[.a-z]*' \(line $line\): expected .*100" \
      "$sushi" serve "$tmp/e.yaml" --count 10
    expect_error 2 "acc_target.*100" "$sushi" trace generate --kind poisson --rate 10 --count 10 \
      --accuracy-fraction 1 --latency-fraction 0 --acc-target 50:150 --out "$tmp/g.csv"
    ;;
  serve_any_dir_manifest)
    # From another folder, with the experiment given by absolute path; then a second run with fewer platforms
    # into the same folder leaves none of the first run's other platforms behind.
    mkdir -p "$tmp/elsewhere" && cd "$tmp/elsewhere" || fail "cd"
    run "$sushi" serve "$root/workloads/experiments/sushi_mbv3.yaml" --count 200 --out "$tmp/out" >/dev/null
    for p in zcu104_sushi edge_small cloud_large; do
      [ -f "$tmp/out/$p/latency_constrained/queries.csv" ] || fail "no $p output"
    done
    grep -q '"path":"edge_small/accuracy_constrained/queries.csv"' "$tmp/out/MANIFEST.json" || fail "manifest"
    echo "mine" >"$tmp/out/notes.txt"
    run "$sushi" serve "$root/workloads/experiments/sushi_mbv3.yaml" --count 200 --platform zcu104_sushi \
      --out "$tmp/out" >/dev/null
    (cd "$tmp/out" && find . -type f | sort)
    [ -d "$tmp/out/edge_small" ] && fail "stale edge_small output left behind"
    [ -d "$tmp/out/cloud_large" ] && fail "stale cloud_large output left behind"
    [ -f "$tmp/out/zcu104_sushi/accuracy_constrained/pb_contents.svg" ] || fail "no zcu104_sushi output"
    [ -f "$tmp/out/notes.txt" ] || fail "a file no manifest listed was removed"
    grep -q edge_small "$tmp/out/MANIFEST.json" && fail "manifest still lists edge_small"
    n=$(grep -o '"path":' "$tmp/out/MANIFEST.json" | wc -l)
    [ "$n" -eq 20 ] || fail "manifest lists $n files, expected 20 (2 streams x 8, a load curve csv + svg, results.json, sushi_summary.svg)"
    ;;
  missing_data)
    expect_error 2 "ofa_mbv3_224_top1.jsonl.*$tmp/none/ofa_mbv3_224_top1.jsonl" \
      env SUSHI_DATA="$tmp/none" "$sushi" serve workloads/experiments/sushi_mbv3.yaml --count 10
    expect_error 2 "^sushi bench: error: missing shared data file ofa_mbv3_224_top1.jsonl: looked for $tmp/none/ofa_mbv3_224_top1.jsonl \(from SUSHI_DATA\)$" \
      env SUSHI_DATA="$tmp/none" "$sushi" bench serve --queries 10 --repeats 1
    ;;
  *) fail "unknown case $name" ;;
esac
echo "PASS: $name"
