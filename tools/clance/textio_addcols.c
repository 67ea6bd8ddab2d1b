/* Adding columns from text input: see textio_addcols.h. */
#include "textio_addcols.h"

#include <stdlib.h>
#include <string.h>

#include "dataset/dataset.h"
#include "textio.h"

void cl_addcols_input_free(cl_addcols_input *in) {
  for (size_t c = 0; in->arrays && c < in->schema.n_fields; c++)
    if (in->arrays[c].release)
      in->arrays[c].release(&in->arrays[c]);
  for (size_t c = 0; in->cols && c < in->schema.n_fields; c++)
    cl_arr_free(&in->cols[c]);
  free(in->arrays);
  free(in->cols);
  cl_schema_free(&in->schema);
}

clance_status cl_addcols_input_read(const char *const *paths, size_t n_paths, int format,
                                    cl_addcols_input *in, clance_error *err) {
  size_t n = in->schema.n_fields;
  in->cols = cl_calloc(n ? n : 1, sizeof *in->cols, err);
  in->arrays = cl_calloc(n ? n : 1, sizeof *in->arrays, err);
  if (!in->cols || !in->arrays)
    return err->code;
  for (size_t c = 0; c < n; c++)
    CL_TRY(cl_arr_init(&in->cols[c], &in->schema.fields[c], err));
  clance_status st = CLANCE_OK;
  for (size_t p = 0; !st && p < n_paths; p++) {
    struct ArrowArrayStream s;
    CL_TRY(cl_text_reader_open(paths[p], format, &in->schema, 0, &s, err));
    for (;;) {
      struct ArrowArray b;
      if (s.get_next(&s, &b)) {
        st = cl_text_reader_error(&s, err);
        break;
      }
      if (!b.release)
        break;
      for (size_t c = 0; !st && c < n; c++)
        st = cl_arr_append_from(&in->cols[c], b.children[c], 0, b.length, err);
      in->rows += b.length;
      b.release(&b);
      if (st)
        break;
    }
    s.release(&s);
  }
  for (size_t c = 0; !st && c < n; c++)
    st = cl_arr_export(&in->cols[c], &in->arrays[c], err);
  return st;
}

/* ---- keys: 64-bit integers or byte strings ---- */



static int key_bytes(const cl_field *f, const struct ArrowArray *a, int64_t i, const uint8_t **p,
                     size_t *n, int64_t *ival) {
  int64_t j = i + a->offset;
  switch (f->type) {
  case CL_TYPE_UTF8:
  case CL_TYPE_BINARY: {
    const int32_t *o = a->buffers[1];
    *p = (const uint8_t *)a->buffers[2] + o[j];
    *n = (size_t)(o[j + 1] - o[j]);
    return 1;
  }
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_LARGE_BINARY: {
    const int64_t *o = a->buffers[1];
    *p = (const uint8_t *)a->buffers[2] + o[j];
    *n = (size_t)(o[j + 1] - o[j]);
    return 1;
  }
  default: {
    uint32_t w = cl_type_bits(f) / 8;
    int64_t v = 0;
    memcpy(&v, (const uint8_t *)a->buffers[1] + (size_t)j * w, w);
    if (w < 8 && f->type != CL_TYPE_UINT8 && f->type != CL_TYPE_UINT16 && f->type != CL_TYPE_UINT32)
      v = (v << (64 - 8 * w)) >> (64 - 8 * w); /* sign-extend */
    *ival = v;
    *p = (const uint8_t *)ival;
    *n = sizeof *ival;
    return 1;
  }
  }
}

static uint64_t hash_of(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull ^ n;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h ^ (h >> 31);
}

int cl_addcols_key_ok(const cl_field *f) {
  return cl_type_is_integer(f->type) || f->type == CL_TYPE_UTF8 || f->type == CL_TYPE_LARGE_UTF8 ||
         f->type == CL_TYPE_BINARY || f->type == CL_TYPE_LARGE_BINARY;
}

/* Find `probe` (row i of array b, same type) in the index: input row or -1. */
static int64_t key_find(const cl_addcols_keys *k, const struct ArrowArray *b, int64_t i, int insert_row) {
  const uint8_t *p, *q;
  size_t n, m;
  int64_t iv, jv;
  key_bytes(k->f, b, i, &p, &n, &iv);
  size_t h = (size_t)hash_of(p, n) & (k->cap - 1);
  for (;;) {
    int64_t r = k->slots[h];
    if (r < 0) {
      if (insert_row >= 0)
        k->slots[h] = insert_row;
      return -1;
    }
    key_bytes(k->f, k->a, r, &q, &m, &jv);
    if (m == n && !memcmp(p, q, n))
      return r;
    h = (h + 1) & (k->cap - 1);
  }
}

clance_status cl_addcols_key_build(cl_addcols_keys *k, const cl_field *f, const struct ArrowArray *a,
                               clance_error *err) {
  k->a = a;
  k->f = f;
  k->cap = 16;
  while (k->cap < (size_t)a->length * 2)
    k->cap *= 2;
  if (!(k->slots = cl_malloc(k->cap * sizeof *k->slots, err)))
    return err->code;
  memset(k->slots, 0xff, k->cap * sizeof *k->slots);
  for (int64_t i = 0; i < a->length; i++) {
    if (!cl_array_valid(a, i))
      return cl_err(err, CLANCE_EINVAL, "input row %lld has a null key", (long long)i + 1);
    if (key_find(k, a, i, i) >= 0)
      return cl_err(err, CLANCE_EINVAL, "input rows have the same key twice (row %lld)",
                    (long long)i + 1);
  }
  return CLANCE_OK;
}

/* ---- per fragment ---- */

/* A one-batch stream of the new columns for the given input rows (-1 = null). */
clance_status cl_addcols_values(const cl_addcols_input *in, size_t first_col, const int64_t *rows, int64_t n,
                                   struct ArrowArrayStream *out, clance_error *err) {
  size_t nc = in->schema.n_fields - first_col;
  cl_schema s = {0};
  struct ArrowArray *kids = cl_calloc(nc, sizeof *kids, err);
  cl_arr *b = cl_calloc(nc, sizeof *b, err);
  if (!kids || !b) {
    free(kids);
    free(b);
    return err->code;
  }
  clance_status st = CLANCE_OK;
  s.fields = in->schema.fields + first_col; /* borrowed view */
  s.n_fields = nc;
  for (size_t c = 0; !st && c < nc; c++) {
    st = cl_arr_init(&b[c], &s.fields[c], err);
    for (int64_t i = 0; !st && i < n;) {
      if (rows[i] < 0) {
        st = s.fields[c].nullable ? cl_arr_append_nulls(&b[c], 1, err)
                                  : cl_err(err, CLANCE_EINVAL, "a dataset row has no input row "
                                           "but column \"%s\" is NOT NULL", s.fields[c].name);
        i++;
        continue;
      }
      int64_t j = i + 1; /* copy runs of consecutive input rows at once */
      while (j < n && rows[j] == rows[j - 1] + 1)
        j++;
      st = cl_arr_append_from(&b[c], &in->arrays[first_col + c], rows[i], j - i, err);
      i = j;
    }
    if (!st)
      st = cl_arr_export(&b[c], &kids[c], err);
  }
  struct ArrowArray batch;
  memset(&batch, 0, sizeof batch);
  if (!st)
    st = cl_struct_array_export(n, kids, nc, &batch, err);
  if (!st)
    st = cl_stream_from_batches(&s, &batch, 1, out, err);
  else
    for (size_t c = 0; c < nc; c++)
      if (kids[c].release)
        kids[c].release(&kids[c]);
  for (size_t c = 0; c < nc; c++)
    cl_arr_free(&b[c]);
  free(b);
  free(kids);
  return st;
}

/* Input row of each live row of the fragment, by key. */
clance_status cl_addcols_rows_by_key(const clance_dataset *ds, uint64_t frag, const char *key,
                                 const cl_addcols_keys *k, int64_t **rows, int64_t *n,
                                 clance_error *err) {
  clance_scan_options o;
  clance_scan_options_init(&o);
  const char *cols[1] = {key};
  o.columns = cols;
  o.num_columns = 1;
  o.fragment_ids = &frag;
  o.num_fragment_ids = 1;
  struct ArrowArrayStream s;
  CL_TRY(clance_dataset_scan(ds, &o, &s, err));
  clance_status st = CLANCE_OK;
  size_t cap = 0;
  *rows = NULL;
  *n = 0;
  for (;;) {
    struct ArrowArray b;
    int rc = s.get_next(&s, &b);
    if (rc) {
      st = cl_stream_error(&s, rc, "reading the key column", err);
      break;
    }
    if (!b.release)
      break;
    const struct ArrowArray *kc = b.children[0];
    for (int64_t i = 0; !st && i < b.length; i++) {
      if ((size_t)*n == cap) {
        cap = cap ? cap * 2 : 4096;
        int64_t *p = realloc(*rows, cap * sizeof *p);
        if (!p) {
          st = cl_err(err, CLANCE_ENOMEM, "out of memory");
          break;
        }
        *rows = p;
      }
      (*rows)[(*n)++] = cl_array_valid(kc, i) ? key_find(k, kc, i, -1) : -1;
    }
    b.release(&b);
    if (st)
      break;
  }
  s.release(&s);
  return st;
}

