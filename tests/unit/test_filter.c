/* Filter parsing and SQL three-valued evaluation. */
#include <math.h>

#include "dataset/filter.h"
#include "test.h"

/* Batch: i:int64 = [1, 2, null, 4, -5], s:string = ["x", null, "y", "x", ""],
 * f:float64 = [0.5, NaN, 1.0, null, -2], b:bool = [true, false, null, true, false]. */
static struct ArrowArray batch;
static cl_schema schema;
static const char *names[] = {"i", "s", "f", "b"};

static int setup(void) {
  clance_error err;
  if (cl_schema_parse_spec("i:int64,s:string,f:float64,b:bool", &schema, &err))
    return -1;
  cl_arr a[4];
  for (int c = 0; c < 4; c++)
    cl_arr_init(&a[c], &schema.fields[c], &err);
  int64_t iv[] = {1, 2, 0, 4, -5};
  const char *sv[] = {"x", NULL, "y", "x", ""};
  double fv[] = {0.5, NAN, 1.0, 0, -2};
  int bv[] = {1, 0, -1, 1, 0};
  for (int r = 0; r < 5; r++) {
    cl_buf_append(&a[0].values, &iv[r], 8, &err);
    if (r == 2)
      cl_arr_append_null(&a[0], 1, &err);
    else
      cl_arr_append_valid(&a[0], 1, &err);
    if (sv[r]) {
      cl_buf_append(&a[1].values, sv[r], strlen(sv[r]), &err);
      cl_arr_push_offset(&a[1], a[1].values.len, &err);
      cl_arr_append_valid(&a[1], 1, &err);
    } else {
      cl_arr_append_nulls(&a[1], 1, &err);
    }
    cl_buf_append(&a[2].values, &fv[r], 8, &err);
    if (r == 3)
      cl_arr_append_null(&a[2], 1, &err);
    else
      cl_arr_append_valid(&a[2], 1, &err);
    if (bv[r] < 0) {
      cl_arr_append_nulls(&a[3], 1, &err);
    } else {
      if (a[3].values.len < 1)
        cl_buf_fill(&a[3].values, 0, 1, &err);
      if (bv[r])
        cl_bit_set(a[3].values.data, r);
      cl_arr_append_valid(&a[3], 1, &err);
    }
  }
  struct ArrowArray kids[4];
  for (int c = 0; c < 4; c++) {
    cl_arr_export(&a[c], &kids[c], &err);
    cl_arr_free(&a[c]);
  }
  return cl_struct_array_export(5, kids, 4, &batch, &err) ? -1 : 0;
}

/* Rows kept, as a string of 0/1. */
static const char *keep(const char *expr) {
  static char out[8];
  clance_error err;
  cl_filter *f;
  if (cl_filter_parse(expr, &schema, &f, &err)) {
    snprintf(out, sizeof out, "ERR");
    return out;
  }
  uint8_t k[5];
  if (cl_filter_eval(f, &batch, names, 4, k, &err))
    snprintf(out, sizeof out, "EVAL");
  else
    for (int i = 0; i < 5; i++)
      out[i] = (char)('0' + k[i]), out[5] = 0;
  cl_filter_free(f);
  return out;
}

static void test_comparisons(void) {
  CHECK_STR(keep("i > 1"), "01010");
  CHECK_STR(keep("i >= 1"), "11010");
  CHECK_STR(keep("1 < i"), "01010"); /* literal first */
  CHECK_STR(keep("i = -5"), "00001");
  CHECK_STR(keep("i != 2"), "10011"); /* NULL != 2 is unknown: dropped */
  CHECK_STR(keep("i <> 2"), "10011");
  CHECK_STR(keep("i < 1.5"), "10001");
  CHECK_STR(keep("i > 18446744073709551615"), "00000");
  CHECK_STR(keep("s = 'x'"), "10010");
  CHECK_STR(keep("s > 'x'"), "00100");
  CHECK_STR(keep("s = ''"), "00001");
  CHECK_STR(keep("f > 0"), "11100"); /* NaN sorts above every number */
  CHECK_STR(keep("b = true"), "10010");
  CHECK_STR(keep("b = false"), "01001");
  CHECK_STR(keep("i = NULL"), "00000");
}

static void test_logic(void) {
  CHECK_STR(keep("i IS NULL"), "00100");
  CHECK_STR(keep("s is not null"), "10111");
  CHECK_STR(keep("i > 1 AND s = 'x'"), "00010");
  CHECK_STR(keep("i > 1 OR s = 'y'"), "01110");
  /* NOT of unknown is unknown: row 2 (i NULL) stays out either way. */
  CHECK_STR(keep("NOT i > 1"), "10001");
  CHECK_STR(keep("NOT (i > 1 OR s IS NULL)"), "10001");
  /* unknown OR true = true; unknown AND false = false. */
  CHECK_STR(keep("i > 0 OR s = 'y'"), "11110");
  CHECK_STR(keep("(i > 0 AND s = 'x') OR b = false"), "11011");
  CHECK_STR(keep("true"), "11111");
  CHECK_STR(keep("false OR i = 4"), "00010");
}

static void test_errors(void) {
  clance_error err;
  cl_filter *f;
  CHECK(cl_filter_parse("nope > 1", &schema, &f, &err) == CLANCE_ENOTFOUND);
  CHECK(strstr(err.message, "\"nope\"") != NULL);
  CHECK(cl_filter_parse("i > 'x'", &schema, &f, &err) == CLANCE_EINVAL);
  CHECK(cl_filter_parse("s > 3", &schema, &f, &err) == CLANCE_EINVAL);
  CHECK(cl_filter_parse("i >", &schema, &f, &err) == CLANCE_EINVAL);
  CHECK(cl_filter_parse("(i > 1", &schema, &f, &err) == CLANCE_EINVAL);
  CHECK(cl_filter_parse("i > 1 extra", &schema, &f, &err) == CLANCE_EINVAL);
  CHECK(strstr(err.message, "offset") != NULL);
  CHECK(cl_filter_parse("s = 'open", &schema, &f, &err) == CLANCE_EINVAL);
  char deep[1200];
  memset(deep, '(', 600);
  strcpy(deep + 600, "i > 1");
  memset(deep + 605, ')', 594);
  deep[1199] = 0;
  CHECK(cl_filter_parse(deep, &schema, &f, &err) == CLANCE_EINVAL);
}

int main(void) {
  if (setup() != 0)
    return 1;
  RUN(test_comparisons);
  RUN(test_logic);
  RUN(test_errors);
  batch.release(&batch);
  cl_schema_free(&schema);
  TEST_MAIN_END();
}
