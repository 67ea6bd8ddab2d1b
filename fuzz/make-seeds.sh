#!/usr/bin/env bash
# Build seed corpora for the fuzz harnesses from real files: datasets written
# by clance itself (every storage version, nulls, several pages) and, when
# the interop tests have cached datasets that the real Lance wrote
# (CLANCE_INTEROP_CACHE), Lance's data files, manifests and deletion files.
# Nothing here is committed: seeds are generated on every run.
#   make-seeds.sh CLANCE OUTDIR
# OUTDIR/<harness>/ receives the seeds of fuzz_<harness>; OUTDIR/_datasets/
# the whole small datasets that fuzz_dataset damages (CLANCE_FUZZ_DATASETS).
set -euo pipefail
CLANCE=$(realpath "$1")
mkdir -p "$2"
OUT=$(realpath "$2")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/clance-fuzzseed-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
for h in datafile manifest fragment_json deletion protobuf json schema dataset ipc_stream _datasets; do mkdir -p "$OUT/$h"; done
cd "$WORK"
SPEC='i:int32,l:int64!,f:float32,d:float64,b:bool,s:string,bin:binary,ts:timestamp(us,UTC),v:vector(float32,4)'
for i in $(seq 0 199); do
  if [ $((i % 7)) -eq 0 ]; then
    echo "{\"i\":null,\"l\":$i,\"f\":null,\"d\":null,\"b\":null,\"s\":null,\"bin\":null,\"ts\":null,\"v\":null}"
  else
    echo "{\"i\":$((i * 3)),\"l\":$((i * 1000003)),\"f\":$i.5,\"d\":-$i.25,\"b\":$([ $((i % 2)) -eq 0 ] && echo true || echo false),\"s\":\"row $i $(printf 'x%.0s' $(seq 1 $((i % 40))))\",\"bin\":\"0a0b$(printf '%02x' $((i % 256)))\",\"ts\":$((i * 86400000000)),\"v\":[$i,1.5,-2,0]}"
  fi
done > rows.jsonl
n=0
for v in 2.0 2.1 2.2; do
  "$CLANCE" write-fragments "ds$v" --schema "$SPEC" --input rows.jsonl --data-storage-version "$v" \
    --max-rows-per-group 64 > "frags$v.json"
  "$CLANCE" commit "ds$v" --operation overwrite --read-version 0 --schema "$SPEC" "frags$v.json" >/dev/null
  for f in "ds$v"/data/*.lance; do cp "$f" "$OUT/datafile/clance-$v-$((n++)).lance"; done
  for f in "ds$v"/_versions/*.manifest; do
    cp "$f" "$OUT/manifest/clance-$v-$((n++)).manifest"
  done
  cp -r "ds$v" "$OUT/_datasets/clance-$v"
  # Arrow IPC streams as `scan --format arrow` writes them (mode byte 0: the
  # CLI's options; fuzz_ipc_stream reads the rest)
  { printf '\0'; "$CLANCE" scan "ds$v" --format arrow --batch-size 77; } > "$OUT/ipc_stream/clance-$v"
  cp "frags$v.json" "$OUT/fragment_json/clance-$v.json"
  cp "frags$v.json" "$OUT/json/frags-$v.json"
  "$CLANCE" info "ds$v" > "$OUT/json/info-$v.json"
done
printf '%s\n' "$SPEC" 'a:int32,b:string' 'x:list(struct(p:int32!,q:string))' \
  'd:decimal(38,10),t:time64(ns),du:duration(ms),fb:fixed_size_binary(16)' |
  while IFS= read -r s; do printf '%s' "$s" > "$OUT/schema/spec-$((n++))"; done
# Lance's own files, when the interop tests cached them (small files only:
# libFuzzer's input length follows the largest seed).
if [ -n "${CLANCE_INTEROP_CACHE:-}" ] && [ -d "$CLANCE_INTEROP_CACHE" ]; then
  C=$CLANCE_INTEROP_CACHE
  # Up to N files matching find's tests, in a stable order.
  some() { local n=$1; shift; find "$C" -type f "$@" | sort | head -n "$n" || true; }
  for f in $(some 200 -name '*.lance' -size -64k); do cp "$f" "$OUT/datafile/lance-$((n++)).lance"; done
  for f in $(some 100 -name '*.manifest' -size -64k); do cp "$f" "$OUT/manifest/lance-$((n++)).manifest"; done
  for f in $(some 50 -path '*_deletions/*' -name '*.arrow'); do
    { printf '\0'; cat "$f"; } > "$OUT/deletion/lance-arrow-$((n++))"; done
  for f in $(some 50 -path '*_deletions/*' -name '*.bin'); do
    { printf '\1'; cat "$f"; } > "$OUT/deletion/lance-bin-$((n++))"; done
  for f in $(some 50 -name '*.txn' -size -64k); do
    { printf '\0'; cat "$f"; } > "$OUT/protobuf/lance-txn-$((n++))"; done
  # Whole datasets under 512 KiB (nested types, deletions, merges, ...).
  for m in $(find "$C" -type d -name _versions | sort); do
    ds=$(dirname "$m")
    [ "$(du -sk "$ds" | cut -f1)" -le 512 ] || continue
    [ "$(ls "$OUT/_datasets" | wc -l)" -lt 60 ] || break
    cp -r "$ds" "$OUT/_datasets/lance-$((n++))"
  done
fi
for f in "$WORK"/ds*/_transactions/*.txn; do
  { printf '\0'; cat "$f"; } > "$OUT/protobuf/clance-txn-$((n++))"
done
# fuzz_dataset inputs: dataset index, file index, no damage yet.
k=0
for _ in "$OUT"/_datasets/*/; do
  printf "\\x$(printf %02x $k)\\x00" > "$OUT/dataset/ds-$k"
  printf "\\x$(printf %02x $k)\\x01\\x10\\x00\\x00\\x00\\xff" > "$OUT/dataset/ds-$k-damaged"
  k=$((k + 1))
  [ $k -lt 64 ] || break
done
echo "seeds in $OUT: $(find "$OUT" -type f | wc -l) files"
