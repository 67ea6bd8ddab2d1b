#!/usr/bin/env bash
# write-fragments with threads and Arrow IPC, without node:
#  * the same input written with --threads 1 and --threads 4 gives byte-for-byte
#    identical data files (names apart), also with small pages and files cut
#    by --max-bytes-per-file, in every storage version;
#  * `scan --format arrow | write-fragments --format arrow --input -` copies a
#    dataset exactly (stdin, stream format), with and without --schema, and
#    from a regular (mapped) file, and with a small --max-buffer-bytes;
#  * truncated or foreign input and a mismatching --schema are refused.
#   write_threads_test.sh CLANCE
set -euo pipefail
C=$(realpath "$1")
W=$(mktemp -d "${TMPDIR:-/tmp}/clance-threads-XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"
fail() { echo "FAIL: $*" >&2; exit 1; }
# c and k repeat (dictionary pages, run-length encoded indices and values).
SPEC='id:int64,x:float64,s:string,v:vector(float32,3),b:bool,t:timestamp(us,UTC),c:string,k:int64'
awk 'BEGIN { srand(7); for (i = 0; i < 60000; i++) {
  if (i % 13 == 5) { printf "{\"id\":%d,\"x\":null,\"s\":null,\"v\":null,\"b\":null,\"t\":null,\"c\":null,\"k\":null}\n", i; continue }
  printf "{\"id\":%d,\"x\":%.17g,\"s\":\"s%d-%s\",\"v\":[%d,%.5f,-1],\"b\":%s,\"t\":%d,\"c\":\"cat-%d\",\"k\":%d}\n", i, rand(), i * 7,
    substr("abcdefghijklmnopqrstuvwxyz", 1 + i % 20, 1 + i % 7), i, rand(), (i % 3 ? "true" : "false"), i * 1000,
    int(rand() * 17), int(i / 700) * 1000003 - 50000000 }
}' > rows.jsonl
# data files of a fragment list, in order
files() { grep -o '"path": *"[^"]*"' "$1" | sed 's/.*"\([^"]*\)"$/\1/'; }
for v in 2.0 2.1 2.2; do
  for t in 1 4; do
    "$C" write-fragments "t$t-$v" --schema "$SPEC" --input rows.jsonl --data-storage-version "$v" \
      --threads "$t" --max-rows-per-group 4000 --max-bytes-per-file 400000 --batch-rows 3000 \
      --no-progress > "f$t-$v.json"
  done
  paste <(files "f1-$v.json") <(files "f4-$v.json") > pairs
  n=$(wc -l < pairs)
  [ "$n" -ge 3 ] || fail "$v: expected several files, got $n"
  while read -r a b; do
    cmp "t1-$v/data/$a" "t4-$v/data/$b" || fail "$v: data files differ between --threads 1 and 4"
  done < pairs
  "$C" commit "t4-$v" --operation overwrite --read-version 0 --schema "$SPEC" "f4-$v.json" > /dev/null
  "$C" scan "t4-$v" > "scan-$v.jsonl"
  [ "$(wc -l < "scan-$v.jsonl")" -eq 60000 ] || fail "$v: row count"
  # Arrow IPC out, then in again through stdin
  "$C" scan "t4-$v" --format arrow --batch-size 7000 > "out-$v.arrows"
  for s in with without; do
    sarg=(); [ $s = with ] && sarg=(--schema "$SPEC")
    "$C" write-fragments "copy-$s-$v" --format arrow --input - "${sarg[@]}" --no-progress \
      < "out-$v.arrows" > "c-$s-$v.json"
    "$C" commit "copy-$s-$v" --operation overwrite --read-version 0 --schema "$SPEC" "c-$s-$v.json" > /dev/null
    "$C" scan "copy-$s-$v" | cmp - "scan-$v.jsonl" || fail "$v: IPC copy ($s --schema) differs"
  done
done
# From a regular file (mapped, zero-copy), format detected by the extension.
"$C" scan t4-2.1 --format arrow > all.arrows
"$C" write-fragments small --input all.arrows --threads 3 --no-progress > small.json
"$C" commit small --operation overwrite --read-version 0 --schema "$SPEC" small.json > /dev/null
"$C" scan small | cmp - scan-2.1.jsonl || fail "copy from a mapped IPC stream differs"
# A small --max-buffer-bytes gives smaller pages (other bytes), the same rows.
"$C" write-fragments tiny --input all.arrows --threads 3 --max-buffer-bytes 1000000 --no-progress > tiny.json
"$C" commit tiny --operation overwrite --read-version 0 --schema "$SPEC" tiny.json > /dev/null
"$C" scan tiny | cmp - scan-2.1.jsonl || fail "copy with a 1 MB buffer differs"
if cmp -s "small/data/$(files small.json | head -1)" "tiny/data/$(files tiny.json | head -1)"; then
  fail "--max-buffer-bytes had no effect on the pages"; fi
# Errors name the input.
head -c 1000 all.arrows > cut.arrows
if "$C" write-fragments bad --input cut.arrows --no-progress > /dev/null 2> err.txt; then fail "truncated input accepted"; fi
grep -q "cut.arrows" err.txt || fail "error does not name the input: $(cat err.txt)"
printf 'not arrow at all' > junk.arrow
if "$C" write-fragments bad --input junk.arrow --no-progress > /dev/null 2> err.txt; then fail "junk accepted"; fi
grep -q "junk.arrow" err.txt || fail "error does not name the input: $(cat err.txt)"
if "$C" write-fragments bad --input all.arrows --schema 'id:int32' --no-progress > /dev/null 2> err.txt; then
  fail "mismatching --schema accepted"; fi
echo "write threads / Arrow IPC CLI tests passed"
