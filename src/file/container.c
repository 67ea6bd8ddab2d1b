#include "file/container.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Pages                                                                      */
/* ------------------------------------------------------------------------ */

void cl_page_enc_reset(cl_page_enc *p) {
  for (size_t i = 0; i < CL_MAX_PAGE_BUFS; i++) {
    p->bufs[i].len = 0;
    p->ext_n[i] = 0;
  }
  p->n_ext = 0;
  p->n_bufs = 0;
  p->length = 0;
  p->priority = 0;
  p->encoding.len = 0;
}

void cl_page_enc_free(cl_page_enc *p) {
  for (size_t i = 0; i < CL_MAX_PAGE_BUFS; i++)
    cl_buf_free(&p->bufs[i]);
  cl_buf_free(&p->encoding);
  free(p->ext);
  memset(p, 0, sizeof *p);
}

void cl_page_enc_begin_slices(cl_page_enc *p, size_t i) {
  p->bufs[i].len = 0;
  p->ext_first[i] = p->n_ext;
  p->ext_n[i] = 0;
}

clance_status cl_page_enc_add_slice(cl_page_enc *p, size_t i, const void *data, size_t len,
                                    clance_error *err) {
  if (len == 0)
    return CLANCE_OK;
  if (p->n_ext == p->cap_ext) {
    size_t cap = p->cap_ext ? 2 * p->cap_ext : 16;
    cl_slice *n = realloc(p->ext, cap * sizeof *n);
    if (!n)
      return cl_err_nomem(err, "page slices");
    p->ext = n;
    p->cap_ext = cap;
  }
  p->ext[p->n_ext].data = data;
  p->ext[p->n_ext].len = len;
  p->n_ext++;
  p->ext_n[i]++;
  return CLANCE_OK;
}

uint64_t cl_page_enc_buf_len(const cl_page_enc *p, size_t i) {
  if (!p->ext_n[i])
    return p->bufs[i].len;
  uint64_t n = 0;
  for (size_t k = 0; k < p->ext_n[i]; k++)
    n += p->ext[p->ext_first[i] + k].len;
  return n;
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                     */
/* ------------------------------------------------------------------------ */

struct cl_page_rec {
  uint64_t offsets[CL_MAX_PAGE_BUFS];
  uint64_t sizes[CL_MAX_PAGE_BUFS];
  size_t n_bufs;
  uint64_t length;
  uint64_t priority;
  uint8_t *encoding;
  size_t encoding_len;
};

typedef struct cl_col_rec {
  cl_page_rec *pages;
  size_t n_pages, cap;
} cl_col_rec;

clance_status cl_container_create(cl_container_writer *w, const char *path, cl_file_version v,
                                  size_t n_columns, int durable, clance_error *err) {
  memset(w, 0, sizeof *w);
  w->file.fd = -1;
  w->version = v;
  w->n_columns = n_columns;
  w->cols = cl_calloc(n_columns ? n_columns : 1, sizeof *w->cols, err);
  if (!w->cols)
    return err->code;
  clance_status st = cl_wfile_create(path, durable, &w->file, err);
  if (st) {
    free(w->cols);
    w->cols = NULL;
  }
  return st;
}

uint64_t cl_container_pos(const cl_container_writer *w) { return w->file.pos; }

clance_status cl_container_add_page(cl_container_writer *w, size_t column, const cl_page_enc *page,
                                    clance_error *err) {
  cl_col_rec *c = &w->cols[column];
  if (c->n_pages == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 8;
    cl_page_rec *np = realloc(c->pages, cap * sizeof *np);
    if (!np)
      return cl_err_nomem(err, "page records");
    c->pages = np;
    c->cap = cap;
  }
  cl_page_rec *r = &c->pages[c->n_pages];
  memset(r, 0, sizeof *r);
  r->n_bufs = page->n_bufs;
  r->length = page->length;
  r->priority = page->priority;
  for (size_t i = 0; i < page->n_bufs; i++) {
    r->offsets[i] = w->file.pos;
    if (page->ext_n[i]) {
      const cl_slice *s = page->ext + page->ext_first[i];
      for (size_t k = 0; k < page->ext_n[i]; k++)
        CL_TRY(cl_wfile_write(&w->file, s[k].data, s[k].len, err));
    } else {
      CL_TRY(cl_wfile_write(&w->file, page->bufs[i].data, page->bufs[i].len, err));
    }
    r->sizes[i] = w->file.pos - r->offsets[i];
    CL_TRY(cl_wfile_pad(&w->file, CL_PAGE_ALIGN, CL_PAD_BYTE, err));
  }
  r->encoding = cl_malloc(page->encoding.len, err);
  if (!r->encoding)
    return err->code;
  memcpy(r->encoding, page->encoding.data, page->encoding.len);
  r->encoding_len = page->encoding.len;
  c->n_pages++;
  return CLANCE_OK;
}

static void free_cols(cl_container_writer *w) {
  for (size_t i = 0; w->cols && i < w->n_columns; i++) {
    for (size_t p = 0; p < w->cols[i].n_pages; p++)
      free(w->cols[i].pages[p].encoding);
    free(w->cols[i].pages);
  }
  free(w->cols);
  w->cols = NULL;
}

/* The column-level encoding is the same for every ordinary column. */
static clance_status column_encoding_any(cl_buf *out, clance_error *err) {
  Lance__Encodings__ColumnEncoding ce = LANCE__ENCODINGS__COLUMN_ENCODING__INIT;
  Lance__File__PbEmpty empty = LANCE__FILE__PB_EMPTY__INIT;
  ce.column_encoding_case = LANCE__ENCODINGS__COLUMN_ENCODING__COLUMN_ENCODING_VALUES;
  ce.values = &empty;
  return cl_pb_pack_any(CL_URL_COLUMN_ENCODING, &ce.base, out, err);
}

static clance_status pack_column(const cl_col_rec *c, const cl_buf *col_enc, cl_buf *out,
                                 clance_error *err) {
  clance_status st = CLANCE_OK;
  Lance__File__V2__DirectEncoding col_direct = LANCE__FILE__V2__DIRECT_ENCODING__INIT;
  Lance__File__V2__Encoding col_encoding = LANCE__FILE__V2__ENCODING__INIT;
  col_direct.has_encoding = 1;
  col_direct.encoding.data = col_enc->data;
  col_direct.encoding.len = col_enc->len;
  col_encoding.location_case = LANCE__FILE__V2__ENCODING__LOCATION_DIRECT;
  col_encoding.direct = &col_direct;

  pb_page *pages = cl_calloc(c->n_pages ? c->n_pages : 1, sizeof *pages, err);
  pb_page **page_ptrs = cl_calloc(c->n_pages ? c->n_pages : 1, sizeof *page_ptrs, err);
  Lance__File__V2__DirectEncoding *directs =
      cl_calloc(c->n_pages ? c->n_pages : 1, sizeof *directs, err);
  Lance__File__V2__Encoding *encs = cl_calloc(c->n_pages ? c->n_pages : 1, sizeof *encs, err);
  if (!pages || !page_ptrs || !directs || !encs) {
    st = err->code;
    goto done;
  }
  for (size_t i = 0; i < c->n_pages; i++) {
    const cl_page_rec *r = &c->pages[i];
    lance__file__v2__column_metadata__page__init(&pages[i]);
    lance__file__v2__direct_encoding__init(&directs[i]);
    lance__file__v2__encoding__init(&encs[i]);
    directs[i].has_encoding = 1;
    directs[i].encoding.data = r->encoding;
    directs[i].encoding.len = r->encoding_len;
    encs[i].location_case = LANCE__FILE__V2__ENCODING__LOCATION_DIRECT;
    encs[i].direct = &directs[i];
    pages[i].n_buffer_offsets = r->n_bufs;
    pages[i].buffer_offsets = (uint64_t *)r->offsets;
    pages[i].n_buffer_sizes = r->n_bufs;
    pages[i].buffer_sizes = (uint64_t *)r->sizes;
    pages[i].has_length = r->length != 0;
    pages[i].length = r->length;
    pages[i].encoding = &encs[i];
    pages[i].has_priority = r->priority != 0;
    pages[i].priority = r->priority;
    page_ptrs[i] = &pages[i];
  }
  pb_column_meta cm = LANCE__FILE__V2__COLUMN_METADATA__INIT;
  cm.encoding = &col_encoding;
  cm.n_pages = c->n_pages;
  cm.pages = page_ptrs;
  st = cl_pb_pack(&cm.base, out, err);
done:
  free(pages);
  free(page_ptrs);
  free(directs);
  free(encs);
  return st;
}

clance_status cl_container_finish(cl_container_writer *w, const cl_buf *fd, uint64_t *out_size,
                                  clance_error *err) {
  clance_status st;
  cl_buf col_enc = CL_BUF_INIT, meta = CL_BUF_INIT, tables = CL_BUF_INIT;
  uint64_t *cmo = cl_calloc(w->n_columns ? w->n_columns * 2 : 2, sizeof *cmo, err);
  if (!cmo)
    return err->code;
  /* Global buffer 0 sits 64-aligned after the data, before the column
   * metadata (Lance's reader reads the file's tail starting at it). */
  CL_CHECK(st, cl_wfile_pad(&w->file, CL_PAGE_ALIGN, CL_PAD_BYTE, err));
  uint64_t fd_pos = w->file.pos;
  CL_CHECK(st, cl_wfile_write(&w->file, fd->data, fd->len, err));
  uint64_t column_meta_start = w->file.pos;
  CL_CHECK(st, column_encoding_any(&col_enc, err));
  for (size_t i = 0; i < w->n_columns; i++) {
    meta.len = 0;
    CL_CHECK(st, pack_column(&w->cols[i], &col_enc, &meta, err));
    cmo[2 * i] = w->file.pos;
    cmo[2 * i + 1] = meta.len;
    CL_CHECK(st, cl_wfile_write(&w->file, meta.data, meta.len, err));
  }
  uint64_t cmo_start = w->file.pos;
  for (size_t i = 0; i < 2 * w->n_columns; i++)
    CL_CHECK(st, cl_buf_append_u64(&tables, cmo[i], err));
  uint64_t gbo_start = cmo_start + tables.len;
  CL_CHECK(st, cl_buf_append_u64(&tables, fd_pos, err));
  CL_CHECK(st, cl_buf_append_u64(&tables, fd->len, err));
  uint16_t major, minor;
  cl_file_version_footer_pair(w->version, &major, &minor);
  CL_CHECK(st, cl_buf_append_u64(&tables, column_meta_start, err));
  CL_CHECK(st, cl_buf_append_u64(&tables, cmo_start, err));
  CL_CHECK(st, cl_buf_append_u64(&tables, gbo_start, err));
  CL_CHECK(st, cl_buf_append_u32(&tables, 1, err));
  CL_CHECK(st, cl_buf_append_u32(&tables, (uint32_t)w->n_columns, err));
  CL_CHECK(st, cl_buf_append_u16(&tables, major, err));
  CL_CHECK(st, cl_buf_append_u16(&tables, minor, err));
  CL_CHECK(st, cl_buf_append(&tables, CL_MAGIC, 4, err));
  CL_CHECK(st, cl_wfile_write(&w->file, tables.data, tables.len, err));
  uint64_t size = w->file.pos;
  CL_CHECK(st, cl_wfile_close(&w->file, w->file.durable, err));
  if (out_size)
    *out_size = size;
fail:
  free(cmo);
  cl_buf_free(&col_enc);
  cl_buf_free(&meta);
  cl_buf_free(&tables);
  free_cols(w);
  if (st)
    cl_wfile_abort(&w->file);
  return st;
}

void cl_container_abort(cl_container_writer *w) {
  free_cols(w);
  cl_wfile_abort(&w->file);
}

/* ------------------------------------------------------------------------ */
/* Reader                                                                     */
/* ------------------------------------------------------------------------ */

#define TAIL_READ (64u * 1024u)

clance_status cl_container_open(cl_container_reader *r, const char *path, uint64_t expected_size,
                                clance_error *err) {
  memset(r, 0, sizeof *r);
  r->file.fd = -1;
  CL_TRY(cl_rfile_open(path, &r->file, err));
  uint64_t size = r->file.size;
  const char *p = r->file.path;
  clance_status st = CLANCE_OK;
  if (expected_size && expected_size != size) {
    st = cl_err(err, CLANCE_ECORRUPT,
                "data file %s has %llu bytes but the manifest records %llu (truncated or replaced)",
                p, (unsigned long long)size, (unsigned long long)expected_size);
    goto fail;
  }
  if (size < CL_FOOTER_SIZE) {
    st = cl_err(err, CLANCE_ECORRUPT, "data file %s is %llu bytes, too small for a Lance footer", p,
                (unsigned long long)size);
    goto fail;
  }
  uint8_t foot[CL_FOOTER_SIZE];
  CL_CHECK(st, cl_rfile_read(&r->file, size - CL_FOOTER_SIZE, CL_FOOTER_SIZE, foot, err));
  if (memcmp(foot + 36, CL_MAGIC, 4) != 0) {
    st = cl_err(err, CLANCE_ECORRUPT, "data file %s: bad magic at end of file (not a Lance file)", p);
    goto fail;
  }
  uint16_t major = cl_le16(foot + 32), minor = cl_le16(foot + 34);
  if ((major == 0 && minor == 3) || (major == 2 && minor == 0))
    r->version = CL_FILE_V2_0;
  else if (major == 2 && minor == 1)
    r->version = CL_FILE_V2_1;
  else if (major == 2 && minor == 2)
    r->version = CL_FILE_V2_2;
  else if (major == 0 && minor <= 2) {
    st = cl_err(err, CLANCE_EUNSUPPORTED, "data file %s is a legacy (v0.%u) Lance file", p, minor);
    goto fail;
  } else {
    st = cl_err(err, CLANCE_EUNSUPPORTED, "data file %s has unknown format version %u.%u", p,
                major, minor);
    goto fail;
  }
  r->column_meta_start = cl_le64(foot);
  r->cmo_start = cl_le64(foot + 8);
  r->gbo_start = cl_le64(foot + 16);
  r->num_global_buffers = cl_le32(foot + 24);
  r->num_columns = cl_le32(foot + 28);
  uint64_t body = size - CL_FOOTER_SIZE;
  /* The tables must tile the end of the file exactly: CMO, GBO, footer. */
  if (r->num_global_buffers < 1 || r->num_global_buffers > body / 16 ||
      r->num_columns > body / 16 || r->gbo_start + 16 * r->num_global_buffers != body ||
      r->cmo_start + 16 * r->num_columns != r->gbo_start ||
      r->column_meta_start > r->cmo_start) {
    st = cl_err(err, CLANCE_ECORRUPT,
                "data file %s: inconsistent footer (column metadata at %llu, tables at %llu/%llu, "
                "%llu columns, %llu global buffers, file size %llu)",
                p, (unsigned long long)r->column_meta_start, (unsigned long long)r->cmo_start,
                (unsigned long long)r->gbo_start, (unsigned long long)r->num_columns,
                (unsigned long long)r->num_global_buffers, (unsigned long long)size);
    goto fail;
  }
  uint8_t gb0[16];
  CL_CHECK(st, cl_rfile_read(&r->file, r->gbo_start, 16, gb0, err));
  r->fd_pos = cl_le64(gb0);
  r->fd_size = cl_le64(gb0 + 8);
  uint64_t fd_end;
  if (cl_add_overflows(r->fd_pos, r->fd_size, &fd_end) || fd_end > r->cmo_start) {
    st = cl_err(err, CLANCE_ECORRUPT, "data file %s: file descriptor (%llu bytes at %llu) is out of range",
                p, (unsigned long long)r->fd_size, (unsigned long long)r->fd_pos);
    goto fail;
  }
  r->tail_start = r->fd_pos < r->column_meta_start ? r->fd_pos : r->column_meta_start;
  uint64_t tail_len = size - r->tail_start;
  if (tail_len > ((uint64_t)1 << 34)) {
    st = cl_err(err, CLANCE_ECORRUPT, "data file %s: metadata of %llu bytes is implausibly large", p,
                (unsigned long long)tail_len);
    goto fail;
  }
  r->tail = cl_malloc((size_t)tail_len, err);
  if (!r->tail) {
    st = err->code;
    goto fail;
  }
  CL_CHECK(st, cl_rfile_read(&r->file, r->tail_start, tail_len, r->tail, err));
  (void)TAIL_READ;
  return CLANCE_OK;
fail:
  cl_container_close(r);
  return st;
}

void cl_container_close(cl_container_reader *r) {
  free(r->tail);
  r->tail = NULL;
  cl_rfile_close(&r->file);
}

const uint8_t *cl_container_descriptor(const cl_container_reader *r, size_t *len) {
  *len = (size_t)r->fd_size;
  return r->tail + (r->fd_pos - r->tail_start);
}

clance_status cl_container_read(const cl_container_reader *r, uint64_t off, uint64_t len, void *dst,
                                clance_error *err) {
  if (off >= r->tail_start && off + len <= r->file.size && off + len >= off) {
    memcpy(dst, r->tail + (off - r->tail_start), (size_t)len);
    return CLANCE_OK;
  }
  return cl_rfile_read(&r->file, off, len, dst, err);
}

void cl_column_info_free(cl_column_info *c) {
  free(c->pages);
  if (c->meta)
    protobuf_c_message_free_unpacked(&c->meta->base, NULL);
  memset(c, 0, sizeof *c);
}

static clance_status direct_bytes(const Lance__File__V2__Encoding *e, const uint8_t **data,
                                  size_t *len) {
  if (!e || e->location_case != LANCE__FILE__V2__ENCODING__LOCATION_DIRECT || !e->direct)
    return CLANCE_ECORRUPT;
  *data = e->direct->encoding.data;
  *len = e->direct->encoding.len;
  return CLANCE_OK;
}

clance_status cl_container_column(const cl_container_reader *r, uint64_t i, cl_column_info *out,
                                  clance_error *err) {
  memset(out, 0, sizeof *out);
  const char *p = r->file.path;
  if (i >= r->num_columns)
    return cl_err(err, CLANCE_ECORRUPT, "data file %s has %llu columns, column %llu was requested",
                  p, (unsigned long long)r->num_columns, (unsigned long long)i);
  const uint8_t *e = r->tail + (r->cmo_start + 16 * i - r->tail_start);
  uint64_t pos = cl_le64(e), size = cl_le64(e + 8), end;
  if (pos < r->column_meta_start || cl_add_overflows(pos, size, &end) || end > r->cmo_start)
    return cl_err(err, CLANCE_ECORRUPT, "data file %s: metadata of column %llu is out of range", p,
                  (unsigned long long)i);
  char what[512];
  snprintf(what, sizeof what, "data file %s column %llu", p, (unsigned long long)i);
  CL_TRY(cl_pb_unpack(&lance__file__v2__column_metadata__descriptor, r->tail + (pos - r->tail_start),
                      (size_t)size, what, (ProtobufCMessage **)&out->meta, err));
  pb_column_meta *m = out->meta;
  const uint8_t *ce;
  size_t ce_len;
  clance_status st = CLANCE_OK;
  if (direct_bytes(m->encoding, &ce, &ce_len)) {
    st = cl_err(err, CLANCE_ECORRUPT, "%s: missing column encoding", what);
    goto fail;
  }
  pb_any *any;
  CL_CHECK(st, cl_pb_unpack_any(ce, ce_len, "lance.encodings.ColumnEncoding", what, &any, err));
  Lance__Encodings__ColumnEncoding *cenc;
  st = cl_pb_unpack(&lance__encodings__column_encoding__descriptor, any->value.data, any->value.len,
                    what, (ProtobufCMessage **)&cenc, err);
  protobuf_c_message_free_unpacked(&any->base, NULL);
  if (st)
    goto fail;
  int ok = cenc->column_encoding_case == LANCE__ENCODINGS__COLUMN_ENCODING__COLUMN_ENCODING_VALUES;
  int blob = cenc->column_encoding_case == LANCE__ENCODINGS__COLUMN_ENCODING__COLUMN_ENCODING_BLOB;
  protobuf_c_message_free_unpacked(&cenc->base, NULL);
  if (!ok && !blob) {
    st = cl_err(err, CLANCE_EUNSUPPORTED, "%s: unsupported column encoding", what);
    goto fail;
  }
  if (m->n_buffer_offsets != m->n_buffer_sizes) {
    st = cl_err(err, CLANCE_ECORRUPT, "%s: column buffer offsets and sizes differ in count", what);
    goto fail;
  }
  out->n_bufs = m->n_buffer_offsets;
  out->buf_offsets = m->buffer_offsets;
  out->buf_sizes = m->buffer_sizes;
  for (size_t b = 0; b < out->n_bufs; b++)
    if (cl_add_overflows(out->buf_offsets[b], out->buf_sizes[b], &end) || end > r->file.size) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: column buffer %zu is out of range", what, b);
      goto fail;
    }
  out->pages = cl_calloc(m->n_pages ? m->n_pages : 1, sizeof *out->pages, err);
  if (!out->pages) {
    st = err->code;
    goto fail;
  }
  uint64_t row = 0;
  for (size_t k = 0; k < m->n_pages; k++) {
    const pb_page *pg = m->pages[k];
    if (pg->length == 0)
      continue; /* old writers emitted empty pages; Lance skips them too */
    cl_page_info *pi = &out->pages[out->n_pages];
    if (pg->n_buffer_offsets != pg->n_buffer_sizes) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s page %zu: buffer offsets and sizes differ in count",
                  what, k);
      goto fail;
    }
    for (size_t b = 0; b < pg->n_buffer_offsets; b++)
      if (cl_add_overflows(pg->buffer_offsets[b], pg->buffer_sizes[b], &end) || end > r->file.size) {
        st = cl_err(err, CLANCE_ECORRUPT, "%s page %zu: buffer %zu (%llu bytes at %llu) is past the "
                    "end of the file", what, k, b, (unsigned long long)pg->buffer_sizes[b],
                    (unsigned long long)pg->buffer_offsets[b]);
        goto fail;
      }
    if (direct_bytes(pg->encoding, &pi->encoding, &pi->encoding_len)) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s page %zu: missing page encoding", what, k);
      goto fail;
    }
    pi->length = pg->length;
    pi->priority = pg->priority;
    pi->first_row = row;
    pi->n_bufs = pg->n_buffer_offsets;
    pi->buf_offsets = pg->buffer_offsets;
    pi->buf_sizes = pg->buffer_sizes;
    if (cl_add_overflows(row, pg->length, &row)) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: page lengths overflow", what);
      goto fail;
    }
    out->n_pages++;
  }
  return CLANCE_OK;
fail:
  cl_column_info_free(out);
  return st;
}
