#!/usr/bin/env bash
# `mpirun -n 2 sushi sweep` writes the local run's results.csv and results.json byte for byte: with rank 0
# only managing (rank 1 evaluates every point), with both ranks evaluating, and resumed from the store.
# Usage: tests/sweep_mpi.sh SUSHI MPIEXEC (ctest: cli.sweep_mpi, when the build has MPI).
set -euo pipefail
sushi=$1
mpirun=$2
d=build/test_tmp/sweep_mpi
rm -rf "$d"
mkdir -p "$d"
cat > "$d/s.yaml" <<EOF
sweep: mpi
base: {accel: workloads/accel/edge_small.yaml, supernet: workloads/supernets/fmnist_tiny.yaml}
axes:
  - accel.buffers.persistent_bytes: [0, 64KiB, 512KiB, 64MiB]
  - accel.dram.peak_gbps: {linear: [3.2, 12.8], steps: 60}
  - accel.behaviour.weight_load: [overlapped, serial]
  - zip:
      - subnet: [max, min, "random:3"]
      - cache: [none, min, min]
constraints:
  - {path: accel.dram.peak_gbps, min: 4, reason: DRAM under 4 GB/s}
EOF
# Docker and similar sandboxes forbid the cross-memory-attach single copy; messages here are small anyway.
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism:-none}
# Sanitized suite: Open MPI's libraries have no frame pointers, so LeakSanitizer's fast unwinder stops in
# them and its by-design exit-time allocations show as "<unknown module>"; the slow unwinder gives whole
# stacks that tests/sanitizers/lsan.supp matches (only this test pays for it).
if [ -n "${ASAN_OPTIONS:-}" ]; then export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"; fi
run_mpi() { "$mpirun" -n 2 --allow-run-as-root --oversubscribe "$sushi" sweep "$d/s.yaml" "$@"; }
"$sushi" sweep "$d/s.yaml" -j 1 --out "$d/local" --json > "$d/local.out"
run_mpi --manager --out "$d/manager" --json > "$d/manager.out"
run_mpi -j 1 --out "$d/mixed" --json > "$d/mixed.out"
run_mpi -j 1 --out "$d/mixed" --json > "$d/resumed.out"
for r in manager mixed; do
  cmp "$d/local/results.csv" "$d/$r/results.csv"
  cmp "$d/local/results.json" "$d/$r/results.json"
done
cat "$d/manager.out" "$d/resumed.out"
# rank 1 evaluated every computed point when rank 0 only managed; the resumed run computed nothing
grep -q '"ranks":2,"evaluated_by_rank":\[0,[1-9][0-9]*\]' "$d/manager.out"
grep -q '"evaluated":0,' "$d/resumed.out"
echo "sweep_mpi: byte-identical to the local run"
