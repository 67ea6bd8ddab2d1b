/* Repetition/definition level assembly against the worked examples of the
 * 2.1 format notes (each verified there against files Lance wrote). */
#include "encoding/repdef.h"
#include "test.h"

#define R_ITEM LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_ALL_VALID_ITEM
#define N_ITEM LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULLABLE_ITEM
#define N_LIST LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULLABLE_LIST
#define E_LIST LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_EMPTYABLE_LIST
#define NE_LIST LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULL_AND_EMPTY_LIST

/* Assemble and export; the caller releases *out. */
static int assemble(const char *spec, const cl_layer *layers, size_t nl, const uint16_t *rep,
                    const uint16_t *def, size_t n, const int32_t *vals, size_t nv,
                    struct ArrowArray *out, cl_schema *s, uint64_t *rows) {
  clance_error err;
  if (cl_schema_parse_spec(spec, s, &err))
    return -1;
  cl_path p;
  if (cl_path_init(&p, &s->fields[0], layers, nl, "test", &err)) {
    fprintf(stderr, "path: %s\n", err.message);
    return -1;
  }
  cl_arr values, b;
  cl_arr_init(&values, p.nodes[p.depth - 1].field, &err);
  cl_buf_append(&values.values, vals, nv * 4, &err);
  values.length = (int64_t)nv;
  cl_arr_init(&b, &s->fields[0], &err);
  clance_status st = cl_levels_assemble(&p, rep, def, n, &values, &b, rows, "test", &err);
  if (!st)
    st = cl_arr_export(&b, out, &err);
  if (st)
    fprintf(stderr, "assemble: %s\n", err.message);
  cl_arr_free(&values);
  cl_arr_free(&b);
  return st ? -1 : 0;
}

static const int32_t *offs(const struct ArrowArray *a) { return a->buffers[1]; }

static void test_list_null_and_empty(void) {
  /* [[1,2], [], null, [3]] */
  cl_layer layers[] = {R_ITEM, NE_LIST};
  uint16_t rep[] = {1, 0, 1, 1, 1}, def[] = {0, 0, 2, 1, 0};
  int32_t vals[] = {1, 2, 3};
  struct ArrowArray a;
  cl_schema s;
  uint64_t rows;
  REQUIRE(assemble("l:list(int32)", layers, 2, rep, def, 5, vals, 3, &a, &s, &rows) == 0);
  CHECK_EQ_U64(rows, 4);
  CHECK_EQ_U64(a.length, 4);
  const int32_t *o = offs(&a);
  CHECK(o[0] == 0 && o[1] == 2 && o[2] == 2 && o[3] == 2 && o[4] == 3);
  CHECK(cl_array_valid(&a, 0) && cl_array_valid(&a, 1) && !cl_array_valid(&a, 2) && cl_array_valid(&a, 3));
  const int32_t *v = a.children[0]->buffers[1];
  CHECK(a.children[0]->length == 3 && v[0] == 1 && v[1] == 2 && v[2] == 3);
  a.release(&a);
  cl_schema_free(&s);
}

static void test_list_of_lists(void) {
  /* [[[0,1],[],[2]], [[3]], [], [[4]]] */
  cl_layer layers[] = {R_ITEM, E_LIST, E_LIST};
  uint16_t rep[] = {2, 0, 1, 1, 2, 2, 2}, def[] = {0, 0, 1, 0, 0, 2, 0};
  int32_t vals[] = {0, 1, 2, 3, 4};
  struct ArrowArray a;
  cl_schema s;
  uint64_t rows;
  REQUIRE(assemble("l:list(list(int32))", layers, 3, rep, def, 7, vals, 5, &a, &s, &rows) == 0);
  CHECK_EQ_U64(rows, 4);
  const int32_t *o = offs(&a), *oi = offs(a.children[0]);
  /* outer: rows have 3, 1, 0, 1 inner lists */
  CHECK(o[0] == 0 && o[1] == 3 && o[2] == 4 && o[3] == 4 && o[4] == 5);
  /* inner lists: [0,1], [], [2], [3], [4] */
  CHECK(oi[0] == 0 && oi[1] == 2 && oi[2] == 2 && oi[3] == 3 && oi[4] == 4 && oi[5] == 5);
  CHECK(a.null_count == 0 && a.children[0]->null_count == 0);
  a.release(&a);
  cl_schema_free(&s);
}

static void test_struct_over_list(void) {
  /* [{a:[1,2]}, null, {a:null}, {a:[null]}] */
  cl_layer layers[] = {N_ITEM, N_LIST, N_ITEM};
  uint16_t rep[] = {1, 0, 1, 1, 1}, def[] = {0, 0, 3, 2, 1};
  int32_t vals[] = {1, 2, 0};
  struct ArrowArray a;
  cl_schema s;
  uint64_t rows;
  REQUIRE(assemble("s:struct(a:list(int32))", layers, 3, rep, def, 5, vals, 3, &a, &s, &rows) == 0);
  CHECK_EQ_U64(rows, 4);
  CHECK(cl_array_valid(&a, 0) && !cl_array_valid(&a, 1) && cl_array_valid(&a, 2) && cl_array_valid(&a, 3));
  const struct ArrowArray *l = a.children[0];
  CHECK(cl_array_valid(l, 0) && !cl_array_valid(l, 1) && !cl_array_valid(l, 2) && cl_array_valid(l, 3));
  const int32_t *o = offs(l);
  CHECK(o[0] == 0 && o[1] == 2 && o[2] == 2 && o[3] == 2 && o[4] == 3);
  const struct ArrowArray *items = l->children[0];
  CHECK(items->length == 3 && cl_array_valid(items, 0) && cl_array_valid(items, 1) &&
        !cl_array_valid(items, 2));
  a.release(&a);
  cl_schema_free(&s);
}

static void test_struct_of_int(void) {
  /* [{a:1}, null, {a:null}] */
  cl_layer layers[] = {N_ITEM, N_ITEM};
  uint16_t def[] = {0, 2, 1};
  int32_t vals[] = {1, 0, 0};
  struct ArrowArray a;
  cl_schema s;
  uint64_t rows;
  REQUIRE(assemble("s:struct(a:int32)", layers, 2, NULL, def, 3, vals, 3, &a, &s, &rows) == 0);
  CHECK_EQ_U64(rows, 3);
  CHECK(cl_array_valid(&a, 0) && !cl_array_valid(&a, 1) && cl_array_valid(&a, 2));
  const struct ArrowArray *c = a.children[0];
  CHECK(cl_array_valid(c, 0) && !cl_array_valid(c, 1) && !cl_array_valid(c, 2));
  CHECK(((const int32_t *)c->buffers[1])[0] == 1);
  a.release(&a);
  cl_schema_free(&s);
}

static void test_bad_levels(void) {
  cl_layer layers[] = {R_ITEM, NE_LIST};
  struct ArrowArray a;
  cl_schema s;
  uint64_t rows;
  int32_t vals[] = {1, 2};
  /* Continuation of a list before any list started. */
  uint16_t rep1[] = {0, 1}, def1[] = {0, 0};
  CHECK(assemble("l:list(int32)", layers, 2, rep1, def1, 2, vals, 2, &a, &s, &rows) != 0);
  cl_schema_free(&s);
  /* A def level no layer has. */
  uint16_t rep2[] = {1, 0}, def2[] = {0, 7};
  CHECK(assemble("l:list(int32)", layers, 2, rep2, def2, 2, vals, 2, &a, &s, &rows) != 0);
  cl_schema_free(&s);
  /* More values than visible entries. */
  uint16_t rep3[] = {1, 1}, def3[] = {0, 1};
  CHECK(assemble("l:list(int32)", layers, 2, rep3, def3, 2, vals, 2, &a, &s, &rows) != 0);
  cl_schema_free(&s);
  /* Layers that do not fit the field. */
  cl_layer wrong[] = {NE_LIST, R_ITEM};
  uint16_t rep4[] = {1, 1}, def4[] = {0, 0};
  CHECK(assemble("l:list(int32)", wrong, 2, rep4, def4, 2, vals, 2, &a, &s, &rows) != 0);
  cl_schema_free(&s);
}

int main(void) {
  RUN(test_list_null_and_empty);
  RUN(test_list_of_lists);
  RUN(test_struct_over_list);
  RUN(test_struct_of_int);
  RUN(test_bad_levels);
  TEST_MAIN_END();
}
