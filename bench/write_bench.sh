#!/usr/bin/env bash
# Write benchmark: clance vs the real Lance in one run, both fed the same
# Arrow IPC file (generated before timing). Called by bench/run.
#   write_bench.sh BUILD WORKDIR ROWS VECTORS COMMITS
# Rows: {id int64, x float64, s utf8 ~16 chars} written in 2.1 and 2.0;
# VECTORS rows of {id, vec fixed_size_list<float32,128>} in 2.1; COMMITS
# sequential Append commits of 100 rows (median, p99) and the open time after
# them; peak RSS of each side; du of the datasets; and this machine's limits
# measured in the same run (dd write/read of the work dir, memcpy).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$1 W=$2 ROWS=$3 VECS=$4 COMMITS=$5
C="$BUILD/tools/clance"
mkdir -p "$W"
now() { date +%s.%N; }
rss() { sed -n 's/^RSS \([0-9]*\)$/\1/p' "$1" | tail -1; } # KiB
T='RSS %M'
node "$HERE/gen_ipc.js" "$W/table.arrow" --rows "$ROWS"
node "$HERE/gen_ipc.js" "$W/vectors.arrow" --rows "$VECS" --kind vectors
R="$W/results.txt"
: > "$R"
row() { echo "$*" >> "$R"; }
write_case() { # name input version
  local name=$1 in=$2 v=$3 id
  id=$(echo "$1" | tr -c 'A-Za-z0-9.\n' '_')
  local ds="$W/c-$id" lds="$W/lance/l-$id.lance"
  rm -rf "$ds" "$lds"
  local t0 t1
  t0=$(now)
  /usr/bin/time -f "$T" -o "$W/time.c" "$C" write-fragments "$ds" --input "$in" --data-storage-version "$v" \
    --no-progress --output "$W/f.json"
  "$C" commit "$ds" --operation overwrite --read-version 0 --schema "$(spec "$in")" "$W/f.json" > /dev/null
  t1=$(now)
  local cs; cs=$(echo "$t1 - $t0" | bc -l)
  mkdir -p "$W/lance"
  /usr/bin/time -f "$T" -o "$W/time.l" node "$HERE/lance_write.js" write "$in" "$lds" "$v" > "$W/l.json"
  local ls; ls=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).seconds)' "$W/l.json")
  row "$name (s)|$cs|$ls"
  row "$name peak RSS (MiB)|$(( $(rss "$W/time.c") / 1024 ))|$(( $(rss "$W/time.l") / 1024 ))"
  row "$name du (MiB)|$(( $(du -sk "$ds" | cut -f1) / 1024 ))|$(( $(du -sk "$lds" | cut -f1) / 1024 ))"
  local cn ln
  cn=$("$C" count "$ds")
  ln=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).count)' "$W/l.json")
  [ "$cn" = "$ln" ] || { echo "$name: clance wrote $cn rows, Lance $ln" >&2; exit 1; }
}
spec() {
  case "$1" in
    *vectors*) echo 'id:int64,vec:vector(float32,128)' ;;
    *) echo 'id:int64,x:float64,s:string' ;;
  esac
}
write_case "write $ROWS rows 2.1" "$W/table.arrow" 2.1
write_case "write $ROWS rows 2.0" "$W/table.arrow" 2.0
write_case "write $VECS vectors 2.1" "$W/vectors.arrow" 2.1
# Sequential appends of 100 rows: clance = write-fragments + commit (two
# processes, as a worker and a coordinator would run them).
ds="$W/c-appends"
rm -rf "$ds"
awk 'BEGIN { for (i = 0; i < 100; i++) printf "{\"id\":%d,\"x\":%g,\"s\":\"row %d\"}\n", i, i / 100, i }' > "$W/a.jsonl"
"$C" write-fragments "$ds" --schema 'id:int64,x:float64,s:string' --input "$W/a.jsonl" --no-progress --output "$W/a0.json"
"$C" commit "$ds" --operation overwrite --read-version 0 --schema 'id:int64,x:float64,s:string' "$W/a0.json" > /dev/null
: > "$W/lat.c"
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
node "$HERE/lance_write.js" appends "$W/lance/appends.lance" "$COMMITS" 100 > "$W/lat.l"
# The like-for-like comparison with Lance's in-process table.add(): the same
# appends through the C API in one process (bench/append_bench.c), durable
# (fsync) as always.
"$BUILD/bench/append_bench" "$W/c-appends-api" "$COMMITS" 100 > "$W/lat.api"
node -e '
const fs = require("fs");
const c = fs.readFileSync(process.argv[1], "utf8").trim().split("\n").map(Number).sort((a, b) => a - b);
const l = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const a = JSON.parse(fs.readFileSync(process.argv[5], "utf8"));
const ls = l.latencies.sort((x, y) => x - y), as = a.latencies.sort((x, y) => x - y);
const q = (v, p) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
if (a.count !== l.count - 1 + 100) throw new Error(`appends: clance API made ${a.count} rows, Lance ${l.count}`);
const out = [];
out.push(`append 100 rows in-process, median (s)|${q(as, 0.5)}|${q(ls, 0.5)}`);
out.push(`append 100 rows in-process, p99 (s)|${q(as, 0.99)}|${q(ls, 0.99)}`);
out.push(`append 100 rows, 2 CLI processes, median (s)|${q(c, 0.5)}|${q(ls, 0.5)}`);
out.push(`append 100 rows, 2 CLI processes, p99 (s)|${q(c, 0.99)}|${q(ls, 0.99)}`);
out.push(`open + count after ${c.length} appends, API (s)|${a.open}|${l.open}`);
out.push(`open + count after ${c.length} appends, CLI (s)|${process.argv[3]}|${l.open}`);
fs.appendFileSync(process.argv[4], out.join("\n") + "\n");
' "$W/lat.c" "$W/lat.l" "$copen" "$R" "$W/lat.api"
# Machine limits, measured now on the same directory.
MB=$(( ROWS >= 1000000 ? 1024 : 128 ))
ddw=$(dd if=/dev/zero of="$W/dd" bs=1M count=$MB conv=fdatasync 2>&1 | sed -n 's/.*, \([0-9.]* [GMk]B\/s\)$/\1/p')
sync
dropped=no
if echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then dropped=yes; fi
ddr=$(dd if="$W/dd" of=/dev/null bs=1M 2>&1 | sed -n 's/.*, \([0-9.]* [GMk]B\/s\)$/\1/p')
rm -f "$W/dd"
cc -O2 -o "$W/memcpy_bw" "$HERE/memcpy_bw.c"
mc=$("$W/memcpy_bw")
node -e '
const fs = require("fs");
const rows = fs.readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split("|"));
console.log("write benchmark (same Arrow IPC input for both; Lance = @lancedb/lancedb createTable / add)");
console.log("operation".padEnd(42) + "clance".padStart(10) + "Lance".padStart(10) + "   Lance/clance");
for (const [k, c, l] of rows) {
  const cv = Number(c), lv = Number(l);
  const f = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(4)).padStart(10);
  console.log(k.padEnd(42) + f(cv) + f(lv) + "   " + (cv > 0 ? (lv / cv).toFixed(2) + "x" : "-"));
}
console.log(`machine: disk write ${process.argv[2]} (dd, fdatasync), disk read ${process.argv[3]} (page cache dropped: ${process.argv[4]}), memcpy ${process.argv[5]} GB/s, ${require("os").cpus().length} cores`);
' "$R" "$ddw" "$ddr" "$dropped" "$mc"
