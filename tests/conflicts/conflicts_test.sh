#!/usr/bin/env bash
# Mixed committers: the real Lance (node, @lancedb/lancedb, via lance_op.js)
# and clance commit to one dataset, each against a version older than the
# latest, in both orders:
#   * Lance commits first, then clance commits with --read-version 1: clance's
#     outcome (exit 0 rebased, 3 retryable, 4 incompatible) must be the one
#     docs/conflicts.md gives;
#   * clance commits while Lance is paused inside its commit (the fault shim
#     stops Lance when it creates its transaction file, after it read the
#     version its operation is based on): Lance must then either succeed with
#     both changes kept, or fail, leaving exactly clance's change.
# After every case the rows read by clance and by Lance must be the expected
# ones.
#   conflicts_test.sh PATH/TO/clance PATH/TO/fault_shim.so [node]
set -u
CLANCE=$(realpath "$1")
SHIM=$(realpath "$2")
NODE=${3:-node}
HERE=$(cd "$(dirname "$0")" && pwd)
export NODE_PATH="$HERE/../interop/node_modules"
export LANCEDB_LOG=error
WORK=$(mktemp -d "${TMPDIR:-/tmp}/clance-conflicts-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
fails=0
pass=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fails=$((fails + 1)); echo "FAIL $1"; }

SPEC='id:int64,v:int64'
rows() { # rows FROM COUNT [dbl]: id, v = id * 10 (, dbl = id * 2)
  local i
  for ((i = $1; i < $1 + $2; i++)); do
    if [ "${3:-}" = dbl ]; then
      printf '{"id":%d,"v":%d,"dbl":%d}\n' "$i" $((i * 10)) $((i * 2))
    else
      printf '{"id":%d,"v":%d}\n' "$i" $((i * 10))
    fi
  done
}
rows 0 10 > base.jsonl

# A fresh dataset t.lance, version 1: fragments 0 (ids 0-4) and 1 (ids 5-9).
fresh() {
  rm -rf t.lance p
  "$CLANCE" write-fragments t.lance --schema "$SPEC" --input base.jsonl --max-rows-per-file 5 > f.json &&
    "$CLANCE" commit t.lance --operation overwrite --read-version 0 --schema "$SPEC" f.json > /dev/null
}

lance() { "$NODE" "$HERE/lance_op.js" t.lance "$@"; }

# clance_append READ_VERSION FROM COUNT: worker + coordinator against READ_VERSION.
clance_append() {
  rows "$2" "$3" > app.jsonl
  "$CLANCE" write-fragments t.lance --mode append --schema "$SPEC" --input app.jsonl > app.json &&
    "$CLANCE" commit t.lance --operation append --read-version "$1" app.json
}

# check NAME EXPECTED_FILE: rows by clance and by Lance (sorted by id) equal the expected ones.
sorted() { sort -t: -k2 -n; }
check_rows() {
  local name=$1 want=$2
  sorted < "$want" > want.s
  if ! "$CLANCE" scan t.lance 2> scan.err | sorted > got.s; then :; fi
  if ! cmp -s want.s got.s; then
    bad "$name: clance reads $(tr '\n' ' ' < got.s) $(cat scan.err), expected $(tr '\n' ' ' < want.s)"
    return
  fi
  "$NODE" "$HERE/../interop/lance_dump.js" t.lance 2> dump.err | sorted > lance.s
  if ! cmp -s want.s lance.s; then
    bad "$name: Lance reads $(tr '\n' ' ' < lance.s) $(head -3 dump.err), expected $(tr '\n' ' ' < want.s)"
    return
  fi
  ok "$name: rows (clance and Lance)"
}

# expect_exit NAME CODE CMD...: clance exits with CODE (and names the conflict).
expect_exit() {
  local name=$1 code=$2
  shift 2
  "$@" > out.txt 2> err.txt
  local rc=$?
  if [ $rc -ne "$code" ]; then
    bad "$name: exit $rc, expected $code: $(head -3 err.txt)"
  elif [ "$code" -ne 0 ] && ! grep -q "commit conflict" err.txt; then
    bad "$name: no conflict message: $(head -3 err.txt)"
  else
    ok "$name: exit $code"
  fi
}

lance_ok() { # lance_ok NAME OP ARGS...: Lance's operation succeeds
  local name=$1
  shift
  local out
  out=$(lance "$@")
  if grep -q '"ok":true' <<<"$out"; then return 0; fi
  bad "$name: Lance $1 failed: $out"
  return 1
}

# ======== Lance commits first; clance commits against version 1 ========

fresh && lance_ok "append/append" append 100 2 &&
  expect_exit "Lance Append, then clance Append at v1: rebased" 0 clance_append 1 200 2
{ cat base.jsonl; rows 100 2; rows 200 2; } > want.jsonl
check_rows "append/append" want.jsonl

fresh && lance_ok "delete/delete" delete "id = 1" &&
  expect_exit "Lance Delete (fragment 0), then clance Delete at v1 (fragment 1): rebased" 0 \
    "$CLANCE" delete t.lance --read-version 1 --where "id = 7"
grep -v -e '"id":1,' -e '"id":7,' base.jsonl > want.jsonl
check_rows "delete/delete" want.jsonl

fresh && lance_ok "delete/update" delete "id = 1" &&
  expect_exit "Lance Delete (fragment 0), then clance Update at v1 (fragment 0): rebased" 0 \
    "$CLANCE" update t.lance --read-version 1 --set "v = 5" --where "id = 2"
grep -v '"id":1,' base.jsonl | sed 's/{"id":2,"v":20}/{"id":2,"v":5}/' > want.jsonl
check_rows "delete/update" want.jsonl

fresh && lance_ok "delete/delete same" delete "id = 1" &&
  expect_exit "Lance Delete (fragment 0), then clance Delete at v1 (fragment 0): rebased" 0 \
    "$CLANCE" delete t.lance --read-version 1 --where "id = 3"
grep -v -e '"id":1,' -e '"id":3,' base.jsonl > want.jsonl
check_rows "delete/delete same" want.jsonl

fresh && lance_ok "update/delete same row" update "id = 1" v "v + 1" &&
  expect_exit "Lance Update (fragment 0), then clance Delete of the same row at v1: retryable" 3 \
    "$CLANCE" delete t.lance --read-version 1 --where "id = 1"
sed 's/{"id":1,"v":10}/{"id":1,"v":11}/' base.jsonl > want.jsonl
check_rows "update/delete same row" want.jsonl

fresh && lance_ok "update/update other" update "id = 1" v "v + 1" &&
  expect_exit "Lance Update (fragment 0), then clance Update at v1 (fragment 1): rebased" 0 \
    "$CLANCE" update t.lance --read-version 1 --set "v = 5" --where "id = 8"
sed -e 's/{"id":1,"v":10}/{"id":1,"v":11}/' -e 's/{"id":8,"v":80}/{"id":8,"v":5}/' base.jsonl > want.jsonl
check_rows "update/update other" want.jsonl

fresh && lance_ok "overwrite/append" overwrite 500 3 &&
  expect_exit "Lance Overwrite, then clance Append at v1: incompatible" 4 clance_append 1 200 2
rows 500 3 > want.jsonl
check_rows "overwrite/append" want.jsonl

fresh && lance_ok "merge/delete" add-column dbl "id * 2" &&
  expect_exit "Lance Merge (add column), then clance Delete at v1: retryable" 3 \
    "$CLANCE" delete t.lance --read-version 1 --where "id = 7"
rows 0 10 dbl > want.jsonl
check_rows "merge/delete" want.jsonl

# The clance worker writes its fragments at version 1, before the new column.
fresh && rows 200 2 > app.jsonl &&
  "$CLANCE" write-fragments t.lance --mode append --schema "$SPEC" --input app.jsonl > app.json &&
  lance_ok "merge/append" add-column dbl "id * 2" &&
  expect_exit "Lance Merge (add column), then clance Append at v1: rebased" 0 \
    "$CLANCE" commit t.lance --operation append --read-version 1 app.json
{ rows 0 10 dbl; rows 200 2 | sed 's/}$/,"dbl":null}/'; } > want.jsonl
check_rows "merge/append" want.jsonl

fresh && lance_ok "config/update" field-metadata id k1 v1 &&
  expect_exit "Lance UpdateConfig, then clance Update at v1: rebased" 0 \
    "$CLANCE" update t.lance --read-version 1 --set "v = 5" --where "id = 2"
sed 's/{"id":2,"v":20}/{"id":2,"v":5}/' base.jsonl > want.jsonl
check_rows "config/update" want.jsonl

fresh && lance_ok "rewrite/delete" optimize &&
  expect_exit "Lance Rewrite (optimize), then clance Delete at v1: retryable" 3 \
    "$CLANCE" delete t.lance --read-version 1 --where "id = 7"
check_rows "rewrite/delete" base.jsonl

fresh && lance_ok "restore/config" append 100 2 && lance_ok "restore/config" restore 1 &&
  expect_exit "Lance Restore, then clance UpdateConfig at v2: rebased" 0 \
    "$CLANCE" config t.lance set k=v --read-version 2
check_rows "restore/config" base.jsonl

# ======== clance commits while Lance is paused inside its commit ========

# lance_paused OP ARGS...: start Lance's operation in the background, wait
# until it is about to create its transaction file (its operation is then
# based on the current version), leave it paused.
LANCE_PID=
lance_paused() {
  rm -rf p && mkdir p && touch p/arm
  LD_PRELOAD="$SHIM" FAULT_PAUSE_MATCH=_transactions/ FAULT_PAUSE_DIR="$WORK/p" \
    FAULT_PAUSE_TIMEOUT=60 "$NODE" "$HERE/lance_op.js" t.lance "$@" > lance.out 2> lance.err &
  LANCE_PID=$!
  local i
  for ((i = 0; i < 600; i++)); do
    [ -s p/paused ] && return 0
    kill -0 $LANCE_PID 2> /dev/null || break
    sleep 0.05
  done
  bad "Lance $1 did not reach its commit: $(cat lance.out lance.err | head -3)"
  return 1
}
# lance_resume: let Lance go on and wait for it (not in a subshell: it must
# be this shell's child); sets RES to "ok" or "failed: ...".
RES=
lance_resume() {
  touch p/go
  wait "$LANCE_PID"
  if grep -q '"ok":true' lance.out; then RES=ok; else RES="failed: $(cat lance.out lance.err | head -2)"; fi
}

# mixed NAME WANT_IF_LANCE_OK WANT_IF_LANCE_FAILS MUST: run after the clance commit.
# MUST = ok | fail | any: what Lance's outcome must be.
mixed_result() {
  local name=$1 want_ok=$2 want_fail=$3 must=$4 res
  lance_resume
  res=$RES
  case "$must:$res" in
    ok:ok | any:ok) ok "$name: Lance succeeds"; check_rows "$name" "$want_ok" ;;
    fail:failed* | any:failed*) ok "$name: Lance fails ($res)"; check_rows "$name" "$want_fail" ;;
    *) bad "$name: Lance outcome \"$res\", expected $must" ;;
  esac
}

fresh && lance_paused append 100 2 && {
  expect_exit "stale Lance Append, clance Append first" 0 clance_append 1 200 2
  { cat base.jsonl; rows 200 2; } > want_fail.jsonl
  { cat want_fail.jsonl; rows 100 2; } > want_ok.jsonl
  mixed_result "clance Append, then stale Lance Append" want_ok.jsonl want_fail.jsonl ok
}

fresh && lance_paused delete "id = 3" && {
  expect_exit "stale Lance Delete, clance Delete (same fragment) first" 0 \
    "$CLANCE" delete t.lance --where "id = 4"
  grep -v '"id":4,' base.jsonl > want_fail.jsonl
  grep -v -e '"id":3,' -e '"id":4,' base.jsonl > want_ok.jsonl
  mixed_result "clance Delete, then stale Lance Delete (same fragment)" want_ok.jsonl want_fail.jsonl any
}

fresh && lance_paused update "id = 2" v "v + 1" && {
  expect_exit "stale Lance Update, clance Delete (other fragment) first" 0 \
    "$CLANCE" delete t.lance --where "id = 7"
  grep -v '"id":7,' base.jsonl > want_fail.jsonl
  sed 's/{"id":2,"v":20}/{"id":2,"v":21}/' want_fail.jsonl > want_ok.jsonl
  mixed_result "clance Delete, then stale Lance Update (other fragment)" want_ok.jsonl want_fail.jsonl ok
}

fresh && lance_paused append 100 2 && {
  rows 500 3 > ow.jsonl
  "$CLANCE" write-fragments t.lance --mode create --schema "$SPEC" --input ow.jsonl > ow.json
  expect_exit "stale Lance Append, clance Overwrite first" 0 \
    "$CLANCE" commit t.lance --operation overwrite --read-version 1 --schema "$SPEC" ow.json
  mixed_result "clance Overwrite, then stale Lance Append" /dev/null ow.jsonl fail
}

fresh && lance_paused append 100 2 && {
  expect_exit "stale Lance Append, clance UpdateConfig first" 0 "$CLANCE" config t.lance set k=v
  { cat base.jsonl; rows 100 2; } > want_ok.jsonl
  mixed_result "clance UpdateConfig, then stale Lance Append" want_ok.jsonl base.jsonl ok
}

fresh && lance_paused delete "id = 7" && {
  printf '{"w":%d}\n' 0 1 2 3 4 5 6 7 8 9 > w.jsonl
  expect_exit "stale Lance Delete, clance Merge (add-columns) first" 0 \
    "$CLANCE" add-columns t.lance --schema w:int64 --input w.jsonl
  sed -E 's/\{"id":([0-9]+),"v":([0-9]+)\}/{"id":\1,"v":\2,"w":\1}/' base.jsonl > want_fail.jsonl
  grep -v '"id":7,' want_fail.jsonl > want_ok.jsonl
  mixed_result "clance Merge, then stale Lance Delete" want_ok.jsonl want_fail.jsonl any
}

echo "conflicts: $pass passed, $fails failed"
[ $fails -eq 0 ]
