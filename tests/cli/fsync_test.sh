#!/usr/bin/env bash
# Durability is the default and --no-fsync turns it off, observed through an
# LD_PRELOAD interposer that logs every fsync/fdatasync/sync_file_range with
# the path it was called on (tests/cli/sync_log.c):
#  * write-fragments fsyncs each data file and starts its writeback early
#    (sync_file_range) once it is larger than a few MiB;
#  * commit fsyncs the transaction file, the new manifest and the directories
#    data/, _transactions/ and _versions/ before returning;
#  * with --no-fsync neither calls any of them, and the dataset reads the same.
#   fsync_test.sh CLANCE SYNC_LOG_SO
set -euo pipefail
C=$(realpath "$1")
SO=$(realpath "$2")
W=$(mktemp -d "${TMPDIR:-/tmp}/clance-fsync-XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"
fail() { echo "FAIL: $*" >&2; exit 1; }
# ASan builds: the interposer is preloaded before the ASan runtime.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
logged() { # LOG COMMAND... : run with the interposer, log to LOG
  local log=$1; shift
  : > "$log"
  CLANCE_SYNC_LOG="$W/$log" LD_PRELOAD="$SO" "$@"
}
has() { grep -qE "$2" "$1" || { cat "$1" >&2; fail "$3"; }; }
SPEC='id:int64,s:string'
# ~24 MiB of strings: one data file, big enough for early writeback.
awk 'BEGIN { for (i = 0; i < 300000; i++) printf "{\"id\":%d,\"s\":\"%s-%d\"}\n", i, sprintf("%070d", i * 7), i }' > rows.jsonl

logged w.log "$C" write-fragments d1 --schema "$SPEC" --input rows.jsonl --data-storage-version 2.0 \
  --no-progress --output f1.json
has w.log '^fsync .*/d1/data/[^/]*\.lance$' "write-fragments did not fsync its data file"
has w.log '^sync_file_range .*/d1/data/[^/]*\.lance$' "write-fragments did not start the writeback early"
logged c.log "$C" commit d1 --operation overwrite --read-version 0 --schema "$SPEC" f1.json > /dev/null
has c.log '^fsync .*/d1/_transactions/[^/]*\.txn$' "commit did not fsync the transaction file"
has c.log '^fsync .*/d1/_transactions$' "commit did not fsync _transactions/"
has c.log '^fsync .*/d1/data$' "commit did not fsync data/"
has c.log '^fsync .*/d1/_versions/[0-9]*\.manifest#' "commit did not fsync the manifest before publishing it"
has c.log '^fsync .*/d1/_versions$' "commit did not fsync _versions/"
# The manifest is published (renamed) only after everything it names is durable:
# the _versions/ directory sync is the last one.
tail -1 c.log | grep -qE '^fsync .*/d1/_versions$' || { cat c.log >&2; fail "_versions/ was not synced last"; }

logged wn.log "$C" write-fragments d2 --schema "$SPEC" --input rows.jsonl --data-storage-version 2.0 \
  --no-progress --no-fsync > f2.json
[ ! -s wn.log ] || { cat wn.log >&2; fail "write-fragments --no-fsync synced"; }
logged cn.log "$C" commit d2 --operation overwrite --read-version 0 --schema "$SPEC" --no-fsync f2.json > /dev/null
[ ! -s cn.log ] || { cat cn.log >&2; fail "commit --no-fsync synced"; }
"$C" scan d1 > s1.jsonl
"$C" scan d2 > s2.jsonl
[ "$(wc -l < s2.jsonl)" -eq 300000 ] || fail "--no-fsync dataset has $(wc -l < s2.jsonl) rows"
cmp s1.jsonl s2.jsonl || fail "--no-fsync dataset reads differently"
# An append without fsync on top of a durable dataset.
head -100 rows.jsonl > few.jsonl
"$C" write-fragments d1 --schema "$SPEC" --input few.jsonl --no-progress --no-fsync > f3.json
logged ca.log "$C" commit d1 --operation append --read-version 1 --no-fsync f3.json > /dev/null
[ ! -s ca.log ] || { cat ca.log >&2; fail "append --no-fsync synced"; }
[ "$("$C" count d1)" = 300100 ] || fail "count after the --no-fsync append"
echo "fsync test: ok"
