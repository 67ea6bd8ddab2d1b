/* Small reads out of one page buffer for row access (cl_bufrd, decode.h).
 *
 * A miss reads a block starting at the requested offset: 1 KiB at first,
 * doubling (up to 1 MiB) while reads keep landing just past the block
 * (within an eighth of its size), so a dense walk through a page costs a
 * few large reads and a sparse one a small read per row. Offsets are relative to the buffer and checked
 * against its size, which was checked against the file's when the column
 * metadata was loaded. */
#include <string.h>

#include "encoding/decode.h"

#define BLOCK_MIN 1024
#define BLOCK_MAX (1u << 20)

clance_status cl_bufrd_init(cl_bufrd *r, const cl_page_ctx *ctx, size_t i, const char *what,
                            clance_error *err) {
  memset(r, 0, sizeof *r);
  r->what = what;
  if (i >= ctx->page->n_bufs)
    return cl_err(err, CLANCE_ECORRUPT, "%s: page has %zu buffers, buffer %zu is needed", what,
                  ctx->page->n_bufs, i);
  r->file = ctx->file;
  r->pos = ctx->page->buf_offsets[i];
  r->size = ctx->page->buf_sizes[i];
  r->next = BLOCK_MIN;
  return CLANCE_OK;
}

void cl_bufrd_free(cl_bufrd *r) {
  cl_buf_free(&r->blk);
  r->blk_off = 0;
}

clance_status cl_bufrd_get(cl_bufrd *r, uint64_t off, uint64_t len, const uint8_t **out,
                           clance_error *err) {
  if (off > r->size || len > r->size - off)
    return cl_err(err, CLANCE_ECORRUPT, "%s: %llu bytes at offset %llu are past the end of a "
                  "page buffer of %llu bytes", r->what, (unsigned long long)len,
                  (unsigned long long)off, (unsigned long long)r->size);
  if (off >= r->blk_off && off + len <= r->blk_off + r->blk.len) {
    *out = r->blk.data + (off - r->blk_off);
    return CLANCE_OK;
  }
  if (len == 0) {
    static const uint8_t empty[1];
    *out = empty;
    return CLANCE_OK;
  }
  /* Just past the block (within an eighth of it): the walk is dense, read
   * more at once. */
  uint64_t end = r->blk_off + r->blk.len;
  if (r->blk.len && off >= end && off - end <= r->blk.len / 8)
    r->next = r->next * 2 > BLOCK_MAX ? BLOCK_MAX : r->next * 2;
  else
    r->next = BLOCK_MIN;
  uint64_t want = len > r->next ? len : r->next;
  if (want > r->size - off)
    want = r->size - off;
  r->blk.len = 0;
  CL_TRY(cl_buf_reserve(&r->blk, (size_t)want, err));
  clance_status st = cl_container_read(r->file, r->pos + off, want, r->blk.data, err);
  if (st)
    return cl_err_ctx(err, "%s: ", r->what);
  r->blk.len = (size_t)want;
  r->blk_off = off;
  *out = r->blk.data;
  return CLANCE_OK;
}
