#!/usr/bin/env bash
# The main job behind `make demo`. Until the serving co-simulation lands (issue 5) it shows a representative
# run: the layer table of the OFA MobileNetV3 max subnet and a sample of subnets of the same space.
set -euo pipefail
build=${1:-build}
"$build/sushi" info --supernet workloads/supernets/ofa_mbv3.yaml --subnet max --resolution 224
"$build/sushi" subnets --supernet workloads/supernets/ofa_mbv3.yaml --count 5 --seed 1
