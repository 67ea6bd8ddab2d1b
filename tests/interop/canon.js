'use strict';
// Shared pieces of the interop harness:
//  - the schema spec language (same as clance_schema_parse: "a:int32,b:string!,v:vector(float32,8)")
//  - the CANONICAL JSONL row format (the contract with `clance scan --format jsonl`
//    and `clance write-fragments --format jsonl`)
//  - reading canonical cells straight from raw Arrow buffers (no JS Date objects)
//  - a JSON parser that keeps number literals as exact text (for 64-bit ints)
//
// Canonical value rules (one JSON object per line, keys in schema order, no whitespace):
//   null -> null; bool -> true/false; int8..int64, uint8..uint64 -> exact integer literal;
//   float16/32/64 -> shortest decimal that round-trips in its own width ("-0" kept),
//     NaN -> "NaN", +inf -> "Infinity", -inf -> "-Infinity" (JSON strings);
//   utf8/large_utf8 -> JSON string (escaped like JSON.stringify: \" \\ \b \f \n \r \t,
//     other control chars as \u00XX lowercase hex, everything else raw UTF-8);
//   binary/large_binary -> lowercase hex string;
//   date32 -> integer days; date64 -> integer ms; timestamp(unit[,tz]) -> integer count of unit;
//   time32(unit)/time64(unit)/duration(unit) -> integer count of unit;
//   decimal(P,S) (decimal128) -> JSON string of the exact value with exactly S fractional
//     digits ("-12.345", "0.000"; no '.' when S = 0);
//   fixed_size_binary(N) -> lowercase hex string of exactly 2N digits;
//   fixed_size_list/list/large_list -> JSON array of canonical items;
//   struct -> JSON object with the struct's fields as keys, in field order.

// ---------------------------------------------------------------------------
// Spec language
// ---------------------------------------------------------------------------

const SIMPLE_ALIASES = {
  bool: 'bool', boolean: 'bool',
  int8: 'int8', int16: 'int16', int32: 'int32', int64: 'int64',
  uint8: 'uint8', uint16: 'uint16', uint32: 'uint32', uint64: 'uint64',
  float16: 'float16', halffloat: 'float16',
  float32: 'float32', float: 'float32',
  float64: 'float64', double: 'float64',
  string: 'string', utf8: 'string',
  large_string: 'large_string', large_utf8: 'large_string',
  binary: 'binary', large_binary: 'large_binary',
  date32: 'date32', date64: 'date64',
};
const INT_IDS = new Set(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64']);
const INT_RANGE = {
  int8: [-(2n ** 7n), 2n ** 7n - 1n], int16: [-(2n ** 15n), 2n ** 15n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n], int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint8: [0n, 2n ** 8n - 1n], uint16: [0n, 2n ** 16n - 1n],
  uint32: [0n, 2n ** 32n - 1n], uint64: [0n, 2n ** 64n - 1n],
  date32: [-(2n ** 31n), 2n ** 31n - 1n], date64: [-(2n ** 63n), 2n ** 63n - 1n],
  timestamp: [-(2n ** 63n), 2n ** 63n - 1n],
  time32: [-(2n ** 31n), 2n ** 31n - 1n], time64: [-(2n ** 63n), 2n ** 63n - 1n],
  duration: [-(2n ** 63n), 2n ** 63n - 1n],
};
const TS_UNITS = new Set(['s', 'ms', 'us', 'ns']);
const TIME_UNITS = { time32: new Set(['s', 'ms']), time64: new Set(['us', 'ns']) };
const MAX_DECIMAL128_PRECISION = 38;

class SpecError extends Error {}

// Split on `sep` at nesting depth 0 (parentheses / angle brackets).
function splitTop(s, sep) {
  const out = [];
  let depth = 0, start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '<') depth++;
    else if (c === ')' || c === '>') depth--;
    else if (c === sep && depth === 0) { out.push(s.slice(start, i)); start = i + 1; }
    if (depth < 0) throw new SpecError(`unbalanced ')' in "${s}"`);
  }
  if (depth !== 0) throw new SpecError(`unbalanced '(' in "${s}"`);
  out.push(s.slice(start));
  return out;
}

// Parse one type expression (without the trailing '!').
function parseType(text) {
  const t = text.trim();
  const low = t.toLowerCase();
  if (Object.prototype.hasOwnProperty.call(SIMPLE_ALIASES, low)) return { id: SIMPLE_ALIASES[low] };
  const m = /^([a-z_0-9]+)\s*[(<]([\s\S]*)[)>]$/i.exec(t);
  if (!m) throw new SpecError(`unknown type "${t}"`);
  const head = m[1].toLowerCase();
  const args = m[2];
  if (head === 'timestamp') {
    const parts = splitTop(args, ',').map((x) => x.trim());
    if (parts.length < 1 || parts.length > 2 || !TS_UNITS.has(parts[0].toLowerCase())) {
      throw new SpecError(`bad timestamp type "${t}" (want timestamp(s|ms|us|ns[,TZ]))`);
    }
    return { id: 'timestamp', unit: parts[0].toLowerCase(), tz: parts.length === 2 && parts[1] !== '' ? parts[1] : null };
  }
  if (head === 'time32' || head === 'time64' || head === 'duration') {
    const unit = args.trim().toLowerCase();
    const ok = head === 'duration' ? TS_UNITS : TIME_UNITS[head];
    if (!ok.has(unit)) throw new SpecError(`bad ${head} type "${t}" (want ${head}(${[...ok].join('|')}))`);
    return { id: head, unit };
  }
  if (head === 'decimal' || head === 'decimal128') {
    const parts = splitTop(args, ',').map((x) => x.trim());
    if (parts.length !== 2 || !/^\d+$/.test(parts[0]) || !/^\d+$/.test(parts[1])) {
      throw new SpecError(`bad decimal type "${t}" (want decimal(P,S))`);
    }
    const precision = Number(parts[0]), scale = Number(parts[1]);
    if (precision < 1 || precision > MAX_DECIMAL128_PRECISION || scale > precision) {
      throw new SpecError(`bad decimal type "${t}" (want 1 <= P <= ${MAX_DECIMAL128_PRECISION}, 0 <= S <= P)`);
    }
    return { id: 'decimal', precision, scale };
  }
  if (head === 'fixed_size_binary') {
    const width = Number(args.trim());
    if (!/^\d+$/.test(args.trim()) || width <= 0) throw new SpecError(`bad fixed_size_binary type "${t}" (want fixed_size_binary(N), N >= 1)`);
    return { id: 'fixed_size_binary', width };
  }
  if (head === 'vector' || head === 'fixed_size_list') {
    const parts = splitTop(args, ',');
    if (parts.length !== 2) throw new SpecError(`bad ${head} type "${t}" (want ${head}(TYPE,N))`);
    const dim = Number(parts[1].trim());
    if (!Number.isInteger(dim) || dim <= 0) throw new SpecError(`bad dimension in "${t}"`);
    return { id: 'fixed_size_list', item: parseType(parts[0]), dim };
  }
  if (head === 'list' || head === 'large_list') {
    return { id: head, item: parseType(args) };
  }
  if (head === 'dictionary') {
    const parts = splitTop(args, ',');
    if (parts.length !== 2) throw new SpecError(`bad dictionary type "${t}" (want dictionary(KEY,VALUE))`);
    const key = parseType(parts[0]);
    if (!/^u?int(8|16|32|64)$/.test(key.id)) throw new SpecError(`dictionary key of "${t}" is not an integer type`);
    return { id: 'dictionary', key, value: parseType(parts[1]) };
  }
  if (head === 'struct') {
    const fields = parseFields(args);
    const names = new Set(fields.map((f) => f.name));
    if (names.size !== fields.length) throw new SpecError(`duplicate field name in "${t}"`);
    return { id: 'struct', fields };
  }
  throw new SpecError(`unknown type "${t}"`);
}

function parseFields(spec) {
  if (spec.trim() === '') return [];
  return splitTop(spec, ',').map((part) => {
    const idx = part.indexOf(':');
    if (idx <= 0) throw new SpecError(`bad column "${part.trim()}" (want name:type)`);
    const name = part.slice(0, idx).trim();
    let typeText = part.slice(idx + 1).trim();
    let nullable = true;
    if (typeText.endsWith('!')) { nullable = false; typeText = typeText.slice(0, -1); }
    return { name, type: parseType(typeText), nullable };
  });
}

/** Parse "a:int32,b:string!,v:vector(float32,8)" into [{name,type,nullable}]. */
function parseSpec(spec) {
  const fields = parseFields(spec);
  if (fields.length === 0) throw new SpecError('empty schema spec');
  const seen = new Set();
  for (const f of fields) {
    if (seen.has(f.name)) throw new SpecError(`duplicate column "${f.name}"`);
    seen.add(f.name);
  }
  return fields;
}

function typeToSpec(type) {
  switch (type.id) {
    case 'timestamp': return type.tz ? `timestamp(${type.unit},${type.tz})` : `timestamp(${type.unit})`;
    case 'time32': case 'time64': case 'duration': return `${type.id}(${type.unit})`;
    case 'decimal': return `decimal(${type.precision},${type.scale})`;
    case 'fixed_size_binary': return `fixed_size_binary(${type.width})`;
    case 'fixed_size_list':
      return type.item.id === 'float32' || type.item.id === 'float16' || type.item.id === 'float64'
        ? `vector(${typeToSpec(type.item)},${type.dim})`
        : `fixed_size_list(${typeToSpec(type.item)},${type.dim})`;
    case 'list': case 'large_list': return `${type.id}(${typeToSpec(type.item)})`;
    case 'struct': return `struct(${type.fields.map(fieldToSpec).join(',')})`;
    case 'dictionary': return `dictionary(${typeToSpec(type.key)},${typeToSpec(type.value)})`;
    default: return type.id;
  }
}
function fieldToSpec(f) { return `${f.name}:${typeToSpec(f.type)}${f.nullable ? '' : '!'}`; }
function specToString(fields) { return fields.map(fieldToSpec).join(','); }

// ---------------------------------------------------------------------------
// Float formatting
// ---------------------------------------------------------------------------

/** Round a JS number to the nearest IEEE half-precision value (ties to even). */
function f16round(x) {
  if (Number.isNaN(x) || !Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  if (a >= 65520) return x > 0 ? Infinity : -Infinity;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--; else if (2 ** (e + 1) <= a) e++;
  if (e < -14) e = -14;
  const q = 2 ** (e - 10);
  const n = a / q; // exact (power-of-two scaling)
  let r = Math.floor(n);
  const frac = n - r;
  if (frac > 0.5 || (frac === 0.5 && (r % 2) === 1)) r++;
  const v = r * q;
  return x < 0 ? -v : v;
}
function f16ToBits(x) {
  const v = f16round(x);
  if (Number.isNaN(v)) return 0x7e00;
  const sign = (v < 0 || Object.is(v, -0)) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === Infinity) return sign | 0x7c00;
  if (a === 0) return sign;
  if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--; else if (2 ** (e + 1) <= a) e++;
  return sign | ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
}
function f16FromBits(h) {
  const s = (h & 0x8000) ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function fmtSpecialFloat(x) {
  if (Number.isNaN(x)) return '"NaN"';
  if (x === Infinity) return '"Infinity"';
  if (x === -Infinity) return '"-Infinity"';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  return null;
}
function fmtShortest(x, round, maxDigits) {
  const sp = fmtSpecialFloat(x);
  if (sp !== null) return sp;
  for (let p = 1; p <= maxDigits; p++) {
    const s = x.toPrecision(p);
    if (round(Number(s)) === x) return String(Number(s));
  }
  return String(x);
}
function fmtF64(x) { const sp = fmtSpecialFloat(x); return sp !== null ? sp : String(x); }
function fmtF32(x) { return fmtShortest(Math.fround(x), Math.fround, 9); }
function fmtF16(x) { return fmtShortest(f16round(x), f16round, 5); }

/** Canonical text (without quotes) of a decimal with unscaled BigInt value `u` and scale `s`. */
function fmtDecimal(u, s) {
  const neg = u < 0n;
  let digits = (neg ? -u : u).toString();
  if (s === 0) return (neg ? '-' : '') + digits;
  if (digits.length <= s) digits = '0'.repeat(s + 1 - digits.length) + digits;
  return (neg ? '-' : '') + digits.slice(0, digits.length - s) + '.' + digits.slice(digits.length - s);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
function hex(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

// ---------------------------------------------------------------------------
// Canonical text of generated JS values (used by gen_input)
//   int8..int32, uint8..uint32, date32, time32: JS number;
//   int64/uint64/date64/timestamp/time64/duration: BigInt; decimal: BigInt (unscaled value);
//   floats: JS number; strings: JS string; binary/fixed_size_binary: Uint8Array;
//   lists: arrays; struct: plain object (a missing key counts as null).
// ---------------------------------------------------------------------------

function fmtValue(type, v) {
  if (v === null || v === undefined) return 'null';
  switch (type.id) {
    case 'bool': return v ? 'true' : 'false';
    case 'int8': case 'int16': case 'int32': case 'uint8': case 'uint16': case 'uint32':
    case 'int64': case 'uint64': case 'date32': case 'date64': case 'timestamp':
    case 'time32': case 'time64': case 'duration':
      return typeof v === 'bigint' ? v.toString() : String(v);
    case 'decimal': return '"' + fmtDecimal(BigInt(v), type.scale) + '"';
    case 'fixed_size_binary':
      if (v.length !== type.width) throw new Error(`fixed_size_binary(${type.width}) value of ${v.length} bytes`);
      return '"' + hex(v) + '"';
    case 'float16': return fmtF16(v);
    case 'float32': return fmtF32(v);
    case 'float64': return fmtF64(v);
    case 'string': case 'large_string': return JSON.stringify(v);
    case 'binary': case 'large_binary': return '"' + hex(v) + '"';
    case 'fixed_size_list': case 'list': case 'large_list':
      return '[' + Array.from(v, (x) => fmtValue(type.item, x)).join(',') + ']';
    case 'struct':
      return '{' + type.fields.map((f) => JSON.stringify(f.name) + ':' + fmtValue(f.type, v[f.name])).join(',') + '}';
    case 'dictionary': return fmtValue(type.value, v);
    default: throw new Error(`fmtValue: unsupported type ${type.id}`);
  }
}

function fmtRow(fields, row) {
  let s = '{';
  for (let i = 0; i < fields.length; i++) {
    if (i) s += ',';
    s += JSON.stringify(fields[i].name) + ':' + fmtValue(fields[i].type, row[fields[i].name]);
  }
  return s + '}';
}

// ---------------------------------------------------------------------------
// Arrow (apache-arrow JS) <-> spec types, and canonical text of raw Arrow cells
// ---------------------------------------------------------------------------

const arrow = require('apache-arrow');
const { LargeList, isLargeList, makeLargeListData } = require('./arrow_large_list.js'); // patches arrow-js
const { Type, TimeUnit, Precision, DateUnit } = arrow;
const UNIT_CODES = { s: TimeUnit.SECOND, ms: TimeUnit.MILLISECOND, us: TimeUnit.MICROSECOND, ns: TimeUnit.NANOSECOND };
const UNIT_NAMES = { [TimeUnit.SECOND]: 's', [TimeUnit.MILLISECOND]: 'ms', [TimeUnit.MICROSECOND]: 'us', [TimeUnit.NANOSECOND]: 'ns' };

/** Spec type object of an apache-arrow DataType (throws for types outside the spec language). */
function specTypeOfArrow(t) {
  switch (t.typeId) {
    case Type.Bool: return { id: 'bool' };
    case Type.Int: return { id: (t.isSigned ? 'int' : 'uint') + t.bitWidth };
    case Type.Float:
      return { id: t.precision === Precision.HALF ? 'float16' : t.precision === Precision.SINGLE ? 'float32' : 'float64' };
    case Type.Utf8: return { id: 'string' };
    case Type.LargeUtf8: return { id: 'large_string' };
    case Type.Binary: return { id: 'binary' };
    case Type.LargeBinary: return { id: 'large_binary' };
    case Type.Date: return { id: t.unit === DateUnit.DAY ? 'date32' : 'date64' };
    case Type.Timestamp: return { id: 'timestamp', unit: UNIT_NAMES[t.unit], tz: t.timezone || null };
    case Type.Time: return { id: t.bitWidth === 32 ? 'time32' : 'time64', unit: UNIT_NAMES[t.unit] };
    case Type.Duration: return { id: 'duration', unit: UNIT_NAMES[t.unit] };
    case Type.Decimal:
      if (t.bitWidth !== 128) throw new Error(`Arrow type ${t} (decimal${t.bitWidth}) is outside the spec language`);
      return { id: 'decimal', precision: t.precision, scale: t.scale };
    case Type.FixedSizeBinary: return { id: 'fixed_size_binary', width: t.byteWidth };
    case Type.FixedSizeList: return { id: 'fixed_size_list', item: specTypeOfArrow(t.children[0].type), dim: t.listSize };
    case Type.List: return { id: isLargeList(t) ? 'large_list' : 'list', item: specTypeOfArrow(t.children[0].type) };
    case Type.Struct: return { id: 'struct', fields: t.children.map(specFieldOfArrow) };
    case Type.Dictionary: return { id: 'dictionary', key: specTypeOfArrow(t.indices), value: specTypeOfArrow(t.dictionary) };
    default: throw new Error(`Arrow type ${t} (typeId ${t.typeId}) is outside the spec language`);
  }
}
function specFieldOfArrow(f) { return { name: f.name, type: specTypeOfArrow(f.type), nullable: f.nullable }; }

/** apache-arrow DataType for a spec type. */
function arrowTypeOf(type) {
  switch (type.id) {
    case 'bool': return new arrow.Bool();
    case 'int8': return new arrow.Int8();
    case 'int16': return new arrow.Int16();
    case 'int32': return new arrow.Int32();
    case 'int64': return new arrow.Int64();
    case 'uint8': return new arrow.Uint8();
    case 'uint16': return new arrow.Uint16();
    case 'uint32': return new arrow.Uint32();
    case 'uint64': return new arrow.Uint64();
    case 'float16': return new arrow.Float16();
    case 'float32': return new arrow.Float32();
    case 'float64': return new arrow.Float64();
    case 'string': return new arrow.Utf8();
    case 'large_string': return new arrow.LargeUtf8();
    case 'binary': return new arrow.Binary();
    case 'large_binary': return new arrow.LargeBinary();
    case 'date32': return new arrow.DateDay();
    case 'date64': return new arrow.DateMillisecond();
    case 'timestamp': return new arrow.Timestamp(UNIT_CODES[type.unit], type.tz);
    case 'time32': return new arrow.Time(UNIT_CODES[type.unit], 32);
    case 'time64': return new arrow.Time(UNIT_CODES[type.unit], 64);
    case 'duration': return new arrow.Duration(UNIT_CODES[type.unit]);
    case 'decimal': return new arrow.Decimal(type.scale, type.precision, 128);
    case 'fixed_size_binary': return new arrow.FixedSizeBinary(type.width);
    case 'fixed_size_list': return new arrow.FixedSizeList(type.dim, new arrow.Field('item', arrowTypeOf(type.item), true));
    case 'list': return new arrow.List(new arrow.Field('item', arrowTypeOf(type.item), true, fieldMetadataOf(type.item)));
    case 'large_list': return new LargeList(new arrow.Field('item', arrowTypeOf(type.item), true, fieldMetadataOf(type.item)));
    case 'struct': return new arrow.Struct(type.fields.map(arrowFieldOf));
    case 'dictionary': return new arrow.Dictionary(arrowTypeOf(type.value), arrowTypeOf(type.key));
    default: throw new Error(`no Arrow type for spec type ${typeToSpec(type)}`);
  }
}
function arrowFieldOf(f) { return new arrow.Field(f.name, arrowTypeOf(f.type), f.nullable, fieldMetadataOf(f.type)); }

/**
 * Arrow field metadata for a field of spec type `type`, or undefined. The spec language has no
 * field metadata; a case marks struct types that Lance should store as one packed column with
 * `type.packed` = the metadata key to set to "true" ("packed" or "lance-encoding:packed"; see
 * cases.js markPacked).
 */
function fieldMetadataOf(type) {
  return type.packed ? new Map([[type.packed, 'true']]) : undefined;
}

function isValid(data, i) {
  const bm = data.nullBitmap;
  if (!bm || bm.length === 0 || data.nullCount === 0) return true;
  const pos = data.offset + i;
  return (bm[pos >> 3] & (1 << (pos & 7))) !== 0;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Canonical JSON text of cell i of an apache-arrow Data chunk, read from the raw buffers. */
function fmtArrowCell(data, i) {
  if (!isValid(data, i)) return 'null';
  const t = data.type;
  switch (t.typeId) {
    case Type.Bool: {
      const pos = data.offset + i;
      return (data.values[pos >> 3] & (1 << (pos & 7))) ? 'true' : 'false';
    }
    case Type.Int: return String(data.values[i]);
    case Type.Float:
      if (t.precision === Precision.HALF) return fmtF16(f16FromBits(data.values[i]));
      return t.precision === Precision.SINGLE ? fmtF32(data.values[i]) : fmtF64(data.values[i]);
    case Type.Utf8: case Type.LargeUtf8: {
      const o = data.valueOffsets;
      return JSON.stringify(utf8.decode(data.values.subarray(Number(o[i]), Number(o[i + 1]))));
    }
    case Type.Binary: case Type.LargeBinary: {
      const o = data.valueOffsets;
      return '"' + hex(data.values.subarray(Number(o[i]), Number(o[i + 1]))) + '"';
    }
    case Type.Date:
      if (t.unit === DateUnit.DAY) return String(data.values[i]);
      // date64: arrow-js may hold it as BigInt64Array or as Int32 pairs
      if (data.values instanceof BigInt64Array) return String(data.values[i]);
      return String((BigInt(data.values[2 * i + 1]) << 32n) | BigInt(data.values[2 * i] >>> 0));
    case Type.Timestamp: case Type.Duration:
      if (data.values instanceof BigInt64Array) return String(data.values[i]);
      return String((BigInt(data.values[2 * i + 1]) << 32n) | BigInt(data.values[2 * i] >>> 0));
    case Type.Time:
      if (t.bitWidth === 32 || data.values instanceof BigInt64Array) return String(data.values[i]);
      return String((BigInt(data.values[2 * i + 1]) << 32n) | BigInt(data.values[2 * i] >>> 0));
    case Type.Decimal: {
      if (t.bitWidth !== 128) throw new Error(`cannot print Arrow type ${t}`);
      const w = data.values; // Uint32Array, 4 little-endian words per value
      const u = BigInt(w[4 * i]) | (BigInt(w[4 * i + 1]) << 32n) | (BigInt(w[4 * i + 2]) << 64n) | (BigInt(w[4 * i + 3]) << 96n);
      return '"' + fmtDecimal(BigInt.asIntN(128, u), t.scale) + '"';
    }
    case Type.FixedSizeBinary: {
      const w = t.byteWidth;
      return '"' + hex(data.values.subarray(i * w, (i + 1) * w)) + '"';
    }
    case Type.FixedSizeList: {
      const child = data.children[0];
      const n = t.listSize;
      const parts = new Array(n);
      for (let k = 0; k < n; k++) parts[k] = fmtArrowCell(child, i * n + k);
      return '[' + parts.join(',') + ']';
    }
    case Type.List: { // also LargeList (BigInt64Array offsets)
      const child = data.children[0];
      const o = data.valueOffsets;
      const parts = [];
      for (let k = Number(o[i]); k < Number(o[i + 1]); k++) parts.push(fmtArrowCell(child, k));
      return '[' + parts.join(',') + ']';
    }
    case Type.Struct:
      return '{' + t.children.map((f, k) => JSON.stringify(f.name) + ':' + fmtArrowCell(data.children[k], i)).join(',') + '}';
    case Type.Dictionary: {
      const key = Number(data.values[i]);
      return fmtVectorCell(data.dictionary, key);
    }
    default:
      throw new Error(`cannot print Arrow type ${t} (typeId ${t.typeId})`);
  }
}

function fmtVectorCell(vec, index) {
  let k = index;
  for (const d of vec.data) {
    if (k < d.length) return fmtArrowCell(d, k);
    k -= d.length;
  }
  throw new Error(`index ${index} out of range`);
}

/**
 * Yield the canonical JSONL line of every row of an apache-arrow Table.
 * `columns` (optional) selects and orders the output keys.
 */
function* arrowTableLines(table, columns) {
  const names = table.schema.fields.map((f) => f.name);
  const want = columns || names;
  const idx = want.map((c) => {
    const k = names.indexOf(c);
    if (k < 0) throw new Error(`column "${c}" not in result (has ${names.join(',')})`);
    return k;
  });
  const keys = want.map((c) => JSON.stringify(c) + ':');
  for (const batch of table.batches) {
    const cols = idx.map((k) => batch.data.children[k]);
    for (let r = 0; r < batch.numRows; r++) {
      let s = '{';
      for (let c = 0; c < cols.length; c++) {
        if (c) s += ',';
        s += keys[c] + fmtArrowCell(cols[c], r);
      }
      yield s + '}';
    }
  }
}

// ---------------------------------------------------------------------------
// Exact JSON parser: numbers stay text (class Num), objects keep key order (Map)
// ---------------------------------------------------------------------------

class Num { constructor(raw) { this.raw = raw; } toString() { return this.raw; } }

function parseJsonExact(text) {
  let i = 0;
  const n = text.length;
  function fail(msg) { throw new SyntaxError(`${msg} at offset ${i}`); }
  function ws() { while (i < n) { const c = text.charCodeAt(i); if (c === 32 || c === 9 || c === 10 || c === 13) i++; else break; } }
  function value() {
    ws();
    if (i >= n) fail('unexpected end');
    const c = text[i];
    if (c === '{') {
      i++; const m = new Map(); ws();
      if (text[i] === '}') { i++; return m; }
      for (;;) {
        ws(); if (text[i] !== '"') fail('expected key');
        const k = str(); ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        if (m.has(k)) fail(`duplicate key ${JSON.stringify(k)}`);
        m.set(k, value()); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return m; }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++; const a = []; ws();
      if (text[i] === ']') { i++; return a; }
      for (;;) {
        a.push(value()); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return a; }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) { i += 4; return true; }
    if (text.startsWith('false', i)) { i += 5; return false; }
    if (text.startsWith('null', i)) { i += 4; return null; }
    const m = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = i;
    const r = m.exec(text);
    if (!r || r[0] === '' || r[0] === '-') fail('unexpected character ' + JSON.stringify(c));
    i += r[0].length;
    return new Num(r[0]);
  }
  function str() {
    // find the closing quote, then let JSON.parse validate/unescape the string
    let j = i + 1;
    for (;;) {
      const k = text.indexOf('"', j);
      if (k < 0) fail('unterminated string');
      let bs = 0;
      for (let b = k - 1; b > i && text[b] === '\\'; b--) bs++;
      if (bs % 2 === 0) { j = k; break; }
      j = k + 1;
    }
    const raw = text.slice(i, j + 1);
    i = j + 1;
    try { return JSON.parse(raw); } catch (e) { i -= raw.length; fail('bad string: ' + e.message); }
    return undefined;
  }
  const v = value(); ws();
  if (i !== n) fail('trailing characters');
  return v;
}

// ---------------------------------------------------------------------------
// Small CLI helpers
// ---------------------------------------------------------------------------

/** Parse argv: positionals + --opt value / --flag. `spec` maps option name -> 'value'|'flag'. */
function parseArgs(argv, spec, usage) {
  const pos = [];
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') { process.stdout.write(usage + '\n'); process.exit(0); }
    if (a.startsWith('--')) {
      let name = a.slice(2), val;
      const eq = name.indexOf('=');
      if (eq >= 0) { val = name.slice(eq + 1); name = name.slice(0, eq); }
      if (!Object.prototype.hasOwnProperty.call(spec, name)) usageError(usage, `unknown option --${name}`);
      if (spec[name] === 'flag') {
        if (val !== undefined) usageError(usage, `--${name} takes no value`);
        opts[name] = true;
      } else {
        if (val === undefined) {
          if (i + 1 >= argv.length) usageError(usage, `--${name} needs a value`);
          val = argv[++i];
        }
        opts[name] = val;
      }
    } else {
      pos.push(a);
    }
  }
  return { pos, opts };
}

function usageError(usage, msg) {
  process.stderr.write(`error: ${msg}\n${usage}\n`);
  process.exit(2);
}

function parseIntOpt(usage, name, v, min) {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) usageError(usage, `--${name} must be an integer >= ${min}, got "${v}"`);
  return Number(v);
}

/** Write a sequence of lines to stdout in large chunks, respecting back-pressure. */
async function writeLines(iter, stream = process.stdout) {
  let buf = [];
  let size = 0;
  const flush = async () => {
    if (!buf.length) return;
    const chunk = buf.join('');
    buf = []; size = 0;
    if (!stream.write(chunk)) await new Promise((res) => stream.once('drain', res));
  };
  for (const line of iter) {
    buf.push(line, '\n');
    size += line.length + 1;
    if (size >= 1 << 20) await flush();
  }
  await flush();
}

// Exit quietly when stdout is a closed pipe (e.g. `| head`).
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });

module.exports = {
  SpecError, parseSpec, parseType, typeToSpec, fieldToSpec, specToString,
  INT_IDS, INT_RANGE,
  f16round, f16ToBits, f16FromBits, fmtF16, fmtF32, fmtF64, fmtDecimal, hex, fmtValue, fmtRow,
  specTypeOfArrow, specFieldOfArrow, arrowTypeOf, arrowFieldOf, fmtArrowCell, arrowTableLines,
  LargeList, isLargeList, makeLargeListData,
  Num, parseJsonExact,
  parseArgs, usageError, parseIntOpt, writeLines,
};
