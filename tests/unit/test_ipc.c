/* Arrow IPC reader/writer: round trips of every supported type (nulls, slices,
 * empty batches, dictionaries with deltas, all compression modes, file and
 * stream), the Lance deletion-file shape, and hostile input (truncation at
 * every byte, byte flips, hand-made messages with bad offsets and sizes). */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arrow/array.h"
#include "arrow/ipc.h"
#include "arrow/ipc_internal.h"
#include "test.h"

/* ------------------------------------------------------------------------ */
/* Schema helpers                                                             */
/* ------------------------------------------------------------------------ */

static cl_field fld(const char *name, cl_type_id t) {
  cl_field f;
  memset(&f, 0, sizeof f);
  f.name = strdup(name);
  f.type = t;
  f.nullable = 1;
  f.id = -1;
  return f;
}

static cl_field fld_unit(const char *name, cl_type_id t, char unit, const char *tz) {
  cl_field f = fld(name, t);
  f.unit = unit;
  f.tz = tz ? strdup(tz) : NULL;
  return f;
}

static cl_field fld_sized(const char *name, cl_type_id t, int32_t size, int32_t scale) {
  cl_field f = fld(name, t);
  f.size = size;
  f.scale = scale;
  return f;
}

/* Nested field taking ownership of n children given as arguments. */
static cl_field nest(const char *name, cl_type_id t, int32_t size, size_t n, ...) {
  cl_field f = fld(name, t);
  f.size = size;
  f.n_children = n;
  f.children = calloc(n, sizeof *f.children);
  va_list ap;
  va_start(ap, n);
  for (size_t i = 0; i < n; i++)
    f.children[i] = va_arg(ap, cl_field);
  va_end(ap);
  return f;
}

static cl_field dict(const char *name, cl_type_id index, cl_field value) {
  cl_field f = nest(name, CL_TYPE_DICTIONARY, 0, 1, value);
  f.index_type = index;
  return f;
}

static void schema_add(cl_schema *s, cl_field f) {
  s->fields = realloc(s->fields, (s->n_fields + 1) * sizeof *s->fields);
  s->fields[s->n_fields++] = f;
}

/* Every supported type, nested ones included. */
static void all_types_schema(cl_schema *s) {
  memset(s, 0, sizeof *s);
  static const cl_type_id simple[] = {
      CL_TYPE_NULL,    CL_TYPE_BOOL,    CL_TYPE_INT8,    CL_TYPE_UINT8,      CL_TYPE_INT16,
      CL_TYPE_UINT16,  CL_TYPE_INT32,   CL_TYPE_UINT32,  CL_TYPE_INT64,      CL_TYPE_UINT64,
      CL_TYPE_FLOAT16, CL_TYPE_FLOAT32, CL_TYPE_FLOAT64, CL_TYPE_DATE32,     CL_TYPE_DATE64,
      CL_TYPE_UTF8,    CL_TYPE_LARGE_UTF8, CL_TYPE_BINARY, CL_TYPE_LARGE_BINARY};
  for (size_t i = 0; i < sizeof simple / sizeof *simple; i++)
    schema_add(s, fld(cl_type_name(simple[i]), simple[i]));
  schema_add(s, fld_sized("dec128", CL_TYPE_DECIMAL128, 10, 2));
  schema_add(s, fld_sized("dec256", CL_TYPE_DECIMAL256, 40, -3));
  schema_add(s, fld_unit("t32s", CL_TYPE_TIME32, 's', NULL));
  schema_add(s, fld_unit("t32ms", CL_TYPE_TIME32, 'm', NULL));
  schema_add(s, fld_unit("t64us", CL_TYPE_TIME64, 'u', NULL));
  schema_add(s, fld_unit("t64ns", CL_TYPE_TIME64, 'n', NULL));
  schema_add(s, fld_unit("ts_s", CL_TYPE_TIMESTAMP, 's', NULL));
  schema_add(s, fld_unit("ts_ms_utc", CL_TYPE_TIMESTAMP, 'm', "UTC"));
  schema_add(s, fld_unit("ts_us_ny", CL_TYPE_TIMESTAMP, 'u', "America/New_York"));
  schema_add(s, fld_unit("ts_ns", CL_TYPE_TIMESTAMP, 'n', NULL));
  schema_add(s, fld_unit("dur_s", CL_TYPE_DURATION, 's', NULL));
  schema_add(s, fld_unit("dur_ms", CL_TYPE_DURATION, 'm', NULL));
  schema_add(s, fld_unit("dur_us", CL_TYPE_DURATION, 'u', NULL));
  schema_add(s, fld_unit("dur_ns", CL_TYPE_DURATION, 'n', NULL));
  schema_add(s, fld_sized("fsb5", CL_TYPE_FIXED_SIZE_BINARY, 5, 0));
  schema_add(s, nest("fsl_i16", CL_TYPE_FIXED_SIZE_LIST, 3, 1, fld("item", CL_TYPE_INT16)));
  schema_add(s, nest("list_utf8", CL_TYPE_LIST, 0, 1, fld("item", CL_TYPE_UTF8)));
  schema_add(s, nest("llist_i32", CL_TYPE_LARGE_LIST, 0, 1, fld("item", CL_TYPE_INT32)));
  schema_add(s, nest("st", CL_TYPE_STRUCT, 0, 3, fld("a", CL_TYPE_INT32), fld("b", CL_TYPE_UTF8),
                     nest("c", CL_TYPE_LIST, 0, 1, fld("item", CL_TYPE_BOOL))));
  schema_add(s, nest("list_st", CL_TYPE_LIST, 0, 1,
                     nest("item", CL_TYPE_STRUCT, 0, 2, fld("x", CL_TYPE_FLOAT64),
                          nest("y", CL_TYPE_FIXED_SIZE_LIST, 2, 1, fld("item", CL_TYPE_FLOAT32)))));
  schema_add(s, dict("dict_utf8", CL_TYPE_INT32, fld("", CL_TYPE_UTF8)));
  schema_add(s, dict("dict_i64_i8", CL_TYPE_INT8, fld("", CL_TYPE_INT64)));
  schema_add(s, dict("dict_lbin_u16", CL_TYPE_UINT16, fld("", CL_TYPE_LARGE_BINARY)));
  schema_add(s, nest("st_dict", CL_TYPE_STRUCT, 0, 2,
                     dict("d", CL_TYPE_INT16, fld("", CL_TYPE_UTF8)), fld("e", CL_TYPE_INT64)));
  schema_add(s, nest("list_dict", CL_TYPE_LIST, 0, 1,
                     dict("item", CL_TYPE_UINT32, fld("", CL_TYPE_UTF8))));
  cl_field nn = fld("not_null_i32", CL_TYPE_INT32);
  nn.nullable = 0;
  schema_add(s, nn);
  clance_error err;
  cl_meta_set(&s->fields[1].metadata, "field_key", "field value", 11, &err);
  cl_meta_set(&s->metadata, "schema_key", "\x00\x01 binary", 9, &err);
}

/* ------------------------------------------------------------------------ */
/* Data generation                                                            */
/* ------------------------------------------------------------------------ */

static uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

#define DICT_SIZE 7

static void gen_value(cl_arr *a, uint64_t h, clance_error *err);

/* Append one element (null about a quarter of the time when nullable). */
static void gen(cl_arr *a, uint64_t h, clance_error *err) {
  const cl_field *f = a->field;
  if (f->nullable && h % 4 == 1) {
    cl_arr_append_nulls(a, 1, err);
    return;
  }
  gen_value(a, mix(h), err);
}

static void gen_value(cl_arr *a, uint64_t h, clance_error *err) {
  const cl_field *f = a->field;
  switch (f->type) {
  case CL_TYPE_NULL: cl_arr_append_nulls(a, 1, err); return;
  case CL_TYPE_BOOL: {
    size_t need = (size_t)((a->length + 8) / 8);
    if (a->values.len < need)
      cl_buf_fill(&a->values, 0, need - a->values.len, err);
    if (h & 1)
      cl_bit_set(a->values.data, a->length);
    break;
  }
  case CL_TYPE_UTF8:
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_BINARY:
  case CL_TYPE_LARGE_BINARY: {
    char s[64];
    int n = snprintf(s, sizeof s, "v%llu", (unsigned long long)(h % 100000));
    n = (int)(h % 3 == 0 ? 0 : n); /* some empty strings */
    cl_buf_append(&a->values, s, (size_t)n, err);
    cl_arr_push_offset(a, a->values.len, err);
    break;
  }
  case CL_TYPE_LIST:
  case CL_TYPE_LARGE_LIST: {
    int n = (int)(h % 4);
    for (int i = 0; i < n; i++)
      gen(&a->children[0], mix(h + (uint64_t)i), err);
    cl_arr_push_offset(a, (uint64_t)a->children[0].length, err);
    break;
  }
  case CL_TYPE_FIXED_SIZE_LIST:
    for (int i = 0; i < f->size; i++)
      gen(&a->children[0], mix(h + (uint64_t)i), err);
    break;
  case CL_TYPE_STRUCT:
    for (size_t i = 0; i < a->n_children; i++)
      gen(&a->children[i], mix(h + i), err);
    break;
  case CL_TYPE_DICTIONARY: {
    uint64_t k = h % DICT_SIZE;
    uint8_t b[8];
    cl_put64(b, k);
    cl_buf_append(&a->values, b, cl_type_bits(&(cl_field){.type = f->index_type}) / 8, err);
    break;
  }
  default: {
    size_t w = cl_type_bits(f) / 8;
    uint8_t b[32];
    for (size_t i = 0; i < w; i++)
      b[i] = (uint8_t)(mix(h + i) >> 7);
    if (f->type == CL_TYPE_FLOAT16)
      b[1] &= 0x3B; /* keep it finite (not needed, but nicer in dumps) */
    cl_buf_append(&a->values, b, w, err);
    break;
  }
  }
  cl_arr_append_valid(a, 1, err);
}

/* Dictionaries: DICT_SIZE values (value i from hash i), first value null. */
static void gen_dicts(cl_arr *a, uint64_t seed, clance_error *err) {
  if (a->field->type == CL_TYPE_DICTIONARY) {
    cl_arr *d = a->dictionary;
    for (uint64_t i = 0; i < DICT_SIZE; i++) {
      if (i == 0)
        cl_arr_append_nulls(d, 1, err);
      else
        gen_value(d, mix(seed * 131 + i), err);
    }
    return;
  }
  for (size_t i = 0; i < a->n_children; i++)
    gen_dicts(&a->children[i], seed, err);
}

/* One batch of `rows` rows as a struct array. */
static void make_batch(const cl_schema *s, int64_t rows, uint64_t seed, struct ArrowArray *out) {
  clance_error err;
  struct ArrowArray *cols = calloc(s->n_fields ? s->n_fields : 1, sizeof *cols);
  for (size_t c = 0; c < s->n_fields; c++) {
    cl_arr a;
    cl_arr_init(&a, &s->fields[c], &err);
    gen_dicts(&a, 1, &err);
    for (int64_t r = 0; r < rows; r++)
      gen(&a, mix(seed * 1000003 + (uint64_t)r * 7919 + c), &err);
    if (cl_arr_export(&a, &cols[c], &err))
      fprintf(stderr, "export: %s\n", err.message);
    cl_arr_free(&a);
  }
  cl_struct_array_export(rows, cols, s->n_fields, out, &err);
  free(cols);
}

/* ------------------------------------------------------------------------ */
/* Logical comparison (dictionary-encoded and decoded forms compare equal)    */
/* ------------------------------------------------------------------------ */

static int64_t idx_at(const cl_field *f, const struct ArrowArray *a, int64_t p) {
  const uint8_t *b = a->buffers[1];
  switch (f->index_type) {
  case CL_TYPE_INT8: return (int8_t)b[p];
  case CL_TYPE_UINT8: return b[p];
  case CL_TYPE_INT16: return (int16_t)cl_le16(b + 2 * p);
  case CL_TYPE_UINT16: return cl_le16(b + 2 * p);
  case CL_TYPE_INT32: return (int32_t)cl_le32(b + 4 * p);
  case CL_TYPE_UINT32: return cl_le32(b + 4 * p);
  default: return (int64_t)cl_le64(b + 8 * p);
  }
}

static int valid_at(const struct ArrowArray *a, int64_t p) {
  if (a->n_buffers == 0)
    return 0; /* null type */
  const uint8_t *v = a->buffers[0];
  return !v || a->null_count == 0 || cl_bit_get(v, p);
}

static int64_t off_at(const struct ArrowArray *a, int large, int64_t p) {
  return large ? ((const int64_t *)a->buffers[1])[p] : ((const int32_t *)a->buffers[1])[p];
}

/* Follow dictionaries down to the value at physical position *p; returns
 * whether the element is valid. */
static int resolve(const cl_field **f, const struct ArrowArray **a, int64_t *p) {
  while ((*f)->type == CL_TYPE_DICTIONARY) {
    if (!valid_at(*a, *p))
      return 0;
    int64_t k = idx_at(*f, *a, *p);
    *a = (*a)->dictionary;
    *f = &(*f)->children[0];
    *p = (*a)->offset + k;
  }
  return valid_at(*a, *p);
}

/* Element i of a under f vs element j of b under g (logical indices). */
static int elem_eq(const cl_field *f, const struct ArrowArray *a, int64_t i, const cl_field *g,
                   const struct ArrowArray *b, int64_t j) {
  int64_t p = a->offset + i, q = b->offset + j;
  int va = resolve(&f, &a, &p), vb = resolve(&g, &b, &q);
  if (va != vb)
    return 0;
  if (!va)
    return 1;
  if (f->type != g->type)
    return 0;
  switch (f->type) {
  case CL_TYPE_NULL: return 1;
  case CL_TYPE_BOOL: return cl_bit_get(a->buffers[1], p) == cl_bit_get(b->buffers[1], q);
  case CL_TYPE_UTF8:
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_BINARY:
  case CL_TYPE_LARGE_BINARY: {
    int large = cl_type_is_large(f->type);
    int64_t a0 = off_at(a, large, p), a1 = off_at(a, large, p + 1);
    int64_t b0 = off_at(b, large, q), b1 = off_at(b, large, q + 1);
    return a1 - a0 == b1 - b0 &&
           memcmp((const uint8_t *)a->buffers[2] + a0, (const uint8_t *)b->buffers[2] + b0,
                  (size_t)(a1 - a0)) == 0;
  }
  case CL_TYPE_LIST:
  case CL_TYPE_LARGE_LIST: {
    int large = cl_type_is_large(f->type);
    int64_t a0 = off_at(a, large, p), a1 = off_at(a, large, p + 1);
    int64_t b0 = off_at(b, large, q), b1 = off_at(b, large, q + 1);
    if (a1 - a0 != b1 - b0)
      return 0;
    for (int64_t k = 0; k < a1 - a0; k++)
      if (!elem_eq(&f->children[0], a->children[0], a0 + k, &g->children[0], b->children[0],
                   b0 + k))
        return 0;
    return 1;
  }
  case CL_TYPE_FIXED_SIZE_LIST:
    for (int64_t k = 0; k < f->size; k++)
      if (!elem_eq(&f->children[0], a->children[0], p * f->size + k, &g->children[0],
                   b->children[0], q * g->size + k))
        return 0;
    return 1;
  case CL_TYPE_STRUCT:
    for (size_t k = 0; k < f->n_children; k++)
      if (!elem_eq(&f->children[k], a->children[k], p, &g->children[k], b->children[k], q))
        return 0;
    return 1;
  default: {
    size_t w = cl_type_bits(f) / 8;
    return memcmp((const uint8_t *)a->buffers[1] + p * w, (const uint8_t *)b->buffers[1] + q * w,
                  w) == 0;
  }
  }
}

/* Rows [0, n) of batch b equal rows [start, start + n) of batch a. */
static int batch_eq(const cl_schema *sa, const struct ArrowArray *a, int64_t start,
                    const cl_schema *sb, const struct ArrowArray *b) {
  if (b->n_children != (int64_t)sa->n_fields)
    return 0;
  for (size_t c = 0; c < sa->n_fields; c++)
    for (int64_t r = 0; r < b->length; r++)
      if (!elem_eq(&sa->fields[c], a->children[c], a->offset + start + r, &sb->fields[c],
                   b->children[c], b->offset + r)) {
        fprintf(stderr, "  mismatch: column %s row %lld\n", sa->fields[c].name, (long long)r);
        return 0;
      }
  return 1;
}

static int meta_eq(const cl_meta *a, const cl_meta *b) {
  if (a->n != b->n)
    return 0;
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(a->items[i].key, b->items[i].key) || a->items[i].value_len != b->items[i].value_len ||
        memcmp(a->items[i].value, b->items[i].value, a->items[i].value_len))
      return 0;
  return 1;
}

static int schema_eq(const cl_schema *a, const cl_schema *b) {
  if (a->n_fields != b->n_fields || !meta_eq(&a->metadata, &b->metadata))
    return 0;
  for (size_t i = 0; i < a->n_fields; i++) {
    char why[256] = "";
    if (strcmp(a->fields[i].name, b->fields[i].name) || a->fields[i].nullable != b->fields[i].nullable ||
        !cl_field_same_type(&a->fields[i], &b->fields[i], why, sizeof why) ||
        !meta_eq(&a->fields[i].metadata, &b->fields[i].metadata)) {
      fprintf(stderr, "  field %zu (%s) differs: %s\n", i, a->fields[i].name, why);
      return 0;
    }
  }
  return 1;
}

/* Decoded view of a schema: dictionary fields become their value type. */
static void undict_field(cl_field *f) {
  if (f->type == CL_TYPE_DICTIONARY) {
    cl_field v = f->children[0];
    free(f->children);
    f->type = v.type;
    f->children = v.children;
    f->n_children = v.n_children;
    f->size = v.size;
    f->scale = v.scale;
    f->unit = v.unit;
    f->tz = v.tz;
    f->index_type = CL_TYPE_NULL;
    free(v.name);
    cl_meta_free(&v.metadata);
  }
  for (size_t i = 0; i < f->n_children; i++)
    undict_field(&f->children[i]);
}

/* ------------------------------------------------------------------------ */
/* Round trips                                                                */
/* ------------------------------------------------------------------------ */

/* Read everything back and compare with batches (each compared from row
 * starts[i], length of the read batch). */
static void check_read(const uint8_t *data, size_t len, const cl_schema *s,
                       const struct ArrowArray *batches, const int64_t *starts,
                       const int64_t *lens, size_t n, int decode) {
  clance_error err = {0};
  cl_ipc_read_options opt = {decode, 0, NULL, NULL};
  cl_ipc_reader *r;
  REQUIRE_OK(cl_ipc_reader_open_ex(data, len, "rt", &opt, &r, &err), &err);
  const cl_schema *rs = cl_ipc_reader_schema(r);
  cl_schema want;
  cl_schema_copy(s, &want, &err);
  if (decode)
    for (size_t i = 0; i < want.n_fields; i++)
      undict_field(&want.fields[i]);
  CHECK(schema_eq(&want, rs));
  cl_schema_free(&want);
  cl_field root = {.name = "batch", .type = CL_TYPE_STRUCT, .children = rs->fields,
                   .n_children = rs->n_fields};
  size_t got = 0;
  for (;;) {
    struct ArrowArray b;
    int done;
    clance_status st = cl_ipc_reader_next(r, &b, &done, &err);
    CHECK_OK(st, &err);
    if (st || done)
      break;
    CHECK_OK(cl_array_validate(&root, &b, "read", &err), &err);
    if (got < n) {
      CHECK_EQ_U64(b.length, lens[got]);
      CHECK(batch_eq(s, &batches[got], starts[got], rs, &b));
    }
    b.release(&b);
    got++;
  }
  CHECK_EQ_U64(got, n);
  cl_ipc_reader_free(r);
}

static void test_all_types_roundtrip(void) {
  cl_schema s;
  all_types_schema(&s);
  enum { NB = 4 };
  static const int64_t rows[NB] = {37, 0, 1, 200};
  struct ArrowArray b[NB];
  for (int i = 0; i < NB; i++)
    make_batch(&s, rows[i], (uint64_t)i + 1, &b[i]);
  clance_error err = {0};
  cl_field root = {.name = "batch", .type = CL_TYPE_STRUCT, .children = s.fields,
                   .n_children = s.n_fields};
  for (int i = 0; i < NB; i++)
    CHECK_OK(cl_array_validate(&root, &b[i], "input", &err), &err);
  int64_t starts[NB] = {0, 0, 0, 0};
  for (int file = 0; file <= 1; file++)
    for (int comp = 0; comp <= 2; comp++) {
      cl_buf out = CL_BUF_INIT;
      CHECK_OK(cl_ipc_write(&s, b, NB, file, comp, &out, &err), &err);
      check_read(out.data, out.len, &s, b, starts, rows, NB, 0);
      check_read(out.data, out.len, &s, b, starts, rows, NB, 1);
      cl_buf_free(&out);
    }
  for (int i = 0; i < NB; i++)
    b[i].release(&b[i]);
  cl_schema_free(&s);
}

/* A shallow view of `a` shifted by `off` rows (shares buffers; no-op release). */
static void noop_release(struct ArrowArray *a) { a->release = NULL; }

static struct ArrowArray view(const struct ArrowArray *a, int64_t off, int64_t len) {
  struct ArrowArray v = *a;
  v.offset = a->offset + off;
  v.length = len;
  v.release = noop_release;
  v.private_data = NULL;
  return v;
}

static void test_sliced_input(void) {
  cl_schema s;
  all_types_schema(&s);
  struct ArrowArray full;
  make_batch(&s, 150, 42, &full);
  clance_error err = {0};
  /* 1: the batch itself sliced (children untouched). */
  struct ArrowArray v1 = view(&full, 13, 101);
  /* 2: each column sliced by a different amount, batch not sliced. */
  struct ArrowArray cols[64], *ptrs[64];
  REQUIRE(s.n_fields <= 64);
  for (size_t c = 0; c < s.n_fields; c++) {
    cols[c] = view(full.children[c], (int64_t)(c % 9), 120);
    ptrs[c] = &cols[c];
  }
  struct ArrowArray v2 = full;
  v2.length = 120;
  v2.children = ptrs;
  v2.release = noop_release;
  for (int file = 0; file <= 1; file++)
    for (int comp = 0; comp <= 2; comp++) {
      cl_buf out = CL_BUF_INIT;
      CHECK_OK(cl_ipc_write(&s, &v1, 1, file, comp, &out, &err), &err);
      int64_t st1 = 0, len1 = 101;
      check_read(out.data, out.len, &s, &v1, &st1, &len1, 1, 0);
      check_read(out.data, out.len, &s, &v1, &st1, &len1, 1, 1);
      cl_buf_reset(&out);
      CHECK_OK(cl_ipc_write(&s, &v2, 1, file, comp, &out, &err), &err);
      int64_t len2 = 120;
      check_read(out.data, out.len, &s, &v2, &st1, &len2, 1, 0);
      cl_buf_free(&out);
    }
  full.release(&full);
  cl_schema_free(&s);
}

static void test_empty(void) {
  clance_error err = {0};
  cl_schema s;
  all_types_schema(&s);
  /* No batches at all, both formats. */
  for (int file = 0; file <= 1; file++) {
    cl_buf out = CL_BUF_INIT;
    CHECK_OK(cl_ipc_write(&s, NULL, 0, file, 1, &out, &err), &err);
    check_read(out.data, out.len, &s, NULL, NULL, NULL, 0, 0);
    cl_buf_free(&out);
  }
  cl_schema_free(&s);
  /* A schema without fields, with batches of some length. */
  cl_schema e;
  memset(&e, 0, sizeof e);
  struct ArrowArray b;
  CHECK_OK(cl_struct_array_export(5, NULL, 0, &b, &err), &err);
  for (int file = 0; file <= 1; file++) {
    cl_buf out = CL_BUF_INIT;
    CHECK_OK(cl_ipc_write(&e, &b, 1, file, 0, &out, &err), &err);
    int64_t st = 0, len = 5;
    check_read(out.data, out.len, &e, &b, &st, &len, 1, 0);
    cl_buf_free(&out);
  }
  b.release(&b);
}

/* One utf8 dictionary column whose dictionary is given per batch. */
static void dict_batch(const cl_schema *s, const char *const *dict_values, size_t nd,
                       const int32_t *idx, size_t n, struct ArrowArray *out) {
  clance_error err;
  cl_arr a;
  cl_arr_init(&a, &s->fields[0], &err);
  for (size_t i = 0; i < nd; i++) {
    cl_buf_append(&a.dictionary->values, dict_values[i], strlen(dict_values[i]), &err);
    cl_arr_push_offset(a.dictionary, a.dictionary->values.len, &err);
    cl_arr_append_valid(a.dictionary, 1, &err);
  }
  for (size_t i = 0; i < n; i++) {
    if (idx[i] < 0) {
      cl_arr_append_nulls(&a, 1, &err);
    } else {
      cl_buf_append_u32(&a.values, (uint32_t)idx[i], &err);
      cl_arr_append_valid(&a, 1, &err);
    }
  }
  struct ArrowArray col;
  cl_arr_export(&a, &col, &err);
  cl_arr_free(&a);
  cl_struct_array_export((int64_t)n, &col, 1, out, &err);
}

/* Count messages of each kind (and deltas) in a stream. */
static void count_messages(const uint8_t *d, size_t len, int *n_dict, int *n_delta, int *n_rb) {
  *n_dict = *n_delta = *n_rb = 0;
  size_t pos = 0;
  while (pos + 8 <= len) {
    uint32_t mlen = cl_le32(d + pos + 4);
    if (mlen == 0)
      break;
    fb_table msg, hdr;
    uint8_t type;
    int64_t body;
    if (fb_root(d + pos + 8, mlen, &msg) || fb_get_u8(&msg, MESSAGE_HEADER_TYPE, 0, &type) ||
        fb_get_table(&msg, MESSAGE_HEADER, &hdr) < 0 ||
        fb_get_i64(&msg, MESSAGE_BODY_LENGTH, 0, &body))
      break;
    if (type == IPC_HDR_DICTIONARY) {
      int delta;
      fb_get_bool(&hdr, DICTBATCH_DELTA, 0, &delta);
      (*n_dict)++;
      *n_delta += delta;
    }
    if (type == IPC_HDR_RECORD_BATCH)
      (*n_rb)++;
    pos += 8 + mlen + (size_t)body;
  }
}

static void test_dictionary_deltas(void) {
  clance_error err = {0};
  cl_schema s;
  memset(&s, 0, sizeof s);
  schema_add(&s, dict("d", CL_TYPE_INT32, fld("", CL_TYPE_UTF8)));
  static const char *d1[] = {"a", "b"}, *d2[] = {"a", "b", "c", "dd"}, *d3[] = {"x", "a"};
  static const int32_t i1[] = {0, 1, -1, 1}, i2[] = {3, 2, 0, -1, 1}, i3[] = {1, 0, 0};
  struct ArrowArray b[5];
  dict_batch(&s, d1, 2, i1, 4, &b[0]);
  dict_batch(&s, d1, 2, i1, 4, &b[1]);  /* same dictionary: nothing sent */
  dict_batch(&s, d2, 4, i2, 5, &b[2]);  /* extends: delta */
  dict_batch(&s, d3, 2, i3, 3, &b[3]);  /* changes: replacement (streams only) */
  dict_batch(&s, d3, 2, i3, 0, &b[4]);  /* empty batch */
  int64_t starts[5] = {0}, lens[5] = {4, 4, 5, 3, 0};
  for (int comp = 0; comp <= 2; comp++) {
    cl_buf out = CL_BUF_INIT;
    CHECK_OK(cl_ipc_write(&s, b, 5, 0, comp, &out, &err), &err);
    int nd, ndelta, nrb;
    count_messages(out.data, out.len, &nd, &ndelta, &nrb);
    CHECK_EQ_U64(nd, 3);
    CHECK_EQ_U64(ndelta, 1);
    CHECK_EQ_U64(nrb, 5);
    check_read(out.data, out.len, &s, b, starts, lens, 5, 0);
    check_read(out.data, out.len, &s, b, starts, lens, 5, 1);
    cl_buf_free(&out);
    /* Files accept the delta but not the replacement. */
    CHECK_OK(cl_ipc_write(&s, b, 3, 1, comp, &out, &err), &err);
    check_read(out.data, out.len, &s, b, starts, lens, 3, 0);
    check_read(out.data, out.len, &s, b, starts, lens, 3, 1);
    cl_buf_reset(&out);
    CHECK(cl_ipc_write(&s, b, 4, 1, comp, &out, &err) == CLANCE_EUNSUPPORTED);
    CHECK(strstr(err.message, "dictionary changes") != NULL);
    cl_buf_free(&out);
  }
  for (int i = 0; i < 5; i++)
    b[i].release(&b[i]);
  cl_schema_free(&s);
}

/* Re-frame a stream: legacy = old 4-byte length prefixes (pre-0.15 Arrow);
 * file = wrap into "ARROW1" + footer listing every dictionary and batch. */
static void reframe(const cl_buf *in, const cl_schema *s, int legacy, int file, cl_buf *out) {
  clance_error err;
  cl_buf dicts = CL_BUF_INIT, batches = CL_BUF_INIT;
  if (file)
    cl_buf_append(out, "ARROW1\0\0", 8, &err);
  size_t pos = 0;
  while (pos + 8 <= in->len) {
    uint32_t mlen = cl_le32(in->data + pos + 4);
    if (mlen == 0)
      break;
    fb_table msg, hdr;
    uint8_t type;
    int64_t body;
    fb_root(in->data + pos + 8, mlen, &msg);
    fb_get_u8(&msg, MESSAGE_HEADER_TYPE, 0, &type);
    fb_get_table(&msg, MESSAGE_HEADER, &hdr);
    fb_get_i64(&msg, MESSAGE_BODY_LENGTH, 0, &body);
    uint8_t block[IPC_BLOCK_SIZE] = {0};
    cl_put64(block, out->len);
    cl_put32(block + 8, mlen + (legacy ? 4 : 8));
    cl_put64(block + 16, (uint64_t)body);
    if (type == IPC_HDR_DICTIONARY)
      cl_buf_append(&dicts, block, sizeof block, &err);
    if (type == IPC_HDR_RECORD_BATCH)
      cl_buf_append(&batches, block, sizeof block, &err);
    if (legacy)
      cl_buf_append(out, in->data + pos + 4, 4 + mlen + (size_t)body, &err);
    else
      cl_buf_append(out, in->data + pos, 8 + mlen + (size_t)body, &err);
    pos += 8 + mlen + (size_t)body;
  }
  cl_buf_append_u64(out, legacy ? 0 : 0xFFFFFFFFull, &err); /* EOS */
  if (file) {
    fb_builder b;
    fb_init(&b);
    fb_ref sr;
    cl_ipc_schema_build(&b, s, &sr, &err);
    fb_ref dv = fb_vec_raw(&b, dicts.data, IPC_BLOCK_SIZE, dicts.len / IPC_BLOCK_SIZE, 8);
    fb_ref bv = fb_vec_raw(&b, batches.data, IPC_BLOCK_SIZE, batches.len / IPC_BLOCK_SIZE, 8);
    fb_start(&b);
    fb_add_i16(&b, FOOTER_VERSION, IPC_V5);
    fb_add_ref(&b, FOOTER_SCHEMA, sr);
    fb_add_ref(&b, FOOTER_DICTIONARIES, dv);
    fb_add_ref(&b, FOOTER_BATCHES, bv);
    fb_ref footer = fb_end(&b);
    const uint8_t *f;
    size_t flen;
    fb_finish(&b, footer, &f, &flen);
    cl_buf_append(out, f, flen, &err);
    cl_buf_append_u32(out, (uint32_t)flen, &err);
    cl_buf_append(out, "ARROW1", 6, &err);
    fb_free(&b);
  }
  cl_buf_free(&dicts);
  cl_buf_free(&batches);
}

static void test_legacy_and_hand_made_files(void) {
  clance_error err = {0};
  cl_schema s;
  all_types_schema(&s);
  struct ArrowArray b[2];
  make_batch(&s, 9, 3, &b[0]);
  make_batch(&s, 4, 4, &b[1]);
  int64_t starts[2] = {0, 0}, lens[2] = {9, 4};
  cl_buf stream = CL_BUF_INIT, x = CL_BUF_INIT;
  REQUIRE_OK(cl_ipc_write(&s, b, 2, 0, CL_IPC_COMPRESSION_LZ4, &stream, &err), &err);
  for (int legacy = 0; legacy <= 1; legacy++)
    for (int file = 0; file <= 1; file++) {
      cl_buf_reset(&x);
      reframe(&stream, &s, legacy, file, &x);
      check_read(x.data, x.len, &s, b, starts, lens, 2, 0);
      check_read(x.data, x.len, &s, b, starts, lens, 2, 1);
    }
  b[0].release(&b[0]);
  b[1].release(&b[1]);
  cl_schema_free(&s);
  /* A stream that replaces a dictionary is fine; as a file it is refused. */
  cl_schema ds;
  memset(&ds, 0, sizeof ds);
  schema_add(&ds, dict("d", CL_TYPE_INT32, fld("", CL_TYPE_UTF8)));
  static const char *d1[] = {"a", "b"}, *d2[] = {"c"};
  static const int32_t i1[] = {0, 1}, i2[] = {0};
  dict_batch(&ds, d1, 2, i1, 2, &b[0]);
  dict_batch(&ds, d2, 1, i2, 1, &b[1]);
  cl_buf_reset(&stream);
  REQUIRE_OK(cl_ipc_write(&ds, b, 2, 0, 0, &stream, &err), &err);
  int64_t lens2[2] = {2, 1};
  check_read(stream.data, stream.len, &ds, b, starts, lens2, 2, 0);
  cl_buf_reset(&x);
  reframe(&stream, &ds, 0, 1, &x);
  cl_ipc_reader *r;
  CHECK(cl_ipc_reader_open(x.data, x.len, "f", &r, &err) == CLANCE_ECORRUPT);
  CHECK(strstr(err.message, "replaced") != NULL);
  b[0].release(&b[0]);
  b[1].release(&b[1]);
  cl_schema_free(&ds);
  cl_buf_free(&stream);
  cl_buf_free(&x);
}

/* Decoding is capped: a few index bytes may stand for large values. */
static void test_decode_limit(void) {
  clance_error err = {0};
  cl_schema s;
  memset(&s, 0, sizeof s);
  schema_add(&s, dict("d", CL_TYPE_INT32, fld("", CL_TYPE_UTF8)));
  char big[1001];
  memset(big, 'x', 1000);
  big[1000] = 0;
  const char *values[] = {big};
  int32_t idx[100] = {0};
  struct ArrowArray b;
  dict_batch(&s, values, 1, idx, 100, &b);
  cl_buf out = CL_BUF_INIT;
  REQUIRE_OK(cl_ipc_write(&s, &b, 1, 0, CL_IPC_COMPRESSION_ZSTD, &out, &err), &err);
  CHECK(out.len < 2000);
  int64_t st = 0, len = 100;
  check_read(out.data, out.len, &s, &b, &st, &len, 1, 1); /* default cap: fine */
  cl_ipc_read_options opt = {1, 10000, NULL, NULL};
  cl_ipc_reader *r;
  REQUIRE_OK(cl_ipc_reader_open_ex(out.data, out.len, "cap", &opt, &r, &err), &err);
  struct ArrowArray a;
  int done;
  CHECK(cl_ipc_reader_next(r, &a, &done, &err) == CLANCE_EUNSUPPORTED);
  static const char want[] = "cap: column \"d\": decoding";
  CHECK(strncmp(err.message, want, sizeof want - 1) == 0);
  CHECK(strstr(err.message, "max_decoded_bytes") != NULL);
  cl_ipc_reader_free(r);
  /* Kept as a dictionary there is nothing to amplify. */
  opt.decode_dictionaries = 0;
  REQUIRE_OK(cl_ipc_reader_open_ex(out.data, out.len, "cap", &opt, &r, &err), &err);
  CHECK_OK(cl_ipc_reader_next(r, &a, &done, &err), &err);
  if (!done && a.release)
    a.release(&a);
  cl_ipc_reader_free(r);
  cl_buf_free(&out);
  b.release(&b);
  cl_schema_free(&s);
}

/* Lance deletion files: IPC file, one non-nullable uint32 "row_id", ZSTD. */
static void test_lance_deletion_shape(void) {
  clance_error err = {0};
  cl_schema s;
  memset(&s, 0, sizeof s);
  cl_field f = fld("row_id", CL_TYPE_UINT32);
  f.nullable = 0;
  schema_add(&s, f);
  for (int big = 0; big <= 1; big++) {
    int64_t n = big ? 5000 : 3;
    cl_arr a;
    cl_arr_init(&a, &s.fields[0], &err);
    for (int64_t i = 0; i < n; i++) {
      cl_buf_append_u32(&a.values, (uint32_t)(i * 3 + 1), &err);
      cl_arr_append_valid(&a, 1, &err);
    }
    struct ArrowArray col, batch;
    cl_arr_export(&a, &col, &err);
    cl_arr_free(&a);
    cl_struct_array_export(n, &col, 1, &batch, &err);
    cl_buf out = CL_BUF_INIT;
    CHECK_OK(cl_ipc_write(&s, &batch, 1, 1, CL_IPC_COMPRESSION_ZSTD, &out, &err), &err);
    /* Find the record batch body through the footer and look at the values
     * buffer's length prefix: -1 (stored) when small, the real length when
     * compressed. */
    uint32_t flen = cl_le32(out.data + out.len - 10);
    fb_table footer, msg, rb;
    fb_vec blocks, bufs;
    REQUIRE(fb_root(out.data + out.len - 10 - flen, flen, &footer) == 0);
    REQUIRE(fb_get_vec(&footer, FOOTER_BATCHES, IPC_BLOCK_SIZE, &blocks) == 1 && blocks.n == 1);
    uint64_t off = cl_le64(fb_vec_at(&blocks, 0));
    uint32_t mlen = cl_le32(fb_vec_at(&blocks, 0) + 8);
    REQUIRE(fb_root(out.data + off + 8, mlen - 8, &msg) == 0);
    REQUIRE(fb_get_table(&msg, MESSAGE_HEADER, &rb) == 1);
    REQUIRE(fb_get_vec(&rb, RB_BUFFERS, IPC_BUFFER_SIZE, &bufs) == 1 && bufs.n == 2);
    CHECK_EQ_U64(cl_le64(fb_vec_at(&bufs, 0) + 8), 0); /* no validity */
    uint64_t boff = cl_le64(fb_vec_at(&bufs, 1));
    int64_t prefix = (int64_t)cl_le64(out.data + off + mlen + boff);
    if (big)
      CHECK_EQ_U64(prefix, 4 * n);
    else
      CHECK(prefix == -1);
    int64_t st = 0;
    check_read(out.data, out.len, &s, &batch, &st, &n, 1, 0);
    batch.release(&batch);
    cl_buf_free(&out);
  }
  cl_schema_free(&s);
}

static void test_stream_api_and_fd(void) {
  clance_error err = {0};
  cl_schema s;
  all_types_schema(&s);
  struct ArrowArray b[2];
  make_batch(&s, 10, 5, &b[0]);
  make_batch(&s, 20, 6, &b[1]);
  char path[] = "/tmp/clance-ipc-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  cl_ipc_write_options opt = {0, CL_IPC_COMPRESSION_LZ4, 0};
  cl_ipc_writer *w;
  REQUIRE_OK(cl_ipc_writer_open(&s, &opt, cl_ipc_sink_fd, &fd, &w, &err), &err);
  CHECK_OK(cl_ipc_writer_write(w, &b[0], &err), &err);
  CHECK_OK(cl_ipc_writer_write(w, &b[1], &err), &err);
  CHECK_OK(cl_ipc_writer_finish(w, &err), &err);
  uint64_t nbytes = cl_ipc_writer_bytes(w);
  CHECK(cl_ipc_writer_write(w, &b[1], &err) == CLANCE_EINVAL);
  cl_ipc_writer_free(w);
  off_t size = lseek(fd, 0, SEEK_END);
  CHECK_EQ_U64(size, nbytes);
  uint8_t *data = malloc((size_t)size);
  REQUIRE(pread(fd, data, (size_t)size, 0) == size);
  close(fd);
  unlink(path);
  struct ArrowArrayStream stream;
  REQUIRE_OK(cl_ipc_read_stream(data, (size_t)size, "fd", &stream, &err), &err);
  free(data); /* the stream owns its batches */
  struct ArrowSchema as;
  REQUIRE(stream.get_schema(&stream, &as) == 0);
  as.release(&as);
  for (int i = 0;; i++) {
    struct ArrowArray a;
    REQUIRE(stream.get_next(&stream, &a) == 0);
    if (!a.release) {
      CHECK_EQ_U64(i, 2);
      break;
    }
    CHECK(i < 2 && batch_eq(&s, &b[i], 0, &s, &a));
    a.release(&a);
  }
  stream.release(&stream);
  /* A batch that does not match the schema is refused. */
  cl_schema one;
  memset(&one, 0, sizeof one);
  schema_add(&one, fld("x", CL_TYPE_INT32));
  cl_buf out = CL_BUF_INIT;
  CHECK(cl_ipc_write(&one, &b[0], 1, 0, 0, &out, &err) == CLANCE_EINVAL);
  cl_buf_free(&out);
  cl_schema_free(&one);
  for (int i = 0; i < 2; i++)
    b[i].release(&b[i]);
  cl_schema_free(&s);
}

/* Release the batches we get; batches that come out must validate. */
static clance_status read_all(const uint8_t *d, size_t n, int decode, clance_error *err) {
  cl_ipc_read_options opt = {decode, 0, NULL, NULL};
  cl_ipc_reader *r;
  CL_TRY(cl_ipc_reader_open_ex(d, n, "bad", &opt, &r, err));
  const cl_schema *s = cl_ipc_reader_schema(r);
  cl_field root = {.name = "batch", .type = CL_TYPE_STRUCT, .children = s->fields,
                   .n_children = s->n_fields};
  clance_status st;
  for (;;) {
    struct ArrowArray b;
    int done;
    if ((st = cl_ipc_reader_next(r, &b, &done, err)) || done)
      break;
    clance_error verr;
    clance_status vs = cl_array_validate(&root, &b, "b", &verr);
    if (vs && vs != CLANCE_ESCHEMA) {
      fprintf(stderr, "  invalid batch from reader: %s\n", verr.message);
      cl_test_failures++;
    }
    b.release(&b);
  }
  cl_ipc_reader_free(r);
  return st;
}

static int good_error(clance_status st, const clance_error *err) {
  if (st == CLANCE_OK)
    return 1;
  if (st != CLANCE_ECORRUPT && st != CLANCE_EUNSUPPORTED) {
    fprintf(stderr, "  unexpected status %s: %s\n", clance_status_name(st), err->message);
    return 0;
  }
  if (strncmp(err->message, "bad: ", 5) != 0) {
    fprintf(stderr, "  message without source: %s\n", err->message);
    return 0;
  }
  return 1;
}

static void small_file(cl_buf *out, int file, int comp) {
  clance_error err;
  cl_schema s;
  memset(&s, 0, sizeof s);
  schema_add(&s, fld("s", CL_TYPE_UTF8));
  schema_add(&s, nest("l", CL_TYPE_LIST, 0, 1, fld("item", CL_TYPE_INT16)));
  schema_add(&s, dict("d", CL_TYPE_INT8, fld("", CL_TYPE_UTF8)));
  schema_add(&s, fld("b", CL_TYPE_BOOL));
  struct ArrowArray b[2];
  make_batch(&s, 6, 1, &b[0]);
  make_batch(&s, 3, 2, &b[1]);
  cl_ipc_write(&s, b, 2, file, comp, out, &err);
  b[0].release(&b[0]);
  b[1].release(&b[1]);
  cl_schema_free(&s);
}

static void test_truncation_and_flips(void) {
  for (int file = 0; file <= 1; file++)
    for (int comp = 0; comp <= 2; comp++) {
      cl_buf good = CL_BUF_INIT;
      small_file(&good, file, comp);
      clance_error err;
      CHECK_OK(read_all(good.data, good.len, 0, &err), &err);
      uint8_t *copy = malloc(good.len);
      int ok_truncations = 0;
      for (size_t n = 0; n < good.len; n++) {
        memcpy(copy, good.data, n);
        /* exact-size heap block so ASan catches any over-read */
        uint8_t *t = malloc(n ? n : 1);
        memcpy(t, good.data, n);
        clance_status st = read_all(t, n, n & 1, &err);
        CHECK(good_error(st, &err));
        ok_truncations += st == CLANCE_OK;
        free(t);
      }
      /* A file needs its footer; a stream cut at a message boundary is fine. */
      if (file)
        CHECK_EQ_U64(ok_truncations, 0);
      static const uint8_t vals[] = {0x00, 0xFF, 0x80, 0x7F, 0x01};
      for (size_t i = 0; i < good.len; i++)
        for (size_t v = 0; v < sizeof vals; v++) {
          memcpy(copy, good.data, good.len);
          if (copy[i] == vals[v])
            continue;
          copy[i] = vals[v];
          clance_status st = read_all(copy, good.len, (int)(i + v) & 1, &err);
          CHECK(good_error(st, &err));
        }
      free(copy);
      cl_buf_free(&good);
    }
}

/* ------------------------------------------------------------------------ */
/* Hand-made messages                                                         */
/* ------------------------------------------------------------------------ */

static void put_msg(cl_buf *out, fb_builder *b, fb_ref msg, const void *body, size_t body_len) {
  const uint8_t *m;
  size_t mlen;
  clance_error err;
  if (fb_finish(b, msg, &m, &mlen))
    abort();
  size_t padded = (mlen + 7) & ~(size_t)7;
  cl_buf_append_u32(out, 0xFFFFFFFFu, &err);
  cl_buf_append_u32(out, (uint32_t)padded, &err);
  cl_buf_append(out, m, mlen, &err);
  cl_buf_fill(out, 0, padded - mlen, &err);
  cl_buf_append(out, body, body_len, &err);
  fb_reset(b);
}

static fb_ref msg_table(fb_builder *b, int16_t version, uint8_t type, fb_ref hdr, int64_t blen) {
  fb_start(b);
  fb_add_i16(b, MESSAGE_VERSION, version);
  fb_add_u8(b, MESSAGE_HEADER_TYPE, type);
  fb_add_ref(b, MESSAGE_HEADER, hdr);
  fb_add_i64(b, MESSAGE_BODY_LENGTH, blen);
  return fb_end(b);
}

static void put_schema(cl_buf *out, const cl_schema *s) {
  fb_builder b;
  fb_init(&b);
  fb_ref sr;
  clance_error err;
  if (cl_ipc_schema_build(&b, s, &sr, &err))
    abort();
  put_msg(out, &b, msg_table(&b, IPC_V5, IPC_HDR_SCHEMA, sr, 0), NULL, 0);
  fb_free(&b);
}

/* A record batch (or dictionary batch when dict_id >= 0) with explicit nodes
 * {len, nulls}..., buffers {off, len}... and body. */
static void put_batch(cl_buf *out, int64_t length, const int64_t *nodes, size_t nn,
                      const int64_t *bufs, size_t nb, const void *body, size_t body_len,
                      int codec, int64_t dict_id, int delta) {
  fb_builder b;
  fb_init(&b);
  uint8_t raw[16 * 64];
  for (size_t i = 0; i < 2 * nn; i++)
    cl_put64(raw + 8 * i, (uint64_t)nodes[i]);
  fb_ref nv = fb_vec_raw(&b, raw, 16, nn, 8);
  for (size_t i = 0; i < 2 * nb; i++)
    cl_put64(raw + 8 * i, (uint64_t)bufs[i]);
  fb_ref bv = fb_vec_raw(&b, raw, 16, nb, 8);
  fb_ref comp = 0;
  if (codec >= 0) {
    fb_start(&b);
    fb_add_u8(&b, COMPRESSION_CODEC, (uint8_t)codec);
    comp = fb_end(&b);
  }
  fb_start(&b);
  fb_add_i64(&b, RB_LENGTH, length);
  fb_add_ref(&b, RB_NODES, nv);
  fb_add_ref(&b, RB_BUFFERS, bv);
  if (comp)
    fb_add_ref(&b, RB_COMPRESSION, comp);
  fb_ref rb = fb_end(&b);
  uint8_t type = IPC_HDR_RECORD_BATCH;
  if (dict_id >= 0) {
    fb_start(&b);
    fb_add_i64(&b, DICTBATCH_ID, dict_id);
    fb_add_ref(&b, DICTBATCH_DATA, rb);
    fb_add_u8(&b, DICTBATCH_DELTA, (uint8_t)delta);
    rb = fb_end(&b);
    type = IPC_HDR_DICTIONARY;
  }
  put_msg(out, &b, msg_table(&b, IPC_V5, type, rb, (int64_t)body_len), body, body_len);
  fb_free(&b);
}

static clance_status read_stream_bytes(const cl_buf *b, clance_error *err) {
  /* exact-size copy for ASan */
  uint8_t *d = malloc(b->len ? b->len : 1);
  memcpy(d, b->data, b->len);
  clance_status st = read_all(d, b->len, 0, err);
  if (st == CLANCE_OK)
    st = read_all(d, b->len, 1, err);
  free(d);
  return st;
}

#define EXPECT(buf, code, text)                                                     \
  do {                                                                              \
    clance_error e_ = {0};                                                          \
    clance_status s_ = read_stream_bytes(buf, &e_);                                 \
    if (s_ != (code) || !strstr(e_.message, text)) {                                \
      fprintf(stderr, "%s:%d: got %s \"%s\", want %s \"%s\"\n", __FILE__, __LINE__,  \
              clance_status_name(s_), e_.message, clance_status_name(code), text);  \
      cl_test_failures++;                                                           \
    }                                                                               \
  } while (0)

static void test_handmade_corruption(void) {
  cl_schema s;
  memset(&s, 0, sizeof s);
  schema_add(&s, fld("s", CL_TYPE_UTF8));
  /* utf8 ["ab", null, "c"]: validity 0b101, offsets 0 2 2 3, data "abc" */
  uint8_t body[48] = {0};
  body[0] = 0x05;
  int32_t offs[4] = {0, 2, 2, 3};
  memcpy(body + 8, offs, 16);
  memcpy(body + 24, "abc", 3);
  int64_t nodes[2] = {3, 1};
  int64_t bufs[6] = {0, 1, 8, 16, 24, 3};
  cl_buf b = CL_BUF_INIT;

  /* The good one. */
  put_schema(&b, &s);
  put_batch(&b, 3, nodes, 1, bufs, 3, body, 32, -1, -1, 0);
  EXPECT(&b, CLANCE_OK, "");

  /* Buffer beyond the body. */
  int64_t bad_bufs[6] = {0, 1, 8, 16, 24, 30};
  cl_buf_reset(&b);
  put_schema(&b, &s);
  put_batch(&b, 3, nodes, 1, bad_bufs, 3, body, 32, -1, -1, 0);
  EXPECT(&b, CLANCE_ECORRUPT, "outside the body");

  /* Huge buffer offset (negative as int64). */
  int64_t neg_bufs[6] = {0, 1, INT64_MIN + 5, 16, 24, 3};
  cl_buf_reset(&b);
  put_schema(&b, &s);
  put_batch(&b, 3, nodes, 1, neg_bufs, 3, body, 32, -1, -1, 0);
  EXPECT(&b, CLANCE_ECORRUPT, "outside the body");

  /* Offsets buffer too short for the node length. */
  int64_t long_nodes[2] = {30, 1};
  cl_buf_reset(&b);
  put_schema(&b, &s);
  put_batch(&b, 30, long_nodes, 1, bufs, 3, body, 32, -1, -1, 0);
  EXPECT(&b, CLANCE_ECORRUPT, "needs");

  /* Null count larger than the length, negative length. */
  int64_t bad_nodes[2] = {3, 4};
  cl_buf_reset(&b);
  put_schema(&b, &s);
  put_batch(&b, 3, bad_nodes, 1, bufs, 3, body, 32, -1, -1, 0);
  EXPECT(&b, CLANCE_ECORRUPT, "null count");
  int64_t neg_nodes[2] = {-3, 0};
  cl_buf_reset(&b);
  put_schema(&b, &s);
  put_batch(&b, 3, neg_nodes, 1, bufs, 3, body, 32, -1, -1, 0);
  EXPECT(&b, CLANCE_ECORRUPT, "bad length");

  /* Length mismatch between batch and column. */
  cl_buf_reset(&b);
  put_schema(&b, &s);
  put_batch(&b, 2, nodes, 1, bufs, 3, body, 32, -1, -1, 0);
  EXPECT(&b, CLANCE_ECORRUPT, "rows");

  /* Too few buffers / too many nodes. */
  cl_buf_reset(&b);
  put_schema(&b, &s);
  put_batch(&b, 3, nodes, 1, bufs, 2, body, 32, -1, -1, 0);
  EXPECT(&b, CLANCE_ECORRUPT, "fewer buffers");
  int64_t two_nodes[4] = {3, 1, 3, 1};
  cl_buf_reset(&b);
  put_schema(&b, &s);
  put_batch(&b, 3, two_nodes, 2, bufs, 3, body, 32, -1, -1, 0);
  EXPECT(&b, CLANCE_ECORRUPT, "field nodes");

  /* Decreasing offsets, offsets past the data. */
  uint8_t body2[48];
  memcpy(body2, body, sizeof body2);
  int32_t dec[4] = {0, 2, 1, 3};
  memcpy(body2 + 8, dec, 16);
  cl_buf_reset(&b);
  put_schema(&b, &s);
  put_batch(&b, 3, nodes, 1, bufs, 3, body2, 32, -1, -1, 0);
  EXPECT(&b, CLANCE_ECORRUPT, "decrease");
  int32_t past[4] = {0, 2, 2, 9};
  memcpy(body2 + 8, past, 16);
  cl_buf_reset(&b);
  put_schema(&b, &s);
  put_batch(&b, 3, nodes, 1, bufs, 3, body2, 32, -1, -1, 0);
  EXPECT(&b, CLANCE_ECORRUPT, "needs 9");
  int32_t negative[4] = {-1, 2, 2, 3};
  memcpy(body2 + 8, negative, 16);
  cl_buf_reset(&b);
  put_schema(&b, &s);
  put_batch(&b, 3, nodes, 1, bufs, 3, body2, 32, -1, -1, 0);
  EXPECT(&b, CLANCE_ECORRUPT, "negative");

  /* Compressed buffers: good, then wrong declared sizes and bad frames. */
  {
    cl_buf cb = CL_BUF_INIT;
    clance_error err;
    size_t written;
    uint8_t raw[16];
    memcpy(raw, offs, 16);
    cl_buf_append_u64(&cb, 0, &err); /* validity: stored raw (-1) */
    cb.data[0] = 0xFF, cb.data[1] = 0xFF, cb.data[2] = 0xFF, cb.data[3] = 0xFF;
    cb.data[4] = 0xFF, cb.data[5] = 0xFF, cb.data[6] = 0xFF, cb.data[7] = 0xFF;
    cl_buf_append(&cb, "\x05", 1, &err);
    cl_buf_pad(&cb, 8, 0, &err);
    size_t off1 = cb.len;
    cl_buf_append_u64(&cb, 16, &err);
    cl_ipc_compress(IPC_CODEC_ZSTD, 1, raw, 16, &cb, &written, &err);
    size_t len1 = cb.len - off1;
    cl_buf_pad(&cb, 8, 0, &err);
    size_t off2 = cb.len;
    cl_buf_append_u64(&cb, UINT64_MAX, &err);
    cl_buf_append(&cb, "abc", 3, &err);
    size_t len2 = cb.len - off2;
    cl_buf_pad(&cb, 8, 0, &err);
    int64_t cbufs[6] = {0, 9, (int64_t)off1, (int64_t)len1, (int64_t)off2, (int64_t)len2};
    cl_buf_reset(&b);
    put_schema(&b, &s);
    put_batch(&b, 3, nodes, 1, cbufs, 3, cb.data, cb.len, IPC_CODEC_ZSTD, -1, 0);
    EXPECT(&b, CLANCE_OK, "");
    /* declared 20 bytes, frame holds 16 */
    cl_put64(cb.data + off1, 20);
    cl_buf_reset(&b);
    put_schema(&b, &s);
    put_batch(&b, 3, nodes, 1, cbufs, 3, cb.data, cb.len, IPC_CODEC_ZSTD, -1, 0);
    EXPECT(&b, CLANCE_ECORRUPT, "ZSTD");
    /* declared 12 bytes: needs 16 */
    cl_put64(cb.data + off1, 12);
    cl_buf_reset(&b);
    put_schema(&b, &s);
    put_batch(&b, 3, nodes, 1, cbufs, 3, cb.data, cb.len, IPC_CODEC_ZSTD, -1, 0);
    EXPECT(&b, CLANCE_ECORRUPT, "needs 16");
    /* absurd declared size */
    cl_put64(cb.data + off1, (uint64_t)1 << 60);
    cl_buf_reset(&b);
    put_schema(&b, &s);
    put_batch(&b, 3, nodes, 1, cbufs, 3, cb.data, cb.len, IPC_CODEC_ZSTD, -1, 0);
    EXPECT(&b, CLANCE_ECORRUPT, "impossible uncompressed length");
    /* -2 */
    cl_put64(cb.data + off1, (uint64_t)-2);
    cl_buf_reset(&b);
    put_schema(&b, &s);
    put_batch(&b, 3, nodes, 1, cbufs, 3, cb.data, cb.len, IPC_CODEC_ZSTD, -1, 0);
    EXPECT(&b, CLANCE_ECORRUPT, "impossible uncompressed length");
    /* the ZSTD frame read as LZ4 */
    cl_put64(cb.data + off1, 16);
    cl_buf_reset(&b);
    put_schema(&b, &s);
    put_batch(&b, 3, nodes, 1, cbufs, 3, cb.data, cb.len, IPC_CODEC_LZ4_FRAME, -1, 0);
    EXPECT(&b, CLANCE_ECORRUPT, "LZ4");
    /* buffer shorter than its prefix */
    cbufs[3] = 5;
    cl_buf_reset(&b);
    put_schema(&b, &s);
    put_batch(&b, 3, nodes, 1, cbufs, 3, cb.data, cb.len, IPC_CODEC_ZSTD, -1, 0);
    EXPECT(&b, CLANCE_ECORRUPT, "length prefix");
    /* unknown codec */
    cbufs[3] = (int64_t)len1;
    cl_buf_reset(&b);
    put_schema(&b, &s);
    put_batch(&b, 3, nodes, 1, cbufs, 3, cb.data, cb.len, 7, -1, 0);
    EXPECT(&b, CLANCE_EUNSUPPORTED, "codec");
    cl_buf_free(&cb);
  }

  /* Dictionaries: index out of range, never sent, unknown id. */
  {
    cl_schema ds;
    memset(&ds, 0, sizeof ds);
    schema_add(&ds, dict("d", CL_TYPE_INT32, fld("", CL_TYPE_UTF8)));
    int64_t dnodes[2] = {3, 0};
    int64_t dbufs[6] = {0, 0, 8, 16, 24, 3};
    uint8_t dbody[32] = {0};
    memcpy(dbody + 8, offs, 16);
    memcpy(dbody + 24, "abc", 3);
    int32_t idx[4] = {0, 2, 1, 0};
    int64_t inodes[2] = {4, 0}, ibufs[4] = {0, 0, 0, 16};
    cl_buf_reset(&b);
    put_schema(&b, &ds);
    put_batch(&b, 3, dnodes, 1, dbufs, 3, dbody, 32, -1, 0, 0);
    put_batch(&b, 4, inodes, 1, ibufs, 2, idx, 16, -1, -1, 0);
    EXPECT(&b, CLANCE_OK, "");
    idx[2] = 3;
    cl_buf_reset(&b);
    put_schema(&b, &ds);
    put_batch(&b, 3, dnodes, 1, dbufs, 3, dbody, 32, -1, 0, 0);
    put_batch(&b, 4, inodes, 1, ibufs, 2, idx, 16, -1, -1, 0);
    EXPECT(&b, CLANCE_ECORRUPT, "outside the dictionary");
    idx[2] = -1;
    cl_buf_reset(&b);
    put_schema(&b, &ds);
    put_batch(&b, 3, dnodes, 1, dbufs, 3, dbody, 32, -1, 0, 0);
    put_batch(&b, 4, inodes, 1, ibufs, 2, idx, 16, -1, -1, 0);
    EXPECT(&b, CLANCE_ECORRUPT, "outside the dictionary");
    idx[2] = 1;
    cl_buf_reset(&b);
    put_schema(&b, &ds);
    put_batch(&b, 4, inodes, 1, ibufs, 2, idx, 16, -1, -1, 0);
    EXPECT(&b, CLANCE_ECORRUPT, "never sent");
    /* An empty batch needs no dictionary (an empty one is made up). */
    int64_t znodes[2] = {0, 0}, zbufs[4] = {0, 0, 0, 0};
    cl_buf_reset(&b);
    put_schema(&b, &ds);
    put_batch(&b, 0, znodes, 1, zbufs, 2, NULL, 0, -1, -1, 0);
    EXPECT(&b, CLANCE_OK, "");
    cl_buf_reset(&b);
    put_schema(&b, &ds);
    put_batch(&b, 3, dnodes, 1, dbufs, 3, dbody, 32, -1, 5, 0);
    EXPECT(&b, CLANCE_ECORRUPT, "unknown dictionary id");
    /* Delta then indices into the grown dictionary. */
    idx[2] = 5;
    cl_buf_reset(&b);
    put_schema(&b, &ds);
    put_batch(&b, 3, dnodes, 1, dbufs, 3, dbody, 32, -1, 0, 0);
    put_batch(&b, 3, dnodes, 1, dbufs, 3, dbody, 32, -1, 0, 1);
    put_batch(&b, 4, inodes, 1, ibufs, 2, idx, 16, -1, -1, 0);
    EXPECT(&b, CLANCE_OK, "");
    cl_schema_free(&ds);
  }

  /* Schema-level refusals. */
  {
    /* big-endian */
    fb_builder fb;
    fb_init(&fb);
    fb_ref fields = fb_vec_refs(&fb, NULL, 0);
    fb_start(&fb);
    fb_add_i16(&fb, SCHEMA_ENDIANNESS, 1);
    fb_add_ref(&fb, SCHEMA_FIELDS, fields);
    fb_ref sch = fb_end(&fb);
    cl_buf_reset(&b);
    put_msg(&b, &fb, msg_table(&fb, IPC_V5, IPC_HDR_SCHEMA, sch, 0), NULL, 0);
    EXPECT(&b, CLANCE_EUNSUPPORTED, "big-endian");
    /* a Union field */
    fb_ref name = fb_string(&fb, "u", 1);
    fb_start(&fb);
    fb_ref ut = fb_end(&fb);
    fb_ref kids = fb_vec_refs(&fb, NULL, 0);
    fb_start(&fb);
    fb_add_ref(&fb, FIELD_NAME, name);
    fb_add_u8(&fb, FIELD_TYPE_TYPE, IPC_T_UNION);
    fb_add_ref(&fb, FIELD_TYPE, ut);
    fb_add_ref(&fb, FIELD_CHILDREN, kids);
    fb_ref field = fb_end(&fb);
    fields = fb_vec_refs(&fb, &field, 1);
    fb_start(&fb);
    fb_add_ref(&fb, SCHEMA_FIELDS, fields);
    sch = fb_end(&fb);
    cl_buf_reset(&b);
    put_msg(&b, &fb, msg_table(&fb, IPC_V5, IPC_HDR_SCHEMA, sch, 0), NULL, 0);
    EXPECT(&b, CLANCE_EUNSUPPORTED, "Union");
    /* old metadata version */
    fields = fb_vec_refs(&fb, NULL, 0);
    fb_start(&fb);
    fb_add_ref(&fb, SCHEMA_FIELDS, fields);
    sch = fb_end(&fb);
    cl_buf_reset(&b);
    put_msg(&b, &fb, msg_table(&fb, 2, IPC_HDR_SCHEMA, sch, 0), NULL, 0);
    EXPECT(&b, CLANCE_EUNSUPPORTED, "version");
    fb_free(&fb);
    /* nesting deeper than the limit */
    cl_field deep = fld("leaf", CL_TYPE_INT32);
    for (int i = 0; i < CL_IPC_MAX_DEPTH + 2; i++)
      deep = nest("l", CL_TYPE_LIST, 0, 1, deep);
    cl_schema dsch;
    memset(&dsch, 0, sizeof dsch);
    schema_add(&dsch, deep);
    cl_buf o = CL_BUF_INIT;
    clance_error err;
    CHECK(cl_ipc_write(&dsch, NULL, 0, 0, 0, &o, &err) == CLANCE_EUNSUPPORTED);
    cl_buf_free(&o);
    cl_schema_free(&dsch);
  }

  /* Bad flatbuffer offsets: root offset, vtable offset, vector length. */
  {
    cl_buf_reset(&b);
    put_schema(&b, &s);
    size_t n = b.len;
    uint8_t *copy = malloc(n);
    for (size_t i = 8; i < n; i++) {
      memcpy(copy, b.data, n);
      copy[i] ^= 0x40;
      cl_buf tmp = {copy, n, n};
      clance_error e = {0};
      clance_status st = read_stream_bytes(&tmp, &e);
      CHECK(good_error(st, &e));
    }
    memcpy(copy, b.data, n);
    cl_put32(copy + 8, 0x7FFFFFF0u); /* root offset */
    cl_buf tmp = {copy, n, n};
    EXPECT(&tmp, CLANCE_ECORRUPT, "malformed metadata");
    memcpy(copy, b.data, n);
    cl_put32(copy + 4, 0x7FFFFFF0u); /* metadata length */
    EXPECT(&tmp, CLANCE_ECORRUPT, "exceeds the input");
    free(copy);
  }

  /* Files: bad magic, bad footer length. */
  {
    cl_buf f = CL_BUF_INIT;
    small_file(&f, 1, 0);
    clance_error e;
    f.data[f.len - 1] = 'X';
    CHECK(read_stream_bytes(&f, &e) == CLANCE_ECORRUPT && strstr(e.message, "ARROW1"));
    f.data[f.len - 1] = '1';
    cl_put32(f.data + f.len - 10, 0x7FFFFFFF);
    CHECK(read_stream_bytes(&f, &e) == CLANCE_ECORRUPT && strstr(e.message, "footer length"));
    cl_buf_free(&f);
  }
  cl_buf_free(&b);
  cl_schema_free(&s);
}

/* Lazy streams over IPC bytes (cl_ipc_stream_open_*): zero-copy batches that
 * point into the input and outlive the stream, files read through a mapping,
 * and clear errors for truncated, empty, missing and foreign input. */
static int points_into(const struct ArrowArray *a, const uint8_t *lo, size_t n) {
  for (int64_t i = 0; i < a->n_buffers; i++) {
    const uint8_t *p = a->buffers[i];
    if (p && p >= lo && p < lo + n)
      return 1;
  }
  for (int64_t i = 0; i < a->n_children; i++)
    if (points_into(a->children[i], lo, n))
      return 1;
  return 0;
}

static void test_zero_copy_streams(void) {
  clance_error err = {0};
  cl_schema s;
  all_types_schema(&s);
  struct ArrowArray b[2];
  make_batch(&s, 50, 3, &b[0]);
  make_batch(&s, 7, 4, &b[1]);
  for (int file = 0; file <= 1; file++) {
    cl_buf out = CL_BUF_INIT;
    REQUIRE_OK(cl_ipc_write(&s, b, 2, file, 0, &out, &err), &err);
    /* in memory, shared: buffers point into the input, batches outlive the stream */
    struct ArrowArrayStream st;
    REQUIRE_OK(cl_ipc_stream_open_mem(out.data, out.len, "mem", 1, NULL, &st, &err), &err);
    struct ArrowArray got[2];
    for (int i = 0; i < 2; i++) {
      REQUIRE(st.get_next(&st, &got[i]) == 0 && got[i].release);
      CHECK(batch_eq(&s, &b[i], 0, &s, &got[i]));
    }
    CHECK(points_into(&got[0], out.data, out.len));
    struct ArrowArray end;
    CHECK(st.get_next(&st, &end) == 0 && !end.release);
    st.release(&st);
    for (int i = 0; i < 2; i++) {
      CHECK(batch_eq(&s, &b[i], 0, &s, &got[i]));
      got[i].release(&got[i]);
    }
    /* not shared: copies */
    REQUIRE_OK(cl_ipc_stream_open_mem(out.data, out.len, "mem", 0, NULL, &st, &err), &err);
    REQUIRE(st.get_next(&st, &got[0]) == 0 && got[0].release);
    CHECK(!points_into(&got[0], out.data, out.len));
    got[0].release(&got[0]);
    st.release(&st);
    /* from a file (mapped); the batch outlives the stream */
    char path[] = "/tmp/clance-ipc0-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, out.data, out.len) == (ssize_t)out.len);
    close(fd);
    REQUIRE_OK(clance_ipc_stream_open(path, 0, &st, &err), &err);
    struct ArrowSchema as;
    REQUIRE(st.get_schema(&st, &as) == 0);
    as.release(&as);
    REQUIRE(st.get_next(&st, &got[0]) == 0 && got[0].release);
    REQUIRE(st.get_next(&st, &got[1]) == 0 && got[1].release);
    st.release(&st);
    for (int i = 0; i < 2; i++) {
      CHECK(batch_eq(&s, &b[i], 0, &s, &got[i]));
      got[i].release(&got[i]);
    }
    /* every truncation fails cleanly, naming the input */
    size_t step = out.len / 97 + 1;
    for (size_t n = 0; n < out.len; n += step) {
      clance_status rc = cl_ipc_stream_open_mem(out.data, n, "cut", 1, NULL, &st, &err);
      if (rc) {
        CHECK(rc == CLANCE_ECORRUPT && !strncmp(err.message, "cut: ", 5));
        continue;
      }
      int e = 0;
      for (;;) {
        struct ArrowArray a;
        if ((e = st.get_next(&st, &a)) != 0 || !a.release)
          break;
        a.release(&a);
      }
      /* a stream cut right after a whole message reads as a shorter stream */
      if (e) {
        const char *m = st.get_last_error(&st);
        CHECK(m && !strncmp(m, "cut: ", 5));
        CHECK(cl_errno_to_status(e) == CLANCE_ECORRUPT);
      } else {
        CHECK(!file);
      }
      st.release(&st);
    }
    unlink(path);
    cl_buf_free(&out);
  }
  for (int i = 0; i < 2; i++)
    b[i].release(&b[i]);
  cl_schema_free(&s);
  /* missing, empty and foreign inputs */
  struct ArrowArrayStream st;
  clance_status rc = clance_ipc_stream_open("/nonexistent/x.arrow", 0, &st, &err);
  CHECK(rc != CLANCE_OK && strstr(err.message, "/nonexistent/x.arrow"));
  char path[] = "/tmp/clance-ipc1-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  rc = clance_ipc_stream_open_fd(fd, 0, &st, &err);
  CHECK(rc == CLANCE_ECORRUPT && strstr(err.message, "empty Arrow IPC stream"));
  REQUIRE(write(fd, "PAR1 not arrow", 14) == 14);
  close(fd);
  rc = clance_ipc_stream_open(path, 0, &st, &err);
  CHECK(rc == CLANCE_ECORRUPT && strstr(err.message, path));
  unlink(path);
}

/* The offsets check that the IPC reader and cl_array_validate share: the
 * first bad position, in either width, inside and past a block. */
static void test_offsets_check(void) {
  int32_t a[9000];
  int64_t b[9000];
  for (int i = 0; i < 9000; i++) {
    a[i] = i / 3;
    b[i] = (int64_t)i * 5;
  }
  CHECK(cl_offsets_first_bad(a, 0, 8999) == -1);
  CHECK(cl_offsets_first_bad(b, 1, 8999) == -1);
  CHECK(cl_offsets_first_bad(a, 0, 0) == -1);
  a[4097] = 0;
  b[5000] = b[4999] - 1;
  CHECK(cl_offsets_first_bad(a, 0, 8999) == 4097);
  CHECK(cl_offsets_first_bad(a, 0, 4096) == -1); /* the bad one lies past n */
  CHECK(cl_offsets_first_bad(b, 1, 8999) == 5000);
  a[0] = -1;
  CHECK(cl_offsets_first_bad(a, 0, 8999) == 0);
  /* validation reports the position relative to the array's offset */
  cl_field f;
  memset(&f, 0, sizeof f);
  f.name = (char *)"s";
  f.type = CL_TYPE_UTF8;
  f.nullable = 1;
  int32_t offs[] = {0, 2, 4, 6, 5, 8};
  const void *bufs[3] = {NULL, offs, "abcdefgh"};
  struct ArrowArray arr;
  memset(&arr, 0, sizeof arr);
  arr.length = 3;
  arr.offset = 2;
  arr.n_buffers = 3;
  arr.buffers = bufs;
  arr.release = (void (*)(struct ArrowArray *))(void *)free; /* never called */
  clance_error err;
  CHECK(cl_array_validate(&f, &arr, "s", &err) == CLANCE_EINVAL);
  CHECK(strstr(err.message, "decreasing at 2") != NULL);
  arr.length = 1;
  CHECK(cl_array_validate(&f, &arr, "s", &err) == CLANCE_OK);
}

int main(void) {
  RUN(test_offsets_check);
  RUN(test_all_types_roundtrip);
  RUN(test_sliced_input);
  RUN(test_empty);
  RUN(test_dictionary_deltas);
  RUN(test_legacy_and_hand_made_files);
  RUN(test_decode_limit);
  RUN(test_lance_deletion_shape);
  RUN(test_stream_api_and_fd);
  RUN(test_handmade_corruption);
  RUN(test_truncation_and_flips);
  RUN(test_zero_copy_streams);
  TEST_MAIN_END();
}
