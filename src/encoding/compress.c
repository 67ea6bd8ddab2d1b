#include "encoding/compress.h"

#include <limits.h>
#include <lz4.h>
#include <lz4hc.h>
#include <pthread.h>
#include <stdlib.h>
#include <zstd.h>

/* ---- Per-thread zstd contexts ------------------------------------------------
 * Mini-block pages compress each small chunk on its own, so a scan makes many
 * short calls; a fresh context costs a ~100-200 KiB allocation each time. Each
 * thread keeps one decompression and one compression context, freed when the
 * thread exits. The key is deleted when the library is unloaded so no
 * destructor runs into unmapped code (threads alive then leak theirs). */
typedef struct zctx {
  ZSTD_DCtx *d;
  ZSTD_CCtx *c;
} zctx;

static pthread_key_t zkey;
static pthread_once_t zkey_once = PTHREAD_ONCE_INIT;
static int zkey_ok;

static void zctx_free(void *p) {
  zctx *z = p;
  ZSTD_freeDCtx(z->d);
  ZSTD_freeCCtx(z->c);
  free(z);
}

static void zkey_init(void) { zkey_ok = pthread_key_create(&zkey, zctx_free) == 0; }

__attribute__((destructor)) static void zkey_fini(void) {
  if (zkey_ok)
    pthread_key_delete(zkey);
}

/* The calling thread's contexts, or NULL (then the caller makes its own). */
static zctx *zctx_get(void) {
  pthread_once(&zkey_once, zkey_init);
  if (!zkey_ok)
    return NULL;
  zctx *z = pthread_getspecific(zkey);
  if (!z && (z = calloc(1, sizeof *z)) && pthread_setspecific(zkey, z) != 0) {
    free(z);
    z = NULL;
  }
  return z;
}

static ZSTD_DCtx *dctx_get(int *owned) {
  zctx *z = zctx_get();
  *owned = 0;
  if (z && !z->d)
    z->d = ZSTD_createDCtx();
  if (z && z->d)
    return z->d;
  *owned = 1;
  return ZSTD_createDCtx();
}

static ZSTD_CCtx *cctx_get(int *owned) {
  zctx *z = zctx_get();
  *owned = 0;
  if (z && !z->c)
    z->c = ZSTD_createCCtx();
  if (z && z->c)
    return z->c;
  *owned = 1;
  return ZSTD_createCCtx();
}

/* Libraries may reject NULL even with a zero size; point them at this. */
static const uint8_t empty_src[1];

/* ---- zstd ------------------------------------------------------------------- */

clance_status cl_zstd_compress(const uint8_t *src, size_t n, int level, cl_buf *out,
                               clance_error *err) {
  size_t bound = ZSTD_compressBound(n);
  if (ZSTD_isError(bound) || bound > SIZE_MAX - 8)
    return cl_err(err, CLANCE_EINVAL, "zstd: cannot compress %zu bytes", n);
  CL_TRY(cl_buf_reserve(out, 8 + bound, err));
  int owned;
  ZSTD_CCtx *c = cctx_get(&owned);
  if (!c)
    return cl_err_nomem(err, "zstd context");
  uint8_t *dst = out->data + out->len;
  size_t r = ZSTD_compressCCtx(c, dst + 8, bound, n ? src : empty_src, n, level);
  if (owned)
    ZSTD_freeCCtx(c);
  if (ZSTD_isError(r))
    return cl_err(err, CLANCE_EINTERNAL, "zstd compression failed: %s", ZSTD_getErrorName(r));
  cl_put64(dst, (uint64_t)n);
  out->len += 8 + r;
  return CLANCE_OK;
}

/* Lance's test for a frame written without the length prefix (§9.10). */
static int zstd_is_bare(const uint8_t *src, size_t n) {
  if (n < 8)
    return 1;
  return src[0] == 0x28 && src[1] == 0xb5 && src[2] == 0x2f && src[3] == 0xfd &&
         (src[4] & 0x10) == 0;
}

/* Bare frames carry no trusted size: stream them out, growing `out` as needed
 * but never past max_out. Rare (old files), so it uses a throw-away stream
 * rather than keeping a window buffer in the thread's context. */
static clance_status zstd_decompress_bare(const uint8_t *src, size_t n, size_t max_out,
                                          cl_buf *out, clance_error *err) {
  ZSTD_DStream *d = ZSTD_createDStream();
  if (!d)
    return cl_err_nomem(err, "zstd stream");
  const size_t start = out->len;
  ZSTD_inBuffer in = {src, n, 0};
  clance_status st = CLANCE_OK;
  for (;;) {
    size_t produced = out->len - start;
    if (produced > max_out) {
      st = cl_err(err, CLANCE_ECORRUPT, "zstd: bare frame decompresses to more than %zu bytes",
                  max_out);
      break;
    }
    /* Room for up to max_out + 1 bytes in total, so an overrun is seen. */
    size_t limit = max_out - produced < SIZE_MAX ? max_out - produced + 1 : SIZE_MAX;
    size_t want = produced > 65536 ? produced : 65536;
    if (want > limit)
      want = limit;
    if (out->cap - out->len < want && (st = cl_buf_reserve(out, want, err)) != CLANCE_OK)
      break;
    ZSTD_outBuffer ob = {out->data + out->len, out->cap - out->len, 0};
    if (ob.size > limit)
      ob.size = limit;
    size_t r = ZSTD_decompressStream(d, &ob, &in);
    if (ZSTD_isError(r)) {
      st = cl_err(err, CLANCE_ECORRUPT, "zstd: corrupt frame: %s", ZSTD_getErrorName(r));
      break;
    }
    out->len += ob.pos;
    if (r == 0 && in.pos == in.size) /* last frame complete, input used up */
      break;
    if (in.pos == in.size && ob.pos < ob.size) { /* wants input there is none of */
      st = cl_err(err, CLANCE_ECORRUPT, "zstd: truncated frame");
      break;
    }
  }
  ZSTD_freeDStream(d);
  if (st == CLANCE_OK && out->len - start > max_out)
    st = cl_err(err, CLANCE_ECORRUPT, "zstd: bare frame decompresses to more than %zu bytes",
                max_out);
  if (st != CLANCE_OK)
    out->len = start;
  return st;
}

clance_status cl_zstd_decompress(const uint8_t *src, size_t n, size_t max_out, cl_buf *out,
                                 clance_error *err) {
  if (n == 0)
    return CLANCE_OK;
  if (zstd_is_bare(src, n))
    return zstd_decompress_bare(src, n, max_out, out, err);
  uint64_t len = cl_le64(src);
  if (len > max_out)
    return cl_err(err, CLANCE_ECORRUPT,
                  "zstd: buffer declares %llu uncompressed bytes, more than the %zu allowed",
                  (unsigned long long)len, max_out);
  /* The prefix is not trusted with memory: beyond 64 times the frame's size
   * (far above what real data compresses to), the output is streamed and the
   * buffer grows only with bytes the frame really produces. */
  if (len > (uint64_t)(n - 8) * 64 + 65536) {
    const size_t start = out->len;
    CL_TRY(zstd_decompress_bare(src + 8, n - 8, (size_t)len, out, err));
    size_t produced = out->len - start;
    if (produced != len) {
      out->len = start;
      return cl_err(err, CLANCE_ECORRUPT, "zstd: frame holds %zu bytes, prefix says %llu",
                    produced, (unsigned long long)len);
    }
    return CLANCE_OK;
  }
  /* At least one byte so that dst is a real pointer even for len == 0. */
  CL_TRY(cl_buf_reserve(out, len ? (size_t)len : 1, err));
  int owned;
  ZSTD_DCtx *d = dctx_get(&owned);
  if (!d)
    return cl_err_nomem(err, "zstd context");
  /* One-shot into exactly len bytes: a frame that would produce more fails
   * with dstSize_tooSmall, so nothing beyond len is ever written. */
  size_t r = ZSTD_decompressDCtx(d, out->data + out->len, (size_t)len, src + 8, n - 8);
  if (owned)
    ZSTD_freeDCtx(d);
  if (ZSTD_isError(r))
    return cl_err(err, CLANCE_ECORRUPT, "zstd: corrupt frame (%llu bytes expected): %s",
                  (unsigned long long)len, ZSTD_getErrorName(r));
  if (r != len)
    return cl_err(err, CLANCE_ECORRUPT, "zstd: frame holds %zu bytes, prefix says %llu", r,
                  (unsigned long long)len);
  out->len += r;
  return CLANCE_OK;
}

/* ---- lz4 -------------------------------------------------------------------- */

clance_status cl_lz4_compress(const uint8_t *src, size_t n, cl_buf *out, clance_error *err) {
  if (n > LZ4_MAX_INPUT_SIZE)
    return cl_err(err, CLANCE_EINVAL, "lz4: %zu bytes is more than one block can hold", n);
  int bound = LZ4_compressBound((int)n);
  CL_TRY(cl_buf_reserve(out, 4 + (size_t)bound, err));
  uint8_t *dst = out->data + out->len;
  int r = LZ4_compress_default((const char *)(n ? src : empty_src), (char *)dst + 4, (int)n,
                               bound);
  if (r <= 0)
    return cl_err(err, CLANCE_EINTERNAL, "lz4 compression failed");
  cl_put32(dst, (uint32_t)n);
  out->len += 4 + (size_t)r;
  return CLANCE_OK;
}

clance_status cl_lz4hc_compress(const uint8_t *src, size_t n, cl_buf *out, clance_error *err) {
  if (n > LZ4_MAX_INPUT_SIZE)
    return cl_err(err, CLANCE_EINVAL, "lz4: %zu bytes is more than one block can hold", n);
  int bound = LZ4_compressBound((int)n);
  CL_TRY(cl_buf_reserve(out, 4 + (size_t)bound, err));
  uint8_t *dst = out->data + out->len;
  int r = LZ4_compress_HC((const char *)(n ? src : empty_src), (char *)dst + 4, (int)n, bound,
                          LZ4HC_CLEVEL_DEFAULT);
  if (r <= 0)
    return cl_err(err, CLANCE_EINTERNAL, "lz4 compression failed");
  cl_put32(dst, (uint32_t)n);
  out->len += 4 + (size_t)r;
  return CLANCE_OK;
}

clance_status cl_lz4_decompress(const uint8_t *src, size_t n, size_t max_out, cl_buf *out,
                                clance_error *err) {
  if (n < 4)
    return cl_err(err, CLANCE_ECORRUPT, "lz4: %zu-byte buffer has no length prefix", n);
  uint32_t len = cl_le32(src);
  if (len > max_out)
    return cl_err(err, CLANCE_ECORRUPT,
                  "lz4: buffer declares %u uncompressed bytes, more than the %zu allowed", len,
                  max_out);
  if (len > INT_MAX || n - 4 > INT_MAX)
    return cl_err(err, CLANCE_ECORRUPT, "lz4: block of %zu bytes or %u output bytes too large",
                  n - 4, len);
  if (n == 4 && len == 0) /* no block at all: nothing to decode */
    return CLANCE_OK;
  /* An LZ4 block expands at most about 255-fold (a match length grows by 255
   * per byte), so a larger claim is corrupt and is refused before allocating. */
  if (len > (uint64_t)(n - 4) * 255 + 64)
    return cl_err(err, CLANCE_ECORRUPT,
                  "lz4: buffer declares %u uncompressed bytes, more than its %zu-byte block can "
                  "hold", len, n - 4);
  CL_TRY(cl_buf_reserve(out, len ? len : 1, err));
  int r = LZ4_decompress_safe((const char *)src + 4, (char *)out->data + out->len, (int)(n - 4),
                              (int)len);
  if (r < 0)
    return cl_err(err, CLANCE_ECORRUPT, "lz4: corrupt block (%u bytes expected)", len);
  if ((uint32_t)r != len)
    return cl_err(err, CLANCE_ECORRUPT, "lz4: block holds %d bytes, prefix says %u", r, len);
  out->len += (size_t)r;
  return CLANCE_OK;
}
