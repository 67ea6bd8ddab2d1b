#!/usr/bin/env bash
# Seeded fuzz smoke run with the standalone driver (any compiler): build seed
# corpora from real files (make-seeds.sh), then feed each seed and MUTATIONS
# deterministic mutations of it to the matching harness.
#   seeded.sh CLANCE FUZZ_BIN_DIR [MUTATIONS]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(realpath "$2")
MUT=${3:-300}
SEEDS=$(mktemp -d "${TMPDIR:-/tmp}/clance-seeds-XXXXXX")
trap 'rm -rf "$SEEDS"' EXIT
bash "$HERE/make-seeds.sh" "$1" "$SEEDS"
export CLANCE_FUZZ_DATASETS="$SEEDS/_datasets"
for dir in "$SEEDS"/*/; do
  h=$(basename "$dir")
  [ "${h#_}" = "$h" ] || continue
  if [ -n "$(ls -A "$dir")" ]; then
    "$BIN/fuzz_$h" -m "$MUT" "$dir"
  fi
done
echo "seeded fuzz run passed"
