#!/usr/bin/env node
'use strict';
// Append the rows of a test case to an EXISTING dataset with the real Lance
// (used to make Lance commit on top of versions clance wrote).
//   node lance_append.js <dataset_dir.lance> <case> [--rows N] [--from K] [--storage-version V]
// (--from K: rows K .. K+N-1 of the case instead of 0 .. N-1)
// (--storage-version: the dataset's, for the rows of cases with structs; see gen_input.js)
if (!process.env.LANCEDB_LOG) process.env.LANCEDB_LOG = 'error';
const path = require('path');
const canon = require('./canon.js');
const cases = require('./cases.js');
const lancedb = require('@lancedb/lancedb');

const USAGE = 'usage: node lance_append.js <dataset_dir.lance> <case> [--rows N] [--from K] [--storage-version 2.0|2.1|2.2]';

async function main() {
  const { pos, opts } = canon.parseArgs(process.argv.slice(2), { rows: 'value', from: 'value', 'storage-version': 'value' }, USAGE);
  const sv = opts['storage-version'];
  if (sv !== undefined && !['2.0', '2.1', '2.2'].includes(sv)) canon.usageError(USAGE, `--storage-version must be 2.0, 2.1 or 2.2, got "${sv}"`);
  if (pos.length !== 2) canon.usageError(USAGE, 'expected <dataset_dir.lance> <case>');
  const dsDir = path.resolve(pos[0]);
  if (!dsDir.endsWith('.lance')) canon.usageError(USAGE, 'dataset directory must end in .lance');
  let c;
  try { c = cases.getCase(pos[1]); } catch (e) { canon.usageError(USAGE, e.message); }
  const n = canon.parseIntOpt(USAGE, 'rows', opts.rows, 1);
  const from = canon.parseIntOpt(USAGE, 'from', opts.from, 0) || 0;
  const count = n === undefined ? c.defaultRows : n;
  const rows = c.rows(from + count, { storageVersion: sv }).slice(from);
  const db = await lancedb.connect(path.dirname(dsDir));
  const table = await db.openTable(path.basename(dsDir).slice(0, -'.lance'.length));
  await table.add(cases.buildArrowTable(c.fields, rows));
  process.stdout.write(JSON.stringify({ version: await table.version(), num_rows: await table.countRows() }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`lance_append: ${e.stack || e}\n`);
  process.exit(1);
});
