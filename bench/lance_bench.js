#!/usr/bin/env node
'use strict';
// The real Lance's side of the read benchmark (npm @lancedb/lancedb; clance's
// is bench_read.c, same operations, same JSON). Times, best of --repeat runs:
// full scan, one-column scan, take of the row positions in TAKES_FILE,
// filtered scan (all columns), filtered count. Then, untimed, fingerprints
// what the last run of each returned: rows, the uint64 sum of `id` ("sum"),
// the sum of a float64 column in scan order ("sumf").
//   node lance_bench.js DATASET.lance TAKES_FILE [--repeat 3] [--filter "x > 0.5"] [--column x]
if (!process.env.LANCEDB_LOG) process.env.LANCEDB_LOG = 'error';
const fs = require('fs');
const path = require('path');
const lancedb = require('@lancedb/lancedb');

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
}

async function best(repeat, fn) {
  let t = Infinity, out;
  for (let i = 0; i < repeat; i++) {
    out = null; // let the previous result be collected before the next run
    const t0 = process.hrtime.bigint();
    out = await fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (dt < t) t = dt;
  }
  return { seconds: t, out };
}

// rows, and the sum of column `col` of an Arrow table (int64: sum, float64: sumf).
function fingerprint(table, col) {
  const r = { rows: table.numRows };
  const v = table.getChild(col);
  if (!v) return r;
  let s = 0n, f = 0, isInt = false, isFloat = false;
  for (const d of v.data) {
    const vals = d.values;
    if (vals instanceof BigInt64Array) {
      isInt = true;
      let p = 0; // ids are < 2^31 here: a chunk's sum stays exact in a double
      for (let i = 0; i < d.length; i++) p += Number(vals[i]);
      if (!Number.isSafeInteger(p)) throw new Error('id sum out of exact range');
      s += BigInt(p);
    } else if (vals instanceof Float64Array) {
      isFloat = true;
      for (let i = 0; i < d.length; i++) f += vals[i];
    }
  }
  if (isInt) r.sum = BigInt.asUintN(64, s).toString();
  if (isFloat) r.sumf = f;
  return r;
}

async function main() {
  const uri = process.argv[2], takes = process.argv[3];
  const repeat = Number(arg('--repeat', '3'));
  const filter = arg('--filter', 'x > 0.5');
  const column = arg('--column', 'x');
  const offs = fs.readFileSync(takes, 'utf8').trim().split('\n').map(Number);
  const db = await lancedb.connect(path.dirname(uri));
  const t = await db.openTable(path.basename(uri).replace(/\.lance$/, ''));
  const res = {};
  const run = async (name, fn, col) => {
    const b = await best(repeat, fn);
    res[name] = { seconds: b.seconds, ...(typeof b.out === 'number' ? { rows: b.out } : fingerprint(b.out, col)) };
  };
  await run('full_scan', async () => t.query().toArrow(), 'id');
  await run('one_column_scan', async () => t.query().select([column]).toArrow(), column);
  await run('take', async () => t.takeOffsets(offs).toArrow(), 'id');
  await run('filtered_scan', async () => t.query().where(filter).toArrow(), 'id');
  await run('filtered_count', async () => t.countRows(filter));
  process.stdout.write(JSON.stringify(res) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
