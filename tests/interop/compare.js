#!/usr/bin/env node
'use strict';
// Semantic row-by-row comparison of two canonical JSONL files under a schema spec.
const fs = require('fs');
const canon = require('./canon.js');

const USAGE = `usage: node compare.js <expected.jsonl> <actual.jsonl> --schema '<spec>' [--unordered]
                  [--max-report N] [--ignore-key-order]
  Compares the files row by row, cell by cell, under <spec> (e.g. 'a:int32,b:string,v:vector(float32,8)';
  '--schema -' or '--schema @file' read it from stdin/a file; --schema case:NAME uses a case's spec):
    ints/date/time/duration/timestamp: exact (as BigInt); float32 after Math.fround (float16 after
    f16 rounding); float64 exact; "NaN" equals "NaN"; -0 differs from 0; strings exact; binary and
    fixed_size_binary: lowercase hex, exact; decimal(P,S): the canonical string (exactly S fraction
    digits), exact; vectors/lists item by item (items by their own type's rules); structs field
    by field; every row and struct must have exactly its keys, in schema order.
  --unordered         sort both sides by their normalised rows first (multiset comparison)
  --max-report N      print at most N mismatches (default 20)
  --ignore-key-order  accept rows (and struct objects) whose keys are in another order than the schema
  Exit status: 0 equal, 1 different (or row counts differ), 2 usage or parse error.`;

class Bad extends Error {}

function isNum(v) { return v instanceof canon.Num; }

// Normalise value v (from parseJsonExact) of spec type `type` into a comparable string.
// Throws Bad with a reason when v is not a valid canonical value of that type.
function norm(type, v, ignoreKeyOrder = false) {
  if (v === null) return 'null';
  switch (type.id) {
    case 'bool':
      if (v !== true && v !== false) throw new Bad('not a boolean');
      return String(v);
    case 'int8': case 'int16': case 'int32': case 'int64':
    case 'uint8': case 'uint16': case 'uint32': case 'uint64':
    case 'date32': case 'date64': case 'timestamp': case 'time32': case 'time64': case 'duration': {
      if (!isNum(v) || !/^-?\d+$/.test(v.raw)) throw new Bad('not an integer literal');
      const b = BigInt(v.raw);
      const [lo, hi] = canon.INT_RANGE[type.id];
      if (b < lo || b > hi) throw new Bad(`out of range for ${type.id}`);
      return b.toString();
    }
    case 'float16': case 'float32': case 'float64': {
      let x;
      if (isNum(v)) x = Number(v.raw);
      else if (v === 'NaN') x = NaN;
      else if (v === 'Infinity') x = Infinity;
      else if (v === '-Infinity') x = -Infinity;
      else throw new Bad('not a number, "NaN", "Infinity" or "-Infinity"');
      if (type.id === 'float32') x = Math.fround(x);
      else if (type.id === 'float16') x = canon.f16round(x);
      if (Number.isNaN(x)) return 'NaN';
      if (Object.is(x, -0)) return '-0';
      return String(x);
    }
    case 'string': case 'large_string':
      if (typeof v !== 'string') throw new Bad('not a string');
      return JSON.stringify(v);
    case 'binary': case 'large_binary':
      if (typeof v !== 'string' || !/^(?:[0-9a-f]{2})*$/.test(v)) throw new Bad('not a lowercase hex string');
      return v;
    case 'fixed_size_binary':
      if (typeof v !== 'string' || !/^(?:[0-9a-f]{2})*$/.test(v)) throw new Bad('not a lowercase hex string');
      if (v.length !== 2 * type.width) throw new Bad(`${v.length / 2} bytes, want ${type.width}`);
      return v;
    case 'decimal': {
      if (typeof v !== 'string') throw new Bad('not a string (decimals are JSON strings)');
      const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(v);
      if (!m) throw new Bad('not a decimal number');
      const frac = m[3] || '';
      if (frac.length !== type.scale) throw new Bad(`${frac.length} fraction digits, want exactly ${type.scale}`);
      const u = BigInt(m[1] + m[2] + frac);
      if ((u < 0n ? -u : u) >= 10n ** BigInt(type.precision)) throw new Bad(`more than ${type.precision} digits`);
      const want = canon.fmtDecimal(u, type.scale);
      if (v !== want) throw new Bad(`not canonical (want ${JSON.stringify(want)})`);
      return want;
    }
    case 'fixed_size_list': case 'list': case 'large_list': {
      if (!Array.isArray(v)) throw new Bad('not an array');
      if (type.id === 'fixed_size_list' && v.length !== type.dim) throw new Bad(`array of length ${v.length}, want ${type.dim}`);
      return '[' + v.map((x, k) => {
        try { return norm(type.item, x, ignoreKeyOrder); } catch (e) { if (e instanceof Bad) throw new Bad(`item ${k}: ${e.message}`); throw e; }
      }).join(',') + ']';
    }
    case 'struct': {
      if (!(v instanceof Map)) throw new Bad('not an object');
      const keys = [...v.keys()];
      const want = type.fields.map((f) => f.name);
      if (keys.length !== want.length || keys.some((k) => !want.includes(k)) ||
          (!ignoreKeyOrder && keys.some((k, i) => k !== want[i]))) {
        throw new Bad(`keys ${JSON.stringify(keys)}, want ${JSON.stringify(want)}${ignoreKeyOrder ? '' : ' in this order'}`);
      }
      return '{' + type.fields.map((f) => {
        try { return JSON.stringify(f.name) + ':' + norm(f.type, v.get(f.name), ignoreKeyOrder); } catch (e) { if (e instanceof Bad) throw new Bad(`.${f.name}: ${e.message}`); throw e; }
      }).join(',') + '}';
    }
    case 'dictionary': return norm(type.value, v, ignoreKeyOrder);
    default: throw new Error(`compare: unsupported type ${type.id}`);
  }
}

function rawText(v) {
  if (v === undefined) return '(missing)';
  if (v === null) return 'null';
  if (isNum(v)) return v.raw;
  if (v instanceof Map) return '{' + [...v].map(([k, x]) => JSON.stringify(k) + ':' + rawText(x)).join(',') + '}';
  if (Array.isArray(v)) return '[' + v.map(rawText).join(',') + ']';
  return JSON.stringify(v);
}

// Where two (normalised-different) nested values first differ: "[4].y[2]: expected X, actual Y".
function firstDiff(type, e, a, ignoreKeyOrder, where = '') {
  const n = (v) => { try { return norm(type, v === undefined ? null : v, ignoreKeyOrder); } catch (err) { if (err instanceof Bad) return '\u0000' + err.message; throw err; } };
  if (n(e) === n(a)) return null;
  const isList = type.id === 'list' || type.id === 'large_list' || type.id === 'fixed_size_list';
  if (isList && Array.isArray(e) && Array.isArray(a)) {
    for (let k = 0; k < Math.min(e.length, a.length); k++) {
      const d = firstDiff(type.item, e[k], a[k], ignoreKeyOrder, `${where}[${k}]`);
      if (d) return d;
    }
    if (e.length !== a.length) return `${where}: ${a.length} items, expected ${e.length}`;
  }
  if (type.id === 'struct' && e instanceof Map && a instanceof Map) {
    for (const f of type.fields) {
      const d = firstDiff(f.type, e.get(f.name), a.get(f.name), ignoreKeyOrder, `${where}.${f.name}`);
      if (d) return d;
    }
  }
  return `${where}: expected ${clip(rawText(e), 80)}, actual ${clip(rawText(a), 80)}`;
}

function clip(s, n = 160) { return s.length > n ? s.slice(0, n) + `...(${s.length} chars)` : s; }

// Read a JSONL file into [{line, text}] (blank lines skipped; a trailing newline is optional).
function readJsonl(file) {
  let text;
  try { text = fs.readFileSync(file === '-' ? 0 : file, 'utf8'); } catch (e) {
    process.stderr.write(`compare: cannot read ${file}: ${e.message}\n`);
    process.exit(2);
  }
  const out = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    if (l.trim() !== '') out.push({ line: i + 1, text: l });
  }
  return out;
}

function parseLine(file, r) {
  let obj;
  try { obj = canon.parseJsonExact(r.text); } catch (e) {
    process.stderr.write(`compare: ${file}:${r.line}: invalid JSON: ${e.message}\n  ${clip(r.text)}\n`);
    process.exit(2);
  }
  if (!(obj instanceof Map)) {
    process.stderr.write(`compare: ${file}:${r.line}: not a JSON object\n`);
    process.exit(2);
  }
  return obj;
}

// Normalise a whole row: returns {cells: [string|Bad], keyProblem: string|null}.
function normRow(fields, obj, ignoreKeyOrder) {
  const keys = [...obj.keys()];
  const names = fields.map((f) => f.name);
  let keyProblem = null;
  const extra = keys.filter((k) => !names.includes(k));
  const missing = names.filter((k) => !obj.has(k));
  if (extra.length || missing.length) {
    keyProblem = (missing.length ? `missing keys ${JSON.stringify(missing)}` : '') +
      (extra.length ? `${missing.length ? '; ' : ''}unexpected keys ${JSON.stringify(extra)}` : '');
  } else if (!ignoreKeyOrder && keys.some((k, i) => k !== names[i])) {
    keyProblem = `keys in order ${JSON.stringify(keys)}, want ${JSON.stringify(names)}`;
  }
  const cells = fields.map((f) => {
    if (!obj.has(f.name)) return new Bad('missing');
    try { return norm(f.type, obj.get(f.name), ignoreKeyOrder); } catch (e) { if (e instanceof Bad) return e; throw e; }
  });
  return { cells, keyProblem };
}

function loadSchema(arg) {
  let text = arg;
  if (arg === '-') text = fs.readFileSync(0, 'utf8').trim();
  else if (arg.startsWith('@')) text = fs.readFileSync(arg.slice(1), 'utf8').trim();
  else if (arg.startsWith('case:')) text = require('./cases.js').getCase(arg.slice(5)).spec;
  return canon.parseSpec(text);
}

function main() {
  const { pos, opts } = canon.parseArgs(process.argv.slice(2),
    { schema: 'value', unordered: 'flag', 'max-report': 'value', 'ignore-key-order': 'flag' }, USAGE);
  if (pos.length !== 2) canon.usageError(USAGE, 'expected <expected.jsonl> <actual.jsonl>');
  if (opts.schema === undefined) canon.usageError(USAGE, '--schema is required');
  let fields;
  try { fields = loadSchema(opts.schema); } catch (e) { canon.usageError(USAGE, `bad --schema: ${e.message}`); }
  const maxReport = canon.parseIntOpt(USAGE, 'max-report', opts['max-report'], 0);
  const limit = maxReport === undefined ? 20 : maxReport;
  const ignoreKeyOrder = !!opts['ignore-key-order'];

  const [expFile, actFile] = pos;
  let exp = readJsonl(expFile);
  let act = readJsonl(actFile);

  // An expected row that itself violates the schema is a harness bug: say so loudly (exit 2).
  let badExpected = 0;
  const checkExpected = (r, nr) => {
    const bad = nr.cells.map((c, k) => (c instanceof Bad ? `${fields[k].name}: ${c.message}` : null)).filter(Boolean);
    if (nr.keyProblem) bad.unshift(nr.keyProblem);
    if (bad.length && badExpected++ < limit) {
      process.stderr.write(`compare: ${expFile}:${r.line}: expected row is not canonical: ${bad.join('; ')}\n`);
    }
  };
  const normOf = (file, r) => normRow(fields, parseLine(file, r), ignoreKeyOrder);

  let expNorm = null, actNorm = null; // only kept for --unordered
  if (opts.unordered) {
    expNorm = exp.map((r) => { const nr = normOf(expFile, r); checkExpected(r, nr); return nr; });
    actNorm = act.map((r) => normOf(actFile, r));
    const keyOf = (nr) => nr.cells.map((c) => (c instanceof Bad ? '\u0000' + c.message : c)).join('\u0001');
    const sortBoth = (rows, norms) => {
      const idx = rows.map((_, i) => i);
      const keys = norms.map(keyOf);
      idx.sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0));
      return [idx.map((i) => rows[i]), idx.map((i) => norms[i])];
    };
    [exp, expNorm] = sortBoth(exp, expNorm);
    [act, actNorm] = sortBoth(act, actNorm);
  } else {
    // validate the expected rows beyond the common length too
    for (let i = act.length; i < exp.length; i++) checkExpected(exp[i], normOf(expFile, exp[i]));
  }

  let reported = 0, badCells = 0, badRows = 0;
  const report = (msg) => { if (reported++ < limit) process.stdout.write(msg + '\n'); };
  const n = Math.min(exp.length, act.length);
  for (let i = 0; i < n; i++) {
    const e = exp[i], a = act[i];
    let en, an;
    if (expNorm) { en = expNorm[i]; an = actNorm[i]; } else {
      en = normOf(expFile, e);
      checkExpected(e, en);
      an = e.text === a.text ? en : normOf(actFile, a);
    }
    if (e.text === a.text && !an.keyProblem && !an.cells.some((c) => c instanceof Bad)) continue;
    let rowBad = false;
    const where = opts.unordered ? `row ${i} (sorted; expected line ${e.line}, actual line ${a.line})` : `row ${i}`;
    if (an.keyProblem) { rowBad = true; report(`${where}: ${an.keyProblem}`); }
    let eo = null, ao = null;
    const ev = (k) => clip(rawText((eo = eo || parseLine(expFile, e)).get(fields[k].name)));
    const av = (k) => clip(rawText((ao = ao || parseLine(actFile, a)).get(fields[k].name)));
    for (let k = 0; k < fields.length; k++) {
      const ec = en.cells[k], ac = an.cells[k];
      if (ec instanceof Bad) continue; // reported as an invalid expected row
      if (ac instanceof Bad) {
        if (ac.message === 'missing') continue; // already reported as a key problem
        rowBad = true; badCells++;
        report(`${where} column ${fields[k].name}: invalid actual value (${ac.message}): ${av(k)}\n    expected: ${ev(k)}`);
      } else if (ec !== ac) {
        rowBad = true; badCells++;
        const t = fields[k].type;
        let first = '';
        if (t.item || t.fields) {
          eo = eo || parseLine(expFile, e); ao = ao || parseLine(actFile, a);
          const d = firstDiff(t, eo.get(fields[k].name), ao.get(fields[k].name), ignoreKeyOrder);
          if (d) first = `\n    first difference at ${fields[k].name}${d}`;
        }
        report(`${where} column ${fields[k].name}:\n    expected: ${ev(k)}\n    actual:   ${av(k)}${first}`);
      }
    }
    if (rowBad) badRows++;
  }
  if (badExpected) { process.stderr.write(`compare: ${badExpected} invalid expected rows\n`); process.exit(2); }
  if (reported > limit) process.stdout.write(`... ${reported - limit} more mismatches not shown\n`);
  const countOk = exp.length === act.length;
  if (!countOk) {
    process.stdout.write(`row count differs: expected ${exp.length}, actual ${act.length}\n`);
    if (act.length > exp.length) process.stdout.write(`  first extra actual row (line ${act[n].line}): ${clip(act[n].text, 300)}\n`);
    else process.stdout.write(`  first missing expected row (line ${exp[n].line}): ${clip(exp[n].text, 300)}\n`);
  }
  const ok = countOk && badRows === 0;
  process.stdout.write(`compare: ${ok ? 'OK' : 'MISMATCH'}: expected ${exp.length} rows, actual ${act.length} rows, ` +
    `${badRows} mismatching rows, ${badCells} mismatching cells (${fields.length} columns)\n`);
  process.exit(ok ? 0 : 1);
}

try { main(); } catch (e) { process.stderr.write(`compare: ${e.stack || e}\n`); process.exit(2); }
