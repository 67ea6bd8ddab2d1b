/* Writing struct columns: a struct's leaves are written as columns (2.1+:
 * their pages carry one layer per struct around them, and null structs are
 * definition levels; 2.0: each struct also gets its header column), in
 * every format, with and without threads, with small and default pages,
 * from batches whose structs and leaves are slices; what is read back is
 * what was written, the files do not depend on the thread count, and 2.0
 * refuses a null struct value (Lance does too). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/array.h"
#include "test.h"
#include "testdata.h"

#define SPEC "id:int64,st:struct(w:vector(float32,80),q:string,in:struct(k:int64,b:bool)),z:float64"
#define BATCHES 6

/* Leaves of SPEC in pre-order, as paths of child indices from the batch. */
static const int leaf_path[][3] = {{0, -1, -1}, {1, 0, -1}, {1, 1, -1}, {1, 2, 0}, {1, 2, 1}, {2, -1, -1}};
#define N_LEAVES 6

static const cl_field *leaf_field(const cl_schema *s, int l) {
  const cl_field *f = &s->fields[leaf_path[l][0]];
  for (int d = 1; d < 3 && leaf_path[l][d] >= 0; d++)
    f = &f->children[leaf_path[l][d]];
  return f;
}

/* The leaf array of batch b and the index in it of the batch's row i. */
static const struct ArrowArray *leaf_at(const struct ArrowArray *b, int l, int64_t i, int64_t *at) {
  const struct ArrowArray *a = b;
  int64_t row = b->offset + i;
  for (int d = 0; d < 3 && leaf_path[l][d] >= 0; d++) {
    a = a->children[leaf_path[l][d]];
    if (d + 1 < 3 && leaf_path[l][d + 1] >= 0)
      row += a->offset; /* a struct: its offset applies to its children */
  }
  *at = row;
  return a;
}

static clance_status fill_leaf(const cl_field *f, int64_t n, int64_t off, int null_pct, td_rng *r,
                               struct ArrowArray *out, clance_error *err) {
  cl_arr a;
  CL_TRY(cl_arr_init(&a, f, err));
  clance_status st = td_fill(&a, f, n + off, null_pct, 300, r, err);
  if (!st)
    st = cl_arr_export(&a, out, err);
  cl_arr_free(&a);
  CL_TRY(st);
  out->offset = off; /* a slice: its rows start later */
  out->length = n;
  out->null_count = -1;
  return CLANCE_OK;
}

/* A struct of n rows from row `off` of the given children (each at least
 * off + n rows long). */
static clance_status struct_slice(int64_t n, int64_t off, struct ArrowArray *kids, size_t nk,
                                  struct ArrowArray *out, clance_error *err) {
  CL_TRY(cl_struct_array_export(n + off, kids, nk, out, err));
  out->offset = off;
  out->length = n;
  return CLANCE_OK;
}

/* Batches whose every array is a slice: the leaves start 1-3 rows into
 * their buffers, `in` one row into its children, `st` two rows into its
 * own (so a leaf of `in` is read 3 rows further than its own offset). */
/* Struct validity of batch k (st, in): null every 7th / 5th row of the
 * batches with nulls; the bitmaps stay valid while the batches live. */
static uint8_t struct_bits[BATCHES][2][256];

static void set_struct_nulls(struct ArrowArray *a, uint8_t *bits, int every) {
  memset(bits, 0xFF, 256);
  for (int64_t r = 0; r < a->length; r++)
    if (r % every == 3)
      bits[(a->offset + r) / 8] &= (uint8_t)~(1u << ((a->offset + r) % 8));
  a->buffers[0] = bits;
  a->null_count = -1;
}

/* Is row i of batch b's struct `st` (level 0) or `in` (level 1) valid? */
static int struct_valid(const struct ArrowArray *b, int level, int64_t i) {
  const struct ArrowArray *st = b->children[1];
  int64_t row = b->offset + i;
  if (level == 0)
    return cl_array_valid(st, row);
  return cl_array_valid(st->children[2], st->offset + row);
}

static clance_status make_batches(const cl_schema *s, struct ArrowArray *out, int64_t *rows,
                                  int struct_nulls, clance_error *err) {
  td_rng r = {0x5747};
  *rows = 0;
  for (int k = 0; k < BATCHES; k++) {
    int64_t n = 300 + (int64_t)(td_next(&r) % 900);
    int np = k % 3 == 0 ? 0 : 10; /* null-free batches: in-place full-zip vector pages */
    const cl_field *st = &s->fields[1], *in = &st->children[2];
    struct ArrowArray top[3], stk[3], ink[2];
    CL_TRY(fill_leaf(&in->children[0], n + 3, 3, np, &r, &ink[0], err));
    CL_TRY(fill_leaf(&in->children[1], n + 3, 1, np, &r, &ink[1], err));
    CL_TRY(struct_slice(n + 2, 1, ink, 2, &stk[2], err));
    CL_TRY(fill_leaf(&st->children[0], n + 2, 2, np, &r, &stk[0], err));
    CL_TRY(fill_leaf(&st->children[1], n + 2, 1, np, &r, &stk[1], err));
    CL_TRY(struct_slice(n, 2, stk, 3, &top[1], err));
    CL_TRY(fill_leaf(&s->fields[0], n, k % 2, np, &r, &top[0], err));
    CL_TRY(fill_leaf(&s->fields[2], n, 0, np, &r, &top[2], err));
    CL_TRY(cl_struct_array_export(n, top, 3, &out[k], err));
    if (struct_nulls && np) {
      set_struct_nulls(out[k].children[1], struct_bits[k][0], 7);
      set_struct_nulls(out[k].children[1]->children[2], struct_bits[k][1], 5);
    }
    *rows += n;
  }
  return CLANCE_OK;
}

/* Entries of a directory (0 when it does not exist). */
static int dir_entries(const char *path) {
  DIR *d = opendir(path);
  int n = 0;
  if (!d)
    return 0;
  for (struct dirent *e; (e = readdir(d));)
    n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
  closedir(d);
  return n;
}

static void roundtrip(const char *version) {
  int nulls = strcmp(version, "2.0") != 0; /* 2.0 cannot store null structs */
  clance_error err;
  char *dir = cl_test_tmpdir("structw");
  cl_schema s;
  REQUIRE_OK(cl_schema_parse_spec(SPEC, &s, &err), &err);
  int32_t next = 0;
  cl_schema_assign_ids(&s, &next);
  struct ArrowArray expect[BATCHES];
  int64_t rows;
  REQUIRE_OK(make_batches(&s, expect, &rows, nulls, &err), &err);
  uint64_t page_bytes[] = {0, 4096};
  cl_buf first = CL_BUF_INIT, got = CL_BUF_INIT;
  for (int pb = 0; pb < 2; pb++)
    for (unsigned threads = 1; threads <= 3; threads += 2) {
      struct ArrowArray batches[BATCHES];
      REQUIRE_OK(make_batches(&s, batches, &rows, nulls, &err), &err);
      struct ArrowArrayStream stream;
      REQUIRE_OK(cl_stream_from_batches(&s, batches, BATCHES, &stream, &err), &err);
      char uri[4300];
      snprintf(uri, sizeof uri, "%s/t-%d-%u.lance", dir, pb, threads);
      clance_write_options o;
      clance_write_options_init(&o);
      o.data_storage_version = version;
      o.page_bytes = page_bytes[pb];
      o.max_rows_per_file = 1500; /* several files: a 2.0 header page in each */
      o.num_threads = threads;
      o.no_fsync = 1;
      clance_fragments *f;
      REQUIRE_OK(clance_write_fragments(uri, NULL, &stream, &o, &f, &err), &err);
      REQUIRE(clance_fragments_count(f) >= 3);
      /* 2.0 lists every field (struct headers included), 2.1+ the leaves. */
      char *json;
      REQUIRE_OK(clance_fragments_to_json(f, &json, &err), &err);
      CHECK(strstr(json, !strcmp(version, "2.0") ? "\"fields\": [0, 1, 2, 3, 4, 5, 6, 7]"
                                                 : "\"fields\": [0, 2, 3, 5, 6, 7]") != NULL);
      clance_free(json);
      REQUIRE(td_files_bytes(uri, f, &got));
      if (threads == 1) {
        first.len = 0;
        REQUIRE_OK(cl_buf_append(&first, got.data, got.len, &err), &err);
      } else if (got.len != first.len || memcmp(got.data, first.data, got.len) != 0) {
        fprintf(stderr, "%s, pages %llu: files differ between 1 and 3 threads\n", version,
                (unsigned long long)page_bytes[pb]);
        cl_test_failures++;
      }
      clance_dataset *ds;
      REQUIRE_OK(td_overwrite_scan(uri, &s, f, &ds, &stream, &err), &err);
      int64_t row = 0, bad = 0, in_k;
      td_cursor cur = {expect, BATCHES, 0, -1};
      const struct ArrowArray *e;
      struct ArrowArray b;
      while (stream.get_next(&stream, &b) == 0 && b.release) {
        for (int64_t i = 0; i < b.length; i++, row++) {
          if (!td_cursor_next(&cur, &e, &in_k)) {
            bad++;
            continue;
          }
          int sv = struct_valid(e, 0, in_k), iv = struct_valid(e, 1, in_k);
          if ((sv != struct_valid(&b, 0, i) || (sv && iv != struct_valid(&b, 1, i))) && bad++ < 5)
            fprintf(stderr, "%s: row %lld: struct validity differs\n", version, (long long)row);
          for (int l = 0; l < N_LEAVES; l++) {
            int64_t gi, ei;
            const struct ArrowArray *ga = leaf_at(&b, l, i, &gi), *ea = leaf_at(e, l, in_k, &ei);
            /* A leaf under a null struct may hold anything (Arrow's rule). */
            int under = leaf_path[l][0] == 1 && (!sv || (leaf_path[l][1] == 2 && !iv));
            int same = under || td_equal_at(leaf_field(&s, l), ga, gi, ea, ei);
            if (!same && bad++ < 5)
              fprintf(stderr, "%s: row %lld leaf %s differs\n", version, (long long)row,
                      leaf_field(&s, l)->name);
          }
        }
        b.release(&b);
      }
      CHECK_EQ_U64(row, rows);
      CHECK_EQ_U64(bad, 0);
      stream.release(&stream);
      clance_dataset_close(ds);
    }
  for (int k = 0; k < BATCHES; k++)
    expect[k].release(&expect[k]);
  cl_buf_free(&first);
  cl_buf_free(&got);
  cl_schema_free(&s);
  cl_test_rmtree(dir);
}

/* In 2.0 a null struct (here the inner one, in row 5 of the second batch)
 * is refused, naming the struct, and nothing is left in data/. */
static void test_null_struct_refused(void) {
  clance_error err;
  char *dir = cl_test_tmpdir("structnull");
  cl_schema s;
  REQUIRE_OK(cl_schema_parse_spec(SPEC, &s, &err), &err);
  struct ArrowArray batches[BATCHES];
  int64_t rows;
  REQUIRE_OK(make_batches(&s, batches, &rows, 0, &err), &err);
  static uint8_t bits[512];
  memset(bits, 0xFF, sizeof bits);
  struct ArrowArray *in = batches[1].children[1]->children[2];
  int64_t at = in->offset + batches[1].children[1]->offset + batches[1].offset + 5;
  bits[at / 8] &= (uint8_t)~(1u << (at % 8));
  in->buffers[0] = bits;
  in->null_count = 1;
  char uri[4300];
  snprintf(uri, sizeof uri, "%s/t.lance", dir);
  CHECK(td_write(uri, &s, batches, BATCHES, "2.0", &err) == CLANCE_EUNSUPPORTED);
  CHECK(strstr(err.message, "struct \"in\" has null values") != NULL);
  char data[4400];
  snprintf(data, sizeof data, "%s/data", uri);
  CHECK(dir_entries(data) == 0);
  cl_schema_free(&s);
  cl_test_rmtree(dir);
}

/* A child is read from its own offset on: a struct (or batch) of offset o
 * and length n needs children of at least o + n rows, whatever their own
 * offsets. A child of 7 rows from offset 5 under a batch of 5 rows from
 * offset 3 is refused (it was accepted, and read one row past its buffer,
 * when the check added the child's offset), also one level down. */
static void test_short_child_refused(void) {
  clance_error err;
  char *dir = cl_test_tmpdir("shortchild");
  cl_schema s;
  REQUIRE_OK(cl_schema_parse_spec("a:int64,t:struct(k:int64)", &s, &err), &err);
  for (int nested = 0; nested < 2; nested++) {
    td_rng r = {7};
    struct ArrowArray kids[2], inner, batch;
    REQUIRE_OK(fill_leaf(&s.fields[0], nested ? 8 : 7, 5, 0, &r, &kids[0], &err), &err);
    REQUIRE_OK(fill_leaf(&s.fields[1].children[0], nested ? 7 : 8, 5, 0, &r, &inner, &err), &err);
    REQUIRE_OK(struct_slice(8, 0, &inner, 1, &kids[1], &err), &err);
    REQUIRE_OK(cl_struct_array_export(8, kids, 2, &batch, &err), &err);
    batch.offset = 3;
    batch.length = 5;
    char uri[4300];
    snprintf(uri, sizeof uri, "%s/t%d.lance", dir, nested);
    CHECK(td_write(uri, &s, &batch, 1, NULL, &err) == CLANCE_EINVAL);
    CHECK(strstr(err.message, nested ? "struct child 0 is too short" : "shorter than the batch") != NULL);
  }
  cl_schema_free(&s);
  cl_test_rmtree(dir);
}

static void test_structs_20(void) { roundtrip("2.0"); }
static void test_structs_21(void) { roundtrip("2.1"); }
static void test_structs_22(void) { roundtrip("2.2"); }

int main(void) {
  RUN(test_structs_20);
  RUN(test_structs_21);
  RUN(test_structs_22);
  RUN(test_null_struct_refused);
  RUN(test_short_child_refused);
  TEST_MAIN_END();
}
