#!/bin/sh
# clance-mpi add-columns under a real mpirun, NP ranks (2 or 4):
#   add_columns_test.sh NP CLANCE_MPI CLANCE WORKDIR INTEROP_DIR|-
# The dataset: a = 0..9, s = "s<a>", in fragments of 3, 3, 3 and 1 rows; row
# a = 4 is deleted. Its 9 live rows are split among the ranks in contiguous
# fragment ranges (with 4 fragments: 2 ranks get 2 each, 4 ranks 1 each).
# Checks, with `clance scan` and the versions: new columns by position from
# per-rank parts, by key from parts every rank reads, by position from one
# file; that a rank with too few input rows, and a rank that fails after the
# others wrote their files, fail every rank with that rank's error and leave
# neither a version nor a data file behind; and that the real Lance reads the
# result identically (when INTEROP_DIR/node_modules exists).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
scan_is() { # scan_is EXPECTED_FILE WHAT
  "$CLANCE" scan "$DS" > "$W/scan.jsonl"
  cmp -s "$W/scan.jsonl" "$1" || { diff "$1" "$W/scan.jsonl" >&2; fail "rows after $2"; }
}
case $NP in
  2) shares="0 1 2 3 5|6 7 8 9" ;;
  4) shares="0 1 2|3 5|6 7 8|9" ;;
  *) fail "NP must be 2 or 4" ;;
esac

{ echo "a,s"; for a in 0 1 2 3 4 5 6 7 8 9; do echo "$a,s$a"; done; } > "$W/base-0.csv"
out=$($MPIRUN 1 "$TOOL" write "$DS" --schema 'a:int64,s:string' --input "$W/base-%d.csv" \
  --max-rows-per-file 3) || fail "writing the dataset failed"
[ "$out" = 1 ] || fail "write printed '$out'"
[ "$("$CLANCE" delete "$DS" --where 'a = 4')" = 2 ] || fail "delete"
LIVE="0 1 2 3 5 6 7 8 9"

# 1. By position, per-rank parts: rank r's part holds c = 10a for its rows.
echo "$shares" | tr '|' '\n' > "$W/shares"
r=0
while read -r rows; do
  { echo "c"; for a in $rows; do echo $((10 * a)); done; } > "$W/c-$r.csv"
  r=$((r + 1))
done < "$W/shares"
[ "$r" = "$NP" ] || fail "shares"
out=$($MPIRUN "$NP" "$TOOL" add-columns "$DS" --schema 'c:int64' --input "$W/c-%d.csv") ||
  fail "add-columns by position failed"
[ "$out" = 3 ] || fail "add-columns printed '$out', expected 3"
for a in $LIVE; do echo "{\"a\":$a,\"s\":\"s$a\",\"c\":$((10 * a))}"; done > "$W/expect3.jsonl"
scan_is "$W/expect3.jsonl" "the add-columns by position"

# 2. By key, from parts every rank reads (keys not in the ranks' shares, out
#    of order, 4 and 7 missing: a deleted row and a row that gets a null).
{ echo '{"a":9,"d":"nine"}'; echo '{"a":0,"d":"zero"}'; echo '{"a":5,"d":"five"}'; } > "$W/d-0.jsonl"
r=1
while [ "$r" -lt "$NP" ]; do : > "$W/d-$r.jsonl"; r=$((r + 1)); done
for a in 1 2 3 6 8; do echo "{\"a\":$a,\"d\":\"d$a\"}"; done >> "$W/d-$((NP - 1)).jsonl"
out=$($MPIRUN "$NP" "$TOOL" add-columns "$DS" --schema 'd:string' --key a --input "$W/d-%d.jsonl") ||
  fail "add-columns by key failed"
[ "$out" = 4 ] || fail "add-columns by key printed '$out', expected 4"
d_of() { case $1 in 0) echo '"zero"' ;; 5) echo '"five"' ;; 9) echo '"nine"' ;; 7) echo null ;; *) echo "\"d$1\"" ;; esac; }
for a in $LIVE; do echo "{\"a\":$a,\"s\":\"s$a\",\"c\":$((10 * a)),\"d\":$(d_of $a)}"; done > "$W/expect4.jsonl"
scan_is "$W/expect4.jsonl" "the add-columns by key"

# 3. By position from one file every rank reads.
{ echo "e"; for a in $LIVE; do echo "$a.5"; done; } > "$W/e.csv"
out=$($MPIRUN "$NP" "$TOOL" add-columns "$DS" --schema 'e:float64' --input "$W/e.csv") ||
  fail "add-columns from one file failed"
[ "$out" = 5 ] || fail "add-columns from one file printed '$out', expected 5"
for a in $LIVE; do echo "{\"a\":$a,\"s\":\"s$a\",\"c\":$((10 * a)),\"d\":$(d_of $a),\"e\":$a.5}"; done > "$W/expect5.jsonl"
scan_is "$W/expect5.jsonl" "the add-columns from one file"
"$CLANCE" versions "$DS" | sed 's/"timestamp": "[^"]*", //' > "$W/versions.jsonl"
[ "$(grep -c '"operation": "Merge", "num_rows": 9, "num_fragments": 4' "$W/versions.jsonl")" = 3 ] ||
  { cat "$W/versions.jsonl" >&2; fail "three Merges of 4 fragments expected"; }
files=$(nfiles)

# 4. Rank 1's part lacks a row: every rank fails with rank 1's error before
#    anything is written.
r=0
while [ "$r" -lt "$NP" ]; do cp "$W/c-$r.csv" "$W/f-$r.csv"; r=$((r + 1)); done
sed -i 's/^c$/f/' "$W"/f-*.csv
sed -i '$d' "$W/f-1.csv"
if $MPIRUN "$NP" "$TOOL" add-columns "$DS" --schema 'f:int64' --input "$W/f-%d.csv" \
  > "$W/bad.out" 2> "$W/bad.err"; then
  fail "a part with too few rows was accepted"
fi
[ "$(grep -c "error EINVAL: rank 1: .*f-1.csv has" "$W/bad.err")" = 1 ] ||
  { cat "$W/bad.err" >&2; fail "the error is not rank 1's, reported once"; }
[ ! -s "$W/bad.out" ] || fail "a version was printed after a failure"

# 5. A NOT NULL column by key where rank 1's fragment has no input rows: rank
#    0 has written its file when rank 1 fails; every rank fails, nothing stays.
for a in $LIVE; do echo "{\"a\":$a,\"g\":$a}"; done | grep -v -E "\"a\":($(echo "$shares" | cut -d'|' -f2 | tr ' ' '|'))," > "$W/g.jsonl"
if $MPIRUN "$NP" "$TOOL" add-columns "$DS" --schema 'g:int64!' --key a --input "$W/g.jsonl" \
  > "$W/bad.out" 2> "$W/bad.err"; then
  fail "missing NOT NULL values on rank 1 were accepted"
fi
grep -q "error EINVAL: rank 1: fragment [0-9]*: .*NOT NULL" "$W/bad.err" ||
  { cat "$W/bad.err" >&2; fail "the error is not rank 1's"; }
[ "$(nfiles)" = "$files" ] || fail "stray data files after a failed add-columns: $(nfiles), before $files"
"$CLANCE" versions "$DS" | sed 's/"timestamp": "[^"]*", //' | cmp -s - "$W/versions.jsonl" ||
  fail "versions changed after a failed add-columns"
scan_is "$W/expect5.jsonl" "failed add-columns"

# 6. The real Lance reads the dataset identically.
if [ "$INTEROP" = - ]; then
  echo "interop check: done by the 4-rank test"
elif [ -d "$INTEROP/node_modules" ] && command -v node > /dev/null; then
  node "$INTEROP/lance_dump.js" "$DS" > "$W/lance.jsonl" || fail "lance_dump failed"
  cmp -s "$W/lance.jsonl" "$W/expect5.jsonl" || { diff "$W/expect5.jsonl" "$W/lance.jsonl" >&2; fail "Lance reads other rows"; }
  echo "the real Lance reads the MPI add-columns identically"
else
  echo "SKIP interop check: no $INTEROP/node_modules (run npm ci there) or no node"
fi
echo "ok: clance-mpi add-columns with $NP ranks"
