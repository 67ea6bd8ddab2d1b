#!/usr/bin/env bash
# Build the Debian packages (libclance0, libclance-dev, clance-tools and the
# MPI front end's libclance-mpi0, libclance-mpi-dev, clance-mpi) from a copy
# of the source in a temporary directory, check them with lintian (no errors
# allowed), install them, run the consumer test against /usr (with its MPI
# consumer) and the installed clance-mpi under mpirun, and remove them again
# so the machine is left as it was.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
PKGS="libclance0 libclance-dev clance-tools libclance-mpi0 libclance-mpi-dev clance-mpi"
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
test -f /usr/share/man/man1/clance-mpi.1.gz || { echo "deb-check: no clance-mpi(1)" >&2; exit 1; }
# Only the MPI packages may depend on Open MPI.
for p in libclance0 libclance-dev clance-tools; do
  if dpkg -s "$p" | grep '^Depends:' | grep -qi mpi; then
    echo "deb-check: $p depends on MPI: $(dpkg -s "$p" | grep '^Depends:')" >&2; exit 1
  fi
done

echo "== installed clance-mpi under mpirun (2 ranks): write, add-columns"
M="$WORK/mpi"
mkdir -p "$M"
printf 'a\n1\n2\n' > "$M/p-0.csv"
printf 'a\n3\n' > "$M/p-1.csv"
printf 'a,b\n3,x\n1,y\n' > "$M/b.csv"
sh "$ROOT/tests/mpi/mpirun.sh" 2 clance-mpi write "$M/ds.lance" --schema a:int64 \
  --input "$M/p-%d.csv" --max-rows-per-file 1 > /dev/null
sh "$ROOT/tests/mpi/mpirun.sh" 2 clance-mpi add-columns "$M/ds.lance" --schema b:string \
  --key a --input "$M/b.csv" > /dev/null
[ "$(clance scan "$M/ds.lance" | tr -d '\n')" = '{"a":1,"b":"y"}{"a":2,"b":null}{"a":3,"b":"x"}' ] ||
  { clance scan "$M/ds.lance"; echo "deb-check: clance-mpi wrote other rows" >&2; exit 1; }

echo "== consumer test against /usr"
bash "$ROOT/tests/consumer/run.sh" --prefix /usr
echo "deb-check passed ($version, $(( $(date +%s) - start ))s)"
