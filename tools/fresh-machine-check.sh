#!/usr/bin/env bash
# Fresh-machine check (a documented command, not a ctest test): makes a bare Debian 12 (bookworm) root with
# debootstrap (--variant=minbase: no make, git, compiler, ca-certificates or sudo) under build/fresh-root,
# copies the project's committed HEAD (git archive: a plain tree, not a git checkout) to /work/sushi and
# ../shared/data to /work/shared/data there, as the README says, and runs the README's two commands as root
# in a chroot, `./sushi.sh demo` then `./sushi.sh test`, timing each. Needs root on the host.
#
#   tools/fresh-machine-check.sh             reuse build/fresh-base.tar (the pristine debootstrap result)
#   tools/fresh-machine-check.sh --fresh     run debootstrap again
#   tools/fresh-machine-check.sh --worktree  copy the working tree (tracked and untracked, not ignored files)
#                                            instead of HEAD
#
# Environment: SUSHI_MIRROR (Debian mirror; default: the one in /etc/apt/sources.list*, else deb.debian.org),
# SUSHI_SHARED (the shared folder to copy, default ../shared). The wall times are printed at the end and kept in
# build/fresh-root.times.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${SUSHI_SHARED:-$repo/../shared}
root=$repo/build/fresh-root
base_tar=$repo/build/fresh-base.tar
times=$repo/build/fresh-root.times
fresh=0
worktree=0
for arg in "$@"; do
  case $arg in
    --fresh) fresh=1 ;;
    --worktree) worktree=1 ;;
    *) echo "usage: tools/fresh-machine-check.sh [--fresh] [--worktree]" >&2; exit 2 ;;
  esac
done

[ "$(id -u)" -eq 0 ] || { echo "fresh-machine-check: run as root (debootstrap and chroot need it)" >&2; exit 1; }
[ -f "$shared/data/ofa_mbv3_224_top1.jsonl" ] || { echo "fresh-machine-check: no $shared/data" >&2; exit 1; }

mirror=${SUSHI_MIRROR:-$(grep -rhv '^[[:space:]]*#' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
  grep -oE 'https?://[^[:space:]]*/debian/?([[:space:]]|$)' | grep -v security | head -n 1 | tr -d '[:space:]' || true)}
mirror=${mirror:-http://deb.debian.org/debian}

unmount_all() {
  for m in dev/pts dev proc sys; do
    if mountpoint -q "$root/$m" 2>/dev/null; then umount -l "$root/$m" || true; fi
  done
}
trap unmount_all EXIT INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

mkdir -p "$repo/build"
unmount_all
# Never delete through a mount that is still there (a bind of the host's /dev).
for m in dev/pts dev proc sys; do
  if mountpoint -q "$root/$m" 2>/dev/null; then
    echo "fresh-machine-check: $root/$m is still mounted; unmount it first" >&2
    exit 1
  fi
done
rm -rf --one-file-system "$root"
if [ $fresh -eq 1 ] || [ ! -f "$base_tar" ]; then
  if ! command -v debootstrap >/dev/null; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap
  fi
  echo "fresh-machine-check: debootstrap bookworm from $mirror into $root"
  t0=$(now)
  debootstrap --variant=minbase bookworm "$root" "$mirror"
  echo "debootstrap $(elapsed "$t0" "$(now)") s" >"$times"
  tar -C "$root" -cf "$base_tar" .
else
  echo "fresh-machine-check: unpacking the pristine root $base_tar (--fresh runs debootstrap again)"
  mkdir -p "$root" && tar -C "$root" -xf "$base_tar"
  : >"$times"
fi

# What a bare machine has: nothing the project needs.
for tool in make git g++ cmake sudo; do
  if chroot "$root" /usr/bin/env PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c "command -v $tool" >/dev/null; then
    echo "fresh-machine-check: the bare root already has $tool" >&2
    exit 1
  fi
done

mkdir -p "$root/work/sushi" "$root/work/shared"
if [ $worktree -eq 1 ]; then
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard |
    tar --null -T - --ignore-failed-read -cf -) | tar -C "$root/work/sushi" -xf -
else
  echo "fresh-machine-check: copying HEAD $(git -C "$repo" rev-parse --short=12 HEAD)"
  git -C "$repo" archive HEAD | tar -C "$root/work/sushi" -xf -
fi
cp -a "$shared/data" "$root/work/shared/data"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"

run() {
  echo "fresh-machine-check: [chroot /work/sushi] ./sushi.sh $1"
  local t0 rc=0
  t0=$(now)
  chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    bash -c "cd /work/sushi && ./sushi.sh $1" || rc=$?
  local dt
  dt=$(elapsed "$t0" "$(now)")
  echo "./sushi.sh $1: exit $rc, $dt s wall" | tee -a "$times"
  return $rc
}
rc=0
run demo || rc=$?
[ $rc -eq 0 ] && { run test || rc=$?; }
echo "fresh-machine-check: wall times ($times):"
cat "$times"
[ $rc -eq 0 ] && echo "fresh-machine-check: PASS" || echo "fresh-machine-check: FAIL (exit $rc)"
exit $rc
