#!/usr/bin/env bash
# A training run killed with SIGKILL after its first epoch checkpoint and resumed with --resume ends with
# the same trained supernet, byte for byte, as a run never killed. Usage: train_kill_resume.sh SUSHI ROOT
set -euo pipefail
sushi=$1
config=$2/tests/data/train/kill.yaml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/a" "$work/b"
(cd "$work/a" && "$sushi" train "$config" > /dev/null 2>&1)
cd "$work/b"
"$sushi" train "$config" > /dev/null 2> log &
pid=$!
for _ in $(seq 1 6000); do  # until the first epoch's state is written (or the run ends)
  [ -f run/state.ckpt ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.05
done
kill -9 $pid 2>/dev/null || { echo "run ended before it could be killed"; exit 1; }
wait $pid 2>/dev/null || true
[ ! -f run/supernet.ckpt ] || { echo "killed run already finished"; exit 1; }
"$sushi" train "$config" --resume > /dev/null 2>&1
cmp "$work/a/run/supernet.ckpt" run/supernet.ckpt
echo "resumed after SIGKILL: supernet.ckpt byte-identical"
