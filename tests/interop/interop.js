#!/usr/bin/env node
// Interop tests between clance and the real Lance (@lancedb/lancedb 0.39 = Lance 12).
//
//   node interop.js --clance PATH [--direction lance-to-clance|clance-to-lance|mixed|all]
//                   [--versions 2.0,2.1,2.2] [--cases a,b] [--workdir DIR] [--keep]
//
// lance-to-clance: Lance writes each case, clance scans it, values must equal the case rows.
// clance-to-lance: clance writes each case (two workers + one commit), Lance reads it back.
// mixed: versions made alternately by clance and Lance on one dataset, each read by the other.
// (--cases tags runs only the clance-to-lance tags and cleanup check.)
// Prints one line per check and a final "N passed, N failed, N expected failures" line;
// exits 1 when any check failed.
'use strict';

const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const HERE = __dirname;

// Datasets written by Lance are the same for every clance build: with
// CLANCE_INTEROP_CACHE set they are kept there (keyed by the harness's
// sources) and reused, e.g. by the ASan build after the release build.
const CACHE = process.env.CLANCE_INTEROP_CACHE
  ? path.join(process.env.CLANCE_INTEROP_CACHE, require('crypto').createHash('sha256')
    .update(['cases.js', 'canon.js', 'gen_input.js', 'lance_write.js', 'arrow_large_list.js']
      .map((f) => (fs.existsSync(path.join(HERE, f)) ? fs.readFileSync(path.join(HERE, f)) : '')).join('\0'))
    .digest('hex').slice(0, 16))
  : null;

// A dataset written by lance_write.js with these arguments, from the cache
// when possible (written to a temporary name and renamed into place).
// Lance's own description of a dataset (cached next to cached datasets).
function lanceInfo(ds) {
  const f = `${ds}.info.json`;
  if (CACHE && ds.startsWith(CACHE) && fs.existsSync(f)) return JSON.parse(fs.readFileSync(f, 'utf8'));
  const text = node('lance_dump.js', [ds, '--info']);
  if (CACHE && ds.startsWith(CACHE)) fs.writeFileSync(f, text);
  return JSON.parse(text);
}

function lanceDataset(work, name, args) {
  if (!CACHE) {
    const ds = path.join(work, name);
    node('lance_write.js', [ds, ...args, '--replace']);
    return ds;
  }
  const ds = path.join(CACHE, name);
  if (fs.existsSync(ds)) return ds;
  fs.mkdirSync(CACHE, { recursive: true });
  const tmp = path.join(CACHE, `tmp-${process.pid}-${name}`);
  node('lance_write.js', [tmp, ...args, '--replace']);
  fs.renameSync(tmp, ds);
  return ds;
}

// Cases whose Lance-written form uses encodings or types clance does not read yet.
// Each entry names the issue that covers it; such checks are reported as expected
// failures (and flagged if they unexpectedly pass, so the list stays honest).
const EXPECTED_FAILURES = {
  // 'lance-to-clance:<case>:<version>': 'issue #4: <reason>'
};

function parseArgs(argv) {
  const o = { direction: 'all', versions: ['2.0', '2.1', '2.2'], cases: null, workdir: null, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--clance') o.clance = path.resolve(val());
    else if (a === '--direction') o.direction = val();
    else if (a === '--versions') o.versions = val().split(',');
    else if (a === '--cases') o.cases = val().split(',');
    else if (a === '--workdir') o.workdir = val();
    else if (a === '--keep') o.keep = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!o.clance) throw new Error('--clance PATH is required');
  return o;
}

function node(script, args, opts = {}) {
  return execFileSync(process.execPath, [path.join(HERE, script), ...args], {
    encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'], ...opts,
  });
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...opts });
  if (r.status !== 0) {
    const e = new Error(`${path.basename(cmd)} ${args.join(' ')} exited ${r.status}: ${(r.stderr || '').trim().slice(0, 2000)}`);
    e.result = r;
    throw e;
  }
  return r.stdout;
}

// The rows of a case as Lance can store them in storage version v (2.0 has no
// null structs: gen_input turns them into structs of nulls), cached per run.
function expectedRows(work, name, v) {
  const f = path.join(CACHE || work, `${name}.${v}.expected.jsonl`);
  if (CACHE) fs.mkdirSync(CACHE, { recursive: true });
  if (!fs.existsSync(f)) fs.writeFileSync(f, node('gen_input.js', [name, '--storage-version', v]));
  return f;
}

// Can clance write the case in storage version v? Flat columns and structs of them (null
// structs in 2.1+ only, and the 2.0 rows have none), and, in 2.1+, top-level lists of a flat
// item other than bool. Not yet: lists in 2.0, nested lists, lists in or of structs,
// dictionaries, packed structs.
function clanceWrites(c, v) {
  if (caseExtras(c).packed || /(^|[,(:])dictionary\(/.test(c.spec)) return false;
  const flat = (t) => !['list', 'large_list', 'struct', 'dictionary', 'map'].includes(t.id);
  const underStruct = (t) => (t.id === 'struct' ? t.fields.every((f) => underStruct(f.type)) : flat(t));
  return require('./canon.js').parseSpec(c.spec).every((f) => {
    const t = f.type;
    if (t.id === 'list' || t.id === 'large_list') return v !== '2.0' && flat(t.item) && t.item.id !== 'bool';
    return underStruct(t);
  });
}

function caseList() {
  return node('gen_input.js', ['--list']).trim().split('\n').map((l) => {
    const [name, rows, spec, kind, versions] = l.split('\t');
    return { name, rows: Number(rows), spec, kind, versions: versions.split(',') };
  });
}

let passed = 0, failed = 0, xfailed = 0;
const failures = [];

function check(id, fn) {
  const xf = EXPECTED_FAILURES[id];
  const t0 = Date.now();
  try {
    fn();
    if (xf) {
      failed++;
      failures.push(`${id}: passed but is listed as an expected failure (${xf}); remove it from the list`);
      console.log(`XPASS ${id}`);
    } else {
      passed++;
      console.log(`ok    ${id} (${Date.now() - t0} ms)`);
    }
  } catch (e) {
    if (xf) {
      xfailed++;
      console.log(`xfail ${id}: ${xf}`);
    } else {
      failed++;
      failures.push(`${id}: ${e.message}`);
      console.log(`FAIL  ${id}: ${e.message.split('\n')[0]}`);
    }
  }
}

function compare(expectedFile, actualFile, spec) {
  // Byte-identical output needs no value-by-value comparison.
  if (fs.readFileSync(expectedFile).equals(fs.readFileSync(actualFile))) return;
  const r = spawnSync(process.execPath, [path.join(HERE, 'compare.js'), expectedFile, actualFile, '--schema', spec],
    { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`compare: ${(r.stdout + r.stderr).trim().slice(0, 3000)}`);
}

// Deterministic positions, some repeated and out of order.
function takePositions(n, count) {
  const out = [];
  let x = 12345;
  for (let i = 0; i < count && n > 0; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(x % n);
  }
  if (n > 0) out.push(0, n - 1, out[0]);
  return out;
}

// clance take of positions must equal those lines of the expected rows.
function checkTake(o, work, tag, ds, expectedLines, spec) {
  const pos = takePositions(expectedLines.length, 300);
  const want = path.join(work, `${tag}.take.expected.jsonl`);
  fs.writeFileSync(want, pos.map((p) => expectedLines[p] + '\n').join(''));
  const got = path.join(work, `${tag}.take.jsonl`);
  fs.writeFileSync(got, run(o.clance, ['take', ds, '--rows', pos.join(',')]));
  compare(want, got, spec);
}

// The expected lines with only `fields` as keys, in that order (numbers keep their exact text).
function projectLines(expectedLines, fields) {
  const canon = require('./canon.js');
  const text = (x) => (x instanceof Map ? `{${[...x].map(([k, y]) => `${JSON.stringify(k)}:${text(y)}`).join(',')}}`
    : Array.isArray(x) ? `[${x.map(text).join(',')}]` : x instanceof canon.Num ? x.raw : JSON.stringify(x));
  return expectedLines.map((l) => {
    const m = canon.parseJsonExact(l);
    return text(new Map(fields.map((f) => [f.name, m.get(f.name)]))) + '\n';
  }).join('');
}

// Nested cases: a projected scan (columns in reverse order) must give those columns of the
// expected rows.
function checkProjection(o, work, tag, ds, expectedLines, spec) {
  const canon = require('./canon.js');
  const rev = canon.parseSpec(spec).slice().reverse();
  const want = path.join(work, `${tag}.cols.expected.jsonl`);
  fs.writeFileSync(want, projectLines(expectedLines, rev));
  const got = path.join(work, `${tag}.cols.jsonl`);
  fs.writeFileSync(got, run(o.clance, ['scan', ds, '--columns', rev.map((f) => f.name).join(',')]));
  compare(want, got, canon.specToString(rev));
}

// A filtered scan on id (a range of 10 % of the rows and one more row: most pages hold no
// match, so the other columns are read for the matching rows only) must give those rows,
// with all columns and with the columns other than id.
function checkFilter(o, work, tag, ds, expectedLines, spec) {
  const canon = require('./canon.js');
  const fields = canon.parseSpec(spec);
  if (!fields.some((f) => f.name === 'id')) return;
  const rows = expectedLines.map((l) => JSON.parse(l));
  const lo = Math.floor(rows.length / 3), hi = lo + Math.floor(rows.length / 10);
  const match = expectedLines.filter((l, i) => rows[i].id === 2 || (rows[i].id >= lo && rows[i].id < hi));
  const filter = `id >= ${lo} AND id < ${hi} OR id = 2`;
  const wantF = path.join(work, `${tag}.filter.expected.jsonl`);
  fs.writeFileSync(wantF, match.map((l) => l + '\n').join(''));
  const gotF = path.join(work, `${tag}.filter.jsonl`);
  fs.writeFileSync(gotF, run(o.clance, ['scan', ds, '--filter', filter, '--batch-size', '700']));
  compare(wantF, gotF, spec);
  const others = fields.filter((f) => f.name !== 'id');
  if (!others.length) return;
  const wantO = path.join(work, `${tag}.filter-cols.expected.jsonl`);
  fs.writeFileSync(wantO, projectLines(match, others));
  const gotO = path.join(work, `${tag}.filter-cols.jsonl`);
  fs.writeFileSync(gotO, run(o.clance, ['scan', ds, '--filter', filter, '--columns', others.map((f) => f.name).join(',')]));
  compare(wantO, gotO, canon.specToString(others));
}

function lanceToClance(o, work, c, v) {
  const ds = lanceDataset(work, `l2c-${c.name}-${v}.lance`, [c.name, '--storage-version', v, '--fragments', '3']);
  const expected = expectedRows(work, c.name, v);
  const actual = path.join(work, `l2c-${c.name}-${v}.jsonl`);
  fs.writeFileSync(actual, run(o.clance, ['scan', ds, '--format', 'jsonl']));
  compare(expected, actual, c.spec);
  // clance's info agrees with Lance's on rows and version.
  const info = JSON.parse(run(o.clance, ['info', ds]));
  const linfo = lanceInfo(ds);
  if (info.num_rows !== linfo.num_rows || info.version !== linfo.version)
    throw new Error(`info mismatch: clance ${info.num_rows} rows v${info.version}, Lance ${linfo.num_rows} rows v${linfo.version}`);
  if (info.data_storage_version !== v) throw new Error(`clance reports storage ${info.data_storage_version}, expected ${v}`);
  const lines = fs.readFileSync(expected, 'utf8').split('\n').filter((l) => l.length);
  checkTake(o, work, `l2c-${c.name}-${v}`, ds, lines, c.spec);
  if (c.kind === 'nested') checkProjection(o, work, `l2c-${c.name}-${v}`, ds, lines, c.spec);
  checkFilter(o, work, `l2c-${c.name}-${v}`, ds, lines, c.spec);
}

// Lance deletes rows (few: .arrow deletion files; many: Roaring .bin files),
// clance must skip exactly those rows and count the rest.
function lanceDeletes(o, work, caseName, pred, v) {
  const c = caseList().find((x) => x.name === caseName);
  const ds = lanceDataset(work, `del-${caseName}-${v}.lance`,
    [caseName, '--storage-version', v, '--fragments', '3', '--delete', pred.sql, ...(pred.lanceArgs || [])]);
  if (pred.manifestNames) {
    const names = fs.readdirSync(path.join(ds, '_versions')).filter((f) => f.endsWith('.manifest'));
    if (!names.length || !names.every((f) => pred.manifestNames.test(f)))
      throw new Error(`expected manifest names like ${pred.manifestNames}, found ${names.join(' ')}`);
  }
  const expected = path.join(work, `del-${caseName}-${v}.expected.jsonl`);
  const rows = fs.readFileSync(expectedRows(work, caseName, v), 'utf8').split('\n').filter((l) => l.length);
  fs.writeFileSync(expected, rows.filter((l) => !pred.js(JSON.parse(l))).map((l) => l + '\n').join(''));
  const actual = path.join(work, `del-${caseName}-${v}.jsonl`);
  fs.writeFileSync(actual, run(o.clance, ['scan', ds]));
  compare(expected, actual, c.spec);
  const info = JSON.parse(run(o.clance, ['info', ds]));
  const want = rows.length - rows.filter((l) => pred.js(JSON.parse(l))).length;
  if (info.num_rows !== want) throw new Error(`clance counts ${info.num_rows} rows, expected ${want}`);
  const live = fs.readFileSync(expected, 'utf8').split('\n').filter((l) => l.length);
  checkTake(o, work, `del-${caseName}-${v}`, ds, live, c.spec);
  checkFilter(o, work, `del-${caseName}-${v}`, ds, live, c.spec);
  const kinds = fs.readdirSync(path.join(ds, '_deletions')).map((f) => path.extname(f));
  if (!kinds.includes(pred.ext)) throw new Error(`expected ${pred.ext} deletion files, found ${kinds.join(' ')}`);
}

const DELETES = [
  { caseName: 'all_types', sql: 'id % 7 = 0', js: (r) => r.id % 7 === 0, ext: '.arrow' },
  // ... with V1 manifest names (_versions/<version>.manifest), which clance must find too.
  { caseName: 'big', sql: 'id % 3 = 0', js: (r) => r.id % 3 === 0, ext: '.bin',
    lanceArgs: ['--manifest-paths', 'v1'], manifestNames: /^[0-9]{1,19}\.manifest$/ },
  // Every row of the first fragment: Lance removes that fragment.
  { caseName: 'low_cardinality', sql: 'id < 3000', js: (r) => r.id < 3000, ext: '.arrow' },
];

// A history made by every Lance operation (appends, deletes, updates, added
// columns, compaction, an index, a tag): clance reads every version exactly
// as Lance does, including versions whose fragments have several data files
// or lack a column.
function lanceOps(o, work, v, stable) {
  const ds = path.join(work, `ops-${v}${stable ? '-stable' : ''}.lance`);
  node('lance_ops.js', [ds, '--storage-version', v, ...(stable ? ['--stable-row-ids'] : [])]);
  const prefix = path.join(work, `ops-${v}${stable ? '-stable' : ''}`);
  for (const version of JSON.parse(node('lance_dump.js', [ds, '--all-versions', prefix]))) {
    const info = JSON.parse(fs.readFileSync(`${prefix}.${version}.info.json`, 'utf8'));
    const spec = info.schema.map((f) => `${f.name}:${f.type}`).join(',');
    const want = `${prefix}.${version}.jsonl`;
    const got = path.join(work, `ops-${v}-${version}.clance.jsonl`);
    fs.writeFileSync(got, run(o.clance, ['scan', ds, '--version', String(version)]));
    try {
      compare(want, got, spec);
    } catch (e) {
      throw new Error(`version ${version}: ${e.message}`);
    }
    const count = run(o.clance, ['count', ds, '--version', String(version)]).trim();
    if (Number(count) !== info.num_rows) throw new Error(`version ${version}: clance counts ${count}, Lance ${info.num_rows}`);
  }
}

// What cases.js says beyond gen_input --list: extra write-fragments arguments and the page
// encodings clance must choose (clanceWriteArgs, clancePages).
function caseExtras(c) {
  return require('./cases.js').CASES[c.name] || {};
}

// Every page of the columns a case names in clancePages[v] must match its pattern, as
// bench/page_dump (built next to the clance binary) describes the page: the encodings
// clance chose, not only values Lance can read.
function checkClancePages(o, ds, c, v) {
  const want = (caseExtras(c).clancePages || {})[v];
  if (!want) return;
  const dump = path.join(path.dirname(path.dirname(o.clance)), 'bench', 'page_dump');
  if (!fs.existsSync(dump)) throw new Error(`${dump} is missing: build the bench directory to check page encodings`);
  const columns = {};
  let col = null;
  for (const line of run(dump, [ds]).split('\n')) {
    const m = /^column (\d+):/.exec(line);
    if (m) col = columns[Number(m[1])] = [];
    else if (col && /^\s+\d+ x/.test(line)) col.push(line.replace(/^\s+\d+ x\s+\d+ B\s+/, ''));
    else col = null;
  }
  const names = require('./canon.js').parseSpec(c.spec).map((f) => f.name);
  for (const [name, re] of Object.entries(want)) {
    const pages = columns[names.indexOf(name)] || [];
    const bad = pages.filter((p) => !re.test(p));
    if (!pages.length || bad.length)
      throw new Error(`clance's pages of column ${name} (${v}) should match ${re}: ${bad.concat(pages.length ? [] : ['no pages']).join(' | ')}`);
  }
}

// Lance writes the structs case in 4 fragments; clance appends the same rows to it (two
// workers, one Append commit) and then compacts it (optimize: struct columns read from Lance's
// files and rewritten by clance). Lance must read every version as the rows say.
function structsRewrite(o, work, v) {
  const ds = path.join(work, `srw-${v}.lance`);
  fs.rmSync(ds, { recursive: true, force: true });
  node('lance_write.js', [ds, 'structs', '--storage-version', v, '--fragments', '4']);
  const input = expectedRows(work, 'structs', v);
  const lines = fs.readFileSync(input, 'utf8').split('\n').filter((l) => l.length);
  const spec = require('./cases.js').CASES.structs.spec;
  const frags = [0, 1].map((k) => {
    const f = path.join(work, `srw-${v}.part${k}.jsonl`);
    fs.writeFileSync(f, lines.filter((_, i) => i % 2 === k).join('\n') + '\n');
    const out = path.join(work, `srw-${v}.frags${k}.json`);
    run(o.clance, ['write-fragments', ds, '--schema', spec, '--input', f, '--format', 'jsonl', '--output', out]);
    return out;
  });
  const v0 = JSON.parse(node('lance_dump.js', [ds, '--info'])).version; // one per add()
  run(o.clance, ['commit', ds, '--operation', 'append', '--read-version', String(v0), ...frags]);
  const want = path.join(work, `srw-${v}.want.jsonl`);
  const both = lines.concat(lines.filter((_, i) => i % 2 === 0), lines.filter((_, i) => i % 2 === 1));
  fs.writeFileSync(want, both.join('\n') + '\n');
  const check2 = (what) => {
    const got = path.join(work, `srw-${v}.${what}.lance.jsonl`);
    fs.writeFileSync(got, node('lance_dump.js', [ds]));
    try { compare(want, got, spec); } catch (e) { throw new Error(`after ${what}: ${e.message}`); }
  };
  check2('append');
  run(o.clance, ['optimize', ds]);
  check2('optimize');
  const info = JSON.parse(node('lance_dump.js', [ds, '--info']));
  if (info.version !== v0 + 2 || info.num_rows !== 2 * lines.length || info.num_fragments !== 1)
    throw new Error(`Lance sees version ${info.version} with ${info.num_rows} rows in ` +
      `${info.num_fragments} fragments after optimize (want ${v0 + 2}, ${2 * lines.length}, 1)`);
}

function clanceToLance(o, work, c, v) {
  const ds = path.join(work, `c2l-${c.name}-${v}.lance`);
  fs.rmSync(ds, { recursive: true, force: true });
  const input = expectedRows(work, c.name, v);
  // Two workers, each with half of the rows, several fragments each.
  const lines = fs.readFileSync(input, 'utf8').split('\n').filter((l) => l.length);
  const half = Math.ceil(lines.length / 2);
  const parts = [lines.slice(0, half), lines.slice(half)];
  const frags = [];
  parts.forEach((p, k) => {
    const f = path.join(work, `c2l-${c.name}-${v}.part${k}.jsonl`);
    fs.writeFileSync(f, p.join('\n') + (p.length ? '\n' : ''));
    const out = path.join(work, `c2l-${c.name}-${v}.frags${k}.json`);
    const perFile = Math.max(1, Math.ceil(p.length / 2));
    run(o.clance, ['write-fragments', ds, '--schema', c.spec, '--input', f, '--format', 'jsonl',
      '--data-storage-version', v, '--max-rows-per-file', String(perFile), '--output', out,
      ...(caseExtras(c).clanceWriteArgs || [])]);
    frags.push(out);
  });
  const version = run(o.clance, ['commit', ds, '--operation', 'overwrite', '--read-version', '0',
    '--schema', c.spec, ...frags]).trim();
  if (version !== '1') throw new Error(`commit printed version ${version}`);
  checkClancePages(o, ds, c, v);
  const actual = path.join(work, `c2l-${c.name}-${v}.lance.jsonl`);
  fs.writeFileSync(actual, node('lance_dump.js', [ds]));
  compare(input, actual, c.spec);
  const linfo = JSON.parse(node('lance_dump.js', [ds, '--info']));
  if (linfo.version !== 1 || linfo.num_rows !== lines.length)
    throw new Error(`Lance sees version ${linfo.version} with ${linfo.num_rows} rows`);
  // Lance's view of the schema equals ours.
  if (linfo.schema.map((f) => `${f.name}:${f.type}`).join(',') !== normaliseSpec(c.spec))
    throw new Error(`Lance schema ${JSON.stringify(linfo.schema)} differs from ${c.spec}`);
}

// A history of every operation clance commits, on a clance-written all_types
// dataset: Lance must read every version exactly as clance does, and then
// Lance appends on top and clance reads that too.
function clanceOps(o, work, v) {
  const c = caseList().find((x) => x.name === 'all_types');
  clanceToLance(o, work, c, v);
  const src = path.join(work, `c2l-${c.name}-${v}.lance`);
  const ds = path.join(work, `cops-${v}.lance`);
  fs.rmSync(ds, { recursive: true, force: true });
  fs.cpSync(src, ds, { recursive: true });
  const cl = (...args) => run(o.clance, args).trim();
  // Extra columns by position (one value per live row) and by key.
  const extra = (name, n) => {
    const f = path.join(work, `cops-${v}-${name}.jsonl`);
    fs.writeFileSync(f, Array.from({ length: n }, (_, i) => JSON.stringify({ [name]: i % 7 === 0 ? null : i * 3 }) + '\n').join(''));
    return f;
  };
  const keyed = path.join(work, `cops-${v}-keyed.jsonl`);
  fs.writeFileSync(keyed, Array.from({ length: 500 }, (_, i) => JSON.stringify({ id: i * 5, tag: `t${i}` }) + '\n').join(''));
  cl('delete', ds, '--where', 'id = 5 OR id = 97 OR id = 1234 OR id = 2999'); // few: .arrow files
  cl('delete', ds, '--where', 'id >= 2000 AND id < 2600');      // many rows: .bin
  cl('update', ds, '--set', "i32 = -7, s = 'updated', f64 = NULL", '--where', 'id > 100 AND id <= 130');
  const live = Number(cl('count', ds));
  cl('add-columns', ds, '--schema', 'extra:int64', '--input', extra('extra', live));
  cl('add-columns', ds, '--schema', 'tag:string', '--input', keyed, '--key', 'id');
  cl('drop-columns', ds, 'lbin', 'v128');
  cl('alter-column', ds, 'i16', '--rename', 'i16_renamed');
  cl('config', ds, 'set', 'clance.test=1');
  cl('delete', ds, '--where', 'id < 1000');                     // removes whole fragments
  cl('optimize', ds, '--target-rows-per-fragment', '700');      // Rewrite: merge + drop deletions
  cl('restore', ds, '3');
  // Lance continues the history; clance reads its version too.
  // Rows past the special ones (Lance's add refuses NaN in vectors).
  node('lance_append.js', [ds, 'all_types', '--rows', '50', '--from', '100']);
  // Compaction over Lance's fragment and ours (deletion vectors materialised).
  cl('optimize', ds);
  // Lance reads every version in one run.
  const prefix = path.join(work, `cops-${v}`);
  const versions = JSON.parse(node('lance_dump.js', [ds, '--all-versions', prefix]));
  for (const ver of versions) {
    const info = JSON.parse(fs.readFileSync(`${prefix}.${ver}.info.json`, 'utf8'));
    const spec = info.schema.map((f) => `${f.name}:${f.type}`).join(',');
    const want = `${prefix}.${ver}.jsonl`;
    const got = path.join(work, `cops-${v}-${ver}.clance.jsonl`);
    fs.writeFileSync(got, run(o.clance, ['scan', ds, '--version', String(ver)]));
    try {
      compare(want, got, spec);
    } catch (e) {
      throw new Error(`version ${ver}: ${e.message}`);
    }
  }
  if (versions.length < 12) throw new Error(`expected at least 12 versions, Lance lists ${versions.length}`);
}

// Tags and cleanup against the real Lance: each reads the other's tags
// (checkout by tag gives the same rows), both write the same tag JSON, and
// after `clance cleanup` (and gc) Lance still reads the latest and the tagged
// versions. Lance steps are batched: each Lance start costs a second.
function tagsCleanup(o, work, v) {
  const ds = path.join(work, `tags-${v}.lance`);
  fs.rmSync(ds, { recursive: true, force: true });
  const spec = 'a:int32,b:string';
  const rows = (name, text) => { const f = path.join(work, `tags-${v}.${name}.jsonl`); fs.writeFileSync(f, text); return f; };
  const seedRows = '{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n{"a":3,"b":"z"}\n';
  const lastRows = '{"a":9,"b":"last"}\n';
  const commit = (op, readVersion, input) => {
    const f = path.join(work, `tags-${v}.${readVersion}.json`);
    run(o.clance, ['write-fragments', ds, '--schema', spec, '--input', input, '--data-storage-version', v, '--output', f]);
    return run(o.clance, ['commit', ds, '--operation', op, '--read-version', String(readVersion), '--schema', spec, f]).trim();
  };
  const cl = (...args) => run(o.clance, args).trim();
  const lance = (...steps) => JSON.parse(node('lance_tags.js', [ds, ...steps]));
  const same = (want, got, what) => {
    const x = rows(`${what.replace(/\W+/g, '_')}.want`, want), y = rows(`${what.replace(/\W+/g, '_')}.got`, got);
    try { compare(x, y, spec); } catch (e) { throw new Error(`${what}: ${e.message}`); }
  };
  commit('overwrite', 0, rows('seed', seedRows));                       // version 1 (clance)
  node('lance_append.js', [ds, 'seed']);                                // version 2 (Lance)
  commit('append', 2, rows('third', '{"a":4,"b":null}\n'));              // version 3 (clance)
  // clance tags, Lance lists and checks out; Lance tags.
  if (cl('tag', 'create', ds, 'by-clance', '--version', '1') !== '1') throw new Error('tag create did not print 1');
  const [lanceTags, tagged1, , rows2] = lance('list', 'scan:by-clance', 'create:by-lance:2', 'rows:2');
  if (JSON.stringify(lanceTags) !== '{"by-clance":1}') throw new Error(`Lance lists tags ${JSON.stringify(lanceTags)}`);
  same(seedRows, tagged1, 'Lance checkout of the clance tag');
  // clance lists and scans Lance's tag.
  const listed = cl('tag', 'list', ds).split('\n').map((l) => JSON.parse(l));
  const theirs = listed.find((t) => t.name === 'by-lance');
  const m2 = path.join(ds, '_versions', '18446744073709551613.manifest');
  if (listed.length !== 2 || !theirs || theirs.version !== 2 || theirs.manifest_size !== fs.statSync(m2).size)
    throw new Error(`clance lists ${JSON.stringify(listed)}`);
  same(rows2, cl('scan', ds, '--tag', 'by-lance') + '\n', 'clance scan --tag of the Lance tag');
  // Both tag files have the same bytes apart from the values.
  const shape = (name) => fs.readFileSync(path.join(ds, '_refs', 'tags', `${name}.json`), 'utf8')
    .replace(/"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"/g, '"T"').replace(/\d+/g, 'N');
  if (shape('by-clance') !== shape('by-lance'))
    throw new Error(`tag JSON differs: clance ${JSON.stringify(shape('by-clance'))}, Lance ${JSON.stringify(shape('by-lance'))}`);
  // Overwrite, then clean up everything old but the tagged versions.
  commit('overwrite', 3, rows('last', lastRows));                       // version 4
  cl('cleanup', ds, '--older-than', '0s', '--keep-tagged');
  const [latest, kept, versions] = lance('rows', 'scan:by-clance', 'versions', 'delete:by-lance');
  same(lastRows, latest, 'Lance reads the latest after cleanup');
  same(seedRows, kept, 'Lance reads a kept tagged version');
  if (versions.join(',') !== '1,2,4') throw new Error(`Lance lists versions ${versions} after cleanup`);
  // Without tags only the latest stays; gc takes what the first cleanup had
  // to leave (files younger than the tagged version 1).
  cl('tag', 'delete', ds, 'by-clance');
  const out = cl('cleanup', ds, '--older-than', '0s', '--json');
  if (JSON.parse(out).old_versions !== 2) throw new Error(`cleanup: ${out}`);
  cl('gc', ds, '--older-than', '0s');
  const fsck = cl('fsck', ds);
  if (!/ 0 problems, 0 orphans/.test(fsck)) throw new Error(`fsck after cleanup and gc: ${fsck}`);
  const [finalVersions, finalRows] = lance('versions', 'rows');
  if (finalVersions.join(',') !== '4') throw new Error(`Lance lists versions ${finalVersions} at the end`);
  same(lastRows, finalRows, 'Lance reads the latest after cleanup and gc');
}

function normaliseSpec(spec) {
  // lance_dump prints the canonical spellings of the harness.
  return spec;
}

// Versions alternately made by clance and Lance: clance creates, Lance appends,
// clance appends (rebased over nothing), Lance reads every version and clance too.
function mixed(o, work, v) {
  const ds = path.join(work, `mixed-${v}.lance`);
  fs.rmSync(ds, { recursive: true, force: true });
  const seed = path.join(work, 'seed.jsonl');
  fs.writeFileSync(seed, '{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n{"a":3,"b":"z"}\n');
  const f1 = path.join(work, `mixed-${v}.f1.json`);
  run(o.clance, ['write-fragments', ds, '--schema', 'a:int32,b:string', '--input', seed,
    '--data-storage-version', v, '--output', f1]);
  run(o.clance, ['commit', ds, '--operation', 'overwrite', '--read-version', '0', '--schema', 'a:int32,b:string', f1]);
  // Lance appends to the clance-made dataset (rebasing over our transaction record).
  node('lance_append.js', [ds, 'seed']);
  const third = path.join(work, 'third.jsonl');
  fs.writeFileSync(third, '{"a":4,"b":null}\n');
  const f3 = path.join(work, `mixed-${v}.f3.json`);
  run(o.clance, ['write-fragments', ds, '--schema', 'a:int32,b:string', '--input', third, '--output', f3]);
  // Prepared against version 1 but committed after Lance's version 2: rebased.
  const ver = run(o.clance, ['commit', ds, '--operation', 'append', '--read-version', '1', f3]).trim();
  if (ver !== '3') throw new Error(`append committed as version ${ver}, expected 3`);
  const want = '{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n{"a":3,"b":"z"}\n{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n{"a":3,"b":"z"}\n{"a":4,"b":null}\n';
  const wantFile = path.join(work, `mixed-${v}.want.jsonl`);
  fs.writeFileSync(wantFile, want);
  const lanceOut = path.join(work, `mixed-${v}.lance.jsonl`);
  fs.writeFileSync(lanceOut, node('lance_dump.js', [ds]));
  compare(wantFile, lanceOut, 'a:int32,b:string');
  const clanceOut = path.join(work, `mixed-${v}.clance.jsonl`);
  fs.writeFileSync(clanceOut, run(o.clance, ['scan', ds]));
  compare(wantFile, clanceOut, 'a:int32,b:string');
  const v1 = path.join(work, `mixed-${v}.v1.jsonl`);
  fs.writeFileSync(v1, node('lance_dump.js', [ds, '--version', '1']));
  fs.writeFileSync(wantFile, '{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n{"a":3,"b":"z"}\n');
  compare(wantFile, v1, 'a:int32,b:string');
  const versions = run(o.clance, ['versions', ds]).trim().split('\n').map((l) => JSON.parse(l));
  const ops = versions.map((x) => x.operation).join(',');
  if (ops !== 'Overwrite,Append,Append') throw new Error(`versions: ${ops}`);
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const work = o.workdir || fs.mkdtempSync(path.join(os.tmpdir(), 'clance-interop-'));
  fs.mkdirSync(work, { recursive: true });
  let cases = caseList();
  if (o.cases) cases = cases.filter((c) => o.cases.includes(c.name));
  const dirs = o.direction === 'all' ? ['lance-to-clance', 'clance-to-lance', 'mixed'] : [o.direction];
  // CLANCE_INTEROP_WRITE_VERSIONS (e.g. "2.2") narrows the directions where clance writes
  // (clance-to-lance, mixed): the sanitizer build of CI sets it, since its reading side is
  // where the decoders meet Lance's files in every version.
  const writeVersions = process.env.CLANCE_INTEROP_WRITE_VERSIONS
    ? process.env.CLANCE_INTEROP_WRITE_VERSIONS.split(',') : null;
  for (const d of dirs) {
    for (const v of o.versions) {
      if (writeVersions && d !== 'lance-to-clance' && !writeVersions.includes(v)) continue;
      if (d === 'mixed') {
        check(`mixed:${v}`, () => mixed(o, work, v));
        continue;
      }
      for (const c of cases) {
        // What clance does not write yet is read-side only.
        if (d === 'clance-to-lance' && !clanceWrites(c, v)) continue;
        // Cases Lance can write in some storage versions only (packed_structs_var: 2.2).
        if (d === 'lance-to-clance' && !c.versions.includes(v)) continue;
        const id = `${d}:${c.name}:${v}`;
        check(id, () => (d === 'lance-to-clance' ? lanceToClance : clanceToLance)(o, work, c, v));
      }
      if (d === 'clance-to-lance' && (!o.cases || o.cases.includes('all_types')))
        check(`${d}:operations:${v}`, () => clanceOps(o, work, v));
      if (d === 'clance-to-lance' && (!o.cases || o.cases.includes('structs')))
        check(`${d}:structs-rewrite:${v}`, () => structsRewrite(o, work, v));
      if (d === 'clance-to-lance' && (!o.cases || o.cases.includes('tags')))
        check(`${d}:tags-cleanup:${v}`, () => tagsCleanup(o, work, v));
      if (d === 'lance-to-clance') {
        check(`${d}:operations:${v}`, () => lanceOps(o, work, v, false));
        check(`${d}:operations-stable-row-ids:${v}`, () => lanceOps(o, work, v, true));
      }
      if (d === 'lance-to-clance')
        for (const p of DELETES)
          if (!o.cases || o.cases.includes(p.caseName))
            check(`${d}:deletes:${p.caseName}:${v}`, () => lanceDeletes(o, work, p.caseName, p, v));
    }
  }
  console.log(`${passed} passed, ${failed} failed, ${xfailed} expected failures`);
  for (const f of failures) console.log(`  ${f.slice(0, 4000)}`);
  if (!o.keep && !o.workdir) fs.rmSync(work, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
}

main();
