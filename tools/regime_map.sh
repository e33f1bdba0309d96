#!/usr/bin/env bash
# The SUSHI regime map (issue 10): where our models reach the paper's headline figures (up to 25% lower
# latency, +0.98 pp accuracy, 78.7% less off-chip energy). Runs workloads/experiments/sushi_mbv3.yaml on one
# accelerator over a small grid of Persistent Buffer size x DRAM bandwidth x weight-load behaviour and prints
# the SUSHI-vs-no-SGS headline of the queue-aware SushiSched (mean +- 95% CI over the experiment's seeds).
# Usage: tools/regime_map.sh [SUSHI] [COUNT]   (defaults: build/sushi 3000; zcu104_sushi)
set -euo pipefail
cd "$(dirname "$0")/.."
sushi=${1:-build/sushi}
platform=zcu104_sushi
count=${2:-3000}
out=build/regime_map
mkdir -p "$out"
printf "%-10s %-9s %-11s | %s\n" "PB" "DRAM" "weights" "e2e lat -% / service -% / accuracy +pp / DRAM energy -% / DRAM-W energy -%"
for pb in 1MiB 2MiB 8MiB; do  # on_chip_bytes raised to 16 MiB so every PB size fits (a hypothetical part)
  for bw in 19.2 4.8; do
    for wl in overlapped serial; do
      line=$("$sushi" serve workloads/experiments/sushi_regime.yaml --count "$count" \
        --set "accel.buffers.on_chip_bytes=16MiB" --set "accel.energy.sram.2.max_bytes=16MiB" --set "accel.buffers.persistent_bytes=$pb" \
        --set "accel.dram.peak_gbps=$bw" --set "accel.behaviour.weight_load=$wl" \
        --out "$out/$pb-$bw-$wl" | grep -E "^$platform +sushi " || true)
      printf "%-10s %-9s %-11s | %s\n" "$pb" "${bw}GB/s" "$wl" "$(echo "$line" | awk '{print $3, $4, $5, $6, $7}')"
    done
  done
done
