'use strict';
// Deterministic interop test cases and their exact Arrow tables.
//
// A case is {name, spec, schema, fields, defaultRows, description, kind, rows(n, opts)}:
//   spec    clance schema spec string ("a:int32,b:string!,...": '!' = non-nullable)
//   schema  {column name -> type string} (same strings as in spec, '!' included)
//   fields  parsed spec: [{name, type, nullable}]
//   kind    'matrix' (the standard matrix), 'extra' or 'nested' (nested and additional types)
//   rows(n, {storageVersion}) -> array of n row objects (row i is the same whatever n is: n only
//           truncates/extends). With storageVersion "2.0" every null struct (at any depth, also
//           struct items of lists) becomes a struct whose children are null (nested structs:
//           recursively), because Lance 12 refuses struct validity in 2.0 files
//           ("Lance file version 2.0 does not encode struct validity"). Cases without structs
//           give the same rows for every storage version.
// JS value domain of a row: int8..int32/uint8..uint32/date32/time32 -> number; int64/uint64/
// date64/timestamp/time64/duration -> BigInt; decimal -> BigInt (unscaled value);
// float32/float64/float16 -> number (already rounded to the width); string -> string;
// binary/fixed_size_binary -> Uint8Array; vector/list/large_list -> array of item values;
// struct -> plain object {field: value} (a missing field is null); null -> null.

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
// extra_types: float16, decimal, fixed_size_binary, date64, time32/64, duration
// (timestamps of every unit take SPECIAL.timestamp: values are plain counts of the unit).
SPECIAL.float16 = [65504, -65504, NaN, Infinity, -Infinity, -0, 2 ** -24, 2 ** -14];
SPECIAL.decimal = (t, k) => {
  const max = 10n ** BigInt(t.precision) - 1n;
  const v = [-max, max, 0n, -1n, 1n, 12345n, -12345n, 10n ** BigInt(t.precision - 1)][k];
  return v > max || v < -max ? null : v;
};
SPECIAL.fixed_size_binary = (t, k) => {
  const w = t.width;
  switch (k) {
    case 0: return new Uint8Array(w);
    case 1: return new Uint8Array(w).fill(0xff);
    case 2: return new Uint8Array(w).map((_, j) => j);
    case 3: return new Uint8Array(w).map((_, j) => [0x22, 0x5c, 0x0a, 0x00, 0x7f][j % 5]); // " \ \n NUL DEL
    case 4: return new Uint8Array(w).map((_, j) => 0x80 + j);
    default: return null;
  }
};
SPECIAL.date64 = [-(2n ** 63n), 2n ** 63n - 1n, -62135596800000n, 253402300799999n, 0n, -1n, 1700000000123n, 86400000n];
// time32/time64 hold counts within a day, but Arrow does not enforce that: the extremes
// check that the storage is transparent.
SPECIAL.time32 = (t, k) => [0, t.unit === 's' ? 86399 : 86399999, -2147483648, 2147483647, 1, 43200, -1, 12345][k];
SPECIAL.time64 = (t, k) => [0n, t.unit === 'us' ? 86399999999n : 86399999999999n, -(2n ** 63n), 2n ** 63n - 1n, 1n, 43200n, -1n, 12345678n][k];
SPECIAL.duration = [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 1n, 1000000000n, -86400000000000n, 2n ** 53n + 1n];
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

// Dictionary columns draw from a fixed pool of DICT_POOL values per type (low cardinality,
// as dictionaries are meant for; small enough for int8 keys).
const DICT_POOL = 40;
const dictPools = new Map();
function dictPool(type) {
  const key = canon.typeToSpec(type);
  if (!dictPools.has(key)) {
    const rng = makeRng(0xD1C7 + key.length);
    const seen = new Set(), pool = [];
    while (pool.length < DICT_POOL) {
      const v = randomValue(rng, type.value);
      const k = canon.fmtValue(type.value, v);
      if (!seen.has(k)) { seen.add(k); pool.push(v); }
    }
    dictPools.set(key, pool);
  }
  return dictPools.get(key);
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
    case 'decimal': {
      if (rng.next() < 0.5) return BigInt(rng.int(-100000, 100000)) % (10n ** BigInt(type.precision));
      const m = 10n ** BigInt(type.precision);
      const u = ((rng.u64() << 64n) | rng.u64()) % m;
      return rng.next() < 0.5 ? -u : u;
    }
    case 'fixed_size_binary': return randBytes(rng, type.width, type.width);
    case 'date64':
      return rng.next() < 0.8 ? BigInt(rng.int(-50000, 60000)) * 86400000n : BigInt(rng.int(-(2 ** 51), 2 ** 51));
    case 'time32': return rng.int(0, type.unit === 's' ? 86399 : 86399999);
    case 'time64': {
      const us = BigInt(rng.int(0, 86399999)) * 1000n + BigInt(rng.int(0, 999));
      return type.unit === 'us' ? us : us * 1000n + BigInt(rng.int(0, 999));
    }
    case 'duration': return rng.next() < 0.6 ? BigInt(rng.int(-1000000000, 1000000000)) : rng.i64();
    case 'dictionary': return dictPool(type)[rng.int(0, DICT_POOL - 1)];
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

// Storage versions whose files cannot hold null structs (Lance 12: "Lance file version 2.0
// does not encode struct validity").
const NO_STRUCT_NULLS_VERSIONS = new Set(['2.0']);

function hasStruct(type) {
  return type.id === 'struct' || (type.item ? hasStruct(type.item) : false);
}

/** v (of spec type `type`) with every null struct replaced by a struct of null children. */
function stripStructNulls(type, v) {
  if (type.id === 'struct') {
    const o = {};
    for (const f of type.fields) o[f.name] = stripStructNulls(f.type, v === null || v === undefined ? null : v[f.name]);
    return o;
  }
  if (v === null || v === undefined) return null;
  if (type.item && hasStruct(type.item)) return v.map((x) => stripStructNulls(type.item, x));
  return v;
}

/** Does the case need other rows for storage version `sv` (see rows() above)? */
function rowsDependOnVersion(c, sv) {
  return NO_STRUCT_NULLS_VERSIONS.has(sv) && c.fields.some((f) => hasStruct(f.type));
}

/**
 * Mark the struct at `path` of `fields` as a packed struct (Arrow field metadata `key` = "true",
 * set by canon.arrowFieldOf): "s" is top-level column s, "s.p" child p of struct s, "l.item" the
 * items of list l.
 */
function markPacked(fields, path, key) {
  const segs = path.split('.');
  const top = fields.find((f) => f.name === segs[0]);
  if (!top) throw new Error(`packed: no column "${segs[0]}"`);
  let t = top.type;
  for (const seg of segs.slice(1)) {
    if (t.id === 'struct') {
      const f = t.fields.find((x) => x.name === seg);
      if (!f) throw new Error(`packed: "${path}": no field "${seg}"`);
      t = f.type;
    } else if ((t.id === 'list' || t.id === 'large_list') && seg === 'item') {
      t = t.item;
    } else {
      throw new Error(`packed: "${path}": cannot step into ${t.id} with "${seg}"`);
    }
  }
  if (t.id !== 'struct') throw new Error(`packed: "${path}" is a ${t.id}, not a struct`);
  t.packed = key;
}

/**
 * opts.packed: {path: metadata key} of structs to mark packed (markPacked).
 * opts.lanceVersions: the storage versions Lance 12 can write the case in (default: all).
 */
function makeCase(name, spec, defaultRows, description, gen, kind, opts = {}) {
  const fields = canon.parseSpec(spec);
  for (const [path, key] of Object.entries(opts.packed || {})) markPacked(fields, path, key);
  const schema = {};
  for (const f of fields) schema[f.name] = canon.typeToSpec(f.type) + (f.nullable ? '' : '!');
  const c = { name, spec, schema, fields, defaultRows, description, kind };
  if (opts.packed) c.packed = opts.packed;
  if (opts.lanceVersions) c.lanceVersions = opts.lanceVersions;
  c.rows = (n = defaultRows, opts = {}) => {
    const rows = gen(n, fields);
    if (!opts.storageVersion || !rowsDependOnVersion(c, opts.storageVersion)) return rows;
    const sf = fields.filter((f) => hasStruct(f.type));
    for (const r of rows) for (const f of sf) r[f.name] = stripStructNulls(f.type, r[f.name]);
    return rows;
  };
  return c;
}

// all_types / no_nulls generator. withNulls: ~10% nulls per nullable column, an all-null row
// (row 6), an all-null stretch over every nullable column (rows 1000..1099) and whole
// 1024-row chunks of nulls in single columns (s: rows 2048..3071, v8: rows 1200..1599).
function typesRows(withNulls, seed = withNulls ? 0xA11 : 0xB22) {
  return (n, fields) => {
    const rng = makeRng(seed);
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      const row = {};
      for (const f of fields) {
        if (f.name === 'id') { row.id = BigInt(i); continue; }
        const nullDraw = rng.next();
        let v;
        if (i < SPECIAL_ROWS) {
          const sp = SPECIAL[f.type.id];
          v = f.type.id === 'fixed_size_list' ? specialVector(f.type.dim, i) : typeof sp === 'function' ? sp(f.type, i) : sp[i];
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

addCase(makeCase('packed_floats', 'id:int64,u:float64,f:float32,h:float16', 5000,
  'non-negative floats below 2 (bit-packed as their bit patterns in 2.1/2.2, as Lance does), ' +
  'with nulls, 0, -0 and 1.999',
  (n) => {
    const rng = makeRng(0xB17F);
    const special = [0, 1.999, -0]; // -0 sets the sign bit: its group of 1024 packs to 64 bits
    return Array.from({ length: n }, (_, i) => {
      if (i < special.length) {
        const x = special[i];
        return { id: BigInt(i), u: x, f: Math.fround(x), h: canon.f16round(x) };
      }
      const nul = rng.next() < 0.05;
      return {
        id: BigInt(i),
        u: rng.next(),
        f: nul ? null : Math.fround(rng.next()),
        h: nul ? null : canon.f16round(rng.next()),
      };
    });
  }));

// ---------------------------------------------------------------------------
// Nested and additional types (kind "nested"). Nulls at every level; rows 0-7 hold the edge
// cases (empty lists, null lists, lists of null items, null structs, structs of null
// children, extremes), then ~10% nulls at every level, plus stretches of null / empty values.
// With --storage-version 2.0 null structs become structs of null children (see rows()).
// ---------------------------------------------------------------------------

// List lengths: mostly short, sometimes long (top level: up to 600 items; deeper: short).
function listLen(rng, depth) {
  const r = rng.next();
  if (depth > 0) return r < 0.15 ? 0 : r < 0.9 ? rng.int(1, 4) : rng.int(5, 30);
  return r < 0.1 ? 0 : r < 0.7 ? rng.int(1, 5) : r < 0.9 ? rng.int(6, 20) : r < 0.98 ? rng.int(21, 100) : rng.int(101, 600);
}

/**
 * Random value of any spec type, with ~pNull nulls at every level below the top.
 * o.shortStrings: strings below the top level stay under 256 bytes (see the nested case).
 */
function randomDeep(rng, type, pNull = 0.1, depth = 0, o = {}) {
  switch (type.id) {
    case 'list': case 'large_list': {
      const n = listLen(rng, depth);
      const a = new Array(n);
      for (let k = 0; k < n; k++) a[k] = rng.next() < pNull ? null : randomDeep(rng, type.item, pNull, depth + 1, o);
      return a;
    }
    case 'struct': {
      const v = {};
      for (const f of type.fields) v[f.name] = rng.next() < pNull ? null : randomDeep(rng, f.type, pNull, depth + 1, o);
      return v;
    }
    case 'fixed_size_list': {
      const v = randVector(rng, type.dim);
      if (rng.next() < pNull) v[rng.int(0, type.dim - 1)] = null;
      return v;
    }
    case 'string': case 'large_string':
      if (depth > 0 && o.shortStrings) return rng.next() < 0.8 ? randString(rng, 0, 12) : randString(rng, 13, 200);
      return depth > 0 && rng.next() < 0.8 ? randString(rng, 0, 12) : randomValue(rng, type);
    default: return randomValue(rng, type);
  }
}

/**
 * Generator for the nested cases: row i takes special[i][column] when i < special.length
 * (when the column is there), else null in a stretch, else ~10% null, else randomDeep().
 * `stretch(i, name)` returns undefined (no stretch) or the value of rows in a stretch.
 */
function nestedRows(seed, special, stretch, o = {}) {
  return (n, fields) => {
    const rng = makeRng(seed);
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      const row = { id: BigInt(i) };
      for (const f of fields) {
        if (f.name === 'id') continue;
        const nullDraw = rng.next();
        let v = randomDeep(rng, f.type, 0.1, 0, o);
        const sp = i < special.length ? special[i] : null;
        if (sp && Object.prototype.hasOwnProperty.call(sp, f.name)) {
          v = typeof sp[f.name] === 'function' ? sp[f.name](rng, f.type) : sp[f.name];
        } else {
          const st = stretch(i, f.name);
          if (st !== undefined) v = typeof st === 'function' ? st(rng, f.type) : st;
          else if (nullDraw < 0.1) v = null;
        }
        row[f.name] = v;
      }
      out[i] = row;
    }
    return out;
  };
}

const F64_SPECIAL_ITEMS = [...SPECIAL.float64, null, 1.5];
const long = (len, nullEvery, o) => (rng, t) => Array.from({ length: len },
  (_, j) => (j % nullEvery === nullEvery - 1 ? null : randomDeep(rng, t.item, 0.1, 1, o)));
const allNull = (len) => Array.from({ length: len }, () => null);

addCase(makeCase('lists',
  'id:int64,li:list(int32),ls:list(string),lf:large_list(float64),lv:list(vector(float32,4))', 3000,
  'lists (and a large_list) of int32, string, float64 and vector(float32,4): empty, null, [null], ' +
  'all-null items, a long list (10000 items), extremes, null/empty stretches (rows 1000-1099 null, ' +
  '1500-1599 empty, 2000-2099 [null,null])',
  nestedRows(0x1157, [
    { li: [], ls: [], lf: [], lv: [] },
    { li: null, ls: null, lf: null, lv: null },
    { li: [null], ls: [null], lf: [null], lv: [null] },
    { li: allNull(5), ls: allNull(5), lf: allNull(5), lv: allNull(5) },
    { li: long(10000, 7), ls: long(3000, 11), lf: long(5000, 13), lv: long(1000, 5) },
    { li: [...SPECIAL.int32, null], ls: [...SPECIAL.string, null], lf: F64_SPECIAL_ITEMS,
      // NaN in a vector inside a list: row 5 is written by createTable (see lance_write.js)
      lv: [specialVector(4, 0), specialVector(4, 1), [null, null, null, null], null, specialVector(4, 2),
        [F32_MIN_SUB, -0, Infinity, -Infinity], specialVector(4, 3), [1, null, 0.5, null]] },
    { li: [7], ls: ['only'], lf: [-0.25], lv: [[1, 2, 3, 4]] },
    { li: [null, 1], ls: null, lf: [], lv: [null, [0, 0, 0, 0]] },
  ], (i) => (i >= 1000 && i < 1100 ? null : i >= 1500 && i < 1600 ? [] : i >= 2000 && i < 2100 ? [null, null] : undefined)),
  'nested'));

const STRUCT_ALL_NULL = { s: { x: null, y: null }, ss: { a: { b: null, c: null }, d: null } };
addCase(makeCase('structs',
  'id:int64,s:struct(x:int32,y:string),ss:struct(a:struct(b:int64,c:bool),d:float32)', 3000,
  'structs and a struct in a struct: null structs, structs of null children, extremes, ' +
  'rows 1000-1099 null, rows 1200-1299 structs of null children. 2.0: no null structs',
  nestedRows(0x5757, [
    { s: null, ss: null },
    { s: { x: null, y: null }, ss: { a: null, d: null } },
    { s: { x: -2147483648, y: '' }, ss: { a: { b: null, c: null }, d: NaN } },
    { s: { x: 2147483647, y: TRICKY }, ss: { a: { b: -(2n ** 63n), c: true }, d: -0 } },
    { s: { x: 0, y: null }, ss: { a: { b: 2n ** 63n - 1n, c: false }, d: F32_MAX } },
    { s: { x: null, y: LONG_UNICODE }, ss: { a: null, d: Infinity } },
    { s: null, ss: { a: { b: 0n, c: null }, d: null } },
    { s: { x: 1, y: 'a' }, ss: null },
  ], (i, name) => (i >= 1000 && i < 1100 ? null : i >= 1200 && i < 1300 ? STRUCT_ALL_NULL[name] : undefined)),
  'nested'));

// Every kind of leaf clance writes, inside structs (two deep), so that each page layout
// (mini-block, full-zip for the 512-byte vectors and the long strings, constant, dictionary)
// carries the struct layers; clance writes it without null structs (as 2.0 rows).
const longLeaf = (rng, t) => {
  const v = randomDeep(rng, t, 0, 0, {});
  v.u = { k: 1, big: LONG_UNICODE.repeat(3) };
  return v;
};
addCase(makeCase('struct_leaves',
  'id:int64,st:struct(v:vector(float32,128),s:string,b:binary,t:timestamp(us),f:float64,bo:bool,' +
  'u:struct(k:int8,big:string)),c:struct(k:int32)', 2500,
  'every kind of leaf inside structs: 512-byte vectors and strings over 256 bytes (full-zip ' +
  'pages), nulls inside, a struct of one constant int (2.2 constant pages)',
  nestedRows(0x57A7, [{ st: longLeaf }, { st: longLeaf }], (i, name) => (name === 'c' ? { k: 7 } : undefined)),
  'nested'));

// Lance 12 (2.1 and 2.2) cannot read back what it wrote for a struct column holding null
// structs and a list(string|binary) child with null lists and null items when the page has a
// value of >= 256 bytes (the full-zip layout): "Invalid input, Structural validity has N
// entries for an array with N+1 values". Minimal case: s:struct(y:list(string)) with rows
// null, {y:["ab","cd",<256 x "a">,null]}, {y:null}. So strings inside `n` stay short.
// The case nested_long_strings (below) has the same rows but long strings inside n too.
const SHORT = { shortStrings: true };
const NESTED_SPEC = 'id:int64,n:list(struct(x:int32,y:list(string))),m:struct(l:list(int64),t:string),ll:list(list(int32))';
const nestedCaseRows = (o) => nestedRows(0x4E57, [
    { n: [], m: { l: [], t: '' }, ll: [] },
    { n: null, m: null, ll: null },
    { n: [null], m: { l: null, t: null }, ll: [null] },
    { n: [{ x: null, y: null }], m: { l: [null], t: 'x' }, ll: [[]] },
    { n: [{ x: 1, y: [] }, { x: 2, y: [null] }, { x: null, y: ['a', null, ''] }, null],
      m: { l: [-(2n ** 63n), 2n ** 63n - 1n, null, 0n], t: TRICKY },
      ll: [[], null, [null], [1, 2, 3], [-2147483648, 2147483647]] },
    { n: long(2000, 9, o), m: (rng) => ({ l: long(5000, 7)(rng, { item: { id: 'int64' } }), t: LONG_UNICODE }), ll: long(1000, 6) },
    { n: [{ x: 5, y: null }], m: { l: [], t: null }, ll: [[null, null, null]] },
    { n: [null, null, null], m: { l: null, t: 'abc' }, ll: [null, null] },
  ], (i, name) => (i >= 1000 && i < 1100 ? null
    : i >= 1500 && i < 1600 ? { n: [], m: { l: [], t: '' }, ll: [[]] }[name] : undefined), o);
addCase(makeCase('nested', NESTED_SPEC, 3000,
  'lists of structs of lists, a struct of a list, lists of lists: empty/null/all-null at every ' +
  'level, long lists (row 5), rows 1000-1099 null, rows 1500-1599 empty. 2.0: no null structs. ' +
  'Strings inside n stay under 256 bytes (Lance 12 bug, see README)',
  nestedCaseRows(SHORT), 'nested'));

addCase(makeCase('extra_types',
  'id:int64,h:float16,dec:decimal(10,3),fsb:fixed_size_binary(5),d64:date64,t32:time32(ms),' +
  't64:time64(us),dur:duration(ns),tns:timestamp(ns),ts_s:timestamp(s,Asia/Tokyo)', 3000,
  'float16, decimal128(10,3), fixed_size_binary(5), date64, time32(ms), time64(us), duration(ns), ' +
  'timestamp(ns), timestamp(s,Asia/Tokyo): extremes in rows 0-7 (int64 min/max everywhere it fits), ' +
  'row 6 all null, rows 1000-1099 null, ~10% nulls',
  typesRows(true, 0xE77A), 'nested'));

addCase(makeCase('dictionaries',
  'id:int64,ds:dictionary(int32,string),d8:dictionary(int8,string),dl:dictionary(int32,large_string),' +
  'db:dictionary(int16,binary),di:dictionary(int32,int64),df:dictionary(uint16,float64)', 3000,
  'dictionary-typed columns (Arrow dictionaries as Lance stores them) of strings, large strings, ' +
  'binary, int64 and float64 with int8/int16/int32/uint16 keys: 40 distinct values each, empty ' +
  'values, ~10% nulls, rows 1000-1099 null',
  nestedRows(0xD1C7, [
    { ds: '', d8: null, dl: '', db: new Uint8Array(0), di: 0n, df: -0 },
    { ds: null, d8: null, dl: null, db: null, di: null, df: null },
  ], (i) => (i >= 1000 && i < 1100 ? null : undefined)),
  'nested'));

// Pages: with 3 fragments (interop.js), 2.1/2.2 files have 7-8 pages per list column, and 2.0
// files 2 pages for the items of ls (strings of ~35 bytes, to pass 2.0's ~8 MB page size).
addCase(makeCase('big_nested', 'id:int64,li:list(int64),ls:list(string)', 100000,
  '100k rows of 0..20 items (multi-page lists), 5% null lists, 5% null items, rows 50000-51099 ' +
  'null, rows 60000-61099 empty',
  (n) => {
    const rng = makeRng(0xB1647);
    const out = new Array(n);
    const special = [[[], []], [null, null], [[null], [null]], [allNull(20), allNull(20)]];
    for (let i = 0; i < n; i++) {
      const row = { id: BigInt(i) };
      for (const name of ['li', 'ls']) {
        const len = rng.int(0, 20);
        let v = rng.next() < 0.05 ? null : new Array(len);
        for (let k = 0; k < len; k++) {
          const x = rng.next() < 0.05 ? null
            : name === 'li' ? (rng.next() < 0.5 ? BigInt(rng.int(-1000, 1000)) : rng.i64())
              : `${i}.${k}:` + (rng.next() < 0.1 ? '😀é' : '') + rng.u32().toString(36).repeat(rng.int(1, 8));
          if (v) v[k] = x;
        }
        if (i < special.length) v = special[i][name === 'li' ? 0 : 1];
        else if (i >= 50000 && i < 51100) v = null;
        else if (i >= 60000 && i < 61100) v = [];
        row[name] = v;
      }
      out[i] = row;
    }
    return out;
  }, 'nested'));

// The rows of `nested` (1000 of them) with strings of up to 1500 bytes inside n as well. Lance 12
// writes them but cannot read them back with storage versions 2.1 and 2.2 (the bug above);
// clance is checked against these rows, which need no Lance reader. In 2.0 (no null structs)
// Lance reads them.
addCase(makeCase('nested_long_strings', NESTED_SPEC, 1000,
  'the rows of nested with long strings (up to 1500 bytes) inside n too: Lance 12 cannot read ' +
  'them back in 2.1/2.2 (Lance bug), gen_input is the only oracle. 2.0: no null structs',
  nestedCaseRows({}), 'nested'));
CASES.nested_long_strings.lanceReadFails = {
  versions: ['2.1', '2.2'],
  pattern: /Structural validity has \d+ entries for an array with \d+ values/,
  reason: 'Lance 12 bug: struct validity + list(string) with null lists/items + values >= 256 bytes',
};

// Packed structs: struct columns whose Arrow field metadata says packed = "true" (or
// lance-encoding:packed = "true"), which Lance stores as ONE column (2.0: PackedStruct, rows of
// the children's values; 2.1/2.2: a mini-block PackedStruct of fixed-width children; 2.2 with
// variable-width or fixed-size-list children: a full-zip VariablePackedStruct). Lance 12 refuses
// nulls inside packed structs (children: every version; the structs themselves: unless every
// row of a page is null), bool children (it stores no bits for them) and, in 2.0/2.1, strings;
// in 2.1 also fixed-size-list children. So these cases hold no nulls in packed structs except a
// column that is null throughout (packed_structs_var.an), while the other columns have nulls.
const packedScalar = (rng, t, i) => {
  const sp = SPECIAL[t.id];
  const v = i < SPECIAL_ROWS ? (typeof sp === 'function' ? sp(t, i) : sp ? sp[i] : null) : null;
  return v === null || v === undefined ? randomValue(rng, t) : v;
};
const packedStruct = (rng, t, i) => {
  const o = {};
  for (const f of t.fields) {
    o[f.name] = f.type.id === 'fixed_size_list' ? randVector(rng, f.type.dim) : packedScalar(rng, f.type, i);
  }
  return o;
};
const packedList = (rng, t, i) => {
  if (i === 0) return [];
  if (i === 1) return null;
  if (i === 3) return Array.from({ length: 300 }, (_, k) => packedStruct(rng, t.item, SPECIAL_ROWS + k));
  const r = rng.next();
  if (r < 0.1) return null;
  return Array.from({ length: r < 0.2 ? 0 : rng.int(1, 5) }, () => packedStruct(rng, t.item, i));
};

addCase(makeCase('packed_structs',
  'id:int64,ps:struct(a:int8,b:uint16,c:int32,d:int64,e:float32,f:float64,g:float16,h:decimal(10,3),' +
  'i:date32,j:timestamp(us),k:fixed_size_binary(3),u:uint64),p1:struct(x:int64),' +
  'ns:struct(p:struct(x:int32,y:float64),z:int64),lp:list(struct(x:int32,y:float64)),nn:struct(x:int32!,y:float64!)!', 3000,
  'packed structs (one column each) of fixed-width children: ps (12 types, extremes in rows 0-7), ' +
  'p1 (one child, key lance-encoding:packed), ns.p (packed inside a plain struct whose other child ' +
  'has ~10% nulls), lp (list of packed structs: empty, null, 300 items), nn (non-nullable). No nulls ' +
  'inside packed structs (Lance refuses them)',
  (n, fields) => {
    const rng = makeRng(0x9AC5);
    const out = new Array(n);
    const ty = Object.fromEntries(fields.map((f) => [f.name, f.type]));
    for (let i = 0; i < n; i++) {
      const zNull = rng.next() < 0.1;
      out[i] = {
        id: BigInt(i),
        ps: packedStruct(rng, ty.ps, i),
        p1: { x: i < SPECIAL_ROWS ? SPECIAL.int64[i] : rng.i64() },
        ns: { p: packedStruct(rng, ty.ns.fields[0].type, i), z: zNull ? null : randomValue(rng, ty.ns.fields[1].type) },
        lp: packedList(rng, ty.lp, i),
        nn: { x: i - 1500, y: i / 8 },
      };
    }
    return out;
  }, 'nested', { packed: { ps: 'packed', p1: 'lance-encoding:packed', 'ns.p': 'packed', 'lp.item': 'packed', nn: 'packed' } }));

addCase(makeCase('packed_structs_var',
  'id:int64,vs:struct(x:int32,t:string,b:binary,v:vector(float32,4),l:large_string),' +
  'fv:struct(a:int16,w:fixed_size_list(int64,2)),an:struct(x:int32,y:float64),' +
  'ls:list(struct(k:int32,t:string)),os:struct(p:struct(t:string,x:int64),z:float64)', 3000,
  '2.2 only: packed structs with variable-width or fixed-size-list children (full-zip ' +
  'VariablePackedStruct): strings (empty, unicode, up to 1500 bytes: FSST), binary, large_string, ' +
  'vectors; fv: fixed-size lists only; an: null in every row (constant layout); ls: a list of them; ' +
  'os.p inside a plain struct. Lance 12 writes these only in 2.2',
  (n, fields) => {
    const rng = makeRng(0x9AC6);
    const out = new Array(n);
    const ty = Object.fromEntries(fields.map((f) => [f.name, f.type]));
    for (let i = 0; i < n; i++) {
      out[i] = {
        id: BigInt(i),
        vs: packedStruct(rng, ty.vs, i),
        fv: { a: rng.int(-32768, 32767), w: [rng.i64(), BigInt(i)] },
        an: null,
        ls: packedList(rng, ty.ls, i),
        os: { p: packedStruct(rng, ty.os.fields[0].type, i), z: rng.next() < 0.1 ? null : randFloat(rng) },
      };
    }
    return out;
  }, 'nested', { packed: { vs: 'packed', fv: 'packed', an: 'packed', 'ls.item': 'packed', 'os.p': 'packed' }, lanceVersions: ['2.2'] }));

// Dictionary pages (and the other page encodings Lance 12 chooses for repeated values), in
// both directions. Lance 12 (2.1/2.2) dictionary-encodes a page of strings/binary or of 128-bit
// values (2.2: also 64-bit values) when it has >= 100 values, at most n/2 distinct ones (also as
// projected from a sample) and the dictionary + 4-byte indices take <= 80 % of the plain size.
// clance-to-lance writes 4 files of n/4 rows (two workers, two files each): with the default
// 1200 rows, 300-row pages, so `at_half` (150 distinct per 300 rows) sits exactly at the limit
// and `over_half` (151) just over it; Lance writes 3 fragments of 400 rows (both under).
// `clancePages` says what clance's pages of a column must be, per storage version (every page
// of the column matches the pattern; bench/page_dump describes them); interop.js checks it.
const DICT_WORDS = ['INFO', 'WARN', 'ERROR', '', 'DEBUG', 'äöü-ü', '中文', 'tab\there', 'quote"back\\slash',
  'a value that is quite a bit longer than the others', 'x', '😀'];
addCase(makeCase('dict_pages',
  'id:int64,s:string,ls:large_string,b:binary,e:string,one:string,onen:string,at_half:string,' +
  'over_half:string,dec:decimal(20,4),i64:int64,f64:float64,ts:timestamp(us)', 1200,
  'low-cardinality columns: dictionary pages with nulls, empty strings, one distinct value, ' +
  'n/2 and n/2+1 distinct values per clance page, 128-bit and 64-bit values, sorted runs',
  (n) => {
    const rng = makeRng(0xD1C7);
    const bins = [new Uint8Array([]), new Uint8Array([0, 255, 0]), new Uint8Array([1, 2, 3, 4]),
      new Uint8Array([0xff]), new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9, 9])];
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      const null1 = i < 3 || rng.next() < 0.08;
      out[i] = {
        id: BigInt(i),
        s: null1 ? null : DICT_WORDS[rng.int(0, DICT_WORDS.length - 1)],
        ls: rng.next() < 0.15 ? null : DICT_WORDS[(i * 7) % DICT_WORDS.length],
        b: rng.next() < 0.05 ? null : bins[rng.int(0, bins.length - 1)],
        e: i % 3 === 0 ? null : '',
        one: 'constant-value',
        onen: rng.next() < 0.3 ? null : 'only',
        at_half: `v${String(i % 150).padStart(11, '0')}`,
        over_half: `w${String(i % 151).padStart(11, '0')}`,
        dec: rng.next() < 0.1 ? null : BigInt(rng.int(-10, 9)) * 123456789012345n + 5n,
        i64: rng.next() < 0.1 ? null : BigInt(rng.int(0, 40)) * 100000000007n - 3000000000000n,
        f64: rng.next() < 0.1 ? null : rng.int(0, 24) * 0.37 - 4.5,
        ts: BigInt(1700000000000000 + Math.floor(i / 40) * 3600000000),
      };
    }
    return out;
  }));
CASES.dict_pages.clancePages = {
  '2.1': {
    s: /dict=Var\(Flat32\)/, ls: /dict=Var\(Flat64\)/, b: /dict=Var\(Flat32\)/, e: /^(?!.*dict=)/,
    one: /dict=/, onen: /dict=/, at_half: /dict=/, over_half: /^(?!.*dict=)/, dec: /dict=Flat128/,
    i64: /^(?!.*dict=)/, f64: /^(?!.*dict=)/, ts: /values=Rle\(Flat64,Flat8\)/,
  },
  '2.2': {
    s: /dict=/, ls: /dict=/, b: /dict=/, e: /^(?!.*dict=)/, one: /^Constant/, onen: /dict=/,
    at_half: /dict=/, over_half: /^(?!.*dict=)/, dec: /dict=/, i64: /dict=/, f64: /dict=/,
    ts: /values=Rle\(Flat32,Flat8\) dict=/,
  },
};

// Repeated long values: Lance tries a dictionary before choosing mini-block or full-zip, so
// strings of 300..2000 bytes from a few distinct ones become a mini-block dictionary page.
// clance writes several pages per file here (--max-rows-per-group 125: four pages of 125 rows per file).
addCase(makeCase('dict_long', 'id:int64,r:string,rb:large_binary,u:string', 2000,
  'long repeated values (dictionary before full-zip), several dictionary pages per file, ' +
  'and a column of long distinct strings (full-zip)',
  (n) => {
    const rng = makeRng(0xD10C);
    const pool = Array.from({ length: 8 }, (_, k) => randString(rng, 300, 2000) + `#${k}`);
    const bpool = Array.from({ length: 5 }, () => randBytes(rng, 256, 700));
    return Array.from({ length: n }, (_, i) => ({
      id: BigInt(i),
      r: rng.next() < 0.05 ? null : pool[rng.int(0, pool.length - 1)],
      rb: rng.next() < 0.05 ? null : bpool[rng.int(0, bpool.length - 1)],
      u: i % 10 === 9 ? null : `${i}:` + randString(rng, 300, 400),
    }));
  }));
CASES.dict_long.clanceWriteArgs = ['--max-rows-per-group', '125'];
CASES.dict_long.clancePages = {
  '2.1': { r: /^MiniBlock .*dict=Var\(Flat32\)/, rb: /^MiniBlock .*dict=Var\(Flat64\)/, u: /^FullZip/ },
  '2.2': { r: /^MiniBlock.*dict=/, rb: /^MiniBlock.*dict=/, u: /^FullZip/ },
};

// Values over 32 KiB: Lance 12 compresses each one with zstd in full-zip pages (General(zstd)
// around Variable), compressible or not.
addCase(makeCase('zstd_values', 'id:int64,s:string,b:binary', 40,
  'strings and binaries of 33..50 KiB (zstd per value in full-zip pages), some null or empty',
  (n) => {
    const rng = makeRng(0x25D);
    return Array.from({ length: n }, (_, i) => {
      const len = rng.int(33 * 1024, 50 * 1024);
      const word = randString(rng, 5, 40);
      let s = '';
      while (s.length < len) s += `${word} ${i} `; // whole words: no surrogate pair cut in two
      return {
        id: BigInt(i),
        s: i % 7 === 3 ? null : i % 11 === 5 ? '' : s,
        b: i % 9 === 4 ? null : randBytes(rng, 33 * 1024 + 1, 34 * 1024),
      };
    });
  }));
CASES.zstd_values.clancePages = {
  '2.1': { s: /values=General\[zstd:0\]\(Var\(Flat32\)\)/, b: /values=General\[zstd:0\]\(Var\(Flat32\)\)/ },
  '2.2': { s: /values=General\[zstd:0\]\(Var\(Flat32\)\)/, b: /values=General\[zstd:0\]\(Var\(Flat32\)\)/ },
};

/** The cases of the standard interop matrix (the brief's list). */
const MATRIX = ['all_types', 'no_nulls', 'seed', 'low_cardinality', 'long_strings', 'vectors128', 'big'];
for (const c of Object.values(CASES)) if (!c.kind) c.kind = MATRIX.includes(c.name) ? 'matrix' : 'extra';

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
    case 'time32': case 'float32': case 'float64': {
      const Ctor = { int8: Int8Array, int16: Int16Array, int32: Int32Array, uint8: Uint8Array, uint16: Uint16Array,
        uint32: Uint32Array, date32: Int32Array, time32: Int32Array, float32: Float32Array, float64: Float64Array }[type.id];
      const data = new Ctor(n);
      for (let i = 0; i < n; i++) if (values[i] !== null && values[i] !== undefined) data[i] = values[i];
      return arrow.makeData({ ...base, data });
    }
    case 'float16': {
      const data = new Uint16Array(n);
      for (let i = 0; i < n; i++) if (values[i] !== null && values[i] !== undefined) data[i] = canon.f16ToBits(values[i]);
      return arrow.makeData({ ...base, data });
    }
    case 'int64': case 'timestamp': case 'date64': case 'uint64': case 'time64': case 'duration': {
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
    case 'decimal': { // 128-bit two's complement, 4 little-endian 32-bit words per value
      const data = new Uint32Array(4 * n);
      const max = 10n ** BigInt(type.precision);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) continue;
        const b = BigInt(v);
        if (b >= max || b <= -max) throw new Error(`row ${i}: ${b} does not fit decimal(${type.precision},${type.scale})`);
        const u = BigInt.asUintN(128, b);
        for (let k = 0; k < 4; k++) data[4 * i + k] = Number((u >> BigInt(32 * k)) & 0xffffffffn);
      }
      return arrow.makeData({ ...base, data });
    }
    case 'fixed_size_binary': {
      const w = type.width;
      const data = new Uint8Array(n * w);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) continue;
        if (v.length !== w) throw new Error(`row ${i}: ${v.length} bytes, want fixed_size_binary(${w})`);
        data.set(v, i * w);
      }
      return arrow.makeData({ ...base, data });
    }
    case 'list': case 'large_list': {
      const large = type.id === 'large_list';
      const offs = large ? new BigInt64Array(n + 1) : new Int32Array(n + 1);
      const items = [];
      for (let i = 0; i < n; i++) {
        offs[i] = large ? BigInt(items.length) : items.length;
        const v = values[i];
        if (v === null || v === undefined) continue;
        for (const x of v) items.push(x === undefined ? null : x);
      }
      if (!large && items.length > 2147483647) throw new Error('list column too large for 32-bit offsets');
      offs[n] = large ? BigInt(items.length) : items.length;
      const child = buildData(type.item, items);
      if (large) return canon.makeLargeListData({ ...base, valueOffsets: offs, child });
      return arrow.makeData({ ...base, valueOffsets: offs, child });
    }
    case 'struct': {
      // child slots of a null struct are null (like pyarrow)
      const children = type.fields.map((f) => buildData(f.type, values.map((v) => {
        const x = v === null || v === undefined ? null : v[f.name];
        return x === undefined ? null : x;
      })));
      return arrow.makeData({ ...base, children });
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
    case 'dictionary': {
      // Distinct values in first-seen order; keys index them.
      const index = new Map(), dict = [];
      const KeyCtor = { int8: Int8Array, int16: Int16Array, int32: Int32Array, uint8: Uint8Array,
        uint16: Uint16Array, uint32: Uint32Array }[type.key.id];
      if (!KeyCtor) throw new Error(`buildData: dictionary key type ${type.key.id} not supported here`);
      const data = new KeyCtor(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) continue;
        const k = canon.fmtValue(type.value, v);
        if (!index.has(k)) { index.set(k, dict.length); dict.push(v); }
        data[i] = index.get(k);
      }
      return arrow.makeData({ ...base, data, dictionary: arrow.makeVector(buildData(type.value, dict)) });
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
// Empty: every type of the spec language is accepted by every storage version, including
// float16, decimal(P,S), fixed_size_binary, date64, time32/64, duration, timestamp(ns/s,TZ),
// list, large_list (arrow_large_list.js), struct and lists of vectors. The one refusal,
// null structs in 2.0 files, concerns values, not types: rows() handles it (NO_STRUCT_NULLS_VERSIONS).
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
  CASES, MATRIX, getCase, makeRng, buildData, buildArrowTable, markPacked,
  NO_STRUCT_NULLS_VERSIONS, rowsDependOnVersion, hasStruct, stripStructNulls,
  LANCE_WRITE_UNSUPPORTED, lanceUnsupportedColumns, TYPE_COLUMNS,
};
