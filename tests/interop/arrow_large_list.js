'use strict';
// LargeList for apache-arrow JS 18.1, which has no LargeList type of its own.
//
// arrow-js only knows List (32-bit offsets). It has the flatbuffer table for LargeList and
// the Type enum value (21), but no DataType class, no visitor entries, and the IPC schema
// reader throws "Unrecognized type: LargeList". lancedb sends our tables to Lance as Arrow
// IPC written by arrow-js, and reads query results back through arrow-js, so both sides need
// it. This module patches the ONE shared copy of apache-arrow (lancedb requires the same copy):
//
//   * LargeList is a subclass of arrow.List. Its typeId stays Type.List, so every arrow-js
//     visitor (slicing, dispatch, ...) treats it as a list. Its offsets are a BigInt64Array.
//   * Writing IPC: Field.encode writes the type tag 21 (LargeList) for such fields,
//     TypeAssembler writes the (empty) LargeList flatbuffer table, and VectorAssembler
//     writes 64-bit offsets.
//   * Reading IPC: Field.decode turns a type tag 21 into a LargeList, and VectorLoader reads
//     its 64-bit offsets.
//
// Only this harness uses it: `require('./arrow_large_list.js')` (canon.js does) before
// building or reading tables. Builders, JSON IPC and `vector.get()` do not know LargeList;
// the harness reads values from the raw buffers (canon.fmtArrowCell), which works.

const arrow = require('apache-arrow');
const { TypeAssembler } = require('apache-arrow/visitor/typeassembler');
const { VectorAssembler } = require('apache-arrow/visitor/vectorassembler');
const { VectorLoader } = require('apache-arrow/visitor/vectorloader');
const { LargeList: FbLargeList } = require('apache-arrow/fb/large-list');
const { BufferRegion } = require('apache-arrow/ipc/metadata/message');
const { toBigInt64Array } = require('apache-arrow/util/buffer');

const FB_TYPE_LARGE_LIST = 21; // Type.LargeList in Schema.fbs (and in arrow-js's enum)

class LargeList extends arrow.List {
  toString() { return `LargeList<${this.valueType}>`; }
}
Object.defineProperty(LargeList.prototype, 'isLargeList', { value: true });

function isLargeList(type) { return type instanceof LargeList; }

/** apache-arrow Data of a LargeList: valueOffsets is a BigInt64Array of length+1. */
function makeLargeListData({ type, length, nullCount = 0, nullBitmap, valueOffsets, child, offset = 0 }) {
  if (!isLargeList(type)) throw new TypeError('makeLargeListData: type is not a LargeList');
  const offs = toBigInt64Array(valueOffsets);
  return new arrow.Data(type, offset, length, nullCount,
    [offs, undefined, nullCount > 0 ? nullBitmap : new Uint8Array(0)], [child]);
}

if (!arrow.Field.__clanceLargeList) {
  Object.defineProperty(arrow.Field, '__clanceLargeList', { value: true });

  // --- writing ---
  const origEncode = arrow.Field.encode;
  arrow.Field.encode = function encodeField(b, field) {
    if (field && isLargeList(field.type)) {
      // encodeField takes the union tag from field.typeId (= type.typeId = List): override it.
      field = Object.create(field, { typeId: { value: FB_TYPE_LARGE_LIST } });
    }
    return origEncode.call(this, b, field);
  };
  const origTypeList = TypeAssembler.prototype.visitList;
  TypeAssembler.prototype.visitList = function visitList(node, b) {
    if (isLargeList(node)) {
      FbLargeList.startLargeList(b);
      return FbLargeList.endLargeList(b);
    }
    return origTypeList.call(this, node, b);
  };
  const origAssembleList = VectorAssembler.prototype.visitList;
  VectorAssembler.prototype.visitList = function visitList(data) {
    if (!isLargeList(data.type)) return origAssembleList.call(this, data);
    const { length, valueOffsets } = data;
    const begin = valueOffsets[0];
    const end = valueOffsets[length];
    const rebased = new BigInt64Array(length + 1);
    for (let i = 0; i <= length; i++) rebased[i] = valueOffsets[i] - begin;
    const byteLength = (rebased.byteLength + 7) & ~7; // as addBuffer() in vectorassembler.js
    this.buffers.push(rebased);
    this.bufferRegions.push(new BufferRegion(this._byteLength, byteLength));
    this._byteLength += byteLength;
    return this.visit(data.children[0].slice(Number(begin), Number(end - begin)));
  };

  // --- reading ---
  const origDecode = arrow.Field.decode;
  arrow.Field.decode = function decodeField(f, dictionaries) {
    if (f.typeType() !== FB_TYPE_LARGE_LIST || (dictionaries && f.dictionary())) return origDecode.call(this, f, dictionaries);
    const children = [];
    for (let i = 0; i < f.childrenLength(); i++) children.push(arrow.Field.decode(f.children(i), dictionaries));
    const metadata = new Map();
    for (let i = 0; i < f.customMetadataLength(); i++) {
      const kv = f.customMetadata(i);
      if (kv && kv.key() != null) metadata.set(kv.key(), kv.value());
    }
    return new arrow.Field(f.name(), new LargeList(children[0]), f.nullable(), metadata);
  };
  const origLoadList = VectorLoader.prototype.visitList;
  VectorLoader.prototype.visitList = function visitList(type, node) {
    if (!isLargeList(type)) return origLoadList.call(this, type, node);
    const { length, nullCount } = node || this.nextFieldNode();
    const nullBitmap = this.readNullBitmap(type, nullCount);
    const valueOffsets = this.readOffsets(type);
    const child = this.visit(type.children[0]);
    return makeLargeListData({ type, length, nullCount, nullBitmap, valueOffsets, child });
  };
}

module.exports = { LargeList, isLargeList, makeLargeListData };
