/* zstd / lz4 framing: round trips, the legacy bare zstd frame, and rejection of
 * truncated, mislabelled and oversized buffers. */
#include "encoding/compress.h"

#include <zstd.h>

#include "test.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint8_t rnd8(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint8_t)rng_state;
}

/* Half random bytes, half repeated text: compressible but not trivially. */
static uint8_t *make_data(size_t n) {
  uint8_t *p = malloc(n ? n : 1);
  for (size_t i = 0; i < n; i++)
    p[i] = (i / 4096) % 2 ? rnd8() : (uint8_t)("lance columnar "[i % 15]);
  return p;
}

static const size_t sizes[] = {0, 1, 7, 8, 100, 4096, 65537, 1000000};

static void test_zstd_round_trip(void) {
  static const int levels[] = {0, 1, 3, 19, -5};
  clance_error err = {0};
  for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
    size_t n = sizes[si];
    uint8_t *data = make_data(n);
    for (size_t li = 0; li < sizeof levels / sizeof *levels; li++) {
      if (levels[li] == 19 && n > 65537)
        continue; /* slow and adds nothing */
      cl_buf c = CL_BUF_INIT, d = CL_BUF_INIT;
      REQUIRE_OK(cl_zstd_compress(data, n, levels[li], &c, &err), &err);
      REQUIRE(c.len > 8);
      CHECK_EQ_U64(cl_le64(c.data), n);
      /* Append after existing bytes, which must survive. */
      REQUIRE_OK(cl_buf_append(&d, "xy", 2, &err), &err);
      CHECK_OK(cl_zstd_decompress(c.data, c.len, n, &d, &err), &err);
      CHECK_EQ_U64(d.len, n + 2);
      CHECK(memcmp(d.data, "xy", 2) == 0 && (n == 0 || memcmp(d.data + 2, data, n) == 0));
      cl_buf_free(&c);
      cl_buf_free(&d);
    }
    free(data);
  }
}

/* Frames written by older lance (no prefix), including streaming frames that
 * do not record their size and several concatenated frames. */
static void test_zstd_bare_frames(void) {
  clance_error err = {0};
  size_t n = 300000;
  uint8_t *data = make_data(n);
  size_t cap = ZSTD_compressBound(n) * 2;
  uint8_t *frame = malloc(cap);
  size_t f1 = ZSTD_compress(frame, cap, data, n, 3);
  REQUIRE(!ZSTD_isError(f1));
  REQUIRE(frame[0] == 0x28 && frame[1] == 0xb5 && frame[2] == 0x2f && frame[3] == 0xfd);
  cl_buf d = CL_BUF_INIT;
  CHECK_OK(cl_zstd_decompress(frame, f1, n, &d, &err), &err);
  CHECK(d.len == n && memcmp(d.data, data, n) == 0);

  /* max_out is enforced on bare frames too, and failure leaves `out` alone. */
  cl_buf_reset(&d);
  CHECK(cl_zstd_decompress(frame, f1, n - 1, &d, &err) == CLANCE_ECORRUPT);
  CHECK_EQ_U64(d.len, 0);

  /* Streaming frame without a content size. */
  ZSTD_CCtx *c = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
  ZSTD_inBuffer in = {data, n, 0};
  ZSTD_outBuffer ob = {frame, cap, 0};
  REQUIRE(ZSTD_compressStream2(c, &ob, &in, ZSTD_e_end) == 0);
  size_t f2 = ob.pos;
  REQUIRE(ZSTD_getFrameContentSize(frame, f2) == ZSTD_CONTENTSIZE_UNKNOWN);
  cl_buf_reset(&d);
  CHECK_OK(cl_zstd_decompress(frame, f2, n, &d, &err), &err);
  CHECK(d.len == n && memcmp(d.data, data, n) == 0);
  /* Same frame behind a prefix, as lance's streaming writer produces it. */
  cl_buf p = CL_BUF_INIT;
  REQUIRE_OK(cl_buf_append_u64(&p, n, &err), &err);
  REQUIRE_OK(cl_buf_append(&p, frame, f2, &err), &err);
  cl_buf_reset(&d);
  CHECK_OK(cl_zstd_decompress(p.data, p.len, n, &d, &err), &err);
  CHECK(d.len == n && memcmp(d.data, data, n) == 0);
  cl_buf_reset(&d);
  CHECK(cl_zstd_decompress(frame, f2, n - 1, &d, &err) == CLANCE_ECORRUPT);
  /* Truncated bare frames. */
  for (size_t cut = 0; cut < f2; cut += f2 / 13 + 1) {
    cl_buf_reset(&d);
    clance_status s = cl_zstd_decompress(frame, cut, n, &d, &err);
    CHECK(cut == 0 ? s == CLANCE_OK : s == CLANCE_ECORRUPT);
    CHECK(cut == 0 || d.len == 0);
  }

  /* Two concatenated frames decode as one stream. */
  size_t fa = ZSTD_compress(frame, cap, "hello ", 6, 1);
  size_t fb = ZSTD_compress(frame + fa, cap - fa, "world", 5, 1);
  cl_buf_reset(&d);
  CHECK_OK(cl_zstd_decompress(frame, fa + fb, 100, &d, &err), &err);
  CHECK(d.len == 11 && memcmp(d.data, "hello world", 11) == 0);
  ZSTD_freeCCtx(c);
  cl_buf_free(&p);
  cl_buf_free(&d);
  free(frame);
  free(data);
}

static void test_zstd_corrupt(void) {
  clance_error err = {0};
  size_t n = 50000;
  uint8_t *data = make_data(n);
  cl_buf c = CL_BUF_INIT, d = CL_BUF_INIT;
  REQUIRE_OK(cl_zstd_compress(data, n, 3, &c, &err), &err);
  /* Every truncation fails (a prefix-only buffer is bare-frame garbage or a
   * short frame). */
  for (size_t cut = 1; cut < c.len; cut += c.len / 17 + 1) {
    cl_buf_reset(&d);
    CHECK(cl_zstd_decompress(c.data, cut, n, &d, &err) == CLANCE_ECORRUPT);
    CHECK_EQ_U64(d.len, 0);
  }
  /* Prefix that disagrees with the frame, either way. */
  cl_put64(c.data, n + 1);
  CHECK(cl_zstd_decompress(c.data, c.len, n + 1, &d, &err) == CLANCE_ECORRUPT);
  cl_put64(c.data, n - 1);
  CHECK(cl_zstd_decompress(c.data, c.len, n, &d, &err) == CLANCE_ECORRUPT);
  /* A huge declared size is refused before anything is allocated. */
  cl_put64(c.data, UINT64_MAX / 2);
  CHECK(cl_zstd_decompress(c.data, c.len, (size_t)1 << 31, &d, &err) == CLANCE_ECORRUPT);
  CHECK(strstr(err.message, "more than") != NULL);
  /* max_out below the true size. */
  cl_put64(c.data, n);
  CHECK(cl_zstd_decompress(c.data, c.len, n - 1, &d, &err) == CLANCE_ECORRUPT);
  CHECK_OK(cl_zstd_decompress(c.data, c.len, n, &d, &err), &err);
  /* Not a frame at all behind the prefix. */
  memset(c.data + 8, 0x41, c.len - 8);
  CHECK(cl_zstd_decompress(c.data, c.len, n, &d, &err) == CLANCE_ECORRUPT);
  /* Short garbage counts as a bare frame and fails. */
  CHECK(cl_zstd_decompress((const uint8_t *)"abc", 3, 100, &d, &err) == CLANCE_ECORRUPT);
  cl_buf_free(&c);
  cl_buf_free(&d);
  free(data);
}

static void test_lz4_round_trip(void) {
  clance_error err = {0};
  for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
    size_t n = sizes[si];
    uint8_t *data = make_data(n);
    cl_buf c = CL_BUF_INIT, d = CL_BUF_INIT;
    REQUIRE_OK(cl_lz4_compress(data, n, &c, &err), &err);
    REQUIRE(c.len > 4);
    CHECK_EQ_U64(cl_le32(c.data), n);
    REQUIRE_OK(cl_buf_append(&d, "xy", 2, &err), &err);
    CHECK_OK(cl_lz4_decompress(c.data, c.len, n, &d, &err), &err);
    CHECK_EQ_U64(d.len, n + 2);
    CHECK(memcmp(d.data, "xy", 2) == 0 && (n == 0 || memcmp(d.data + 2, data, n) == 0));
    cl_buf_free(&c);
    cl_buf_free(&d);
    free(data);
  }
}

static void test_lz4_corrupt(void) {
  clance_error err = {0};
  size_t n = 50000;
  uint8_t *data = make_data(n);
  cl_buf c = CL_BUF_INIT, d = CL_BUF_INIT;
  REQUIRE_OK(cl_lz4_compress(data, n, &c, &err), &err);
  for (size_t cut = 0; cut < c.len; cut += c.len / 17 + 1) {
    CHECK(cl_lz4_decompress(c.data, cut, n, &d, &err) == CLANCE_ECORRUPT);
    CHECK_EQ_U64(d.len, 0);
  }
  cl_put32(c.data, (uint32_t)n + 1); /* block ends early */
  CHECK(cl_lz4_decompress(c.data, c.len, n + 1, &d, &err) == CLANCE_ECORRUPT);
  cl_put32(c.data, (uint32_t)n - 1); /* block runs past the prefix */
  CHECK(cl_lz4_decompress(c.data, c.len, n, &d, &err) == CLANCE_ECORRUPT);
  cl_put32(c.data, (uint32_t)n);
  CHECK(cl_lz4_decompress(c.data, c.len, n - 1, &d, &err) == CLANCE_ECORRUPT);
  CHECK(strstr(err.message, "more than") != NULL);
  cl_put32(c.data, UINT32_MAX);
  CHECK(cl_lz4_decompress(c.data, c.len, SIZE_MAX, &d, &err) == CLANCE_ECORRUPT);
  cl_put32(c.data, (uint32_t)n);
  CHECK_OK(cl_lz4_decompress(c.data, c.len, n, &d, &err), &err);
  CHECK(d.len == n && memcmp(d.data, data, n) == 0);
  /* Prefix of zero with no block is empty; with a garbage block it is not. */
  d.len = 0;
  CHECK_OK(cl_lz4_decompress((const uint8_t *)"\0\0\0\0", 4, 0, &d, &err), &err);
  CHECK(cl_lz4_decompress((const uint8_t *)"\0\0\0\0\xff", 5, 0, &d, &err) == CLANCE_ECORRUPT);
  CHECK_EQ_U64(d.len, 0);
  cl_buf_free(&c);
  cl_buf_free(&d);
  free(data);
}

/* Sizes claimed by a length prefix are only believed as far as the data can
 * justify them: a highly compressible buffer (beyond 64-fold) still round
 * trips through the streaming path, while a small frame or block claiming
 * gigabytes is refused (without allocating them: ASan's allocator limit and
 * the fuzzers' malloc limit would trip). */
static void test_claimed_sizes(void) {
  clance_error err = {0};
  size_t n = 8u << 20;
  uint8_t *zeros = calloc(n, 1);
  zeros[n - 1] = 7;
  cl_buf c = CL_BUF_INIT, d = CL_BUF_INIT;
  REQUIRE_OK(cl_zstd_compress(zeros, n, 3, &c, &err), &err);
  REQUIRE(c.len < n / 64);
  CHECK_OK(cl_zstd_decompress(c.data, c.len, n, &d, &err), &err);
  CHECK_EQ_U64(d.len, n);
  CHECK(d.len == n && memcmp(d.data, zeros, n) == 0);
  /* The same frame, prefix claiming one byte more or 1 GiB: corrupt. */
  d.len = 0;
  cl_put64(c.data, (uint64_t)n + 1);
  CHECK(cl_zstd_decompress(c.data, c.len, (size_t)1 << 31, &d, &err) == CLANCE_ECORRUPT);
  CHECK_EQ_U64(d.len, 0);
  cl_put64(c.data, (uint64_t)1 << 30);
  CHECK(cl_zstd_decompress(c.data, c.len, (size_t)1 << 31, &d, &err) == CLANCE_ECORRUPT);
  CHECK_EQ_U64(d.len, 0);
  cl_buf_free(&c);
  /* lz4: the same zeros compress about 250-fold; a claim beyond 255-fold is refused. */
  REQUIRE_OK(cl_lz4_compress(zeros, n, &c, &err), &err);
  d.len = 0;
  CHECK_OK(cl_lz4_decompress(c.data, c.len, n, &d, &err), &err);
  CHECK(d.len == n && memcmp(d.data, zeros, n) == 0);
  cl_put32(c.data, (uint32_t)((c.len - 4) * 255 + 65));
  d.len = 0;
  CHECK(cl_lz4_decompress(c.data, c.len, (size_t)1 << 31, &d, &err) == CLANCE_ECORRUPT);
  CHECK(strstr(err.message, "can hold") != NULL);
  cl_buf_free(&c);
  cl_buf_free(&d);
  free(zeros);
}

int main(void) {
  RUN(test_zstd_round_trip);
  RUN(test_zstd_bare_frames);
  RUN(test_zstd_corrupt);
  RUN(test_lz4_round_trip);
  RUN(test_lz4_corrupt);
  RUN(test_claimed_sizes);
  TEST_MAIN_END();
}
