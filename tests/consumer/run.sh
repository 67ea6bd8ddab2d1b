#!/usr/bin/env bash
# Consumer test: a separate project builds against an INSTALLED clance and
# runs the seed distributed write through the public API only.
#
#   run.sh --build-dir DIR        install the build in DIR into a temporary
#                                 prefix (with a space in its path) first
#   run.sh --configure [ARGS...]  configure this source tree with ARGS (e.g.
#                                 -DBUILD_SHARED_LIBS=OFF -DCLANCE_MPI=OFF) in a
#                                 temporary build dir, build, install, test
#   run.sh --prefix PREFIX        use what is installed in PREFIX (e.g. /usr)
#
# Checks, each in a copy of tests/consumer/project outside the source tree:
#   pkg-config --cflags --libs clance     (shared, when installed), C and C++
#   pkg-config --static --cflags --libs   (libclance.a)
#   find_package(clance CONFIG)           clance::clance, clance::clance_static,
#                                         C++, clance::clance_mpi if installed
#   mpicc + pkg-config clance_mpi         when clance_mpi.pc is installed
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
mode=${1:?usage: run.sh --build-dir DIR | --configure [CMAKE ARGS] | --prefix PREFIX}
shift
TMP="$(mktemp -d "${TMPDIR:-/tmp}/clance consumer.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
step() { echo "== $*"; }
fail() { echo "consumer test FAILED: $*" >&2; exit 1; }
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)

case "$mode" in
  --build-dir)
    PREFIX="$TMP/prefix with space"
    step "cmake --install $1 --prefix '$PREFIX'"
    cmake --install "$1" --prefix "$PREFIX" > "$TMP/install.log" || { cat "$TMP/install.log"; fail install; } ;;
  --configure)
    PREFIX="$TMP/prefix with space"
    step "configure $SRC $*"
    cmake -S "$SRC" -B "$TMP/build dir" "${GEN[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCLANCE_BUILD_TESTS=OFF -DCLANCE_BUILD_EXAMPLES=OFF -DCLANCE_BUILD_FUZZERS=OFF \
      -DCLANCE_BUILD_BENCH=OFF "$@" > "$TMP/configure.log" || { cat "$TMP/configure.log"; fail configure; }
    grep -i "mpi front end" "$TMP/configure.log" || true
    cmake --build "$TMP/build dir" -j "$(nproc)" > "$TMP/build.log" || { tail -50 "$TMP/build.log"; fail build; }
    cmake --install "$TMP/build dir" --prefix "$PREFIX" > "$TMP/install.log" || { cat "$TMP/install.log"; fail install; } ;;
  --prefix)
    PREFIX="$1" ;;
  *) fail "unknown mode $mode" ;;
esac

PC="$( { find "$PREFIX/lib" "$PREFIX/lib64" -name clance.pc -path '*/pkgconfig/*' 2>/dev/null || true; } | head -1)"
[ -n "$PC" ] || fail "no clance.pc under $PREFIX/lib"
PCDIR="$(dirname "$PC")"
LIBDIR="$(dirname "$PCDIR")"
[ -f "$PREFIX/include/clance/clance.h" ] || fail "no include/clance/clance.h in $PREFIX"
[ -f "$LIBDIR/libclance.a" ] || fail "no libclance.a in $LIBDIR"
[ -f "$LIBDIR/cmake/clance/clanceConfig.cmake" ] || fail "no CMake package in $LIBDIR/cmake/clance"
SHARED=0
if [ -e "$LIBDIR/libclance.so" ]; then
  SHARED=1
  soname=$(objdump -p "$LIBDIR/libclance.so" | awk '$1 == "SONAME" {print $2}')
  [[ "$soname" =~ ^libclance\.so\.[0-9]+$ ]] || fail "SONAME is \"$soname\""
  [ -e "$LIBDIR/$soname" ] || fail "$LIBDIR/$soname missing"
  # Only the public API (clance_*) is exported.
  others=$(nm -D --defined-only "$LIBDIR/$soname" | awk '{print $NF}' | grep -v '^clance_' || true)
  [ -z "$others" ] || fail "libclance exports non-API symbols: $others"
  echo "$soname exports $(nm -D --defined-only "$LIBDIR/$soname" | wc -l) symbols, all clance_*"
else
  echo "(no libclance.so installed: static-only checks)"
fi

cp -r "$HERE/project" "$TMP/consumer src"
cd "$TMP/consumer src"
export PKG_CONFIG_PATH="$PCDIR${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
[ "$(pkg-config --modversion clance)" = "$(sed -n 's/^project(clance VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")" ] ||
  fail "pkg-config --modversion clance: $(pkg-config --modversion clance)"
n=0
run() { # run NAME EXE: the consumer writes into a fresh dataset dir with a space too
  n=$((n + 1))
  "$2" "$TMP/data $n" || fail "$1"
}
no_libclance_needed() { ! objdump -p "$1" | grep -q 'NEEDED *libclance\.'; }

if [ "$SHARED" = 1 ]; then
  step "pkg-config --cflags --libs clance (shared, C and C++)"
  flags=$(pkg-config --cflags --libs clance)
  echo "   $flags"
  eval "cc -std=c11 -Wall -Wextra -Werror consumer.c -o c_pc $flags"
  eval "c++ -std=c++11 -Wall -Wextra -Werror -pedantic consumer.cpp -o cxx_pc $flags"
  objdump -p c_pc | grep -q "NEEDED *libclance\.so\.[0-9]" || fail "c_pc does not use libclance.so"
  LD_LIBRARY_PATH="$LIBDIR" run pkg-config ./c_pc
  LD_LIBRARY_PATH="$LIBDIR" ./cxx_pc || fail "C++ consumer (pkg-config)"
fi

step "pkg-config --static --cflags --libs clance (libclance.a)"
flags=$(pkg-config --static --cflags --libs clance)
echo "   $flags"
# -l:libclance.a: the archive even where libclance.so is installed beside it.
flags=${flags/-lclance /-l:libclance.a }
eval "cc -std=c11 -Wall -Wextra -Werror consumer.c -o c_pc_static $flags"
no_libclance_needed c_pc_static || fail "c_pc_static uses libclance.so"
run pkg-config-static ./c_pc_static

step "find_package(clance CONFIG) (clance::clance, clance::clance_static, C++)"
cmake -S . -B build "${GEN[@]}" -DCMAKE_PREFIX_PATH="$PREFIX" > "$TMP/consumer-cmake.log" ||
  { cat "$TMP/consumer-cmake.log"; fail "find_package(clance)"; }
grep "clance .* from" "$TMP/consumer-cmake.log" || true
cmake --build build > "$TMP/consumer-build.log" || { cat "$TMP/consumer-build.log"; fail "CMake consumer build"; }
no_libclance_needed build/consumer_static || fail "clance::clance_static uses libclance.so"
if [ "$SHARED" = 1 ]; then
  objdump -p build/consumer | grep -q "NEEDED *libclance\.so\.[0-9]" || fail "clance::clance is not libclance.so"
fi
run find_package ./build/consumer
run find_package-static ./build/consumer_static
./build/consumer_cxx || fail "C++ consumer (find_package)"
if [ -x build/consumer_mpi ]; then
  # The build RUNPATH covers the executable's own NEEDED entries only; libclance_mpi's
  # libclance.so.0 is found like any library in a custom prefix (the loader path).
  LD_LIBRARY_PATH="$LIBDIR" ./build/consumer_mpi || fail "MPI consumer (find_package)"
  echo "   clance::clance_mpi found, linked and run (consumer_mpi)"
fi
if [ "$SHARED" = 1 ] && [ -f "$PCDIR/clance_mpi.pc" ] && command -v mpicc > /dev/null; then
  step "mpicc + pkg-config --cflags --libs clance_mpi"
  flags=$(pkg-config --cflags --libs clance_mpi)
  echo "   $flags"
  eval "mpicc -std=c11 -Wall -Wextra -Werror consumer_mpi.c -o c_mpi_pc $flags"
  objdump -p c_mpi_pc | grep -q "NEEDED *libclance_mpi\.so\.[0-9]" || fail "c_mpi_pc does not use libclance_mpi.so"
  LD_LIBRARY_PATH="$LIBDIR" ./c_mpi_pc || fail "MPI consumer (pkg-config)"
fi
echo "consumer test passed against $PREFIX"
