#!/usr/bin/env bash
# Install what building and testing clance needs on Debian 12, then the
# pinned npm packages of the interop tests. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
PKGS="build-essential cmake ninja-build pkg-config libprotobuf-c-dev protobuf-c-compiler
      libzstd-dev liblz4-dev libroaring-dev libopenmpi-dev openmpi-bin
      clang libclang-rt-14-dev
      slurm-wlm munge
      gfortran doxygen groff-base debhelper devscripts lintian fakeroot"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
if ! command -v node >/dev/null; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm
fi
if [ "${1:-}" != "--no-npm" ]; then
  (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
fi
