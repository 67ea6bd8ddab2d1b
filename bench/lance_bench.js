#!/usr/bin/env node
'use strict';
// Times the real Lance (npm @lancedb/lancedb) on a dataset made by gen_lance.js.
// Prints one JSON object: seconds per operation (best of --repeat runs).
//   node lance_bench.js DIR [--repeat 3] [--filter "x > 0.5"]
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
    const t0 = process.hrtime.bigint();
    out = await fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (dt < t) t = dt;
  }
  return { seconds: t, result: out };
}

async function main() {
  const dir = process.argv[2];
  const repeat = Number(arg('--repeat', '3'));
  const filter = arg('--filter', 'x > 0.5');
  const offs = fs.readFileSync(path.join(dir, 'takes.txt'), 'utf8').trim().split('\n').map(Number);
  const db = await lancedb.connect(dir);
  const t = await db.openTable('bench');
  const res = {};
  res.full_scan = await best(repeat, async () => (await t.query().toArrow()).numRows);
  res.one_column_scan = await best(repeat, async () => (await t.query().select(['x']).toArrow()).numRows);
  res.take = await best(repeat, async () => (await t.takeOffsets(offs).toArrow()).numRows);
  res.count_filter = await best(repeat, async () => t.countRows(filter));
  process.stdout.write(JSON.stringify(res) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
