#!/usr/bin/env bash
# Stress: WORKERS processes x APPENDS Append commits (ROWS rows each, C API,
# stress_driver.c) on one dataset, while `clance delete` removes single rows
# and readers count and scan random versions. Then:
#   * the final row count is exactly appended - deleted, and the ids are
#     exactly the expected set (no duplicate, none lost);
#   * every version opens, its row count matches the version list and a scan;
#   * appends never conflict (they are rebased; lost races are retried),
#     deletes only meet retryable conflicts (exit 3, redone here);
#   * the real Lance reads the final version and a few random older ones
#     with the same rows as clance.
#   stress_test.sh PATH/TO/clance PATH/TO/stress_driver [node]
# STRESS_APPENDS (default 100), STRESS_WORKERS (8), STRESS_DELETES (20) scale it.
set -u
CLANCE=$(realpath "$1")
DRIVER=$(realpath "$2")
NODE=${3:-node}
HERE=$(cd "$(dirname "$0")" && pwd)
export NODE_PATH="$HERE/../interop/node_modules"
export LANCEDB_LOG=error
WORKERS=${STRESS_WORKERS:-8}
APPENDS=${STRESS_APPENDS:-100}
DELETES=${STRESS_DELETES:-20}
ROWS=3
TMPBASE=${TMPDIR:-/tmp}
[ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && TMPBASE=/dev/shm
WORK=$(mktemp -d "$TMPBASE/clance-stress-XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$WORK"' EXIT
cd "$WORK"
DS=$WORK/s.lance
fails=0
bad() { fails=$((fails + 1)); echo "FAIL $1"; }

"$DRIVER" create "$DS" || { echo "FAIL create"; exit 1; }
start=$(date +%s)

# Appenders.
pids=()
for ((w = 0; w < WORKERS; w++)); do
  "$DRIVER" append "$DS" $w "$APPENDS" $ROWS > "app.$w.out" 2> "app.$w.err" &
  pids+=($!)
done

# Deleter: ids of worker 0, batch j (first row), once committed.
(
  for ((j = 0; j < DELETES; j++)); do
    id=$(((j * APPENDS / DELETES) * ROWS))
    for ((t = 0; t < 2000; t++)); do
      [ "$("$CLANCE" count "$DS" --filter "id = $id" 2> /dev/null)" = 1 ] && break
      sleep 0.02
    done
    for ((t = 0; t < 50; t++)); do
      "$CLANCE" delete "$DS" --where "id = $id" > /dev/null 2> del.err
      rc=$?
      [ $rc -eq 0 ] && { echo "$id" >> deleted.txt; break; }
      if [ $rc -eq 3 ]; then echo "retryable" >> del.conflicts; continue; fi
      echo "delete id $id: exit $rc: $(head -2 del.err)" >> del.fail
      break
    done
  done
) &
deleter=$!

# Readers: random versions, count and scan must agree.
(
  while [ ! -e stop ]; do
    n=$(ls "$DS/_versions" | grep -c 'manifest$')
    v=$((RANDOM % n + 1))
    c=$("$CLANCE" count "$DS" --version $v 2> rd.err) || { echo "count v$v: $(cat rd.err)" >> read.fail; continue; }
    s=$("$CLANCE" scan "$DS" --version $v 2> rd.err | wc -l) || true
    [ "$c" = "$s" ] || echo "version $v: count $c, scan $s rows $(cat rd.err)" >> read.fail
    echo . >> reads
  done
) &
reader=$!

for p in "${pids[@]}"; do wait "$p" || bad "an appender failed: $(cat app.*.err | head -3)"; done
wait $deleter
touch stop
wait $reader
echo "commits done in $(($(date +%s) - start)) s: $(cat app.*.out | wc -l) appends," \
  "$(cat deleted.txt 2>/dev/null | wc -l) deletes ($(cat del.conflicts 2>/dev/null | wc -l) retryable conflicts)," \
  "$(cat reads 2>/dev/null | wc -l) reads"
[ -s del.fail ] && bad "deletes: $(head -3 del.fail)"
[ -s read.fail ] && bad "readers: $(head -3 read.fail)"
[ "$(cat app.*.out | wc -l)" -eq $((WORKERS * APPENDS)) ] || bad "not every append committed"
[ "$(sort -n app.*.out | uniq -d | wc -l)" -eq 0 ] || bad "two appends report the same version"

# Expected ids: every appended id minus the deleted ones.
for ((w = 0; w < WORKERS; w++)); do
  seq $((w * 1000000)) $((w * 1000000 + APPENDS * ROWS - 1))
done | sort > all.ids
sort deleted.txt 2>/dev/null > del.ids || : > del.ids
comm -23 all.ids del.ids > want.ids
"$CLANCE" scan "$DS" --columns id | sed -E 's/.*:(-?[0-9]+).*/\1/' | sort > got.ids
cnt=$("$CLANCE" count "$DS")
[ "$cnt" = "$(wc -l < want.ids | tr -d ' ')" ] || bad "final count $cnt, expected $(wc -l < want.ids) (appended - deleted)"
[ "$(uniq -d got.ids | wc -l)" -eq 0 ] || bad "duplicate ids: $(uniq -d got.ids | head -3 | tr '\n' ' ')"
cmp -s want.ids got.ids || bad "ids differ from appended - deleted: $(diff want.ids got.ids | head -4 | tr '\n' ' ')"

# Every version.
"$DRIVER" verify "$DS" > verify.out 2> verify.err || bad "verify: $(head -3 verify.err)"
cat verify.out
n=$(awk '{print $1}' verify.out)
[ "$n" = $((1 + WORKERS * APPENDS + $(wc -l < del.ids))) ] ||
  bad "$n versions, expected 1 + appends + deletes"

# Lance reads the final version and three random older ones.
for v in $n $((RANDOM % n + 1)) $((RANDOM % n + 1)) $((RANDOM % n + 1)); do
  "$CLANCE" scan "$DS" --version "$v" | sort > c.rows
  "$NODE" "$HERE/../interop/lance_dump.js" "$DS" --version "$v" 2> l.err | sort > l.rows
  cmp -s c.rows l.rows || bad "version $v: Lance reads $(wc -l < l.rows) rows, clance $(wc -l < c.rows) $(head -2 l.err)"
done

echo "stress: $([ $fails -eq 0 ] && echo ok || echo "$fails failures")"
[ $fails -eq 0 ]
