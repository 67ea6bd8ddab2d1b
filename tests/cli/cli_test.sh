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

# ---- every other operation: delete, update, add/drop/alter columns, restore, config, optimize ----
# ids 0..99 in fragments of 20 rows; each step checked through scan/count/versions.
( echo id,x,s; for i in $(seq 0 99); do echo "$i,$((i * 10)),s$i"; done ) > ops.csv
OSPEC='id:int64,x:int32,s:string'
"$CLANCE" write-fragments ./ops --schema "$OSPEC" --input ops.csv --format csv --max-rows-per-file 20 > o1.json
"$CLANCE" commit ./ops --operation overwrite --read-version 0 --schema "$OSPEC" o1.json > /dev/null
sumids() { "$CLANCE" scan ./ops --columns id --format csv | awk 'NR > 1 { s += $1; n++ } END { print n, s }'; }
last_op() { "$CLANCE" versions ./ops | tail -1 | grep -Eo '"operation": *"[A-Za-z]+"' | grep -Eo '[A-Za-z]+"$' | tr -d '"'; }
expect_eq "delete prints the new version" "2" "$("$CLANCE" delete ./ops --where 'id = 3 OR id = 4')"
expect_eq "delete: rows and ids left" "98 4943" "$(sumids)"
expect_eq "delete: a Delete transaction" "Delete" "$(last_op)"
ls ops/_deletions/*.arrow > /dev/null 2>&1 && ok "few deleted rows: Arrow deletion file" || bad "few deleted rows: no .arrow file"
expect_eq "delete of a whole fragment removes it" "3" "$("$CLANCE" delete ./ops --where 'id >= 80')"
expect_eq "fragments after removing one" "4" "$("$CLANCE" info ./ops | grep -Eo '"num_fragments": [0-9]+' | grep -Eo '[0-9]+$')"
expect_eq "nothing matched: version unchanged" "3" "$("$CLANCE" delete ./ops --where 'id = 1000')"
expect_fail "delete on a missing column" 1 'column "nope" is not in the schema' "$CLANCE" delete ./ops --where 'nope = 1'
expect_eq "failed delete commits nothing" "3" "$("$CLANCE" versions ./ops | wc -l | tr -d ' ')"
# Distributed delete: two workers on disjoint fragments, one commit.
"$CLANCE" delete ./ops --where 'x < 30 OR x > 700' --read-version 3 --fragments 0 --no-commit --output d0.json > /dev/null
"$CLANCE" delete ./ops --where 'x < 30 OR x > 700' --read-version 3 --fragments 1,2,3 --no-commit --output d1.json > /dev/null
expect_eq "worker delete commits nothing" "3" "$("$CLANCE" versions ./ops | wc -l | tr -d ' ')"
expect_eq "distributed delete: one commit" "4" \
  "$("$CLANCE" commit ./ops --operation delete --read-version 3 --predicate 'x < 30 OR x > 700' d0.json d1.json)"
expect_eq "distributed delete: rows left" "$(seq 3 70 | grep -vxE '3|4' | awk '{ s += $1; n++ } END { print n, s }')" "$(sumids)"
expect_eq "update prints the new version" "5" "$("$CLANCE" update ./ops --set "x = -1, s = 'new'" --where 'id >= 10 AND id < 15')"
expect_eq "update: rows changed" "5" "$("$CLANCE" count ./ops --filter "x = -1 AND s = 'new'")"
expect_eq "update: row count unchanged" "66" "$("$CLANCE" count ./ops)"
expect_eq "update: an Update transaction" "Update" "$(last_op)"
expect_fail "update of a missing column" 1 'nope' "$CLANCE" update ./ops --set 'nope = 1'
expect_fail "update with a value of the wrong type" 1 '"x"' "$CLANCE" update ./ops --set "x = 'text'"
# add-columns by key (rows without a match get nulls), then drop and alter.
( echo id,score; for i in $(seq 5 5 70); do echo "$i,$((i * 2)).5"; done ) > score.csv
expect_eq "add-columns by key" "6" "$("$CLANCE" add-columns ./ops --schema score:float64 --input score.csv --key id)"
expect_eq "add-columns: values by key" '{"id":20,"score":40.5}|{"id":21,"score":null}' \
  "$("$CLANCE" scan ./ops --columns id,score --filter 'id = 20 OR id = 21' | tr '\n' '|' | sed 's/|$//')"
expect_eq "add-columns: a Merge transaction" "Merge" "$(last_op)"
( echo id,x; echo 5,1 ) > xcol.csv
expect_fail "add-columns: an existing column" 1 '"x"' "$CLANCE" add-columns ./ops --schema x:int32 --input xcol.csv --key id
( echo flag; for i in 1 2 3; do echo "$i"; done ) > short.csv
expect_fail "add-columns by position: wrong row count" 1 'short.csv' "$CLANCE" add-columns ./ops --schema flag:int32 --input short.csv
expect_eq "drop-columns" "7" "$("$CLANCE" drop-columns ./ops s)"
expect_eq "drop-columns: schema" 'id x score' \
  "$("$CLANCE" info ./ops | grep -Eo '"name": "[a-z_]+"' | grep -Eo '"[a-z_]+"$' | tr -d '"' | tr '\n' ' ' | sed 's/ $//')"
expect_fail "drop a missing column" 1 'nope' "$CLANCE" drop-columns ./ops nope
expect_eq "alter-column --rename" "8" "$("$CLANCE" alter-column ./ops x --rename xx)"
expect_eq "renamed column reads" "66" "$("$CLANCE" count ./ops --filter 'xx IS NOT NULL')"
expect_fail "--not-null on a column with nulls" 1 'null' "$CLANCE" alter-column ./ops score --not-null
expect_eq "config set" "9" "$("$CLANCE" config ./ops set owner=cli-test)"
expect_eq "config list" '"owner":"cli-test"' "$("$CLANCE" config ./ops list | grep -Eo '"owner": *"cli-test"' | tr -d ' ')"
expect_eq "config unset" "10" "$("$CLANCE" config ./ops unset owner)"
# optimize: 4 small fragments with deletions become one, same rows.
before=$("$CLANCE" scan ./ops --format csv)
expect_eq "optimize merges fragments" '"fragments_added":1' \
  "$("$CLANCE" optimize ./ops --json | grep -Eo '"fragments_added":[0-9]+')"
expect_eq "optimize keeps rows and order" "$before" "$("$CLANCE" scan ./ops --format csv)"
expect_eq "optimize: a Rewrite transaction" "Rewrite" "$(last_op)"
expect_eq "optimize: no deletion files left in the latest version" "0" \
  "$("$CLANCE" info ./ops | grep -Eo '"deletion_file": [^n]' | wc -l | tr -d ' ')"
expect_eq "optimize again: nothing to do" "11" "$("$CLANCE" optimize ./ops)"
expect_fail "optimize: bad threshold" 2 'deletion-threshold' "$CLANCE" optimize ./ops --deletion-threshold 2
expect_eq "restore version 1" "12" "$("$CLANCE" restore ./ops 1)"
expect_eq "restored rows" "100 4950" "$(sumids)"
expect_fail "restore a missing version" 1 'version 99' "$CLANCE" restore ./ops 99
expect_eq "history kept" "12" "$("$CLANCE" versions ./ops | wc -l | tr -d ' ')"

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
# A re-run after an Overwrite replaced the task's committed output: version 1
# still references the first attempt's file, so the re-run must keep it.
"$CLANCE" write-fragments ./tasks3 --schema "$SPEC" --input w1.jsonl --task-id 5 --output t5.json
"$CLANCE" commit ./tasks3 --operation overwrite --read-version 0 --schema "$SPEC" t5.json > /dev/null
"$CLANCE" write-fragments ./tasks3 --schema "$SPEC" --input w3.jsonl --output o.json
"$CLANCE" commit ./tasks3 --operation overwrite --read-version 1 --schema "$SPEC" o.json > /dev/null
"$CLANCE" write-fragments ./tasks3 --schema "$SPEC" --input w3.jsonl --task-id 5 --output t5b.json
expect_eq "a file only an older version references survives a task re-run" "3" \
  "$("$CLANCE" scan ./tasks3 --version 1 | wc -l | tr -d ' ')"
# gc keeps young task records; once the task's latest output is committed an
# old enough record goes.
"$CLANCE" gc ./tasks3 > gc3.out
[ -f tasks3/_clance_tasks/5.json ] && ok "gc keeps a young task record" || bad "gc removed a young record"
"$CLANCE" commit ./tasks3 --operation append --read-version 2 t5b.json > /dev/null
"$CLANCE" gc ./tasks3 --older-than 0s > gc3.out
[ ! -f tasks3/_clance_tasks/5.json ] && grep -q '_clance_tasks/5.json' gc3.out &&
  ok "gc removes the record of a committed task" || bad "gc and task records: $(cat gc3.out)"
expect_eq "gc kept the committed rows (1 + the task's 1)" "2" "$("$CLANCE" scan ./tasks3 | wc -l | tr -d ' ')"

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

# ---- tags, cleanup of old versions, fsck, gc ----
"$CLANCE" write-fragments ./maint --schema "$SPEC" --input w1.jsonl > t1.json
"$CLANCE" commit ./maint --operation overwrite --read-version 0 --schema "$SPEC" t1.json > /dev/null
"$CLANCE" write-fragments ./maint --schema "$SPEC" --input w3.jsonl > t2.json
"$CLANCE" commit ./maint --operation overwrite --read-version 1 --schema "$SPEC" t2.json > /dev/null
"$CLANCE" write-fragments ./maint --schema "$SPEC" --input w2.csv --format csv > t3.json
"$CLANCE" commit ./maint --operation append --read-version 2 t3.json > /dev/null
expect_eq "tag create prints the version" "1" "$("$CLANCE" tag create ./maint first --version 1)"
expect_eq "tag create of the latest" "3" "$("$CLANCE" tag create ./maint newest)"
expect_eq "tag list" '{"name": "first", "version": 1, "manifest_size": '"$(stat -c %s maint/_versions/18446744073709551614.manifest)"'}
{"name": "newest", "version": 3, "manifest_size": '"$(stat -c %s maint/_versions/18446744073709551612.manifest)"'}' \
  "$("$CLANCE" tag list ./maint)"
grep -q '"manifestSize": ' maint/_refs/tags/first.json && ok "tag file uses Lance's keys" || bad "tag file: $(cat maint/_refs/tags/first.json)"
expect_fail "tag exists" 1 "EEXISTS.*tag \"first\" already exists" "$CLANCE" tag create ./maint first
expect_fail "tag of a missing version" 1 "ENOTFOUND.*no version 9" "$CLANCE" tag create ./maint nine --version 9
expect_fail "bad tag name" 1 "EINVAL.*two consecutive dots" "$CLANCE" tag create ./maint 'a..b'
expect_fail "tag name with a slash" 1 "EINVAL.*only letters" "$CLANCE" tag create ./maint 'a/b'
expect_fail "unknown tag subcommand" 2 "unknown subcommand \"move\"" "$CLANCE" tag move ./maint first
expect_fail "tag delete without a name" 2 "delete needs a NAME" "$CLANCE" tag delete ./maint
expect_eq "scan --tag" '{"a":1,"b":"x"}
{"a":2,"b":"y"}
{"a":3,"b":"z"}' "$("$CLANCE" scan ./maint --tag first)"
expect_eq "count --tag" "3" "$("$CLANCE" count ./maint --tag first)"
expect_eq "take --tag" '{"a":3,"b":"z"}' "$("$CLANCE" take ./maint --tag first --rows 2)"
"$CLANCE" info ./maint --tag first | grep -q '"version": 1,' && ok "info --tag" || bad "info --tag"
expect_fail "--tag with --version" 2 "mutually exclusive" "$CLANCE" scan ./maint --tag first --version 1
expect_fail "missing tag" 1 "ENOTFOUND.*no tag \"nope\"" "$CLANCE" count ./maint --tag nope
expect_fail "cleanup of a tagged version" 1 "EINVAL.*\"first\" \(version 1\).*--keep-tagged" \
  "$CLANCE" cleanup ./maint --older-than 0s
expect_fail "cleanup: bad duration" 2 "unknown unit \"x\"" "$CLANCE" cleanup ./maint --older-than 3x
"$CLANCE" fsck ./maint > fsck.out && ok "fsck of a sound dataset" || bad "fsck: $(cat fsck.out)"
grep -q "0 problems" fsck.out && ok "fsck summary" || bad "fsck summary: $(cat fsck.out)"
"$CLANCE" cleanup ./maint --older-than 0s --keep-tagged --dry-run > dry.out
grep -q "would remove manifest _versions/18446744073709551613.manifest" dry.out &&
  [ -f maint/_versions/18446744073709551613.manifest ] && ok "cleanup --dry-run" || bad "cleanup --dry-run: $(cat dry.out)"
"$CLANCE" cleanup ./maint --older-than 0s --keep-tagged --json > clean.out
# Version 2's files are younger than the oldest kept version (1, tagged):
# Lance leaves them alone, so only the manifest goes.
expect_eq "cleanup removes version 2 only" '{"dry_run": false, "old_versions": 1, "data_files": 0, "deletion_files": 0, "transaction_files": 0, "temporary_files": 0, "bytes_removed": '"$(grep -o '"bytes_removed": [0-9]*' clean.out | grep -o '[0-9]*$')"'}' "$(cat clean.out)"
expect_fail "a removed version" 1 "ENOTFOUND" "$CLANCE" count ./maint --version 2
expect_eq "tagged version after cleanup" "3" "$("$CLANCE" count ./maint --tag first)"
"$CLANCE" tag delete ./maint first && ok "tag delete" || bad "tag delete"
expect_fail "tag delete twice" 1 "ENOTFOUND.*no tag \"first\"" "$CLANCE" tag delete ./maint first
"$CLANCE" cleanup ./maint --older-than 0s > clean.out
grep -q "^removed data data/" clean.out && ok "cleanup after the tag is gone" || bad "cleanup: $(cat clean.out)"
expect_eq "latest after cleanup" "4" "$("$CLANCE" count ./maint)"
echo junk > maint/data/orphan.lance
"$CLANCE" fsck ./maint > fsck.out && grep -q "^orphan: data data/orphan.lance (5 bytes)" fsck.out &&
  ok "fsck lists orphans without failing" || bad "fsck orphans: $(cat fsck.out)"
"$CLANCE" gc ./maint > gc.out && [ -f maint/data/orphan.lance ] && grep -q "kept 2 younger" gc.out &&
  ok "gc keeps young orphans" || bad "gc: $(cat gc.out)"
"$CLANCE" gc ./maint --older-than 0s > gc.out && [ ! -f maint/data/orphan.lance ] &&
  grep -q "removed 2 files" gc.out &&
  ok "gc --older-than 0s" || bad "gc: $(cat gc.out)"
"$CLANCE" fsck ./maint --json | grep -q '"problems": \[\], "orphans": \[\]' && ok "fsck --json" || bad "fsck --json"
rm maint/data/"$(ls maint/data | head -1)"
expect_fail "fsck finds a missing data file" 1 "has 1 problem" "$CLANCE" fsck ./maint
"$CLANCE" fsck ./maint 2>/dev/null | grep -q "^problem: version [0-9]*: data/.*is missing" && ok "fsck names the file" ||
  bad "fsck problem line"

# Delete/Update workers prepared against the same version, on the same
# fragment, committed one after the other: the later ones are rebased (their
# deletion vectors merged with the committed ones), so all apply.
( echo id,x; for i in $(seq 0 19); do echo "$i,$((i * 10))"; done ) > reb.csv
"$CLANCE" write-fragments ./reb --schema 'id:int64,x:int32' --input reb.csv --format csv > reb.json
"$CLANCE" commit ./reb --operation overwrite --read-version 0 --schema 'id:int64,x:int32' reb.json > /dev/null
rebids() { "$CLANCE" scan ./reb --columns id,x --format csv | tail -n +2 | sort -n | tr '\n' ' ' | sed 's/ $//'; }
expect_eq "delete --read-version 1 (first)" "2" "$("$CLANCE" delete ./reb --read-version 1 --where 'id = 1')"
expect_eq "delete --read-version 1, same fragment: rebased" "3" "$("$CLANCE" delete ./reb --read-version 1 --where 'id = 2')"
expect_eq "update --read-version 1, same fragment: rebased" "4" \
  "$("$CLANCE" update ./reb --read-version 1 --set 'x = -3' --where 'id = 3')"
expect_eq "update --read-version 3, same fragment: rebased" "5" \
  "$("$CLANCE" update ./reb --read-version 3 --set 'x = -4' --where 'id = 4')"
expect_eq "rebased deletes and updates all applied" \
  "$(seq 0 19 | grep -vxE '1|2' | awk '{ print $1 "," ($1 == 3 || $1 == 4 ? -$1 : $1 * 10) }' | tr '\n' ' ' | sed 's/ $//')" \
  "$(rebids)"
expect_fail "delete --read-version 1 of a row deleted since: retryable" 3 'row 1 of fragment' \
  "$CLANCE" delete ./reb --read-version 1 --where 'id = 1'
# Concurrent workers on one fragment, all at read version 5: all apply (lost
# races are re-checked and rebased again).
for i in 10 11 12 13; do
  "$CLANCE" delete ./reb --read-version 5 --where "id = $i" > "reb$i.out" 2> "reb$i.err" &
done
wait
rc=0; for i in 10 11 12 13; do [ -s "reb$i.err" ] && rc=1; done
expect_eq "concurrent deletes at read version 5: no errors" "0" "$rc$(cat reb1?.err)"
expect_eq "concurrent deletes at read version 5: versions 6-9" "6 7 8 9" "$(cat reb1?.out | sort -n | tr '\n' ' ' | sed 's/ $//')"
expect_eq "concurrent deletes: all rows gone" "14" "$("$CLANCE" count ./reb)"
"$CLANCE" fsck ./reb > /dev/null && ok "fsck after rebased commits" || bad "fsck after rebased commits"

echo "$pass passed, $fails failed"
[ "$fails" -eq 0 ]
