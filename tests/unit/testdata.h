/* Test data: deterministic random Arrow arrays for any flat field, and a
 * value-by-value comparison of two arrays. Header-only for the unit tests. */
#ifndef CL_TESTDATA_H
#define CL_TESTDATA_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arrow/array.h"
#include "clance/clance.h"
#include "io/fs.h"

typedef struct td_rng {
  uint64_t s;
} td_rng;

static inline uint64_t td_next(td_rng *r) {
  r->s ^= r->s << 13;
  r->s ^= r->s >> 7;
  r->s ^= r->s << 17;
  return r->s;
}

/* Fill n random elements into builder a (field f); null_pct percent nulls
 * (only if the field is nullable; vector items: 3 % unless null_pct is 0);
 * strings up to max_str bytes. */
static inline clance_status td_fill(cl_arr *a, const cl_field *f, int64_t n, int null_pct,
                                    size_t max_str, td_rng *r, clance_error *err) {
  for (int64_t i = 0; i < n; i++) {
    int null = f->nullable && null_pct > 0 && (int)(td_next(r) % 100) < null_pct;
    switch (f->type) {
    case CL_TYPE_BOOL: {
      size_t need = (size_t)((a->length + 8) >> 3);
      if (need > a->values.len)
        CL_TRY(cl_buf_fill(&a->values, 0, need - a->values.len, err));
      if (!null && (td_next(r) & 1))
        cl_bit_set(a->values.data, a->length);
      break;
    }
    case CL_TYPE_UTF8:
    case CL_TYPE_LARGE_UTF8:
    case CL_TYPE_BINARY:
    case CL_TYPE_LARGE_BINARY: {
      if (!null) {
        size_t len = max_str ? (size_t)(td_next(r) % (max_str + 1)) : 0;
        for (size_t k = 0; k < len; k++) {
          uint8_t c = f->type == CL_TYPE_BINARY || f->type == CL_TYPE_LARGE_BINARY
                          ? (uint8_t)td_next(r)
                          : (uint8_t)('a' + td_next(r) % 26);
          CL_TRY(cl_buf_append(&a->values, &c, 1, err));
        }
      }
      CL_TRY(cl_arr_push_offset(a, a->values.len, err));
      break;
    }
    case CL_TYPE_FIXED_SIZE_LIST: {
      cl_arr *c = &a->children[0];
      CL_TRY(td_fill(c, &f->children[0], f->size, null || !null_pct ? 0 : 3, max_str, r, err));
      break;
    }
    case CL_TYPE_FLOAT32: {
      float v = (float)((double)(int64_t)td_next(r) / 1e15);
      if (td_next(r) % 50 == 0)
        v = NAN;
      if (null)
        v = 0;
      CL_TRY(cl_buf_append(&a->values, &v, 4, err));
      break;
    }
    case CL_TYPE_FLOAT64: {
      double v = (double)(int64_t)td_next(r) / 1e9;
      if (null)
        v = 0;
      CL_TRY(cl_buf_append(&a->values, &v, 8, err));
      break;
    }
    default: {
      uint32_t bits = cl_type_bits(f);
      uint8_t tmp[32];
      for (size_t k = 0; k < sizeof tmp; k += 8) {
        uint64_t v = td_next(r);
        /* Mix small and full-width values so bit widths vary. */
        if (td_next(r) % 4 == 0)
          v &= 0xff;
        memcpy(tmp + k, &v, 8);
      }
      if (null)
        memset(tmp, 0, sizeof tmp);
      CL_TRY(cl_buf_append(&a->values, tmp, bits / 8, err));
      break;
    }
    }
    if (null)
      CL_TRY(cl_arr_append_null(a, 1, err));
    else
      CL_TRY(cl_arr_append_valid(a, 1, err));
  }
  return CLANCE_OK;
}

static inline int td_valid(const struct ArrowArray *a, int64_t i) { return cl_array_valid(a, i); }

/* Compare element i of x with element j of y (field f). */
static inline int td_equal_at(const cl_field *f, const struct ArrowArray *x, int64_t i,
                              const struct ArrowArray *y, int64_t j) {
  int vx = td_valid(x, i), vy = td_valid(y, j);
  if (vx != vy)
    return 0;
  if (!vx)
    return 1;
  int64_t ix = i + x->offset, iy = j + y->offset;
  switch (f->type) {
  case CL_TYPE_NULL: return 1;
  case CL_TYPE_BOOL:
    return cl_bit_get(x->buffers[1], ix) == cl_bit_get(y->buffers[1], iy);
  case CL_TYPE_UTF8:
  case CL_TYPE_BINARY: {
    const int32_t *ox = x->buffers[1], *oy = y->buffers[1];
    int32_t lx = ox[ix + 1] - ox[ix], ly = oy[iy + 1] - oy[iy];
    return lx == ly && memcmp((const uint8_t *)x->buffers[2] + ox[ix],
                              (const uint8_t *)y->buffers[2] + oy[iy], (size_t)lx) == 0;
  }
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_LARGE_BINARY: {
    const int64_t *ox = x->buffers[1], *oy = y->buffers[1];
    int64_t lx = ox[ix + 1] - ox[ix], ly = oy[iy + 1] - oy[iy];
    return lx == ly && memcmp((const uint8_t *)x->buffers[2] + ox[ix],
                              (const uint8_t *)y->buffers[2] + oy[iy], (size_t)lx) == 0;
  }
  case CL_TYPE_FIXED_SIZE_LIST: {
    for (int32_t k = 0; k < f->size; k++)
      if (!td_equal_at(&f->children[0], x->children[0], ix * f->size + k, y->children[0],
                       iy * f->size + k))
        return 0;
    return 1;
  }
  default: {
    size_t w = cl_type_bits(f) / 8;
    return memcmp((const uint8_t *)x->buffers[1] + (size_t)ix * w,
                  (const uint8_t *)y->buffers[1] + (size_t)iy * w, w) == 0;
  }
  }
}

/* Commit `f` (taken: freed here, even on failure) as an Overwrite of schema
 * s at read version 0 of uri, and open the new version. */
static inline clance_status td_overwrite_open(const char *uri, const cl_schema *s, clance_fragments *f,
                                              clance_dataset **ds, clance_error *err) {
  struct ArrowSchema as;
  clance_operation *op = NULL;
  uint64_t v;
  clance_status st = cl_schema_to_arrow(s, &as, err);
  if (!st) {
    st = clance_operation_overwrite(&as, f, &op, err);
    as.release(&as);
  }
  if (!st)
    st = clance_commit(uri, op, 0, NULL, &v, err);
  clance_operation_free(op);
  clance_fragments_free(f);
  return st ? st : clance_dataset_open(uri, 0, ds, err);
}

/* td_overwrite_open, then a full scan of the new version into `stream`. */
static inline clance_status td_overwrite_scan(const char *uri, const cl_schema *s, clance_fragments *f,
                                              clance_dataset **ds, struct ArrowArrayStream *stream,
                                              clance_error *err) {
  CL_TRY(td_overwrite_open(uri, s, f, ds, err));
  clance_status st = clance_dataset_scan(*ds, NULL, stream, err);
  if (st) {
    clance_dataset_close(*ds);
    *ds = NULL;
  }
  return st;
}

/* Write `n` batches of schema s (taken) to uri with the given version;
 * the status, with err holding the message. */
static inline clance_status td_write(const char *uri, const cl_schema *s, struct ArrowArray *batches,
                                     size_t n, const char *version, clance_error *err) {
  struct ArrowArrayStream stream;
  CL_TRY(cl_stream_from_batches(s, batches, n, &stream, err));
  clance_write_options o;
  clance_write_options_init(&o);
  o.data_storage_version = version;
  o.no_fsync = 1;
  clance_fragments *f = NULL;
  clance_status st = clance_write_fragments(uri, NULL, &stream, &o, &f, err);
  clance_fragments_free(f);
  if (stream.release)
    stream.release(&stream);
  return st;
}

/* The bytes of every data file of fragments f (written into uri), in order. */
static inline int td_files_bytes(const char *uri, const clance_fragments *f, cl_buf *out) {
  clance_error err;
  char *json;
  if (clance_fragments_to_json(f, &json, &err))
    return 0;
  out->len = 0;
  cl_buf one = CL_BUF_INIT;
  int ok = 1;
  for (const char *p = strstr(json, "\"path\": \""); ok && p; p = strstr(p + 1, "\"path\": \"")) {
    const char *q = p + 9;
    char file[4400];
    snprintf(file, sizeof file, "%s/data/%.*s", uri, (int)(strchr(q, '"') - q), q);
    one.len = 0;
    ok = !cl_file_read_all(file, (size_t)1 << 30, &one, &err) &&
         !cl_buf_append(out, one.data, one.len, &err);
  }
  cl_buf_free(&one);
  clance_free(json);
  return ok;
}

/* Walks the expected batches row by row beside a scan: td_cursor_next gives
 * the batch and row (offset not included) of the next expected row, or 0
 * once they are used up. */
typedef struct td_cursor {
  const struct ArrowArray *batches;
  int64_t n, k, i;
} td_cursor;

static inline int td_cursor_next(td_cursor *c, const struct ArrowArray **batch, int64_t *row) {
  for (c->i++; c->k < c->n && c->i >= c->batches[c->k].length; c->i = 0)
    c->k++;
  if (c->k >= c->n)
    return 0;
  *batch = &c->batches[c->k];
  *row = c->i;
  return 1;
}

#endif
