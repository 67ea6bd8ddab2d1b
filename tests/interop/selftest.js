#!/usr/bin/env node
'use strict';
// Self-test of the Node side of the harness against the REAL Lance, through the CLIs:
//   gen_input -> lance_write (2.0, 2.1, 2.2) -> lance_dump -> compare (must be OK)
// plus multi-fragment / append / delete / old-version reads whose expected rows are
// computed here. It validates the canonical formatting and Lance's write/read paths;
// it does not involve clance. Ends with the line "N passed, N failed".
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const canon = require('./canon.js');
const cases = require('./cases.js');

const USAGE = `usage: node selftest.js [--cases a,b,...] [--versions 2.0,2.1,2.2] [--workdir DIR] [--keep] [--quick]
  --cases     cases to run (default: every case of "gen_input.js --list": matrix, extra and nested)
  --versions  storage versions (default 2.0,2.1,2.2)
  --workdir   where datasets and JSONL files go (default: a fresh temp dir, removed unless --keep)
  --quick     cap every case at 3000 rows`;

const { opts } = canon.parseArgs(process.argv.slice(2),
  { cases: 'value', versions: 'value', workdir: 'value', keep: 'flag', quick: 'flag' }, USAGE);
const caseNames = opts.cases ? opts.cases.split(',') : Object.keys(cases.CASES);
for (const c of caseNames) if (!cases.CASES[c]) canon.usageError(USAGE, `unknown case "${c}"`);
const versions = opts.versions ? opts.versions.split(',') : ['2.0', '2.1', '2.2'];
const work = opts.workdir ? path.resolve(opts.workdir) : fs.mkdtempSync(path.join(os.tmpdir(), 'clance-interop-'));
fs.mkdirSync(work, { recursive: true });
const here = __dirname;

let passed = 0, failed = 0;
const failures = [];

function run(script, args, outFile) {
  const r = spawnSync(process.execPath, [path.join(here, script), ...args], {
    encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', outFile ? fs.openSync(outFile, 'w') : 'pipe', 'pipe'],
  });
  return r;
}

function check(name, fn) {
  const t0 = Date.now();
  let err = null;
  try { err = fn(); } catch (e) { err = e.stack || String(e); }
  const ms = Date.now() - t0;
  if (err) {
    failed++;
    failures.push(name);
    process.stdout.write(`FAIL ${name} (${ms} ms)\n  ${String(err).trim().split('\n').join('\n  ')}\n`);
  } else {
    passed++;
    process.stdout.write(`ok   ${name} (${ms} ms)\n`);
  }
}

function step(script, args, outFile) {
  const r = run(script, args, outFile);
  if (r.status !== 0) {
    throw new Error(`${script} ${args.join(' ')} exited ${r.status}\n${(r.stderr || '') + (r.stdout || '')}`);
  }
  return r;
}

function compare(expFile, actFile, spec) {
  const r = run('compare.js', [expFile, actFile, '--schema', spec, '--max-report', '5']);
  if (r.status !== 0) return `compare exited ${r.status}\n${r.stdout}${r.stderr}`;
  return null;
}

// lance_dump the dataset into `out` and compare it with `expFile`. For a case whose rows Lance
// cannot read back in version v (case.lanceReadFails, a Lance bug), the dump must fail with
// that error (then the check passes, noted in `expectedFailures`), and a dump that works is
// reported so the marker gets removed.
const expectedFailures = [];
function dumpAndCompare(c, v, ds, out, expFile, spec) {
  const lrf = c.lanceReadFails && c.lanceReadFails.versions.includes(v) ? c.lanceReadFails : null;
  if (!lrf) {
    step('lance_dump.js', [ds], out);
    return { err: compare(expFile, out, spec) };
  }
  const r = run('lance_dump.js', [ds], out);
  if (r.status !== 0) {
    if (lrf.pattern.test(r.stderr)) { expectedFailures.push(`${c.name}@${v}`); return { err: null, expectedFailure: true }; }
    return { err: `lance_dump failed, but not with the expected ${lrf.pattern}:\n${r.stderr}` };
  }
  const err = compare(expFile, out, spec);
  return { err: err || `Lance now reads ${c.name} back in ${v} (${lrf.reason}): remove that version from lanceReadFails in cases.js` };
}

function writeExpected(file, fields, rows) {
  fs.writeFileSync(file, rows.map((r) => canon.fmtRow(fields, r) + '\n').join(''));
}

const identical = [];
for (const name of caseNames) {
  const c = cases.getCase(name);
  const n = opts.quick ? Math.min(c.defaultRows, 3000) : c.defaultRows;
  // Expected rows: one file, plus one for each storage version that needs other rows (2.0 for
  // cases with structs: no null structs there).
  const expFiles = {};
  let genErr = null;
  for (const v of versions) {
    const variant = cases.rowsDependOnVersion(c, v) ? v : 'any';
    if (expFiles[variant]) { expFiles[v] = expFiles[variant]; continue; }
    const f = path.join(work, variant === 'any' ? `${name}.jsonl` : `${name}.v${v}.jsonl`);
    const gen = run('gen_input.js', [name, '--rows', String(n), ...(variant === 'any' ? [] : ['--storage-version', v])], f);
    if (gen.status !== 0) { genErr = gen.stderr; break; }
    expFiles[variant] = expFiles[v] = f;
  }
  if (genErr !== null) {
    check(`${name}: gen_input`, () => genErr);
    continue;
  }
  const spec = run('gen_input.js', [name, '--spec']).stdout.trim();
  for (const v of versions) {
    if (c.lanceVersions && !c.lanceVersions.includes(v)) continue; // Lance cannot write it in v
    const expFile = expFiles[v];
    const ds = path.join(work, `${name}_v${v}.lance`);
    const out = path.join(work, `${name}_v${v}.out.jsonl`);
    check(`${name}: lance ${v} write -> lance read`, () => {
      step('lance_write.js', [ds, name, '--storage-version', v, '--rows', String(n), '--replace']);
      const info = JSON.parse(step('lance_dump.js', [ds, '--info']).stdout);
      const specBack = info.schema.map((f) => `${f.name}:${f.type}`).join(',');
      if (specBack !== spec) return `--info schema "${specBack}" != case spec "${spec}"`;
      if (info.num_rows !== n) return `--info num_rows ${info.num_rows} != ${n}`;
      const { err, expectedFailure } = dumpAndCompare(c, v, ds, out, expFile, spec);
      if (!err && !expectedFailure && fs.readFileSync(expFile).equals(fs.readFileSync(out))) identical.push(`${name}@${v}`);
      return err;
    });
  }
}

// Multi-fragment + append + delete + time travel, on all_types (first two versions asked for).
if (caseNames.includes('all_types')) {
  const c = cases.getCase('all_types');
  const n = 3000;
  const rows = c.rows(n);
  const appendRows = c.rows(8 + 100).slice(8); // rows 8..107 (rows 0-7 hold NaN vectors: add() rejects those)
  for (const v of versions) {
    const ds = path.join(work, `all_types_frag_v${v}.lance`);
    check(`all_types: lance ${v} 4 fragments + append + delete "id % 7 = 0" + --version`, () => {
      const w = JSON.parse(step('lance_write.js', [ds, 'all_types', '--storage-version', v, '--rows', String(n), '--fragments', '4',
        '--append-from', 'all_types', '--append-rows', '100', '--append-offset', '8', '--delete', 'id % 7 = 0', '--replace']).stdout);
      if (w.num_fragments !== 5) return `expected 5 fragments, got ${w.num_fragments}`;
      if (w.version !== 6) return `expected version 6, got ${w.version}`;
      const all = rows.concat(appendRows);
      const kept = all.filter((r) => r.id % 7n !== 0n);
      const exp = path.join(work, `all_types_frag_v${v}.exp.jsonl`);
      writeExpected(exp, c.fields, kept);
      const out = path.join(work, `all_types_frag_v${v}.out.jsonl`);
      step('lance_dump.js', [ds], out);
      let err = compare(exp, out, c.spec);
      if (err) return `latest: ${err}`;
      // version 1 = the first add (rows 0..749); version 5 = all rows before the delete
      for (const [ver, vrows] of [[1, rows.slice(0, 750)], [5, all]]) {
        const e = path.join(work, `all_types_frag_v${v}.exp${ver}.jsonl`);
        const o = path.join(work, `all_types_frag_v${v}.out${ver}.jsonl`);
        writeExpected(e, c.fields, vrows);
        step('lance_dump.js', [ds, '--version', String(ver)], o);
        err = compare(e, o, c.spec);
        if (err) return `--version ${ver}: ${err}`;
      }
      // projection, in the order asked for
      const pf = canon.parseSpec('v8:vector(float32,8),id:int64!,s:string');
      const e = path.join(work, `all_types_frag_v${v}.exp_cols.jsonl`);
      const o = path.join(work, `all_types_frag_v${v}.out_cols.jsonl`);
      writeExpected(e, pf, kept);
      step('lance_dump.js', [ds, '--columns', 'v8,id,s'], o);
      err = compare(e, o, canon.specToString(pf));
      return err ? `--columns: ${err}` : null;
    });
  }
}

// Nested cases: 3 fragments (as interop.js writes them) + an append of the case's first 50 rows
// (rows 0-7 hold the edge cases) + delete "id % 5 = 0", compared with rows computed here.
for (const name of caseNames) {
  const c = cases.getCase(name);
  if (c.kind !== 'nested' || name === 'big_nested') continue;
  const n = Math.min(c.defaultRows, 3000);
  for (const v of versions) {
    if (c.lanceVersions && !c.lanceVersions.includes(v)) continue;
    const ds = path.join(work, `${name}_frag_v${v}.lance`);
    check(`${name}: lance ${v} 3 fragments + append + delete "id % 5 = 0"`, () => {
      const w = JSON.parse(step('lance_write.js', [ds, name, '--storage-version', v, '--rows', String(n), '--fragments', '3',
        '--append-from', name, '--append-rows', '50', '--delete', 'id % 5 = 0', '--replace']).stdout);
      if (w.num_fragments !== 4) return `expected 4 fragments, got ${w.num_fragments}`;
      const all = c.rows(n, { storageVersion: v }).concat(c.rows(50, { storageVersion: v }));
      const exp = path.join(work, `${name}_frag_v${v}.exp.jsonl`);
      writeExpected(exp, c.fields, all.filter((r) => r.id % 5n !== 0n));
      const out = path.join(work, `${name}_frag_v${v}.out.jsonl`);
      return dumpAndCompare(c, v, ds, out, exp, c.spec).err;
    });
  }
}

// Many deletions (roaring-bitmap .bin deletion files) and v1 manifest paths, on big.
if (caseNames.includes('big')) {
  const c = cases.getCase('big');
  const n = 30000;
  const rows = c.rows(n);
  for (const v of versions) {
    const ds = path.join(work, `big_del_v${v}.lance`);
    check(`big: lance ${v} 2 fragments + delete "id % 3 = 0" (bitmap deletions) + v1 manifest paths`, () => {
      step('lance_write.js', [ds, 'big', '--storage-version', v, '--rows', String(n), '--fragments', '2',
        '--delete', 'id % 3 = 0', '--manifest-paths', 'v1', '--replace']);
      const dels = fs.readdirSync(path.join(ds, '_deletions'));
      if (!dels.some((f) => f.endsWith('.bin'))) return `expected .bin deletion files, got ${dels.join(',')}`;
      if (!fs.existsSync(path.join(ds, '_versions', '3.manifest'))) return 'expected _versions/3.manifest (v1 naming)';
      const exp = path.join(work, `big_del_v${v}.exp.jsonl`);
      writeExpected(exp, c.fields, rows.filter((r) => r.id % 3n !== 0n));
      const out = path.join(work, `big_del_v${v}.out.jsonl`);
      step('lance_dump.js', [ds], out);
      return compare(exp, out, c.spec);
    });
  }
}

process.stdout.write(`byte-identical to gen_input: ${identical.length ? identical.join(' ') : '(none)'}\n`);
if (expectedFailures.length) {
  process.stdout.write(`Lance could not read back, as expected (Lance bug, cases.js lanceReadFails): ${expectedFailures.join(' ')}\n`);
}
if (failures.length) process.stdout.write(`failed: ${failures.join('; ')}\n`);
if (!opts.keep && !opts.workdir) fs.rmSync(work, { recursive: true, force: true });
else process.stdout.write(`work dir: ${work}\n`);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed ? 1 : 0);
