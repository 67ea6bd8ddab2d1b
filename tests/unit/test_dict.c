/* Dictionary-typed columns: rebuilding dictionaries from decoded values,
 * gathering rows of a dictionary array, and filters on dictionary columns. */
#include "arrow/array.h"
#include "arrow/dict.h"
#include "dataset/filter.h"
#include "test.h"

/* A utf8 array of the given values (NULL = null). */
static void strings(const cl_field *f, const char *const *v, int n, struct ArrowArray *out) {
  clance_error err;
  cl_arr a;
  cl_arr_init(&a, f, &err);
  for (int i = 0; i < n; i++) {
    if (!v[i]) {
      cl_arr_append_nulls(&a, 1, &err);
      continue;
    }
    cl_buf_append(&a.values, v[i], strlen(v[i]), &err);
    cl_arr_push_offset(&a, a.values.len, &err);
    cl_arr_append_valid(&a, 1, &err);
  }
  cl_arr_export(&a, out, &err);
  cl_arr_free(&a);
}

static const char *str_at(const struct ArrowArray *a, int64_t i, char *buf, size_t size) {
  const int32_t *o = a->buffers[1];
  int64_t j = i + a->offset;
  snprintf(buf, size, "%.*s", (int)(o[j + 1] - o[j]), (const char *)a->buffers[2] + o[j]);
  return buf;
}

static void test_encode(void) {
  clance_error err;
  cl_schema s;
  REQUIRE(cl_schema_parse_spec("c:dictionary(int8,string)", &s, &err) == CLANCE_OK);
  const cl_field *f = &s.fields[0];
  const char *v[] = {"red", "green", NULL, "red", "", "green", "red"};
  struct ArrowArray a;
  strings(&f->children[0], v, 7, &a);
  REQUIRE(cl_array_dict_encode(f, &a, &err) == CLANCE_OK);
  CHECK(cl_array_validate(f, &a, "c", &err) == CLANCE_OK);
  CHECK(a.length == 7 && a.null_count == 1);
  REQUIRE(a.dictionary != NULL);
  CHECK(a.dictionary->length == 3); /* red, green, "" */
  const int8_t *keys = a.buffers[1];
  CHECK(keys[0] == 0 && keys[1] == 1 && keys[3] == 0 && keys[4] == 2 && keys[5] == 1 && keys[6] == 0);
  CHECK(!cl_array_valid(&a, 2));
  char buf[32];
  CHECK_STR(str_at(a.dictionary, 1, buf, sizeof buf), "green");
  CHECK_STR(str_at(a.dictionary, 2, buf, sizeof buf), "");

  /* Gather: keys move, the dictionary is kept whole. */
  size_t rows[] = {6, 2, 4, 4};
  struct ArrowArray g;
  REQUIRE(cl_array_dict_gather(f, &a, rows, 4, &g, &err) == CLANCE_OK);
  CHECK(cl_array_validate(f, &g, "c", &err) == CLANCE_OK);
  CHECK(g.length == 4 && g.null_count == 1 && g.dictionary->length == 3);
  const int8_t *gk = g.buffers[1];
  CHECK(gk[0] == 0 && gk[2] == 2 && gk[3] == 2);
  CHECK(!cl_array_valid(&g, 1));
  g.release(&g);

  /* Filters compare dictionary values. */
  cl_filter *flt;
  struct ArrowArray batch;
  REQUIRE(cl_struct_array_export(7, &a, 1, &batch, &err) == CLANCE_OK);
  const char *names[] = {"c"};
  uint8_t keep[7];
  REQUIRE(cl_filter_parse("c = 'red' OR c = ''", &s, &flt, &err) == CLANCE_OK);
  REQUIRE(cl_filter_eval(flt, &batch, names, 1, keep, &err) == CLANCE_OK);
  CHECK(keep[0] && !keep[1] && !keep[2] && keep[3] && keep[4] && !keep[5] && keep[6]);
  cl_filter_free(flt);
  REQUIRE(cl_filter_parse("c > 'h'", &s, &flt, &err) == CLANCE_OK); /* red only */
  REQUIRE(cl_filter_eval(flt, &batch, names, 1, keep, &err) == CLANCE_OK);
  CHECK(keep[0] && !keep[1] && !keep[2] && !keep[4] && keep[6]);
  cl_filter_free(flt);
  CHECK(cl_filter_parse("c > 3", &s, &flt, &err) == CLANCE_EINVAL);
  batch.release(&batch);
  cl_schema_free(&s);
}

static void test_fixed_width_and_limits(void) {
  clance_error err;
  cl_schema s;
  REQUIRE(cl_schema_parse_spec("d:dictionary(uint16,float64),e:dictionary(int8,int64)", &s, &err) ==
          CLANCE_OK);
  /* float64 values: -0 and 0 are different bytes, so different entries (as Arrow keeps them). */
  cl_arr b;
  cl_arr_init(&b, &s.fields[0].children[0], &err);
  double dv[] = {1.5, -0.0, 0.0, 1.5};
  for (int i = 0; i < 4; i++) {
    cl_buf_append(&b.values, &dv[i], 8, &err);
    cl_arr_append_valid(&b, 1, &err);
  }
  struct ArrowArray a;
  cl_arr_export(&b, &a, &err);
  cl_arr_free(&b);
  REQUIRE(cl_array_dict_encode(&s.fields[0], &a, &err) == CLANCE_OK);
  CHECK(cl_array_validate(&s.fields[0], &a, "d", &err) == CLANCE_OK);
  CHECK(a.dictionary->length == 3);
  const uint16_t *k = a.buffers[1];
  CHECK(k[0] == 0 && k[1] == 1 && k[2] == 2 && k[3] == 0);
  a.release(&a);

  /* 200 distinct values do not fit int8 keys: a clear error, not wrapped keys. */
  cl_arr_init(&b, &s.fields[1].children[0], &err);
  for (int64_t i = 0; i < 200; i++) {
    cl_buf_append(&b.values, &i, 8, &err);
    cl_arr_append_valid(&b, 1, &err);
  }
  cl_arr_export(&b, &a, &err);
  cl_arr_free(&b);
  CHECK(cl_array_dict_encode(&s.fields[1], &a, &err) == CLANCE_EUNSUPPORTED);
  CHECK(strstr(err.message, "\"e\"") != NULL);
  CHECK(a.release != NULL); /* on error the input is left alone */
  a.release(&a);
  cl_schema_free(&s);
}

int main(void) {
  RUN(test_encode);
  RUN(test_fixed_width_and_limits);
  TEST_MAIN_END();
}
