/* File format 2.0 page encoder for leaf columns: the encoding tree Lance
 * writes by default (Nullable(Flat), Binary, Nullable(FixedSizeList(...))).
 * Buffers are numbered in the order the tree is visited: validity before
 * values, indices before bytes. */
#include <stdlib.h>
#include <string.h>

#include "encoding/encode.h"

typedef struct tree20 {
  pb20_enc nodes[8];
  Lance__Encodings__Nullable nullable[3];
  Lance__Encodings__Nullable__NoNull nonull[3];
  Lance__Encodings__Nullable__SomeNull somenull[3];
  Lance__Encodings__Nullable__AllNull allnull;
  Lance__Encodings__Flat flat[4];
  Lance__Encodings__Buffer buffer[4];
  Lance__Encodings__FixedSizeList fsl;
  Lance__Encodings__Binary binary;
  int n_nodes, n_nullable, n_flat;
  uint32_t next_buffer;
} tree20;

static pb20_enc *node(tree20 *t) {
  pb20_enc *e = &t->nodes[t->n_nodes++];
  lance__encodings__array_encoding__init(e);
  return e;
}

/* Flat{bits} over the next page buffer. */
static pb20_enc *flat(tree20 *t, uint64_t bits) {
  int i = t->n_flat++;
  lance__encodings__flat__init(&t->flat[i]);
  lance__encodings__buffer__init(&t->buffer[i]);
  t->buffer[i].has_buffer_index = t->next_buffer != 0;
  t->buffer[i].buffer_index = t->next_buffer++;
  t->flat[i].has_bits_per_value = 1;
  t->flat[i].bits_per_value = bits;
  /* Lance panics when the buffer sub-message is missing, even for index 0. */
  t->flat[i].buffer = &t->buffer[i];
  pb20_enc *e = node(t);
  e->array_encoding_case = LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FLAT;
  e->flat = &t->flat[i];
  return e;
}

static pb20_enc *nullable_node(tree20 *t, Lance__Encodings__Nullable **out) {
  int i = t->n_nullable++;
  lance__encodings__nullable__init(&t->nullable[i]);
  pb20_enc *e = node(t);
  e->array_encoding_case = LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE;
  e->nullable = &t->nullable[i];
  *out = &t->nullable[i];
  return e;
}

/* no_nulls(inner) */
static pb20_enc *no_nulls(tree20 *t, pb20_enc *inner) {
  Lance__Encodings__Nullable *n;
  pb20_enc *e = nullable_node(t, &n);
  int i = t->n_nullable - 1;
  lance__encodings__nullable__no_null__init(&t->nonull[i]);
  t->nonull[i].values = inner;
  n->nullability_case = LANCE__ENCODINGS__NULLABLE__NULLABILITY_NO_NULLS;
  n->no_nulls = &t->nonull[i];
  return e;
}

/* some_nulls(validity, inner): the validity buffer must be numbered first,
 * so callers create it before building `inner`. */
static pb20_enc *some_nulls(tree20 *t, pb20_enc *validity, pb20_enc *inner) {
  Lance__Encodings__Nullable *n;
  pb20_enc *e = nullable_node(t, &n);
  int i = t->n_nullable - 1;
  lance__encodings__nullable__some_null__init(&t->somenull[i]);
  t->somenull[i].validity = validity;
  t->somenull[i].values = inner;
  n->nullability_case = LANCE__ENCODINGS__NULLABLE__NULLABILITY_SOME_NULLS;
  n->some_nulls = &t->somenull[i];
  return e;
}

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "clance assumes a little-endian host");

/* One run of a page's rows as Arrow lays them out: the page's own builder
 * (one piece), or one input slice per piece. Row r of the piece is
 * physical index r0 + r of its buffers. */
typedef struct piece {
  int64_t n, r0;
  const uint8_t *validity;      /* NULL: every row valid */
  const uint8_t *values;        /* fixed width values or bool bits; var width: the bytes */
  const uint8_t *offsets;       /* var width */
  const uint8_t *item_validity; /* fixed_size_list: NULL when every item is valid */
  const uint8_t *items;         /* fixed_size_list item values */
  int64_t item0;                /* physical index of the first item */
} piece;

static void piece_of_arr(const cl_arr *a, piece *p) {
  memset(p, 0, sizeof *p);
  p->n = a->length;
  p->validity = a->null_count > 0 ? a->validity.data : NULL;
  p->values = a->values.data;
  p->offsets = a->offsets.data;
  if (a->n_children) {
    const cl_arr *item = &a->children[0];
    p->item_validity = item->null_count > 0 ? item->validity.data : NULL;
    p->items = item->values.data;
  }
}

static void piece_of_seg(const cl_field *f, const cl_seg *s, piece *p) {
  const struct ArrowArray *a = s->a;
  memset(p, 0, sizeof *p);
  p->n = s->n;
  p->r0 = a->offset + s->start;
  if (f->type == CL_TYPE_NULL)
    return;
  p->validity = cl_array_validity(a);
  if (cl_type_is_binary_like(f->type)) {
    p->offsets = a->buffers[1];
    p->values = a->buffers[2];
  } else if (f->type == CL_TYPE_FIXED_SIZE_LIST) {
    const struct ArrowArray *c = a->children[0];
    p->item_validity = cl_array_validity(c);
    p->items = c->buffers[1];
    p->item0 = c->offset + p->r0 * f->size;
  } else {
    p->values = a->buffers[1];
  }
}

static void bits_set_ones(uint8_t *dst, int64_t pos, int64_t n) {
  while (n > 0 && (pos & 7)) {
    cl_bit_set(dst, pos++);
    n--;
  }
  memset(dst + (pos >> 3), 0xFF, (size_t)(n >> 3));
  pos += n & ~(int64_t)7;
  for (int64_t i = 0; i < (n & 7); i++)
    cl_bit_set(dst, pos + i);
}

enum bits_of { BITS_VALIDITY, BITS_VALUES, BITS_ITEM_VALIDITY };

/* A bitmap of n bits (the rest of the last byte zero) gathered from the
 * pieces: their validity, bool values or item validity (per item:
 * `per_row` bits a row); a piece without a bitmap gives ones. */
static clance_status bits_buf(cl_buf *dst, const piece *ps, size_t np, enum bits_of which,
                              int64_t per_row, int64_t n, clance_error *err) {
  dst->len = 0;
  CL_TRY(cl_buf_fill(dst, 0, (size_t)((n + 7) / 8), err));
  int64_t pos = 0;
  for (size_t k = 0; k < np; k++) {
    const piece *p = &ps[k];
    int64_t cnt = p->n * per_row;
    const uint8_t *src = which == BITS_VALIDITY ? p->validity
                         : which == BITS_VALUES ? p->values
                                                : p->item_validity;
    int64_t off = which == BITS_ITEM_VALIDITY ? p->item0 : p->r0;
    if (src)
      cl_bits_copy(dst->data, pos, src, off, cnt);
    else
      bits_set_ones(dst->data, pos, cnt);
    pos += cnt;
  }
  return CLANCE_OK;
}

/* Buffer `i` is the bytes [b0 + first * w, ... + count * w) of every piece's
 * `base`, in place. */
static clance_status slices_buf(cl_page_enc *out, size_t i, const piece *ps, size_t np, int items,
                                size_t w, int64_t per_row, clance_error *err) {
  cl_page_enc_begin_slices(out, i);
  for (size_t k = 0; k < np; k++) {
    const piece *p = &ps[k];
    const uint8_t *base = items ? p->items : p->values;
    int64_t first = items ? p->item0 : p->r0;
    CL_TRY(cl_page_enc_add_slice(out, i, base + (size_t)first * w, (size_t)(p->n * per_row) * w, err));
  }
  return CLANCE_OK;
}

static uint64_t piece_off(const piece *p, int large, int64_t i) {
  return large ? (uint64_t)((const int64_t *)(const void *)p->offsets)[p->r0 + i]
               : (uint64_t)(uint32_t)((const int32_t *)(const void *)p->offsets)[p->r0 + i];
}

static clance_status encode_binary(const cl_field *f, const piece *ps, size_t np, int64_t n,
                                   tree20 *t, cl_page_enc *out, pb20_enc **root, clance_error *err) {
  /* Indices are the cumulative end offsets; a null row's end is moved up by
   * null_adjustment (= total bytes + 1) so readers can tell it apart. */
  int large = cl_type_is_large(f->type);
  uint64_t total = 0;
  for (size_t k = 0; k < np; k++)
    total += piece_off(&ps[k], large, ps[k].n) - piece_off(&ps[k], large, 0);
  uint64_t adj = total + 1;
  cl_buf *idx = &out->bufs[0];
  idx->len = 0;
  CL_TRY(cl_buf_reserve(idx, (size_t)n * 8, err));
  /* (malloc'd, so aligned; the file is little-endian like the host) */
  uint64_t *o = (uint64_t *)(void *)idx->data;
  uint64_t base = 0;
  cl_page_enc_begin_slices(out, 1);
  for (size_t k = 0; k < np; k++) {
    const piece *p = &ps[k];
    uint64_t b0 = piece_off(p, large, 0), b1 = piece_off(p, large, p->n);
    uint64_t shift = base - b0;
    if (large) {
      const int64_t *so = (const int64_t *)(const void *)p->offsets + p->r0 + 1;
      for (int64_t i = 0; i < p->n; i++)
        o[i] = (uint64_t)so[i] + shift;
    } else {
      const int32_t *so = (const int32_t *)(const void *)p->offsets + p->r0 + 1;
      for (int64_t i = 0; i < p->n; i++)
        o[i] = (uint64_t)(uint32_t)so[i] + shift;
    }
    if (p->validity)
      for (int64_t i = 0; i < p->n; i++)
        if (!cl_bit_get(p->validity, p->r0 + i))
          o[i] += adj;
    o += p->n;
    base += b1 - b0;
    CL_TRY(cl_page_enc_add_slice(out, 1, p->values + b0, (size_t)(b1 - b0), err));
  }
  idx->len = (size_t)n * 8;
  out->n_bufs = 2;
  lance__encodings__binary__init(&t->binary);
  t->binary.indices = no_nulls(t, flat(t, 64));
  t->binary.bytes = flat(t, 8);
  t->binary.has_null_adjustment = 1;
  t->binary.null_adjustment = adj;
  pb20_enc *e = node(t);
  e->array_encoding_case = LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_BINARY;
  e->binary = &t->binary;
  *root = e;
  return CLANCE_OK;
}

#define MAX_STACK_PIECES 64

clance_status cl_encode20_page(const cl_field *f, const cl_page_src *src, cl_page_enc *out,
                               clance_error *err) {
  cl_page_enc_reset(out);
  piece stack[MAX_STACK_PIECES], *ps = stack;
  size_t np = src->arr ? 1 : src->n_segs;
  int64_t n = src->arr ? src->arr->length : src->length;
  int64_t nulls = src->arr ? src->arr->null_count : src->totals.nulls;
  int64_t item_nulls = src->arr ? (src->arr->n_children ? src->arr->children[0].null_count : 0)
                                : src->totals.item_nulls;
  if (np > MAX_STACK_PIECES && !(ps = cl_malloc(np * sizeof *ps, err)))
    return err->code;
  if (src->arr)
    piece_of_arr(src->arr, ps);
  else
    for (size_t k = 0; k < np; k++)
      piece_of_seg(f, &src->segs[k], &ps[k]);
  clance_status st = CLANCE_OK;
  out->length = (uint64_t)n;
  tree20 t;
  memset(&t, 0, sizeof t);
  pb20_enc *root = NULL;
  int all_null = f->type == CL_TYPE_NULL || (n > 0 && nulls == n);
  if (cl_type_is_binary_like(f->type)) {
    CL_CHECK(st, encode_binary(f, ps, np, n, &t, out, &root, err));
  } else if (all_null) {
    Lance__Encodings__Nullable *nl;
    root = nullable_node(&t, &nl);
    lance__encodings__nullable__all_null__init(&t.allnull);
    nl->nullability_case = LANCE__ENCODINGS__NULLABLE__NULLABILITY_ALL_NULLS;
    nl->all_nulls = &t.allnull;
    out->n_bufs = 0;
  } else {
    int has_nulls = nulls > 0;
    size_t nb = 0;
    pb20_enc *validity = NULL;
    if (has_nulls) {
      CL_CHECK(st, bits_buf(&out->bufs[nb++], ps, np, BITS_VALIDITY, 1, n, err));
      validity = flat(&t, 1);
    }
    pb20_enc *values;
    if (f->type == CL_TYPE_FIXED_SIZE_LIST) {
      int64_t items = n * f->size;
      uint32_t ibits = cl_type_bits(&f->children[0]);
      pb20_enc *item_enc;
      if (item_nulls > 0) {
        CL_CHECK(st, bits_buf(&out->bufs[nb++], ps, np, BITS_ITEM_VALIDITY, f->size, items, err));
        pb20_enc *iv = flat(&t, 1);
        item_enc = some_nulls(&t, iv, flat(&t, ibits));
      } else {
        item_enc = no_nulls(&t, flat(&t, ibits));
      }
      CL_CHECK(st, slices_buf(out, nb++, ps, np, 1, ibits / 8, f->size, err));
      lance__encodings__fixed_size_list__init(&t.fsl);
      t.fsl.has_dimension = 1;
      t.fsl.dimension = (uint32_t)f->size;
      t.fsl.items = item_enc;
      values = node(&t);
      values->array_encoding_case = LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FIXED_SIZE_LIST;
      values->fixed_size_list = &t.fsl;
    } else {
      uint32_t bits = cl_type_bits(f);
      if (bits == 1)
        CL_CHECK(st, bits_buf(&out->bufs[nb++], ps, np, BITS_VALUES, 1, n, err));
      else
        CL_CHECK(st, slices_buf(out, nb++, ps, np, 0, bits / 8, 1, err));
      values = flat(&t, bits);
    }
    root = has_nulls ? some_nulls(&t, validity, values) : no_nulls(&t, values);
    out->n_bufs = nb;
  }
  out->encoding.len = 0;
  st = cl_pb_pack_any(CL_URL_ARRAY_ENCODING, &root->base, &out->encoding, err);
fail:
  if (ps != stack)
    free(ps);
  return st;
}

clance_status cl_encode20_struct_header(uint64_t rows, cl_page_enc *out, clance_error *err) {
  cl_page_enc_reset(out);
  out->length = rows;
  Lance__Encodings__SimpleStruct ss = LANCE__ENCODINGS__SIMPLE_STRUCT__INIT;
  pb20_enc root = LANCE__ENCODINGS__ARRAY_ENCODING__INIT;
  root.array_encoding_case = LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_STRUCT;
  root.struct_ = &ss;
  return cl_pb_pack_any(CL_URL_ARRAY_ENCODING, &root.base, &out->encoding, err);
}
