#!/usr/bin/env node
'use strict';
// Print a case's rows in canonical JSONL (the input `clance write-fragments --format jsonl`
// reads, and the expected output of `clance scan --format jsonl` / lance_dump.js).
const canon = require('./canon.js');
const cases = require('./cases.js');

const USAGE = `usage: node gen_input.js <case> [--rows N] [--storage-version V] [--spec] [--lance-writable] > file.jsonl
       node gen_input.js --list
  --rows N              number of rows (default: the case's own; row i never depends on N)
  --storage-version V   the rows for a dataset of storage version V (2.0, 2.1 or 2.2): with 2.0,
                        null structs become structs of null children (Lance 12 cannot store struct
                        nulls in 2.0 files; lance_write.js writes the same rows). Cases without
                        structs print the same rows for every V; without V: the 2.1/2.2 rows
  --spec                print the case's schema spec string instead of the rows
  --lance-writable      leave out columns whose types lance_write.js cannot send to Lance
  --list                list the cases: name<TAB>default rows<TAB>spec<TAB>kind<TAB>versions, where
                        kind is matrix (the standard matrix), extra, or nested (nested/additional
                        types) and versions the storage versions Lance can write the case in`;

async function main() {
  const { pos, opts } = canon.parseArgs(process.argv.slice(2),
    { rows: 'value', spec: 'flag', 'lance-writable': 'flag', list: 'flag', 'storage-version': 'value' }, USAGE);
  if (opts.list) {
    for (const c of Object.values(cases.CASES)) {
      process.stdout.write(`${c.name}\t${c.defaultRows}\t${c.spec}\t${c.kind}\t${(c.lanceVersions || ['2.0', '2.1', '2.2']).join(',')}\n`);
    }
    return;
  }
  const sv = opts['storage-version'];
  if (sv !== undefined && !['2.0', '2.1', '2.2'].includes(sv)) canon.usageError(USAGE, `--storage-version must be 2.0, 2.1 or 2.2, got "${sv}"`);
  if (pos.length !== 1) canon.usageError(USAGE, 'expected exactly one case name');
  let c;
  try { c = cases.getCase(pos[0]); } catch (e) { canon.usageError(USAGE, e.message); }
  let fields = c.fields;
  if (opts['lance-writable']) {
    const bad = new Set(cases.lanceUnsupportedColumns(fields).map((x) => x.name));
    fields = fields.filter((f) => !bad.has(f.name));
  }
  if (opts.spec) { process.stdout.write(canon.specToString(fields) + '\n'); return; }
  const n = canon.parseIntOpt(USAGE, 'rows', opts.rows, 0);
  const rows = c.rows(n === undefined ? c.defaultRows : n, { storageVersion: sv });
  await canon.writeLines((function* () { for (const r of rows) yield canon.fmtRow(fields, r); })());
}

main().catch((e) => {
  const lanceErr = /^lance error|^Lance error|LanceError/.test(String(e && e.message));
  process.stderr.write(`gen_input: ${lanceErr ? e.message : (e.stack || e)}\n`);
  process.exit(1);
});
