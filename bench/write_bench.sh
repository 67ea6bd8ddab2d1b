#!/usr/bin/env bash
# Write side of bench/run: clance vs the real Lance, both fed the same Arrow
# IPC file (generated before any timing).
#   write_bench.sh BUILD WORKDIR RESULTS ROWS VECTORS COMMITS VERSIONS MODE
# ROWS rows of {id int64, x float64, s utf8 ~16 chars} in each format of
# VERSIONS (comma-separated, e.g. 2.1,2.0); VECTORS rows of {id,
# vec fixed_size_list<float32,128>} in 2.1; COMMITS sequential Append commits
# of 100 rows (median, p99), then the open time. Rows for bench/report.js go to
# RESULTS; every dataset written is listed in WORKDIR/datasets.txt for
# read_bench.sh (tab-separated: section title, clance's dataset, Lance's dataset,
# takes file, column of the one-column scan, filter).
# MODE time: timed writes, rows and appends; MODE prepare: each side writes
# each dataset once, untimed, for the read benchmark only.
#
# Durability: Lance never fsyncs. Each write is timed twice where clance can
# skip fsync (write-fragments/commit --no-fsync): "page cache" = clance
# --no-fsync vs Lance as it is; "durable" = clance's default (data files,
# manifest and directories fsynced) vs Lance followed by an fsync of every file
# and directory of its dataset, timed in the same node process
# (lance_write.js). A syncfs (sync -f) would also flush whatever else is dirty
# on this shared filesystem and charge it to Lance, so it is not used.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$1 W=$2 R=$3 ROWS=$4 VECS=$5 COMMITS=$6 VERSIONS=$7 MODE=$8
C="$BUILD/tools/clance"
A="$BUILD/bench/append_bench"
mkdir -p "$W/lance"
now() { date +%s.%N; }
rss() { sed -n 's/^RSS \([0-9]*\)$/\1/p' "$1" | tail -1; } # KiB
mib() { echo "scale=1; $1 / 1024" | bc -l; }
jget() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1]))[process.argv[2]])' "$1" "$2"; }
T='RSS %M'
human() { # 10000000 -> 10M, 200000 -> 200k
  local n=$1
  if [ $((n % 1000000)) = 0 ]; then echo "$((n / 1000000))M"
  elif [ $((n % 1000)) = 0 ]; then echo "$((n / 1000))k"
  else echo "$n"; fi
}
row() { echo "$*" >> "$R"; }
# Can this clance skip fsync (write-fragments, commit and append_bench)?
NOFSYNC=0
wh=$("$C" write-fragments --help 2>&1 || true)
ch=$("$C" commit --help 2>&1 || true)
ah=$("$A" 2>&1 || true)
case "$wh" in *--no-fsync*) case "$ch" in *--no-fsync*) case "$ah" in *--no-fsync*) NOFSYNC=1 ;; esac ;; esac ;; esac

node "$HERE/gen_ipc.js" "$W/table.arrow" --rows "$ROWS" --takes "$W/takes-table.txt"
node "$HERE/gen_ipc.js" "$W/vectors.arrow" --rows "$VECS" --kind vectors --takes "$W/takes-vectors.txt"
: > "$W/datasets.txt"

spec() {
  case "$1" in
    *vectors*) echo 'id:int64,vec:vector(float32,128)' ;;
    *) echo 'id:int64,x:float64,s:string' ;;
  esac
}
# Every timed write is the best of WRUNS runs (2; 1 in prepare mode), each
# side alike: on this VM the first run after a phase that freed a lot of
# memory can spend seconds of system time obtaining fresh pages (2.2 s of
# sys for a 0.3 s vector write), whichever side it is.
WRUNS=${WRUNS:-2}
[ "$MODE" = time ] || WRUNS=1
# clance_write DS INPUT VERSION [--no-fsync]: write-fragments + commit (two
# processes, default threads), timed after a sync (so no earlier write is
# still being flushed while it runs), best of WRUNS.
# Sets CS (seconds) and CRSS (write-fragments' highest peak RSS, KiB).
clance_write() {
  local ds=$1 in=$2 v=$3 t0 t1 r s
  shift 3
  CS= CRSS=0
  for r in $(seq "$WRUNS"); do
    rm -rf "$ds"
    cat "$in" > /dev/null # the input in the page cache, as Lance's (untimed) read leaves it
    sync
    t0=$(now)
    /usr/bin/time -f "$T" -o "$W/time.c" "$C" write-fragments "$ds" --input "$in" --data-storage-version "$v" \
      --no-progress --output "$W/f.json" "$@"
    "$C" commit "$ds" --operation overwrite --read-version 0 --schema "$(spec "$in")" "$@" "$W/f.json" > /dev/null
    t1=$(now)
    s=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$CS" ] || [ "$(echo "$s < $CS" | bc -l)" = 1 ]; then CS=$s; fi
    if [ "$(rss "$W/time.c")" -gt "$CRSS" ]; then CRSS=$(rss "$W/time.c"); fi
  done
}
# lance_write INPUT DATASET VERSION: Lance's createTable of a new dataset,
# best of WRUNS; leaves the best run's JSON in $W/l.json and the highest
# peak RSS (KiB) in LRSS.
lance_write() {
  local in=$1 lds=$2 v=$3 r best=
  LRSS=0
  for r in $(seq "$WRUNS"); do
    rm -rf "$lds"
    sync
    /usr/bin/time -f "$T" -o "$W/time.l" node "$HERE/lance_write.js" write "$in" "$lds" "$v" > "$W/l1.json"
    local s
    s=$(jget "$W/l1.json" seconds)
    if [ -z "$best" ] || [ "$(echo "$s < $best" | bc -l)" = 1 ]; then best=$s; cp "$W/l1.json" "$W/l.json"; fi
    if [ "$(rss "$W/time.l")" -gt "$LRSS" ]; then LRSS=$(rss "$W/time.l"); fi
  done
}
write_case() { # label ("title|short title") id input version column filter
  local label=$1 id=$2 in=$3 v=$4 col=$5 filter=$6
  local ds="$W/c-$id" lds="$W/lance/l-$id.lance" pc="-" pcrss=0 pcn=
  rm -rf "$lds"
  if [ "$MODE" = time ] && [ "$NOFSYNC" = 1 ]; then
    clance_write "$ds" "$in" "$v" --no-fsync
    pc=$CS pcrss=$CRSS
    pcn=$("$C" count "$ds")
  fi
  clance_write "$ds" "$in" "$v"
  local cs=$CS crss=$CRSS
  if [ "$pcrss" -gt "$crss" ]; then crss=$pcrss; fi
  lance_write "$in" "$lds" "$v"
  local ls lsync ln cn
  ls=$(jget "$W/l.json" seconds)
  lsync=$(jget "$W/l.json" sync_seconds)
  ln=$(jget "$W/l.json" count)
  cn=$("$C" count "$ds")
  [ "$cn" = "$ln" ] || { echo "${label%%|*}: clance wrote $cn rows, Lance $ln" >&2; exit 1; }
  [ -z "$pcn" ] || [ "$pcn" = "$ln" ] || { echo "${label%%|*}: clance --no-fsync wrote $pcn rows, Lance $ln" >&2; exit 1; }
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$ds" "$lds" "$W/takes-$(basename "$in" .arrow).txt" "$col" "$filter" \
    >> "$W/datasets.txt"
  [ "$MODE" = time ] || return 0
  local durable_target=-
  case "$in" in *vectors*) durable_target="dd:80:$(du -sb "$ds" | cut -f1)" ;; esac
  row "# $label"
  if [ "$NOFSYNC" = 1 ]; then
    row "write, page cache (no fsync either side) (s)|$pc|$ls|faster:2"
  else
    row "write, clance fsyncs, Lance does not (s)|$cs|$ls|faster:2"
  fi
  row "write, durable (Lance + fsync of its files) (s)|$cs|$(echo "$ls + $lsync" | bc -l)|$durable_target"
  row "write peak RSS (MiB)|$(mib "$crss")|$(mib "$LRSS")|max:256"
  row "du (MiB)|$(mib "$(du -sk "$ds" | cut -f1)")|$(mib "$(du -sk "$lds" | cut -f1)")|le_lance"
}
TL="{id int64, x float64, s utf8 ~16 chars}"
HR=$(human "$ROWS")
FILTER_T="x < 0.1"
for v in ${VERSIONS//,/ }; do
  write_case "$HR rows $TL, format $v|$HR rows, $v" "t$v" "$W/table.arrow" "$v" x "$FILTER_T"
done
write_case "$(human "$VECS") vectors {id int64, vec fixed_size_list<float32,128>}, format 2.1|$(human "$VECS") vectors, 2.1" v2.1 \
  "$W/vectors.arrow" 2.1 id "id < $((VECS / 10))"
[ "$MODE" = time ] || exit 0

# Sequential appends of 100 rows. Lance: table.add() in one warm node
# process (no fsync). clance in one process through the C API
# (append_bench.c: write_fragments + commit), with --no-fsync (the
# like-for-like row) and durable (the default); and as two CLI processes per
# append (write-fragments + commit --operation append, as a worker and a
# coordinator run them), durable.
ds="$W/c-appends"
rm -rf "$ds"
awk 'BEGIN { for (i = 0; i < 100; i++) printf "{\"id\":%d,\"x\":%g,\"s\":\"row %d\"}\n", i, i / 100, i }' > "$W/a.jsonl"
"$C" write-fragments "$ds" --schema 'id:int64,x:float64,s:string' --input "$W/a.jsonl" --no-progress --output "$W/a0.json"
"$C" commit "$ds" --operation overwrite --read-version 0 --schema 'id:int64,x:float64,s:string' "$W/a0.json" > /dev/null
: > "$W/lat.c"
sync
for k in $(seq 1 "$COMMITS"); do
  t0=$(now)
  "$C" write-fragments "$ds" --input "$W/a.jsonl" --schema 'id:int64,x:float64,s:string' --threads 1 \
    --no-progress --output "$W/a.json"
  "$C" commit "$ds" --operation append --read-version "$k" "$W/a.json" > /dev/null
  t1=$(now)
  echo "$t1 - $t0" | bc -l >> "$W/lat.c"
done
t0=$(now); "$C" count "$ds" > /dev/null; t1=$(now)
copen=$(echo "$t1 - $t0" | bc -l)
sync
/usr/bin/time -f "$T" -o "$W/time.ad" "$A" "$W/c-appends-api" "$COMMITS" 100 > "$W/lat.api"
echo '{}' > "$W/lat.apin"
cp "$W/time.ad" "$W/time.an"
if [ "$NOFSYNC" = 1 ]; then
  sync
  /usr/bin/time -f "$T" -o "$W/time.an" "$A" --no-fsync "$W/c-appends-apin" "$COMMITS" 100 > "$W/lat.apin"
fi
sync
/usr/bin/time -f "$T" -o "$W/time.la" node "$HERE/lance_write.js" appends "$W/lance/appends.lance" "$COMMITS" 100 > "$W/lat.l"
row "# $COMMITS sequential Appends of 100 rows {id, x, s}: latency of each (page cache = no fsync either side)|appends"
node -e '
const fs = require("fs");
const [cf, lf, copen, af, anf, crss, lrss] = process.argv.slice(1);
const c = fs.readFileSync(cf, "utf8").trim().split("\n").map(Number).sort((a, b) => a - b);
const l = JSON.parse(fs.readFileSync(lf, "utf8"));
const a = JSON.parse(fs.readFileSync(af, "utf8"));
const an = JSON.parse(fs.readFileSync(anf, "utf8"));
const q = (v, p) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
const ls = l.latencies.sort((x, y) => x - y), as = a.latencies.sort((x, y) => x - y);
for (const [what, x] of [["clance API", a], ["clance API --no-fsync", an]])
  if (x.count !== undefined && x.count !== l.count - 1 + 100) throw new Error(`appends: ${what} made ${x.count} rows, Lance ${l.count}`);
const out = [];
if (an.latencies) {
  const ns = an.latencies.sort((x, y) => x - y);
  out.push(`in-process, page cache, median (s)|${q(ns, 0.5)}|${q(ls, 0.5)}|faster:2`);
  out.push(`in-process, page cache, p99 (s)|${q(ns, 0.99)}|${q(ls, 0.99)}|faster:2`);
  out.push(`in-process, durable (clance), median (s)|${q(as, 0.5)}|${q(ls, 0.5)}|-`);
  out.push(`in-process, durable (clance), p99 (s)|${q(as, 0.99)}|${q(ls, 0.99)}|-`);
} else {
  out.push(`in-process, clance fsyncs, Lance does not, median (s)|${q(as, 0.5)}|${q(ls, 0.5)}|faster:2`);
  out.push(`in-process, clance fsyncs, p99 (s)|${q(as, 0.99)}|${q(ls, 0.99)}|faster:2`);
}
out.push(`2 CLI processes, durable, median (s)|${q(c, 0.5)}|${q(ls, 0.5)}|-`);
out.push(`2 CLI processes, durable, p99 (s)|${q(c, 0.99)}|${q(ls, 0.99)}|-`);
out.push(`open + count afterwards, API (s)|${(an.open ?? a.open)}|${l.open}|-`);
out.push(`open + count afterwards, CLI (s)|${copen}|${l.open}|-`);
out.push(`in-process peak RSS (MiB)|${(crss / 1024).toFixed(1)}|${(lrss / 1024).toFixed(1)}|-`);
fs.appendFileSync(process.argv[8], out.join("\n") + "\n");
' "$W/lat.c" "$W/lat.l" "$copen" "$W/lat.api" "$W/lat.apin" "$(rss "$W/time.an")" "$(rss "$W/time.la")" "$R"
