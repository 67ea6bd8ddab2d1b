/* End-to-end tests of the public API: write fragments from Arrow streams,
 * exchange them as JSON, commit, reopen and scan, and the error cases. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arrow/array.h"
#include "file/container.h"
#include "file/file.h"
#include "io/fs.h"
#include "util/pool.h"
#include "test.h"
#include "testdata.h"

/* A stream of the given (spec) schema with rows from a callback. */
typedef void (*fill_fn)(cl_arr *cols, int64_t n, void *ctx);

static clance_status make_stream(const char *spec, const int32_t *a_vals, const char *const *b_vals,
                                 int64_t n, struct ArrowArrayStream *out, clance_error *err) {
  cl_schema s;
  CL_TRY(cl_schema_parse_spec(spec, &s, err));
  cl_arr cols[2];
  struct ArrowArray kids[2], batch;
  clance_status st = cl_arr_init(&cols[0], &s.fields[0], err);
  if (!st)
    st = cl_arr_init(&cols[1], &s.fields[1], err);
  for (int64_t i = 0; !st && i < n; i++) {
    st = cl_buf_append(&cols[0].values, &a_vals[i], 4, err);
    if (!st)
      st = cl_arr_append_valid(&cols[0], 1, err);
    if (!st && b_vals[i]) {
      st = cl_buf_append(&cols[1].values, b_vals[i], strlen(b_vals[i]), err);
      if (!st)
        st = cl_arr_push_offset(&cols[1], cols[1].values.len, err);
      if (!st)
        st = cl_arr_append_valid(&cols[1], 1, err);
    } else if (!st) {
      st = cl_arr_append_nulls(&cols[1], 1, err);
    }
  }
  if (!st)
    st = cl_arr_export(&cols[0], &kids[0], err);
  if (!st)
    st = cl_arr_export(&cols[1], &kids[1], err);
  if (!st)
    st = cl_struct_array_export(n, kids, 2, &batch, err);
  if (!st)
    st = cl_stream_from_batches(&s, &batch, 1, out, err);
  cl_arr_free(&cols[0]);
  cl_arr_free(&cols[1]);
  cl_schema_free(&s);
  return st;
}

/* Scan everything into "a b;a b;..." text. */
static int scan_text(const char *uri, uint64_t version, char *out, size_t n) {
  clance_error err;
  clance_dataset *ds;
  if (clance_dataset_open(uri, version, &ds, &err)) {
    fprintf(stderr, "open: %s\n", err.message);
    return -1;
  }
  struct ArrowArrayStream s;
  clance_scan_options o;
  clance_scan_options_init(&o);
  o.batch_size = 2; /* several batches per fragment */
  if (clance_dataset_scan(ds, &o, &s, &err)) {
    clance_dataset_close(ds);
    return -1;
  }
  clance_dataset_close(ds); /* the stream keeps what it needs */
  size_t k = 0;
  out[0] = 0;
  for (;;) {
    struct ArrowArray b;
    if (s.get_next(&s, &b) != 0) {
      fprintf(stderr, "scan: %s\n", s.get_last_error(&s));
      s.release(&s);
      return -1;
    }
    if (!b.release)
      break;
    const struct ArrowArray *a = b.children[0], *c = b.children[1];
    for (int64_t i = 0; i < b.length; i++) {
      const int32_t *off = c->buffers[1];
      int64_t j = i + c->offset;
      k += (size_t)snprintf(out + k, n - k, "%d %.*s;", ((const int32_t *)a->buffers[1])[i + a->offset],
                            cl_array_valid(c, i) ? (int)(off[j + 1] - off[j]) : 4,
                            cl_array_valid(c, i) ? (const char *)c->buffers[2] + off[j] : "NULL");
    }
    b.release(&b);
  }
  s.release(&s);
  return 0;
}

static clance_fragments *worker(const char *uri, const int32_t *a, const char *const *b, int64_t n,
                                const char *version) {
  clance_error err;
  struct ArrowArrayStream s;
  if (make_stream("a:int32,b:string", a, b, n, &s, &err))
    return NULL;
  clance_write_options o;
  clance_write_options_init(&o);
  o.data_storage_version = version;
  clance_fragments *f;
  if (clance_write_fragments(uri, NULL, &s, &o, &f, &err)) {
    fprintf(stderr, "write_fragments: %s\n", err.message);
    return NULL;
  }
  return f;
}

/* JSON hand-off as a coordinator would receive it. */
static clance_fragments *via_json(clance_fragments *f) {
  clance_error err;
  char *json;
  if (clance_fragments_to_json(f, &json, &err))
    return NULL;
  clance_fragments *g;
  clance_status st = clance_fragments_from_json(json, strlen(json), "worker", &g, &err);
  clance_free(json);
  clance_fragments_free(f);
  return st ? NULL : g;
}

static void seed_example(const char *version) {
  clance_error err;
  char *dir = cl_test_tmpdir("seed");
  char uri[4200];
  snprintf(uri, sizeof uri, "%s/dist_write", dir);
  static const int32_t a1[] = {1, 2, 3}, a2[] = {4, 5, 6}, a3[] = {7, 8};
  static const char *const b1[] = {"x", "y", "z"}, *const b2[] = {"u", "v", "w"},
                           *const b3[] = {NULL, "t"};
  clance_fragments *f1 = via_json(worker(uri, a1, b1, 3, version));
  clance_fragments *f2 = via_json(worker(uri, a2, b2, 3, version));
  REQUIRE(f1 && f2);
  CHECK_EQ_U64(clance_fragments_count(f1), 1);
  clance_fragments *all;
  REQUIRE_OK(clance_fragments_new(&all, &err), &err);
  REQUIRE_OK(clance_fragments_extend(all, f1, &err), &err);
  REQUIRE_OK(clance_fragments_extend(all, f2, &err), &err);
  struct ArrowSchema schema;
  REQUIRE_OK(clance_schema_parse("a:int32,b:string", &schema, &err), &err);
  clance_operation *op;
  REQUIRE_OK(clance_operation_overwrite(&schema, all, &op, &err), &err);
  uint64_t v = 0;
  REQUIRE_OK(clance_commit(uri, op, 0, NULL, &v, &err), &err);
  CHECK_EQ_U64(v, 1);
  clance_operation_free(op);

  clance_dataset *ds;
  REQUIRE_OK(clance_dataset_open(uri, 0, &ds, &err), &err);
  CHECK_EQ_U64(clance_dataset_version(ds), 1);
  CHECK_EQ_U64(clance_dataset_num_fragments(ds), 2);
  CHECK_EQ_U64(clance_dataset_count_rows(ds), 6);
  CHECK_STR(clance_dataset_data_storage_version(ds), version ? version : "2.1");
  clance_dataset_close(ds);
  char text[1024];
  REQUIRE(scan_text(uri, 0, text, sizeof text) == 0);
  CHECK_STR(text, "1 x;2 y;3 z;4 u;5 v;6 w;");

  /* A second Overwrite prepared against version 0 must not silently replace version 1. */
  REQUIRE_OK(clance_operation_overwrite(&schema, all, &op, &err), &err);
  CHECK(clance_commit(uri, op, 0, NULL, &v, &err) == CLANCE_ECONFLICT_RETRYABLE);
  CHECK(strstr(err.message, "version 1 (Overwrite)") != NULL);
  clance_operation_free(op);

  /* Append a third worker's rows against version 1. */
  clance_fragments *f3 = via_json(worker(uri, a3, b3, 2, NULL));
  REQUIRE(f3);
  REQUIRE_OK(clance_operation_append(f3, &op, &err), &err);
  REQUIRE_OK(clance_commit(uri, op, 1, NULL, &v, &err), &err);
  CHECK_EQ_U64(v, 2);
  REQUIRE(scan_text(uri, 0, text, sizeof text) == 0);
  CHECK_STR(text, "1 x;2 y;3 z;4 u;5 v;6 w;7 NULL;8 t;");
  REQUIRE(scan_text(uri, 1, text, sizeof text) == 0);
  CHECK_STR(text, "1 x;2 y;3 z;4 u;5 v;6 w;");
  /* Take across fragments, out of order, with repeats; count with a filter. */
  {
    clance_dataset *td;
    REQUIRE_OK(clance_dataset_open(uri, 0, &td, &err), &err);
    uint64_t want[] = {7, 0, 7, 3, 6};
    struct ArrowArray t;
    struct ArrowSchema ts;
    const char *cols[] = {"b", "a"};
    clance_scan_options o;
    clance_scan_options_init(&o);
    o.columns = cols;
    o.num_columns = 2;
    REQUIRE_OK(clance_dataset_take(td, want, 5, &o, &t, &ts, &err), &err);
    CHECK_EQ_U64(t.length, 5);
    CHECK_STR(ts.children[0]->name, "b");
    const int32_t *a = t.children[1]->buffers[1];
    CHECK(a[0] == 8 && a[1] == 1 && a[2] == 8 && a[3] == 4 && a[4] == 7);
    CHECK(!cl_array_valid(t.children[0], 4) && cl_array_valid(t.children[0], 0));
    t.release(&t);
    ts.release(&ts);
    uint64_t bad_row = 8;
    CHECK(clance_dataset_take(td, &bad_row, 1, NULL, &t, NULL, &err) == CLANCE_EINVAL);
    CHECK(strstr(err.message, "out of range") != NULL);
    uint64_t n;
    REQUIRE_OK(clance_dataset_count_rows_where(td, "a > 2 AND b IS NOT NULL", &n, &err), &err);
    CHECK_EQ_U64(n, 5); /* 3 z, 4 u, 5 v, 6 w, 8 t */
    REQUIRE_OK(clance_dataset_count_rows_where(td, NULL, &n, &err), &err);
    CHECK_EQ_U64(n, 8);
    clance_dataset_close(td);
  }
  /* The same fragments committed again are a different data set only by
   * name; a second Append prepared against version 1 is rebased over 2. */
  clance_fragments *f4 = via_json(worker(uri, a3, b3, 2, NULL));
  clance_operation *op4;
  REQUIRE_OK(clance_operation_append(f4, &op4, &err), &err);
  REQUIRE_OK(clance_commit(uri, op4, 1, NULL, &v, &err), &err);
  CHECK_EQ_U64(v, 3);
  REQUIRE_OK(clance_dataset_open(uri, 0, &ds, &err), &err);
  CHECK_EQ_U64(clance_dataset_count_rows(ds), 10);
  clance_fragments *frs;
  REQUIRE_OK(clance_dataset_fragments(ds, &frs, &err), &err);
  CHECK_EQ_U64(clance_fragments_count(frs), 4);
  clance_fragments_free(frs);
  clance_dataset_close(ds);
  /* Committing fragments whose files are already in the table again is refused. */
  CHECK(clance_commit(uri, op, 3, NULL, &v, &err) == CLANCE_OK); /* distinct op: new row copy */
  clance_operation_free(op);
  clance_operation_free(op4);
  /* read_version newer than the latest. */
  REQUIRE_OK(clance_operation_append(f3, &op, &err), &err);
  CHECK(clance_commit(uri, op, 99, NULL, &v, &err) == CLANCE_EINVAL);
  CHECK(strstr(err.message, "99") != NULL);
  clance_operation_free(op);

  clance_fragments_free(f3);
  clance_fragments_free(f4);
  clance_fragments_free(all);
  clance_fragments_free(f1);
  clance_fragments_free(f2);
  schema.release(&schema);
  cl_test_rmtree(dir);
}

static void test_seed_21(void) { seed_example(NULL); }
static void test_seed_20(void) { seed_example("2.0"); }
static void test_seed_22(void) { seed_example("2.2"); }

static void test_errors(void) {
  clance_error err;
  char *dir = cl_test_tmpdir("errors");
  char uri[4200], other[4200];
  snprintf(uri, sizeof uri, "%s/t", dir);
  snprintf(other, sizeof other, "%s/other", dir);
  static const int32_t a[] = {1};
  static const char *const b[] = {"x"};
  uint64_t v;
  clance_operation *op;
  /* Append to a dataset that does not exist. */
  clance_fragments *f = worker(uri, a, b, 1, NULL);
  REQUIRE(f);
  REQUIRE_OK(clance_operation_append(f, &op, &err), &err);
  CHECK(clance_commit(uri, op, 0, NULL, &v, &err) == CLANCE_ENOTFOUND);
  clance_operation_free(op);
  /* Fragments written for another dataset. */
  struct ArrowSchema schema;
  REQUIRE_OK(clance_schema_parse("a:int32,b:string", &schema, &err), &err);
  REQUIRE_OK(clance_operation_overwrite(&schema, f, &op, &err), &err);
  CHECK(clance_commit(other, op, 0, NULL, &v, &err) == CLANCE_ENOTFOUND);
  CHECK(strstr(err.message, "does not exist") != NULL);
  clance_operation_free(op);
  {
    char vdir[4300];
    snprintf(vdir, sizeof vdir, "%s/_versions", other);
    CHECK(!cl_path_exists(vdir)); /* the failed commit published nothing */
  }
  schema.release(&schema);
  /* Schema that does not match the fragments. */
  REQUIRE_OK(clance_schema_parse("a:int64,b:string", &schema, &err), &err);
  REQUIRE_OK(clance_operation_overwrite(&schema, f, &op, &err), &err);
  CHECK(clance_commit(uri, op, 0, NULL, &v, &err) == CLANCE_ESCHEMA);
  CHECK(strstr(err.message, "int64") != NULL);
  clance_operation_free(op);
  schema.release(&schema);
  REQUIRE_OK(clance_schema_parse("a:int32,c:string", &schema, &err), &err);
  REQUIRE_OK(clance_operation_overwrite(&schema, f, &op, &err), &err);
  CHECK(clance_commit(uri, op, 0, NULL, &v, &err) == CLANCE_ESCHEMA);
  clance_operation_free(op);
  schema.release(&schema);
  /* Nothing was committed by the failures above. */
  clance_dataset *ds;
  CHECK(clance_dataset_open(uri, 0, &ds, &err) == CLANCE_ENOTFOUND);
  /* Malformed JSON. */
  clance_fragments *g;
  CHECK(clance_fragments_from_json("[{\"id\": 0}]", 11, "frags.json", &g, &err) == CLANCE_ECORRUPT);
  CHECK(strstr(err.message, "frags.json") != NULL);
  CHECK(clance_fragments_from_json("{\"id\": 0, \"files\": [{\"path\": \"../x\", \"fields\": [0]}], "
                                   "\"physical_rows\": 1}", 76, "f", &g, &err) == CLANCE_ECORRUPT);
  CHECK(clance_fragments_from_json("[{", 2, "trunc.json", &g, &err) == CLANCE_ECORRUPT);
  clance_fragments_free(f);
  cl_test_rmtree(dir);
}

static int count_files(const char *dir) {
  cl_dirlist l;
  clance_error err;
  if (cl_list_dir(dir, &l, &err))
    return 0;
  int n = (int)l.n;
  cl_dirlist_free(&l);
  return n;
}

/* The stream must match the schema it is written with. */
static void test_write_schema_errors(void) {
  clance_error err;
  char *dir = cl_test_tmpdir("wschema");
  char uri[4200], data[4300];
  snprintf(uri, sizeof uri, "%s/t", dir);
  snprintf(data, sizeof data, "%s/data", uri);
  static const int32_t a[] = {1, 2};
  static const char *const b[] = {"x", NULL};
  struct ArrowArrayStream s;
  struct ArrowSchema want;
  clance_fragments *f = NULL;
  /* Type mismatch between the stream and the given schema. */
  REQUIRE_OK(make_stream("a:int32,b:string", a, b, 2, &s, &err), &err);
  REQUIRE_OK(clance_schema_parse("a:int64,b:string", &want, &err), &err);
  CHECK(clance_write_fragments(uri, &want, &s, NULL, &f, &err) == CLANCE_ESCHEMA);
  CHECK(strstr(err.message, "int64") && strstr(err.message, "int32"));
  CHECK(s.release == NULL); /* the stream was consumed and released */
  want.release(&want);
  /* A null in a NOT NULL column. */
  REQUIRE_OK(make_stream("a:int32,b:string", a, b, 2, &s, &err), &err);
  REQUIRE_OK(clance_schema_parse("a:int32,b:string!", &want, &err), &err);
  CHECK(clance_write_fragments(uri, &want, &s, NULL, &f, &err) == CLANCE_ESCHEMA);
  CHECK(strstr(err.message, "NOT NULL") != NULL);
  want.release(&want);
  CHECK_EQ_U64(count_files(data), 0); /* nothing left behind */
  /* Unknown storage version. */
  REQUIRE_OK(make_stream("a:int32,b:string", a, b, 2, &s, &err), &err);
  clance_write_options o;
  clance_write_options_init(&o);
  o.data_storage_version = "3.7";
  CHECK(clance_write_fragments(uri, NULL, &s, &o, &f, &err) == CLANCE_EINVAL);
  CHECK(strstr(err.message, "3.7") != NULL);
  /* Appending mode on a dataset that does not exist. */
  REQUIRE_OK(make_stream("a:int32,b:string", a, b, 2, &s, &err), &err);
  o.data_storage_version = NULL;
  o.mode = CLANCE_WRITE_APPEND;
  CHECK(clance_write_fragments(uri, NULL, &s, &o, &f, &err) == CLANCE_ENOTFOUND);
  CHECK(f == NULL);
  cl_test_rmtree(dir);
}

/* Small integers are bit-packed in 2.1/2.2 files and read back exactly. */
static void test_bitpacked_ints(void) {
  clance_error err;
  char *dir = cl_test_tmpdir("bitpack");
  char uri[4200];
  snprintf(uri, sizeof uri, "%s/t.lance", dir);
  cl_schema s;
  REQUIRE_OK(cl_schema_parse_spec("id:int64,small:int32", &s, &err), &err);
  const int64_t n = 100000;
  cl_arr a, b;
  REQUIRE_OK(cl_arr_init(&a, &s.fields[0], &err), &err);
  REQUIRE_OK(cl_arr_init(&b, &s.fields[1], &err), &err);
  for (int64_t i = 0; i < n; i++) {
    int64_t id = i * 3;
    int32_t sm = (int32_t)(i % 13);
    REQUIRE_OK(cl_buf_append(&a.values, &id, 8, &err), &err);
    REQUIRE_OK(cl_buf_append(&b.values, &sm, 4, &err), &err);
    if (i % 1000 == 999)
      REQUIRE_OK(cl_arr_append_null(&b, 1, &err), &err);
    else
      REQUIRE_OK(cl_arr_append_valid(&b, 1, &err), &err);
  }
  REQUIRE_OK(cl_arr_append_valid(&a, n, &err), &err);
  struct ArrowArray kids[2], batch;
  REQUIRE_OK(cl_arr_export(&a, &kids[0], &err), &err);
  REQUIRE_OK(cl_arr_export(&b, &kids[1], &err), &err);
  cl_arr_free(&a);
  cl_arr_free(&b);
  REQUIRE_OK(cl_struct_array_export(n, kids, 2, &batch, &err), &err);
  struct ArrowArrayStream stream;
  REQUIRE_OK(cl_stream_from_batches(&s, &batch, 1, &stream, &err), &err);
  clance_fragments *f;
  REQUIRE_OK(clance_write_fragments(uri, NULL, &stream, NULL, &f, &err), &err);
  char *json;
  REQUIRE_OK(clance_fragments_to_json(f, &json, &err), &err);
  /* Raw: 800 KB + 400 KB; bit-packed: ~19 bits + 4 bits per row. */
  const char *sz = strstr(json, "\"file_size_bytes\": ");
  REQUIRE(sz);
  unsigned long long size = strtoull(sz + 19, NULL, 10);
  CHECK(size < 400000);
  clance_free(json);
  clance_dataset *ds;
  REQUIRE_OK(td_overwrite_scan(uri, &s, f, &ds, &stream, &err), &err);
  int64_t row = 0, bad = 0;
  struct ArrowArray out;
  while (stream.get_next(&stream, &out) == 0 && out.release) {
    /* Batches may be slices of decoded pages: honour the offsets. */
    const int64_t *ids = (const int64_t *)out.children[0]->buffers[1] + out.children[0]->offset;
    const int32_t *sm = (const int32_t *)out.children[1]->buffers[1] + out.children[1]->offset;
    for (int64_t i = 0; i < out.length; i++, row++) {
      int null = !cl_array_valid(out.children[1], i);
      if (ids[i] != row * 3 || null != (row % 1000 == 999) || (!null && sm[i] != row % 13))
        bad++;
    }
    out.release(&out);
  }
  CHECK_EQ_U64(row, n);
  CHECK_EQ_U64(bad, 0);
  stream.release(&stream);
  clance_dataset_close(ds);
  cl_schema_free(&s);
  cl_test_rmtree(dir);
}

/* Floats are bit-packed as their bit patterns when that is smaller (as Lance
 * does): doubles in [0, 1) need 62 bits, floats in [0, 1) 30; negative ones
 * need all 64 and stay flat. Every bit pattern reads back exactly. */
static double bp_u(int64_t i) { return (double)((i * 7919) % 100003) / 100003.0; }

static void bitpacked_floats(const char *version) {
  clance_error err;
  char *dir = cl_test_tmpdir("bitpackf");
  char uri[4200];
  snprintf(uri, sizeof uri, "%s/t.lance", dir);
  cl_schema s;
  REQUIRE_OK(cl_schema_parse_spec("u:float64,f:float32,neg:float64", &s, &err), &err);
  const int64_t n = 100000;
  cl_arr a[3];
  for (int c = 0; c < 3; c++)
    REQUIRE_OK(cl_arr_init(&a[c], &s.fields[c], &err), &err);
  for (int64_t i = 0; i < n; i++) {
    double u = bp_u(i), neg = -1.0 - u;
    float f = (float)u;
    REQUIRE_OK(cl_buf_append(&a[0].values, &u, 8, &err), &err);
    REQUIRE_OK(cl_buf_append(&a[1].values, &f, 4, &err), &err);
    REQUIRE_OK(cl_buf_append(&a[2].values, &neg, 8, &err), &err);
    if (i % 1000 == 999)
      REQUIRE_OK(cl_arr_append_null(&a[1], 1, &err), &err);
    else
      REQUIRE_OK(cl_arr_append_valid(&a[1], 1, &err), &err);
  }
  REQUIRE_OK(cl_arr_append_valid(&a[0], n, &err), &err);
  REQUIRE_OK(cl_arr_append_valid(&a[2], n, &err), &err);
  struct ArrowArray kids[3], batch;
  for (int c = 0; c < 3; c++) {
    REQUIRE_OK(cl_arr_export(&a[c], &kids[c], &err), &err);
    cl_arr_free(&a[c]);
  }
  REQUIRE_OK(cl_struct_array_export(n, kids, 3, &batch, &err), &err);
  struct ArrowArrayStream stream;
  REQUIRE_OK(cl_stream_from_batches(&s, &batch, 1, &stream, &err), &err);
  clance_write_options o;
  clance_write_options_init(&o);
  o.data_storage_version = version;
  clance_fragments *fr;
  REQUIRE_OK(clance_write_fragments(uri, NULL, &stream, &o, &fr, &err), &err);
  char *json;
  REQUIRE_OK(clance_fragments_to_json(fr, &json, &err), &err);
  /* Flat: 800 + 400 + 800 KB; packed: 775 + 375 + 800 KB, plus metadata. */
  const char *sz = strstr(json, "\"file_size_bytes\": ");
  REQUIRE(sz);
  unsigned long long size = strtoull(sz + 19, NULL, 10);
  CHECK(size > 1950000 && size < 1975000);
  clance_free(json);
  clance_dataset *ds;
  REQUIRE_OK(td_overwrite_scan(uri, &s, fr, &ds, &stream, &err), &err);
  int64_t row = 0, bad = 0;
  struct ArrowArray out;
  while (stream.get_next(&stream, &out) == 0 && out.release) {
    const double *u = (const double *)out.children[0]->buffers[1] + out.children[0]->offset;
    const float *f = (const float *)out.children[1]->buffers[1] + out.children[1]->offset;
    const double *neg = (const double *)out.children[2]->buffers[1] + out.children[2]->offset;
    for (int64_t i = 0; i < out.length; i++, row++) {
      double eu = bp_u(row), en = -1.0 - eu;
      float ef = (float)eu;
      int null = !cl_array_valid(out.children[1], i);
      if (memcmp(&u[i], &eu, 8) != 0 || memcmp(&neg[i], &en, 8) != 0 || null != (row % 1000 == 999) ||
          (!null && memcmp(&f[i], &ef, 4) != 0))
        bad++;
    }
    out.release(&out);
  }
  CHECK_EQ_U64(row, n);
  CHECK_EQ_U64(bad, 0);
  stream.release(&stream);
  clance_dataset_close(ds);
  cl_schema_free(&s);
  cl_test_rmtree(dir);
}

static void test_bitpacked_floats_21(void) { bitpacked_floats("2.1"); }
static void test_bitpacked_floats_22(void) { bitpacked_floats("2.2"); }

/* Every writable type, with nulls, several pages and files, each format. */
static void roundtrip_types(const char *version) {
  clance_error err;
  char *dir = cl_test_tmpdir("types");
  char uri[4200];
  snprintf(uri, sizeof uri, "%s/types.lance", dir);
  const char *spec =
      "b:bool,i8:int8,i16:int16,i32:int32,i64:int64,u8:uint8,u16:uint16,u32:uint32,u64:uint64,"
      "f32:float32,f64:float64,s:string,ls:large_string,bin:binary,lbin:large_binary,"
      "d:date32,ts:timestamp(us),tz:timestamp(us,UTC),v8:vector(float32,8),"
      "v128:vector(float32,128),long:string,nn:int64!";
  cl_schema s;
  REQUIRE_OK(cl_schema_parse_spec(spec, &s, &err), &err);
  td_rng r = {0x1234567};
  const int64_t nb = 3, rows = 1500;
  struct ArrowArray batches[3];
  for (int64_t k = 0; k < nb; k++) {
    struct ArrowArray kids[32];
    for (size_t c = 0; c < s.n_fields; c++) {
      cl_arr a;
      REQUIRE_OK(cl_arr_init(&a, &s.fields[c], &err), &err);
      int null_pct = k == 1 && c == 3 ? 100 : 10; /* an all-null stretch */
      size_t max_str = !strcmp(s.fields[c].name, "long") ? 700 : 20;
      REQUIRE_OK(td_fill(&a, &s.fields[c], rows, null_pct, max_str, &r, &err), &err);
      REQUIRE_OK(cl_arr_export(&a, &kids[c], &err), &err);
      cl_arr_free(&a);
    }
    REQUIRE_OK(cl_struct_array_export(rows, kids, s.n_fields, &batches[k], &err), &err);
  }
  /* Keep our own copy to compare with: write from a second identical stream. */
  struct ArrowArrayStream stream;
  REQUIRE_OK(cl_stream_from_batches(&s, batches, (size_t)nb, &stream, &err), &err);
  /* Regenerate the same data for comparison. */
  r.s = 0x1234567;
  struct ArrowArray expect[3];
  for (int64_t k = 0; k < nb; k++) {
    struct ArrowArray kids[32];
    for (size_t c = 0; c < s.n_fields; c++) {
      cl_arr a;
      REQUIRE_OK(cl_arr_init(&a, &s.fields[c], &err), &err);
      int null_pct = k == 1 && c == 3 ? 100 : 10;
      size_t max_str = !strcmp(s.fields[c].name, "long") ? 700 : 20;
      REQUIRE_OK(td_fill(&a, &s.fields[c], rows, null_pct, max_str, &r, &err), &err);
      REQUIRE_OK(cl_arr_export(&a, &kids[c], &err), &err);
      cl_arr_free(&a);
    }
    REQUIRE_OK(cl_struct_array_export(rows, kids, s.n_fields, &expect[k], &err), &err);
  }
  clance_write_options o;
  clance_write_options_init(&o);
  o.data_storage_version = version;
  o.max_rows_per_file = 2000;  /* 4500 rows -> 3 files */
  o.page_bytes = 16 * 1024;    /* many pages per column */
  o.max_rows_per_group = 700;
  clance_fragments *f;
  REQUIRE_OK(clance_write_fragments(uri, NULL, &stream, &o, &f, &err), &err);
  CHECK_EQ_U64(clance_fragments_count(f), 3);
  CHECK_EQ_U64(clance_fragments_num_rows(f), 4500);
  clance_dataset *ds;
  REQUIRE_OK(td_overwrite_open(uri, &s, f, &ds, &err), &err);
  CHECK_EQ_U64(clance_dataset_count_rows(ds), 4500);
  clance_scan_options so;
  clance_scan_options_init(&so);
  so.batch_size = 1000;
  REQUIRE_OK(clance_dataset_scan(ds, &so, &stream, &err), &err);
  int64_t row = 0, mismatches = 0;
  for (;;) {
    struct ArrowArray b;
    REQUIRE(stream.get_next(&stream, &b) == 0);
    if (!b.release)
      break;
    for (int64_t i = 0; i < b.length; i++, row++) {
      const struct ArrowArray *e = &expect[row / rows];
      for (size_t c = 0; c < s.n_fields; c++)
        if (!td_equal_at(&s.fields[c], b.children[c], i, e->children[c], row % rows)) {
          if (mismatches++ < 5)
            fprintf(stderr, "version %s: row %lld column %s differs\n", version ? version : "2.1",
                    (long long)row, s.fields[c].name);
        }
    }
    b.release(&b);
  }
  CHECK_EQ_U64(row, 4500);
  CHECK_EQ_U64(mismatches, 0);
  stream.release(&stream);
  clance_dataset_close(ds);
  for (int64_t k = 0; k < nb; k++)
    expect[k].release(&expect[k]);
  cl_schema_free(&s);
  cl_test_rmtree(dir);
}

/* Batches of every writable type with nulls, of uneven lengths, with struct
 * and child offsets (slices), from a fixed seed. */
#define IP_BATCHES 24
static clance_status in_place_batches(const cl_schema *s, struct ArrowArray *out, int64_t *rows,
                                      clance_error *err) {
  td_rng r = {0xC0FFEE};
  *rows = 0;
  for (int k = 0; k < IP_BATCHES; k++) {
    int64_t n = 50 + (int64_t)(td_next(&r) % 2500), boff = k % 3;
    struct ArrowArray kids[32];
    for (size_t c = 0; c < s->n_fields; c++) {
      cl_arr a;
      CL_TRY(cl_arr_init(&a, &s->fields[c], err));
      int64_t coff = (int64_t)((k + c) % 4);
      int null_pct = k % 5 == 2 && c == 3 ? 100 : k % 4 == 0 ? 0 : 10;
      size_t max_str = !strcmp(s->fields[c].name, "long") ? 700 : 20;
      clance_status st = td_fill(&a, &s->fields[c], n + coff + boff, null_pct, max_str, &r, err);
      if (!st)
        st = cl_arr_export(&a, &kids[c], err);
      cl_arr_free(&a);
      CL_TRY(st);
      kids[c].offset = coff; /* the child's rows start later: a slice */
      kids[c].length = n + boff;
      kids[c].null_count = -1;
    }
    CL_TRY(cl_struct_array_export(n + boff, kids, s->n_fields, &out[k], err));
    out[k].offset = boff;
    out[k].length = n;
    *rows += n;
  }
  return CLANCE_OK;
}

static int read_file_bytes(const char *path, cl_buf *b) {
  clance_error err;
  b->len = 0;
  return cl_file_read_all(path, (size_t)1 << 30, b, &err) == CLANCE_OK;
}

/* Pages are cut at page_bytes inside a batch too (the batches here are up
 * to 20 KiB per column): no page of column `col` holds more than
 * `per_page` rows (page_bytes / value bytes per row, or the row cap), and
 * every page but the last at least 7/8 of that (validity bitmaps count
 * towards the size as well). */
static void check_page_rows(const char *path, uint64_t col, uint64_t per_page, uint64_t cap) {
  clance_error err;
  if (cap && cap < per_page)
    per_page = cap;
  cl_container_reader r;
  REQUIRE_OK(cl_container_open(&r, path, 0, &err), &err);
  cl_column_info ci;
  REQUIRE_OK(cl_container_column(&r, col, &ci, &err), &err);
  REQUIRE(ci.n_pages > 2);
  for (size_t p = 0; p < ci.n_pages; p++) {
    uint64_t n = ci.pages[p].length;
    if (n > per_page || (p + 1 < ci.n_pages && n < per_page - per_page / 8)) {
      fprintf(stderr, "%s column %llu page %zu: %llu rows, want %llu or a little less\n", path,
              (unsigned long long)col, p, (unsigned long long)n, (unsigned long long)per_page);
      cl_test_failures++;
      break;
    }
  }
  cl_column_info_free(&ci);
  cl_container_close(&r);
}

/* Pages built from input rows in place (the default of clance_write_fragments:
 * batches kept alive, slices written from them, open pages copied when they
 * hold too many batches) are byte for byte the pages built from copied rows
 * (cl_file_writer_write), in every format, with and without threads, with
 * small and default page sizes and buffer budgets. */
static void test_in_place_pages(void) {
  clance_error err;
  char *dir = cl_test_tmpdir("inplace");
  const char *spec =
      "b:bool,i8:int8,i16:int16,i32:int32,i64:int64,f64:float64,s:string,ls:large_string,"
      "bin:binary,lbin:large_binary,ts:timestamp(us),v8:vector(float32,8),long:string,nn:int64!,"
      "wide:vector(float32,80)";
  const char *versions[] = {"2.0", "2.1", "2.2"};
  cl_file_version fv[] = {CL_FILE_V2_0, CL_FILE_V2_1, CL_FILE_V2_2};
  struct {
    uint64_t page_bytes, rows_per_page, buffer_bytes;
  } cfg[] = {{0, 0, 0}, {16 << 10, 700, 0}, {0, 0, 256 << 10}, {4 << 10, 0, 64 << 10}};
  cl_schema s;
  REQUIRE_OK(cl_schema_parse_spec(spec, &s, &err), &err);
  int32_t next = 0;
  cl_schema_assign_ids(&s, &next);
  cl_buf want = CL_BUF_INIT, got = CL_BUF_INIT;
  for (size_t v = 0; v < 3; v++) {
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
      /* Reference: rows copied into accumulators, single-threaded. */
      struct ArrowArray batches[IP_BATCHES];
      int64_t rows;
      REQUIRE_OK(in_place_batches(&s, batches, &rows, &err), &err);
      cl_file_writer_opts fo;
      memset(&fo, 0, sizeof fo);
      fo.version = fv[v];
      fo.page_bytes = cfg[c].page_bytes;
      fo.max_rows_per_page = cfg[c].rows_per_page;
      fo.max_buffer_bytes = cfg[c].buffer_bytes;
      fo.no_fsync = 1;
      char ref[4300];
      snprintf(ref, sizeof ref, "%s/ref-%zu-%zu.lance", dir, v, c);
      cl_file_writer *fw;
      REQUIRE_OK(cl_file_writer_open(ref, &s, &fo, &fw, &err), &err);
      for (int k = 0; k < IP_BATCHES; k++) {
        CHECK_OK(cl_file_writer_write(fw, &batches[k], 0, batches[k].length, &err), &err);
        batches[k].release(&batches[k]);
      }
      uint64_t nrows, size;
      cl_file_layout lay;
      REQUIRE_OK(cl_file_writer_finish(fw, &nrows, &size, &lay, &err), &err);
      cl_file_layout_free(&lay);
      CHECK_EQ_U64(nrows, rows);
      if (cfg[c].page_bytes)
        check_page_rows(ref, 4, cfg[c].page_bytes / 8, cfg[c].rows_per_page);  /* i64 */
      if (cfg[c].page_bytes && v)
        check_page_rows(ref, 11, cfg[c].page_bytes / 32, cfg[c].rows_per_page); /* v8 */
      REQUIRE(read_file_bytes(ref, &want));
      for (unsigned threads = 1; threads <= 3; threads += 2) {
        REQUIRE_OK(in_place_batches(&s, batches, &rows, &err), &err);
        struct ArrowArrayStream stream;
        REQUIRE_OK(cl_stream_from_batches(&s, batches, IP_BATCHES, &stream, &err), &err);
        char uri[4300];
        snprintf(uri, sizeof uri, "%s/t-%zu-%zu-%u.lance", dir, v, c, threads);
        clance_write_options o;
        clance_write_options_init(&o);
        o.data_storage_version = versions[v];
        o.page_bytes = cfg[c].page_bytes;
        o.max_rows_per_group = cfg[c].rows_per_page;
        o.max_buffer_bytes = cfg[c].buffer_bytes;
        o.num_threads = threads;
        o.no_fsync = 1;
        clance_fragments *f;
        REQUIRE_OK(clance_write_fragments(uri, NULL, &stream, &o, &f, &err), &err);
        REQUIRE(clance_fragments_count(f) == 1);
        char *json;
        REQUIRE_OK(clance_fragments_to_json(f, &json, &err), &err);
        const char *pth = strstr(json, "\"path\": \"");
        REQUIRE(pth);
        pth += 9;
        char file[4400];
        snprintf(file, sizeof file, "%s/data/%.*s", uri, (int)(strchr(pth, '"') - pth), pth);
        clance_free(json);
        clance_fragments_free(f);
        REQUIRE(read_file_bytes(file, &got));
        if (got.len != want.len || memcmp(got.data, want.data, got.len) != 0) {
          fprintf(stderr, "format %s, config %zu, %u threads: the file differs from the copied "
                  "rows' (%zu vs %zu bytes)\n", versions[v], c, threads, got.len, want.len);
          cl_test_failures++;
        }
      }
    }
  }
  cl_buf_free(&want);
  cl_buf_free(&got);
  cl_schema_free(&s);
  cl_test_rmtree(dir);
}

/* A stream that fails at batch `fail_at` of an inner stream. */
typedef struct failing_stream {
  struct ArrowArrayStream inner;
  int n, fail_at;
} failing_stream;

static int fs_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  failing_stream *f = s->private_data;
  return f->inner.get_schema(&f->inner, out);
}

static int fs_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  failing_stream *f = s->private_data;
  if (f->n++ == f->fail_at)
    return EIO;
  return f->inner.get_next(&f->inner, out);
}

static const char *fs_error(struct ArrowArrayStream *s) {
  (void)s;
  return "disk on fire";
}

static void fs_release(struct ArrowArrayStream *s) {
  failing_stream *f = s->private_data;
  f->inner.release(&f->inner);
  free(f);
  s->release = NULL;
}

/* A write that fails after several files were finished (their footers
 * possibly still being written by the pool) leaves no file behind. */
static void test_failed_write_leaves_nothing(void) {
  clance_error err;
  char *dir = cl_test_tmpdir("failwrite");
  cl_schema s;
  REQUIRE_OK(cl_schema_parse_spec("i64:int64,s:string,v8:vector(float32,8),nn:int64!", &s, &err),
             &err);
  const char *versions[] = {"2.0", "2.1"};
  for (int v = 0; v < 2; v++)
    for (unsigned threads = 1; threads <= 3; threads += 2) {
      struct ArrowArray batches[IP_BATCHES];
      int64_t rows;
      REQUIRE_OK(in_place_batches(&s, batches, &rows, &err), &err);
      failing_stream *f = calloc(1, sizeof *f);
      REQUIRE(f);
      REQUIRE_OK(cl_stream_from_batches(&s, batches, IP_BATCHES, &f->inner, &err), &err);
      f->fail_at = 17;
      struct ArrowArrayStream stream = {fs_schema, fs_next, fs_error, fs_release, f};
      char uri[4300], data[4400];
      snprintf(uri, sizeof uri, "%s/t-%d-%u.lance", dir, v, threads);
      snprintf(data, sizeof data, "%s/data", uri);
      clance_write_options o;
      clance_write_options_init(&o);
      o.data_storage_version = versions[v];
      o.max_rows_per_file = 3000; /* about ten files before the failure */
      o.num_threads = threads;
      o.no_fsync = 1;
      clance_fragments *out = NULL;
      CHECK(clance_write_fragments(uri, NULL, &stream, &o, &out, &err) != CLANCE_OK);
      CHECK(strstr(err.message, "disk on fire") != NULL);
      CHECK(out == NULL);
      CHECK(count_files(data) == 0);
    }
  cl_schema_free(&s);
  cl_test_rmtree(dir);
}

static void test_types_21(void) { roundtrip_types(NULL); }
static void test_types_20(void) { roundtrip_types("2.0"); }
static void test_types_22(void) { roundtrip_types("2.2"); }

int main(void) {
  RUN(test_seed_21);
  RUN(test_seed_20);
  RUN(test_seed_22);
  RUN(test_errors);
  RUN(test_write_schema_errors);
  RUN(test_bitpacked_ints);
  RUN(test_bitpacked_floats_21);
  RUN(test_bitpacked_floats_22);
  RUN(test_types_21);
  RUN(test_types_20);
  RUN(test_types_22);
  RUN(test_in_place_pages);
  RUN(test_failed_write_leaves_nothing);
  TEST_MAIN_END();
}
