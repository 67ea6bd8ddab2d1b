#!/usr/bin/env node
'use strict';
// Input of the write benchmark: one Arrow IPC file that both clance and Lance
// are fed (generated once, outside the timed region).
//   node gen_ipc.js OUT.arrow --rows N [--kind table|vectors] [--batch-rows R]
//                   [--takes FILE [--take-count 10000]]
//   table:   {id int64 sequential, x float64 random, s utf8 ~16 chars}
//   vectors: {id int64, vec fixed_size_list<float32, 128>}
// --takes writes TAKE_COUNT random row positions in [0, N), one a line (the
// rows both sides of the read benchmark take).
const fs = require('fs');
const arrow = require('apache-arrow');

const args = process.argv.slice(2);
const out = args[0];
function opt(name, def) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
}
const rows = Number(opt('--rows', '1000000'));
const kind = opt('--kind', 'table');
const batchRows = Number(opt('--batch-rows', '131072'));
if (!out || !(rows > 0)) {
  console.error('usage: node gen_ipc.js OUT --rows N [--kind table|vectors] [--batch-rows R] [--takes FILE [--take-count K]]');
  process.exit(2);
}

let seed = 42;
function rnd() { // xorshift32
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 4294967296;
}

const DIM = 128;
let schema;
if (kind === 'table') {
  schema = new arrow.Schema([
    new arrow.Field('id', new arrow.Int64(), true),
    new arrow.Field('x', new arrow.Float64(), true),
    new arrow.Field('s', new arrow.Utf8(), true),
  ]);
} else {
  schema = new arrow.Schema([
    new arrow.Field('id', new arrow.Int64(), true),
    new arrow.Field('vec', new arrow.FixedSizeList(DIM, new arrow.Field('item', new arrow.Float32(), true)), true),
  ]);
}
const batches = [];
const alpha = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789');
for (let start = 0; start < rows; start += batchRows) {
  const n = Math.min(batchRows, rows - start);
  const id = new BigInt64Array(n);
  for (let i = 0; i < n; i++) id[i] = BigInt(start + i);
  const kids = [arrow.makeData({ type: schema.fields[0].type, length: n, nullCount: 0, data: id })];
  if (kind === 'table') {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = rnd();
    const offs = new Int32Array(n + 1);
    const bytes = Buffer.alloc(n * 20);
    let p = 0;
    for (let i = 0; i < n; i++) {
      const len = 12 + Math.floor(rnd() * 9); // 12..20, about 16
      for (let k = 0; k < len; k++) bytes[p++] = alpha[Math.floor(rnd() * alpha.length)];
      offs[i + 1] = p;
    }
    kids.push(arrow.makeData({ type: schema.fields[1].type, length: n, nullCount: 0, data: x }));
    kids.push(arrow.makeData({ type: schema.fields[2].type, length: n, nullCount: 0, valueOffsets: offs,
      data: new Uint8Array(bytes.buffer, bytes.byteOffset, p) }));
  } else {
    const v = new Float32Array(n * DIM);
    for (let i = 0; i < v.length; i++) v[i] = rnd() * 2 - 1;
    const child = arrow.makeData({ type: schema.fields[1].type.children[0].type, length: n * DIM, nullCount: 0, data: v });
    kids.push(arrow.makeData({ type: schema.fields[1].type, length: n, nullCount: 0, child }));
  }
  const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, nullCount: 0, children: kids });
  batches.push(new arrow.RecordBatch(schema, data));
}
fs.writeFileSync(out, arrow.tableToIPC(new arrow.Table(batches), 'file'));

const takes = opt('--takes', null);
if (takes) {
  const k = Number(opt('--take-count', '10000'));
  seed = 4242;
  const offs = [];
  for (let i = 0; i < k; i++) offs.push(Math.floor(rnd() * rows));
  fs.writeFileSync(takes, offs.join('\n') + '\n');
}
