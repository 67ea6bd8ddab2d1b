/* 2.1/2.2 page encodings chosen like Lance 12: dictionary pages, and the
 * reading of the dictionary blocks Lance writes. */
#include "arrow/array.h"
#include "encoding/decode.h"
#include "encoding/fastlanes.h"
#include "test.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* Lance 12 (2.2) writes dictionaries of more than 1024 64-bit values as
 * OutOfLineBitpacking{64, Flat{b}} blocks. */
static void test_ool_dictionary_block(void) {
  clance_error err = {0};
  cl_schema s;
  REQUIRE(cl_schema_parse_spec("c:int64", &s, &err) == CLANCE_OK);
  const cl_field *f = &s.fields[0];
  static uint64_t vals[3000];
  for (size_t i = 0; i < 3000; i++)
    vals[i] = rnd() & 0x7FFFFFFF;
  vals[7] = 0x7FFFFFFF;
  for (unsigned n = 1000; n <= 3000; n += 1000) { /* tails raw and packed */
    cl_buf buf = CL_BUF_INIT;
    CHECK_OK(cl_outofline_bitpack_encode(64, 31, vals, n, &buf, &err), &err);
    Lance__Encodings21__Flat fl = LANCE__ENCODINGS21__FLAT__INIT;
    fl.has_bits_per_value = 1;
    fl.bits_per_value = 31;
    pb21_enc inner = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__INIT;
    inner.compression_case = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
    inner.flat = &fl;
    Lance__Encodings21__OutOfLineBitpacking o = LANCE__ENCODINGS21__OUT_OF_LINE_BITPACKING__INIT;
    o.has_uncompressed_bits_per_value = 1;
    o.uncompressed_bits_per_value = 64;
    o.values = &inner;
    pb21_enc e = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__INIT;
    e.compression_case = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING;
    e.out_of_line_bitpacking = &o;
    cl_arr a;
    REQUIRE(cl_arr_init(&a, f, &err) == CLANCE_OK);
    cl_sink sk = {&a, f};
    cl_dec_state ds = {0};
    CHECK_OK(cl_decode_block_values(&e, buf.data, buf.len, n, &sk, &ds, "dict", &err), &err);
    CHECK_EQ_U64(a.length, n);
    CHECK(a.values.len == n * 8 && memcmp(a.values.data, vals, n * 8) == 0);
    /* More entries than the buffer can hold, and a width of 0 claiming
     * thousands of (equal) entries: corrupt, before any allocation. */
    cl_arr_reset(&a);
    CHECK(cl_decode_block_values(&e, buf.data, buf.len, (uint64_t)1 << 40, &sk, &ds, "dict", &err) ==
          CLANCE_ECORRUPT);
    fl.bits_per_value = 0;
    CHECK(cl_decode_block_values(&e, NULL, 0, 5000, &sk, &ds, "dict", &err) == CLANCE_ECORRUPT);
    fl.bits_per_value = 65;
    CHECK(cl_decode_block_values(&e, buf.data, buf.len, n, &sk, &ds, "dict", &err) == CLANCE_ECORRUPT);
    cl_dec_state_free(&ds);
    cl_arr_free(&a);
    cl_buf_free(&buf);
  }
  cl_schema_free(&s);
}

int main(void) {
  RUN(test_ool_dictionary_block);
  TEST_MAIN_END();
}
