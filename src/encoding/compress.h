/* Whole-buffer compression as Lance frames it (format notes §9.10; container
 * notes §4.3):
 *   zstd: u64 LE uncompressed length, then one zstd frame. Older writers left
 *         out the prefix, so the reader also takes a bare frame;
 *   lz4:  u32 LE uncompressed length, then one raw LZ4 block (not the LZ4
 *         frame format).
 * Every function appends to `out` and leaves out->len unchanged on failure.
 * Decompression refuses to produce more than max_out bytes, so a hostile
 * length cannot make it allocate without bound. */
#ifndef CL_ENCODING_COMPRESS_H
#define CL_ENCODING_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

/* level 0 means zstd's default (3). */
clance_status cl_zstd_compress(const uint8_t *src, size_t n, int level, cl_buf *out,
                               clance_error *err);

/* Accepts the prefixed form and the legacy bare frame(s). A buffer is bare when
 * n < 8, or when it starts with the zstd magic 28 b5 2f fd and (byte[4] & 0x10)
 * == 0 (a frame-header bit that must be clear, while a length prefix would
 * need an uncompressed size near 4 GiB to look like that). An empty buffer
 * decodes to nothing. CLANCE_ECORRUPT when the data is damaged, the output
 * would exceed max_out, or the result does not match the prefix. */
clance_status cl_zstd_decompress(const uint8_t *src, size_t n, size_t max_out, cl_buf *out,
                                 clance_error *err);

/* n must be below LZ4_MAX_INPUT_SIZE (about 2 GiB): CLANCE_EINVAL otherwise. */
clance_status cl_lz4_compress(const uint8_t *src, size_t n, cl_buf *out, clance_error *err);
/* The same framing, with LZ4's high-compression encoder (default level):
 * slower, smaller, and read by any LZ4 decoder. */
clance_status cl_lz4hc_compress(const uint8_t *src, size_t n, cl_buf *out, clance_error *err);

/* CLANCE_ECORRUPT unless the block decodes to exactly the prefixed length,
 * which must not exceed max_out. */
clance_status cl_lz4_decompress(const uint8_t *src, size_t n, size_t max_out, cl_buf *out,
                                clance_error *err);

#endif
