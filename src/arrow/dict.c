/* Dictionary encoding of decoded values. Lance stores a dictionary-typed
 * column as its values (the logical type keeps the key type) and rebuilds
 * dictionaries on read; so do we, one output batch at a time, with codes in
 * first-seen order. */
#include "arrow/dict.h"

#include <stdlib.h>
#include <string.h>

#include "arrow/array.h"

/* A value as bytes: where and how long (a bool as one byte). */
typedef struct value_ref {
  const uint8_t *p;
  size_t n;
  uint8_t bit;
} value_ref;

static value_ref value_at(const cl_field *vf, const struct ArrowArray *a, int64_t i) {
  value_ref v = {NULL, 0, 0};
  int64_t j = i + a->offset;
  switch (vf->type) {
  case CL_TYPE_BOOL:
    v.bit = (uint8_t)cl_bit_get(a->buffers[1], j);
    v.p = &v.bit;
    v.n = 1;
    return v;
  case CL_TYPE_UTF8:
  case CL_TYPE_BINARY: {
    const int32_t *o = a->buffers[1];
    v.p = (const uint8_t *)a->buffers[2] + o[j];
    v.n = (size_t)(o[j + 1] - o[j]);
    return v;
  }
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_LARGE_BINARY: {
    const int64_t *o = a->buffers[1];
    v.p = (const uint8_t *)a->buffers[2] + o[j];
    v.n = (size_t)(o[j + 1] - o[j]);
    return v;
  }
  default: {
    size_t w = cl_type_bits(vf) / 8;
    v.p = (const uint8_t *)a->buffers[1] + (size_t)j * w;
    v.n = w;
    return v;
  }
  }
}

static uint64_t hash_bytes(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull ^ n;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h ^ (h >> 29);
}

static int supported_value_type(const cl_field *vf) {
  switch (vf->type) {
  case CL_TYPE_BOOL:
  case CL_TYPE_UTF8:
  case CL_TYPE_BINARY:
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_LARGE_BINARY: return 1;
  default: return vf->type != CL_TYPE_FIXED_SIZE_LIST && cl_type_bits(vf) >= 8;
  }
}

/* Largest code the key type holds. */
static uint64_t max_code(cl_type_id t) {
  switch (t) {
  case CL_TYPE_INT8: return INT8_MAX;
  case CL_TYPE_UINT8: return UINT8_MAX;
  case CL_TYPE_INT16: return INT16_MAX;
  case CL_TYPE_UINT16: return UINT16_MAX;
  case CL_TYPE_INT32: return INT32_MAX;
  case CL_TYPE_UINT32: return UINT32_MAX;
  default: return INT64_MAX;
  }
}

static void put_code(uint8_t *dst, size_t w, uint64_t code) {
  /* Little-endian hosts only (as Arrow buffers are here). */
  memcpy(dst, &code, w);
}

clance_status cl_array_dict_encode(const cl_field *f, struct ArrowArray *a, clance_error *err) {
  const cl_field *vf = &f->children[0];
  if (f->type != CL_TYPE_DICTIONARY || f->n_children != 1)
    return cl_err(err, CLANCE_EINTERNAL, "dictionary encoding of a non-dictionary field");
  if (!supported_value_type(vf))
    return cl_err(err, CLANCE_EUNSUPPORTED,
                  "column \"%s\": dictionaries of this value type are not supported", f->name);
  const int64_t n = a->length;
  size_t cap = 16;
  while (cap < (size_t)n * 2)
    cap *= 2;
  int64_t *slots = malloc(cap * sizeof *slots); /* first row of each distinct value, or -1 */
  uint64_t *codes = malloc(cap * sizeof *codes);
  cl_arr out;
  int out_init = 0;
  clance_status st = CLANCE_OK;
  if (!slots || !codes) {
    st = cl_err(err, CLANCE_ENOMEM, "out of memory building the dictionary of column \"%s\"",
                f->name);
    goto fail;
  }
  memset(slots, 0xff, cap * sizeof *slots);
  CL_CHECK(st, cl_arr_init(&out, f, err));
  out_init = 1;
  const size_t kw = cl_type_bits(&(cl_field){.type = f->index_type}) / 8;
  CL_CHECK(st, cl_buf_fill(&out.values, 0, (size_t)n * kw, err)); /* codes; nulls keep 0 */
  uint64_t next = 0;
  for (int64_t i = 0; i < n; i++) {
    if (!cl_array_valid(a, i))
      continue; /* validity is copied below; the code stays 0 */
    value_ref v = value_at(vf, a, i);
    size_t h = (size_t)hash_bytes(v.p, v.n) & (cap - 1);
    for (;;) {
      if (slots[h] < 0) {
        if (next > max_code(f->index_type)) {
          st = cl_err(err, CLANCE_EUNSUPPORTED,
                      "column \"%s\": a batch holds more distinct values than its dictionary "
                      "key type can index; scan with a smaller batch size",
                      f->name);
          goto fail;
        }
        slots[h] = i;
        codes[h] = next++;
        CL_CHECK(st, cl_arr_append_from(out.dictionary, a, i, 1, err));
        break;
      }
      value_ref u = value_at(vf, a, slots[h]);
      if (u.n == v.n && (v.n == 0 || memcmp(u.p, v.p, v.n) == 0))
        break;
      h = (h + 1) & (cap - 1);
    }
    put_code(out.values.data + (size_t)i * kw, kw, codes[h]);
  }
  {
    const uint8_t *valid = a->n_buffers > 0 && a->null_count != 0 ? a->buffers[0] : NULL;
    CL_CHECK(st, cl_arr_append_validity(&out, valid, a->offset, n, err));
  }
  struct ArrowArray enc;
  CL_CHECK(st, cl_arr_export(&out, &enc, err));
  a->release(a);
  *a = enc;
fail:
  if (out_init)
    cl_arr_free(&out);
  free(slots);
  free(codes);
  return st;
}

int64_t cl_dict_key(const struct ArrowArray *a, cl_type_id index_type, int64_t i) {
  const size_t kw = cl_type_bits(&(cl_field){.type = index_type}) / 8;
  const uint8_t *p = (const uint8_t *)a->buffers[1] + (size_t)(i + a->offset) * kw;
  switch (index_type) {
  case CL_TYPE_INT8: return *(const int8_t *)p;
  case CL_TYPE_UINT8: return *p;
  case CL_TYPE_INT16: { int16_t v; memcpy(&v, p, 2); return v; }
  case CL_TYPE_UINT16: { uint16_t v; memcpy(&v, p, 2); return v; }
  case CL_TYPE_INT32: { int32_t v; memcpy(&v, p, 4); return v; }
  case CL_TYPE_UINT32: { uint32_t v; memcpy(&v, p, 4); return v; }
  default: { int64_t v; memcpy(&v, p, 8); return v; }
  }
}

clance_status cl_array_dict_gather(const cl_field *f, const struct ArrowArray *src,
                                   const size_t *rows, size_t n, struct ArrowArray *out,
                                   clance_error *err) {
  if (f->type != CL_TYPE_DICTIONARY || !src->dictionary || src->n_buffers < 2)
    return cl_err(err, CLANCE_EINTERNAL, "column \"%s\": gathering from a non-dictionary array",
                  f->name);
  const struct ArrowArray *dict = src->dictionary;
  const size_t kw = cl_type_bits(&(cl_field){.type = f->index_type}) / 8;
  cl_arr b;
  CL_TRY(cl_arr_init(&b, f, err));
  clance_status st = CLANCE_OK;
  CL_CHECK(st, cl_arr_append_from(b.dictionary, dict, 0, dict->length, err));
  CL_CHECK(st, cl_buf_reserve(&b.values, n * kw, err));
  for (size_t i = 0; i < n; i++) {
    int64_t r = (int64_t)rows[i];
    if (r < 0 || r >= src->length) {
      st = cl_err(err, CLANCE_EINTERNAL, "column \"%s\": row %lld out of range", f->name,
                  (long long)r);
      goto fail;
    }
    int valid = cl_array_valid(src, r);
    int64_t k = valid ? cl_dict_key(src, f->index_type, r) : 0;
    if (k < 0 || k >= dict->length) {
      st = cl_err(err, CLANCE_EINTERNAL, "column \"%s\": dictionary key %lld out of range",
                  f->name, (long long)k);
      goto fail;
    }
    CL_CHECK(st, cl_buf_append(&b.values, (const uint8_t *)src->buffers[1] +
                                              (size_t)(r + src->offset) * kw, kw, err));
    CL_CHECK(st, valid ? cl_arr_append_valid(&b, 1, err) : cl_arr_append_null(&b, 1, err));
  }
  st = cl_arr_export(&b, out, err);
fail:
  cl_arr_free(&b);
  return st;
}
