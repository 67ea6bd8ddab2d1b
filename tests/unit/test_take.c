/* Row access: takes and filtered scans read single rows out of pages
 * (mini-block chunks, full-zip entries, 2.0 values and string offsets) and
 * read the non-filter columns of a filtered scan only for matching rows.
 * Every result is compared value by value with the data written, in 2.0,
 * 2.1 and 2.2, with nulls, strings of every length (full-zip strings
 * through the repetition index), vectors with null items, and deletions. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "arrow/array.h"
#include "encoding/decode.h"
#include "file/file.h"
#include "test.h"
#include "testdata.h"

#define ROWS_PER_BATCH 3000
#define BATCHES 3
#define ROWS (ROWS_PER_BATCH * BATCHES)

static const char *SPEC =
    "id:int64!,b:bool,i32:int32,f64:float64,s:string,ls:large_string,bin:binary,"
    "v8:vector(float32,8),v128:vector(float32,128),long:string,d:date32,vn:vector(float32,80),"
    "vd:vector(float32,72)!,cat:string,run:int32,same:int64";

typedef struct fixture {
  char *dir;
  char uri[4200];
  cl_schema s;
  struct ArrowArray expect[BATCHES]; /* the rows written, in order */
} fixture;

/* Batch k: id = row number, the other columns random (10 % nulls; "long"
 * has strings up to 700 bytes and v128 and vn 512 and 320 bytes, so pages
 * of them are full-zip in 2.1+). */
static clance_status make_batch(const cl_schema *s, int k, struct ArrowArray *out, clance_error *err) {
  td_rng r = {0x9e3779b97f4a7c15ull + (uint64_t)k};
  struct ArrowArray kids[16];
  for (size_t c = 0; c < s->n_fields; c++) {
    cl_arr a;
    CL_TRY(cl_arr_init(&a, &s->fields[c], err));
    clance_status st = CLANCE_OK;
    const char *name = s->fields[c].name;
    if (c == 0) {
      for (int64_t i = 0; !st && i < ROWS_PER_BATCH; i++) {
        int64_t id = (int64_t)k * ROWS_PER_BATCH + i;
        st = cl_buf_append(&a.values, &id, 8, err);
        if (!st)
          st = cl_arr_append_valid(&a, 1, err);
      }
    } else if (!strcmp(name, "cat") || !strcmp(name, "run") || !strcmp(name, "same")) {
      /* Repeated values: dictionary, run-length and constant pages (2.1+). */
      static const char *const cats[] = {"red", "green", "blue", "a somewhat longer category"};
      for (int64_t i = 0; !st && i < ROWS_PER_BATCH; i++) {
        uint64_t x = td_next(&r);
        int null = x % 23 == 0 && strcmp(name, "same");
        if (!strcmp(name, "cat")) {
          const char *v = null ? "" : cats[x % 4];
          st = cl_buf_append(&a.values, v, strlen(v), err);
          if (!st)
            st = cl_arr_push_offset(&a, a.values.len, err);
        } else if (!strcmp(name, "run")) {
          int32_t v = null ? 0 : (int32_t)(((int64_t)k * ROWS_PER_BATCH + i) / 300);
          st = cl_buf_append(&a.values, &v, 4, err);
        } else {
          int64_t v = 7 + k;
          st = cl_buf_append(&a.values, &v, 8, err);
        }
        if (!st)
          st = null ? cl_arr_append_null(&a, 1, err) : cl_arr_append_valid(&a, 1, err);
      }
    } else {
      /* Batch 1 of i32 is all null: all-null pages. */
      int null_pct = k == 1 && !strcmp(name, "i32") ? 100 : 10;
      size_t max_str = !strcmp(name, "long") ? 700 : 24;
      st = td_fill(&a, &s->fields[c], ROWS_PER_BATCH, null_pct, max_str, &r, err);
      /* vn: null items in batch 1 only, so that row access gathers pages
       * with and without item validity into one array; vd: none (plain
       * full-zip values, read straight into the array). */
      if (!st && ((!strcmp(name, "vn") && k != 1) || !strcmp(name, "vd"))) {
        a.children[0].null_count = 0;
        a.children[0].validity.len = 0;
      }
    }
    if (!st)
      st = cl_arr_export(&a, &kids[c], err);
    cl_arr_free(&a);
    CL_TRY(st);
  }
  return cl_struct_array_export(ROWS_PER_BATCH, kids, s->n_fields, out, err);
}

static void fixture_free(fixture *fx) {
  for (int k = 0; k < BATCHES; k++)
    if (fx->expect[k].release)
      fx->expect[k].release(&fx->expect[k]);
  cl_schema_free(&fx->s);
  cl_test_rmtree(fx->dir);
}

/* Write ROWS rows in 3 fragments with many small pages. */
static int fixture_make(fixture *fx, const char *version) {
  clance_error err;
  memset(fx, 0, sizeof *fx);
  fx->dir = cl_test_tmpdir("take");
  snprintf(fx->uri, sizeof fx->uri, "%s/t.lance", fx->dir);
  if (cl_schema_parse_spec(SPEC, &fx->s, &err))
    return -1;
  struct ArrowArray batches[BATCHES];
  for (int k = 0; k < BATCHES; k++)
    if (make_batch(&fx->s, k, &batches[k], &err) || make_batch(&fx->s, k, &fx->expect[k], &err))
      return -1;
  struct ArrowArrayStream stream;
  if (cl_stream_from_batches(&fx->s, batches, BATCHES, &stream, &err))
    return -1;
  clance_write_options o;
  clance_write_options_init(&o);
  o.data_storage_version = version;
  o.max_rows_per_file = 4000; /* 9000 rows -> 3 fragments */
  o.page_bytes = 16 * 1024;   /* many pages per column */
  o.max_rows_per_group = 1000;
  clance_fragments *f;
  if (clance_write_fragments(fx->uri, NULL, &stream, &o, &f, &err)) {
    fprintf(stderr, "write: %s\n", err.message);
    return -1;
  }
  struct ArrowSchema as;
  clance_operation *op;
  uint64_t v;
  clance_status st = cl_schema_to_arrow(&fx->s, &as, &err);
  if (!st)
    st = clance_operation_overwrite(&as, f, &op, &err);
  if (!st) {
    st = clance_commit(fx->uri, op, 0, NULL, &v, &err);
    clance_operation_free(op);
  }
  clance_fragments_free(f);
  if (as.release)
    as.release(&as);
  if (st)
    fprintf(stderr, "commit: %s\n", err.message);
  return st ? -1 : 0;
}

static const struct ArrowArray *expect_col(const fixture *fx, int64_t row, size_t c, int64_t *at) {
  *at = row % ROWS_PER_BATCH;
  return fx->expect[row / ROWS_PER_BATCH].children[c];
}

/* Compare row i of batch b (columns `cols` of the schema, n of them) with
 * written row `row`. */
static int row_equal(const fixture *fx, const struct ArrowArray *b, int64_t i, int64_t row,
                     const size_t *cols, size_t n) {
  for (size_t k = 0; k < n; k++) {
    int64_t at;
    const struct ArrowArray *e = expect_col(fx, row, cols[k], &at);
    if (!td_equal_at(&fx->s.fields[cols[k]], b->children[k], i, e, at)) {
      fprintf(stderr, "row %lld column %s differs\n", (long long)row, fx->s.fields[cols[k]].name);
      return 0;
    }
  }
  return 1;
}

/* ---- pages: row access against the whole-page decode ---- */

static void check_pages(fixture *fx, const char *version) {
  clance_error err;
  char data[4300];
  snprintf(data, sizeof data, "%s/data", fx->uri);
  DIR *d = opendir(data);
  REQUIRE(d);
  struct dirent *de;
  size_t supported_cols[16] = {0}, pages = 0;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.')
      continue;
    char path[4600];
    snprintf(path, sizeof path, "%s/%s", data, de->d_name);
    cl_file_reader *r;
    REQUIRE_OK(cl_file_reader_open(path, 0, &r, &err), &err);
    for (size_t c = 0; c < fx->s.n_fields && c < r->n_cols; c++) {
      const cl_column_info *ci;
      REQUIRE_OK(cl_file_reader_column(r, c, &ci, &err), &err);
      const cl_field *f = &r->schema.fields[c];
      for (size_t p = 0; p < ci->n_pages; p++) {
        uint64_t len = ci->pages[p].length;
        struct ArrowArray whole;
        REQUIRE_OK(cl_file_reader_decode_page(r, c, p, f, &whole, &err), &err);
        cl_page_rows *pr;
        int ok;
        REQUIRE_OK(cl_file_reader_page_rows(r, c, p, f, &pr, &ok, &err), &err);
        pages++;
        if (ok) {
          supported_cols[c]++;
          /* Every row, then every third, then a few from the end. */
          uint64_t *rows = malloc((size_t)len * sizeof *rows);
          REQUIRE(rows);
          for (int pass = 0; pass < 3; pass++) {
            size_t n = 0;
            for (uint64_t i = pass == 2 ? (len > 5 ? len - 5 : 0) : 0; i < len; i += pass == 1 ? 3 : 1)
              rows[n++] = i;
            cl_arr a;
            REQUIRE_OK(cl_arr_init(&a, f, &err), &err);
            CHECK_OK(cl_page_rows_take(pr, rows, n, &a, &err), &err);
            struct ArrowArray got;
            REQUIRE_OK(cl_arr_export(&a, &got, &err), &err);
            cl_arr_free(&a);
            CHECK_EQ_U64(got.length, n);
            CHECK_OK(cl_array_validate(f, &got, "row access", &err), &err);
            for (size_t i = 0; i < n && (int64_t)i < got.length; i++)
              if (!td_equal_at(f, &got, (int64_t)i, &whole, (int64_t)rows[i])) {
                fprintf(stderr, "%s: %s column %s page %zu row %llu differs from the page decode\n",
                        version ? version : "2.1", de->d_name, f->name, p,
                        (unsigned long long)rows[i]);
                CHECK(0);
                break;
              }
            got.release(&got);
          }
          free(rows);
          cl_page_rows_free(pr);
        }
        whole.release(&whole);
      }
    }
    cl_file_reader_close(r);
  }
  closedir(d);
  CHECK(pages > 0);
  /* Every flat column has pages with row access (all-null and constant
   * pages, as "same" has in 2.2, and 2.0 pages other than Flat, Binary and
   * FixedSizeList need none). */
  for (size_t c = 0; c < fx->s.n_fields; c++)
    if (!supported_cols[c] && strcmp(fx->s.fields[c].name, "same")) {
      fprintf(stderr, "%s: no page of column %s has row access\n", version ? version : "2.1",
              fx->s.fields[c].name);
      CHECK(0);
    }
}

/* ---- takes ---- */

/* Take `rows` (positions among live rows; `live` maps them to written
 * rows, NULL = the same) and compare every value. */
static void check_take(fixture *fx, clance_dataset *ds, const uint64_t *rows, size_t n,
                       const int64_t *live, const char *const *cols, size_t ncols) {
  clance_error err;
  clance_scan_options o;
  clance_scan_options_init(&o);
  o.columns = cols;
  o.num_columns = ncols;
  struct ArrowArray a;
  REQUIRE_OK(clance_dataset_take(ds, rows, n, cols ? &o : NULL, &a, NULL, &err), &err);
  size_t idx[16], k = 0;
  for (size_t c = 0; c < fx->s.n_fields; c++)
    if (!cols)
      idx[k++] = c;
  for (size_t j = 0; cols && j < ncols; j++)
    idx[k++] = (size_t)cl_schema_index(&fx->s, cols[j]);
  CHECK_EQ_U64(a.length, n);
  CHECK_EQ_U64(a.n_children, k);
  for (size_t c = 0; c < k && c < (size_t)a.n_children; c++)
    CHECK_OK(cl_array_validate(&fx->s.fields[idx[c]], a.children[c], "take", &err), &err);
  size_t bad = 0;
  for (size_t i = 0; i < n && (int64_t)i < a.length && bad < 3; i++)
    if (!row_equal(fx, &a, (int64_t)i, live ? live[rows[i]] : (int64_t)rows[i], idx, k))
      bad++;
  CHECK_EQ_U64(bad, 0);
  a.release(&a);
}

static void takes(fixture *fx, clance_dataset *ds, uint64_t n_live, const int64_t *live) {
  uint64_t *rows = malloc(2 * ROWS * sizeof *rows);
  REQUIRE(rows);
  td_rng r = {42};
  /* Random, unsorted, with repeats. */
  size_t n = 0;
  for (int i = 0; i < 700; i++)
    rows[n++] = td_next(&r) % n_live;
  rows[n++] = 0;
  rows[n++] = n_live - 1;
  rows[n++] = rows[3];
  check_take(fx, ds, rows, n, live, NULL, 0);
  /* Sparse and sorted: one row in 37. */
  n = 0;
  for (uint64_t i = 5; i < n_live; i += 37)
    rows[n++] = i;
  check_take(fx, ds, rows, n, live, NULL, 0);
  /* Dense: every row of a range (pages decoded whole), descending. */
  n = 0;
  for (uint64_t i = n_live / 2 + 1500; i-- > n_live / 2 - 1500;)
    rows[n++] = i;
  check_take(fx, ds, rows, n, live, NULL, 0);
  /* Every row, and a projection in another order. */
  n = 0;
  for (uint64_t i = 0; i < n_live; i++)
    rows[n++] = i;
  check_take(fx, ds, rows, n, live, NULL, 0);
  const char *cols[] = {"long", "v128", "id", "s"};
  n = 0;
  for (uint64_t i = 1; i < n_live; i += 11)
    rows[n++] = i;
  check_take(fx, ds, rows, n, live, cols, 4);
  free(rows);
}

/* ---- filtered scans ---- */

typedef int (*pred_fn)(const fixture *fx, int64_t row);

static double f64_at(const fixture *fx, int64_t row, int *valid) {
  int64_t at;
  const struct ArrowArray *a = expect_col(fx, row, 3, &at);
  *valid = cl_array_valid(a, at);
  return ((const double *)a->buffers[1])[a->offset + at];
}

static int p_first(const fixture *fx, int64_t row) { (void)fx; return row < 50; }
static int p_last(const fixture *fx, int64_t row) { (void)fx; return row >= ROWS - 40; }
static int p_one(const fixture *fx, int64_t row) { (void)fx; return row == 4321; }
static int p_range(const fixture *fx, int64_t row) {
  (void)fx;
  return (row >= 3000 && row < 3100) || row == 7;
}
static int p_sparse(const fixture *fx, int64_t row) { /* about 1 row in 20, random */
  int v;
  double x = f64_at(fx, row, &v);
  return v && x < -8.3e9;
}
static int p_dense(const fixture *fx, int64_t row) { /* about 45 %, random */
  int v;
  double x = f64_at(fx, row, &v);
  return v && x > 0;
}

static void check_filter(fixture *fx, clance_dataset *ds, const char *filter, pred_fn pred,
                         const char *const *cols, size_t ncols, uint64_t batch,
                         const int64_t *live, uint64_t n_live) {
  clance_error err;
  clance_scan_options o;
  clance_scan_options_init(&o);
  o.filter = filter;
  o.columns = cols;
  o.num_columns = ncols;
  o.batch_size = batch;
  size_t idx[16], k = 0;
  for (size_t c = 0; !cols && c < fx->s.n_fields; c++)
    idx[k++] = c;
  for (size_t j = 0; cols && j < ncols; j++)
    idx[k++] = (size_t)cl_schema_index(&fx->s, cols[j]);
  struct ArrowArrayStream s;
  REQUIRE_OK(clance_dataset_scan(ds, &o, &s, &err), &err);
  uint64_t at = 0; /* next live row to consider */
  size_t bad = 0, rows = 0;
  for (;;) {
    struct ArrowArray b;
    if (s.get_next(&s, &b)) {
      fprintf(stderr, "filter %s: %s\n", filter, s.get_last_error(&s));
      CHECK(0);
      break;
    }
    if (!b.release)
      break;
    CHECK_EQ_U64(b.n_children, k);
    for (size_t c = 0; c < k && c < (size_t)b.n_children; c++)
      CHECK_OK(cl_array_validate(&fx->s.fields[idx[c]], b.children[c], "filtered scan", &err), &err);
    for (int64_t i = 0; i < b.length; i++, rows++) {
      while (at < n_live && !pred(fx, live ? live[at] : (int64_t)at))
        at++;
      if (at == n_live) {
        if (bad++ < 3)
          fprintf(stderr, "filter %s: more rows than expected\n", filter);
        break;
      }
      int64_t row = live ? live[at] : (int64_t)at;
      if (!row_equal(fx, &b, i, row, idx, k) && bad++ < 3)
        fprintf(stderr, "filter %s: output row %zu is not row %lld\n", filter, rows, (long long)row);
      at++;
    }
    b.release(&b);
  }
  s.release(&s);
  while (at < n_live && !pred(fx, live ? live[at] : (int64_t)at))
    at++;
  if (at != n_live)
    fprintf(stderr, "filter %s: rows missing from the output\n", filter);
  CHECK(at == n_live);
  CHECK_EQ_U64(bad, 0);
  size_t want = 0;
  for (uint64_t i = 0; i < n_live; i++)
    want += (size_t)pred(fx, live ? live[i] : (int64_t)i);
  CHECK_EQ_U64(rows, want);
}

static void filters(fixture *fx, clance_dataset *ds, const int64_t *live, uint64_t n_live) {
  static const struct {
    const char *sql;
    pred_fn pred;
  } F[] = {
      {"id < 50", p_first},
      {"id >= 8960", p_last},
      {"id = 4321", p_one},
      {"id >= 3000 AND id < 3100 OR id = 7", p_range},
      {"f64 < -8300000000", p_sparse},
      {"f64 > 0", p_dense},
  };
  const char *other[] = {"long", "v128", "s", "b", "vd"}; /* no filter column */
  const char *mixed[] = {"s", "f64", "id", "v8", "long", "cat", "run"}; /* filter columns among them */
  for (size_t i = 0; i < sizeof F / sizeof F[0]; i++) {
    check_filter(fx, ds, F[i].sql, F[i].pred, NULL, 0, 0, live, n_live);
    check_filter(fx, ds, F[i].sql, F[i].pred, NULL, 0, 700, live, n_live);
    check_filter(fx, ds, F[i].sql, F[i].pred, other, 5, 333, live, n_live);
    check_filter(fx, ds, F[i].sql, F[i].pred, mixed, 7, 1000, live, n_live);
  }
  /* Counting reads the filter column only. */
  clance_error err;
  uint64_t count, want = 0;
  for (uint64_t i = 0; i < n_live; i++)
    want += (uint64_t)p_sparse(fx, live ? live[i] : (int64_t)i);
  CHECK_OK(clance_dataset_count_rows_where(ds, "f64 < -8300000000", &count, &err), &err);
  CHECK_EQ_U64(count, want);
}

static void run_version(const char *version) {
  fixture fx;
  clance_error err;
  REQUIRE(fixture_make(&fx, version) == 0);
  check_pages(&fx, version);
  clance_dataset *ds;
  REQUIRE_OK(clance_dataset_open(fx.uri, 0, &ds, &err), &err);
  takes(&fx, ds, ROWS, NULL);
  filters(&fx, ds, NULL, ROWS);
  clance_dataset_close(ds);
  /* With deletions: scattered rows, the first 300 and a run of 700 (a
   * whole page or more). */
  uint64_t v, deleted;
  REQUIRE_OK(clance_dataset_delete(fx.uri, "f64 < -8800000000 OR id < 300 OR id >= 5000 AND id < 5700",
                                   NULL, &v, &deleted, &err), &err);
  int64_t *live = malloc(ROWS * sizeof *live);
  REQUIRE(live);
  uint64_t n_live = 0;
  for (int64_t i = 0; i < ROWS; i++) {
    int valid;
    double x = f64_at(&fx, i, &valid);
    if (!((valid && x < -8.8e9) || i < 300 || (i >= 5000 && i < 5700)))
      live[n_live++] = i;
  }
  CHECK_EQ_U64(deleted, ROWS - n_live);
  REQUIRE_OK(clance_dataset_open(fx.uri, 0, &ds, &err), &err);
  CHECK_EQ_U64(clance_dataset_count_rows(ds), n_live);
  takes(&fx, ds, n_live, live);
  filters(&fx, ds, live, n_live);
  clance_dataset_close(ds);
  free(live);
  fixture_free(&fx);
}

static void test_take_20(void) { run_version("2.0"); }
static void test_take_21(void) { run_version("2.1"); }
static void test_take_22(void) { run_version("2.2"); }

int main(void) {
  RUN(test_take_20);
  RUN(test_take_21);
  RUN(test_take_22);
  return cl_test_failures ? 1 : 0;
}
