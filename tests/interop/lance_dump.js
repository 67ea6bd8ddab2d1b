#!/usr/bin/env node
'use strict';
// Read a Lance dataset with the REAL Lance (npm @lancedb/lancedb) and print canonical JSONL.
if (!process.env.LANCEDB_LOG) process.env.LANCEDB_LOG = 'error';
const fs = require('fs');
const path = require('path');
const canon = require('./canon.js');
const lancedb = require('@lancedb/lancedb');

const USAGE = `usage: node lance_dump.js <dataset_dir.lance> [--version N] [--columns a,b] [--with-row-id] [--where PRED]
       node lance_dump.js <dataset_dir.lance> [--version N] --info
  Prints every row (in Lance's scan order: fragment by fragment) as canonical JSONL.
  --version N     read version N instead of the latest
  --columns a,b   only these columns, printed in this order
  --with-row-id   add Lance's "_rowid" (u64) as the last key
  --where PRED    only rows matching the Lance SQL predicate
  --info          print {"version","num_rows","num_fragments","versions","schema":[{"name","type"}]}
                  instead (type = clance spec string, '!' = non-nullable)
  --all-versions PREFIX
                  for every version V, write PREFIX.V.jsonl (the rows) and PREFIX.V.info.json
                  (the --info object) in one run, and print the list of versions`;

async function infoOf(table) {
  const schema = await table.schema();
  const stats = await table.stats();
  return {
    version: await table.version(),
    num_rows: await table.countRows(),
    num_fragments: stats.fragmentStats.numFragments,
    versions: (await table.listVersions()).map((v) => v.version),
    schema: schema.fields.map((f) => {
      let type;
      try { type = canon.typeToSpec(canon.specTypeOfArrow(f.type)) + (f.nullable ? '' : '!'); } catch (e) { type = `?${f.type}`; }
      return { name: f.name, type, arrow_type: String(f.type) };
    }),
  };
}

async function main() {
  const { pos, opts } = canon.parseArgs(process.argv.slice(2),
    { version: 'value', columns: 'value', info: 'flag', 'with-row-id': 'flag', where: 'value', 'all-versions': 'value' }, USAGE);
  if (pos.length !== 1) canon.usageError(USAGE, 'expected exactly one <dataset_dir.lance>');
  const dsDir = path.resolve(pos[0]);
  if (!dsDir.endsWith('.lance')) canon.usageError(USAGE, `dataset directory must end in .lance: "${pos[0]}"`);
  if (!fs.existsSync(dsDir)) { process.stderr.write(`lance_dump: ${dsDir}: no such dataset\n`); process.exit(1); }
  const version = canon.parseIntOpt(USAGE, 'version', opts.version, 1);
  if (opts.info && (opts.columns || opts['with-row-id'] || opts.where)) {
    canon.usageError(USAGE, '--info takes no --columns/--with-row-id/--where');
  }
  const columns = opts.columns !== undefined ? opts.columns.split(',').map((s) => s.trim()) : undefined;
  if (columns && columns.some((s) => s === '')) canon.usageError(USAGE, `bad --columns "${opts.columns}"`);

  const db = await lancedb.connect(path.dirname(dsDir));
  const table = await db.openTable(path.basename(dsDir).slice(0, -'.lance'.length));
  if (version !== undefined) await table.checkout(version);

  if (opts['all-versions'] !== undefined) {
    const versions = (await table.listVersions()).map((v) => v.version);
    for (const v of versions) {
      await table.checkout(v);
      fs.writeFileSync(`${opts['all-versions']}.${v}.info.json`, JSON.stringify(await infoOf(table)) + '\n');
      const result = await table.query().toArrow();
      const cols = result.schema.fields.map((f) => f.name);
      fs.writeFileSync(`${opts['all-versions']}.${v}.jsonl`, [...canon.arrowTableLines(result, cols)].map((l) => l + '\n').join(''));
    }
    table.close();
    process.stdout.write(JSON.stringify(versions) + '\n');
    return;
  }

  if (opts.info) {
    const schema = await table.schema();
    const stats = await table.stats();
    const info = {
      version: await table.version(),
      num_rows: await table.countRows(),
      num_fragments: stats.fragmentStats.numFragments,
      versions: (await table.listVersions()).map((v) => v.version),
      schema: schema.fields.map((f) => {
        let type;
        try { type = canon.typeToSpec(canon.specTypeOfArrow(f.type)) + (f.nullable ? '' : '!'); } catch (e) { type = `?${f.type}`; }
        return { name: f.name, type, arrow_type: String(f.type) };
      }),
    };
    table.close();
    process.stdout.write(JSON.stringify(info) + '\n');
    return;
  }

  let q = table.query();
  if (columns) {
    const names = (await table.schema()).fields.map((f) => f.name);
    const missing = columns.filter((c) => !names.includes(c));
    if (missing.length) { process.stderr.write(`lance_dump: no column(s) ${missing.join(',')} (has ${names.join(',')})\n`); process.exit(1); }
    q = q.select(columns);
  }
  if (opts.where !== undefined) q = q.where(opts.where);
  if (opts['with-row-id']) q = q.withRowId();
  const result = await q.toArrow();
  table.close();
  const outCols = columns ? [...columns] : result.schema.fields.map((f) => f.name).filter((n) => n !== '_rowid');
  if (opts['with-row-id']) outCols.push('_rowid');
  await canon.writeLines(canon.arrowTableLines(result, outCols));
}

main().catch((e) => {
  const lanceErr = /^lance error|^Lance error|LanceError/.test(String(e && e.message));
  process.stderr.write(`lance_dump: ${lanceErr ? e.message : (e.stack || e)}\n`);
  process.exit(1);
});
