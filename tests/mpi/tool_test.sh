#!/bin/sh
# clance-mpi under a real mpirun, NP ranks, each reading its own CSV/JSONL part:
#   tool_test.sh NP CLANCE_MPI CLANCE WORKDIR INTEROP_DIR|-
# Checks the committed versions and rows (clance scan), that a malformed part
# or a missing part on rank 1 fails every rank with rank 1's error and leaves
# neither a version nor a data file behind, and that the real Lance reads the
# dataset identically (when INTEROP_DIR/node_modules exists).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"

# Parts: rank r has rows a = 10r+i, b = "r<r>-<i>" (i = 0..2); rank 0's last b is null.
r=0
: > "$W/expect1.jsonl"
while [ "$r" -lt "$NP" ]; do
  {
    echo "b,a"
    for i in 0 1 2; do
      if [ "$r" = 0 ] && [ "$i" = 2 ]; then echo ",$((10 * r + i))"; else echo "r$r-$i,$((10 * r + i))"; fi
    done
  } > "$W/part-$r.csv"
  for i in 0 1 2; do
    if [ "$r" = 0 ] && [ "$i" = 2 ]; then b=null; else b="\"r$r-$i\""; fi
    echo "{\"a\":$((10 * r + i)),\"b\":$b}" >> "$W/expect1.jsonl"
  done
  echo "{\"a\":$((1000 + r)),\"b\":\"appended by $r\"}" > "$W/more-$r.jsonl"
  r=$((r + 1))
done

# 1. Overwrite (creates the dataset): version 1, two files for each rank.
out=$($MPIRUN "$NP" "$TOOL" write "$DS" --schema 'a:int32,b:string' --input "$W/part-%d.csv" \
  --max-rows-per-file 2 --data-storage-version 2.1) || fail "overwrite failed"
[ "$out" = 1 ] || fail "overwrite printed '$out', expected 1"
"$CLANCE" scan "$DS" > "$W/scan1.jsonl"
cmp -s "$W/scan1.jsonl" "$W/expect1.jsonl" || { diff "$W/expect1.jsonl" "$W/scan1.jsonl" >&2; fail "rows after the overwrite"; }

# 2. Append JSON Lines parts (format from the extension, read version = latest).
out=$($MPIRUN "$NP" "$TOOL" write "$DS" --schema 'a:int32,b:string' --input "$W/more-%d.jsonl" \
  --mode append) || fail "append failed"
[ "$out" = 2 ] || fail "append printed '$out', expected 2"
cp "$W/expect1.jsonl" "$W/expect2.jsonl"
r=0
while [ "$r" -lt "$NP" ]; do cat "$W/more-$r.jsonl" >> "$W/expect2.jsonl"; r=$((r + 1)); done
"$CLANCE" scan "$DS" > "$W/scan2.jsonl"
cmp -s "$W/scan2.jsonl" "$W/expect2.jsonl" || { diff "$W/expect2.jsonl" "$W/scan2.jsonl" >&2; fail "rows after the append"; }
# One Overwrite (two fragments per rank), one Append (one per rank), nothing else.
"$CLANCE" versions "$DS" | sed 's/"timestamp": "[^"]*", //' > "$W/versions.jsonl"
printf '{"version": 1, "operation": "Overwrite", "num_rows": %d, "num_fragments": %d}\n{"version": 2, "operation": "Append", "num_rows": %d, "num_fragments": %d}\n' \
  $((3 * NP)) $((2 * NP)) $((4 * NP)) $((3 * NP)) | cmp -s - "$W/versions.jsonl" || { cat "$W/versions.jsonl" >&2; fail "versions"; }
files=$(nfiles)
[ "$files" = $((3 * NP)) ] || fail "$files data files, expected $((3 * NP))"

# 3. Rank 1's part is malformed on its 4th record, after it wrote files of
#    one row each: every rank fails with rank 1's error, nothing is committed.
mkdir -p "$W/bad"
r=0
while [ "$r" -lt "$NP" ]; do cp "$W/part-$r.csv" "$W/bad/p$r.csv"; r=$((r + 1)); done
printf 'b,a\nx,1\ny,2\nz,3\n"unterminated,4\n' > "$W/bad/p1.csv"
if $MPIRUN "$NP" "$TOOL" write "$DS" --schema 'a:int32,b:string' --input "$W/bad/p%d.csv" \
  --mode append --max-rows-per-file 1 --batch-rows 1 > "$W/bad.out" 2> "$W/bad.err"; then
  fail "a malformed part on rank 1 was accepted"
fi
grep -q "error ECORRUPT: rank 1: .*p1.csv" "$W/bad.err" || { cat "$W/bad.err" >&2; fail "the error does not name rank 1 and its file"; }
[ ! -s "$W/bad.out" ] || fail "a version was printed after a failure: $(cat "$W/bad.out")"
"$CLANCE" scan "$DS" | cmp -s - "$W/expect2.jsonl" || fail "rows changed after a failed write"
"$CLANCE" versions "$DS" | sed 's/"timestamp": "[^"]*", //' | cmp -s - "$W/versions.jsonl" || fail "versions changed after a failed write"
[ "$(nfiles)" = "$files" ] || fail "stray data files after a failed write: $(nfiles), before $files"

# Steps 4 and 5 do not depend on the number of ranks: run them once.
if [ "$NP" -ge 4 ]; then
# 4. Rank 1's part does not exist: same, with ENOTFOUND.
rm "$W/bad/p1.csv"
if $MPIRUN "$NP" "$TOOL" write "$DS" --schema 'a:int32,b:string' --input "$W/bad/p%d.csv" \
  --mode append > "$W/bad.out" 2> "$W/bad.err"; then
  fail "a missing part on rank 1 was accepted"
fi
grep -q "error ENOTFOUND: rank 1: .*p1.csv" "$W/bad.err" || { cat "$W/bad.err" >&2; fail "the missing part is not reported as rank 1's"; }
[ "$(nfiles)" = "$files" ] || fail "stray data files after a missing part: $(nfiles), before $files"
"$CLANCE" scan "$DS" | cmp -s - "$W/expect2.jsonl" || fail "rows changed after a missing part"

# 5. Usage errors are reported once, with exit status 2.
set +e
$MPIRUN "$NP" "$TOOL" write "$DS" --schema 'a:int32' --input "$W/part.csv" > /dev/null 2> "$W/usage.err"
rc=$?
set -e
[ "$rc" != 0 ] || fail "an --input without %d was accepted"
[ "$(grep -c 'exactly one %d' "$W/usage.err")" = 1 ] || { cat "$W/usage.err" >&2; fail "usage error not reported once"; }

fi

# 6. The real Lance reads the dataset identically.
if [ "$INTEROP" = - ]; then
  echo "interop check: done by the 4-rank test"
elif [ -d "$INTEROP/node_modules" ] && command -v node > /dev/null; then
  node "$INTEROP/lance_dump.js" "$DS" > "$W/lance.jsonl" || fail "lance_dump failed"
  cmp -s "$W/lance.jsonl" "$W/expect2.jsonl" || { diff "$W/expect2.jsonl" "$W/lance.jsonl" >&2; fail "Lance reads other rows"; }
  echo "the real Lance reads the MPI-written dataset identically"
else
  echo "SKIP interop check: no $INTEROP/node_modules (run npm ci there) or no node"
fi
echo "ok: clance-mpi with $NP ranks"
