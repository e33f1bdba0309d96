#!/usr/bin/env bash
# The main job behind `./sushi.sh demo`: a short version of the SUSHI serving co-simulation (workloads/experiments/
# sushi_mbv3.yaml): ofa_mbv3 subnets with measured accuracies on three SushiAccel configs, every policy, two
# query streams. Prints the comparison table; writes JSON, CSV and SVG plots under out/sushi_mbv3/.
set -euo pipefail
build=${1:-build}
"$build/sushi" serve workloads/experiments/sushi_mbv3.yaml --count 3000
