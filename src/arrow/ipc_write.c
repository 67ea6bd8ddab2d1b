/* Arrow IPC writer: stream and file formats, optional ZSTD / LZ4_FRAME body
 * compression. Input arrays may be sliced (offset != 0): every buffer is
 * written for exactly the rows of the batch (bitmaps shifted, offsets
 * rebased). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arrow/array.h"
#include "arrow/ipc_internal.h"

struct cl_ipc_writer {
  cl_schema schema;
  cl_field root; /* struct over schema.fields (borrowed) for validation */
  int file_format;
  int codec; /* -1 = none */
  int level;
  cl_ipc_sink_fn sink;
  void *ctx;
  uint64_t pos;
  int finished;
  int failed;
  cl_ipc_dict_field *dicts;
  size_t n_dicts;
  const struct ArrowArray **dict_arrays; /* per dictionary field, in the current batch */
  int64_t *dict_len;                     /* values the reader already has; -1 = none */
  cl_buf *dict_sig;                      /* encoding of those values */
  cl_buf dict_blocks, batch_blocks;      /* file footer Blocks */
  fb_builder fb;
  cl_buf body, nodes, bufs, tmp, sig;
};

/* ------------------------------------------------------------------------ */
/* Sinks                                                                      */
/* ------------------------------------------------------------------------ */

clance_status cl_ipc_sink_buf(void *ctx, const uint8_t *data, size_t len, clance_error *err) {
  return cl_buf_append(ctx, data, len, err);
}

clance_status cl_ipc_sink_fd(void *ctx, const uint8_t *data, size_t len, clance_error *err) {
  int fd = *(const int *)ctx;
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return cl_err_errno(err, errno, "write", "Arrow IPC output");
    }
    data += n;
    len -= (size_t)n;
  }
  return CLANCE_OK;
}

static clance_status out(cl_ipc_writer *w, const void *data, size_t len, clance_error *err) {
  if (len == 0)
    return CLANCE_OK;
  clance_status st = w->sink(w->ctx, data, len, err);
  if (st) {
    w->failed = 1;
    return st;
  }
  w->pos += len;
  return CLANCE_OK;
}

/* ------------------------------------------------------------------------ */
/* Encoding arrays into body buffers                                          */
/* ------------------------------------------------------------------------ */

typedef struct enc {
  cl_buf *body, *nodes, *bufs, *tmp;
  int codec;
  int level;
} enc;

static clance_status put_node(enc *e, int64_t len, int64_t nulls, clance_error *err) {
  CL_TRY(cl_buf_append_u64(e->nodes, (uint64_t)len, err));
  return cl_buf_append_u64(e->nodes, (uint64_t)nulls, err);
}

static clance_status put_buffer(enc *e, const void *data, size_t n, clance_error *err) {
  size_t off = e->body->len, len = n;
  if (n > 0 && e->codec < 0) {
    CL_TRY(cl_buf_append(e->body, data, n, err));
  } else if (n > 0) {
    /* int64 uncompressed length, then one frame; -1 and the raw bytes when
     * compression does not pay (as arrow-rs and Lance do). */
    size_t written;
    CL_TRY(cl_buf_append_u64(e->body, (uint64_t)n, err));
    CL_TRY(cl_ipc_compress(e->codec, e->level, data, n, e->body, &written, err));
    if (8 + written > n) {
      e->body->len = off;
      CL_TRY(cl_buf_append_u64(e->body, UINT64_MAX, err));
      CL_TRY(cl_buf_append(e->body, data, n, err));
      len = 8 + n;
    } else {
      len = 8 + written;
    }
  }
  CL_TRY(cl_buf_append_u64(e->bufs, off, err));
  CL_TRY(cl_buf_append_u64(e->bufs, len, err));
  return cl_buf_pad(e->body, 8, 0, err);
}

/* n bits from bit `from` of src, shifted to bit 0, trailing bits zero. */
static clance_status put_bits(enc *e, const uint8_t *src, int64_t from, int64_t n,
                              clance_error *err) {
  size_t bytes = (size_t)((n + 7) / 8);
  cl_buf_reset(e->tmp);
  CL_TRY(cl_buf_fill(e->tmp, 0, bytes, err));
  if (n > 0)
    cl_bits_copy(e->tmp->data, 0, src, from, n);
  return put_buffer(e, e->tmp->data, bytes, err);
}

static int64_t offset_at(const void *o, int large, int64_t i) {
  return large ? ((const int64_t *)o)[i] : ((const int32_t *)o)[i];
}

/* Offsets [phys, phys + n] rebased to start at 0. */
static clance_status put_offsets(enc *e, const void *o, int large, int64_t phys, int64_t n,
                                 clance_error *err) {
  size_t w = large ? 8 : 4;
  cl_buf_reset(e->tmp);
  CL_TRY(cl_buf_reserve(e->tmp, (size_t)(n + 1) * w, err));
  int64_t base = offset_at(o, large, phys);
  for (int64_t i = 0; i <= n; i++) {
    int64_t v = offset_at(o, large, phys + i) - base;
    if (large)
      cl_put64(e->tmp->data + e->tmp->len, (uint64_t)v);
    else
      cl_put32(e->tmp->data + e->tmp->len, (uint32_t)v);
    e->tmp->len += w;
  }
  return put_buffer(e, e->tmp->data, e->tmp->len, err);
}

/* Elements [start, start + n) of `a` (start excludes a->offset). */
static clance_status encode(enc *e, const cl_field *f, const struct ArrowArray *a, int64_t start,
                            int64_t n, clance_error *err) {
  int64_t phys = a->offset + start;
  if (f->type == CL_TYPE_NULL)
    return put_node(e, n, n, err);
  const uint8_t *valid = a->n_buffers > 0 && a->null_count != 0 ? a->buffers[0] : NULL;
  int64_t nulls = valid ? cl_bits_count_zero(valid, phys, n) : 0;
  CL_TRY(put_node(e, n, nulls, err));
  if (nulls)
    CL_TRY(put_bits(e, valid, phys, n, err));
  else
    CL_TRY(put_buffer(e, NULL, 0, err));
  switch (f->type) {
  case CL_TYPE_BOOL: return put_bits(e, a->buffers[1], phys, n, err);
  case CL_TYPE_UTF8:
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_BINARY:
  case CL_TYPE_LARGE_BINARY:
  case CL_TYPE_LIST:
  case CL_TYPE_LARGE_LIST: {
    int large = cl_type_is_large(f->type);
    const void *o = a->buffers[1];
    int64_t b0 = n ? offset_at(o, large, phys) : 0, b1 = n ? offset_at(o, large, phys + n) : 0;
    if (n)
      CL_TRY(put_offsets(e, o, large, phys, n, err));
    else
      CL_TRY(put_buffer(e, (const uint8_t[8]){0}, large ? 8 : 4, err));
    if (f->type == CL_TYPE_LIST || f->type == CL_TYPE_LARGE_LIST)
      return encode(e, &f->children[0], a->children[0], b0, b1 - b0, err);
    return put_buffer(e, n ? (const uint8_t *)a->buffers[2] + b0 : NULL, (size_t)(b1 - b0), err);
  }
  case CL_TYPE_FIXED_SIZE_LIST:
    return encode(e, &f->children[0], a->children[0], phys * f->size, n * f->size, err);
  case CL_TYPE_STRUCT:
    for (size_t i = 0; i < f->n_children; i++)
      CL_TRY(encode(e, &f->children[i], a->children[i], phys, n, err));
    return CLANCE_OK;
  default: {
    size_t w = cl_type_bits(&(cl_field){.type = f->type == CL_TYPE_DICTIONARY ? f->index_type
                                                                             : f->type,
                                        .size = f->size}) / 8;
    const uint8_t *v = n ? (const uint8_t *)a->buffers[1] + (size_t)phys * w : NULL;
    return put_buffer(e, v, (size_t)n * w, err);
  }
  }
}

/* ------------------------------------------------------------------------ */
/* Messages                                                                   */
/* ------------------------------------------------------------------------ */

static const uint8_t zeros8[8];

/* Write one encapsulated message whose header was built in w->fb; *block
 * gets the file Block (24 bytes) when non-NULL. */
static clance_status write_message(cl_ipc_writer *w, fb_ref msg, const cl_buf *body,
                                   uint8_t *block, clance_error *err) {
  const uint8_t *meta;
  size_t mlen;
  if (fb_finish(&w->fb, msg, &meta, &mlen))
    return cl_err_nomem(err, "Arrow IPC metadata");
  size_t padded = (mlen + 7) & ~(size_t)7;
  uint64_t start = w->pos;
  uint8_t prefix[8];
  cl_put32(prefix, 0xFFFFFFFFu);
  cl_put32(prefix + 4, (uint32_t)padded);
  CL_TRY(out(w, prefix, 8, err));
  CL_TRY(out(w, meta, mlen, err));
  CL_TRY(out(w, zeros8, padded - mlen, err));
  if (body)
    CL_TRY(out(w, body->data, body->len, err));
  if (block) {
    memset(block, 0, IPC_BLOCK_SIZE);
    cl_put64(block, start);
    cl_put32(block + 8, (uint32_t)(8 + padded));
    cl_put64(block + 16, body ? body->len : 0);
  }
  return CLANCE_OK;
}

static fb_ref message_table(fb_builder *b, uint8_t type, fb_ref header, uint64_t body_len) {
  fb_start(b);
  fb_add_i16(b, MESSAGE_VERSION, IPC_V5);
  fb_add_u8(b, MESSAGE_HEADER_TYPE, type);
  fb_add_ref(b, MESSAGE_HEADER, header);
  fb_add_i64(b, MESSAGE_BODY_LENGTH, (int64_t)body_len);
  return fb_end(b);
}

static void enc_init(cl_ipc_writer *w, enc *e, int codec) {
  cl_buf_reset(&w->body);
  cl_buf_reset(&w->nodes);
  cl_buf_reset(&w->bufs);
  e->body = &w->body;
  e->nodes = &w->nodes;
  e->bufs = &w->bufs;
  e->tmp = &w->tmp;
  e->codec = codec;
  e->level = w->level;
}

/* RecordBatch table over w->nodes / w->bufs / w->body. */
static fb_ref record_batch_table(cl_ipc_writer *w, int64_t length) {
  fb_builder *b = &w->fb;
  fb_ref nodes = fb_vec_raw(b, w->nodes.data, IPC_NODE_SIZE, w->nodes.len / IPC_NODE_SIZE, 8);
  fb_ref bufs = fb_vec_raw(b, w->bufs.data, IPC_BUFFER_SIZE, w->bufs.len / IPC_BUFFER_SIZE, 8);
  fb_ref comp = 0;
  if (w->codec >= 0) {
    fb_start(b);
    fb_add_u8(b, COMPRESSION_CODEC, (uint8_t)w->codec);
    fb_add_u8(b, COMPRESSION_METHOD, 0);
    comp = fb_end(b);
  }
  fb_start(b);
  fb_add_i64(b, RB_LENGTH, length);
  fb_add_ref(b, RB_NODES, nodes);
  fb_add_ref(b, RB_BUFFERS, bufs);
  if (comp)
    fb_add_ref(b, RB_COMPRESSION, comp);
  return fb_end(b);
}

static clance_status append_block(cl_buf *blocks, const uint8_t *block, clance_error *err) {
  return cl_buf_append(blocks, block, IPC_BLOCK_SIZE, err);
}

static clance_status write_dictionary(cl_ipc_writer *w, size_t k, const struct ArrowArray *d,
                                      int64_t start, int64_t n, int delta, clance_error *err) {
  enc e;
  enc_init(w, &e, w->codec);
  CL_TRY(encode(&e, &w->dicts[k].field->children[0], d, start, n, err));
  fb_reset(&w->fb);
  fb_ref rb = record_batch_table(w, n);
  fb_start(&w->fb);
  fb_add_i64(&w->fb, DICTBATCH_ID, w->dicts[k].id);
  fb_add_ref(&w->fb, DICTBATCH_DATA, rb);
  fb_add_u8(&w->fb, DICTBATCH_DELTA, (uint8_t)(delta != 0));
  fb_ref db = fb_end(&w->fb);
  fb_ref msg = message_table(&w->fb, IPC_HDR_DICTIONARY, db, w->body.len);
  uint8_t block[IPC_BLOCK_SIZE];
  CL_TRY(write_message(w, msg, &w->body, block, err));
  return w->file_format ? append_block(&w->dict_blocks, block, err) : CLANCE_OK;
}

/* Uncompressed encoding of d[0, n), used to tell whether a dictionary
 * changed. */
static clance_status signature(cl_ipc_writer *w, size_t k, const struct ArrowArray *d, int64_t n,
                               cl_buf *sig, clance_error *err) {
  enc e;
  enc_init(w, &e, -1);
  CL_TRY(encode(&e, &w->dicts[k].field->children[0], d, 0, n, err));
  cl_buf_reset(sig);
  CL_TRY(cl_buf_append(sig, w->nodes.data, w->nodes.len, err));
  CL_TRY(cl_buf_append(sig, w->bufs.data, w->bufs.len, err));
  return cl_buf_append(sig, w->body.data, w->body.len, err);
}

static int same_buf(const cl_buf *a, const cl_buf *b) {
  return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static clance_status write_dictionaries(cl_ipc_writer *w, clance_error *err) {
  for (size_t k = 0; k < w->n_dicts; k++) {
    const struct ArrowArray *d = w->dict_arrays[k]->dictionary;
    int64_t m = d->length, n = w->dict_len[k];
    if (n >= 0 && m >= n) {
      CL_TRY(signature(w, k, d, n, &w->sig, err));
      if (same_buf(&w->sig, &w->dict_sig[k])) {
        if (m == n)
          continue;
        CL_TRY(write_dictionary(w, k, d, n, m - n, 1, err));
        CL_TRY(signature(w, k, d, m, &w->dict_sig[k], err));
        w->dict_len[k] = m;
        continue;
      }
    }
    if (n >= 0 && w->file_format)
      return cl_err(err, CLANCE_EUNSUPPORTED,
                    "column \"%s\": the dictionary changes between batches, which the Arrow IPC "
                    "file format cannot express (only appends can); write a stream instead",
                    w->dicts[k].field->name);
    CL_TRY(write_dictionary(w, k, d, 0, m, 0, err));
    CL_TRY(signature(w, k, d, m, &w->dict_sig[k], err));
    w->dict_len[k] = m;
  }
  return CLANCE_OK;
}

/* Find the array of each dictionary field (pre-order, as cl_ipc_schema_dicts). */
static void find_dict_arrays(cl_ipc_writer *w, const cl_field *f, const struct ArrowArray *a,
                             size_t *k) {
  if (f->type == CL_TYPE_DICTIONARY) {
    w->dict_arrays[(*k)++] = a;
    return;
  }
  for (size_t i = 0; i < f->n_children; i++)
    find_dict_arrays(w, &f->children[i], a->children[i], k);
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                 */
/* ------------------------------------------------------------------------ */

static const uint8_t file_magic[8] = {'A', 'R', 'R', 'O', 'W', '1', 0, 0};

clance_status cl_ipc_writer_open(const cl_schema *schema, const cl_ipc_write_options *options,
                                 cl_ipc_sink_fn sink, void *sink_ctx, cl_ipc_writer **outp,
                                 clance_error *err) {
  CL_PUBLIC_ERR(err, local_err);
  *outp = NULL;
  cl_ipc_write_options def = {0, 0, 0};
  if (!options)
    options = &def;
  if (!sink)
    return cl_err(err, CLANCE_EINVAL, "Arrow IPC writer: no sink");
  if (options->compression < 0 || options->compression > 2)
    return cl_err(err, CLANCE_EINVAL, "Arrow IPC writer: unknown compression %d",
                  options->compression);
  cl_ipc_writer *w = cl_calloc(1, sizeof *w, err);
  if (!w)
    return err->code;
  fb_init(&w->fb);
  w->file_format = options->file_format != 0;
  w->codec = options->compression == CL_IPC_COMPRESSION_ZSTD  ? IPC_CODEC_ZSTD
             : options->compression == CL_IPC_COMPRESSION_LZ4 ? IPC_CODEC_LZ4_FRAME
                                                              : -1;
  w->level = options->zstd_level;
  w->sink = sink;
  w->ctx = sink_ctx;
  clance_status st;
  CL_CHECK(st, cl_schema_copy(schema, &w->schema, err));
  w->root.name = "batch";
  w->root.type = CL_TYPE_STRUCT;
  w->root.nullable = 0;
  w->root.id = -1;
  w->root.children = w->schema.fields;
  w->root.n_children = w->schema.n_fields;
  CL_CHECK(st, cl_ipc_schema_dicts(&w->schema, &w->dicts, &w->n_dicts, err));
  if (w->n_dicts) {
    w->dict_arrays = cl_calloc(w->n_dicts, sizeof *w->dict_arrays, err);
    w->dict_len = cl_calloc(w->n_dicts, sizeof *w->dict_len, err);
    w->dict_sig = cl_calloc(w->n_dicts, sizeof *w->dict_sig, err);
    if (!w->dict_arrays || !w->dict_len || !w->dict_sig) {
      st = err->code;
      goto fail;
    }
    for (size_t k = 0; k < w->n_dicts; k++)
      w->dict_len[k] = -1;
  }
  fb_ref sref;
  CL_CHECK(st, cl_ipc_schema_build(&w->fb, &w->schema, &sref, err));
  fb_ref msg = message_table(&w->fb, IPC_HDR_SCHEMA, sref, 0);
  if (w->file_format)
    CL_CHECK(st, out(w, file_magic, 8, err));
  CL_CHECK(st, write_message(w, msg, NULL, NULL, err));
  *outp = w;
  return CLANCE_OK;
fail:
  cl_ipc_writer_free(w);
  return st;
}

clance_status cl_ipc_writer_write(cl_ipc_writer *w, const struct ArrowArray *batch,
                                  clance_error *err) {
  CL_PUBLIC_ERR(err, local_err);
  if (w->failed || w->finished)
    return cl_err(err, CLANCE_EINVAL, "Arrow IPC writer: %s",
                  w->finished ? "already finished" : "an earlier write failed");
  CL_TRY(cl_array_validate(&w->root, batch, "batch", err));
  if (cl_array_null_count(batch) > 0)
    return cl_err(err, CLANCE_EINVAL, "Arrow IPC writer: a record batch cannot have null rows");
  size_t k = 0;
  for (size_t i = 0; i < w->schema.n_fields; i++)
    find_dict_arrays(w, &w->schema.fields[i], batch->children[i], &k);
  clance_status st;
  CL_CHECK(st, write_dictionaries(w, err));
  enc e;
  enc_init(w, &e, w->codec);
  for (size_t i = 0; i < w->schema.n_fields; i++)
    CL_CHECK(st, encode(&e, &w->schema.fields[i], batch->children[i], batch->offset,
                        batch->length, err));
  fb_reset(&w->fb);
  fb_ref rb = record_batch_table(w, batch->length);
  fb_ref msg = message_table(&w->fb, IPC_HDR_RECORD_BATCH, rb, w->body.len);
  uint8_t block[IPC_BLOCK_SIZE];
  CL_CHECK(st, write_message(w, msg, &w->body, block, err));
  if (w->file_format)
    CL_CHECK(st, append_block(&w->batch_blocks, block, err));
  return CLANCE_OK;
fail:
  w->failed = 1;
  return st;
}

clance_status cl_ipc_writer_finish(cl_ipc_writer *w, clance_error *err) {
  CL_PUBLIC_ERR(err, local_err);
  if (w->failed || w->finished)
    return cl_err(err, CLANCE_EINVAL, "Arrow IPC writer: %s",
                  w->finished ? "already finished" : "an earlier write failed");
  w->finished = 1;
  uint8_t eos[8];
  cl_put32(eos, 0xFFFFFFFFu);
  cl_put32(eos + 4, 0);
  CL_TRY(out(w, eos, 8, err));
  if (!w->file_format)
    return CLANCE_OK;
  fb_reset(&w->fb);
  fb_ref sref;
  CL_TRY(cl_ipc_schema_build(&w->fb, &w->schema, &sref, err));
  fb_ref dicts = fb_vec_raw(&w->fb, w->dict_blocks.data, IPC_BLOCK_SIZE,
                            w->dict_blocks.len / IPC_BLOCK_SIZE, 8);
  fb_ref batches = fb_vec_raw(&w->fb, w->batch_blocks.data, IPC_BLOCK_SIZE,
                              w->batch_blocks.len / IPC_BLOCK_SIZE, 8);
  fb_start(&w->fb);
  fb_add_i16(&w->fb, FOOTER_VERSION, IPC_V5);
  fb_add_ref(&w->fb, FOOTER_SCHEMA, sref);
  fb_add_ref(&w->fb, FOOTER_DICTIONARIES, dicts);
  fb_add_ref(&w->fb, FOOTER_BATCHES, batches);
  fb_ref footer = fb_end(&w->fb);
  const uint8_t *fbytes;
  size_t flen;
  if (fb_finish(&w->fb, footer, &fbytes, &flen))
    return cl_err_nomem(err, "Arrow IPC footer");
  uint8_t tail[10];
  cl_put32(tail, (uint32_t)flen);
  memcpy(tail + 4, file_magic, 6);
  CL_TRY(out(w, fbytes, flen, err));
  return out(w, tail, sizeof tail, err);
}

uint64_t cl_ipc_writer_bytes(const cl_ipc_writer *w) { return w->pos; }

void cl_ipc_writer_free(cl_ipc_writer *w) {
  if (!w)
    return;
  for (size_t k = 0; w->dict_sig && k < w->n_dicts; k++)
    cl_buf_free(&w->dict_sig[k]);
  free(w->dict_sig);
  free(w->dict_len);
  free(w->dict_arrays);
  free(w->dicts);
  cl_buf_free(&w->dict_blocks);
  cl_buf_free(&w->batch_blocks);
  cl_buf_free(&w->body);
  cl_buf_free(&w->nodes);
  cl_buf_free(&w->bufs);
  cl_buf_free(&w->tmp);
  cl_buf_free(&w->sig);
  fb_free(&w->fb);
  cl_schema_free(&w->schema);
  free(w);
}

clance_status cl_ipc_write(const cl_schema *schema, const struct ArrowArray *batches,
                           size_t n_batches, int file_format, int compression, cl_buf *outbuf,
                           clance_error *err) {
  CL_PUBLIC_ERR(err, local_err);
  cl_ipc_write_options opt = {file_format, compression, 0};
  cl_ipc_writer *w;
  CL_TRY(cl_ipc_writer_open(schema, &opt, cl_ipc_sink_buf, outbuf, &w, err));
  clance_status st = CLANCE_OK;
  for (size_t i = 0; i < n_batches && !st; i++)
    st = cl_ipc_writer_write(w, &batches[i], err);
  if (!st)
    st = cl_ipc_writer_finish(w, err);
  cl_ipc_writer_free(w);
  return st;
}
