/* Writing list columns (2.1/2.2, top level, a flat item): null lists,
 * empty lists, null items, long lists, sliced inputs whose null lists
 * still cover child values, several files and many small pages, with and
 * without threads; what is read back is what was written, the files do not
 * depend on the thread count, and what clance does not write yet (lists in
 * 2.0, in structs, of structs) is refused with a clear error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/array.h"
#include "test.h"
#include "testdata.h"

#define SPEC "id:int64,li:list(int32),ls:large_list(string),lv:list(vector(float32,3)),lb:list(binary)"
#define BATCHES 5

/* Rows of one list column: lengths 0-12 (row % 97 == 5: 300 items), 10 %
 * null lists (whose offsets still cover 2 items), items ~10 % null. */
static clance_status fill_list(const cl_field *f, int64_t n, td_rng *r, cl_arr *a, clance_error *err) {
  const cl_field *item = &f->children[0];
  for (int64_t i = 0; i < n; i++) {
    int null = td_next(r) % 10 == 0;
    int64_t k = null ? 2 : i % 97 == 5 ? 300 : (int64_t)(td_next(r) % 13);
    CL_TRY(td_fill(&a->children[0], item, k, 10, 24, r, err));
    CL_TRY(cl_arr_push_offset(a, (uint64_t)a->children[0].length, err));
    CL_TRY(null ? cl_arr_append_null(a, 1, err) : cl_arr_append_valid(a, 1, err));
  }
  return CLANCE_OK;
}

static clance_status make_batches(const cl_schema *s, struct ArrowArray *out, int64_t *rows,
                                  clance_error *err) {
  td_rng r = {0x1157};
  *rows = 0;
  for (int k = 0; k < BATCHES; k++) {
    int64_t n = 200 + (int64_t)(td_next(&r) % 700), off = k % 3;
    struct ArrowArray kids[5];
    for (size_t c = 0; c < s->n_fields; c++) {
      cl_arr a;
      CL_TRY(cl_arr_init(&a, &s->fields[c], err));
      clance_status st = c == 0 ? td_fill(&a, &s->fields[c], n + off, 0, 0, &r, err)
                                : fill_list(&s->fields[c], n + off, &r, &a, err);
      if (!st)
        st = cl_arr_export(&a, &kids[c], err);
      cl_arr_free(&a);
      CL_TRY(st);
      kids[c].null_count = -1;
    }
    CL_TRY(cl_struct_array_export(n + off, kids, s->n_fields, &out[k], err));
    out[k].offset = off; /* a slice of the batch */
    out[k].length = n;
    *rows += n;
  }
  return CLANCE_OK;
}

static int64_t list_off(const struct ArrowArray *a, int large, int64_t i) {
  return large ? ((const int64_t *)a->buffers[1])[a->offset + i]
               : ((const int32_t *)a->buffers[1])[a->offset + i];
}

/* Row i of list column x equals row j of y: validity, length, items. */
static int same_list(const cl_field *f, const struct ArrowArray *x, int64_t i, const struct ArrowArray *y,
                     int64_t j) {
  int vx = cl_array_valid(x, i), vy = cl_array_valid(y, j);
  if (vx != vy)
    return 0;
  if (!vx)
    return 1;
  int large = f->type == CL_TYPE_LARGE_LIST;
  int64_t x0 = list_off(x, large, i), x1 = list_off(x, large, i + 1);
  int64_t y0 = list_off(y, large, j), y1 = list_off(y, large, j + 1);
  if (x1 - x0 != y1 - y0)
    return 0;
  for (int64_t k = 0; k < x1 - x0; k++)
    if (!td_equal_at(&f->children[0], x->children[0], x0 + k, y->children[0], y0 + k))
      return 0;
  return 1;
}

static void roundtrip(const char *version) {
  clance_error err;
  char *dir = cl_test_tmpdir("listw");
  cl_schema s;
  REQUIRE_OK(cl_schema_parse_spec(SPEC, &s, &err), &err);
  int32_t next = 0;
  cl_schema_assign_ids(&s, &next);
  struct ArrowArray expect[BATCHES];
  int64_t rows;
  REQUIRE_OK(make_batches(&s, expect, &rows, &err), &err);
  cl_buf first = CL_BUF_INIT, got = CL_BUF_INIT;
  for (unsigned threads = 1; threads <= 3; threads += 2) {
    struct ArrowArray batches[BATCHES];
    REQUIRE_OK(make_batches(&s, batches, &rows, &err), &err);
    struct ArrowArrayStream stream;
    REQUIRE_OK(cl_stream_from_batches(&s, batches, BATCHES, &stream, &err), &err);
    char uri[4300];
    snprintf(uri, sizeof uri, "%s/t%u.lance", dir, threads);
    clance_write_options o;
    clance_write_options_init(&o);
    o.data_storage_version = version;
    o.page_bytes = 8192; /* many pages */
    o.max_rows_per_file = 1200;
    o.num_threads = threads;
    o.no_fsync = 1;
    clance_fragments *f;
    REQUIRE_OK(clance_write_fragments(uri, NULL, &stream, &o, &f, &err), &err);
    REQUIRE(clance_fragments_count(f) >= 2);
    char *json;
    REQUIRE_OK(clance_fragments_to_json(f, &json, &err), &err);
    /* The leaves: id, and each list's item (ids 0, 2, 4, 6, 8). */
    CHECK(strstr(json, "\"fields\": [0, 2, 4, 6, 8]") != NULL);
    clance_free(json);
    REQUIRE(td_files_bytes(uri, f, &got));
    if (threads == 1) /* the same bytes for 1 and 3 threads */
      REQUIRE_OK(cl_buf_append(&first, got.data, got.len, &err), &err);
    else
      CHECK(got.len == first.len && !memcmp(got.data, first.data, got.len));
    clance_dataset *ds;
    REQUIRE_OK(td_overwrite_scan(uri, &s, f, &ds, &stream, &err), &err);
    int64_t row = 0, bad = 0, in_k;
    td_cursor cur = {expect, BATCHES, 0, -1};
    const struct ArrowArray *eb;
    struct ArrowArray b;
    while (stream.get_next(&stream, &b) == 0 && b.release) {
      for (int64_t i = 0; i < b.length; i++, row++) {
        if (!td_cursor_next(&cur, &eb, &in_k)) {
          bad++;
          continue;
        }
        for (size_t c = 0; c < s.n_fields; c++) {
          const struct ArrowArray *e = eb->children[c];
          int64_t ei = eb->offset + in_k;
          int same = c == 0 ? td_equal_at(&s.fields[0], b.children[0], i, e, ei)
                            : same_list(&s.fields[c], b.children[c], b.offset + i, e, ei);
          if (!same && bad++ < 5)
            fprintf(stderr, "%s: row %lld column %s differs\n", version, (long long)row,
                    s.fields[c].name);
        }
      }
      b.release(&b);
    }
    CHECK_EQ_U64(row, rows);
    CHECK_EQ_U64(bad, 0);
    stream.release(&stream);
    clance_dataset_close(ds);
  }
  cl_buf_free(&first);
  cl_buf_free(&got);
  for (int k = 0; k < BATCHES; k++)
    expect[k].release(&expect[k]);
  cl_schema_free(&s);
  cl_test_rmtree(dir);
}

/* Refused, naming the column: lists in 2.0, a list in a struct, a list of
 * structs, a list of lists, a list of bools. */
static void test_refused(void) {
  clance_error err;
  char *dir = cl_test_tmpdir("listno");
  struct {
    const char *spec, *version, *want;
  } cases[] = {
      {"a:list(int32)", "2.0", "column \"a\": clance writes list columns in file format 2.1"},
      {"s:struct(a:list(int32))", "2.1", "column \"a\": writing type list(int32) is not supported"},
      {"a:list(struct(x:int32))", "2.1", "column \"a\": writing type list(struct"},
      {"a:list(list(int32))", "2.2", "column \"a\": writing type list(list(int32))"},
      {"a:list(bool)", "2.1", "column \"a\": writing type list(bool)"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    cl_schema s;
    REQUIRE_OK(cl_schema_parse_spec(cases[c].spec, &s, &err), &err);
    struct ArrowArray none;
    char uri[4300];
    snprintf(uri, sizeof uri, "%s/t%zu.lance", dir, c);
    CHECK(td_write(uri, &s, &none, 0, cases[c].version, &err) == CLANCE_EUNSUPPORTED);
    if (!strstr(err.message, cases[c].want)) {
      fprintf(stderr, "%s (%s): got \"%s\"\n", cases[c].spec, cases[c].version, err.message);
      cl_test_failures++;
    }
    cl_schema_free(&s);
  }
  cl_test_rmtree(dir);
}

static void test_lists_21(void) { roundtrip("2.1"); }
static void test_lists_22(void) { roundtrip("2.2"); }

int main(void) {
  RUN(test_lists_21);
  RUN(test_lists_22);
  RUN(test_refused);
  TEST_MAIN_END();
}
