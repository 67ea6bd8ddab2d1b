/* File format 2.1/2.2 page encoder for leaf columns.
 *
 * Layout choice follows Lance: values narrower than 256 bytes go into a
 * mini-block page (chunks of a few KiB, each with its own header, so a reader
 * can decode a chunk in isolation), wider values into a full-zip page (each
 * value stored whole, with a repetition index for variable widths). A page
 * with nothing but nulls is an all-null page with no buffers. Definition
 * levels (0 = valid, 1 = null) are stored only when the page holds a null.
 * The value encodings follow Lance 12's choices: a dictionary page when the
 * values repeat enough (encode21_dict.c), run-length encoding, FastLanes
 * bit-packing or plain values for fixed widths, FSST for strings (one
 * symbol table per page, when that makes them smaller), zstd per value for
 * values over 32 KiB in full-zip pages, and in 2.2 a constant page when
 * every value is the same. */
#include <stdlib.h>
#include <string.h>

#include "encoding/compress.h"
#include "encoding/encode.h"
#include "encoding/encode21.h"
#include "encoding/fastlanes.h"
#include "encoding/fsst.h"

#define CHUNK_TARGET 4096   /* value bytes per mini-block chunk */
#define CHUNK_MAX_VALUES 4096
#define MINIBLOCK_MAX_VALUE 256 /* values this wide or wider go full-zip */
#define ZSTD_PER_VALUE_MIN 32768 /* full-zip values longer than this: zstd per value */

typedef Lance__Encodings21__MiniBlockLayout mb_layout;
typedef Lance__Encodings21__FullZipLayout fz_layout;

int cl_encode_supported_leaf(const cl_field *f) {
  switch (f->type) {
  case CL_TYPE_NULL:
  case CL_TYPE_BOOL:
  case CL_TYPE_INT8:
  case CL_TYPE_UINT8:
  case CL_TYPE_INT16:
  case CL_TYPE_UINT16:
  case CL_TYPE_INT32:
  case CL_TYPE_UINT32:
  case CL_TYPE_INT64:
  case CL_TYPE_UINT64:
  case CL_TYPE_FLOAT16:
  case CL_TYPE_FLOAT32:
  case CL_TYPE_FLOAT64:
  case CL_TYPE_DECIMAL128:
  case CL_TYPE_DECIMAL256:
  case CL_TYPE_DATE32:
  case CL_TYPE_DATE64:
  case CL_TYPE_TIME32:
  case CL_TYPE_TIME64:
  case CL_TYPE_TIMESTAMP:
  case CL_TYPE_DURATION:
  case CL_TYPE_FIXED_SIZE_BINARY:
  case CL_TYPE_UTF8:
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_BINARY:
  case CL_TYPE_LARGE_BINARY: return 1;
  case CL_TYPE_FIXED_SIZE_LIST: {
    /* A vector of a fixed-width primitive (no nested lists). */
    const cl_field *c = &f->children[0];
    return c->type != CL_TYPE_BOOL && c->type != CL_TYPE_FIXED_SIZE_LIST && cl_type_bits(c) >= 8 &&
           cl_type_bits(c) % 8 == 0;
  }
  default: return 0;
  }
}

/* ---- a read-only view of the accumulated page (encode21.h) ---- */

void cl_leaf_view_of(const cl_field *f, const cl_arr *a, leaf_view *v) {
  memset(v, 0, sizeof *v);
  v->f = f;
  v->n = a->length;
  v->validity = a->null_count > 0 ? a->validity.data : NULL;
  if (cl_type_is_binary_like(f->type)) {
    v->var = 1;
    v->large = cl_type_is_large(f->type);
    v->offsets = a->offsets.data;
    v->data = a->values.data;
  } else if (f->type == CL_TYPE_FIXED_SIZE_LIST) {
    const cl_arr *item = &a->children[0];
    v->dim = (uint32_t)f->size;
    v->item_bits = cl_type_bits(&f->children[0]);
    v->bits = v->dim * v->item_bits;
    v->values = item->values.data;
    v->item_validity = item->null_count > 0 ? item->validity.data : NULL;
  } else {
    v->bits = cl_type_bits(f);
    v->values = a->values.data;
  }
}

/* ---- protobuf helpers (messages live on the stack of the caller) ---- */

typedef struct enc_store {
  /* Enough nodes for the deepest encoding trees we emit (a dictionary page:
   * Rle{Flat, Flat} indices and General{Variable{Flat}} entries). */
  pb21_enc enc[12];
  Lance__Encodings21__Flat flat[8];
  Lance__Encodings21__Variable variable[2];
  Lance__Encodings21__FixedSizeList fsl;
  Lance__Encodings21__InlineBitpacking bitpack[2];
  Lance__Encodings21__OutOfLineBitpacking oolbp;
  Lance__Encodings21__Fsst fsst;
  Lance__Encodings21__Rle rle;
  Lance__Encodings21__General general[2];
  Lance__Encodings21__BufferCompression bc[2];
  int n_enc, n_flat, n_var, n_bitpack, n_general;
} enc_store;

static pb21_enc *new_enc(enc_store *s) {
  pb21_enc *e = &s->enc[s->n_enc++];
  lance__encodings21__compressive_encoding__init(e);
  return e;
}

static pb21_enc *flat_enc(enc_store *s, uint64_t bits) {
  pb21_enc *e = new_enc(s);
  Lance__Encodings21__Flat *fl = &s->flat[s->n_flat++];
  lance__encodings21__flat__init(fl);
  fl->has_bits_per_value = 1;
  fl->bits_per_value = bits;
  e->compression_case = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
  e->flat = fl;
  return e;
}

/* Variable{offsets: Flat{32|64}}. */
static pb21_enc *var_enc(enc_store *s, uint64_t offset_bits) {
  pb21_enc *e = new_enc(s);
  Lance__Encodings21__Variable *va = &s->variable[s->n_var++];
  lance__encodings21__variable__init(va);
  va->offsets = flat_enc(s, offset_bits);
  e->compression_case = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE;
  e->variable = va;
  return e;
}

/* General{compression: {scheme[, level]}, values: inner}. */
static pb21_enc *general_enc(enc_store *s, Lance__Encodings21__CompressionScheme scheme,
                             int has_level, int32_t level, pb21_enc *inner) {
  pb21_enc *e = new_enc(s);
  Lance__Encodings21__General *g = &s->general[s->n_general];
  Lance__Encodings21__BufferCompression *bc = &s->bc[s->n_general++];
  lance__encodings21__general__init(g);
  lance__encodings21__buffer_compression__init(bc);
  bc->has_scheme = 1;
  bc->scheme = scheme;
  bc->has_level = has_level;
  bc->level = level;
  g->compression = bc;
  g->values = inner;
  e->compression_case = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL;
  e->general = g;
  return e;
}

/* Rle{values: Flat{w}, run_lengths: Flat{8}}. */
static pb21_enc *rle_enc(enc_store *s, uint64_t w) {
  pb21_enc *e = new_enc(s);
  lance__encodings21__rle__init(&s->rle);
  s->rle.values = flat_enc(s, w);
  s->rle.run_lengths = flat_enc(s, 8);
  e->compression_case = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_RLE;
  e->rle = &s->rle;
  return e;
}

/* OutOfLineBitpacking{uncompressed w, values: Flat{b}}. */
static pb21_enc *ool_bitpack_enc(enc_store *s, uint64_t w, uint64_t b) {
  pb21_enc *e = new_enc(s);
  lance__encodings21__out_of_line_bitpacking__init(&s->oolbp);
  s->oolbp.has_uncompressed_bits_per_value = 1;
  s->oolbp.uncompressed_bits_per_value = w;
  s->oolbp.values = flat_enc(s, b);
  e->compression_case = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING;
  e->out_of_line_bitpacking = &s->oolbp;
  return e;
}

/* The value encoding for the view: Flat, FixedSizeList(Flat) or Variable(Flat). */
/* Fsst{symbol_table, values: inner} around the values' own encoding
 * (Variable{offsets: Flat 32|64}), as Lance writes it. */
static pb21_enc *fsst_enc(enc_store *s, const uint8_t *table, pb21_enc *inner) {
  pb21_enc *fe = new_enc(s);
  lance__encodings21__fsst__init(&s->fsst);
  s->fsst.has_symbol_table = 1;
  s->fsst.symbol_table.data = (uint8_t *)table; /* (only read when packed) */
  s->fsst.symbol_table.len = CL_FSST_TABLE_SIZE;
  s->fsst.values = inner;
  fe->compression_case = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FSST;
  fe->fsst = &s->fsst;
  return fe;
}

static pb21_enc *value_enc(enc_store *s, const leaf_view *v) {
  if (v->var)
    return var_enc(s, v->large ? 64 : 32);
  if (v->f->type == CL_TYPE_FIXED_SIZE_LIST) {
    pb21_enc *e = new_enc(s);
    lance__encodings21__fixed_size_list__init(&s->fsl);
    s->fsl.has_items_per_value = 1;
    s->fsl.items_per_value = v->dim;
    s->fsl.has_has_validity = v->item_validity != NULL;
    s->fsl.has_validity = v->item_validity != NULL;
    s->fsl.values = flat_enc(s, v->item_bits);
    e->compression_case = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST;
    e->fixed_size_list = &s->fsl;
    return e;
  }
  return flat_enc(s, v->bits);
}

static clance_status pack_layout(pb21_layout *layout, cl_page_enc *out, clance_error *err) {
  out->encoding.len = 0;
  return cl_pb_pack_any(CL_URL_PAGE_LAYOUT, &layout->base, &out->encoding, err);
}

/* A page's layers, innermost first: the leaf's own, then one item layer
 * per struct around it, nullable when `def_at` (NULL: none) gives that
 * struct layer a definition level. `buf` holds CL_MAX_STRUCT_DEPTH + 1. */
static size_t page_layers(Lance__Encodings21__RepDefLayer *buf, Lance__Encodings21__RepDefLayer leaf,
                          uint32_t outer, const uint8_t *def_at) {
  buf[0] = leaf;
  for (uint32_t k = 1; k <= outer && k <= CL_MAX_STRUCT_DEPTH; k++)
    buf[k] = def_at && def_at[k] ? LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULLABLE_ITEM
                                 : LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_ALL_VALID_ITEM;
  return 1 + (outer < CL_MAX_STRUCT_DEPTH ? outer : CL_MAX_STRUCT_DEPTH);
}

/* ---- all-null page ---- */

static clance_status encode_all_null(uint32_t outer, cl_page_enc *out, clance_error *err) {
  Lance__Encodings21__ConstantLayout cl = LANCE__ENCODINGS21__CONSTANT_LAYOUT__INIT;
  Lance__Encodings21__RepDefLayer layers[CL_MAX_STRUCT_DEPTH + 1];
  cl.n_layers = page_layers(layers, LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULLABLE_ITEM, outer, NULL);
  cl.layers = layers;
  pb21_layout layout = LANCE__ENCODINGS21__PAGE_LAYOUT__INIT;
  layout.layout_case = LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_CONSTANT_LAYOUT;
  layout.constant_layout = &cl;
  out->n_bufs = 0;
  return pack_layout(&layout, out, err);
}

/* ---- constant page (2.2) ----
 *
 * Lance 12 writes a 2.2 page whose values are all equal as a ConstantLayout
 * (ConstantPrimitiveEncoding, tried before anything else): the value inline
 * when it is fixed width and at most 32 bytes (a bool as one byte), else in
 * one buffer holding the one-element Arrow array: u32 buffer count (2),
 * u32 sizes, the offsets (0, len) and the bytes. Only pages without nulls
 * here: with nulls Lance stores raw u16 definition levels beside the value,
 * 2 bytes a row, which a dictionary page undercuts many times over. */

#define CONSTANT_INLINE_MAX 32

static int page_is_constant(const leaf_view *v) {
  if (v->validity || v->sdef || v->n == 0 || v->f->type == CL_TYPE_FIXED_SIZE_LIST)
    return 0;
  if (v->var) {
    uint64_t a = var_off(v, 0), len = var_off(v, 1) - a;
    for (int64_t i = 1; i < v->n; i++) {
      uint64_t b = var_off(v, i);
      if (var_off(v, i + 1) - b != len || memcmp(v->data + a, v->data + b, (size_t)len) != 0)
        return 0;
    }
    return 1;
  }
  if (v->bits == 1) {
    int first = cl_bit_get(v->values, 0);
    for (int64_t i = 1; i < v->n; i++)
      if (cl_bit_get(v->values, i) != first)
        return 0;
    return 1;
  }
  size_t w = v->bits / 8;
  if (v->bits % 8 || w == 0 || w > CONSTANT_INLINE_MAX)
    return 0;
  for (int64_t i = 1; i < v->n; i++)
    if (memcmp(v->values, v->values + (size_t)i * w, w) != 0)
      return 0;
  return 1;
}

static clance_status encode_constant(const leaf_view *v, cl_page_enc *out, clance_error *err) {
  Lance__Encodings21__ConstantLayout cl = LANCE__ENCODINGS21__CONSTANT_LAYOUT__INIT;
  Lance__Encodings21__RepDefLayer layers[CL_MAX_STRUCT_DEPTH + 1];
  cl.n_layers = page_layers(layers, LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_ALL_VALID_ITEM, v->outer, NULL);
  cl.layers = layers;
  uint8_t bit;
  out->n_bufs = 0;
  if (v->var) {
    cl_buf *b = &out->bufs[0];
    unsigned ob = v->large ? 8 : 4;
    uint64_t a = var_off(v, 0), len = var_off(v, 1) - a;
    if (len > UINT32_MAX)
      return cl_err(err, CLANCE_EINTERNAL, "constant value of %llu bytes", (unsigned long long)len);
    CL_TRY(cl_buf_append_u32(b, 2, err));
    CL_TRY(cl_buf_append_u32(b, 2 * ob, err));
    CL_TRY(cl_buf_append_u32(b, (uint32_t)len, err));
    CL_TRY(ob == 8 ? cl_buf_append_u64(b, 0, err) : cl_buf_append_u32(b, 0, err));
    CL_TRY(ob == 8 ? cl_buf_append_u64(b, len, err) : cl_buf_append_u32(b, (uint32_t)len, err));
    CL_TRY(cl_buf_append(b, v->data + a, (size_t)len, err));
    out->n_bufs = 1;
  } else if (v->bits == 1) {
    bit = (uint8_t)cl_bit_get(v->values, 0);
    cl.has_inline_value = 1;
    cl.inline_value.data = &bit;
    cl.inline_value.len = 1;
  } else {
    cl.has_inline_value = 1;
    cl.inline_value.data = (uint8_t *)v->values;
    cl.inline_value.len = v->bits / 8;
  }
  pb21_layout layout = LANCE__ENCODINGS21__PAGE_LAYOUT__INIT;
  layout.layout_case = LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_CONSTANT_LAYOUT;
  layout.constant_layout = &cl;
  return pack_layout(&layout, out, err);
}

/* ---- mini-block ---- */

typedef struct chunk_writer {
  cl_buf *meta;   /* one word per chunk */
  cl_buf *data;   /* the chunks */
  int large;      /* 2.2: u32 words and buffer sizes */
  cl_buf *levels; /* scratch for a chunk's encoded levels */
} chunk_writer;

/* Append one chunk: header, definition levels, then the value buffers. */
/* Definition levels of one chunk (0 valid, then the null layers'),
 * bit-packed out of line at the levels' width: a 1024-row chunk of a leaf
 * outside any struct takes 128 bytes instead of 2 KiB of raw u16s. */
static clance_status chunk_def_levels(const leaf_view *v, int64_t first, int64_t k, cl_buf *out,
                                      clance_error *err) {
  uint16_t lv[CHUNK_MAX_VALUES];
  for (int64_t i = 0; i < k; i++)
    lv[i] = (uint16_t)row_def(v, first + i);
  out->len = 0;
  return cl_outofline_bitpack_encode(16, def_bits(v), lv, (size_t)k, out, err);
}

/* Append one chunk: header, definition levels, then the value buffers. */
static clance_status put_chunk(chunk_writer *w, int last, unsigned log2n, int64_t k,
                               const leaf_view *v, int64_t first, cl_buf *vbufs, size_t nvb,
                               clance_error *err) {
  cl_buf *d = w->data;
  size_t start = d->len;
  int has_def = v->max_def > 0;
  if (has_def)
    CL_TRY(chunk_def_levels(v, first, k, w->levels, err));
  CL_TRY(cl_buf_append_u16(d, has_def ? (uint16_t)k : 0, err));
  if (has_def)
    CL_TRY(cl_buf_append_u16(d, (uint16_t)w->levels->len, err));
  for (size_t i = 0; i < nvb; i++) {
    if (w->large)
      CL_TRY(cl_buf_append_u32(d, (uint32_t)vbufs[i].len, err));
    else
      CL_TRY(cl_buf_append_u16(d, (uint16_t)vbufs[i].len, err));
  }
  CL_TRY(cl_buf_pad(d, 8, 0xFE, err));
  if (has_def) {
    CL_TRY(cl_buf_append(d, w->levels->data, w->levels->len, err));
    CL_TRY(cl_buf_pad(d, 8, 0xFE, err));
  }
  for (size_t i = 0; i < nvb; i++) {
    CL_TRY(cl_buf_append(d, vbufs[i].data, vbufs[i].len, err));
    CL_TRY(cl_buf_pad(d, 8, 0xFE, err));
  }
  size_t size = d->len - start;
  if (!w->large && size > 32768)
    return cl_err(err, CLANCE_EINTERNAL, "mini-block chunk of %zu bytes exceeds 32 KiB", size);
  uint32_t word = (last ? 0u : log2n) | (uint32_t)((size / 8 - 1) << 4);
  return w->large ? cl_buf_append_u32(w->meta, word, err)
                  : cl_buf_append_u16(w->meta, (uint16_t)word, err);
}

/* Copy bits [first, first+k) of src into a fresh buffer starting at bit 0. */
static clance_status bits_slice(cl_buf *dst, const uint8_t *src, int64_t first, int64_t k,
                                clance_error *err) {
  dst->len = 0;
  CL_TRY(cl_buf_fill(dst, 0, (size_t)((k + 7) / 8), err));
  cl_bits_copy(dst->data, 0, src, first, k);
  return CLANCE_OK;
}

/* Value buffers of chunk [first, first+k) for fixed-width data. */
static clance_status fixed_chunk_bufs(const leaf_view *v, int64_t first, int64_t k, cl_buf *vb,
                                      size_t *nvb, clance_error *err) {
  size_t n = 0;
  if (v->f->type == CL_TYPE_FIXED_SIZE_LIST && v->item_validity)
    CL_TRY(bits_slice(&vb[n++], v->item_validity, first * v->dim, k * v->dim, err));
  if (v->bits == 1) {
    CL_TRY(bits_slice(&vb[n++], v->values, first, k, err));
  } else {
    size_t w = v->bits / 8;
    vb[n].len = 0;
    CL_TRY(cl_buf_append(&vb[n], v->values + (size_t)first * w, (size_t)k * w, err));
    n++;
  }
  *nvb = n;
  return CLANCE_OK;
}

/* One Variable chunk buffer: (k+1) offsets relative to the buffer start, the
 * bytes, then 0x48 padding to the offset width. */
static clance_status var_chunk_buf(const leaf_view *v, int64_t first, int64_t k, cl_buf *vb,
                                   clance_error *err) {
  unsigned ow = v->large ? 8 : 4;
  uint64_t b0 = var_off(v, first), b1 = var_off(v, first + k);
  uint64_t base = (uint64_t)(k + 1) * ow;
  vb->len = 0;
  CL_TRY(cl_buf_reserve(vb, (size_t)(base + (b1 - b0) + 8), err));
  /* (typed loops: the view's offsets and vb are malloc'd, so aligned) */
  if (ow == 8) {
    const uint64_t *so = (const uint64_t *)(const void *)v->offsets + first;
    uint64_t *o = (uint64_t *)(void *)vb->data;
    for (int64_t i = 0; i <= k; i++)
      o[i] = base + so[i] - b0;
  } else {
    const uint32_t *so = (const uint32_t *)(const void *)v->offsets + first;
    uint32_t *o = (uint32_t *)(void *)vb->data, shift = (uint32_t)(base - b0);
    for (int64_t i = 0; i <= k; i++)
      o[i] = so[i] + shift;
  }
  vb->len = (size_t)(k + 1) * ow;
  CL_TRY(cl_buf_append(vb, v->data + b0, (size_t)(b1 - b0), err));
  return cl_buf_pad(vb, ow, 0x48, err);
}

static unsigned log2u(uint64_t k) {
  unsigned l = 0;
  while ((1ull << (l + 1)) <= k)
    l++;
  return l;
}

static uint64_t var_chunk_size(const leaf_view *v, int64_t first, int64_t k) {
  return (uint64_t)(k + 1) * (v->large ? 8 : 4) + var_off(v, first + k) - var_off(v, first);
}

/* ---- fixed-width value compression: run lengths, bit-packing or plain ----
 *
 * Lance 12's mini-block choice for 8/16/32/64-bit values (lance-encoding
 * compression.rs: try_fixed_u8_rle_miniblock, then try_bitpacking_miniblock,
 * then plain; floats included, as their bit patterns):
 *   - RLE (run values + u8 run lengths, two buffers a chunk) when its size
 *     estimate (runs cut at 4096 values and at 255, times width + 1 bytes)
 *     undercuts the plain bytes and is not above the bit-packing estimate;
 *   - else FastLanes bit-packing (one 1024-value group a chunk) when the sum
 *     over groups of (header word + 1024 * b bits) undercuts the plain bytes
 *     (non-negative doubles below 2.0 pack to 62 bits, for instance);
 *   - else plain values. */

#define RLE_CHUNK_VALUES 4096          /* MAX_MINIBLOCK_VALUES */
#define RLE_CHUNK_BYTES (8 * 1024 - 6) /* MAX_MINIBLOCK_BYTES */
#define RLE_MAX_RUN 255                /* u8 run lengths */

typedef enum fixed_choice { FIXED_PLAIN, FIXED_BITPACK, FIXED_RLE } fixed_choice;

static uint64_t fixed_at(const uint8_t *p, unsigned wb, int64_t i) {
  switch (wb) {
  case 1: return p[i];
  case 2: return cl_le16(p + 2 * i);
  case 4: return cl_le32(p + 4 * i);
  default: return cl_le64(p + 8 * i);
  }
}

static int packable(const leaf_view *v) {
  const cl_field *f = v->f;
  if (v->var || f->type == CL_TYPE_FIXED_SIZE_LIST || f->type == CL_TYPE_BOOL)
    return 0;
  return v->bits == 8 || v->bits == 16 || v->bits == 32 || v->bits == 64;
}

/* Lance's bit-packing estimate, 0 when it does not undercut plain values. */
static uint64_t bitpack_bytes(const leaf_view *v) {
  uint32_t w = v->bits;
  uint64_t packed = 0, raw = (uint64_t)v->n * (w / 8);
  for (int64_t g = 0; g < v->n; g += 1024) {
    int64_t k = v->n - g < 1024 ? v->n - g : 1024;
    uint64_t acc = 0;
    const uint8_t *p = v->values + (size_t)g * (w / 8);
    switch (w) {
    case 8: for (int64_t i = 0; i < k; i++) acc |= p[i]; break;
    case 16: for (int64_t i = 0; i < k; i++) acc |= cl_le16(p + 2 * i); break;
    case 32: for (int64_t i = 0; i < k; i++) acc |= cl_le32(p + 4 * i); break;
    default: for (int64_t i = 0; i < k; i++) acc |= cl_le64(p + 8 * i); break;
    }
    packed += w / 8 + 128u * cl_bits_needed_u64(acc);
  }
  return packed < raw ? packed : 0;
}

/* RLE entries of a run of len values: cut into segments of `seg` values,
 * each into pieces of at most 255. */
static uint64_t rle_entries(uint64_t len, uint64_t seg) {
  uint64_t e = 0;
  while (len > 0) {
    uint64_t s = len < seg ? len : seg;
    e += (s + RLE_MAX_RUN - 1) / RLE_MAX_RUN;
    len -= s;
  }
  return e;
}

/* Bytes of values [first, first+k) as RLE runs (without the page-level
 * 4096 cut: one chunk never holds more). */
static uint64_t rle_chunk_bytes(const leaf_view *v, int64_t first, int64_t k) {
  unsigned wb = v->bits / 8;
  uint64_t entries = 0, run = 1;
  uint64_t prev = fixed_at(v->values, wb, first);
  for (int64_t i = first + 1; i < first + k; i++) {
    uint64_t x = fixed_at(v->values, wb, i);
    if (x == prev) {
      run++;
      continue;
    }
    entries += (run + RLE_MAX_RUN - 1) / RLE_MAX_RUN;
    prev = x;
    run = 1;
  }
  entries += (run + RLE_MAX_RUN - 1) / RLE_MAX_RUN;
  return entries * (wb + 1);
}

static fixed_choice choose_fixed(const leaf_view *v) {
  if (!packable(v) || v->n == 0)
    return FIXED_PLAIN;
  unsigned wb = v->bits / 8;
  uint64_t raw = (uint64_t)v->n * wb, bp = bitpack_bytes(v);
  /* Lance's page-wide RLE estimate: runs of the whole page, each cut into
   * segments of 4096 values. */
  uint64_t entries = 0, run = 1, prev = fixed_at(v->values, wb, 0);
  for (int64_t i = 1; i < v->n; i++) {
    uint64_t x = fixed_at(v->values, wb, i);
    if (x == prev) {
      run++;
      continue;
    }
    entries += rle_entries(run, RLE_CHUNK_VALUES);
    prev = x;
    run = 1;
  }
  entries += rle_entries(run, RLE_CHUNK_VALUES);
  uint64_t rle = entries * (wb + 1);
  if (rle < raw && !(bp && bp < rle))
    return FIXED_RLE;
  return bp ? FIXED_BITPACK : FIXED_PLAIN;
}

/* Values in the next RLE chunk, as Lance cuts them: all the rest when at
 * most 4096 values fit in 8186 bytes, else the largest power of two (at
 * most 4096) that fits. */
static int64_t rle_chunk_len(const leaf_view *v, int64_t first, int *last) {
  int64_t rem = v->n - first, maxv = rem < RLE_CHUNK_VALUES ? rem : RLE_CHUNK_VALUES;
  if (rem <= RLE_CHUNK_VALUES && rle_chunk_bytes(v, first, maxv) <= RLE_CHUNK_BYTES) {
    *last = 1;
    return rem;
  }
  *last = 0;
  int64_t k = 1;
  while (2 * k <= maxv)
    k *= 2;
  while (k > 2 && rle_chunk_bytes(v, first, k) > RLE_CHUNK_BYTES)
    k /= 2;
  return k;
}

/* The two buffers of an RLE chunk: run values, then u8 run lengths (runs
 * over 255 are split into pieces of 255 and a remainder). */
static clance_status rle_chunk_bufs(const leaf_view *v, int64_t first, int64_t k, cl_buf vb[2],
                                    clance_error *err) {
  unsigned wb = v->bits / 8;
  vb[0].len = vb[1].len = 0;
  for (int64_t i = first; i < first + k;) {
    int64_t j = i + 1;
    while (j < first + k && memcmp(v->values + (size_t)j * wb, v->values + (size_t)i * wb, wb) == 0)
      j++;
    for (uint64_t len = (uint64_t)(j - i); len > 0;) {
      uint8_t piece = (uint8_t)(len > RLE_MAX_RUN ? RLE_MAX_RUN : len);
      CL_TRY(cl_buf_append(&vb[0], v->values + (size_t)i * wb, wb, err));
      CL_TRY(cl_buf_append(&vb[1], &piece, 1, err));
      len -= piece;
    }
    i = j;
  }
  return CLANCE_OK;
}

static pb21_enc *inline_bitpack_enc(enc_store *s, uint64_t w) {
  pb21_enc *e = new_enc(s);
  Lance__Encodings21__InlineBitpacking *ib = &s->bitpack[s->n_bitpack++];
  lance__encodings21__inline_bitpacking__init(ib);
  ib->has_uncompressed_bits_per_value = 1;
  ib->uncompressed_bits_per_value = w;
  e->compression_case = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING;
  e->inline_bitpacking = ib;
  return e;
}

/* ---- FSST ---- */

/* Lance 12's rule for variable-width mini-block values (compression.rs, no
 * field metadata): FSST for utf8 / large_utf8 (never binary) when the page's
 * data size (value bytes plus offsets) is at least 32 KiB and its longest
 * value has at least 5 bytes. */
static int fsst_wanted(const leaf_view *v, uint64_t max_len) {
  if (v->f->type != CL_TYPE_UTF8 && v->f->type != CL_TYPE_LARGE_UTF8)
    return 0;
  uint64_t bytes = var_off(v, v->n) - var_off(v, 0);
  uint64_t data_size = bytes + ((uint64_t)v->n + 1) * (v->large ? 8 : 4);
  return max_len >= CL_FSST_LANCE_MIN_MAX_LEN && data_size >= CL_FSST_LANCE_MIN_INPUT;
}

/* The page's strings FSST-compressed with one table learnt from a sample of
 * them. *used is 0 (plain values kept) when the table compresses nothing or
 * the result (codes plus the 2312-byte table) is not smaller than the plain
 * bytes. On use, cv views the compressed strings (same rows and validity),
 * backed by data and offs, and table holds the serialized symbol table. */
static clance_status fsst_compress(const leaf_view *v, leaf_view *cv, cl_buf *data, cl_buf *offs,
                                   uint8_t table[CL_FSST_TABLE_SIZE], int *used,
                                   clance_error *err) {
  *used = 0;
  uint64_t bytes = var_off(v, v->n) - var_off(v, 0);
  /* Codes take at most 2 bytes per input byte: stay within the offset width. */
  if (!v->large && 2 * bytes + 8 > UINT32_MAX)
    return CLANCE_OK;
  cl_fsst_table *t = NULL;
  size_t n = (size_t)v->n, ow = v->large ? 8 : 4;
  if (v->large)
    CL_TRY(cl_fsst_table_build64(v->data, (const uint64_t *)(const void *)v->offsets, n, &t, err));
  else
    CL_TRY(cl_fsst_table_build32(v->data, (const uint32_t *)(const void *)v->offsets, n, &t, err));
  clance_status st = CLANCE_OK;
  if (!cl_fsst_table_compressed(t))
    goto done;
  data->len = offs->len = 0;
  /* (the encoder reserves its worst case in data itself) */
  CL_CHECK(st, cl_buf_reserve(offs, (n + 1) * ow, err));
  if (v->large)
    st = cl_fsst_encode_offsets64(t, v->data, (const uint64_t *)(const void *)v->offsets, n, data,
                                  (uint64_t *)(void *)offs->data, err);
  else
    st = cl_fsst_encode_offsets32(t, v->data, (const uint32_t *)(const void *)v->offsets, n, data,
                                  (uint32_t *)(void *)offs->data, err);
  if (st)
    goto fail;
  offs->len = (n + 1) * ow;
  if ((uint64_t)data->len + CL_FSST_TABLE_SIZE >= bytes)
    goto done;
  cl_fsst_table_serialize(t, table);
  *cv = *v;
  cv->offsets = offs->data;
  cv->data = data->data;
  *used = 1;
done:
fail:
  cl_fsst_table_free(t);
  return st;
}

/* A mini-block page of the view's values; with `dict`, the view holds the
 * page's dictionary indices and the dictionary goes into buffer 2. */
static clance_status encode_miniblock(const leaf_view *pv, uint64_t max_len, cl_file_version ver,
                                      const cl_dict21 *dict, cl_page_enc *out,
                                      cl_enc21_scratch *sc, clance_error *err) {
  chunk_writer w = {&out->bufs[0], &out->bufs[1], ver >= CL_FILE_V2_2, &sc->levels};
  cl_buf *vb = sc->vb;
  size_t nvb = 0;
  clance_status st = CLANCE_OK;
  int64_t fixed_k = 0;
  /* FSST: the chunks are Variable chunks of the compressed strings. */
  uint8_t *ftable = sc->ftable;
  int use_fsst = 0;
  leaf_view fview;
  memset(&fview, 0, sizeof fview);
  const leaf_view *v = pv;
  if (pv->var && fsst_wanted(pv, max_len)) {
    CL_CHECK(st, fsst_compress(pv, &fview, &sc->fdata, &sc->foffs, ftable, &use_fsst, err));
    if (use_fsst)
      v = &fview;
  }
  fixed_choice fc = v->var ? FIXED_PLAIN : choose_fixed(v);
  int bitpack = fc == FIXED_BITPACK;
  if (bitpack) {
    fixed_k = 1024; /* one FastLanes group per chunk */
  } else if (!v->var && fc == FIXED_PLAIN) {
    /* Power-of-two values per chunk, about CHUNK_TARGET bytes of data. */
    uint64_t bits = v->bits + (v->item_validity ? v->dim : 0);
    fixed_k = CHUNK_MAX_VALUES;
    while (fixed_k > 2 && (uint64_t)fixed_k * bits > (uint64_t)CHUNK_TARGET * 8)
      fixed_k /= 2;
  }
  for (int64_t i = 0; i < v->n;) {
    int64_t rem = v->n - i, k;
    int last;
    if (v->var) {
      if (rem <= CHUNK_MAX_VALUES && var_chunk_size(v, i, rem) <= CHUNK_TARGET) {
        k = rem;
        last = 1;
      } else {
        k = 2;
        while (2 * k < rem && 2 * k <= CHUNK_MAX_VALUES && var_chunk_size(v, i, 2 * k) <= CHUNK_TARGET)
          k *= 2;
        last = 0;
      }
      CL_CHECK(st, var_chunk_buf(v, i, k, &vb[0], err));
      nvb = 1;
    } else if (fc == FIXED_RLE) {
      k = rle_chunk_len(v, i, &last);
      CL_CHECK(st, rle_chunk_bufs(v, i, k, vb, err));
      nvb = 2;
    } else if (bitpack) {
      last = rem <= fixed_k;
      k = last ? rem : fixed_k;
      vb[0].len = 0;
      CL_CHECK(st, cl_buf_reserve(&vb[0], CL_INLINE_BITPACK_MAX_BYTES(64), err));
      vb[0].len = cl_inline_bitpack_encode(v->bits, v->values + (size_t)i * (v->bits / 8), (size_t)k,
                                           vb[0].data);
      nvb = 1;
    } else {
      last = rem <= fixed_k;
      k = last ? rem : fixed_k;
      CL_CHECK(st, fixed_chunk_bufs(v, i, k, vb, &nvb, err));
    }
    CL_CHECK(st, put_chunk(&w, last, log2u((uint64_t)k), k, v, i, vb, nvb, err));
    i += k;
  }
  out->n_bufs = 2;

  enc_store s;
  memset(&s, 0, sizeof s);
  mb_layout mb = LANCE__ENCODINGS21__MINI_BLOCK_LAYOUT__INIT;
  Lance__Encodings21__RepDefLayer layers[CL_MAX_STRUCT_DEPTH + 1];
  size_t n_layers = page_layers(layers,
                                v->def_at[0] ? LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULLABLE_ITEM
                                             : LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_ALL_VALID_ITEM,
                                v->outer, v->def_at);
  Lance__Encodings21__OutOfLineBitpacking oob = LANCE__ENCODINGS21__OUT_OF_LINE_BITPACKING__INIT;
  pb21_enc def_enc = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__INIT;
  if (v->max_def) {
    oob.has_uncompressed_bits_per_value = 1;
    oob.uncompressed_bits_per_value = 16;
    oob.values = flat_enc(&s, def_bits(v));
    def_enc.compression_case = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING;
    def_enc.out_of_line_bitpacking = &oob;
    mb.def_compression = &def_enc;
  }
  mb.value_compression = fc == FIXED_RLE ? rle_enc(&s, v->bits)
                         : bitpack       ? inline_bitpack_enc(&s, v->bits)
                                         : value_enc(&s, v);
  if (use_fsst) {
    mb.value_compression = fsst_enc(&s, ftable, mb.value_compression);
  }
  if (dict) {
    cl_dict21_form form;
    unsigned pb;
    CL_CHECK(st, cl_dict21_block(dict, ver, &out->bufs[2], &form, &pb, err));
    out->n_bufs = 3;
    pb21_enc *de = dict->var ? var_enc(&s, dict->large ? 64 : 32) : flat_enc(&s, 8u * dict->width);
    switch (form) {
    case CL_DICT_PLAIN: break;
    case CL_DICT_LZ4:
      de = general_enc(&s, LANCE__ENCODINGS21__COMPRESSION_SCHEME__COMPRESSION_ALGORITHM_LZ4, 0, 0, de);
      break;
    case CL_DICT_INLINE_BITPACK: de = inline_bitpack_enc(&s, 64); break;
    case CL_DICT_OOL_BITPACK: de = ool_bitpack_enc(&s, 64, pb); break;
    }
    mb.dictionary = de;
    mb.has_num_dictionary_items = 1;
    mb.num_dictionary_items = dict->n_items;
  }
  mb.n_layers = n_layers;
  mb.layers = layers;
  mb.has_num_buffers = 1;
  mb.num_buffers = fc == FIXED_RLE ? 2 : (v->f->type == CL_TYPE_FIXED_SIZE_LIST && v->item_validity) ? 2 : 1;
  mb.has_num_items = 1;
  mb.num_items = (uint64_t)v->n;
  if (ver >= CL_FILE_V2_2) {
    mb.has_has_large_chunk = 1;
    mb.has_large_chunk = 1;
  }
  pb21_layout layout = LANCE__ENCODINGS21__PAGE_LAYOUT__INIT;
  layout.layout_case = LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT;
  layout.mini_block_layout = &mb;
  st = pack_layout(&layout, out, err);
fail:
  return st;
}

/* ---- full-zip ---- */

/* The full-zip layout of a page of `v`'s values (FSST-compressed when
 * ftable is not NULL, zstd per value when use_zstd). */
clance_status cl_encode21_fullzip_layout(const leaf_view *v, const cl_fz_shape *sh, size_t item_vbytes,
                                        const uint8_t *ftable, int use_zstd, cl_page_enc *out,
                                        clance_error *err) {
  enc_store s;
  memset(&s, 0, sizeof s);
  fz_layout fz = LANCE__ENCODINGS21__FULL_ZIP_LAYOUT__INIT;
  fz.has_bits_rep = sh->bits_rep > 0;
  fz.bits_rep = sh->bits_rep;
  fz.has_bits_def = sh->bits_def > 0;
  fz.bits_def = sh->bits_def;
  if (v->var) {
    fz.details_case = LANCE__ENCODINGS21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_OFFSET;
    fz.bits_per_offset = v->large ? 64 : 32;
  } else {
    fz.details_case = LANCE__ENCODINGS21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_VALUE;
    fz.bits_per_value = (uint32_t)(v->bits + item_vbytes * 8);
  }
  fz.has_num_items = 1;
  fz.num_items = (uint32_t)sh->entries;
  fz.has_num_visible_items = 1;
  fz.num_visible_items = (uint32_t)sh->visible;
  fz.value_compression = value_enc(&s, v);
  if (ftable)
    fz.value_compression = fsst_enc(&s, ftable, fz.value_compression);
  if (use_zstd) /* Lance writes the level (0: zstd's default) */
    fz.value_compression = general_enc(&s, LANCE__ENCODINGS21__COMPRESSION_SCHEME__COMPRESSION_ALGORITHM_ZSTD,
                                       1, 0, fz.value_compression);
  fz.n_layers = sh->n_layers;
  fz.layers = (Lance__Encodings21__RepDefLayer *)sh->layers; /* (only read when packed) */
  pb21_layout layout = LANCE__ENCODINGS21__PAGE_LAYOUT__INIT;
  layout.layout_case = LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_FULL_ZIP_LAYOUT;
  layout.full_zip_layout = &fz;
  return pack_layout(&layout, out, err);
}

/* The full-zip layout of a page of a leaf outside any list: one entry per
 * row, levels only for its nulls. */
static clance_status fullzip_pack(const leaf_view *v, int has_def, size_t item_vbytes,
                                  const uint8_t *ftable, int use_zstd, cl_page_enc *out,
                                  clance_error *err) {
  Lance__Encodings21__RepDefLayer layers[CL_MAX_STRUCT_DEPTH + 1];
  cl_fz_shape sh = {0, has_def ? def_bits(v) : 0, (uint64_t)v->n, (uint64_t)v->n, layers, 0};
  sh.n_layers = page_layers(layers,
                            v->def_at[0] ? LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULLABLE_ITEM
                                         : LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_ALL_VALID_ITEM,
                            v->outer, v->def_at);
  return cl_encode21_fullzip_layout(v, &sh, item_vbytes, ftable, use_zstd, out, err);
}

/* A u32 or u64 length, then the bytes: a full-zip variable-width value. */
static clance_status put_prefixed(cl_buf *z, int large, const uint8_t *p, uint64_t len,
                                  clance_error *err) {
  if (large)
    CL_TRY(cl_buf_append_u64(z, len, err));
  else if (len > UINT32_MAX)
    return cl_err(err, CLANCE_EINTERNAL, "full-zip value of %llu bytes", (unsigned long long)len);
  else
    CL_TRY(cl_buf_append_u32(z, (uint32_t)len, err));
  return cl_buf_append(z, p, (size_t)len, err);
}

clance_status cl_fullzip_put_value(cl_buf *z, const leaf_view *v, int64_t i, cl_buf *tmp,
                                   clance_error *err) {
  if (v->var) {
    uint64_t b0 = var_off(v, i);
    return put_prefixed(z, v->large, v->data + b0, var_off(v, i + 1) - b0, err);
  }
  if (v->item_validity) { /* a vector's item validity comes first */
    CL_TRY(bits_slice(tmp, v->item_validity, i * v->dim, v->dim, err));
    CL_TRY(cl_buf_append(z, tmp->data, (v->dim + 7) / 8, err));
  }
  size_t w = v->bits / 8;
  return cl_buf_append(z, v->values + (size_t)i * w, w, err);
}

clance_status cl_fullzip_rep_index(const uint64_t *starts, size_t n, cl_buf *ri, clance_error *err) {
  uint64_t total = starts[n - 1];
  unsigned width = total < 0x100 ? 1 : total < 0x10000 ? 2 : total < 0x100000000ull ? 4 : 8;
  CL_TRY(cl_buf_reserve(ri, n * width, err));
  for (size_t i = 0; i < n; i++)
    for (unsigned b = 0; b < width; b++)
      ri->data[ri->len++] = (uint8_t)(starts[i] >> (8 * b));
  return CLANCE_OK;
}

static clance_status encode_fullzip(const leaf_view *pv, uint64_t max_len, cl_page_enc *out,
                                    cl_enc21_scratch *sc, clance_error *err) {
  cl_buf *z = &out->bufs[0];
  int has_def = pv->max_def > 0;
  clance_status st = CLANCE_OK;
  uint64_t *starts = NULL;
  cl_buf *tmp = &sc->vb[0];
  /* Lance 12 (try_variable_width_per_value): pages holding a value over
   * 32 KiB compress every value on its own with zstd (its default level);
   * otherwise strings are FSST-compressed per value under fsst_wanted. */
  int use_zstd = pv->var && max_len > ZSTD_PER_VALUE_MIN;
  cl_buf *zv = &sc->levels;
  uint8_t *ftable = sc->ftable;
  int use_fsst = 0;
  leaf_view fview;
  memset(&fview, 0, sizeof fview);
  const leaf_view *v = pv;
  if (pv->var && !use_zstd && fsst_wanted(pv, max_len)) {
    CL_CHECK(st, fsst_compress(pv, &fview, &sc->fdata, &sc->foffs, ftable, &use_fsst, err));
    if (use_fsst)
      v = &fview;
  }
  if (v->var) {
    sc->vb[1].len = 0;
    CL_CHECK(st, cl_buf_reserve(&sc->vb[1], ((size_t)v->n + 1) * sizeof *starts, err));
    starts = (uint64_t *)(void *)sc->vb[1].data;
  }
  size_t item_vbytes = v->item_validity ? (v->dim + 7) / 8 : 0;
  /* Fixed width without nulls: the values as they are, in one copy. */
  int64_t i0 = !v->var && !has_def && !item_vbytes ? v->n : 0;
  if (i0)
    CL_CHECK(st, cl_buf_append(z, v->values, (size_t)v->n * (v->bits / 8), err));
  for (int64_t i = i0; i < v->n; i++) {
    int null = is_null(v, i);
    if (starts)
      starts[i] = z->len;
    if (has_def) { /* the control word: the level (no repetition, at most 6 bits) */
      uint8_t cw = (uint8_t)row_def(v, i);
      CL_CHECK(st, cl_buf_append(z, &cw, 1, err));
    }
    if (v->var && null)
      continue; /* a null variable-width value is only its control word */
    if (use_zstd) {
      /* u64 uncompressed length + one zstd frame, Lance's framing */
      uint64_t b0 = var_off(v, i);
      zv->len = 0;
      CL_CHECK(st, cl_zstd_compress(v->data + b0, (size_t)(var_off(v, i + 1) - b0), 0, zv, err));
      CL_CHECK(st, put_prefixed(z, v->large, zv->data, zv->len, err));
    } else { /* (fixed width: null rows still carry a full, zeroed value) */
      CL_CHECK(st, cl_fullzip_put_value(z, v, i, tmp, err));
    }
  }
  out->n_bufs = 1;
  if (starts) {
    /* Repetition index: byte offset of each row's entry plus the total. */
    starts[v->n] = z->len;
    CL_CHECK(st, cl_fullzip_rep_index(starts, (size_t)v->n + 1, &out->bufs[1], err));
    out->n_bufs = 2;
  }
  st = fullzip_pack(v, has_def, item_vbytes, use_fsst ? ftable : NULL, use_zstd, out, err);
fail:
  return st;
}

/* A page of vectors at least MINIBLOCK_MAX_VALUE bytes wide with no null
 * row or item is, in full-zip, nothing but the values one after another:
 * no control word, no compression (Lance compresses only variable-width
 * values). Its buffer can then be the input rows themselves. */
clance_status cl_encode21_fullzip_in_place(const cl_field *f, uint32_t outer, const cl_page_src *src,
                                           uint64_t first_row, cl_page_enc *out, int *done,
                                           clance_error *err) {
  *done = 0;
  if (f->type != CL_TYPE_FIXED_SIZE_LIST || src->arr || src->length <= 0 ||
      src->length > UINT32_MAX || src->totals.nulls || src->totals.item_nulls)
    return CLANCE_OK;
  leaf_view v;
  memset(&v, 0, sizeof v);
  v.f = f;
  v.n = src->length;
  v.dim = (uint32_t)f->size;
  v.item_bits = cl_type_bits(&f->children[0]);
  v.bits = v.dim * v.item_bits;
  v.outer = outer;
  if (v.bits / 8 < MINIBLOCK_MAX_VALUE)
    return CLANCE_OK;
  size_t w = v.item_bits / 8;
  cl_page_enc_reset(out);
  out->length = (uint64_t)src->length;
  out->priority = first_row;
  cl_page_enc_begin_slices(out, 0);
  for (size_t k = 0; k < src->n_segs; k++) {
    const cl_seg *g = &src->segs[k];
    const struct ArrowArray *c = g->a->children[0];
    int64_t item0 = c->offset + (g->a->offset + g->start) * (int64_t)v.dim;
    CL_TRY(cl_page_enc_add_slice(out, 0, (const uint8_t *)c->buffers[1] + (size_t)item0 * w,
                                 (size_t)g->n * v.dim * w, err));
  }
  out->n_bufs = 1;
  CL_TRY(fullzip_pack(&v, 0, 0, NULL, 0, out, err));
  *done = 1;
  return CLANCE_OK;
}

void cl_enc21_scratch_free(cl_enc21_scratch *sc) {
  cl_buf_free(&sc->levels);
  cl_buf_free(&sc->vb[0]);
  cl_buf_free(&sc->vb[1]);
  cl_buf_free(&sc->fdata);
  cl_buf_free(&sc->foffs);
}

clance_status cl_encode21_page(const cl_field *f, const cl_arr *page, uint64_t first_row,
                               cl_file_version ver, cl_page_enc *out, clance_error *err) {
  cl_enc21_scratch sc;
  memset(&sc, 0, sizeof sc);
  clance_status st = cl_encode21_page_scratch(f, 0, NULL, page, first_row, ver, out, &sc, err);
  cl_enc21_scratch_free(&sc);
  return st;
}

clance_status cl_encode21_page_scratch(const cl_field *f, uint32_t outer, const uint8_t *sdef,
                                       const cl_arr *page, uint64_t first_row, cl_file_version ver,
                                       cl_page_enc *out, cl_enc21_scratch *sc, clance_error *err) {
  cl_page_enc_reset(out);
  out->length = (uint64_t)page->length;
  out->priority = first_row;
  if (page->length > UINT32_MAX)
    return cl_err(err, CLANCE_EINTERNAL, "page of %lld rows is too long", (long long)page->length);
  if (f->type == CL_TYPE_NULL || (page->null_count == page->length && !sdef))
    return encode_all_null(outer, out, err);
  leaf_view v;
  cl_leaf_view_of(f, page, &v);
  v.outer = outer;
  v.sdef = sdef;
  view_defs(&v);
  uint64_t max_value;
  if (v.var) {
    max_value = 0;
    if (v.large) {
      const uint64_t *o = (const uint64_t *)(const void *)v.offsets;
      for (int64_t i = 0; i < v.n; i++)
        max_value = o[i + 1] - o[i] > max_value ? o[i + 1] - o[i] : max_value;
    } else {
      const uint32_t *o = (const uint32_t *)(const void *)v.offsets;
      uint32_t m = 0;
      for (int64_t i = 0; i < v.n; i++)
        m = o[i + 1] - o[i] > m ? o[i + 1] - o[i] : m;
      max_value = m;
    }
  } else {
    max_value = v.bits / 8 + (v.item_validity ? (v.dim + 7) / 8 : 0);
  }
  if (ver >= CL_FILE_V2_2 && page_is_constant(&v))
    return encode_constant(&v, out, err);
  /* Lance tries a dictionary before choosing between mini-block and
   * full-zip, so long repeated values get one too. */
  cl_dict21 dict;
  int use_dict;
  CL_TRY(cl_dict21_build(&v, ver, &dict, &use_dict, err));
  if (use_dict) {
    static const cl_field index_field = {.name = (char *)"indices", .type = CL_TYPE_UINT32};
    leaf_view iv;
    memset(&iv, 0, sizeof iv);
    iv.f = &index_field;
    iv.n = v.n;
    iv.validity = v.validity;
    iv.bits = 32;
    iv.values = (const uint8_t *)dict.idx;
    iv.outer = outer;
    iv.sdef = v.sdef;
    memcpy(iv.def_at, v.def_at, sizeof iv.def_at);
    iv.max_def = v.max_def;
    clance_status st = encode_miniblock(&iv, 4, ver, &dict, out, sc, err);
    cl_dict21_free(&dict);
    return st;
  }
  if (max_value < MINIBLOCK_MAX_VALUE)
    return encode_miniblock(&v, max_value, ver, NULL, out, sc, err);
  return encode_fullzip(&v, max_value, out, sc, err);
}
