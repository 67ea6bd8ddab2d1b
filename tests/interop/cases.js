'use strict';
// Deterministic interop test cases and their exact Arrow tables.
//
// A case is {name, spec, schema, fields, defaultRows, description, rows(n)}:
//   spec    clance schema spec string ("a:int32,b:string!,...": '!' = non-nullable)
//   schema  {column name -> type string} (same strings as in spec, '!' included)
//   fields  parsed spec: [{name, type, nullable}]
//   rows(n) -> array of n row objects (row i is the same whatever n is: n only truncates/extends)
// JS value domain of a row: int8..int32/uint8..uint32/date32 -> number; int64/uint64/
// timestamp -> BigInt; float32/float64/float16 -> number (already rounded to the width);
// string -> string; binary -> Uint8Array; vector -> array of numbers/null; null -> null.

const arrow = require('apache-arrow');
const canon = require('./canon.js');

// ---------------------------------------------------------------------------
// Deterministic PRNG (mulberry32) + helpers
// ---------------------------------------------------------------------------

function makeRng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const u32 = () => Math.floor(next() * 4294967296) >>> 0;
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)); // inclusive, |range| < 2^53
  const u64 = () => (BigInt(u32()) << 32n) | BigInt(u32());
  const i64 = () => BigInt.asIntN(64, u64());
  const pick = (arr) => arr[Math.floor(next() * arr.length)];
  return { next, u32, int, u64, i64, pick };
}

const ALPHABETS = [
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,;:!?',
  'äöüßéèêçñøåÆŒ', // 2-byte UTF-8
  '中文字符测试数据湖向量', // 3-byte UTF-8
  'αβγδεζηθλμπσω', // 2-byte Greek
  '😀🚀🎉🌍🧪', // 4-byte UTF-8 (surrogate pairs in JS)
];
const utf8enc = new TextEncoder();

function randString(rng, minBytes, maxBytes) {
  const target = rng.int(minBytes, maxBytes);
  const alpha = rng.next() < 0.6 ? ALPHABETS[0] : rng.pick(ALPHABETS);
  const chars = Array.from(alpha);
  let s = '';
  let bytes = 0;
  while (bytes < target) {
    const ch = rng.next() < 0.8 ? rng.pick(chars) : rng.pick(Array.from(rng.pick(ALPHABETS)));
    const b = utf8enc.encode(ch).length;
    if (bytes + b > target && bytes >= minBytes) break;
    s += ch;
    bytes += b;
  }
  return s;
}
function randBytes(rng, minLen, maxLen) {
  const n = rng.int(minLen, maxLen);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(0, 255);
  return b;
}
function randFloat(rng) {
  const r = rng.next();
  if (r < 0.3) return (rng.next() * 2 - 1); // [-1, 1)
  if (r < 0.5) return rng.int(-100000, 100000); // integral
  const mant = rng.next() * 2 - 1;
  return mant * 10 ** rng.int(-30, 30);
}
function randVector(rng, dim) {
  const v = new Array(dim);
  for (let k = 0; k < dim; k++) v[k] = Math.fround(rng.next() * 2 - 1);
  return v;
}

// ---------------------------------------------------------------------------
// Per-type extreme / special values. Row k < SPECIAL_ROWS of all_types / no_nulls
// takes special(type, k) (null means "random instead").
// ---------------------------------------------------------------------------

const F32_MAX = 3.4028234663852886e38;
const F32_MIN_SUB = 1.401298464324817e-45;
const F32_MIN_NORMAL = 1.1754943508222875e-38;
const LONG_UNICODE = '长字符串😀'.repeat(30) + 'end'; // > 256 bytes
const TRICKY = 'quote" backslash\\ nl\n cr\r tab\t nul\u0000 ctl\u0001\u001f del\u007f slash/ \u2028\u2029 é';

const SPECIAL = {
  bool: [false, true, true, false, false, false, true, true],
  int8: [-128, 127, -1, 1, 0, 0, -127, 126],
  int16: [-32768, 32767, -1, 1, 0, 0, -32767, 32766],
  int32: [-2147483648, 2147483647, -1, 1, 0, 0, -2147483647, 2147483646],
  int64: [-(2n ** 63n), 2n ** 63n - 1n, -1n, 1n, 0n, 0n, -(2n ** 63n) + 1n, 2n ** 53n + 1n],
  uint8: [0, 255, 128, 1, 0, 127, 254, 200],
  uint16: [0, 65535, 32768, 1, 0, 32767, 65534, 40000],
  uint32: [0, 4294967295, 2147483648, 1, 0, 2147483647, 4294967294, 3000000000],
  uint64: [0n, 2n ** 64n - 1n, 2n ** 63n, 1n, 0n, 2n ** 63n - 1n, 2n ** 64n - 2n, 2n ** 53n + 1n],
  float32: [-F32_MAX, F32_MAX, NaN, Infinity, -Infinity, -0, F32_MIN_SUB, F32_MIN_NORMAL],
  float64: [-Number.MAX_VALUE, Number.MAX_VALUE, NaN, Infinity, -Infinity, -0, Number.MIN_VALUE, 0.1],
  string: ['', LONG_UNICODE, TRICKY, '😀', ' ', 'a', 'x'.repeat(257), 'naïve café 中文'],
  binary: [new Uint8Array(0), new Uint8Array(300).fill(0xff), Uint8Array.of(0), Uint8Array.of(0xde, 0xad, 0xbe, 0xef),
    Uint8Array.of(0x7f, 0x80), Uint8Array.of(0x00, 0x00), new Uint8Array(257).map((_, i) => i & 0xff), Uint8Array.of(0x22, 0x5c)],
  date32: [-2147483648, 2147483647, -719162, 2932896, 0, -1, 19000, 20000],
  timestamp: [-(2n ** 63n), 2n ** 63n - 1n, -62135596800000000n, 253402300799999999n, 0n, -1n, 1700000000123456n, 1n],
};
SPECIAL.large_string = SPECIAL.string;
SPECIAL.large_binary = SPECIAL.binary;
const SPECIAL_ROWS = 8;

function specialVector(dim, k) {
  const base = [
    () => -F32_MAX, () => F32_MAX, null, null, null, () => 0, null, null,
  ][k];
  if (k === 2) return Array.from({ length: dim }, (_, j) => [NaN, Infinity, -Infinity, -0, 0, F32_MIN_SUB, 1, -1][j % 8]);
  if (k === 3) return Array.from({ length: dim }, (_, j) => Math.fround(j * 0.5 - 1));
  if (!base) return null;
  return Array.from({ length: dim }, base);
}

function randomValue(rng, type) {
  switch (type.id) {
    case 'bool': return rng.next() < 0.5;
    case 'int8': return rng.int(-128, 127);
    case 'int16': return rng.int(-32768, 32767);
    case 'int32': return rng.next() < 0.5 ? rng.int(-1000, 1000) : (rng.u32() | 0);
    case 'int64': return rng.next() < 0.5 ? BigInt(rng.int(-100000, 100000)) : rng.i64();
    case 'uint8': return rng.int(0, 255);
    case 'uint16': return rng.int(0, 65535);
    case 'uint32': return rng.next() < 0.5 ? rng.int(0, 1000) : rng.u32();
    case 'uint64': return rng.next() < 0.5 ? BigInt(rng.int(0, 100000)) : rng.u64();
    case 'float16': return canon.f16round(rng.next() < 0.5 ? rng.next() * 2 - 1 : rng.int(-60000, 60000));
    case 'float32': return Math.fround(randFloat(rng));
    case 'float64': return randFloat(rng);
    case 'string': case 'large_string': {
      const r = rng.next();
      return r < 0.7 ? randString(rng, 0, 20) : r < 0.9 ? randString(rng, 20, 200) : randString(rng, 257, 1500);
    }
    case 'binary': case 'large_binary': {
      const r = rng.next();
      return r < 0.7 ? randBytes(rng, 0, 20) : r < 0.9 ? randBytes(rng, 20, 200) : randBytes(rng, 257, 1500);
    }
    case 'date32': return rng.int(-50000, 60000);
    case 'timestamp':
      return rng.next() < 0.7 ? BigInt(rng.int(0, 2000000000)) * 1000000n + BigInt(rng.int(0, 999999)) : rng.i64();
    case 'fixed_size_list': return randVector(rng, type.dim);
    default: throw new Error(`randomValue: unsupported type ${type.id}`);
  }
}

// ---------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------

const TYPE_COLUMNS = [
  ['b', 'bool'], ['i8', 'int8'], ['i16', 'int16'], ['i32', 'int32'], ['i64', 'int64'],
  ['u8', 'uint8'], ['u16', 'uint16'], ['u32', 'uint32'], ['u64', 'uint64'],
  ['f32', 'float32'], ['f64', 'float64'], ['s', 'string'], ['ls', 'large_string'],
  ['bin', 'binary'], ['lbin', 'large_binary'], ['d', 'date32'],
  ['ts', 'timestamp(us)'], ['tstz', 'timestamp(us,UTC)'],
  ['v8', 'vector(float32,8)'], ['v128', 'vector(float32,128)'],
];

function makeCase(name, spec, defaultRows, description, gen) {
  const fields = canon.parseSpec(spec);
  const schema = {};
  for (const f of fields) schema[f.name] = canon.typeToSpec(f.type) + (f.nullable ? '' : '!');
  return { name, spec, schema, fields, defaultRows, description, rows: (n = defaultRows) => gen(n, fields) };
}

// all_types / no_nulls generator. withNulls: ~10% nulls per nullable column, an all-null row
// (row 6), an all-null stretch over every nullable column (rows 1000..1099) and whole
// 1024-row chunks of nulls in single columns (s: rows 2048..3071, v8: rows 1200..1599).
function typesRows(withNulls) {
  return (n, fields) => {
    const rng = makeRng(withNulls ? 0xA11 : 0xB22);
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      const row = {};
      for (const f of fields) {
        if (f.name === 'id') { row.id = BigInt(i); continue; }
        const nullDraw = rng.next();
        let v;
        if (i < SPECIAL_ROWS) {
          v = f.type.id === 'fixed_size_list' ? specialVector(f.type.dim, i) : SPECIAL[f.type.id][i];
          if (v === null || v === undefined) v = randomValue(rng, f.type);
        } else {
          v = randomValue(rng, f.type);
        }
        if (withNulls && f.nullable) {
          if (i === 6 || (i >= 1000 && i < 1100) || (i >= SPECIAL_ROWS && nullDraw < 0.1) ||
              (f.name === 's' && i >= 2048 && i < 3072) || (f.name === 'v8' && i >= 1200 && i < 1600)) v = null;
        }
        row[f.name] = v;
      }
      out[i] = row;
    }
    return out;
  };
}

const CASES = {};
function addCase(c) { CASES[c.name] = c; }

addCase(makeCase('all_types',
  'id:int64!,' + TYPE_COLUMNS.map(([n, t]) => `${n}:${t}`).join(','), 3000,
  'every supported type, ~10% nulls, extremes in rows 0-7, all-null stretches',
  typesRows(true)));

addCase(makeCase('no_nulls',
  'id:int64!,' + TYPE_COLUMNS.map(([n, t]) => `${n}:${t}!`).join(','), 3000,
  'every supported type, all columns non-nullable, no nulls, extremes in rows 0-7',
  typesRows(false)));

addCase(makeCase('seed', 'a:int32,b:string', 3, 'the 3-row seed table (1 x, 2 y, 3 z)',
  (n) => Array.from({ length: n }, (_, i) => ({ a: i + 1, b: i < 3 ? 'xyz'[i] : `r${i + 1}` }))));

addCase(makeCase('low_cardinality', 'id:int64,cat:string', 5000,
  'sorted int64 ids, string column with 3 distinct values (dictionary encoding)',
  (n) => {
    const rng = makeRng(0x10C);
    const cats = ['red', 'green', 'blue'];
    const out = new Array(n);
    let id = 1000n;
    for (let i = 0; i < n; i++) {
      id += BigInt(rng.int(1, 3));
      out[i] = { id, cat: rng.pick(cats) };
    }
    return out;
  }));

addCase(makeCase('long_strings', 'id:int64,s:string,bin:binary', 1000,
  'strings and binaries of 300..5000 bytes',
  (n) => {
    const rng = makeRng(0x1057);
    return Array.from({ length: n }, (_, i) => ({ id: BigInt(i), s: randString(rng, 300, 5000), bin: randBytes(rng, 300, 5000) }));
  }));

addCase(makeCase('vectors128', 'id:int64,vec:vector(float32,128)', 2000,
  '128-d random float32 vectors',
  (n) => {
    const rng = makeRng(0x128);
    return Array.from({ length: n }, (_, i) => ({ id: BigInt(i), vec: randVector(rng, 128) }));
  }));

addCase(makeCase('big', 'id:int64,x:float64,s:string', 200000,
  '200k rows for multi-page columns',
  (n) => {
    const rng = makeRng(0xB16);
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = { id: BigInt(i) * 7n - 1000n, x: rng.next() * 1e6 - 5e5, s: `row-${i}-${rng.u32().toString(36)}` };
    }
    return out;
  }));

// Extra (not in the default matrix's list of the brief, but handy):
addCase(makeCase('float16', 'id:int32,h:float16', 1000,
  'float16 column (halffloat) incl. extremes',
  (n) => {
    const rng = makeRng(0xF16);
    const special = [65504, -65504, NaN, Infinity, -Infinity, -0, 2 ** -24, 2 ** -14, null];
    return Array.from({ length: n }, (_, i) => ({
      id: i,
      h: i < special.length ? special[i] : (rng.next() < 0.1 ? null : randomValue(rng, { id: 'float16' })),
    }));
  }));

addCase(makeCase('vector_item_nulls', 'id:int64,v:vector(float32,4)', 200,
  'fixed_size_list rows with null items inside (not only null rows)',
  (n) => {
    const rng = makeRng(0x4E);
    return Array.from({ length: n }, (_, i) => {
      if (i % 10 === 3) return { id: BigInt(i), v: null };
      const v = randVector(rng, 4);
      if (i % 3 === 0) v[i % 4] = null;
      if (i % 50 === 1) v.fill(null);
      return { id: BigInt(i), v };
    });
  }));

/** The cases of the standard interop matrix (the brief's list). */
const MATRIX = ['all_types', 'no_nulls', 'seed', 'low_cardinality', 'long_strings', 'vectors128', 'big'];

function getCase(name) {
  const c = CASES[name];
  if (!c) throw new Error(`unknown case "${name}" (known: ${Object.keys(CASES).join(', ')})`);
  return c;
}

// ---------------------------------------------------------------------------
// Arrow table building (raw buffers, exact types)
// ---------------------------------------------------------------------------

function bitmapOf(values, isNull) {
  const n = values.length;
  const bm = new Uint8Array(((n + 63) & ~63) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (isNull(values[i])) nulls++;
    else bm[i >> 3] |= 1 << (i & 7);
  }
  return { bm, nulls };
}

/** apache-arrow Data for `values` (JS value domain above) of spec type `type`. */
function buildData(type, values) {
  const n = values.length;
  const atype = canon.arrowTypeOf(type);
  const { bm, nulls } = bitmapOf(values, (v) => v === null || v === undefined);
  const base = { type: atype, length: n, nullCount: nulls, nullBitmap: nulls ? bm : undefined };
  switch (type.id) {
    case 'bool': {
      const data = new Uint8Array(((n + 63) & ~63) >> 3);
      for (let i = 0; i < n; i++) if (values[i]) data[i >> 3] |= 1 << (i & 7);
      return arrow.makeData({ ...base, data });
    }
    case 'int8': case 'int16': case 'int32': case 'uint8': case 'uint16': case 'uint32': case 'date32':
    case 'float32': case 'float64': {
      const Ctor = { int8: Int8Array, int16: Int16Array, int32: Int32Array, uint8: Uint8Array, uint16: Uint16Array,
        uint32: Uint32Array, date32: Int32Array, float32: Float32Array, float64: Float64Array }[type.id];
      const data = new Ctor(n);
      for (let i = 0; i < n; i++) if (values[i] !== null && values[i] !== undefined) data[i] = values[i];
      return arrow.makeData({ ...base, data });
    }
    case 'float16': {
      const data = new Uint16Array(n);
      for (let i = 0; i < n; i++) if (values[i] !== null && values[i] !== undefined) data[i] = canon.f16ToBits(values[i]);
      return arrow.makeData({ ...base, data });
    }
    case 'int64': case 'timestamp': case 'date64': case 'uint64': {
      const data = type.id === 'uint64' ? new BigUint64Array(n) : new BigInt64Array(n);
      for (let i = 0; i < n; i++) if (values[i] !== null && values[i] !== undefined) data[i] = BigInt(values[i]);
      return arrow.makeData({ ...base, data });
    }
    case 'string': case 'large_string': case 'binary': case 'large_binary': {
      const isStr = type.id === 'string' || type.id === 'large_string';
      const large = type.id.startsWith('large_');
      const parts = new Array(n);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        const b = v === null || v === undefined ? new Uint8Array(0) : isStr ? utf8enc.encode(v) : v;
        parts[i] = b;
        total += b.length;
      }
      if (!large && total > 2147483647) throw new Error('column too large for 32-bit offsets');
      const offs = large ? new BigInt64Array(n + 1) : new Int32Array(n + 1);
      const data = new Uint8Array(total);
      let o = 0;
      for (let i = 0; i < n; i++) {
        offs[i] = large ? BigInt(o) : o;
        data.set(parts[i], o);
        o += parts[i].length;
      }
      offs[n] = large ? BigInt(o) : o;
      return arrow.makeData({ ...base, valueOffsets: offs, data });
    }
    case 'fixed_size_list': {
      const dim = type.dim;
      const items = new Array(n * dim).fill(null);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) continue; // child slots of a null row are null (like pyarrow)
        if (v.length !== dim) throw new Error(`row ${i}: vector of length ${v.length}, want ${dim}`);
        for (let k = 0; k < dim; k++) items[i * dim + k] = v[k];
      }
      const child = buildData(type.item, items);
      return arrow.makeData({ ...base, child });
    }
    default: throw new Error(`buildData: unsupported type ${canon.typeToSpec(type)}`);
  }
}

/**
 * apache-arrow Table with exactly the case's Arrow types.
 * `fields` defaults to the case's; `skip` is a set of column names to leave out.
 */
function buildArrowTable(fields, rows, skip = new Set()) {
  const keep = fields.filter((f) => !skip.has(f.name));
  const schema = new arrow.Schema(keep.map(canon.arrowFieldOf));
  const children = keep.map((f) => buildData(f.type, rows.map((r) => (r[f.name] === undefined ? null : r[f.name]))));
  const structData = arrow.makeData({ type: new arrow.Struct(schema.fields), length: rows.length, nullCount: 0, children });
  return new arrow.Table(schema, [new arrow.RecordBatch(schema, structData)]);
}

// Arrow types that lancedb 0.39 (Lance 12) cannot take from arrow-js, found by
// `node probe_types.js`: spec type id -> reason. Columns of these types are dropped by
// lance_write.js (with a note) and by gen_input.js --lance-writable.
const LANCE_WRITE_UNSUPPORTED = {};

function lanceUnsupportedColumns(fields) {
  const out = [];
  for (const f of fields) {
    const ids = [];
    const walk = (t) => { ids.push(t.id); if (t.item) walk(t.item); if (t.fields) t.fields.forEach((x) => walk(x.type)); };
    walk(f.type);
    const bad = ids.find((id) => LANCE_WRITE_UNSUPPORTED[id]);
    if (bad) out.push({ name: f.name, type: bad, reason: LANCE_WRITE_UNSUPPORTED[bad] });
  }
  return out;
}

module.exports = {
  CASES, MATRIX, getCase, makeRng, buildData, buildArrowTable,
  LANCE_WRITE_UNSUPPORTED, lanceUnsupportedColumns, TYPE_COLUMNS,
};
