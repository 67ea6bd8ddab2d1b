#!/usr/bin/env node
'use strict';
// Tags with the REAL Lance (npm @lancedb/lancedb), several steps in one run
// (each Lance start costs a second):
//   node lance_tags.js <dataset_dir.lance> STEP...
// Steps: list | create:NAME:VERSION | delete:NAME | scan:NAME (rows of the tagged
// version) | rows (latest) | rows:VERSION | versions. Prints a JSON array with one
// result per step: {name: version} for list, canonical JSONL text for scans and
// rows, the version numbers for versions, null otherwise.
if (!process.env.LANCEDB_LOG) process.env.LANCEDB_LOG = 'error';
const path = require('path');
const canon = require('./canon.js');
const lancedb = require('@lancedb/lancedb');

const USAGE = 'usage: node lance_tags.js <dataset_dir.lance> list|create:NAME:VERSION|delete:NAME|scan:NAME|rows[:VERSION]|versions...';

async function rowsOf(table) {
  const result = await table.query().toArrow();
  return [...canon.arrowTableLines(result, result.schema.fields.map((f) => f.name))].map((l) => l + '\n').join('');
}

async function main() {
  const { pos } = canon.parseArgs(process.argv.slice(2), {}, USAGE);
  if (pos.length < 2) canon.usageError(USAGE, 'expected <dataset_dir.lance> and at least one step');
  const dsDir = path.resolve(pos[0]);
  if (!dsDir.endsWith('.lance')) canon.usageError(USAGE, 'dataset directory must end in .lance');
  const db = await lancedb.connect(path.dirname(dsDir));
  const name = path.basename(dsDir).slice(0, -'.lance'.length);
  const out = [];
  for (const step of pos.slice(1)) {
    const [op, a, b] = step.split(':');
    const table = await db.openTable(name); // fresh: sees the latest version and tags
    const tags = await table.tags();
    if (op === 'list') {
      const r = {};
      for (const [k, t] of Object.entries(await tags.list())) r[k] = t.version;
      out.push(r);
    } else if (op === 'create' && a && b) {
      await tags.create(a, Number(b));
      out.push(null);
    } else if (op === 'delete' && a) {
      await tags.delete(a);
      out.push(null);
    } else if (op === 'scan' && a) {
      await table.checkout(a);
      out.push(await rowsOf(table));
    } else if (op === 'rows') {
      if (a) await table.checkout(Number(a));
      out.push(await rowsOf(table));
    } else if (op === 'versions') {
      out.push((await table.listVersions()).map((x) => x.version));
    } else {
      canon.usageError(USAGE, `bad step "${step}"`);
    }
    table.close();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`lance_tags: ${e.message || e}\n`);
  process.exit(1);
});
