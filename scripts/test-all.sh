#!/usr/bin/env bash
# Set up, build (warnings as errors) and run every test: unit, CLI, example,
# fuzz smoke runs and the interop tests against the real Lance; then the same
# suite again in an AddressSanitizer + UndefinedBehaviorSanitizer build; then
# a short libFuzzer campaign on every harness.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
JOBS=$(nproc)
# Datasets the real Lance writes for the interop tests are shared by both builds.
export CLANCE_INTEROP_CACHE="$ROOT/build/interop-cache"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLANCE_WERROR=ON
ninja -C build
ctest --test-dir build --output-on-failure -j "$JOBS"
# Shipping: the API reference builds without a Doxygen warning; a static-only
# build without MPI, installed into a prefix with a space, serves a consumer
# project (pkg-config and find_package); the Debian packages build, pass
# lintian, install, serve the consumer project from /usr, and are removed.
ninja -C build docs
bash tests/consumer/run.sh --configure -DBUILD_SHARED_LIBS=OFF -DCLANCE_MPI=OFF
scripts/deb-check.sh
# -O1: sanitizer runs at a usable speed (the interop corpus is large); -O0 adds nothing ASan needs.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" \
  -DCLANCE_WERROR=ON -DCLANCE_SANITIZE=ON
ninja -C build-asan
# The interop directions where clance writes run for the default format only here (the
# release build covers 2.0/2.1/2.2); every Lance-written format is still read under ASan.
# Benchmarks, the slurm recipe, the installed-consumer and man page checks run in the
# release build only: under ASan they would time the sanitizer or test nothing new; MPI
# runs with 2 ranks only (4 ranks add no code path, and ASan makes each rank slow).
CLANCE_INTEROP_WRITE_VERSIONS=2.2 \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$JOBS" -LE "^(bench|slurm|consumer|man)$" \
    -E "^mpi\..*\.np4$"
# Coverage-guided fuzzing (libFuzzer + ASan + UBSan), seeded with files both
# clance and the real Lance wrote, a short budget per harness.
scripts/fuzz.sh "${CLANCE_FUZZ_SECONDS:-8}"
echo "all tests passed (release and ASan+UBSan builds, libFuzzer run)"
