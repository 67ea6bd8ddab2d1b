#!/usr/bin/env node
'use strict';
// Build a dataset history with the real Lance through every operation it
// offers a local table: appends, deletes, updates, added columns (computed,
// and null-only), compaction, a scalar index, tags. Each step is a version.
//   node lance_ops.js <dataset_dir.lance> --storage-version V [--stable-row-ids]
// Prints {"versions": [{"version": N, "op": "..."}...]} on stdout.
if (!process.env.LANCEDB_LOG) process.env.LANCEDB_LOG = 'error';
const fs = require('fs');
const path = require('path');
const lancedb = require('@lancedb/lancedb');
const arrow = require('apache-arrow');

function arg(name) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function rows(start, n) {
  const id = new BigInt64Array(n), v = new Float64Array(n), s = [];
  for (let i = 0; i < n; i++) {
    id[i] = BigInt(start + i);
    v[i] = (start + i) * 0.5;
    s.push((start + i) % 7 === 0 ? null : `row-${start + i}`);
  }
  return arrow.tableFromArrays({ id, v, s: arrow.vectorFromArray(s, new arrow.Utf8()) });
}

async function main() {
  const ds = path.resolve(process.argv[2]);
  const sv = arg('--storage-version');
  const stable = process.argv.includes('--stable-row-ids');
  fs.rmSync(ds, { recursive: true, force: true });
  const db = await lancedb.connect(path.dirname(ds));
  const name = path.basename(ds).slice(0, -'.lance'.length);
  const opts = { new_table_data_storage_version: sv };
  if (stable) opts.new_table_enable_stable_row_ids = 'true';
  const t = await db.createTable(name, rows(0, 400), { mode: 'overwrite', storageOptions: opts });
  const log = [{ version: await t.version(), op: 'create' }];
  const step = async (op, fn) => {
    await fn();
    log.push({ version: await t.version(), op });
  };
  await step('append', () => t.add(rows(400, 300)));
  await step('append', () => t.add(rows(700, 300)));
  await step('delete', () => t.delete('id % 5 = 0'));
  await step('update', () => t.update({ where: 'id < 50', valuesSql: { v: 'v + 1000' } }));
  await step('add computed column', () => t.addColumns([{ name: 'dbl', valueSql: 'id * 2' }]));
  await step('add null column', () => t.addColumns(new arrow.Field('extra', new arrow.Int32(), true)));
  await step('delete', () => t.delete('id > 950'));
  await step('compact', () => t.optimize());
  await step('index', () => t.createIndex('id'));
  await step('tag', async () => (await t.tags()).create('before-last', await t.version()));
  await step('append', () => t.add(arrow.tableFromArrays({
    id: BigInt64Array.from([2000n, 2001n]), v: Float64Array.from([1, 2]),
    s: arrow.vectorFromArray(['a', null], new arrow.Utf8()), dbl: BigInt64Array.from([4000n, 4002n]),
    extra: arrow.vectorFromArray([7, null], new arrow.Int32()),
  })));
  process.stdout.write(JSON.stringify({ versions: log }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`lance_ops: ${e.stack || e}\n`);
  process.exit(1);
});
