/* Printing Arrow batches as canonical JSON Lines or as CSV. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "textio_internal.h"
#include "util/json.h"

/* Flush the text buffer to the FILE once it is this big. */
#define FLUSH_BYTES ((size_t)1 << 20)

typedef struct wctx {
  cl_buf *b;
  clance_error *err;
  const char *column; /* top-level column, for messages */
  int64_t row;        /* row in the batch, for messages */
} wctx;

static clance_status werr(wctx *w, clance_status code, const char *fmt, ...) CL_PRINTF(3, 4);

static clance_status werr(wctx *w, clance_status code, const char *fmt, ...) {
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return cl_err(w->err, code, "column \"%s\", row %lld: %s", w->column, (long long)w->row, what);
}

static clance_status put(wctx *w, const char *s, size_t n) { return cl_buf_append(w->b, s, n, w->err); }

/* ------------------------------------------------------------------------ */
/* Floats                                                                     */
/* ------------------------------------------------------------------------ */

static clance_status put_special(wctx *w, double d, int json) {
  const char *s = isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
  if (json)
    return cl_buf_printf(w->b, w->err, "\"%s\"", s);
  return put(w, s, strlen(s));
}

/* The shortest decimal that reads back as the same half float. */
static clance_status put_half(wctx *w, uint16_t h, int json) {
  double v = cl_half_to_float(h);
  if (!isfinite(v))
    return put_special(w, v, json);
  double back = v;
  for (int prec = 1; prec <= 5; prec++) {
    char sci[48];
    snprintf(sci, sizeof sci, "%.*e", prec - 1, v);
    double d = strtod(sci, NULL);
    if (cl_half_from_double(d) == h) {
      back = d;
      break;
    }
  }
  return cl_json_write_double(w->b, back, w->err);
}

/* ------------------------------------------------------------------------ */
/* Values                                                                     */
/* ------------------------------------------------------------------------ */

static int64_t offset_at(const struct ArrowArray *a, int64_t j, int large) {
  return large ? ((const int64_t *)a->buffers[1])[j] : ((const int32_t *)a->buffers[1])[j];
}

static int64_t read_int(const void *buf, int64_t j, cl_type_id t) {
  switch (t) {
  case CL_TYPE_INT8: return ((const int8_t *)buf)[j];
  case CL_TYPE_UINT8: return ((const uint8_t *)buf)[j];
  case CL_TYPE_INT16: return ((const int16_t *)buf)[j];
  case CL_TYPE_UINT16: return ((const uint16_t *)buf)[j];
  case CL_TYPE_INT32: return ((const int32_t *)buf)[j];
  case CL_TYPE_UINT32: return ((const uint32_t *)buf)[j];
  default: return ((const int64_t *)buf)[j]; /* int64; uint64 is read separately */
  }
}

/* Append element i (logical, before a->offset) of `a` (type f). json: as a
 * canonical JSON value; otherwise the bare CSV text of a scalar. */
static clance_status emit(wctx *w, const cl_field *f, const struct ArrowArray *a, int64_t i,
                          int json) {
  if (f->type == CL_TYPE_NULL || !cl_array_valid(a, i))
    return json ? put(w, "null", 4) : CLANCE_OK;
  int64_t j = a->offset + i;
  const void *vals = a->n_buffers > 1 ? a->buffers[1] : NULL;
  switch (f->type) {
  case CL_TYPE_BOOL:
    return cl_bit_get(vals, j) ? put(w, "true", 4) : put(w, "false", 5);
  case CL_TYPE_INT8:
  case CL_TYPE_UINT8:
  case CL_TYPE_INT16:
  case CL_TYPE_UINT16:
  case CL_TYPE_INT32:
  case CL_TYPE_UINT32:
  case CL_TYPE_INT64:
  case CL_TYPE_DATE32:
  case CL_TYPE_TIME32:
    return cl_json_write_i64(w->b, read_int(vals, j, f->type == CL_TYPE_DATE32 ||
                                                          f->type == CL_TYPE_TIME32
                                                      ? CL_TYPE_INT32
                                                      : f->type),
                             w->err);
  case CL_TYPE_DATE64:
  case CL_TYPE_TIME64:
  case CL_TYPE_TIMESTAMP:
  case CL_TYPE_DURATION:
    return cl_json_write_i64(w->b, ((const int64_t *)vals)[j], w->err);
  case CL_TYPE_UINT64:
    return cl_json_write_u64(w->b, ((const uint64_t *)vals)[j], w->err);
  case CL_TYPE_FLOAT16:
    return put_half(w, ((const uint16_t *)vals)[j], json);
  case CL_TYPE_FLOAT32: {
    float v = ((const float *)vals)[j];
    return isfinite(v) ? cl_json_write_float(w->b, v, w->err) : put_special(w, v, json);
  }
  case CL_TYPE_FLOAT64: {
    double v = ((const double *)vals)[j];
    return isfinite(v) ? cl_json_write_double(w->b, v, w->err) : put_special(w, v, json);
  }
  case CL_TYPE_DECIMAL128:
  case CL_TYPE_DECIMAL256: {
    size_t bytes = f->type == CL_TYPE_DECIMAL128 ? 16 : 32;
    if (json)
      CL_TRY(put(w, "\"", 1));
    CL_TRY(cl_decimal_format(w->b, (const uint8_t *)vals + (size_t)j * bytes, bytes, f->scale,
                             w->err));
    return json ? put(w, "\"", 1) : CLANCE_OK;
  }
  case CL_TYPE_FIXED_SIZE_BINARY: {
    if (json)
      CL_TRY(put(w, "\"", 1));
    CL_TRY(cl_hex_append(w->b, (const uint8_t *)vals + (size_t)j * (size_t)f->size,
                         (size_t)f->size, w->err));
    return json ? put(w, "\"", 1) : CLANCE_OK;
  }
  case CL_TYPE_UTF8:
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_BINARY:
  case CL_TYPE_LARGE_BINARY: {
    int large = cl_type_is_large(f->type);
    int64_t s = offset_at(a, j, large), e = offset_at(a, j + 1, large);
    const uint8_t *p = (const uint8_t *)a->buffers[2] + s;
    size_t n = (size_t)(e - s);
    if (f->type == CL_TYPE_BINARY || f->type == CL_TYPE_LARGE_BINARY) {
      if (json)
        CL_TRY(put(w, "\"", 1));
      CL_TRY(cl_hex_append(w->b, p, n, w->err));
      return json ? put(w, "\"", 1) : CLANCE_OK;
    }
    if (!json)
      return put(w, (const char *)p, n);
    clance_status st = cl_json_write_string(w->b, (const char *)p, n, w->err);
    if (st == CLANCE_EINVAL) {
      size_t bad = 0;
      cl_utf8_valid(p, n, &bad);
      return werr(w, CLANCE_EINVAL, "invalid UTF-8 in a string (byte %zu)", bad);
    }
    return st;
  }
  case CL_TYPE_FIXED_SIZE_LIST:
  case CL_TYPE_LIST:
  case CL_TYPE_LARGE_LIST: {
    int64_t s, e;
    if (f->type == CL_TYPE_FIXED_SIZE_LIST) {
      s = j * f->size;
      e = s + f->size;
    } else {
      int large = f->type == CL_TYPE_LARGE_LIST;
      s = offset_at(a, j, large);
      e = offset_at(a, j + 1, large);
    }
    CL_TRY(put(w, "[", 1));
    for (int64_t k = s; k < e; k++) {
      if (k > s)
        CL_TRY(put(w, ",", 1));
      CL_TRY(emit(w, &f->children[0], a->children[0], k, 1));
    }
    return put(w, "]", 1);
  }
  case CL_TYPE_STRUCT:
    CL_TRY(put(w, "{", 1));
    for (size_t c = 0; c < f->n_children; c++) {
      if (c)
        CL_TRY(put(w, ",", 1));
      const char *nm = f->children[c].name ? f->children[c].name : "";
      CL_TRY(cl_json_write_string(w->b, nm, strlen(nm), w->err));
      CL_TRY(put(w, ":", 1));
      CL_TRY(emit(w, &f->children[c], a->children[c], j, 1));
    }
    return put(w, "}", 1);
  case CL_TYPE_DICTIONARY: {
    int64_t idx;
    if (f->index_type == CL_TYPE_UINT64) {
      uint64_t u = ((const uint64_t *)vals)[j];
      idx = u > INT64_MAX ? -1 : (int64_t)u;
    } else {
      idx = read_int(vals, j, f->index_type);
    }
    if (idx < 0 || idx >= a->dictionary->length)
      return werr(w, CLANCE_ECORRUPT, "dictionary index %lld is out of range (dictionary has %lld "
                  "values)", (long long)idx, (long long)a->dictionary->length);
    return emit(w, &f->children[0], a->dictionary, idx, json);
  }
  default:
    return werr(w, CLANCE_EUNSUPPORTED, "type %s cannot be printed", cl_type_name(f->type));
  }
}

/* ------------------------------------------------------------------------ */
/* CSV cells                                                                  */
/* ------------------------------------------------------------------------ */

static int needs_quotes(const uint8_t *p, size_t n) {
  if (n == 0 || p[0] == ' ' || p[0] == '\t' || p[n - 1] == ' ' || p[n - 1] == '\t')
    return 1;
  for (size_t i = 0; i < n; i++)
    if (p[i] == ',' || p[i] == '"' || p[i] == '\n' || p[i] == '\r')
      return 1;
  return 0;
}

/* Append p[0..n) as one CSV field, quoting when needed. */
static clance_status put_csv_field(cl_buf *b, const uint8_t *p, size_t n, clance_error *err) {
  if (!needs_quotes(p, n))
    return cl_buf_append(b, p, n, err);
  CL_TRY(cl_buf_append(b, "\"", 1, err));
  size_t i = 0;
  while (i < n) {
    const uint8_t *q = memchr(p + i, '"', n - i);
    size_t run = q ? (size_t)(q - (p + i)) + 1 : n - i;
    CL_TRY(cl_buf_append(b, p + i, run, err)); /* includes the quote, if any */
    if (q)
      CL_TRY(cl_buf_append(b, "\"", 1, err)); /* doubled */
    i += run;
  }
  return cl_buf_append(b, "\"", 1, err);
}

static int is_nested(cl_type_id t) {
  return t == CL_TYPE_FIXED_SIZE_LIST || t == CL_TYPE_LIST || t == CL_TYPE_LARGE_LIST ||
         t == CL_TYPE_STRUCT;
}

/* ------------------------------------------------------------------------ */
/* Batches                                                                    */
/* ------------------------------------------------------------------------ */

static clance_status flush(FILE *out, cl_buf *b, clance_error *err) {
  if (b->len && fwrite(b->data, 1, b->len, out) != b->len)
    return cl_err(err, CLANCE_EIO, "write error while printing rows");
  b->len = 0;
  return CLANCE_OK;
}

static clance_status write_header(cl_buf *b, const cl_schema *schema, clance_error *err) {
  for (size_t c = 0; c < schema->n_fields; c++) {
    const char *nm = schema->fields[c].name ? schema->fields[c].name : "";
    if (c)
      CL_TRY(cl_buf_append(b, ",", 1, err));
    CL_TRY(put_csv_field(b, (const uint8_t *)nm, strlen(nm), err));
  }
  return cl_buf_append(b, "\n", 1, err);
}

static clance_status check_batch(const cl_schema *schema, const struct ArrowArray *batch,
                                 clance_error *err) {
  if (!batch || !batch->release)
    return cl_err(err, CLANCE_EINVAL, "cannot print a NULL or released batch");
  if (batch->length < 0 || batch->offset < 0 || (size_t)batch->n_children != schema->n_fields ||
      (batch->n_children && !batch->children))
    return cl_err(err, CLANCE_EINVAL, "batch has %lld columns, the schema %zu",
                  (long long)batch->n_children, schema->n_fields);
  for (size_t c = 0; c < schema->n_fields; c++) {
    const cl_field *f = &schema->fields[c];
    const char *nm = f->name ? f->name : "";
    const struct ArrowArray *a = batch->children[c];
    CL_TRY(cl_text_check_field(f, 0, nm, err));
    CL_TRY(cl_array_validate(f, a, nm, err));
    if (a->length < batch->offset + batch->length)
      return cl_err(err, CLANCE_EINVAL, "column %s: array has %lld values, the batch needs %lld",
                    nm, (long long)a->length, (long long)(batch->offset + batch->length));
  }
  return CLANCE_OK;
}

clance_status cl_text_write_batch(FILE *out, int format, const cl_schema *schema,
                                  const struct ArrowArray *batch, int print_header,
                                  clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!out || !schema)
    return cl_err(err, CLANCE_EINVAL, "cl_text_write_batch: NULL argument");
  if (format != CL_TEXT_JSONL && format != CL_TEXT_CSV)
    return cl_err(err, CLANCE_EINVAL, "unknown text format %d (use jsonl or csv)", format);
  CL_TRY(check_batch(schema, batch, err));
  size_t nf = schema->n_fields;
  cl_buf b = CL_BUF_INIT, keys = CL_BUF_INIT, cell = CL_BUF_INIT;
  size_t *key_end = NULL;
  clance_status st = CLANCE_OK;
  wctx w = {&b, err, "", 0};
  if (format == CL_TEXT_CSV && print_header)
    CL_CHECK(st, write_header(&b, schema, err));
  if (format == CL_TEXT_JSONL) { /* "name": prefixes, encoded once */
    if (!(key_end = cl_calloc(nf ? nf : 1, sizeof *key_end, err))) {
      st = err->code;
      goto fail;
    }
    for (size_t c = 0; c < nf; c++) {
      const char *nm = schema->fields[c].name ? schema->fields[c].name : "";
      CL_CHECK(st, cl_buf_append(&keys, c ? "," : "{", 1, err));
      CL_CHECK(st, cl_json_write_string(&keys, nm, strlen(nm), err));
      CL_CHECK(st, cl_buf_append(&keys, ":", 1, err));
      key_end[c] = keys.len;
    }
  }
  for (int64_t r = 0; r < batch->length; r++) {
    int64_t i = batch->offset + r;
    w.row = r;
    for (size_t c = 0; c < nf; c++) {
      const cl_field *f = &schema->fields[c];
      const struct ArrowArray *a = batch->children[c];
      w.column = f->name ? f->name : "";
      if (format == CL_TEXT_JSONL) {
        size_t k0 = c ? key_end[c - 1] : 0;
        CL_CHECK(st, cl_buf_append(&b, keys.data + k0, key_end[c] - k0, err));
        CL_CHECK(st, emit(&w, f, a, i, 1));
        continue;
      }
      if (c)
        CL_CHECK(st, cl_buf_append(&b, ",", 1, err));
      if (f->type == CL_TYPE_NULL || !cl_array_valid(a, i))
        continue; /* null: empty field */
      cell.len = 0;
      w.b = &cell;
      st = emit(&w, f, a, i, is_nested(f->type));
      w.b = &b;
      if (st)
        goto fail;
      CL_CHECK(st, put_csv_field(&b, cell.data ? cell.data : (const uint8_t *)"", cell.len, err));
    }
    if (format == CL_TEXT_JSONL)
      CL_CHECK(st, cl_buf_append(&b, nf ? "}\n" : "{}\n", nf ? 2 : 3, err));
    else
      CL_CHECK(st, cl_buf_append(&b, "\n", 1, err));
    if (b.len >= FLUSH_BYTES)
      CL_CHECK(st, flush(out, &b, err));
  }
  st = flush(out, &b, err);
fail:
  cl_buf_free(&b);
  cl_buf_free(&keys);
  cl_buf_free(&cell);
  free(key_end);
  return st;
}

clance_status cl_text_write_stream(FILE *out, int format, struct ArrowArrayStream *stream,
                                   clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!out || !stream || !stream->release)
    return cl_err(err, CLANCE_EINVAL, "cl_text_write_stream: NULL or released stream");
  struct ArrowSchema as;
  cl_schema schema;
  int rc = stream->get_schema(stream, &as);
  if (rc)
    return cl_stream_error(stream, rc, "reading the stream's schema", err);
  clance_status st = cl_schema_from_arrow(&as, &schema, err);
  as.release(&as);
  CL_TRY(st);
  int first = 1;
  for (;;) {
    struct ArrowArray batch;
    rc = stream->get_next(stream, &batch);
    if (rc) {
      if (cl_text_stream_is_reader(stream))
        st = cl_text_reader_error(stream, err); /* keeps the status code */
      else
        st = cl_stream_error(stream, rc, "reading rows", err);
      break;
    }
    if (!batch.release) {
      if (first && format == CL_TEXT_CSV) {
        cl_buf b = CL_BUF_INIT;
        st = write_header(&b, &schema, err);
        if (st == CLANCE_OK)
          st = flush(out, &b, err);
        cl_buf_free(&b);
      }
      break;
    }
    st = cl_text_write_batch(out, format, &schema, &batch, first, err);
    batch.release(&batch);
    first = 0;
    if (st)
      break;
  }
  cl_schema_free(&schema);
  return st;
}
