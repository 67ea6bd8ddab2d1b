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

static clance_status bits_buf(cl_buf *dst, const uint8_t *src, int64_t n, clance_error *err) {
  dst->len = 0;
  size_t bytes = (size_t)((n + 7) / 8);
  CL_TRY(cl_buf_fill(dst, 0, bytes, err));
  if (src)
    cl_bits_copy(dst->data, 0, src, 0, n);
  return CLANCE_OK;
}

static clance_status encode_binary(const cl_field *f, const cl_arr *a, tree20 *t, cl_page_enc *out,
                                   pb20_enc **root, clance_error *err) {
  /* Indices are the cumulative end offsets; a null row's end is moved up by
   * null_adjustment (= total bytes + 1) so readers can tell it apart. */
  int large = cl_type_is_large(f->type);
  int64_t n = a->length;
  uint64_t total = cl_arr_last_offset(a);
  uint64_t adj = total + 1;
  cl_buf *idx = &out->bufs[0];
  CL_TRY(cl_buf_reserve(idx, (size_t)n * 8, err));
  for (int64_t i = 0; i < n; i++) {
    uint64_t end = large ? cl_le64(a->offsets.data + 8 * (i + 1)) : cl_le32(a->offsets.data + 4 * (i + 1));
    if (a->null_count > 0 && !cl_bit_get(a->validity.data, i))
      end += adj;
    cl_put64(idx->data + idx->len, end);
    idx->len += 8;
  }
  CL_TRY(cl_buf_append(&out->bufs[1], a->values.data, (size_t)total, err));
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

clance_status cl_encode20_page(const cl_field *f, const cl_arr *a, cl_page_enc *out,
                               clance_error *err) {
  cl_page_enc_reset(out);
  out->length = (uint64_t)a->length;
  tree20 t;
  memset(&t, 0, sizeof t);
  pb20_enc *root = NULL;
  int64_t n = a->length;
  int all_null = f->type == CL_TYPE_NULL || (n > 0 && a->null_count == n);
  if (cl_type_is_binary_like(f->type)) {
    CL_TRY(encode_binary(f, a, &t, out, &root, err));
  } else if (all_null) {
    Lance__Encodings__Nullable *nl;
    root = nullable_node(&t, &nl);
    lance__encodings__nullable__all_null__init(&t.allnull);
    nl->nullability_case = LANCE__ENCODINGS__NULLABLE__NULLABILITY_ALL_NULLS;
    nl->all_nulls = &t.allnull;
    out->n_bufs = 0;
  } else {
    int has_nulls = a->null_count > 0;
    size_t nb = 0;
    pb20_enc *validity = NULL;
    if (has_nulls) {
      CL_TRY(bits_buf(&out->bufs[nb++], a->validity.data, n, err));
      validity = flat(&t, 1);
    }
    pb20_enc *values;
    if (f->type == CL_TYPE_FIXED_SIZE_LIST) {
      const cl_arr *item = &a->children[0];
      int64_t items = n * f->size;
      uint32_t ibits = cl_type_bits(&f->children[0]);
      pb20_enc *item_enc;
      if (item->null_count > 0) {
        CL_TRY(bits_buf(&out->bufs[nb++], item->validity.data, items, err));
        pb20_enc *iv = flat(&t, 1);
        item_enc = some_nulls(&t, iv, flat(&t, ibits));
      } else {
        item_enc = no_nulls(&t, flat(&t, ibits));
      }
      CL_TRY(cl_buf_append(&out->bufs[nb++], item->values.data, (size_t)items * (ibits / 8), err));
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
        CL_TRY(bits_buf(&out->bufs[nb++], a->values.data, n, err));
      else
        CL_TRY(cl_buf_append(&out->bufs[nb++], a->values.data, (size_t)n * (bits / 8), err));
      values = flat(&t, bits);
    }
    root = has_nulls ? some_nulls(&t, validity, values) : no_nulls(&t, values);
    out->n_bufs = nb;
  }
  out->encoding.len = 0;
  return cl_pb_pack_any(CL_URL_ARRAY_ENCODING, &root->base, &out->encoding, err);
}
