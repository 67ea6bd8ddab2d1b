#!/usr/bin/env node
'use strict';
// Arrow IPC in and out of clance, against apache-arrow (the arrow-js that
// @lancedb/lancedb ships, 18.x): tables built here (every core type clance
// writes, nulls, several record batches, dictionary-encoded strings with delta
// dictionaries) are written by arrow-js as an IPC stream and as an IPC file,
// go through `clance write-fragments --format arrow` + `clance commit` +
// `clance scan --format arrow`, and what arrow-js reads back must equal the
// input value for value (dictionary columns come back as plain utf8).
//   node ipc_roundtrip.js --clance PATH [--versions 2.0,2.1,2.2] [--workdir DIR] [--keep]
// Ends with "N passed, N failed"; exit status 1 on any failure.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const arrow = require('apache-arrow');

const args = process.argv.slice(2);
function opt(name, def) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
}
const clance = opt('--clance');
if (!clance) {
  console.error('usage: node ipc_roundtrip.js --clance PATH [--versions 2.0,2.1] [--workdir DIR] [--keep]');
  process.exit(2);
}
const versions = opt('--versions', '2.0,2.1,2.2').split(',');
const work = opt('--workdir') ? path.resolve(opt('--workdir')) : fs.mkdtempSync(path.join(os.tmpdir(), 'clance-ipc-'));
fs.mkdirSync(work, { recursive: true });

// ---- the data ----------------------------------------------------------

const ROWS = [1000, 1, 2500]; // rows per batch
const T = arrow;
const FIELDS = [
  ['b', new T.Bool(), 'bool'],
  ['i8', new T.Int8(), 'int8'],
  ['i16', new T.Int16(), 'int16'],
  ['i32', new T.Int32(), 'int32'],
  ['i64', new T.Int64(), 'int64'],
  ['u8', new T.Uint8(), 'uint8'],
  ['u16', new T.Uint16(), 'uint16'],
  ['u32', new T.Uint32(), 'uint32'],
  ['u64', new T.Uint64(), 'uint64'],
  ['f32', new T.Float32(), 'float32'],
  ['f64', new T.Float64(), 'float64'],
  ['s', new T.Utf8(), 'string'],
  ['ls', new T.LargeUtf8(), 'large_string'],
  ['bin', new T.Binary(), 'binary'],
  ['d32', new T.DateDay(), 'date32'],
  ['ts', new T.TimestampMicrosecond('UTC'), 'timestamp(us,UTC)'],
  ['v', new T.FixedSizeList(4, new T.Field('item', new T.Float32(), true)), 'vector(float32,4)'],
  ['f16', new T.Float16(), 'float16'],
  ['lbin', new T.LargeBinary(), 'large_binary'],
  ['d64', new T.DateMillisecond(), 'date64'],
  ['t64', new T.TimeMicrosecond(), 'time64(us)'],
  ['du', new T.Duration(T.TimeUnit.MILLISECOND), 'duration(ms)'],
  ['fsb', new T.FixedSizeBinary(16), 'fixed_size_binary(16)'],
  ['dec', new T.Decimal(10, 38, 128), 'decimal(38,10)'],
  ['cat', new T.Dictionary(new T.Utf8(), new T.Int32()), 'string'],
];
// Columns built from raw little-endian words (BigInt or 128-bit storage).
const RAW = { ts: 1, t64: 1, du: 1, dec: 4, fsb: 4 };
const SPEC = FIELDS.map(([n, , s]) => `${n}:${s}`).join(',');

// Deterministic pseudo-random numbers.
let seed = 12345;
function rnd() {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}

function value(name, row) {
  if ((row * 7 + name.length) % 11 === 0) return null;
  const r = rnd();
  switch (name) {
    case 'b': return r < 0.5;
    case 'i8': return Math.floor(r * 256) - 128;
    case 'i16': return Math.floor(r * 65536) - 32768;
    case 'i32': return Math.floor(r * 4294967296) - 2147483648;
    case 'i64': return BigInt(Math.floor(r * 1e15)) * (row % 2 ? -1n : 1n) * 1000n + BigInt(row);
    case 'u8': return Math.floor(r * 256);
    case 'u16': return Math.floor(r * 65536);
    case 'u32': return Math.floor(r * 4294967296);
    case 'u64': return BigInt(Math.floor(r * 1e15)) * 10000n + 18000000000000000000n * BigInt(row % 2);
    case 'f32': return Math.fround((r - 0.5) * 1e6);
    case 'f64': return row % 13 === 1 ? -0 : (r - 0.5) * 1e300 * r;
    case 's': return `str ${row} ${'é'.repeat(row % 5)}${'x'.repeat(Math.floor(r * 40))}`;
    case 'ls': return row % 3 ? `large ${row}` : '';
    case 'bin': return Uint8Array.from({ length: row % 9 }, (_, k) => (row + k * 31) & 255);
    case 'd32': return Math.floor((r - 0.5) * 40000) * 86400000;
    case 'ts': return Math.floor(r * 1e12);
    case 'v': return [r, -r, row, Math.fround(r * 3)].map(Math.fround);
    case 'f16': return [0.5, -2, 1024, 0.099975586, 65504][row % 5];
    case 'lbin': return Uint8Array.from({ length: row % 4 }, (_, k) => 255 - k);
    case 'd64': return Math.floor((r - 0.5) * 4e4) * 86400000;
    case 't64': return Math.floor(r * 86400e6);
    case 'du': return Math.floor((r - 0.5) * 1e12);
    case 'dec': case 'fsb': return [Math.floor(r * 4294967296), row, 7, r < 0.5 ? 0 : 4294967295];
    default: throw new Error(name);
  }
}

const CATS = ['red', 'green', 'blue', 'cyan', 'magenta', 'yellow', 'black', 'white'];

// One batch: plain vectors via vectorFromArray; the dictionary column shares
// its dictionary with the previous batch and extends it (a delta dictionary
// in the stream and file format).
function makeBatches() {
  const batches = [];
  let dict = null;
  let row0 = 0;
  for (let bi = 0; bi < ROWS.length; bi++) {
    const n = ROWS[bi];
    const cols = {};
    for (const [name, type] of FIELDS) {
      if (name === 'cat') continue;
      const vals = [];
      for (let r = 0; r < n; r++) vals.push(value(name, row0 + r));
      if (RAW[name]) {
        // 64-bit integers (arrow-js would take plain numbers as milliseconds)
        // or four 32-bit words per value
        const w = RAW[name];
        const data = w === 1 ? new BigInt64Array(n) : new Uint32Array(4 * n);
        const valid = new Uint8Array(Math.ceil(n / 8));
        let nulls = 0;
        vals.forEach((v, k) => {
          if (v === null) nulls++;
          else {
            if (w === 1) data[k] = BigInt(v);
            else data.set(v, 4 * k);
            valid[k >> 3] |= 1 << (k & 7);
          }
        });
        cols[name] = arrow.makeVector(arrow.makeData({ type, length: n, nullCount: nulls, data, nullBitmap: valid }));
      } else {
        cols[name] = arrow.vectorFromArray(vals, type);
      }
    }
    // dictionary: batch k uses the first 3 + 2k categories
    const ncat = 3 + 2 * bi;
    const have = dict ? dict.length : 0;
    const extra = arrow.vectorFromArray(CATS.slice(have, ncat), new T.Utf8());
    dict = dict ? dict.concat(extra) : extra;
    const idx = new Int32Array(n);
    const valid = new Uint8Array(Math.ceil(n / 8));
    let nulls = 0;
    for (let r = 0; r < n; r++) {
      if ((row0 + r) % 5 === 2) { nulls++; continue; }
      idx[r] = (row0 + r * 3) % ncat;
      valid[r >> 3] |= 1 << (r & 7);
    }
    const dtype = FIELDS.find((f) => f[0] === 'cat')[1];
    cols.cat = arrow.makeVector(arrow.makeData({ type: dtype, length: n, nullCount: nulls, data: idx, nullBitmap: valid, dictionary: dict }));
    const schema = new arrow.Schema(FIELDS.map(([name, type]) => new arrow.Field(name, name === 'cat' ? dtype : type, true)));
    const data = arrow.makeData({
      type: new arrow.Struct(schema.fields), length: n, nullCount: 0,
      children: FIELDS.map(([name]) => cols[name].data[0]),
    });
    batches.push(new arrow.RecordBatch(schema, data));
    row0 += n;
  }
  return new arrow.Table(batches);
}

// ---- canonical values --------------------------------------------------

function canon(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : Number.isNaN(v) ? 'NaN' : v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (ArrayBuffer.isView(v)) return Array.from(v, canon);
  if (v instanceof Date) return v.getTime();
  if (v && typeof v.toArray === 'function') return Array.from(v.toArray(), canon);
  return v;
}

function rows(table) {
  const out = [];
  const cols = table.schema.fields.map((f) => table.getChild(f.name));
  for (let r = 0; r < table.numRows; r++) out.push(cols.map((c) => canon(c.get(r))));
  return out;
}

function typeName(t) {
  return arrow.DataType.isDictionary(t) ? t.dictionary.toString() : t.toString();
}

// ---- the round trip ----------------------------------------------------

let passed = 0, failed = 0;
function check(name, fn) {
  try {
    fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
  }
}

function sh(argv, outFile) {
  const r = spawnSync(clance, argv, {
    encoding: outFile ? undefined : 'utf8', maxBuffer: 1 << 30,
    stdio: ['ignore', outFile ? fs.openSync(outFile, 'w') : 'pipe', 'pipe'],
  });
  if (r.status !== 0) throw new Error(`clance ${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const table = makeBatches();
const expected = rows(table);
const inputs = {
  stream: path.join(work, 'in.arrows'),
  file: path.join(work, 'in.arrow'),
};
fs.writeFileSync(inputs.stream, arrow.tableToIPC(table, 'stream'));
fs.writeFileSync(inputs.file, arrow.tableToIPC(table, 'file'));

// The inputs really hold several batches and delta dictionaries.
check('arrow-js input has 3 batches and delta dictionaries', () => {
  const reader = arrow.RecordBatchReader.from(fs.readFileSync(inputs.stream));
  let n = 0;
  for (const b of reader) { void b; n++; }
  if (n !== 3) throw new Error(`${n} batches`);
  const msgs = new arrow.MessageReader(fs.readFileSync(inputs.stream));
  const deltas = [];
  for (const m of msgs) {
    if (m.isDictionaryBatch()) deltas.push(m.header().isDelta);
    if (m.bodyLength) msgs.readMessageBody(m.bodyLength);
  }
  if (deltas.join() !== 'false,true,true') throw new Error(`dictionary messages: delta ${deltas.join()}`);
});

for (const v of versions) {
  for (const [kind, file] of Object.entries(inputs)) {
    for (const withSchema of [false, true]) {
      const name = `${kind} ${v}${withSchema ? ' --schema' : ''}`;
      check(name, () => {
        const ds = path.join(work, `ds-${kind}-${v}-${withSchema ? 's' : 'n'}`);
        fs.rmSync(ds, { recursive: true, force: true });
        const frags = path.join(work, `frags-${kind}-${v}.json`);
        const wargs = ['write-fragments', ds, '--input', kind === 'stream' ? '-' : file, '--format', 'arrow',
          '--data-storage-version', v, '--output', frags, '--max-rows-per-file', '2000'];
        if (withSchema) wargs.push('--schema', SPEC);
        if (kind === 'stream') {
          const r = spawnSync('sh', ['-c', `"$0" "$@" < "${file}"`, clance, ...wargs], { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`write-fragments: exit ${r.status}: ${r.stderr}`);
        } else {
          sh(wargs);
        }
        sh(['commit', ds, '--operation', 'overwrite', '--read-version', '0', '--schema', SPEC, frags]);
        const out = path.join(work, `out-${kind}-${v}.arrows`);
        sh(['scan', ds, '--format', 'arrow', '--batch-size', '700'], out);
        const back = arrow.tableFromIPC(fs.readFileSync(out));
        const want = table.schema.fields.map((f) => `${f.name}:${typeName(f.type)}`).join(',');
        const got = back.schema.fields.map((f) => `${f.name}:${typeName(f.type)}`).join(',');
        if (want !== got) throw new Error(`schema ${got}, expected ${want}`);
        if (back.numRows !== table.numRows) throw new Error(`${back.numRows} rows, expected ${table.numRows}`);
        const actual = rows(back);
        for (let r = 0; r < expected.length; r++) {
          const a = JSON.stringify(actual[r]), e = JSON.stringify(expected[r]);
          if (a !== e) throw new Error(`row ${r}: got ${a}, expected ${e}`);
        }
      });
    }
  }
}

// Dictionary columns are written by `scan --format arrow` as dictionary
// batches: arrow-js reads them back as dictionaries.
check('a mismatching --schema is refused', () => {
  const ds = path.join(work, 'ds-bad');
  const r = spawnSync(clance, ['write-fragments', ds, '--input', inputs.file, '--format', 'arrow',
    '--schema', SPEC.replace('i32:int32', 'i32:int64')], { encoding: 'utf8' });
  if (r.status === 0 || !/i32/.test(r.stderr)) throw new Error(`exit ${r.status}: ${r.stderr}`);
});

check('truncated input gives a clear error', () => {
  const bad = path.join(work, 'truncated.arrows');
  const bytes = fs.readFileSync(inputs.stream);
  fs.writeFileSync(bad, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const r = spawnSync(clance, ['write-fragments', path.join(work, 'ds-trunc'), '--input', bad, '--format', 'arrow'],
    { encoding: 'utf8' });
  if (r.status !== 1 || !/truncated|exceeds the input/.test(r.stderr) || !r.stderr.includes(bad))
    throw new Error(`exit ${r.status}: ${r.stderr}`);
});

console.log(`${passed} passed, ${failed} failed`);
if (!opt('--workdir') && !args.includes('--keep')) fs.rmSync(work, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
