#!/usr/bin/env node
'use strict';
// The real Lance's side of the write benchmark (npm @lancedb/lancedb).
//   node lance_write.js write IPC_FILE OUT_DIR VERSION   -> {"seconds": s, "sync_seconds": s, "count": n}
//     reads the IPC file with apache-arrow (not timed), then times createTable
//     (seconds: Lance as it is, which leaves flushing to the OS), then times
//     fsync of every file and directory of the new dataset and of its parent
//     directory (sync_seconds: what making the same write durable adds)
//   node lance_write.js appends OUT_DIR N ROWS           -> {"latencies": [...], "open": s}
//     N sequential appends of ROWS rows {id int64, x float64, s utf8}, then open time
if (!process.env.LANCEDB_LOG) process.env.LANCEDB_LOG = 'error';
const fs = require('fs');
const path = require('path');
const arrow = require('apache-arrow');
const lancedb = require('@lancedb/lancedb');

const now = () => Number(process.hrtime.bigint()) / 1e9;

// fsync every file and directory under dir (files first, then their directory).
function fsyncTree(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) fsyncTree(p);
    else fsyncPath(p);
  }
  fsyncPath(dir);
}
function fsyncPath(p) {
  const fd = fs.openSync(p, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

async function main() {
  const [cmd, a, b, c] = process.argv.slice(2);
  if (cmd === 'write') {
    const table = arrow.tableFromIPC(fs.readFileSync(a));
    const db = await lancedb.connect(path.dirname(b));
    const t0 = now();
    const t = await db.createTable(path.basename(b).replace(/\.lance$/, ''), table,
      { mode: 'overwrite', storageOptions: { new_table_data_storage_version: c } });
    const seconds = now() - t0;
    fsyncTree(b);
    fsyncPath(path.dirname(b));
    const syncSeconds = now() - t0 - seconds;
    console.log(JSON.stringify({ seconds, sync_seconds: syncSeconds, count: await t.countRows() }));
  } else if (cmd === 'appends') {
    const n = Number(b), rows = Number(c);
    const db = await lancedb.connect(path.dirname(a));
    const name = path.basename(a).replace(/\.lance$/, '');
    const batch = (k) => Array.from({ length: rows }, (_, i) => ({ id: BigInt(k * rows + i), x: i / rows, s: `row ${k}-${i}` }));
    const schema = new arrow.Schema([new arrow.Field('id', new arrow.Int64()), new arrow.Field('x', new arrow.Float64()),
      new arrow.Field('s', new arrow.Utf8())]);
    const tbl = await db.createTable(name, arrow.tableFromArrays({ id: BigInt64Array.from([0n]), x: Float64Array.from([0]), s: ['x'] }),
      { mode: 'overwrite' });
    void schema;
    const lat = [];
    for (let k = 0; k < n; k++) {
      const data = arrow.tableFromArrays({ id: BigInt64Array.from(batch(k), (r) => r.id), x: Float64Array.from(batch(k), (r) => r.x),
        s: batch(k).map((r) => r.s) });
      const t0 = now();
      await tbl.add(data);
      lat.push(now() - t0);
    }
    const t0 = now();
    const db2 = await lancedb.connect(path.dirname(a));
    const t2 = await db2.openTable(name);
    const count = await t2.countRows();
    console.log(JSON.stringify({ latencies: lat, open: now() - t0, count }));
  } else {
    console.error('usage: lance_write.js write IPC OUT VERSION | appends OUT N ROWS');
    process.exit(2);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
