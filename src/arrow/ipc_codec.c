/* Body-buffer compression of Arrow IPC: each buffer is one complete ZSTD frame
 * or LZ4 frame (lz4frame.h, not the raw block format). The int64 length prefix
 * and the "-1 = stored uncompressed" rule are handled by the callers. */
#include <lz4frame.h>
#include <zstd.h>

#include "arrow/ipc_internal.h"

static clance_status lz4_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len,
                                    const char *what, clance_error *err) {
  LZ4F_dctx *dctx = NULL;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
    return cl_err_nomem(err, "LZ4 decompression context");
  size_t in = 0, outp = 0, hint = 1;
  clance_status st = CLANCE_OK;
  while (in < n) {
    size_t s = n - in, d = dst_len - outp;
    hint = LZ4F_decompress(dctx, dst + outp, &d, src + in, &s, NULL);
    if (LZ4F_isError(hint)) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: bad LZ4 frame in body buffer: %s", what,
                  LZ4F_getErrorName(hint));
      goto done;
    }
    in += s;
    outp += d;
    if (s == 0 && d == 0) {
      st = cl_err(err, CLANCE_ECORRUPT,
                  "%s: LZ4 body buffer decompresses to more than its declared %zu bytes", what,
                  dst_len);
      goto done;
    }
  }
  if (hint != 0) {
    st = cl_err(err, CLANCE_ECORRUPT, "%s: truncated LZ4 frame in body buffer", what);
    goto done;
  }
  if (outp != dst_len)
    st = cl_err(err, CLANCE_ECORRUPT,
                "%s: LZ4 body buffer decompresses to %zu bytes, declared %zu", what, outp, dst_len);
done:
  LZ4F_freeDecompressionContext(dctx);
  return st;
}

clance_status cl_ipc_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst,
                                size_t dst_len, const char *what, clance_error *err) {
  if (dst_len == 0)
    return CLANCE_OK;
  if (codec == IPC_CODEC_LZ4_FRAME)
    return lz4_decompress(src, n, dst, dst_len, what, err);
  size_t r = ZSTD_decompress(dst, dst_len, src, n);
  if (ZSTD_isError(r))
    return cl_err(err, CLANCE_ECORRUPT, "%s: bad ZSTD frame in body buffer: %s", what,
                  ZSTD_getErrorName(r));
  if (r != dst_len)
    return cl_err(err, CLANCE_ECORRUPT,
                  "%s: ZSTD body buffer decompresses to %zu bytes, declared %zu", what, r,
                  dst_len);
  return CLANCE_OK;
}

clance_status cl_ipc_compress(int codec, int level, const uint8_t *src, size_t n, cl_buf *out,
                              size_t *written, clance_error *err) {
  *written = 0;
  size_t bound = codec == IPC_CODEC_LZ4_FRAME ? LZ4F_compressFrameBound(n, NULL)
                                              : ZSTD_compressBound(n);
  CL_TRY(cl_buf_reserve(out, bound, err));
  size_t r;
  if (codec == IPC_CODEC_LZ4_FRAME) {
    r = LZ4F_compressFrame(out->data + out->len, bound, src, n, NULL);
    if (LZ4F_isError(r))
      return cl_err(err, CLANCE_EINTERNAL, "LZ4 compression failed: %s", LZ4F_getErrorName(r));
  } else {
    r = ZSTD_compress(out->data + out->len, bound, src, n, level ? level : ZSTD_CLEVEL_DEFAULT);
    if (ZSTD_isError(r))
      return cl_err(err, CLANCE_EINTERNAL, "ZSTD compression failed: %s", ZSTD_getErrorName(r));
  }
  out->len += r;
  *written = r;
  return CLANCE_OK;
}
