#!/usr/bin/env node
'use strict';
// Which Arrow types / value shapes does the REAL Lance (lancedb 0.39 = Lance 12) take, per
// storage version, and does it give them back unchanged? For every probe and version:
// createTable(rows) + add(rows) with arrow-js tables built like lance_write.js builds them,
// then a plain scan. Prints one line per probe and version:
//   ok | REJECTED: <Lance's message> | READ FAILS: <message> | ALTERED: <what changed>
// The findings are summed up in README.md; rerun this after changing the lancedb version.
if (!process.env.LANCEDB_LOG) process.env.LANCEDB_LOG = 'error';
const fs = require('fs');
const os = require('os');
const path = require('path');
const canon = require('./canon.js');
const cases = require('./cases.js');
const lancedb = require('@lancedb/lancedb');

const USAGE = `usage: node probe_types.js [--versions 2.0,2.1,2.2] [--only NAME,...] [--workdir DIR]
  Prints, for every probe and storage version: ok, REJECTED, READ FAILS or ALTERED.
  Exit status 0 (the findings are the output), 2 on usage errors.`;

const L256 = 'a'.repeat(256);
const PROBES = [
  ['float16', 'c:float16', [{ c: 65504 }, { c: NaN }, { c: -0 }, { c: 2 ** -24 }, { c: null }]],
  ['decimal(10,3)', 'c:decimal(10,3)', [{ c: -9999999999n }, { c: 9999999999n }, { c: 0n }, { c: -1n }, { c: null }]],
  ['decimal(38,10)', 'c:decimal(38,10)', [{ c: -(10n ** 38n - 1n) }, { c: 10n ** 38n - 1n }, { c: 1n }, { c: null }]],
  ['fixed_size_binary(5)', 'c:fixed_size_binary(5)', [{ c: new Uint8Array(5) }, { c: new Uint8Array(5).fill(255) }, { c: null }]],
  ['date64', 'c:date64', [{ c: -(2n ** 63n) }, { c: 2n ** 63n - 1n }, { c: 86400000n }, { c: null }]],
  ['time32(s)', 'c:time32(s)', [{ c: 0 }, { c: 86399 }, { c: -2147483648 }, { c: null }]],
  ['time32(ms)', 'c:time32(ms)', [{ c: 0 }, { c: 86399999 }, { c: 2147483647 }, { c: null }]],
  ['time64(us)', 'c:time64(us)', [{ c: 0n }, { c: 86399999999n }, { c: -(2n ** 63n) }, { c: null }]],
  ['time64(ns)', 'c:time64(ns)', [{ c: 0n }, { c: 86399999999999n }, { c: 2n ** 63n - 1n }, { c: null }]],
  ...['s', 'ms', 'us', 'ns'].map((u) => [`duration(${u})`, `c:duration(${u})`, [{ c: -(2n ** 63n) }, { c: 2n ** 63n - 1n }, { c: null }]]),
  ['timestamp(ns)', 'c:timestamp(ns)', [{ c: -(2n ** 63n) }, { c: 2n ** 63n - 1n }, { c: null }]],
  ['timestamp(s,Asia/Tokyo)', 'c:timestamp(s,Asia/Tokyo)', [{ c: -(2n ** 63n) }, { c: 2n ** 63n - 1n }, { c: null }]],
  ['list(int32)', 'c:list(int32)', [{ c: [] }, { c: null }, { c: [null] }, { c: [1, null, 3] }]],
  ['large_list(float64)', 'c:large_list(float64)', [{ c: [] }, { c: null }, { c: [null] }, { c: [1.5, NaN, -0] }]],
  ['list(vector(float32,4))', 'c:list(vector(float32,4))', [{ c: [] }, { c: null }, { c: [null, [1, null, 3, 4]] }]],
  ['list(vector) with NaN (add)', 'c:list(vector(float32,4))', [{ c: [[NaN, 1, 2, 3]] }]],
  ['vector with NaN (add)', 'c:vector(float32,4)', [{ c: [NaN, 1, 2, 3] }]],
  ['list(list(int32))', 'c:list(list(int32))', [{ c: [[], null, [null], [1]] }, { c: null }]],
  ['large_list(large_list(int64))', 'c:large_list(large_list(int64))', [{ c: [[], null, [null], [1n]] }, { c: null }]],
  ['struct, no null structs', 'c:struct(x:int32,y:string)', [{ c: { x: 1, y: null } }, { c: { x: null, y: null } }]],
  ['struct with a null struct', 'c:struct(x:int32,y:string)', [{ c: { x: 1, y: 'a' } }, { c: null }]],
  ['list(struct) with a null item', 'c:list(struct(x:int32))', [{ c: [{ x: 1 }, null] }]],
  ['struct(list(string)), long strings, no null structs', 'c:struct(y:list(string))',
    [{ c: { y: null } }, { c: { y: ['ab', 'cd', L256, null] } }, { c: { y: null } }]],
  ['struct(list(string)), null struct, short strings', 'c:struct(y:list(string))',
    [{ c: null }, { c: { y: ['ab', 'cd', 'a'.repeat(255), null] } }, { c: { y: null } }]],
  ['struct(list(string)), null struct, a 256-byte string', 'c:struct(y:list(string))',
    [{ c: null }, { c: { y: ['ab', 'cd', L256, null] } }, { c: { y: null } }]],
  ['struct(list(binary)), null struct, a 256-byte value', 'c:struct(y:list(binary))',
    [{ c: null }, { c: { y: [Uint8Array.of(1), Uint8Array.of(2), new Uint8Array(256), null] } }, { c: { y: null } }]],
];

function firstLine(e) { return String((e && e.message) || e).split('\n')[0].replace(/, \/\S*\.rs:\d+:\d+.*$/, '').slice(0, 200); }

async function probe(db, name, spec, rows, sv, k) {
  const fields = canon.parseSpec(spec);
  const table = cases.buildArrowTable(fields, rows);
  let t;
  try {
    t = await db.createTable(`p${k}`, table, { mode: 'overwrite', storageOptions: { new_table_data_storage_version: sv } });
  } catch (e) { return `REJECTED by createTable: ${firstLine(e)}`; }
  let addNote = '';
  try { await t.add(table); } catch (e) { addNote = ` (add() REJECTED: ${firstLine(e)})`; }
  let res, schema;
  try {
    schema = await t.schema();
    res = await t.query().toArrow();
  } catch (e) { return `READ FAILS: ${firstLine(e)}${addNote}`; }
  const typeBack = canon.typeToSpec(canon.specTypeOfArrow(schema.fields[0].type));
  const want = canon.typeToSpec(fields[0].type);
  if (typeBack !== want) return `ALTERED: type ${want} -> ${typeBack} (${schema.fields[0].type})${addNote}`;
  const exp = rows.map((r) => canon.fmtRow(fields, r));
  const expAll = addNote ? exp : exp.concat(exp);
  const got = [...canon.arrowTableLines(res)];
  if (got.join('\n') !== expAll.join('\n')) return `ALTERED: values ${JSON.stringify(got.slice(0, 4))} (want ${JSON.stringify(expAll.slice(0, 4))})${addNote}`;
  return `ok${addNote}`;
}

async function main() {
  const { opts } = canon.parseArgs(process.argv.slice(2), { versions: 'value', only: 'value', workdir: 'value' }, USAGE);
  const versions = opts.versions ? opts.versions.split(',') : ['2.0', '2.1', '2.2'];
  const only = opts.only ? new Set(opts.only.split(',')) : null;
  const work = opts.workdir ? path.resolve(opts.workdir) : fs.mkdtempSync(path.join(os.tmpdir(), 'clance-probe-'));
  let k = 0;
  for (const sv of versions) {
    const db = await lancedb.connect(path.join(work, `v${sv}`));
    for (const [name, spec, rows] of PROBES) {
      if (only && !only.has(name)) continue;
      const r = await probe(db, name, spec, rows, sv, k++);
      process.stdout.write(`${sv}\t${name}\t${r}\n`);
    }
  }
  if (!opts.workdir) fs.rmSync(work, { recursive: true, force: true });
}

main().catch((e) => { process.stderr.write(`probe_types: ${e.stack || e}\n`); process.exit(1); });
