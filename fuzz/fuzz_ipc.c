/* Fuzz the Arrow IPC reader. Any input must either fail with ECORRUPT,
 * EUNSUPPORTED or ENOMEM and a message naming the source, or yield batches
 * that pass cl_array_validate; batches read in full are written back as a
 * stream, which must read again with the same row counts.
 *
 * The first byte picks a mode: raw bytes, or one of several valid IPC
 * files/streams (built once with our writer, with dictionaries, nesting and
 * compression) mutated by (position, value) pairs taken from the rest of the
 * input, so that even the standalone driver's random inputs reach deep into
 * the reader. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/array.h"
#include "arrow/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_SEEDS 6
static cl_buf seeds[N_SEEDS];
static int seeded;

static cl_field mk(const char *name, cl_type_id t, size_t n, cl_field *kids) {
  cl_field f;
  memset(&f, 0, sizeof f);
  f.name = strdup(name);
  f.type = t;
  f.nullable = 1;
  f.id = -1;
  if (n) {
    f.children = calloc(n, sizeof *kids);
    memcpy(f.children, kids, n * sizeof *kids);
    f.n_children = n;
  }
  return f;
}

static void append_value(cl_arr *a, uint32_t k, clance_error *err) {
  if (k % 5 == 3) {
    cl_arr_append_nulls(a, 1, err);
    return;
  }
  switch (a->field->type) {
  case CL_TYPE_UTF8: {
    char s[16];
    int n = (int)(k % 4);
    memset(s, 'a' + (int)(k % 26), (size_t)n);
    cl_buf_append(&a->values, s, (size_t)n, err);
    cl_arr_push_offset(a, a->values.len, err);
    break;
  }
  case CL_TYPE_LIST: {
    for (uint32_t i = 0; i < k % 3; i++)
      append_value(&a->children[0], k + i, err);
    cl_arr_push_offset(a, (uint64_t)a->children[0].length, err);
    break;
  }
  case CL_TYPE_FIXED_SIZE_LIST:
    for (int i = 0; i < a->field->size; i++)
      append_value(&a->children[0], k + (uint32_t)i + 1, err);
    break;
  case CL_TYPE_STRUCT:
    for (size_t i = 0; i < a->n_children; i++)
      append_value(&a->children[i], k * 3 + (uint32_t)i, err);
    break;
  case CL_TYPE_BOOL: {
    size_t need = (size_t)((a->length + 8) / 8);
    if (a->values.len < need)
      cl_buf_fill(&a->values, 0, need - a->values.len, err);
    if (k & 1)
      cl_bit_set(a->values.data, a->length);
    break;
  }
  case CL_TYPE_DICTIONARY: {
    uint8_t i = (uint8_t)(k % 3);
    cl_buf_append(&a->values, &i, 1, err);
    break;
  }
  default: {
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
      b[i] = (uint8_t)(k * 37 + (uint32_t)i);
    cl_buf_append(&a->values, b, cl_type_bits(a->field) / 8, err);
    break;
  }
  }
  cl_arr_append_valid(a, 1, err);
}

static void make_seeds(void) {
  clance_error err;
  cl_schema s;
  memset(&s, 0, sizeof s);
  s.n_fields = 6;
  s.fields = calloc(s.n_fields, sizeof *s.fields);
  s.fields[0] = mk("s", CL_TYPE_UTF8, 0, NULL);
  cl_field item = mk("item", CL_TYPE_INT16, 0, NULL);
  s.fields[1] = mk("l", CL_TYPE_LIST, 1, &item);
  cl_field kids[2] = {mk("b", CL_TYPE_BOOL, 0, NULL), mk("x", CL_TYPE_INT64, 0, NULL)};
  s.fields[2] = mk("st", CL_TYPE_STRUCT, 2, kids);
  cl_field fitem = mk("item", CL_TYPE_FLOAT32, 0, NULL);
  s.fields[3] = mk("v", CL_TYPE_FIXED_SIZE_LIST, 1, &fitem);
  s.fields[3].size = 2;
  cl_field dv = mk("", CL_TYPE_UTF8, 0, NULL);
  s.fields[4] = mk("d", CL_TYPE_DICTIONARY, 1, &dv);
  s.fields[4].index_type = CL_TYPE_INT8;
  s.fields[5] = mk("n", CL_TYPE_NULL, 0, NULL);
  struct ArrowArray batches[2];
  for (int b = 0; b < 2; b++) {
    int64_t rows = b ? 2 : 5;
    struct ArrowArray cols[6];
    for (size_t c = 0; c < s.n_fields; c++) {
      cl_arr a;
      cl_arr_init(&a, &s.fields[c], &err);
      if (a.dictionary)
        for (uint32_t i = 0; i < 3 + (uint32_t)b; i++)
          append_value(a.dictionary, i, &err);
      for (int64_t r = 0; r < rows; r++)
        append_value(&a, (uint32_t)(r * 7 + (int64_t)c + b), &err);
      cl_arr_export(&a, &cols[c], &err);
      cl_arr_free(&a);
    }
    cl_struct_array_export(rows, cols, s.n_fields, &batches[b], &err);
  }
  for (int i = 0; i < N_SEEDS; i++)
    cl_ipc_write(&s, batches, 2, i & 1, i / 2, &seeds[i], &err);
  for (int b = 0; b < 2; b++)
    batches[b].release(&batches[b]);
  cl_schema_free(&s);
  seeded = 1;
}

static void check_error(clance_status st, const clance_error *err, const char *what) {
  if (st != CLANCE_ECORRUPT && st != CLANCE_EUNSUPPORTED && st != CLANCE_ENOMEM)
    abort();
  if (st != CLANCE_ENOMEM && strncmp(err->message, what, strlen(what)) != 0)
    abort();
}

/* Read all; returns batches read (-1 on a clean error). */
static int64_t read_all(const uint8_t *d, size_t n, int decode, const char *what,
                        struct ArrowArray *keep, int64_t *rows, size_t max_keep,
                        cl_schema *schema_out) {
  clance_error err = {0};
  cl_ipc_read_options opt = {decode, 16u << 20, NULL, NULL}; /* decoding may not amplify past 16 MiB */
  cl_ipc_reader *r;
  clance_status st = cl_ipc_reader_open_ex(d, n, what, &opt, &r, &err);
  if (st) {
    check_error(st, &err, what);
    return -1;
  }
  const cl_schema *s = cl_ipc_reader_schema(r);
  cl_field root;
  memset(&root, 0, sizeof root);
  root.name = "batch";
  root.type = CL_TYPE_STRUCT;
  root.children = s->fields;
  root.n_children = s->n_fields;
  int64_t got = 0;
  for (;;) {
    struct ArrowArray b;
    int done;
    st = cl_ipc_reader_next(r, &b, &done, &err);
    if (st) {
      check_error(st, &err, what);
      for (int64_t i = 0; keep && i < got && (size_t)i < max_keep; i++)
        if (rows[i] >= 0)
          keep[i].release(&keep[i]);
      got = -1;
      break;
    }
    if (done)
      break;
    clance_error verr;
    clance_status vs = cl_array_validate(&root, &b, "fuzz", &verr);
    /* Nulls in a field declared NOT NULL are the data's business, not a bug. */
    if (vs && vs != CLANCE_ESCHEMA)
      abort();
    if (keep && (size_t)got < max_keep && vs == CLANCE_OK) {
      rows[got] = b.length;
      keep[got] = b;
    } else {
      b.release(&b);
      if (keep && (size_t)got < max_keep)
        rows[got] = -1;
    }
    got++;
  }
  if (schema_out && got >= 0)
    cl_schema_copy(s, schema_out, &err);
  cl_ipc_reader_free(r);
  return got;
}

static void one(const uint8_t *d, size_t n, int decode) {
  enum { KEEP = 16 };
  struct ArrowArray keep[KEEP];
  int64_t rows[KEEP];
  cl_schema s;
  memset(&s, 0, sizeof s);
  int64_t got = read_all(d, n, decode, "fuzz", keep, rows, KEEP, &s);
  if (got < 0)
    return;
  size_t kept = (size_t)(got < KEEP ? got : KEEP);
  int all_valid = 1;
  for (size_t i = 0; i < kept; i++)
    all_valid &= rows[i] >= 0;
  if (all_valid && (size_t)got == kept) {
    /* Write back as a stream; our own output must read back. */
    cl_buf out = CL_BUF_INIT;
    clance_error err;
    clance_status st = cl_ipc_write(&s, keep, kept, 0, 0, &out, &err);
    if (st == CLANCE_OK) {
      int64_t rows2[KEEP];
      struct ArrowArray keep2[KEEP];
      int64_t got2 = read_all(out.data, out.len, 0, "rewrite", keep2, rows2, KEEP, NULL);
      if (got2 != got)
        abort();
      for (size_t i = 0; i < kept; i++) {
        if (rows2[i] != rows[i])
          abort();
        keep2[i].release(&keep2[i]);
      }
    } else if (st != CLANCE_EUNSUPPORTED && st != CLANCE_EINVAL && st != CLANCE_ESCHEMA) {
      abort();
    }
    cl_buf_free(&out);
  }
  for (size_t i = 0; i < kept; i++)
    if (rows[i] >= 0)
      keep[i].release(&keep[i]);
  cl_schema_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!seeded)
    make_seeds();
  if (size == 0) {
    one(data, 0, 0);
    return 0;
  }
  uint8_t mode = data[0];
  if (mode < 64) {
    /* raw; an exact-size copy so that over-reads are caught */
    uint8_t *d = malloc(size - 1 ? size - 1 : 1);
    memcpy(d, data + 1, size - 1);
    one(d, size - 1, mode & 1);
    free(d);
    return 0;
  }
  const cl_buf *seed = &seeds[mode % N_SEEDS];
  if (!seed->len)
    return 0;
  uint8_t *d = malloc(seed->len);
  memcpy(d, seed->data, seed->len);
  size_t len = seed->len;
  /* (u16 position, u8 value) triples; a final odd byte truncates */
  size_t i = 1;
  for (; i + 3 <= size; i += 3) {
    size_t pos = ((size_t)data[i] | ((size_t)data[i + 1] << 8)) % len;
    d[pos] = data[i + 2];
  }
  if (i < size)
    len -= (size_t)data[i] % len;
  one(d, len, (mode >> 3) & 1);
  free(d);
  return 0;
}
