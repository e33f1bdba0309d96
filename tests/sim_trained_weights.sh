#!/usr/bin/env bash
# `sushi sim --functional --weights`: a supernet trained by `sushi train` (the tiny kill.yaml run) runs on
# the cycle model bit-exact with its int8 export, and a file that is not a trained supernet is refused by
# name. Usage: sim_trained_weights.sh SUSHI ROOT
set -euo pipefail
sushi=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$sushi" train "$root/tests/data/train/kill.yaml" > /dev/null 2>&1
sim=("$sushi" sim --accel "$root/workloads/accel/edge_small.yaml" --supernet
     "$root/workloads/supernets/fmnist_tiny.yaml" --subnet max --fidelity cycle --functional)
"${sim[@]}" --weights run/supernet.ckpt --image 7 | grep "^functional:"
if "${sim[@]}" --weights run/state.ckpt > out 2> err; then
  echo "a training state was taken for a trained supernet"
  exit 1
fi
grep -q "run/state.ckpt: not a trained supernet" err || { cat err; exit 1; }
echo "refused: $(cat err)"
