#!/usr/bin/env bash
# Installs the Debian packages sushi needs; idempotent, and runs `apt-get update` only when something is missing.
set -euo pipefail
# A bare Debian 12 (debootstrap) has none of these: not make, git, a compiler or ca-certificates.
packages=(
  build-essential make cmake ninja-build ccache pkg-config zlib1g-dev clang-format git ca-certificates
  libsystemc-dev verilator libeigen3-dev libyaml-cpp-dev catch2 libboost-program-options-dev yosys
  dataset-fashion-mnist librsvg2-bin
  # the sanitized suite, fuzzing, lint and the libc++ determinism check (tools/sanitize.sh, fuzz.sh, lint.sh)
  clang libclang-rt-14-dev libomp-dev clang-tidy libc++-dev libc++abi-dev
)
# Open MPI: `mpirun -n N sushi sweep` (optional at build time: CMake SUSHI_MPI=AUTO finds it).
packages+=(libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: not root and no sudo: run as root" >&2; exit 1; }
  SUDO="sudo"
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
