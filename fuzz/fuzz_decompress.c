/* Feeds arbitrary bytes to the zstd and lz4 decoders (Lance framing) under a
 * size cap, checks compress -> decompress round trips, and decodes valid
 * frames after damaging them (random bytes alone rarely get past the header).
 * Input: [mode] [cap] payload... */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "encoding/compress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  unsigned mode = data[0] % 7;
  /* Small caps exercise the max_out checks; 1 MiB bounds the work. */
  size_t max_out = data[1] < 128 ? (size_t)data[1] * 64 : (size_t)1 << 20;
  const uint8_t *p = data + 2;
  size_t len = size - 2;
  uint8_t *in = malloc(len ? len : 1); /* exact size: over-reads are caught */
  if (!in)
    return 0;
  memcpy(in, p, len);
  clance_error err;
  cl_buf out = CL_BUF_INIT, c = CL_BUF_INIT;
  size_t before;
  clance_status st;
  switch (mode) {
  case 0:
    st = cl_zstd_decompress(in, len, max_out, &out, &err);
    if (st == CLANCE_OK ? out.len > max_out : out.len != 0)
      abort();
    break;
  case 1:
    st = cl_lz4_decompress(in, len, max_out, &out, &err);
    if (st == CLANCE_OK ? out.len > max_out : out.len != 0)
      abort();
    break;
  case 2: /* zstd round trip, appended after existing bytes */
    if (cl_zstd_compress(in, len, data[1] % 8, &c, &err) != CLANCE_OK ||
        cl_buf_append(&out, "x", 1, &err) != CLANCE_OK)
      abort();
    before = out.len;
    if (cl_zstd_decompress(c.data, c.len, len, &out, &err) != CLANCE_OK ||
        out.len - before != len || (len && memcmp(out.data + before, in, len) != 0))
      abort();
    break;
  case 3:
    if (cl_lz4_compress(in, len, &c, &err) != CLANCE_OK ||
        cl_lz4_decompress(c.data, c.len, len, &out, &err) != CLANCE_OK || out.len != len ||
        (len && memcmp(out.data, in, len) != 0))
      abort();
    break;
  default: { /* 4: zstd, 5: lz4, 6: bare zstd frame; then flip a byte, cut the end */
    if (mode == 6) {
      size_t bound = ZSTD_compressBound(len);
      if (cl_buf_reserve(&c, bound, &err) != CLANCE_OK)
        abort();
      size_t r = ZSTD_compress(c.data, bound, in, len, 1);
      if (ZSTD_isError(r))
        abort();
      c.len = r;
    } else if ((mode == 4 ? cl_zstd_compress(in, len, 1, &c, &err)
                          : cl_lz4_compress(in, len, &c, &err)) != CLANCE_OK) {
      abort();
    }
    size_t at = len ? (size_t)in[0] * 257 % c.len : 0, cut = len > 1 ? in[1] % 4 : 0;
    c.data[at] ^= (uint8_t)(data[1] | 1);
    uint8_t *bad = malloc(c.len - cut + 1);
    if (!bad)
      abort();
    memcpy(bad, c.data, c.len - cut);
    st = mode == 5 ? cl_lz4_decompress(bad, c.len - cut, max_out, &out, &err)
                   : cl_zstd_decompress(bad, c.len - cut, max_out, &out, &err);
    if (st == CLANCE_OK ? out.len > max_out : out.len != 0)
      abort();
    free(bad);
    break;
  }
  }
  cl_buf_free(&out);
  cl_buf_free(&c);
  free(in);
  return 0;
}
