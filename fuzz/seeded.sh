#!/usr/bin/env bash
# Seeded fuzz smoke run: make real data files, manifests and fragment JSON
# with clance itself (every storage version), then feed each file and
# thousands of mutations of it to the matching harness.
#   seeded.sh CLANCE FUZZ_BIN_DIR [MUTATIONS]
set -euo pipefail
CLANCE=$(realpath "$1")
BIN=$(realpath "$2")
MUT=${3:-300}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/clance-fuzzseed-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
SPEC='i:int32,l:int64!,f:float32,d:float64,b:bool,s:string,bin:binary,ts:timestamp(us,UTC),v:vector(float32,4)'
for i in $(seq 0 199); do
  if [ $((i % 7)) -eq 0 ]; then
    echo "{\"i\":null,\"l\":$i,\"f\":null,\"d\":null,\"b\":null,\"s\":null,\"bin\":null,\"ts\":null,\"v\":null}"
  else
    echo "{\"i\":$((i * 3)),\"l\":$((i * 1000003)),\"f\":$i.5,\"d\":-$i.25,\"b\":$([ $((i % 2)) -eq 0 ] && echo true || echo false),\"s\":\"row $i $(printf 'x%.0s' $(seq 1 $((i % 40))))\",\"bin\":\"0a0b$(printf '%02x' $((i % 256)))\",\"ts\":$((i * 86400000000)),\"v\":[$i,1.5,-2,0]}"
  fi
done > rows.jsonl
for v in 2.0 2.1 2.2; do
  "$CLANCE" write-fragments "ds$v" --schema "$SPEC" --input rows.jsonl --data-storage-version "$v" \
    --max-rows-per-group 64 > "frags$v.json"
  "$CLANCE" commit "ds$v" --operation overwrite --read-version 0 --schema "$SPEC" "frags$v.json" >/dev/null
done
"$BIN/fuzz_datafile" -m "$MUT" ds*/data/*.lance
"$BIN/fuzz_manifest" -m "$MUT" ds*/_versions/*.manifest
"$BIN/fuzz_fragment_json" -m "$MUT" frags*.json
echo "seeded fuzz run passed"
