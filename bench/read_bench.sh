#!/usr/bin/env bash
# Read side of bench/run: for every dataset write_bench.sh listed in
# WORKDIR/datasets.txt, times clance (bench_read) and the real Lance
# (lance_bench.js) on the files LANCE wrote, and clance on the files clance
# wrote (informational): full scan, one-column scan, take of the same random
# row positions, filtered scan (all columns), filtered count; best of REPEAT.
# One process per dataset per side, its peak RSS from /usr/bin/time. Rows for
# bench/report.js go to RESULTS; results that differ between the sides
# (rows, sum of ids, sum of a float column) are described in ERRORS.
#   read_bench.sh BUILD WORKDIR RESULTS ERRORS REPEAT
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$1 W=$2 R=$3 ERR=$4 REPEAT=$5
T='RSS %M'
while IFS=$'\t' read -r -u 3 label ds lds takes col filter; do
  args=(--repeat "$REPEAT" --filter "$filter" --column "$col")
  sync
  /usr/bin/time -f "$T" -o "$W/time.lr" node "$HERE/lance_bench.js" "$lds" "$takes" "${args[@]}" > "$W/read.l"
  /usr/bin/time -f "$T" -o "$W/time.cr" "$BUILD/bench/bench_read" "$lds" "$takes" "${args[@]}" > "$W/read.c"
  /usr/bin/time -f "$T" -o "$W/time.or" "$BUILD/bench/bench_read" "$ds" "$takes" "${args[@]}" > "$W/read.o"
  node -e '
const fs = require("fs");
const [label, lf, cf, of, col, filter, takes, lt, ct, ot, rf, ef] = process.argv.slice(1);
const j = (f) => JSON.parse(fs.readFileSync(f, "utf8"));
const rss = (f) => (Number(/RSS (\d+)/.exec(fs.readFileSync(f, "utf8"))[1]) / 1024).toFixed(1);
const l = j(lf), c = j(cf), o = j(of);
const k = fs.readFileSync(takes, "utf8").trim().split("\n").length;
const ops = [["full_scan", "full scan (s)", "faster:1.5"], ["one_column_scan", `one-column scan (${col}) (s)`, "faster:2"],
  ["take", `take ${k.toLocaleString("en")} random rows (s)`, "faster:2"],
  ["filtered_scan", `filtered scan (${filter}) (s)`, "-"], ["filtered_count", `filtered count (${filter}) (s)`, "-"]];
const same = (a, b) => a.rows === b.rows && a.sum === b.sum &&
  (a.sumf === undefined) === (b.sumf === undefined) &&
  (a.sumf === undefined || Math.abs(a.sumf - b.sumf) <= 1e-9 * Math.max(1, Math.abs(a.sumf)));
const desc = (r) => JSON.stringify({ rows: r.rows, sum: r.sum, sumf: r.sumf });
const out = [`# ${label}`], errs = [], title = label.split("|")[0];
for (const [op, name, target] of ops) {
  if (!same(c[op], l[op])) errs.push(`${title}: ${op}: clance ${desc(c[op])}, Lance ${desc(l[op])} (reading Lance\u0027s files)`);
  if (!same(o[op], l[op])) errs.push(`${title}: ${op}: clance on its own files ${desc(o[op])}, Lance ${desc(l[op])}`);
  out.push(`${name}|${c[op].seconds}|${l[op].seconds}|${target}|${o[op].seconds}`);
}
out.push(`read process peak RSS (MiB)|${rss(ct)}|${rss(lt)}|-|${rss(ot)}`);
fs.appendFileSync(rf, out.join("\n") + "\n");
if (errs.length) fs.appendFileSync(ef, errs.join("\n") + "\n");
' "$label" "$W/read.l" "$W/read.c" "$W/read.o" "$col" "$filter" "$takes" "$W/time.lr" "$W/time.cr" "$W/time.or" "$R" "$ERR"
done 3< "$W/datasets.txt"
