#!/usr/bin/env bash
# Coverage-guided fuzzing with libFuzzer (clang) under ASan+UBSan: builds
# build-fuzz, makes seed corpora from files clance and (when cached by the
# interop tests) the real Lance wrote, and runs every harness for SECONDS
# with a memory cap, so that a crash, a hang, a sanitizer report or an
# allocation larger than the input justifies fails the run.
#   scripts/fuzz.sh [SECONDS per harness, default 10]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECS=${1:-10}
cd "$ROOT"
CC=clang cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCLANCE_WERROR=ON \
  -DCLANCE_SANITIZE=ON -DCLANCE_LIBFUZZER=ON -DCLANCE_BUILD_TESTS=OFF \
  -DCLANCE_BUILD_EXAMPLES=OFF -DCLANCE_BUILD_BENCH=OFF >/dev/null
ninja -C build-fuzz >/dev/null
# The seeds come from the plain CLI (any build of it will do).
CLI=build-fuzz/tools/clance
CORPUS="$ROOT/build-fuzz/corpus"
rm -rf "$CORPUS"
bash fuzz/make-seeds.sh "$CLI" "$CORPUS" >/dev/null
export CLANCE_FUZZ_DATASETS="$CORPUS/_datasets"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ARTIFACTS="$ROOT/build-fuzz/artifacts"
mkdir -p "$ARTIFACTS"
status=0
run() {
  local h=$1
  local dir="$CORPUS/$h"
  mkdir -p "$dir"
  # -malloc_limit_mb: no input of at most max_len bytes may make a parser
  # allocate 256 MiB at once; -timeout catches hangs.
  if ! "build-fuzz/fuzz/fuzz_$h" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
      -malloc_limit_mb=256 -max_len=262144 -print_final_stats=1 \
      -artifact_prefix="$ARTIFACTS/$h-" "$dir" >"build-fuzz/fuzz_$h.log" 2>&1; then
    echo "fuzz_$h FAILED; log: build-fuzz/fuzz_$h.log"
    grep -E -A12 "runtime error|ERROR: (Address|Leak)Sanitizer|ERROR: libFuzzer|FUZZ_ASSERT|fuzz_[a-z]+:" \
      "build-fuzz/fuzz_$h.log" | grep -v "in fuzzer::" | head -40
    return 1
  fi
  echo "fuzz_$h: $(grep -o "cov: [0-9]*" "build-fuzz/fuzz_$h.log" | tail -1), $(grep -o "number_of_executed_units: [0-9]*" "build-fuzz/fuzz_$h.log" | grep -o "[0-9]*") runs"
}
# Two harnesses at a time: CI machines have two cores.
pids=()
for src in fuzz/fuzz_*.c; do
  h=$(basename "$src" .c); h=${h#fuzz_}
  run "$h" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$(nproc)" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
[ $status -eq 0 ] && echo "libFuzzer: every harness ran ${SECS}s clean"
exit $status
