/* Feeds arbitrary bytes to the bit-packing decoders (Inline, Inline groups,
 * OutOfLine), checks encode -> decode round trips, and decodes valid encodings
 * after damaging them. Buffers are allocated at their exact size so ASan sees
 * any overrun.
 * Input: [mode/T] [b] [n lo] [n hi] payload... */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encoding/fastlanes.h"

/* Encode the payload's values, flip one byte and drop a few from the end,
 * then decode: any status is fine, a crash or overrun is not. */
static void damaged(unsigned T, unsigned sel, const uint8_t *p, size_t len) {
  const size_t vb = T / 8;
  size_t n = len / vb;
  if (n == 0)
    return;
  clance_error err;
  cl_buf buf = CL_BUF_INIT;
  int oob = sel & 1;
  if (oob) {
    if (cl_outofline_bitpack_encode(T, T, p, n, &buf, &err) != CLANCE_OK)
      abort();
  } else {
    for (size_t g = 0; g < n; g += 1024) {
      size_t k = n - g < 1024 ? n - g : 1024;
      if (cl_buf_reserve(&buf, CL_INLINE_BITPACK_MAX_BYTES(T), &err) != CLANCE_OK)
        abort();
      buf.len += cl_inline_bitpack_encode(T, p + g * vb, k, buf.data + buf.len);
    }
  }
  size_t cut = (sel >> 1) % 4;
  if (cut > buf.len)
    cut = buf.len;
  if (buf.len)
    buf.data[(size_t)p[0] * 131 % buf.len] ^= (uint8_t)(sel | 1);
  uint8_t *bad = malloc(buf.len - cut + 1), *out = malloc(n * vb + 1);
  if (!bad || !out)
    abort();
  memcpy(bad, buf.data, buf.len - cut);
  if (oob)
    (void)cl_outofline_bitpack_decode(T, T - (sel >> 3) % 2, bad, buf.len - cut, n, out, &err);
  else
    (void)cl_inline_bitpack_decode_groups(T, bad, buf.len - cut, n, out, &err);
  free(bad);
  free(out);
  cl_buf_free(&buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned Ts[4] = {8, 16, 32, 64};

/* Values from the payload, cut to `width` bits, encoded then decoded: they
 * must come back unchanged. */
static void round_trip(unsigned T, unsigned width, unsigned b_extra, uint8_t *p, size_t len) {
  const size_t vb = T / 8;
  size_t n = len / vb;
  if (n == 0)
    return;
  for (size_t i = 0; i < n * vb; i++) { /* byte i % vb holds bits lo..lo+7 of its value */
    unsigned lo = 8 * (unsigned)(i % vb);
    p[i] = lo >= width ? 0 : width - lo >= 8 ? p[i] : (uint8_t)(p[i] & ((1u << (width - lo)) - 1));
  }
  clance_error err;
  /* Inline: one group of the first <= 1024 values. */
  size_t ni = n < 1024 ? n : 1024;
  uint8_t *enc = malloc(CL_INLINE_BITPACK_MAX_BYTES(T));
  uint8_t *dec = malloc(n * vb);
  if (!enc || !dec)
    abort();
  size_t elen = cl_inline_bitpack_encode(T, p, ni, enc);
  if (elen == 0 || cl_inline_bitpack_decode(T, enc, elen, ni, dec, &err) != CLANCE_OK ||
      memcmp(dec, p, ni * vb) != 0)
    abort();
  /* Out-of-line at the smallest width that fits (or wider). */
  uint64_t all = 0;
  for (size_t i = 0; i < n * vb; i++)
    all |= (uint64_t)p[i] << (8 * (i % vb));
  unsigned b = cl_bits_needed_u64(all) + b_extra;
  if (b > T)
    b = T;
  cl_buf buf = CL_BUF_INIT;
  if (cl_outofline_bitpack_encode(T, b, p, n, &buf, &err) != CLANCE_OK ||
      cl_outofline_bitpack_decode(T, b, buf.data, buf.len, n, dec, &err) != CLANCE_OK ||
      memcmp(dec, p, n * vb) != 0)
    abort();
  cl_buf_free(&buf);
  free(enc);
  free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4)
    return 0;
  unsigned T = Ts[data[0] & 3], mode = (data[0] >> 2) & 3;
  unsigned b = data[1] % (T + 3); /* sometimes above T: must be rejected */
  size_t n = (size_t)data[2] | ((size_t)data[3] << 8);
  const uint8_t *p = data + 4;
  size_t len = size - 4;
  /* An exact-size heap copy so reads past `len` are caught. */
  uint8_t *in = malloc(len ? len : 1);
  if (!in)
    return 0;
  memcpy(in, p, len);
  clance_error err;
  uint8_t *out;
  switch (mode) {
  case 0:
    n %= 1025;
    out = malloc(n * (T / 8) + 1);
    if (out)
      (void)cl_inline_bitpack_decode(T, in, len, n, out, &err);
    free(out);
    break;
  case 1:
    n %= 5000;
    out = malloc(n * (T / 8) + 1);
    if (out)
      (void)cl_inline_bitpack_decode_groups(T, in, len, n, out, &err);
    free(out);
    break;
  case 2:
    n %= 5000;
    out = malloc(n * (T / 8) + 1);
    if (out)
      (void)cl_outofline_bitpack_decode(T, b, in, len, n, out, &err);
    free(out);
    break;
  default:
    if (data[1] & 0x80)
      damaged(T, data[1], in, len);
    else
      round_trip(T, data[1] % (T + 1), (data[1] >> 6) & 1, in, len);
    break;
  }
  free(in);
  return 0;
}
