/* FastLanes kernels against the spec's test vectors and a literal transcription
 * of the §9.6 pseudo-code; Inline/OutOfLine bitpacking round trips and
 * rejection of corrupt buffers. */
#include "encoding/fastlanes.h"

#include <stdalign.h>

#include "test.h"

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static uint64_t mask_bits(unsigned w) { return w ? UINT64_MAX >> (64 - w) : 0; }

static uint64_t get(unsigned T, const void *p, size_t i) {
  switch (T) {
  case 8: return ((const uint8_t *)p)[i];
  case 16: return ((const uint16_t *)p)[i];
  case 32: return ((const uint32_t *)p)[i];
  default: return ((const uint64_t *)p)[i];
  }
}

static void set(unsigned T, void *p, size_t i, uint64_t v) {
  switch (T) {
  case 8: ((uint8_t *)p)[i] = (uint8_t)v; break;
  case 16: ((uint16_t *)p)[i] = (uint16_t)v; break;
  case 32: ((uint32_t *)p)[i] = (uint32_t)v; break;
  default: ((uint64_t *)p)[i] = v; break;
  }
}

/* The §9.6 pseudo-code, word for word (slow, obviously right). */
static void ref_pack(unsigned T, const void *in, unsigned W, void *out) {
  static const unsigned order[8] = {0, 4, 2, 6, 1, 5, 3, 7};
  unsigned lanes = 1024 / T;
  for (unsigned i = 0; i < 1024 * W / T; i++)
    set(T, out, i, 0);
  for (unsigned lane = 0; lane < lanes; lane++)
    for (unsigned row = 0; row < T; row++) {
      unsigned idx = order[row / 8] * 16 + (row % 8) * 128 + lane;
      uint64_t v = get(T, in, idx) & mask_bits(W);
      unsigned bit = row * W, w = bit / T, s = bit % T;
      if (W == 0)
        continue;
      set(T, out, w * lanes + lane, get(T, out, w * lanes + lane) | (v << s));
      if (s + W > T)
        set(T, out, (w + 1) * lanes + lane, get(T, out, (w + 1) * lanes + lane) | (v >> (T - s)));
    }
}

static void pack(unsigned T, const void *in, unsigned w, void *out) {
  switch (T) {
  case 8: cl_fl_pack8(in, w, out); break;
  case 16: cl_fl_pack16(in, w, out); break;
  case 32: cl_fl_pack32(in, w, out); break;
  default: cl_fl_pack64(in, w, out); break;
  }
}

static void unpack(unsigned T, const void *in, unsigned w, void *out) {
  switch (T) {
  case 8: cl_fl_unpack8(in, w, out); break;
  case 16: cl_fl_unpack16(in, w, out); break;
  case 32: cl_fl_unpack32(in, w, out); break;
  default: cl_fl_unpack64(in, w, out); break;
  }
}

static void test_spec_vectors(void) {
  alignas(64) uint32_t in32[1024], out32[1024];
  for (int i = 0; i < 1024; i++)
    in32[i] = (uint32_t)i;
  cl_fl_pack32(in32, 10, out32);
  CHECK_EQ_U64(out32[0], 0x10020000u);
  CHECK_EQ_U64(out32[1], 0x50120401u);
  const uint8_t *bytes = (const uint8_t *)out32;
  CHECK(bytes[0] == 0x00 && bytes[1] == 0x00 && bytes[2] == 0x02 && bytes[3] == 0x10);

  alignas(64) uint16_t in16[1024], out16[1024];
  for (int i = 0; i < 1024; i++)
    in16[i] = (uint16_t)(i % 7 == 0);
  cl_fl_pack16(in16, 1, out16);
  CHECK_EQ_U64(out16[0], 0x0881);

  alignas(64) uint64_t in64[1024] = {1, 2, 3}, out64[1024];
  memset(out64, 0xAB, sizeof out64);
  cl_fl_pack64(in64, 2, out64);
  CHECK_EQ_U64(out64[0], 1);
  CHECK_EQ_U64(out64[1], 2);
  CHECK_EQ_U64(out64[2], 3);
  int rest_zero = 1;
  for (int i = 3; i < 1024 * 2 / 64; i++)
    rest_zero &= out64[i] == 0;
  CHECK(rest_zero);
}

/* Every T, every W: matches the reference bit for bit and round-trips; the
 * packers ignore bits above W and write exactly 1024*W/T words. */
static void test_all_widths(void) {
  static const unsigned Ts[] = {8, 16, 32, 64};
  alignas(64) static uint64_t in[1024], masked[1024], got[1024 + 8], want[1024], back[1024];
  for (int ti = 0; ti < 4; ti++) {
    unsigned T = Ts[ti];
    for (unsigned W = 0; W <= T; W++) {
      for (int i = 0; i < 1024; i++) {
        uint64_t r = rnd();
        set(T, in, (size_t)i, r); /* garbage above W: must be ignored */
        set(T, masked, (size_t)i, r & mask_bits(W));
      }
      memset(got, 0xCD, sizeof got);
      pack(T, in, W, got);
      ref_pack(T, in, W, want);
      size_t nbytes = 128u * W;
      CHECK(memcmp(got, want, nbytes) == 0);
      CHECK(((uint8_t *)got)[nbytes] == 0xCD); /* no write past the packed words */
      memset(back, 0xEE, sizeof back);
      unpack(T, got, W, back);
      if (memcmp(back, masked, 1024 * (T / 8)) != 0) {
        fprintf(stderr, "round trip failed T=%u W=%u\n", T, W);
        CHECK(0);
      }
    }
  }
}

static void test_bits_needed(void) {
  CHECK_EQ_U64(cl_bits_needed_u64(0), 0);
  CHECK_EQ_U64(cl_bits_needed_u64(1), 1);
  CHECK_EQ_U64(cl_bits_needed_u64(2), 2);
  CHECK_EQ_U64(cl_bits_needed_u64(1023), 10);
  CHECK_EQ_U64(cl_bits_needed_u64(1024), 11);
  CHECK_EQ_U64(cl_bits_needed_u64(UINT64_MAX), 64);
}

static void test_inline_spec_example(void) {
  int32_t v[1024];
  for (int i = 0; i < 1024; i++)
    v[i] = i;
  uint8_t out[CL_INLINE_BITPACK_MAX_BYTES(32)];
  size_t n = cl_inline_bitpack_encode(32, v, 1024, out);
  CHECK_EQ_U64(n, 4 + 1280);
  CHECK(out[0] == 0x0a && out[1] == 0 && out[2] == 0 && out[3] == 0);
  int32_t back[1024];
  clance_error err = {0};
  CHECK_OK(cl_inline_bitpack_decode(32, out, n, 1024, back, &err), &err);
  CHECK(memcmp(back, v, sizeof v) == 0);
}

/* Encode/decode n = 1..1024 for every T, with value ranges that pick varied
 * widths, including b = 0 (all zeros: the buffer is just the header). Decoding
 * also runs from an odd address to exercise the unaligned path. */
static void test_inline_round_trip(void) {
  static const unsigned Ts[] = {8, 16, 32, 64};
  alignas(64) static uint64_t vals[1024], back[1024 + 1];
  static uint8_t enc[CL_INLINE_BITPACK_MAX_BYTES(64) + 1];
  clance_error err = {0};
  for (int ti = 0; ti < 4; ti++) {
    unsigned T = Ts[ti];
    for (size_t n = 1; n <= 1024; n++) {
      unsigned want_b = (unsigned)(n * 7 % (T + 1));
      for (size_t i = 0; i < n; i++)
        set(T, vals, i, rnd() & mask_bits(want_b));
      if (want_b)
        set(T, vals, n / 2, mask_bits(want_b)); /* force the width */
      size_t len = cl_inline_bitpack_encode(T, vals, n, enc);
      REQUIRE(len == T / 8 + 128u * want_b);
      CHECK_EQ_U64(get(T, enc, 0) & mask_bits(T), want_b);
      memset(back, 0xEE, sizeof back);
      CHECK_OK(cl_inline_bitpack_decode(T, enc, len, n, back, &err), &err);
      CHECK(memcmp(back, vals, n * (T / 8)) == 0);
      CHECK(((uint8_t *)back)[n * (T / 8)] == 0xEE); /* exactly n values written */
      /* Unaligned input and output. */
      memmove(enc + 1, enc, len);
      CHECK_OK(cl_inline_bitpack_decode(T, enc + 1, len, n, (uint8_t *)back + 1, &err), &err);
      CHECK(memcmp((uint8_t *)back + 1, vals, n * (T / 8)) == 0);
    }
  }
  /* b = 0: header only, decodes to zeros. */
  uint32_t zeros[1024] = {0}, got[1024];
  size_t len = cl_inline_bitpack_encode(32, zeros, 1024, enc);
  CHECK_EQ_U64(len, 4);
  memset(got, 0xFF, sizeof got);
  CHECK_OK(cl_inline_bitpack_decode(32, enc, len, 1024, got, &err), &err);
  CHECK(memcmp(got, zeros, sizeof zeros) == 0);
  /* n == 0 needs no header at all. */
  CHECK_OK(cl_inline_bitpack_decode(32, NULL, 0, 0, got, &err), &err);
  /* Invalid arguments to the encoder. */
  CHECK_EQ_U64(cl_inline_bitpack_encode(12, zeros, 10, enc), 0);
  CHECK_EQ_U64(cl_inline_bitpack_encode(32, zeros, 1025, enc), 0);
}

/* Block context: consecutive groups, each with its own width. */
static void test_inline_groups(void) {
  enum { N = 3000 };
  static uint16_t vals[N], back[4096];
  static uint8_t buf[3 * CL_INLINE_BITPACK_MAX_BYTES(16) + 16];
  size_t len = 0;
  for (size_t g = 0; g * 1024 < N; g++) {
    size_t n = N - g * 1024 < 1024 ? N - g * 1024 : 1024;
    for (size_t i = 0; i < n; i++)
      vals[g * 1024 + i] = (uint16_t)(rnd() & mask_bits((unsigned)(g * 6 + 1)));
    len += cl_inline_bitpack_encode(16, vals + g * 1024, n, buf + len);
  }
  clance_error err = {0};
  CHECK_OK(cl_inline_bitpack_decode_groups(16, buf, len, N, back, &err), &err);
  CHECK(memcmp(back, vals, sizeof vals) == 0);
  CHECK_OK(cl_inline_bitpack_decode_groups(16, buf, len + 5, N, back, &err), &err);
  CHECK_OK(cl_inline_bitpack_decode_groups(16, NULL, 0, 0, back, &err), &err);
  /* Truncations anywhere fail cleanly. */
  for (size_t cut = 0; cut < len; cut += 37)
    CHECK(cl_inline_bitpack_decode_groups(16, buf, cut, N, back, &err) == CLANCE_ECORRUPT);
  /* A fourth group that is not there. */
  CHECK(cl_inline_bitpack_decode_groups(16, buf, len, 3073, back, &err) == CLANCE_ECORRUPT);
}

static void test_inline_corrupt(void) {
  clance_error err = {0};
  uint8_t buf[4 + 128 * 33] = {0};
  uint32_t out[1024];
  buf[0] = 33; /* width above T */
  CHECK(cl_inline_bitpack_decode(32, buf, sizeof buf, 1024, out, &err) == CLANCE_ECORRUPT);
  CHECK(strstr(err.message, "bit width 33") != NULL);
  /* A 64-bit header whose high bytes are set is not a small width. */
  uint8_t b64[8 + 128] = {1, 0, 0, 0, 0, 0, 0, 1};
  uint64_t out64[1024];
  CHECK(cl_inline_bitpack_decode(64, b64, sizeof b64, 10, out64, &err) == CLANCE_ECORRUPT);
  buf[0] = 10; /* needs 4 + 1280 bytes */
  CHECK(cl_inline_bitpack_decode(32, buf, 4 + 1279, 1024, out, &err) == CLANCE_ECORRUPT);
  CHECK(strstr(err.message, "needs 1284 bytes") != NULL);
  CHECK_OK(cl_inline_bitpack_decode(32, buf, 4 + 1280, 1024, out, &err), &err);
  CHECK(cl_inline_bitpack_decode(32, buf, 3, 1, out, &err) == CLANCE_ECORRUPT);
  CHECK(cl_inline_bitpack_decode(32, buf, sizeof buf, 1025, out, &err) == CLANCE_ECORRUPT);
  CHECK(cl_inline_bitpack_decode(24, buf, sizeof buf, 10, out, &err) == CLANCE_ECORRUPT);
}

/* Encode with the writer's tail rule, check the size and form, decode. */
static void oob_case(unsigned T, unsigned b, size_t n, int expect_packed_tail) {
  static uint64_t vals[5000], back[5001];
  REQUIRE(n <= 5000);
  for (size_t i = 0; i < n; i++)
    set(T, vals, i, rnd() & mask_bits(b));
  cl_buf buf = CL_BUF_INIT;
  clance_error err = {0};
  REQUIRE_OK(cl_outofline_bitpack_encode(T, b, vals, n, &buf, &err), &err);
  size_t whole = n / 1024, t = n % 1024;
  size_t want = whole * 128 * b + (t ? (expect_packed_tail ? 128u * b : t * (T / 8)) : 0);
  if (buf.len != want)
    fprintf(stderr, "T=%u b=%u n=%zu: %zu bytes, want %zu\n", T, b, n, buf.len, want);
  CHECK_EQ_U64(buf.len, want);
  memset(back, 0xEE, sizeof back);
  CHECK_OK(cl_outofline_bitpack_decode(T, b, buf.data, buf.len, n, back, &err), &err);
  CHECK(memcmp(back, vals, n * (T / 8)) == 0);
  CHECK(((uint8_t *)back)[n * (T / 8)] == 0xEE);
  cl_buf_free(&buf);
}

static void test_outofline(void) {
  /* Spec example: 1024 def levels at b = 1, W = 16 take 128 bytes. */
  oob_case(16, 1, 1024, 0);
  /* T=16 b=1: t=100 -> 924 < 1500, packed; t=10 -> 1014 >= 150, raw. */
  oob_case(16, 1, 1024 + 100, 1);
  oob_case(16, 1, 1024 + 10, 0);
  oob_case(16, 1, 10, 0);
  oob_case(16, 1, 100, 1);
  /* Tie 1024*b == T*t: the writer stores raw and the reader must agree. */
  oob_case(32, 4, 2048 + 128, 0);
  oob_case(8, 2, 256, 0);
  /* b = T never pays to pack: raw tail. */
  oob_case(8, 8, 1500, 0);
  oob_case(64, 64, 3000, 0);
  oob_case(64, 3, 4999, 1);
  oob_case(32, 17, 1023, 1);
  /* b = 0: an empty buffer decodes to zeros (a tail packs to nothing). */
  oob_case(32, 0, 2500, 1);
  oob_case(16, 0, 0, 0);
  /* Every width, a mix of tails. */
  static const unsigned Ts[] = {8, 16, 32, 64};
  for (int ti = 0; ti < 4; ti++)
    for (unsigned b = 0; b <= Ts[ti]; b++) {
      size_t t = (size_t)(rnd() % 1024);
      int packed = t && (uint64_t)b * (1024 - t) < (uint64_t)(Ts[ti] - b) * t;
      oob_case(Ts[ti], b, 2048 + t, packed);
    }
}

static void test_outofline_corrupt(void) {
  clance_error err = {0};
  uint8_t buf[4096] = {0};
  uint16_t out[2048];
  /* 1034 values at b=1: raw needs 128+20, packed needs 256. */
  CHECK_OK(cl_outofline_bitpack_decode(16, 1, buf, 148, 1034, out, &err), &err);
  CHECK_OK(cl_outofline_bitpack_decode(16, 1, buf, 256, 1034, out, &err), &err);
  CHECK(cl_outofline_bitpack_decode(16, 1, buf, 147, 1034, out, &err) == CLANCE_ECORRUPT);
  CHECK(cl_outofline_bitpack_decode(16, 1, buf, 200, 1034, out, &err) == CLANCE_ECORRUPT);
  CHECK(strstr(err.message, "need 256 bytes") != NULL);
  CHECK(cl_outofline_bitpack_decode(16, 17, buf, 4096, 10, out, &err) == CLANCE_ECORRUPT);
  CHECK(cl_outofline_bitpack_decode(12, 1, buf, 4096, 10, out, &err) == CLANCE_ECORRUPT);
  CHECK(cl_outofline_bitpack_decode(64, 64, buf, 4096, SIZE_MAX, out, &err) ==
        CLANCE_ECORRUPT);
  /* The encoder refuses values wider than b. */
  uint16_t vals[3] = {1, 2, 4};
  cl_buf b = CL_BUF_INIT;
  CHECK(cl_outofline_bitpack_encode(16, 2, vals, 3, &b, &err) == CLANCE_EINVAL);
  CHECK(cl_outofline_bitpack_encode(16, 17, vals, 3, &b, &err) == CLANCE_EINVAL);
  CHECK_EQ_U64(b.len, 0);
  cl_buf_free(&b);
}

/* cl_fl_get reads single values of packed groups, for every T and width. */
static void test_get_single_values(void) {
  static const unsigned Ts[] = {8, 16, 32, 64};
  uint64_t seed = 99;
  for (size_t t = 0; t < 4; t++) {
    unsigned T = Ts[t];
    for (unsigned w = 0; w <= T; w++) {
      uint64_t in64[1024];
      uint8_t in[1024 * 8], out[1024 * 8];
      uint64_t mask = w == 64 ? ~0ull : (1ull << w) - 1;
      for (int i = 0; i < 1024; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        in64[i] = (seed >> 11) & mask;
        if (w == 64)
          in64[i] = seed;
        switch (T) {
        case 8: in[i] = (uint8_t)in64[i]; break;
        case 16: ((uint16_t *)(void *)in)[i] = (uint16_t)in64[i]; break;
        case 32: ((uint32_t *)(void *)in)[i] = (uint32_t)in64[i]; break;
        default: ((uint64_t *)(void *)in)[i] = in64[i]; break;
        }
      }
      memset(out, 0, sizeof out);
      switch (T) {
      case 8: cl_fl_pack8(in, w, out); break;
      case 16: cl_fl_pack16((const uint16_t *)(void *)in, w, (uint16_t *)(void *)out); break;
      case 32: cl_fl_pack32((const uint32_t *)(void *)in, w, (uint32_t *)(void *)out); break;
      default: cl_fl_pack64((const uint64_t *)(void *)in, w, (uint64_t *)(void *)out); break;
      }
      int bad = 0;
      for (unsigned i = 0; i < 1024; i++) {
        uint64_t want = T == 64 ? in64[i] : in64[i] & ((T == 64 ? ~0ull : (1ull << T) - 1));
        if (cl_fl_get(T, out, w, i) != (w == 0 ? 0 : want))
          bad++;
      }
      if (bad) {
        fprintf(stderr, "T=%u w=%u: %d values differ\n", T, w, bad);
        CHECK(0);
      }
    }
  }
}

int main(void) {
  RUN(test_get_single_values);
  RUN(test_spec_vectors);
  RUN(test_all_widths);
  RUN(test_bits_needed);
  RUN(test_inline_spec_example);
  RUN(test_inline_round_trip);
  RUN(test_inline_groups);
  RUN(test_inline_corrupt);
  RUN(test_outofline);
  RUN(test_outofline_corrupt);
  TEST_MAIN_END();
}
