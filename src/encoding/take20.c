/* Random access to rows of a file format 2.0 page of a flat column.
 *
 * The common 2.0 encoding trees are read row by row without decoding the
 * page: Nullable (no nulls, a validity bitmap, or all nulls) around Flat
 * values, FixedSizeList of Flat items, Binary (end offsets, Flat or
 * bit-packed, then the bytes; null_adjustment marks nulls), Fsst over
 * Binary, and FixedSizeBinary. For a requested row only the bytes that hold
 * it are read (its value, its validity bit, its two offsets and its string
 * bytes). Any other tree (Dictionary, compressed buffers, packed structs,
 * nested nullability) is left to the whole-page decoder, which also gives
 * the precise error for malformed trees. */
#include <stdlib.h>
#include <string.h>

#include "encoding/decode.h"
#include "encoding/fastlanes.h"
#include "encoding/fsst.h"

#define MAX_DEPTH 16

typedef enum { K_FIXED = 1, K_FSL, K_BINARY, K_FSB, K_ALL_NULL } kind20;

/* An unsigned integer sequence (Binary end offsets). */
typedef enum { U_FLAT = 1, U_BITPACKED, U_FASTLANES } ukind;
typedef struct useq {
  ukind kind;
  unsigned bits;  /* stored width */
  unsigned T;     /* FastLanes word width */
  int sign;       /* legacy Bitpacked: sign-extend */
  cl_bufrd rd;
} useq;

typedef struct t20_rows {
  cl_page_rows base;
  const cl_field *f;
  char *what;
  pb20_enc *enc; /* owns the tree */
  kind20 kind;
  uint64_t rows;
  int has_valid;    /* an outer Nullable with a validity bitmap */
  cl_bufrd valid;
  cl_bufrd vals;    /* Flat values, FixedSizeList items, Binary / FixedSizeBinary bytes */
  unsigned width;   /* bytes per value (K_FIXED, K_FSB); bits == 1: 0 */
  uint64_t dim;     /* K_FSL items per row */
  unsigned item_w;  /* K_FSL bytes per item */
  int item_has_valid;
  cl_bufrd item_valid;
  useq idx;         /* K_BINARY end offsets */
  uint64_t adj;     /* K_BINARY null_adjustment */
  cl_fsst_table *fsst;
} t20_rows;

static void t20_free(cl_page_rows *base) {
  t20_rows *p = (t20_rows *)base;
  cl_bufrd_free(&p->valid);
  cl_bufrd_free(&p->vals);
  cl_bufrd_free(&p->item_valid);
  cl_bufrd_free(&p->idx.rd);
  if (p->fsst)
    cl_fsst_table_free(p->fsst);
  if (p->enc)
    protobuf_c_message_free_unpacked(&p->enc->base, NULL);
  free(p->what);
  free(p);
}

static uint64_t le_n(const uint8_t *b, unsigned bytes) {
  uint64_t v = 0;
  for (unsigned i = bytes; i-- > 0;)
    v = (v << 8) | b[i];
  return v;
}

/* ---- recognising the tree ---- */

static const pb20_enc *strip_no_nulls(const pb20_enc *e) {
  for (int k = 0; e && k < MAX_DEPTH &&
                  e->array_encoding_case == LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE &&
                  e->nullable->nullability_case == LANCE__ENCODINGS__NULLABLE__NULLABILITY_NO_NULLS;
       k++)
    e = e->nullable->no_nulls->values;
  return e;
}

/* A Flat node whose buffer is a plain (uncompressed) page buffer; its
 * width in bits, or 0. */
static uint64_t plain_flat(const pb20_enc *e, const cl_page_ctx *ctx, size_t *buf) {
  if (!e || e->array_encoding_case != LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FLAT)
    return 0;
  const Lance__Encodings__Flat *fl = e->flat;
  const char *scheme = fl->compression ? cl_pb_str(fl->compression->scheme) : "";
  if ((*scheme && strcmp(scheme, "none")) || !fl->buffer ||
      fl->buffer->buffer_type != LANCE__ENCODINGS__BUFFER__BUFFER_TYPE__page ||
      fl->buffer->buffer_index >= ctx->page->n_bufs)
    return 0;
  *buf = fl->buffer->buffer_index;
  return fl->bits_per_value;
}

/* Page buffer of a bit-packing node, or -1. */
static long packed_buffer(const Lance__Encodings__Buffer *b, const cl_page_ctx *ctx) {
  if (!b || b->buffer_type != LANCE__ENCODINGS__BUFFER__BUFFER_TYPE__page ||
      b->buffer_index >= ctx->page->n_bufs)
    return -1;
  return (long)b->buffer_index;
}

/* Binary offsets: Flat 8-64 bits, legacy Bitpacked, FastLanes. 1 when
 * recognised (u->rd initialised), 0 when not, -1 on error. */
static int open_useq(t20_rows *p, const cl_page_ctx *ctx, const pb20_enc *e, useq *u,
                     clance_error *err) {
  e = strip_no_nulls(e);
  if (!e)
    return 0;
  size_t buf = 0;
  long pb;
  switch (e->array_encoding_case) {
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FLAT: {
    uint64_t bits = plain_flat(e, ctx, &buf);
    if (bits != 8 && bits != 16 && bits != 32 && bits != 64)
      return 0;
    u->kind = U_FLAT;
    u->bits = (unsigned)bits;
    break;
  }
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_BITPACKED: {
    const Lance__Encodings__Bitpacked *bp = e->bitpacked;
    if (bp->compressed_bits_per_value > 64 || (pb = packed_buffer(bp->buffer, ctx)) < 0)
      return 0;
    u->kind = U_BITPACKED;
    u->bits = (unsigned)bp->compressed_bits_per_value;
    u->sign = bp->signed_;
    buf = (size_t)pb;
    break;
  }
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_BITPACKED_FOR_NON_NEG: {
    const Lance__Encodings__BitpackedForNonNeg *bp = e->bitpacked_for_non_neg;
    uint64_t w = bp->compressed_bits_per_value, T = bp->uncompressed_bits_per_value;
    if ((T != 8 && T != 16 && T != 32 && T != 64) || w > T || (pb = packed_buffer(bp->buffer, ctx)) < 0)
      return 0;
    u->kind = U_FASTLANES;
    u->bits = (unsigned)w;
    u->T = (unsigned)T;
    buf = (size_t)pb;
    break;
  }
  default: return 0;
  }
  return cl_bufrd_init(&u->rd, ctx, buf, p->what, err) ? -1 : 1;
}

/* Does the sequence's buffer hold n values? (Then no offset computed for a
 * value below n overflows.) */
static int useq_fits(const useq *u, uint64_t n) {
  uint64_t size = u->rd.size;
  switch (u->kind) {
  case U_FLAT: return n <= size / (u->bits / 8);
  case U_BITPACKED: return u->bits == 0 || n <= (size / u->bits) * 8;
  case U_FASTLANES: return u->bits == 0 || (n + 1023) / 1024 <= size / (128 * (uint64_t)u->bits);
  }
  return 0;
}

static clance_status useq_get(t20_rows *p, useq *u, uint64_t i, uint64_t *out, clance_error *err) {
  const uint8_t *b;
  switch (u->kind) {
  case U_FLAT: {
    unsigned w = u->bits / 8;
    CL_TRY(cl_bufrd_get(&u->rd, i * w, w, &b, err));
    *out = le_n(b, w);
    return CLANCE_OK;
  }
  case U_BITPACKED: {
    uint64_t w = u->bits, bit = i * w, first = bit / 8, last = (bit + w + 7) / 8;
    if (w == 0) {
      *out = 0;
      return CLANCE_OK;
    }
    CL_TRY(cl_bufrd_get(&u->rd, first, last - first, &b, err));
    uint64_t v = 0, at = bit - first * 8;
    for (uint64_t k = 0; k < w; k++, at++)
      v |= (uint64_t)((b[at >> 3] >> (at & 7)) & 1) << k;
    if (u->sign && w < 64) {
      uint64_t m = 1ull << (w - 1);
      v = (v ^ m) - m;
    }
    *out = v;
    return CLANCE_OK;
  }
  case U_FASTLANES: {
    uint64_t gbytes = 128 * (uint64_t)u->bits; /* 1024 values of w bits */
    CL_TRY(cl_bufrd_get(&u->rd, (i / 1024) * gbytes, gbytes, &b, err));
    *out = cl_fl_get(u->T, b, u->bits, (unsigned)(i % 1024));
    return CLANCE_OK;
  }
  }
  return cl_err(err, CLANCE_EINTERNAL, "%s: unknown offsets kind", p->what);
}

/* Recognise the values under the outer Nullable. 1 / 0 / -1 as open_useq. */
static int open_values(t20_rows *p, const cl_page_ctx *ctx, const pb20_enc *e, clance_error *err) {
  const cl_field *f = p->f;
  size_t buf = 0;
  if (!e)
    return 0;
  switch (e->array_encoding_case) {
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FLAT: {
    uint64_t bits = plain_flat(e, ctx, &buf);
    if (f->type == CL_TYPE_FIXED_SIZE_LIST || cl_type_is_binary_like(f->type) || bits == 0 ||
        bits != cl_type_bits(f) || (bits != 1 && bits % 8))
      return 0;
    p->kind = K_FIXED;
    p->width = (unsigned)(bits / 8);
    break;
  }
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FIXED_SIZE_LIST: {
    const Lance__Encodings__FixedSizeList *fl = e->fixed_size_list;
    if (f->type != CL_TYPE_FIXED_SIZE_LIST || f->n_children != 1 || f->size <= 0 ||
        fl->dimension != (uint32_t)f->size)
      return 0;
    const pb20_enc *it = strip_no_nulls(fl->items);
    if (it && it->array_encoding_case == LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE &&
        it->nullable->nullability_case == LANCE__ENCODINGS__NULLABLE__NULLABILITY_SOME_NULLS) {
      size_t vb = 0;
      if (plain_flat(it->nullable->some_nulls->validity, ctx, &vb) != 1)
        return 0;
      if (cl_bufrd_init(&p->item_valid, ctx, vb, p->what, err))
        return -1;
      p->item_has_valid = 1;
      it = strip_no_nulls(it->nullable->some_nulls->values);
    }
    uint64_t bits = plain_flat(it, ctx, &buf);
    uint32_t want = cl_type_bits(&f->children[0]);
    if (bits == 0 || bits % 8 || bits != want)
      return 0;
    p->kind = K_FSL;
    p->dim = fl->dimension;
    p->item_w = (unsigned)(bits / 8);
    break;
  }
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FSST:
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_BINARY: {
    const Lance__Encodings__Binary *bn;
    if (e->array_encoding_case == LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FSST) {
      const Lance__Encodings__Fsst *fs = e->fsst;
      if (!fs->binary || fs->binary->array_encoding_case != LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_BINARY)
        return 0;
      bn = fs->binary->binary;
      if (cl_fsst_table_parse(fs->symbol_table.data, fs->symbol_table.len, &p->fsst, err)) {
        cl_err_ctx(err, "%s: ", p->what);
        return -1;
      }
    } else {
      bn = e->binary;
    }
    if (!cl_type_is_binary_like(f->type) || plain_flat(strip_no_nulls(bn->bytes), ctx, &buf) != 8)
      return 0;
    int r = open_useq(p, ctx, bn->indices, &p->idx, err);
    if (r <= 0)
      return r;
    p->kind = K_BINARY;
    p->adj = bn->null_adjustment;
    break;
  }
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FIXED_SIZE_BINARY: {
    const Lance__Encodings__FixedSizeBinary *fb = e->fixed_size_binary;
    if (!cl_type_is_binary_like(f->type) || fb->byte_width == 0 ||
        plain_flat(strip_no_nulls(fb->bytes), ctx, &buf) == 0)
      return 0;
    p->kind = K_FSB;
    p->width = fb->byte_width;
    break;
  }
  default: return 0;
  }
  return cl_bufrd_init(&p->vals, ctx, buf, p->what, err) ? -1 : 1;
}

/* ---- reading a row ---- */

static clance_status bit_at(cl_bufrd *rd, uint64_t i, int *bit, clance_error *err) {
  const uint8_t *b;
  CL_TRY(cl_bufrd_get(rd, i / 8, 1, &b, err));
  *bit = (b[0] >> (i & 7)) & 1;
  return CLANCE_OK;
}

/* End of Binary value i with the null adjustment removed; *null when the
 * adjustment marks it. */
static clance_status binary_end(t20_rows *p, uint64_t i, uint64_t *end, int *null,
                                clance_error *err) {
  uint64_t v;
  CL_TRY(useq_get(p, &p->idx, i, &v, err));
  *null = p->adj && v >= p->adj;
  *end = *null ? v - p->adj : v;
  return CLANCE_OK;
}

static clance_status take_row(t20_rows *p, uint64_t r, cl_arr *dst, clance_error *err) {
  int valid = 1;
  if (p->has_valid)
    CL_TRY(bit_at(&p->valid, r, &valid, err));
  const uint8_t *b;
  switch (p->kind) {
  case K_ALL_NULL:
    return cl_arr_append_nulls(dst, 1, err);
  case K_FIXED:
    if (p->width == 0) { /* booleans: bit r, stored at the builder's position */
      int bit;
      CL_TRY(bit_at(&p->vals, r, &bit, err));
      size_t need = (size_t)((dst->length + 8) >> 3);
      if (need > dst->values.len)
        CL_TRY(cl_buf_fill(&dst->values, 0, need - dst->values.len, err));
      if (bit)
        cl_bit_set(dst->values.data, dst->length);
      else
        cl_bit_clear(dst->values.data, dst->length);
    } else {
      CL_TRY(cl_bufrd_get(&p->vals, r * p->width, p->width, &b, err));
      CL_TRY(cl_buf_append(&dst->values, b, p->width, err));
    }
    break;
  case K_FSB:
    CL_TRY(cl_bufrd_get(&p->vals, r * p->width, p->width, &b, err));
    CL_TRY(cl_buf_append(&dst->values, b, p->width, err));
    CL_TRY(cl_arr_push_offset(dst, dst->values.len, err));
    break;
  case K_FSL: {
    cl_arr *item = &dst->children[0];
    uint64_t first = r * p->dim, bytes = p->dim * p->item_w;
    CL_TRY(cl_bufrd_get(&p->vals, first * p->item_w, bytes, &b, err));
    CL_TRY(cl_buf_append(&item->values, b, (size_t)bytes, err));
    if (p->item_has_valid) {
      uint64_t lo = first / 8, hi = (first + p->dim + 7) / 8;
      CL_TRY(cl_bufrd_get(&p->item_valid, lo, hi - lo, &b, err));
      CL_TRY(cl_arr_append_validity(item, b, (int64_t)(first - lo * 8), (int64_t)p->dim, err));
    } else {
      CL_TRY(cl_arr_append_valid(item, (int64_t)p->dim, err));
    }
    break;
  }
  case K_BINARY: {
    uint64_t start = 0, end;
    int null, prev_null;
    if (r > 0)
      CL_TRY(binary_end(p, r - 1, &start, &prev_null, err));
    CL_TRY(binary_end(p, r, &end, &null, err));
    if (end < start || end > p->vals.size)
      return cl_err(err, CLANCE_ECORRUPT, "%s: Binary offsets out of order or past the bytes",
                    p->what);
    if (null) {
      valid = 0;
    } else if (end > start) {
      CL_TRY(cl_bufrd_get(&p->vals, start, end - start, &b, err));
      if (p->fsst) {
        if (cl_fsst_decode(p->fsst, b, (size_t)(end - start), &dst->values, err))
          return cl_err_ctx(err, "%s: ", p->what);
      } else {
        CL_TRY(cl_buf_append(&dst->values, b, (size_t)(end - start), err));
      }
    }
    CL_TRY(cl_arr_push_offset(dst, dst->values.len, err));
    break;
  }
  }
  return valid ? cl_arr_append_valid(dst, 1, err) : cl_arr_append_null(dst, 1, err);
}

static clance_status t20_take(cl_page_rows *base, const uint64_t *rows, size_t n, cl_arr *dst,
                              clance_error *err) {
  t20_rows *p = (t20_rows *)base;
  for (size_t i = 0; i < n; i++) {
    if (rows[i] >= p->rows)
      return cl_err(err, CLANCE_EINTERNAL, "%s: row %llu past the page", p->what,
                    (unsigned long long)rows[i]);
    CL_TRY(take_row(p, rows[i], dst, err));
  }
  return CLANCE_OK;
}

/* Do the buffers hold the page's rows? */
static int fits(const t20_rows *p) {
  uint64_t n = p->rows;
  if (p->has_valid && (n + 7) / 8 > p->valid.size)
    return 0;
  switch (p->kind) {
  case K_ALL_NULL: return 1;
  case K_FIXED: return p->width ? n <= p->vals.size / p->width : (n + 7) / 8 <= p->vals.size;
  case K_FSB: return n <= p->vals.size / p->width;
  case K_FSL:
    if (p->dim > UINT64_MAX / p->item_w || n > p->vals.size / (p->dim * p->item_w))
      return 0;
    return !p->item_has_valid || (n * p->dim + 7) / 8 <= p->item_valid.size;
  case K_BINARY: return useq_fits(&p->idx, n);
  }
  return 0;
}

clance_status cl_page_rows_open20(const cl_page_ctx *ctx, const cl_field *f, cl_page_rows **out,
                                  int *supported, clance_error *err) {
  *out = NULL;
  *supported = 0;
  if (ctx->dict_keys || f->type == CL_TYPE_STRUCT || f->type == CL_TYPE_DICTIONARY)
    return CLANCE_OK;
  pb20_enc *e;
  clance_status st;
  CL_TRY(cl_decode20_encoding(ctx, &e, err));
  t20_rows *p = cl_calloc(1, sizeof *p, err);
  if (!p) {
    protobuf_c_message_free_unpacked(&e->base, NULL);
    return err->code;
  }
  p->base.take = t20_take;
  p->base.free = t20_free;
  p->f = f;
  p->enc = e;
  p->rows = ctx->page->length;
  if (!(p->what = cl_strdup(ctx->what, err))) {
    st = err->code;
    goto fail;
  }
  /* One outer Nullable: no nulls, a validity bitmap, or all null. */
  const pb20_enc *v = strip_no_nulls(e);
  int ok = 0;
  if (v && v->array_encoding_case == LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE) {
    const Lance__Encodings__Nullable *nl = v->nullable;
    if (nl->nullability_case == LANCE__ENCODINGS__NULLABLE__NULLABILITY_ALL_NULLS) {
      p->kind = K_ALL_NULL;
      ok = 1;
    } else if (nl->nullability_case == LANCE__ENCODINGS__NULLABLE__NULLABILITY_SOME_NULLS) {
      size_t vb = 0;
      if (plain_flat(nl->some_nulls->validity, ctx, &vb) == 1) {
        CL_CHECK(st, cl_bufrd_init(&p->valid, ctx, vb, p->what, err));
        p->has_valid = 1;
        v = strip_no_nulls(nl->some_nulls->values);
        /* Nullability nested once more is left to the decoder. */
        if (v && v->array_encoding_case != LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE)
          ok = 2;
      }
    }
  } else {
    ok = 2;
  }
  if (ok == 2) {
    int r = open_values(p, ctx, v, err);
    if (r < 0) {
      st = err->code;
      goto fail;
    }
    ok = r;
  }
  /* Buffers too short for the page's rows are left to the decoder, which
   * names the problem; past this check no offset computation overflows. */
  if (ok && !fits(p))
    ok = 0;
  if (!ok) {
    t20_free(&p->base);
    return CLANCE_OK;
  }
  *out = &p->base;
  *supported = 1;
  return CLANCE_OK;
fail:
  t20_free(&p->base);
  return st;
}
