/* Deletion vectors: our strict portable-Roaring reader against bitmaps that
 * CRoaring itself serialised (array, bitset and run containers), and the
 * run/contains queries the scan uses. */
#include <roaring/roaring.h>

#include "table/deletion.h"
#include "test.h"

static void check_roundtrip(roaring_bitmap_t *r, int optimize) {
  clance_error err;
  if (optimize)
    roaring_bitmap_run_optimize(r);
  size_t n = roaring_bitmap_portable_size_in_bytes(r);
  char *buf = malloc(n);
  REQUIRE(buf);
  roaring_bitmap_portable_serialize(r, buf);
  cl_deletions *d;
  REQUIRE_OK(cl_deletions_parse((const uint8_t *)buf, n, 1, "test.bin", &d, &err), &err);
  uint64_t card = roaring_bitmap_get_cardinality(r);
  CHECK_EQ_U64(d->n, card);
  uint32_t *want = malloc((size_t)(card ? card : 1) * 4);
  roaring_bitmap_to_uint32_array(r, want);
  CHECK(d->n == card && memcmp(d->rows, want, (size_t)card * 4) == 0);
  /* Every strict prefix is truncated input and must be refused. */
  for (size_t k = 0; k < n; k += (n > 4000 ? 97 : 1)) {
    cl_deletions *t;
    if (cl_deletions_parse((const uint8_t *)buf, k, 1, "trunc.bin", &t, &err) == CLANCE_OK) {
      fprintf(stderr, "prefix %zu of %zu accepted\n", k, n);
      CHECK(0);
      cl_deletions_free(t);
    }
  }
  free(want);
  cl_deletions_free(d);
  free(buf);
}

static void test_croaring_formats(void) {
  roaring_bitmap_t *r = roaring_bitmap_create();
  for (uint32_t v = 0; v < 100; v += 3)
    roaring_bitmap_add(r, v); /* array container */
  check_roundtrip(r, 0);
  for (uint32_t v = 70000; v < 80000; v++)
    if (v % 5)
      roaring_bitmap_add(r, v); /* bitset container */
  check_roundtrip(r, 0);
  roaring_bitmap_add_range(r, 200000, 260000); /* runs after optimize */
  check_roundtrip(r, 1);
  roaring_bitmap_free(r);
  r = roaring_bitmap_create();
  for (uint32_t k = 0; k < 6; k++)
    roaring_bitmap_add(r, k * 65536 + 7); /* >= 4 containers: offsets present */
  check_roundtrip(r, 1);
  roaring_bitmap_free(r);
}

static void test_spec_example(void) {
  /* Hand-written {3, 4, 7}, cookie 12346, as Lance accepted it. */
  static const uint8_t b[] = {0x3a, 0x30, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 16, 0, 0, 0,
                              3, 0, 4, 0, 7, 0};
  clance_error err;
  cl_deletions *d;
  REQUIRE_OK(cl_deletions_parse(b, sizeof b, 1, "x.bin", &d, &err), &err);
  CHECK_EQ_U64(d->n, 3);
  CHECK(d->rows[0] == 3 && d->rows[1] == 4 && d->rows[2] == 7);
  CHECK(cl_deletions_contains(d, 4) && !cl_deletions_contains(d, 5));
  CHECK_EQ_U64(cl_deletions_run_end(d, 0, 100), 3);  /* kept 0..2 */
  CHECK_EQ_U64(cl_deletions_run_end(d, 3, 100), 5);  /* deleted 3..4 */
  CHECK_EQ_U64(cl_deletions_run_end(d, 5, 100), 7);  /* kept 5..6 */
  CHECK_EQ_U64(cl_deletions_run_end(d, 8, 100), 100);
  CHECK_EQ_U64(cl_deletions_run_end(d, 3, 4), 4);    /* bounded by the limit */
  cl_deletions_free(d);
  /* Header cardinality that does not match the values. */
  uint8_t bad[sizeof b];
  memcpy(bad, b, sizeof b);
  bad[10] = 3; /* says 4 values, 3 present -> truncated */
  CHECK(cl_deletions_parse(bad, sizeof bad, 1, "x.bin", &d, &err) == CLANCE_ECORRUPT);
  memcpy(bad, b, sizeof b);
  bad[18] = 3; /* duplicate value */
  CHECK(cl_deletions_parse(bad, sizeof bad, 1, "x.bin", &d, &err) == CLANCE_ECORRUPT);
  CHECK(strstr(err.message, "x.bin") != NULL);
  memcpy(bad, b, sizeof b);
  bad[0] = 0x39; /* wrong cookie */
  CHECK(cl_deletions_parse(bad, sizeof bad, 1, "x.bin", &d, &err) == CLANCE_ECORRUPT);
}

int main(void) {
  RUN(test_croaring_formats);
  RUN(test_spec_example);
  TEST_MAIN_END();
}
