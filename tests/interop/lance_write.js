#!/usr/bin/env node
'use strict';
// Create a Lance dataset with the REAL Lance (npm @lancedb/lancedb) from a test case.
if (!process.env.LANCEDB_LOG) process.env.LANCEDB_LOG = 'error'; // silence Lance's WARN chatter
const fs = require('fs');
const path = require('path');
const canon = require('./canon.js');
const cases = require('./cases.js');
const lancedb = require('@lancedb/lancedb');

const USAGE = `usage: node lance_write.js <dataset_dir.lance> <case> --storage-version 2.0|2.1|2.2
         [--rows N] [--fragments K] [--append-from <case2>] [--append-rows M] [--append-offset S]
         [--delete "<SQL predicate>"] [--manifest-paths v1|v2] [--replace | --overwrite]
  Creates <dataset_dir.lance> with real Lance from the rows of <case> (see gen_input.js --list).
  --storage-version V  Lance data storage version of the new dataset (required). With 2.0, cases
                       with structs are written without null structs (Lance 12 refuses them in
                       2.0): the rows of \`gen_input.js <case> --storage-version 2.0\`
  --rows N             rows of <case> (default: the case's own)
  --fragments K        write the rows in K nearly equal add() calls -> K fragments (default 1)
  --append-from CASE2  then append the rows of CASE2 (same schema) in one more add() call
  --append-rows M      rows of CASE2 (default: its own)
  --append-offset S    append rows S..S+M-1 of CASE2 instead of 0..M-1 (default 0)
  --delete PRED        finally delete the rows matching PRED (Lance SQL, e.g. "id % 7 = 0")
  --manifest-paths P   v2 (lancedb's default: _versions/<u64::MAX - version>.manifest) or
                       v1 (_versions/<version>.manifest)
  --replace            remove an existing <dataset_dir.lance> first (default: refuse)
  --overwrite          commit an Overwrite on an existing dataset (keeps its old versions)
  Prints a JSON summary {"dataset","version","num_rows","num_fragments",...} on stdout.`;

// Lance's add() (unlike createTable) rejects NaN inside vector (fixed_size_list<float>) columns:
// "Vector column contains NaN values". Say so clearly instead of failing deep inside Lance.
async function add(table, fields, rows, skip, what) {
  for (const f of fields) {
    if (f.type.id !== 'fixed_size_list' || skip.has(f.name)) continue;
    const i = rows.findIndex((r) => Array.isArray(r[f.name]) && r[f.name].some((x) => Number.isNaN(x)));
    if (i >= 0) {
      process.stderr.write(`lance_write: ${what}: row ${i} has NaN in vector column "${f.name}"; Lance's add() ` +
        'rejects that (only createTable accepts it): keep NaN vectors in the first fragment, or use --append-offset\n');
      process.exit(1);
    }
  }
  await table.add(cases.buildArrowTable(fields, rows, skip));
}

async function main() {
  const { pos, opts } = canon.parseArgs(process.argv.slice(2), {
    'storage-version': 'value', rows: 'value', fragments: 'value', 'append-from': 'value',
    'append-rows': 'value', 'append-offset': 'value', delete: 'value', 'manifest-paths': 'value', replace: 'flag', overwrite: 'flag',
  }, USAGE);
  if (pos.length !== 2) canon.usageError(USAGE, 'expected <dataset_dir.lance> <case>');
  const [dsArg, caseName] = pos;
  const sv = opts['storage-version'];
  if (!sv) canon.usageError(USAGE, '--storage-version is required');
  if (!['2.0', '2.1', '2.2'].includes(sv)) canon.usageError(USAGE, `--storage-version must be 2.0, 2.1 or 2.2, got "${sv}"`);
  if (!dsArg.endsWith('.lance')) canon.usageError(USAGE, `dataset directory must end in .lance: "${dsArg}"`);
  const mp = opts['manifest-paths'];
  if (mp !== undefined && mp !== 'v1' && mp !== 'v2') canon.usageError(USAGE, `--manifest-paths must be v1 or v2, got "${mp}"`);
  if (opts.replace && opts.overwrite) canon.usageError(USAGE, '--replace and --overwrite exclude each other');
  const rowsN = canon.parseIntOpt(USAGE, 'rows', opts.rows, 0);
  const fragments = canon.parseIntOpt(USAGE, 'fragments', opts.fragments, 1) || 1;
  const appendRows = canon.parseIntOpt(USAGE, 'append-rows', opts['append-rows'], 0);
  const appendOffset = canon.parseIntOpt(USAGE, 'append-offset', opts['append-offset'], 0) || 0;
  if ((appendRows !== undefined || opts['append-offset'] !== undefined) && !opts['append-from']) canon.usageError(USAGE, '--append-rows/--append-offset need --append-from');
  let c, c2;
  try {
    c = cases.getCase(caseName);
    if (opts['append-from']) c2 = cases.getCase(opts['append-from']);
  } catch (e) { canon.usageError(USAGE, e.message); }

  for (const x of [c, c2].filter(Boolean)) {
    if (x.lanceVersions && !x.lanceVersions.includes(sv)) {
      process.stderr.write(`lance_write: case ${x.name}: Lance 12 writes it only with storage version ` +
        `${x.lanceVersions.join(', ')}, not ${sv}\n`);
      process.exit(1);
    }
  }
  const dsDir = path.resolve(dsArg);
  const parent = path.dirname(dsDir);
  const name = path.basename(dsDir).slice(0, -'.lance'.length);
  if (fs.existsSync(dsDir)) {
    if (opts.replace) fs.rmSync(dsDir, { recursive: true, force: true });
    else if (!opts.overwrite) {
      process.stderr.write(`lance_write: ${dsDir} exists (use --replace or --overwrite)\n`);
      process.exit(1);
    }
  }
  fs.mkdirSync(parent, { recursive: true });

  // Columns whose Arrow types Lance cannot take are left out, with a note.
  const unsupported = cases.lanceUnsupportedColumns(c.fields);
  const skip = new Set(unsupported.map((x) => x.name));
  for (const u of unsupported) {
    process.stderr.write(`lance_write: note: skipping column "${u.name}" (${u.type}): ${u.reason}\n`);
  }

  // Storage version 2.0 cannot hold null structs: such cases give rows without them (the
  // same rows as `gen_input.js <case> --storage-version 2.0`).
  const rowOpts = { storageVersion: sv };
  for (const x of [c, c2].filter(Boolean)) {
    if (cases.rowsDependOnVersion(x, sv)) {
      process.stderr.write(`lance_write: note: ${x.name}: storage version ${sv} cannot store null structs: ` +
        'writing them as structs of null children (as gen_input.js --storage-version ' + sv + ' prints)\n');
    }
  }
  const rows = c.rows(rowsN === undefined ? c.defaultRows : rowsN, rowOpts);
  if (rows.length === 0) canon.usageError(USAGE, 'cannot create a dataset from 0 rows');
  const k = Math.min(fragments, rows.length);
  const chunks = [];
  for (let i = 0; i < k; i++) {
    chunks.push(rows.slice(Math.floor((i * rows.length) / k), Math.floor(((i + 1) * rows.length) / k)));
  }

  const db = await lancedb.connect(parent);
  const table = await db.createTable(name, cases.buildArrowTable(c.fields, chunks[0], skip), {
    mode: 'overwrite',
    storageOptions: {
      new_table_data_storage_version: sv,
      ...(mp ? { new_table_enable_v2_manifest_paths: mp === 'v2' ? 'true' : 'false' } : {}),
    },
  });
  for (let i = 1; i < chunks.length; i++) await add(table, c.fields, chunks[i], skip, `fragment ${i + 1} of ${c.name}`);
  if (c2) {
    if (c2.spec !== c.spec) {
      process.stderr.write(`lance_write: --append-from ${c2.name}: schema "${c2.spec}" differs from "${c.spec}"\n`);
      process.exit(1);
    }
    const rows2 = c2.rows(appendOffset + (appendRows === undefined ? c2.defaultRows : appendRows), rowOpts).slice(appendOffset);
    if (rows2.length) await add(table, c2.fields, rows2, skip, `appended rows of ${c2.name}`);
  }
  if (opts.delete !== undefined) await table.delete(opts.delete);

  const stats = await table.stats();
  const summary = {
    dataset: dsDir,
    case: c.name,
    storage_version: sv,
    manifest_paths: mp || "v2 (default)",
    version: await table.version(),
    num_rows: await table.countRows(),
    num_fragments: stats.fragmentStats.numFragments,
    skipped_columns: [...skip],
  };
  if (cases.rowsDependOnVersion(c, sv)) summary.rows_variant = 'no_struct_nulls';
  table.close();
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((e) => {
  const lanceErr = /^lance error|^Lance error|LanceError/.test(String(e && e.message));
  process.stderr.write(`lance_write: ${lanceErr ? e.message : (e.stack || e)}\n`);
  process.exit(1);
});
