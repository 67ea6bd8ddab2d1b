#!/usr/bin/env node
'use strict';
// Benchmark data, written by the real Lance: {id int64 sequential, x float64
// random, s utf8 ~16 chars}. Also writes the same rows as an Arrow IPC file
// (for write benchmarks) and a file of random row positions (for takes).
//   node gen_lance.js DIR --rows N [--storage-version 2.2] [--takes 10000]
if (!process.env.LANCEDB_LOG) process.env.LANCEDB_LOG = 'error';
const fs = require('fs');
const path = require('path');
const lancedb = require('@lancedb/lancedb');
const arrow = require('apache-arrow');

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
}

function rng(seed) {
  let s = BigInt(seed);
  return () => {
    s ^= (s << 13n) & 0xffffffffffffffffn;
    s ^= s >> 7n;
    s ^= (s << 17n) & 0xffffffffffffffffn;
    return Number(s & 0xfffffffffffffn) / 2 ** 52;
  };
}

async function main() {
  const dir = process.argv[2];
  const rows = Number(arg('--rows', '1000000'));
  const sv = arg('--storage-version', '2.2');
  const takes = Number(arg('--takes', '10000'));
  fs.mkdirSync(dir, { recursive: true });
  const r = rng(42);
  const batch = 262144;
  const batches = [];
  for (let start = 0; start < rows; start += batch) {
    const n = Math.min(batch, rows - start);
    const id = new BigInt64Array(n), x = new Float64Array(n), s = new Array(n);
    for (let i = 0; i < n; i++) {
      id[i] = BigInt(start + i);
      x[i] = r();
      s[i] = 'user_' + Math.floor(r() * 1e11).toString(36).padStart(11, '0');
    }
    batches.push(arrow.tableFromArrays({ id, x, s: arrow.vectorFromArray(s, new arrow.Utf8()) }));
  }
  const table = batches.length === 1 ? batches[0] : batches[0].concat(...batches.slice(1));
  fs.writeFileSync(path.join(dir, 'data.arrow'), arrow.tableToIPC(table, 'file'));
  const db = await lancedb.connect(dir);
  await db.createTable('bench', table, { mode: 'overwrite', storageOptions: { new_table_data_storage_version: sv } });
  const offs = [];
  for (let i = 0; i < takes; i++) offs.push(Math.floor(r() * rows));
  fs.writeFileSync(path.join(dir, 'takes.txt'), offs.join('\n') + '\n');
  process.stdout.write(JSON.stringify({ rows, storage_version: sv }) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
