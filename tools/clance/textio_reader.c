/* The text reader stream: opening the input, reading physical lines, and
 * cutting rows into Arrow batches. The row formats live in input_jsonl.c and
 * input_csv.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "textio_internal.h"

#define CHUNK_SIZE ((size_t)1 << 16)

clance_status cl_line_read(cl_line_reader *lr, cl_buf *out, size_t max, int *got,
                           const cl_text_loc *loc, clance_error *err) {
  *got = 0;
  for (;;) {
    if (lr->chunk_pos == lr->chunk_len) {
      if (lr->eof)
        return CLANCE_OK;
      size_t n = fread(lr->chunk, 1, CHUNK_SIZE, lr->fp);
      if (n == 0) {
        if (ferror(lr->fp))
          return cl_text_err(loc, err, CLANCE_EIO, "read error: %s", strerror(errno));
        lr->eof = 1;
        return CLANCE_OK;
      }
      lr->chunk_len = n;
      lr->chunk_pos = 0;
    }
    const uint8_t *p = lr->chunk + lr->chunk_pos;
    size_t avail = lr->chunk_len - lr->chunk_pos;
    const uint8_t *nl = memchr(p, '\n', avail);
    size_t take = nl ? (size_t)(nl - p) + 1 : avail;
    if (out->len + take > max)
      return cl_text_err(loc, err, CLANCE_EUNSUPPORTED, "line or record longer than %zu MiB",
                         max >> 20);
    CL_TRY(cl_buf_append(out, p, take, err));
    lr->chunk_pos += take;
    *got = 1;
    if (nl)
      return CLANCE_OK;
  }
}

/* ------------------------------------------------------------------------ */
/* Stream                                                                     */
/* ------------------------------------------------------------------------ */

static void reader_free(cl_text_reader *r) {
  if (!r)
    return;
  if (r->cols)
    for (size_t i = 0; i < r->schema.n_fields; i++)
      cl_arr_free(&r->cols[i]);
  free(r->cols);
  cl_schema_free(&r->schema);
  if (r->fp && r->close_fp)
    fclose(r->fp);
  free(r->lr.chunk);
  free(r->source);
  cl_buf_free(&r->rec);
  cl_buf_free(&r->tj.scratch);
  cl_csv_free(r);
  free(r);
}

static int status_errno(clance_status st) { return cl_status_to_errno(st); }

static int rd_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  cl_text_reader *r = s->private_data;
  clance_error e;
  cl_err_clear(&e);
  clance_status st = cl_schema_to_arrow(&r->schema, out, &e);
  if (st != CLANCE_OK) {
    r->error = e;
    return status_errno(st);
  }
  return 0;
}

static int rd_get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  cl_text_reader *r = s->private_data;
  clance_error *err = &r->error;
  memset(out, 0, sizeof *out);
  if (r->failed)
    return status_errno(err->code);
  if (r->done)
    return 0;
  size_t n = r->schema.n_fields;
  uint64_t rows = 0;
  clance_status st = CLANCE_OK;
  struct ArrowArray *children = NULL;
  r->bytes = 0;
  while (rows < r->batch_rows && r->bytes < CL_TEXT_BATCH_BYTES) {
    int got;
    st = r->format == CL_TEXT_JSONL ? cl_jsonl_read_row(r, &got, err)
                                    : cl_csv_read_row(r, &got, err);
    if (st != CLANCE_OK)
      goto fail;
    if (!got) {
      r->done = 1;
      break;
    }
    rows++;
  }
  if (rows == 0)
    return 0;
  children = cl_calloc(n ? n : 1, sizeof *children, err);
  if (!children) {
    st = err->code;
    goto fail;
  }
  for (size_t i = 0; i < n; i++)
    CL_CHECK(st, cl_arr_export(&r->cols[i], &children[i], err));
  st = cl_struct_array_export((int64_t)rows, children, n, out, err); /* moves the children */
  free(children);
  children = NULL;
  if (st != CLANCE_OK)
    goto fail;
  return 0;
fail:
  if (children) {
    for (size_t i = 0; i < n; i++)
      if (children[i].release)
        children[i].release(&children[i]);
    free(children);
  }
  r->failed = 1;
  if (err->code == CLANCE_OK)
    err->code = st;
  return status_errno(st);
}

static const char *rd_last_error(struct ArrowArrayStream *s) {
  cl_text_reader *r = s->private_data;
  return r->error.code != CLANCE_OK && r->error.message[0] ? r->error.message : NULL;
}

static void rd_release(struct ArrowArrayStream *s) {
  if (!s->release)
    return;
  reader_free(s->private_data);
  s->private_data = NULL;
  s->release = NULL;
}

int cl_text_stream_is_reader(const struct ArrowArrayStream *s) {
  return s && s->get_next == rd_get_next && s->private_data;
}

clance_status cl_text_reader_error(struct ArrowArrayStream *s, clance_error *err) {
  if (!cl_text_stream_is_reader(s))
    return cl_err(err, CLANCE_EINVAL, "not a text reader stream");
  cl_text_reader *r = s->private_data;
  if (err)
    *err = r->error;
  return r->error.code;
}

clance_status cl_text_reader_open_file(FILE *fp, const char *name, int close_fp, int format,
                                       const cl_schema *schema, uint64_t batch_rows,
                                       struct ArrowArrayStream *out, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  memset(out, 0, sizeof *out);
  clance_status st;
  cl_text_reader *r = NULL;
  if (!fp || !schema) {
    st = cl_err(err, CLANCE_EINVAL, "cl_text_reader_open: NULL argument");
    goto fail_fp;
  }
  if (format != CL_TEXT_JSONL && format != CL_TEXT_CSV) {
    st = cl_err(err, CLANCE_EINVAL, "unknown text format %d (use jsonl or csv)", format);
    goto fail_fp;
  }
  for (size_t i = 0; i < schema->n_fields; i++) {
    const char *nm = schema->fields[i].name ? schema->fields[i].name : "";
    if ((st = cl_text_check_field(&schema->fields[i], 1, nm, err)))
      goto fail_fp;
    for (size_t k = 0; k < i; k++)
      if (schema->fields[k].name && !strcmp(schema->fields[k].name, nm)) {
        st = cl_err(err, CLANCE_EINVAL, "duplicate column name \"%s\" in the schema", nm);
        goto fail_fp;
      }
  }
  if (!(r = cl_calloc(1, sizeof *r, err))) {
    st = err->code;
    goto fail_fp;
  }
  r->fp = fp;
  r->close_fp = close_fp;
  r->format = format;
  r->batch_rows = batch_rows ? batch_rows : CL_TEXT_DEFAULT_BATCH_ROWS;
  r->lr.fp = fp;
  CL_CHECK(st, cl_schema_copy(schema, &r->schema, err));
  if (!(r->source = cl_strdup(name ? name : "input", err)) ||
      !(r->lr.chunk = cl_malloc(CHUNK_SIZE, err)) ||
      !(r->cols = cl_calloc(r->schema.n_fields ? r->schema.n_fields : 1, sizeof *r->cols, err))) {
    st = err->code;
    goto fail;
  }
  for (size_t i = 0; i < r->schema.n_fields; i++)
    CL_CHECK(st, cl_arr_init(&r->cols[i], &r->schema.fields[i], err));
  if (format == CL_TEXT_CSV)
    CL_CHECK(st, cl_csv_read_header(r, err));
  out->private_data = r;
  out->get_schema = rd_get_schema;
  out->get_next = rd_get_next;
  out->get_last_error = rd_last_error;
  out->release = rd_release;
  return CLANCE_OK;
fail:
  reader_free(r); /* closes fp if close_fp */
  return st;
fail_fp:
  if (close_fp && fp)
    fclose(fp);
  return st;
}

clance_status cl_text_reader_open(const char *path, int format, const cl_schema *schema,
                                  uint64_t batch_rows, struct ArrowArrayStream *out,
                                  clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (out)
    memset(out, 0, sizeof *out);
  if (!path || !out)
    return cl_err(err, CLANCE_EINVAL, "cl_text_reader_open: NULL argument");
  if (!strcmp(path, "-"))
    return cl_text_reader_open_file(stdin, "<stdin>", 0, format, schema, batch_rows, out, err);
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return cl_err_errno(err, errno, "open", path);
  return cl_text_reader_open_file(fp, path, 1, format, schema, batch_rows, out, err);
}
