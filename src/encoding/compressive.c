/* Decoders for the 2.1/2.2 compressive encodings, in the four contexts in
 * which Lance uses them: mini-block chunk values, block buffers (levels and
 * dictionaries), and per-value full-zip entries. Every decoder checks sizes
 * against the bytes it was given: the input is untrusted. */
#include <stdlib.h>
#include <string.h>

#include "encoding/compress.h"
#include "encoding/decode.h"
#include "encoding/fastlanes.h"
#include "encoding/fsst.h"

#define MAX_DECOMPRESSED ((size_t)1 << 31)

typedef Lance__Encodings21__CompressiveEncoding__CompressionCase enc_case;

static const char *enc_name(const pb21_enc *e) {
  switch (e ? e->compression_case : 0) {
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT: return "Flat";
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE: return "Variable";
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_CONSTANT: return "Constant";
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING: return "OutOfLineBitpacking";
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING: return "InlineBitpacking";
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FSST: return "Fsst";
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_DICTIONARY: return "Dictionary";
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_RLE: return "Rle";
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_BYTE_STREAM_SPLIT: return "ByteStreamSplit";
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL: return "General";
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST: return "FixedSizeList";
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_PACKED_STRUCT: return "PackedStruct";
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE_PACKED_STRUCT: return "VariablePackedStruct";
  default: return "(missing)";
  }
}

static clance_status unsupported(const pb21_enc *e, const char *context, const char *what,
                                 clance_error *err) {
  return cl_err(err, CLANCE_EUNSUPPORTED, "%s: unsupported encoding %s in %s", what, enc_name(e),
                context);
}

static clance_status corrupt(const char *what, const char *detail, clance_error *err) {
  return cl_err(err, CLANCE_ECORRUPT, "%s: %s", what, detail);
}

void cl_dec_state_free(cl_dec_state *s) {
  if (s->fsst)
    cl_fsst_table_free(s->fsst);
  s->fsst = NULL;
  for (size_t i = 0; i < s->n_fields; i++)
    cl_dec_state_free(&s->fields[i]);
  free(s->fields);
  s->fields = NULL;
  s->n_fields = 0;
}

/* ---- sinks ---- */

static uint32_t sink_bits(const cl_sink *s) { return cl_type_bits(s->field); }

/* Append n fixed-width values of `bits` bits (bits % 8 == 0, or 1 for bool). */
static clance_status sink_fixed(cl_sink *s, const uint8_t *src, uint64_t n, uint32_t bits,
                                int64_t bit_off, const char *what, clance_error *err) {
  if (cl_type_is_binary_like(s->field->type) || s->field->type == CL_TYPE_FIXED_SIZE_LIST)
    return corrupt(what, "fixed-width values for a variable-width or list column", err);
  if (bits != sink_bits(s))
    return cl_err(err, CLANCE_ECORRUPT, "%s: values are %u bits wide but column type %s needs %u",
                  what, bits, cl_type_name(s->field->type), sink_bits(s));
  cl_arr *a = s->arr;
  if (bits == 1) {
    int64_t have = a->length; /* bool values are counted by the builder's length */
    size_t need = (size_t)((have + (int64_t)n + 7) >> 3);
    if (need > a->values.len)
      CL_TRY(cl_buf_fill(&a->values, 0, need - a->values.len, err));
    cl_bits_copy(a->values.data, have, src, bit_off, (int64_t)n);
  } else {
    CL_TRY(cl_buf_append(&a->values, src, (size_t)(n * (bits / 8)), err));
  }
  a->length += (int64_t)n;
  return CLANCE_OK;
}

/* Append one variable-width value. */
static clance_status sink_var(cl_sink *s, const uint8_t *src, size_t len, clance_error *err) {
  cl_arr *a = s->arr;
  CL_TRY(cl_buf_append(&a->values, src, len, err));
  CL_TRY(cl_arr_push_offset(a, a->values.len, err));
  a->length++;
  return CLANCE_OK;
}

static int sink_is_var(const cl_sink *s) { return cl_type_is_binary_like(s->field->type); }

/* ---- packed structs ---- */

/* Bytes per value of a packed struct child: a fixed-width type of whole
 * bytes, or a fixed-size list of them (flattened); 0 when it cannot be
 * packed. */
static uint64_t packed_child_bytes(const cl_field *c) {
  uint64_t mult = 1;
  while (c->type == CL_TYPE_FIXED_SIZE_LIST) {
    if (c->n_children != 1 || c->size <= 0 || mult > ((uint64_t)1 << 31) / (uint64_t)c->size)
      return 0;
    mult *= (uint64_t)c->size;
    c = &c->children[0];
  }
  uint32_t bits = cl_type_bits(c);
  if (bits == 0 || bits % 8)
    return 0;
  return mult * (bits / 8);
}

clance_status cl_packed_layout(const cl_field *f, uint64_t *widths, uint64_t *row_bytes,
                               const char *what, clance_error *err) {
  if (f->type != CL_TYPE_STRUCT || f->n_children == 0)
    return cl_err(err, CLANCE_ECORRUPT, "%s: packed struct encoding for a %s column", what,
                  cl_type_name(f->type));
  uint64_t total = 0;
  for (size_t k = 0; k < f->n_children; k++) {
    const cl_field *c = &f->children[k];
    uint64_t w = packed_child_bytes(c);
    if (w == 0) {
      const cl_field *leaf = c;
      while (leaf->type == CL_TYPE_FIXED_SIZE_LIST && leaf->n_children == 1)
        leaf = &leaf->children[0];
      if (leaf->type == CL_TYPE_BOOL)
        return cl_err(err, CLANCE_EUNSUPPORTED, "%s: packed struct \"%s\" has a bool child \"%s\": "
                      "Lance keeps no bits of bool children in packed structs (it cannot read them "
                      "back itself)", what, f->name, c->name);
      return cl_err(err, CLANCE_EUNSUPPORTED, "%s: packed struct \"%s\" has a child \"%s\" of type "
                    "%s; clance reads packed structs of fixed-width children only", what, f->name,
                    c->name, cl_type_name(c->type));
    }
    widths[k] = w;
    total += w;
  }
  *row_bytes = total;
  return CLANCE_OK;
}

clance_status cl_packed_append_rows(cl_arr *a, const uint8_t *rows, uint64_t row_bytes,
                                    const uint64_t *widths, uint64_t n, clance_error *err) {
  uint64_t off = 0;
  for (size_t k = 0; k < a->n_children; k++) {
    /* The bytes of a (nested) fixed-size list child are its items'. */
    cl_arr *leaf = &a->children[k];
    while (leaf->field->type == CL_TYPE_FIXED_SIZE_LIST)
      leaf = &leaf->children[0];
    size_t w = (size_t)widths[k];
    CL_TRY(cl_buf_reserve(&leaf->values, (size_t)n * w, err));
    uint8_t *dst = leaf->values.data + leaf->values.len;
    for (uint64_t i = 0; i < n; i++)
      memcpy(dst + i * w, rows + i * row_bytes + off, w);
    leaf->values.len += (size_t)n * w;
    /* Every level of the child gets its (valid) elements. */
    cl_arr *x = &a->children[k];
    uint64_t cnt = n;
    for (;;) {
      CL_TRY(cl_arr_append_valid(x, (int64_t)cnt, err));
      if (x->field->type != CL_TYPE_FIXED_SIZE_LIST)
        break;
      cnt *= (uint64_t)x->field->size;
      x = &x->children[0];
    }
    off += w;
  }
  return CLANCE_OK;
}

clance_status cl_packed_mb_rows(const pb21_enc *e, const cl_chunk_bufs *bufs, uint64_t n,
                                uint64_t first, uint64_t count, cl_arr *a, const char *what,
                                clance_error *err) {
  const Lance__Encodings21__PackedStruct *ps = e->packed_struct;
  const cl_field *f = a->field;
  if (f->type != CL_TYPE_STRUCT)
    return corrupt(what, "packed struct values for a column that is not a struct", err);
  if (ps->n_bits_per_value != f->n_children)
    return cl_err(err, CLANCE_ECORRUPT, "%s: packed struct of %zu children for struct \"%s\" of %zu",
                  what, ps->n_bits_per_value, f->name, f->n_children);
  if (!ps->values || ps->values->compression_case != LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT)
    return unsupported(ps->values, "packed struct rows (PackedStruct)", what, err);
  if (bufs->n < 1 || first > n || count > n - first)
    return cl_err(err, CLANCE_EINTERNAL, "%s: packed struct rows out of range", what);
  uint64_t stack[32], *widths = f->n_children <= 32 ? stack : cl_malloc(f->n_children * sizeof *widths, err);
  if (!widths)
    return err->code;
  uint64_t row_bytes = 0;
  clance_status st = cl_packed_layout(f, widths, &row_bytes, what, err);
  for (size_t k = 0; !st && k < f->n_children; k++)
    if (ps->bits_per_value[k] != widths[k] * 8)
      st = cl_err(err, CLANCE_ECORRUPT, "%s: packed struct child \"%s\" stored in %llu bits, its "
                  "type %s has %llu", what, f->children[k].name,
                  (unsigned long long)ps->bits_per_value[k], cl_type_name(f->children[k].type),
                  (unsigned long long)(widths[k] * 8));
  if (!st && ps->values->flat->bits_per_value != row_bytes * 8)
    st = cl_err(err, CLANCE_ECORRUPT, "%s: packed struct rows of %llu bits, its children add up "
                "to %llu", what, (unsigned long long)ps->values->flat->bits_per_value,
                (unsigned long long)(row_bytes * 8));
  if (!st && (row_bytes == 0 || n > bufs->len[0] / row_bytes))
    st = corrupt(what, "mini-block chunk holds fewer bytes than its packed rows need", err);
  if (!st)
    st = cl_packed_append_rows(a, bufs->data[0] + first * row_bytes, row_bytes, widths, count, err);
  if (widths != stack)
    free(widths);
  return st;
}

/* Per-value VariablePackedStruct: one row, each field's stored value in
 * turn (fixed ones in their width, variable ones after a length). */
static clance_status decode_var_packed_row(const pb21_enc *e, const uint8_t *buf, size_t len,
                                           cl_sink *s, cl_dec_state *st, const char *what,
                                           clance_error *err) {
  const Lance__Encodings21__VariablePackedStruct *vp = e->variable_packed_struct;
  const cl_field *f = s->field;
  if (f->type != CL_TYPE_STRUCT)
    return corrupt(what, "packed struct value for a column that is not a struct", err);
  if (vp->n_fields != f->n_children)
    return cl_err(err, CLANCE_ECORRUPT, "%s: packed struct of %zu fields for struct \"%s\" of %zu",
                  what, vp->n_fields, f->name, f->n_children);
  if (st->n_fields != vp->n_fields) {
    /* Each field keeps its own state (an FSST table of its own). */
    cl_dec_state_free(st);
    if (!(st->fields = cl_calloc(vp->n_fields ? vp->n_fields : 1, sizeof *st->fields, err)))
      return err->code;
    st->n_fields = vp->n_fields;
  }
  size_t pos = 0;
  for (size_t k = 0; k < vp->n_fields; k++) {
    const Lance__Encodings21__VariablePackedStruct__FieldEncoding *fe = vp->fields[k];
    cl_sink cs = {&s->arr->children[k], &f->children[k]};
    uint64_t vlen;
    if (!fe->value)
      return corrupt(what, "packed struct field without an encoding", err);
    if (fe->layout_case == LANCE__ENCODINGS21__VARIABLE_PACKED_STRUCT__FIELD_ENCODING__LAYOUT_BITS_PER_VALUE) {
      if (fe->bits_per_value == 0 || fe->bits_per_value % 8)
        return cl_err(err, CLANCE_EUNSUPPORTED, "%s: packed struct field \"%s\" of %llu bits (not "
                      "whole bytes)", what, cs.field->name, (unsigned long long)fe->bits_per_value);
      vlen = fe->bits_per_value / 8;
    } else if (fe->layout_case == LANCE__ENCODINGS21__VARIABLE_PACKED_STRUCT__FIELD_ENCODING__LAYOUT_BITS_PER_LENGTH) {
      unsigned lb = (unsigned)fe->bits_per_length / 8;
      if (fe->bits_per_length != 32 && fe->bits_per_length != 64)
        return cl_err(err, CLANCE_ECORRUPT, "%s: packed struct field \"%s\" with %llu-bit lengths",
                      what, cs.field->name, (unsigned long long)fe->bits_per_length);
      if (len - pos < lb)
        return corrupt(what, "packed struct value ends inside a length", err);
      vlen = lb == 4 ? cl_le32(buf + pos) : cl_le64(buf + pos);
      pos += lb;
    } else {
      return corrupt(what, "packed struct field without a width", err);
    }
    if (vlen > len - pos)
      return corrupt(what, "packed struct field overruns its value", err);
    CL_TRY(cl_decode_pervalue(fe->value, buf + pos, (size_t)vlen, &cs, &st->fields[k], what, err));
    pos += (size_t)vlen;
  }
  if (pos != len)
    return corrupt(what, "packed struct value longer than its fields", err);
  s->arr->length++;
  return CLANCE_OK;
}

/* ---- Variable (mini-block form): (n+1) offsets relative to the buffer ---- */

static clance_status variable_chunk(const pb21_enc *e, const uint8_t *b, size_t len, uint64_t n,
                                    const uint8_t **data_out, uint64_t *offs, const char *what,
                                    clance_error *err) {
  const Lance__Encodings21__Variable *v = e->variable;
  if (!v || !v->offsets || v->offsets->compression_case != LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
      (v->offsets->flat->bits_per_value != 32 && v->offsets->flat->bits_per_value != 64))
    return corrupt(what, "Variable encoding needs Flat 32 or 64-bit offsets", err);
  unsigned ow = (unsigned)v->offsets->flat->bits_per_value / 8;
  if ((n + 1) > len / ow)
    return corrupt(what, "variable-width chunk too short for its offsets", err);
  uint64_t prev = (n + 1) * ow;
  for (uint64_t i = 0; i <= n; i++) {
    uint64_t o = ow == 4 ? cl_le32(b + 4 * i) : cl_le64(b + 8 * i);
    if (o < prev || o > len)
      return corrupt(what, "variable-width chunk has offsets out of order or out of range", err);
    offs[i] = o;
    prev = o;
  }
  *data_out = b;
  return CLANCE_OK;
}

static clance_status decode_variable_mb(const pb21_enc *e, const uint8_t *b, size_t len, uint64_t n,
                                        cl_sink *s, const cl_fsst_table *fsst, const char *what,
                                        clance_error *err) {
  if (!sink_is_var(s))
    return corrupt(what, "variable-width values for a fixed-width column", err);
  uint64_t *offs = cl_malloc((size_t)(n + 1) * sizeof *offs, err);
  if (!offs)
    return err->code;
  const uint8_t *data = b;
  clance_status st = variable_chunk(e, b, len, n, &data, offs, what, err);
  cl_arr *a = s->arr;
  if (!st && !fsst) {
    /* Bulk copy: one memcpy, offsets shifted. */
    size_t base = a->values.len;
    st = cl_buf_append(&a->values, data + offs[0], (size_t)(offs[n] - offs[0]), err);
    if (!st)
      st = cl_arr_push_offsets(a, offs + 1, (size_t)n, base - offs[0], err);
    if (!st)
      a->length += (int64_t)n;
  } else if (!st) {
    /* One pass over the chunk's strings; out_offs[0] is where they start. */
    uint64_t *out_offs = cl_malloc((size_t)(n + 1) * sizeof *out_offs, err);
    if (!out_offs) {
      st = err->code;
    } else {
      st = cl_fsst_decode_offsets64(fsst, data, len, offs, (size_t)n, &a->values, out_offs, err);
      if (st)
        cl_err_ctx(err, "%s: ", what);
      if (!st)
        st = cl_arr_push_offsets(a, out_offs + 1, (size_t)n, 0, err);
      if (!st)
        a->length += (int64_t)n;
      free(out_offs);
    }
  }
  free(offs);
  return st;
}

/* ---- general compression ---- */

static clance_status decompress(const Lance__Encodings21__BufferCompression *c, const uint8_t *src,
                                size_t len, cl_buf *out, const char *what, clance_error *err) {
  out->len = 0;
  clance_status st;
  int scheme = c ? c->scheme : 0;
  if (scheme == LANCE__ENCODINGS21__COMPRESSION_SCHEME__COMPRESSION_ALGORITHM_ZSTD)
    st = cl_zstd_decompress(src, len, MAX_DECOMPRESSED, out, err);
  else if (scheme == LANCE__ENCODINGS21__COMPRESSION_SCHEME__COMPRESSION_ALGORITHM_LZ4)
    st = cl_lz4_decompress(src, len, MAX_DECOMPRESSED, out, err);
  else
    return cl_err(err, CLANCE_EUNSUPPORTED, "%s: unknown general compression scheme %d", what, scheme);
  if (st) { /* nothing of a failed decompression is kept: callers just return */
    cl_buf_free(out);
    cl_err_ctx(err, "%s: ", what);
  }
  return st;
}

static const cl_fsst_table *fsst_table(const pb21_enc *e, cl_dec_state *st, const char *what,
                                       clance_error *err) {
  if (!st->fsst) {
    const Lance__Encodings21__Fsst *f = e->fsst;
    cl_fsst_table *t;
    if (cl_fsst_table_parse(f->symbol_table.data, f->symbol_table.len, &t, err)) {
      cl_err_ctx(err, "%s: ", what);
      return NULL;
    }
    st->fsst = t;
  }
  return st->fsst;
}

/* ---- mini-block values ---- */

clance_status cl_decode_miniblock_values(const pb21_enc *e, const cl_chunk_bufs *bufs, uint64_t n,
                                         cl_sink *s, cl_dec_state *st, const char *what,
                                         clance_error *err) {
  if (!e)
    return corrupt(what, "missing value encoding", err);
  if (bufs->n < 1)
    return corrupt(what, "mini-block chunk has no value buffer", err);
  const uint8_t *b = bufs->data[0];
  size_t len = bufs->len[0];
  switch (e->compression_case) {
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT: {
    uint64_t bits = e->flat->bits_per_value;
    if (bits != 1 && (bits == 0 || bits % 8))
      return corrupt(what, "Flat encoding with a bit width that is not whole bytes", err);
    uint64_t need = bits == 1 ? (n + 7) / 8 : n * (bits / 8);
    if (need > len || (bits > 1 && n > SIZE_MAX / (bits / 8)))
      return corrupt(what, "mini-block chunk holds fewer bytes than its values need", err);
    return sink_fixed(s, b, n, (uint32_t)bits, 0, what, err);
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING: {
    uint64_t w = e->inline_bitpacking->uncompressed_bits_per_value;
    if ((w != 8 && w != 16 && w != 32 && w != 64) || n > 1024)
      return corrupt(what, "inline bit-packing with a bad width or more than 1024 values", err);
    uint8_t tmp[1024 * 8];
    CL_TRY(cl_inline_bitpack_decode((unsigned)w, b, len, (size_t)n, tmp, err));
    return sink_fixed(s, tmp, n, (uint32_t)w, 0, what, err);
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE:
    return decode_variable_mb(e, b, len, n, s, NULL, what, err);
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FSST: {
    const cl_fsst_table *t = fsst_table(e, st, what, err);
    if (!t)
      return err->code;
    const pb21_enc *inner = e->fsst->values;
    if (!inner || inner->compression_case != LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE)
      return unsupported(inner, "FSST mini-block values", what, err);
    return decode_variable_mb(inner, b, len, n, s, t, what, err);
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_RLE: {
    const Lance__Encodings21__Rle *r = e->rle;
    if (!r->values || r->values->compression_case != LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
        !r->run_lengths || r->run_lengths->compression_case != LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
        r->run_lengths->flat->bits_per_value != 8)
      return unsupported(e, "RLE with non-flat parts", what, err);
    if (bufs->n < 2)
      return corrupt(what, "RLE chunk needs two buffers", err);
    uint64_t bits = r->values->flat->bits_per_value;
    if (bits == 0 || bits % 8 || bits > 64)
      return corrupt(what, "RLE values of a bad width", err);
    size_t w = (size_t)bits / 8, runs = bufs->len[1];
    if (runs * w > len)
      return corrupt(what, "RLE chunk has more run lengths than run values", err);
    uint8_t *dst = cl_malloc((size_t)n * w, err);
    if (!dst)
      return err->code;
    uint64_t done = 0;
    for (size_t k = 0; k < runs && done < n; k++) {
      uint64_t rl = bufs->data[1][k];
      if (rl > n - done)
        rl = n - done; /* lengths may add up to more than the chunk holds */
      for (uint64_t j = 0; j < rl; j++, done++)
        memcpy(dst + done * w, b + k * w, w);
    }
    clance_status rc = done == n ? sink_fixed(s, dst, n, (uint32_t)bits, 0, what, err)
                                 : corrupt(what, "RLE runs cover fewer values than the chunk holds", err);
    free(dst);
    return rc;
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_BYTE_STREAM_SPLIT: {
    const pb21_enc *inner = e->byte_stream_split->values;
    if (!inner || inner->compression_case != LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT)
      return unsupported(inner, "byte-stream-split values", what, err);
    uint64_t bits = inner->flat->bits_per_value;
    if (bits != 32 && bits != 64 && bits != 16)
      return corrupt(what, "byte-stream-split of a bad width", err);
    size_t w = (size_t)bits / 8;
    if (n * w > len)
      return corrupt(what, "byte-stream-split chunk too short", err);
    uint8_t *tmp = cl_malloc((size_t)n * w, err);
    if (!tmp)
      return err->code;
    for (uint64_t i = 0; i < n; i++)
      for (size_t j = 0; j < w; j++)
        tmp[i * w + j] = b[j * n + i];
    clance_status rc = sink_fixed(s, tmp, n, (uint32_t)bits, 0, what, err);
    free(tmp);
    return rc;
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL: {
    /* Only value buffer 0 of the chunk is compressed. */
    cl_buf raw = CL_BUF_INIT;
    CL_TRY(decompress(e->general->compression, b, len, &raw, what, err));
    cl_chunk_bufs inner = *bufs;
    inner.data[0] = raw.data ? raw.data : (const uint8_t *)"";
    inner.len[0] = raw.len;
    clance_status rc = cl_decode_miniblock_values(e->general->values, &inner, n, s, st, what, err);
    cl_buf_free(&raw);
    return rc;
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST: {
    const Lance__Encodings21__FixedSizeList *fl = e->fixed_size_list;
    if (s->field->type != CL_TYPE_FIXED_SIZE_LIST || fl->items_per_value != (uint64_t)s->field->size)
      return corrupt(what, "fixed-size-list encoding does not match the column type", err);
    uint64_t items = n * fl->items_per_value;
    cl_chunk_bufs inner = *bufs;
    cl_arr *item = &s->arr->children[0];
    if (fl->has_validity) {
      if (bufs->n < 2 || bufs->len[0] < (items + 7) / 8)
        return corrupt(what, "fixed-size-list chunk is missing its item validity", err);
      CL_TRY(cl_arr_append_validity(item, bufs->data[0], 0, (int64_t)items, err));
      item->length -= (int64_t)items; /* the values below count the items */
      inner.n--;
      memmove(inner.data, inner.data + 1, inner.n * sizeof *inner.data);
      memmove(inner.len, inner.len + 1, inner.n * sizeof *inner.len);
    }
    cl_sink cs = {item, &s->field->children[0]};
    CL_TRY(cl_decode_miniblock_values(fl->values, &inner, items, &cs, st, what, err));
    s->arr->length += (int64_t)n;
    return CLANCE_OK;
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_PACKED_STRUCT:
    if (s->field->type != CL_TYPE_STRUCT || s->arr->field != s->field)
      return corrupt(what, "packed struct values for a column that is not a struct", err);
    CL_TRY(cl_packed_mb_rows(e, bufs, n, 0, n, s->arr, what, err));
    s->arr->length += (int64_t)n;
    return CLANCE_OK;
  default: return unsupported(e, "mini-block values", what, err);
  }
}

/* ---- levels (block context, u16) ---- */

static clance_status rle_block(const pb21_enc *e, const uint8_t *buf, size_t len, uint64_t n,
                               unsigned w, uint8_t *out, const char *what, clance_error *err) {
  /* Block form: u64 size of the run values, the run values, then u8 lengths. */
  const Lance__Encodings21__Rle *r = e->rle;
  if (!r->values || r->values->compression_case != LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
      r->values->flat->bits_per_value != w * 8 || !r->run_lengths ||
      r->run_lengths->compression_case != LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
      r->run_lengths->flat->bits_per_value != 8)
    return unsupported(e, "an RLE block", what, err);
  if (len < 8)
    return corrupt(what, "RLE block too short", err);
  uint64_t vbytes = cl_le64(buf);
  if (vbytes > len - 8 || vbytes % w)
    return corrupt(what, "RLE block value size out of range", err);
  const uint8_t *vals = buf + 8, *lens = buf + 8 + vbytes;
  size_t runs = (size_t)(vbytes / w), nl = (size_t)(len - 8 - vbytes);
  if (nl < runs)
    return corrupt(what, "RLE block has fewer run lengths than runs", err);
  uint64_t done = 0;
  for (size_t k = 0; k < runs && done < n; k++) {
    uint64_t rl = lens[k] < n - done ? lens[k] : n - done;
    for (uint64_t j = 0; j < rl; j++, done++)
      memcpy(out + done * w, vals + k * w, w);
  }
  if (done != n)
    return corrupt(what, "RLE block covers fewer values than needed", err);
  return CLANCE_OK;
}

clance_status cl_decode_levels(const pb21_enc *e, const uint8_t *buf, size_t len, uint64_t n,
                               uint16_t *out, const char *what, clance_error *err) {
  if (!e)
    return corrupt(what, "missing level encoding", err);
  switch (e->compression_case) {
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT:
    if (e->flat->bits_per_value != 16)
      return corrupt(what, "levels must be 16-bit", err);
    if (len < n * 2)
      return corrupt(what, "level buffer too short", err);
    for (uint64_t i = 0; i < n; i++)
      out[i] = cl_le16(buf + 2 * i);
    return CLANCE_OK;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING:
    if (e->inline_bitpacking->uncompressed_bits_per_value != 16)
      return corrupt(what, "bit-packed levels must be 16-bit", err);
    return cl_inline_bitpack_decode_groups(16, buf, len, (size_t)n, out, err) ? cl_err_ctx(err, "%s: ", what)
                                                                                 : CLANCE_OK;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING: {
    const Lance__Encodings21__OutOfLineBitpacking *o = e->out_of_line_bitpacking;
    if (o->uncompressed_bits_per_value != 16 || !o->values ||
        o->values->compression_case != LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
        o->values->flat->bits_per_value > 16)
      return corrupt(what, "bad out-of-line bit-packing of levels", err);
    return cl_outofline_bitpack_decode(16, (unsigned)o->values->flat->bits_per_value, buf, len,
                                       (size_t)n, out, err)
               ? cl_err_ctx(err, "%s: ", what)
               : CLANCE_OK;
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_RLE:
    return rle_block(e, buf, len, n, 2, (uint8_t *)out, what, err);
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_CONSTANT: {
    uint16_t v = 0;
    const Lance__Encodings21__Constant *c = e->constant;
    if (c->has_value && c->value.len >= 2)
      v = cl_le16(c->value.data);
    for (uint64_t i = 0; i < n; i++)
      out[i] = v;
    return CLANCE_OK;
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL: {
    cl_buf raw = CL_BUF_INIT;
    CL_TRY(decompress(e->general->compression, buf, len, &raw, what, err));
    clance_status rc = cl_decode_levels(e->general->values, raw.data ? raw.data : (const uint8_t *)"",
                                        raw.len, n, out, what, err);
    cl_buf_free(&raw);
    return rc;
  }
  default: return unsupported(e, "levels", what, err);
  }
}

/* ---- block values (dictionaries) ---- */

clance_status cl_decode_block_values(const pb21_enc *e, const uint8_t *buf, size_t len, uint64_t n,
                                     cl_sink *s, cl_dec_state *st, const char *what,
                                     clance_error *err) {
  if (!e)
    return corrupt(what, "missing dictionary encoding", err);
  switch (e->compression_case) {
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT: {
    uint64_t bits = e->flat->bits_per_value;
    if (bits == 0 || (bits != 1 && bits % 8))
      return corrupt(what, "Flat block of a bad width", err);
    uint64_t need = bits == 1 ? (n + 7) / 8 : n * (bits / 8);
    if (need > len)
      return corrupt(what, "block buffer too short", err);
    return sink_fixed(s, buf, n, (uint32_t)bits, 0, what, err);
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING: {
    uint64_t w = e->inline_bitpacking->uncompressed_bits_per_value;
    if (w != 8 && w != 16 && w != 32 && w != 64)
      return corrupt(what, "bit-packed block of a bad width", err);
    uint8_t *tmp = cl_malloc((size_t)n * (w / 8), err);
    if (!tmp)
      return err->code;
    clance_status rc = cl_inline_bitpack_decode_groups((unsigned)w, buf, len, (size_t)n, tmp, err);
    if (!rc)
      rc = sink_fixed(s, tmp, n, (uint32_t)w, 0, what, err);
    free(tmp);
    return rc;
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING: {
    /* Lance 12 (2.2) packs dictionaries of more than 1024 64-bit values
     * this way: one width b for the whole buffer, raw or packed tail. */
    const Lance__Encodings21__OutOfLineBitpacking *o = e->out_of_line_bitpacking;
    uint64_t w = o->uncompressed_bits_per_value;
    if ((w != 8 && w != 16 && w != 32 && w != 64) || !o->values ||
        o->values->compression_case != LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
        o->values->flat->bits_per_value > w)
      return corrupt(what, "bad out-of-line bit-packing of a dictionary", err);
    unsigned b = (unsigned)o->values->flat->bits_per_value;
    /* The buffer bounds the count before anything is allocated: a group of
     * 1024 values takes 128*b bytes (a raw tail more per value); nothing
     * else distinguishes b == 0, where the values (all zero) can only be one
     * distinct dictionary entry. */
    uint64_t max_n = b ? ((uint64_t)len / (128u * b) + 1) * 1024 : 1024;
    if (n > max_n)
      return corrupt(what, "out-of-line bit-packed dictionary shorter than its entries", err);
    uint8_t *tmp = cl_malloc((size_t)n * (w / 8) + 1, err);
    if (!tmp)
      return err->code;
    clance_status rc = cl_outofline_bitpack_decode((unsigned)w, b, buf, len, (size_t)n, tmp, err);
    if (rc)
      cl_err_ctx(err, "%s: ", what);
    else
      rc = sink_fixed(s, tmp, n, (uint32_t)w, 0, what, err);
    free(tmp);
    return rc;
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_RLE: {
    uint32_t bits = sink_bits(s);
    if (bits % 8 || bits == 0 || bits > 64)
      return corrupt(what, "RLE block for a non-integer column", err);
    uint8_t *tmp = cl_malloc((size_t)n * (bits / 8), err);
    if (!tmp)
      return err->code;
    clance_status rc = rle_block(e, buf, len, n, bits / 8, tmp, what, err);
    if (!rc)
      rc = sink_fixed(s, tmp, n, bits, 0, what, err);
    free(tmp);
    return rc;
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE: {
    if (!sink_is_var(s))
      return corrupt(what, "variable-width dictionary for a fixed-width column", err);
    /* Current form: u32 32 | u32 data_start | (n+1) u32 offsets | bytes
     * (or the u64 equivalent); an older form starts with a u8 width. */
    unsigned ow;
    uint64_t data_start, hdr, count = n;
    if (len >= 8 && (buf[1] | buf[2] | buf[3]) == 0 && (cl_le32(buf) == 32 || cl_le32(buf) == 64)) {
      ow = cl_le32(buf) / 8;
      if (ow == 4) {
        data_start = cl_le32(buf + 4);
        hdr = 8;
      } else {
        if (len < 16)
          return corrupt(what, "variable block header too short", err);
        data_start = cl_le64(buf + 8);
        hdr = 16;
      }
    } else if (len >= 1 && (buf[0] == 32 || buf[0] == 64)) {
      ow = buf[0] / 8;
      if (len < 1 + 2 * (size_t)ow)
        return corrupt(what, "variable block header too short", err);
      count = ow == 4 ? cl_le32(buf + 1) : cl_le64(buf + 1);
      data_start = ow == 4 ? cl_le32(buf + 5) : cl_le64(buf + 9);
      hdr = 1 + 2 * (uint64_t)ow;
      if (count != n)
        return corrupt(what, "variable block holds a different number of values", err);
    } else {
      return corrupt(what, "unrecognised variable block header", err);
    }
    if (data_start > len || (n + 1) > (len - hdr) / ow || hdr + (n + 1) * ow > data_start)
      return corrupt(what, "variable block offsets out of range", err);
    const uint8_t *offs = buf + hdr, *data = buf + data_start;
    size_t dlen = (size_t)(len - data_start);
    uint64_t prev = 0;
    for (uint64_t i = 0; i < n; i++) {
      uint64_t a = ow == 4 ? cl_le32(offs + 4 * i) : cl_le64(offs + 8 * i);
      uint64_t b = ow == 4 ? cl_le32(offs + 4 * (i + 1)) : cl_le64(offs + 8 * (i + 1));
      if (a > b || b > dlen || a < prev)
        return corrupt(what, "variable block offsets out of order", err);
      prev = a;
      CL_TRY(sink_var(s, data + a, (size_t)(b - a), err));
    }
    return CLANCE_OK;
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL: {
    cl_buf raw = CL_BUF_INIT;
    CL_TRY(decompress(e->general->compression, buf, len, &raw, what, err));
    clance_status rc = cl_decode_block_values(e->general->values, raw.data ? raw.data : (const uint8_t *)"",
                                              raw.len, n, s, st, what, err);
    cl_buf_free(&raw);
    return rc;
  }
  default: return unsupported(e, "a dictionary block", what, err);
  }
}

/* ---- per-value (full-zip) ---- */

clance_status cl_pervalue_bits(const pb21_enc *e, uint64_t *bits, const char *what,
                               clance_error *err) {
  if (!e)
    return corrupt(what, "missing value encoding", err);
  switch (e->compression_case) {
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT:
    *bits = e->flat->bits_per_value;
    return CLANCE_OK;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST: {
    const Lance__Encodings21__FixedSizeList *fl = e->fixed_size_list;
    uint64_t inner;
    CL_TRY(cl_pervalue_bits(fl->values, &inner, what, err));
    uint64_t dim = fl->items_per_value;
    if (dim == 0 || dim > (1u << 24) || inner > (1u << 20))
      return corrupt(what, "fixed-size-list of an implausible size", err);
    *bits = dim * inner + (fl->has_validity ? ((dim + 7) / 8) * 8 : 0);
    return CLANCE_OK;
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_CONSTANT:
    *bits = 0;
    return CLANCE_OK;
  default: return unsupported(e, "fixed-width full-zip values", what, err);
  }
}

clance_status cl_decode_pervalue(const pb21_enc *e, const uint8_t *buf, size_t len, cl_sink *s,
                                 cl_dec_state *st, const char *what, clance_error *err) {
  if (!e)
    return corrupt(what, "missing value encoding", err);
  switch (e->compression_case) {
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT: {
    uint64_t bits = e->flat->bits_per_value;
    if (bits == 0 || bits % 8 || bits / 8 > len)
      return corrupt(what, "full-zip value shorter than its width", err);
    return sink_fixed(s, buf, 1, (uint32_t)bits, 0, what, err);
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST: {
    const Lance__Encodings21__FixedSizeList *fl = e->fixed_size_list;
    if (s->field->type != CL_TYPE_FIXED_SIZE_LIST || fl->items_per_value != (uint64_t)s->field->size)
      return corrupt(what, "fixed-size-list encoding does not match the column type", err);
    uint64_t dim = fl->items_per_value, inner_bits;
    CL_TRY(cl_pervalue_bits(fl->values, &inner_bits, what, err));
    size_t vbytes = fl->has_validity ? (size_t)((dim + 7) / 8) : 0;
    if (inner_bits % 8 || vbytes + dim * (inner_bits / 8) > len)
      return corrupt(what, "full-zip vector shorter than its width", err);
    cl_arr *item = &s->arr->children[0];
    if (fl->has_validity) {
      CL_TRY(cl_arr_append_validity(item, buf, 0, (int64_t)dim, err));
      item->length -= (int64_t)dim;
    }
    cl_sink cs = {item, &s->field->children[0]};
    if (fl->values->compression_case != LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT)
      return unsupported(fl->values, "full-zip vector items", what, err);
    CL_TRY(sink_fixed(&cs, buf + vbytes, dim, (uint32_t)inner_bits, 0, what, err));
    s->arr->length++;
    return CLANCE_OK;
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE:
    if (!sink_is_var(s))
      return corrupt(what, "variable-width value for a fixed-width column", err);
    return sink_var(s, buf, len, err);
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FSST: {
    const cl_fsst_table *t = fsst_table(e, st, what, err);
    if (!t)
      return err->code;
    if (!sink_is_var(s))
      return corrupt(what, "FSST value for a fixed-width column", err);
    cl_arr *a = s->arr;
    if (cl_fsst_decode(t, buf, len, &a->values, err))
      return cl_err_ctx(err, "%s: ", what);
    CL_TRY(cl_arr_push_offset(a, a->values.len, err));
    a->length++;
    return CLANCE_OK;
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL: {
    cl_buf raw = CL_BUF_INIT;
    CL_TRY(decompress(e->general->compression, buf, len, &raw, what, err));
    clance_status rc = cl_decode_pervalue(e->general->values, raw.data ? raw.data : (const uint8_t *)"",
                                          raw.len, s, st, what, err);
    cl_buf_free(&raw);
    return rc;
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_CONSTANT: {
    const Lance__Encodings21__Constant *c = e->constant;
    if (sink_is_var(s))
      return sink_var(s, c->value.data, c->value.len, err);
    uint32_t bits = sink_bits(s);
    if (c->has_value && c->value.len * 8 >= bits && bits % 8 == 0)
      return sink_fixed(s, c->value.data, 1, bits, 0, what, err);
    uint8_t zero[32] = {0};
    if (bits > 256 || bits % 8)
      return unsupported(e, "constant full-zip values of this type", what, err);
    return sink_fixed(s, zero, 1, bits, 0, what, err);
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE_PACKED_STRUCT:
    return decode_var_packed_row(e, buf, len, s, st, what, err);
  default: return unsupported(e, "full-zip values", what, err);
  }
}
