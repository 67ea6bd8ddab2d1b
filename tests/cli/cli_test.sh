#!/usr/bin/env bash
# CLI tests: the seed distributed write run as separate worker/coordinator
# commands, then bad input of every kind: each must fail with a clear error
# naming the file or argument, and must not change the dataset.
#   cli_test.sh PATH/TO/clance
set -u
CLANCE=$(realpath "$1")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/clance-cli-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fails=0
pass=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fails=$((fails + 1)); echo "FAIL $1"; }

# expect_fail NAME EXIT_CODE PATTERN CMD...: the command must exit with
# EXIT_CODE and print PATTERN (extended regex) on stderr.
expect_fail() {
  local name=$1 code=$2 pattern=$3
  shift 3
  local out rc
  out=$("$@" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" -ne "$code" ]; then
    bad "$name: exit $rc, expected $code: $out"
  elif ! grep -Eq -e "$pattern" <<<"$out"; then
    bad "$name: message \"$out\" does not match /$pattern/"
  else
    ok "$name"
  fi
}

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
  if [ "$2" == "$3" ]; then ok "$1"; else bad "$1: expected [$2], got [$3]"; fi
}

SPEC='a:int32,b:string'
printf '{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n{"a":3,"b":"z"}\n' > w1.jsonl
printf 'a,b\n4,u\n5,v\n6,w\n' > w2.csv
printf '{"a":7,"b":null}\n' > w3.jsonl

# ---- the seed example, as two workers and a coordinator ----
"$CLANCE" write-fragments ./dist_write --schema "$SPEC" --input w1.jsonl > f1.json || bad "worker 1"
"$CLANCE" write-fragments ./dist_write --schema "$SPEC" --input w2.csv --format csv --output f2.json || bad "worker 2"
expect_eq "nothing visible before commit" "" "$(ls dist_write/_versions 2>/dev/null)"
v=$("$CLANCE" commit ./dist_write --operation overwrite --read-version 0 --schema "$SPEC" f1.json f2.json)
expect_eq "overwrite commits version 1" "1" "$v"
expect_eq "seed rows in order" \
  '{"a":1,"b":"x"} {"a":2,"b":"y"} {"a":3,"b":"z"} {"a":4,"b":"u"} {"a":5,"b":"v"} {"a":6,"b":"w"}' \
  "$("$CLANCE" scan ./dist_write | tr '\n' ' ' | sed 's/ $//')"
info=$("$CLANCE" info ./dist_write)
expect_eq "info: version, rows, fragments" '1 6 2' \
  "$(grep -Eo '"(version|num_rows|num_fragments)": [0-9]+' <<<"$info" | awk '{printf "%s%s", sep, $2; sep=" "}')"
grep -q '"data_storage_version": "2.1"' <<<"$info" && ok "default storage 2.1" || bad "default storage 2.1: $info"
"$CLANCE" write-fragments ./dist_write --schema "$SPEC" --input w3.jsonl > f3.json || bad "worker 3"
v=$("$CLANCE" commit ./dist_write --operation append --read-version 1 f3.json)
expect_eq "append commits version 2" "2" "$v"
expect_eq "scan --version 1 still 6 rows" "6" "$("$CLANCE" scan ./dist_write --version 1 | wc -l | tr -d ' ')"
expect_eq "scan latest 7 rows" "7" "$("$CLANCE" scan ./dist_write | wc -l | tr -d ' ')"
expect_eq "projection" '{"b":null}' "$("$CLANCE" scan ./dist_write --columns b | tail -1)"
expect_eq "csv output" 'a,b|1,x|7,' "$("$CLANCE" scan ./dist_write --format csv | sed -n '1p;2p;$p' | tr '\n' '|' | sed 's/|$//')"
expect_eq "versions" "Overwrite Append" \
  "$("$CLANCE" versions ./dist_write | grep -Eo '"operation": "[A-Za-z]+"' | cut -d'"' -f4 | tr '\n' ' ' | sed 's/ $//')"
[ -f dist_write/_versions/18446744073709551613.manifest ] && ok "V2 manifest names" || bad "V2 manifest names"
grep -q '"version":2' dist_write/_versions/latest_version_hint.json && ok "version hint" || bad "version hint"
[ "$(ls dist_write/_transactions | wc -l)" -eq 2 ] && ok "one transaction file per commit" || bad "transaction files"

# ---- random access, counting, filters ----
expect_eq "take in request order with repeats" '{"a":7,"b":null}|{"a":1,"b":"x"}|{"a":7,"b":null}' \
  "$("$CLANCE" take ./dist_write --rows 6,0,6 | tr '\n' '|' | sed 's/|$//')"
expect_eq "take projected" '{"b":"u"}' "$("$CLANCE" take ./dist_write --rows 3 --columns b)"
expect_fail "take out of range" 1 "row 7 is out of range" "$CLANCE" take ./dist_write --rows 7
expect_fail "take needs --rows" 2 "--rows is required" "$CLANCE" take ./dist_write
expect_eq "count" "7" "$("$CLANCE" count ./dist_write)"
expect_eq "count version 1" "6" "$("$CLANCE" count ./dist_write --version 1)"
expect_eq "count with filter" "3" "$("$CLANCE" count ./dist_write --filter "a > 2 AND b <> 'v' AND b IS NOT NULL")"
expect_eq "scan with filter" '{"a":2,"b":"y"}|{"a":7,"b":null}' \
  "$("$CLANCE" scan ./dist_write --filter "a = 2 OR b IS NULL" | tr '\n' '|' | sed 's/|$//')"
expect_eq "NULL comparisons are unknown" "6" "$("$CLANCE" count ./dist_write --filter "NOT b = 'zz'")"
expect_fail "filter on a missing column" 1 'column "c" is not in the schema' \
  "$CLANCE" count ./dist_write --filter "c > 1"
expect_fail "malformed filter" 1 "filter.*offset" "$CLANCE" scan ./dist_write --filter "a >"

# ---- usage and argument errors ----
expect_fail "no command" 2 "Usage" "$CLANCE"
expect_fail "unknown command" 2 "unknown command" "$CLANCE" frobnicate
expect_fail "unknown option" 2 "unknown option --bogus" "$CLANCE" scan ./dist_write --bogus
expect_fail "missing --schema" 2 "--schema is required" "$CLANCE" write-fragments ./x --input w1.jsonl
expect_fail "unknown type name" 1 'unknown type "int33"' "$CLANCE" write-fragments ./x --schema 'a:int33' --input w1.jsonl
expect_fail "bad number option" 2 "non-negative integer" "$CLANCE" scan ./dist_write --version abc
"$CLANCE" --help >/dev/null && ok "--help" || bad "--help"
for c in write-fragments commit scan take count info versions; do
  "$CLANCE" "$c" --help | grep -q "Usage: clance $c" && ok "$c --help" || bad "$c --help"
done
"$CLANCE" --version | grep -q "2.1" && ok "--version" || bad "--version"

# ---- bad input data ----
printf '{"a":1,"b":"x"}\n{"a":"oops","b":"y"}\n' > badtype.jsonl
expect_fail "type mismatch in input" 1 "badtype.jsonl: line 2.*\"a\"" \
  "$CLANCE" write-fragments ./y --schema "$SPEC" --input badtype.jsonl
[ ! -d y/data ] || [ -z "$(ls y/data)" ] && ok "failed write leaves no data files" || bad "failed write left files: $(ls y/data)"
expect_fail "missing input file" 1 "nope.jsonl" "$CLANCE" write-fragments ./y --schema "$SPEC" --input nope.jsonl
expect_fail "schema mismatch with existing dataset" 1 "column \"a\".*int64" \
  "$CLANCE" write-fragments ./dist_write --schema 'a:int64,b:string' --input w1.jsonl

# ---- bad fragment JSON ----
echo '[{"id": 0, "files": [' > trunc.json
expect_fail "truncated fragment JSON" 1 "trunc.json" "$CLANCE" commit ./dist_write --operation append --read-version 2 trunc.json
echo '{"id": 0, "files": [{"path": "x.lance", "fields": [0, 1]}]}' > norows.json
expect_fail "fragment JSON without physical_rows" 1 'norows.json.*physical_rows' \
  "$CLANCE" commit ./dist_write --operation append --read-version 2 norows.json
sed 's/"fields": \[0, 1\]/"fields": [0, 7]/' f3.json > badfield.json
expect_fail "fragment with unknown field id" 1 "field id 7" \
  "$CLANCE" commit ./dist_write --operation append --read-version 2 badfield.json
"$CLANCE" write-fragments ./elsewhere --schema "$SPEC" --input w1.jsonl > other.json
expect_fail "fragments of another dataset" 1 "does not exist" \
  "$CLANCE" commit ./dist_write --operation append --read-version 2 other.json
expect_fail "same fragments twice" 1 "appears in two fragments" \
  "$CLANCE" commit ./dist_write --operation append --read-version 2 f3.json f3.json
"$CLANCE" write-fragments ./z --schema "$SPEC" --input w1.jsonl > z.json
expect_fail "commit schema differs from fragments" 1 "ESCHEMA.*int32 vs int64" \
  "$CLANCE" commit ./z --operation overwrite --read-version 0 --schema 'a:int64,b:string' z.json
[ ! -d z/_versions ] && ok "refused overwrite published nothing" || bad "z/_versions exists"
expect_fail "read version newer than latest" 1 "read version 9 is newer than the latest version 2" \
  "$CLANCE" commit ./dist_write --operation append --read-version 9 f3.json
expect_fail "append to missing dataset" 1 "does not exist" \
  "$CLANCE" commit ./missing --operation append --read-version 0 f1.json
expect_fail "overwrite racing an existing version" 3 "version 1 \\(Overwrite\\)" \
  "$CLANCE" commit ./dist_write --operation overwrite --read-version 0 --schema "$SPEC" f1.json
expect_eq "failed commits changed nothing" "7 2" \
  "$("$CLANCE" scan ./dist_write | wc -l | tr -d ' ') $(ls dist_write/_versions | grep -c manifest)"

# ---- reading broken datasets ----
expect_fail "not a dataset" 1 "not a Lance dataset|does not exist" "$CLANCE" scan ./nowhere
mkdir empty && expect_fail "empty directory" 1 "not a Lance dataset" "$CLANCE" info ./empty
expect_fail "missing version" 1 "no version 5" "$CLANCE" scan ./dist_write --version 5
cp -r dist_write broken
m=broken/_versions/18446744073709551613.manifest
head -c 100 "$m" > "$m.tmp" && mv "$m.tmp" "$m"
expect_fail "truncated manifest" 1 "ECORRUPT.*18446744073709551613.manifest" "$CLANCE" scan ./broken
expect_eq "older version still readable" "6" "$("$CLANCE" scan ./broken --version 1 | wc -l | tr -d ' ')"
cp -r dist_write broken2
f=$(ls broken2/data | head -1)
head -c 50 "broken2/data/$f" > broken2/data/tmp && mv broken2/data/tmp "broken2/data/$f"
expect_fail "truncated data file" 1 "ECORRUPT.*$f" "$CLANCE" scan ./broken2
cp -r dist_write broken3
f=$(ls broken3/data | head -1)
printf 'XXXX' | dd of="broken3/data/$f" bs=1 seek=$(($(stat -c %s "broken3/data/$f") - 4)) conv=notrunc 2>/dev/null
expect_fail "data file with bad magic" 1 "bad magic" "$CLANCE" scan ./broken3
cp -r dist_write broken4
echo garbage > broken4/_versions/18446744073709551612.manifest
expect_fail "garbage manifest as latest" 1 "ECORRUPT" "$CLANCE" info ./broken4
echo x > broken4/_versions/5.manifest
expect_fail "mixed manifest naming" 1 "mixes V1 and V2" "$CLANCE" info ./broken4

# ---- concurrent appends: every commit lands, none is lost ----
"$CLANCE" write-fragments ./conc --schema "$SPEC" --input w1.jsonl > c0.json
"$CLANCE" commit ./conc --operation overwrite --read-version 0 --schema "$SPEC" c0.json >/dev/null
for i in $(seq 1 8); do
  "$CLANCE" write-fragments ./conc --schema "$SPEC" --input w3.jsonl > "c$i.json"
done
pids=()
for i in $(seq 1 8); do
  "$CLANCE" commit ./conc --operation append --read-version 1 "c$i.json" > "v$i.out" 2> "v$i.err" &
  pids+=($!)
done
cfail=0
for p in "${pids[@]}"; do wait "$p" || cfail=$((cfail + 1)); done
expect_eq "8 concurrent appends all commit" "0" "$cfail"
expect_eq "versions 2..9 each taken once" "2 3 4 5 6 7 8 9" "$(sort -n v*.out | tr '\n' ' ' | sed 's/ $//')"
expect_eq "rows = 3 + 8" "11" "$("$CLANCE" scan ./conc | wc -l | tr -d ' ')"

# ---- resumable, idempotent workers (--task-id) ----
"$CLANCE" write-fragments ./tasks --schema "$SPEC" --input w1.jsonl --task-id 0 --output t0.json || bad "task 0"
cp t0.json t0.first.json
first_file=$(ls tasks/data)
"$CLANCE" write-fragments ./tasks --schema "$SPEC" --input w1.jsonl --task-id 0 --output t0.json || bad "task 0 again"
"$CLANCE" write-fragments ./tasks --schema "$SPEC" --input w2.csv --task-id 1 --output t1.json || bad "task 1"
expect_eq "re-run replaced the task's data file" "2" "$(ls tasks/data | wc -l | tr -d ' ')"
[ ! -e "tasks/data/$first_file" ] && ok "first attempt's file removed" || bad "first attempt's file still there"
grep -q '"attempt": 2' tasks/_clance_tasks/0.json && ok "task record at attempt 2" || bad "task record: $(cat tasks/_clance_tasks/0.json)"
grep -q '"clance_task": {"id": "0", "attempt": 2' t0.json && ok "fragment JSON carries the task" || bad "task tag: $(cat t0.json)"
expect_fail "superseded attempt refused" 1 "t0.first.json holds attempt 1 of task 0.*attempt 2" \
  "$CLANCE" commit ./tasks --operation overwrite --read-version 0 --schema "$SPEC" t0.first.json t1.json
out=$("$CLANCE" commit ./tasks --operation overwrite --read-version 0 --schema "$SPEC" t0.first.json t0.json t1.json 2>&1 >/dev/null)
expect_eq "old + new attempt: only the latest committed" "6" "$("$CLANCE" count ./tasks 2>/dev/null)"
grep -q "skipping t0.first.json" <<<"$out" && ok "skipped attempt named" || bad "skip notice: $out"
expect_fail "bad task id" 1 'task id "a/b"' \
  "$CLANCE" write-fragments ./tasks --schema "$SPEC" --input w1.jsonl --task-id a/b
"$CLANCE" write-fragments ./tasks --schema "$SPEC" --input w3.jsonl --task-id 0 --output t0.json || bad "task 0 after commit"
expect_eq "committed files of a re-run task are kept" "6" "$("$CLANCE" count ./tasks)"
"$CLANCE" write-fragments ./tasks2 --schema "$SPEC" --input w1.jsonl --task-id 7 --output a.json
"$CLANCE" write-fragments ./tasks2 --schema "$SPEC" --input w1.jsonl --task-id 7 --output b.json
sed 's/"attempt": 2/"attempt": 1/' b.json > c.json
expect_fail "two runs claiming one attempt" 1 "a.json and c.json both hold attempt 1 of task 7" \
  "$CLANCE" commit ./tasks2 --operation overwrite --read-version 0 --schema "$SPEC" a.json c.json

# ---- progress display ----
expect_eq "no progress when stderr is not a terminal" "" \
  "$("$CLANCE" write-fragments ./prog --schema "$SPEC" --input w1.jsonl --output p.json 2>&1)"
"$CLANCE" write-fragments ./prog --schema "$SPEC" --input w1.jsonl --output p.json --progress 2>prog.err
grep -q "3 rows.*MB/s" prog.err && ok "--progress forces it" || bad "--progress: $(cat prog.err)"
if command -v script >/dev/null; then
  script -qec "$CLANCE write-fragments ./prog --schema $SPEC --input w1.jsonl --output p.json" /dev/null > tty.out
  grep -q "MB/s" tty.out && ok "progress on a terminal" || bad "progress on a terminal: $(cat tty.out)"
  script -qec "$CLANCE write-fragments ./prog --schema $SPEC --input w1.jsonl --output p.json --no-progress" /dev/null > tty.out
  ! grep -q "MB/s" tty.out && ok "--no-progress on a terminal" || bad "--no-progress: $(cat tty.out)"
fi

# ---- bad fragment JSON files at commit ----
expect_fail "missing fragment JSON" 1 "nothere.json" \
  "$CLANCE" commit ./dist_write --operation append --read-version 2 f3.json nothere.json
: > empty.json
expect_fail "empty fragment JSON" 1 "empty.json is empty" \
  "$CLANCE" commit ./dist_write --operation append --read-version 2 empty.json
head -c 120 f3.json > cut.json
expect_fail "fragment JSON cut short" 1 "cut.json" \
  "$CLANCE" commit ./dist_write --operation append --read-version 2 f3.json cut.json
printf '{"a":1,"b":2}\n' > int.jsonl
"$CLANCE" write-fragments ./mix --schema 'a:int32,b:int64' --input int.jsonl --mode create > m1.json
"$CLANCE" write-fragments ./mix --schema "$SPEC" --input w1.jsonl --mode create > m0.json
expect_fail "workers with different column types" 1 "m0.json and m1.json were written with different schemas.*string vs int64" \
  "$CLANCE" commit ./mix --operation overwrite --read-version 0 --schema "$SPEC" m0.json m1.json
printf '{"a":1}\n' > a.jsonl
"$CLANCE" write-fragments ./mix --schema 'a:int32' --input a.jsonl --mode create > m2.json
expect_fail "workers with different columns" 1 "m0.json and m2.json were written with different schemas" \
  "$CLANCE" commit ./mix --operation overwrite --read-version 0 --schema "$SPEC" m0.json m2.json
[ ! -d mix/_versions ] && ok "mismatched workers published nothing" || bad "mix/_versions exists"
expect_eq "failed commits left dist_write alone" "7" "$("$CLANCE" count ./dist_write)"

echo "$pass passed, $fails failed"
[ "$fails" -eq 0 ]
