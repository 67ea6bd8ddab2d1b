#!/usr/bin/env bash
# Build the Debian packages (libclance0, libclance-dev, clance-tools) from a
# copy of the source in a temporary directory, check them with lintian (no
# errors allowed), install them, run the consumer test against /usr, and
# remove them again so the machine is left as it was.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
PKGS="libclance0 libclance-dev clance-tools"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/clance-deb.XXXXXX")"
installed=0
cleanup() {
  if [ "$installed" = 1 ]; then
    echo "== apt-get remove -y $PKGS"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get remove -y -qq $PKGS >/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

version=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
SRC="$WORK/clance-$version"
echo "== copying the source to $SRC"
mkdir -p "$SRC"
# The tracked files and new files not ignored (build dirs, node_modules are).
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
  xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' |
  tar --null -T - -cf -) | tar -xf - -C "$SRC"

echo "== dpkg-buildpackage -us -uc -b (nocheck)"
start=$(date +%s)
(cd "$SRC" && DEB_BUILD_OPTIONS="nocheck noddebs parallel=$(nproc)" \
  dpkg-buildpackage -us -uc -b > "$WORK/build.log" 2>&1) ||
  { tail -60 "$WORK/build.log"; echo "deb-check: dpkg-buildpackage failed" >&2; exit 1; }
echo "   built in $(( $(date +%s) - start ))s:"
(cd "$WORK" && ls -1 ./*.deb)

echo "== lintian (errors fail, warnings are shown)"
lintian --fail-on error --no-tag-display-limit "$WORK"/*.changes

echo "== apt-get install -y ./*.deb"
installed=1
debs=()
for p in $PKGS; do debs+=("$WORK/${p}_${version}_$(dpkg --print-architecture).deb"); done
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${debs[@]}" >/dev/null
for p in $PKGS; do dpkg -s "$p" >/dev/null; done
clance --version
test -f /usr/share/man/man1/clance.1.gz || { echo "deb-check: no clance(1)" >&2; exit 1; }

echo "== consumer test against /usr"
bash "$ROOT/tests/consumer/run.sh" --prefix /usr
echo "deb-check passed ($version, $(( $(date +%s) - start ))s)"
