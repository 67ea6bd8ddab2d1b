#include "arrow/array.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Bitmaps                                                                    */
/* ------------------------------------------------------------------------ */

void cl_bits_copy(uint8_t *dst, int64_t dst_off, const uint8_t *src, int64_t src_off, int64_t n) {
  if (n <= 0)
    return;
  if ((dst_off & 7) == 0 && (src_off & 7) == 0) {
    int64_t bytes = n >> 3;
    memcpy(dst + (dst_off >> 3), src + (src_off >> 3), (size_t)bytes);
    for (int64_t i = bytes << 3; i < n; i++) {
      if (cl_bit_get(src, src_off + i))
        cl_bit_set(dst, dst_off + i);
      else
        cl_bit_clear(dst, dst_off + i);
    }
    return;
  }
  for (int64_t i = 0; i < n; i++) {
    if (cl_bit_get(src, src_off + i))
      cl_bit_set(dst, dst_off + i);
    else
      cl_bit_clear(dst, dst_off + i);
  }
}

int64_t cl_bits_count_zero(const uint8_t *bits, int64_t off, int64_t n) {
  int64_t ones = 0, i = 0;
  while (i < n && ((off + i) & 7))
    ones += cl_bit_get(bits, off + i++);
  const uint8_t *p = bits + ((off + i) >> 3);
  for (; i + 64 <= n; i += 64, p += 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    ones += __builtin_popcountll(w);
  }
  for (; i < n; i++)
    ones += cl_bit_get(bits, off + i);
  return n - ones;
}

/* Blocks of branch-free comparisons (vectorised), then the exact place. */
#define OFFSETS_FIRST_BAD(T)                                                        \
  static int64_t offsets_first_bad_##T(const T *o, int64_t n) {                     \
    if (o[0] < 0)                                                                   \
      return 0;                                                                     \
    for (int64_t b = 1; b <= n; b += 4096) {                                        \
      int64_t e = b + 4096 <= n + 1 ? b + 4096 : n + 1;                             \
      int bad = 0;                                                                  \
      for (int64_t i = b; i < e; i++)                                               \
        bad |= o[i] < o[i - 1];                                                     \
      if (bad)                                                                      \
        for (int64_t i = b; i < e; i++)                                             \
          if (o[i] < o[i - 1])                                                      \
            return i;                                                               \
    }                                                                               \
    return -1;                                                                      \
  }
OFFSETS_FIRST_BAD(int32_t)
OFFSETS_FIRST_BAD(int64_t)

int64_t cl_offsets_first_bad(const void *o, int large, int64_t n) {
  return large ? offsets_first_bad_int64_t(o, n) : offsets_first_bad_int32_t(o, n);
}

int64_t cl_array_null_count(const struct ArrowArray *a) {
  if (a->null_count >= 0)
    return a->null_count;
  if (a->n_buffers < 1 || !a->buffers[0])
    return 0;
  return cl_bits_count_zero(a->buffers[0], a->offset, a->length);
}

/* ------------------------------------------------------------------------ */
/* Validation of foreign arrays                                               */
/* ------------------------------------------------------------------------ */

static int64_t expected_buffers(const cl_field *f) {
  switch (f->type) {
  case CL_TYPE_NULL: return 0;
  case CL_TYPE_UTF8:
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_BINARY:
  case CL_TYPE_LARGE_BINARY: return 3;
  case CL_TYPE_FIXED_SIZE_LIST:
  case CL_TYPE_STRUCT: return 1;
  default: return 2;
  }
}

clance_status cl_array_validate(const cl_field *f, const struct ArrowArray *a, const char *what,
                                clance_error *err) {
  if (!a || !a->release)
    return cl_err(err, CLANCE_EINVAL, "column %s: array is NULL or released", what);
  if (a->length < 0 || a->offset < 0 || a->n_buffers < 0 || a->n_children < 0)
    return cl_err(err, CLANCE_EINVAL, "column %s: negative length, offset or count", what);
  int64_t want = expected_buffers(f);
  if (a->n_buffers != want && !(f->type == CL_TYPE_NULL && a->n_buffers <= 1))
    return cl_err(err, CLANCE_EINVAL,
                  "column %s: array has %lld buffers but type %s needs %lld (the data does not "
                  "match the schema)",
                  what, (long long)a->n_buffers, cl_type_name(f->type), (long long)want);
  if (want > 0 && !a->buffers)
    return cl_err(err, CLANCE_EINVAL, "column %s: buffers pointer is NULL", what);
  int64_t nulls = a->null_count;
  if (want > 0 && !a->buffers[0] && nulls > 0)
    return cl_err(err, CLANCE_EINVAL, "column %s: null_count %lld but no validity bitmap", what,
                  (long long)nulls);
  if (!f->nullable && want > 0 && a->length > 0 && cl_array_null_count(a) > 0)
    return cl_err(err, CLANCE_ESCHEMA, "column %s is declared NOT NULL but holds nulls", what);
  int64_t end = a->offset + a->length;
  switch (f->type) {
  case CL_TYPE_NULL:
    return CLANCE_OK;
  case CL_TYPE_UTF8:
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_BINARY:
  case CL_TYPE_LARGE_BINARY: {
    if (a->length == 0)
      return CLANCE_OK;
    if (!a->buffers[1] || !a->buffers[2])
      return cl_err(err, CLANCE_EINVAL, "column %s: offsets or data buffer is NULL", what);
    int large = cl_type_is_large(f->type);
    const uint8_t *o = (const uint8_t *)a->buffers[1] + (size_t)a->offset * (large ? 8 : 4);
    int64_t bad = cl_offsets_first_bad(o, large, a->length);
    if (bad >= 0)
      return cl_err(err, CLANCE_EINVAL, "column %s: offsets are negative or decreasing at %lld",
                    what, (long long)bad);
    return CLANCE_OK;
  }
  case CL_TYPE_FIXED_SIZE_LIST:
  case CL_TYPE_LIST:
  case CL_TYPE_LARGE_LIST: {
    if (a->n_children != 1 || !a->children || !a->children[0])
      return cl_err(err, CLANCE_EINVAL, "column %s: list array needs exactly one child", what);
    int64_t need;
    if (f->type == CL_TYPE_FIXED_SIZE_LIST) {
      if (__builtin_mul_overflow(end, (int64_t)f->size, &need))
        return cl_err(err, CLANCE_EINVAL, "column %s: length overflow", what);
    } else {
      if (a->length == 0)
        return CLANCE_OK;
      if (!a->buffers[1])
        return cl_err(err, CLANCE_EINVAL, "column %s: list offsets buffer is NULL", what);
      int large = f->type == CL_TYPE_LARGE_LIST;
      const uint8_t *o = (const uint8_t *)a->buffers[1] + (size_t)a->offset * (large ? 8 : 4);
      int64_t bad = cl_offsets_first_bad(o, large, a->length);
      if (bad >= 0)
        return cl_err(err, CLANCE_EINVAL, "column %s: list offsets decrease at %lld", what,
                      (long long)bad);
      need = large ? ((const int64_t *)(const void *)o)[a->length]
                   : ((const int32_t *)(const void *)o)[a->length];
    }
    /* The child's rows are counted from its own offset: it must hold
     * `need` of them (Arrow's rule; adding its offset here would let a
     * sliced child be read past its end). */
    const struct ArrowArray *c = a->children[0];
    if (c->length < need)
      return cl_err(err, CLANCE_EINVAL, "column %s: child array has %lld values, needs %lld", what,
                    (long long)(c->length + c->offset), (long long)need);
    char sub[512];
    snprintf(sub, sizeof sub, "%s.item", what);
    return cl_array_validate(&f->children[0], c, sub, err);
  }
  case CL_TYPE_STRUCT: {
    if ((size_t)a->n_children != f->n_children || (a->n_children && !a->children))
      return cl_err(err, CLANCE_EINVAL, "column %s: struct array has %lld children, schema has %zu",
                    what, (long long)a->n_children, f->n_children);
    for (size_t i = 0; i < f->n_children; i++) {
      const struct ArrowArray *c = a->children[i];
      if (!c || c->length < end) /* struct row i is child row offset + i */
        return cl_err(err, CLANCE_EINVAL, "column %s: struct child %zu is too short", what, i);
      char sub[512];
      snprintf(sub, sizeof sub, "%s.%s", what, f->children[i].name);
      CL_TRY(cl_array_validate(&f->children[i], c, sub, err));
    }
    return CLANCE_OK;
  }
  case CL_TYPE_DICTIONARY: {
    if (!a->dictionary)
      return cl_err(err, CLANCE_EINVAL, "column %s: dictionary array has no dictionary", what);
    char sub[512];
    snprintf(sub, sizeof sub, "%s.dictionary", what);
    return cl_array_validate(&f->children[0], a->dictionary, sub, err);
  }
  default:
    if (a->length > 0 && !a->buffers[1])
      return cl_err(err, CLANCE_EINVAL, "column %s: values buffer is NULL", what);
    return CLANCE_OK;
  }
}

/* ------------------------------------------------------------------------ */
/* Builders                                                                   */
/* ------------------------------------------------------------------------ */

static int has_offsets(cl_type_id t) {
  return cl_type_is_binary_like(t) || t == CL_TYPE_LIST || t == CL_TYPE_LARGE_LIST;
}

static int offset_width(cl_type_id t) { return cl_type_is_large(t) ? 8 : 4; }

clance_status cl_arr_init(cl_arr *a, const cl_field *f, clance_error *err) {
  memset(a, 0, sizeof *a);
  a->field = f;
  if (f->type == CL_TYPE_DICTIONARY) {
    a->dictionary = cl_calloc(1, sizeof *a->dictionary, err);
    if (!a->dictionary)
      return err->code;
    if (cl_arr_init(a->dictionary, &f->children[0], err)) {
      cl_arr_free(a);
      return err->code;
    }
  } else if (f->n_children) {
    a->children = cl_calloc(f->n_children, sizeof *a->children, err);
    if (!a->children)
      return err->code;
    a->n_children = f->n_children;
    for (size_t i = 0; i < f->n_children; i++)
      if (cl_arr_init(&a->children[i], &f->children[i], err)) {
        cl_arr_free(a);
        return err->code;
      }
  }
  if (has_offsets(f->type) && cl_arr_push_offset(a, 0, err)) {
    cl_arr_free(a);
    return err->code;
  }
  return CLANCE_OK;
}

void cl_arr_free(cl_arr *a) {
  if (!a)
    return;
  cl_buf_free(&a->validity);
  cl_buf_free(&a->offsets);
  cl_buf_free(&a->values);
  for (size_t i = 0; i < a->n_children; i++)
    cl_arr_free(&a->children[i]);
  free(a->children);
  if (a->dictionary) {
    cl_arr_free(a->dictionary);
    free(a->dictionary);
  }
  memset(a, 0, sizeof *a);
}

void cl_arr_reset(cl_arr *a) {
  a->length = 0;
  a->null_count = 0;
  a->validity.len = 0;
  a->values.len = 0;
  a->offsets.len = 0;
  if (has_offsets(a->field->type)) {
    memset(a->offsets.data, 0, (size_t)offset_width(a->field->type));
    a->offsets.len = (size_t)offset_width(a->field->type);
  }
  for (size_t i = 0; i < a->n_children; i++)
    cl_arr_reset(&a->children[i]);
  if (a->dictionary)
    cl_arr_reset(a->dictionary);
}

/* Grow the validity bitmap to cover `bits` bits, new bits set to `fill`. */
static clance_status validity_grow(cl_arr *a, int64_t old_bits, int64_t new_bits, int fill,
                                   clance_error *err) {
  size_t need = (size_t)((new_bits + 7) >> 3);
  if (need > a->validity.len)
    CL_TRY(cl_buf_fill(&a->validity, 0, need - a->validity.len, err));
  if (fill)
    for (int64_t i = old_bits; i < new_bits; i++)
      cl_bit_set(a->validity.data, i);
  else
    for (int64_t i = old_bits; i < new_bits; i++)
      cl_bit_clear(a->validity.data, i);
  return CLANCE_OK;
}

/* The bitmap is materialised lazily: before the first null everything is valid. */
static clance_status validity_materialise(cl_arr *a, clance_error *err) {
  if (a->null_count == 0 && a->validity.len == 0 && a->length > 0)
    return validity_grow(a, 0, a->length, 1, err);
  return CLANCE_OK;
}

clance_status cl_arr_append_valid(cl_arr *a, int64_t n, clance_error *err) {
  if (a->null_count > 0)
    CL_TRY(validity_grow(a, a->length, a->length + n, 1, err));
  a->length += n;
  return CLANCE_OK;
}

clance_status cl_arr_append_null(cl_arr *a, int64_t n, clance_error *err) {
  if (n <= 0)
    return CLANCE_OK;
  CL_TRY(validity_materialise(a, err));
  CL_TRY(validity_grow(a, a->length, a->length + n, 0, err));
  a->length += n;
  a->null_count += n;
  return CLANCE_OK;
}

clance_status cl_arr_append_validity(cl_arr *a, const uint8_t *bits, int64_t off, int64_t n,
                                     clance_error *err) {
  if (!bits || n <= 0)
    return cl_arr_append_valid(a, n, err);
  int64_t nulls = cl_bits_count_zero(bits, off, n);
  if (nulls == 0)
    return cl_arr_append_valid(a, n, err);
  CL_TRY(validity_materialise(a, err));
  CL_TRY(validity_grow(a, a->length, a->length + n, 0, err));
  cl_bits_copy(a->validity.data, a->length, bits, off, n);
  a->length += n;
  a->null_count += nulls;
  return CLANCE_OK;
}

clance_status cl_arr_push_offset(cl_arr *a, uint64_t end, clance_error *err) {
  if (cl_type_is_large(a->field->type))
    return cl_buf_append_u64(&a->offsets, end, err);
  if (end > INT32_MAX)
    return cl_err(err, CLANCE_EUNSUPPORTED,
                  "column \"%s\": more than 2 GiB of data in one batch of a 32-bit offset type; "
                  "use a smaller batch size or a large_ type",
                  a->field->name);
  return cl_buf_append_u32(&a->offsets, (uint32_t)end, err);
}

clance_status cl_arr_push_offsets(cl_arr *a, const uint64_t *ends, size_t n, uint64_t add,
                                  clance_error *err) {
  if (n == 0)
    return CLANCE_OK;
  int large = cl_type_is_large(a->field->type);
  CL_TRY(cl_buf_reserve(&a->offsets, n * (large ? 8 : 4), err));
  if (large) {
    uint64_t *o = (uint64_t *)(void *)(a->offsets.data + a->offsets.len);
    for (size_t i = 0; i < n; i++)
      o[i] = ends[i] + add;
    a->offsets.len += n * 8;
    return CLANCE_OK;
  }
  if (ends[n - 1] + add > INT32_MAX)
    return cl_arr_push_offset(a, ends[n - 1] + add, err); /* reports the overflow */
  uint32_t *o = (uint32_t *)(void *)(a->offsets.data + a->offsets.len);
  for (size_t i = 0; i < n; i++)
    o[i] = (uint32_t)(ends[i] + add);
  a->offsets.len += n * 4;
  return CLANCE_OK;
}

uint64_t cl_arr_last_offset(const cl_arr *a) {
  if (a->offsets.len == 0)
    return 0;
  if (cl_type_is_large(a->field->type))
    return cl_le64(a->offsets.data + a->offsets.len - 8);
  return cl_le32(a->offsets.data + a->offsets.len - 4);
}

static int64_t src_offset_at(const struct ArrowArray *a, int64_t i, int large) {
  return large ? ((const int64_t *)a->buffers[1])[i] : ((const int32_t *)a->buffers[1])[i];
}

/* Append n bits from src (bit offset off) to a bitmap buffer holding
 * `have` bits. */
static clance_status bitmap_append(cl_buf *b, int64_t have, const uint8_t *src, int64_t off,
                                   int64_t n, clance_error *err) {
  size_t need = (size_t)((have + n + 7) >> 3);
  if (need > b->len)
    CL_TRY(cl_buf_fill(b, 0, need - b->len, err));
  cl_bits_copy(b->data, have, src, off, n);
  return CLANCE_OK;
}

clance_status cl_arr_append_from(cl_arr *dst, const struct ArrowArray *src, int64_t start,
                                 int64_t n, clance_error *err) {
  if (n <= 0)
    return CLANCE_OK;
  const cl_field *f = dst->field;
  int64_t i0 = src->offset + start; /* physical index of the first element */
  int64_t have = dst->length;
  switch (f->type) {
  case CL_TYPE_NULL:
    dst->length += n;
    dst->null_count += n;
    return CLANCE_OK;
  case CL_TYPE_BOOL:
    CL_TRY(bitmap_append(&dst->values, have, src->buffers[1], i0, n, err));
    break;
  case CL_TYPE_UTF8:
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_BINARY:
  case CL_TYPE_LARGE_BINARY:
  case CL_TYPE_LIST:
  case CL_TYPE_LARGE_LIST: {
    int large = cl_type_is_large(f->type);
    int64_t b0 = src_offset_at(src, i0, large), b1 = src_offset_at(src, i0 + n, large);
    uint64_t base = cl_arr_last_offset(dst);
    if (f->type == CL_TYPE_LIST || f->type == CL_TYPE_LARGE_LIST) {
      CL_TRY(cl_arr_append_from(&dst->children[0], src->children[0], b0, b1 - b0, err));
    } else {
      CL_TRY(cl_buf_append(&dst->values, (const uint8_t *)src->buffers[2] + b0, (size_t)(b1 - b0),
                           err));
    }
    if (base + (uint64_t)(b1 - b0) > INT32_MAX && !large)
      return cl_arr_push_offset(dst, base + (uint64_t)(b1 - b0), err); /* reports it */
    CL_TRY(cl_buf_reserve(&dst->offsets, (size_t)n * (large ? 8 : 4), err));
    if (large) {
      const int64_t *so = (const int64_t *)src->buffers[1] + i0;
      uint64_t *o = (uint64_t *)(void *)(dst->offsets.data + dst->offsets.len);
      for (int64_t i = 1; i <= n; i++)
        o[i - 1] = base + (uint64_t)(so[i] - b0);
      dst->offsets.len += (size_t)n * 8;
    } else {
      const int32_t *so = (const int32_t *)src->buffers[1] + i0;
      uint32_t *o = (uint32_t *)(void *)(dst->offsets.data + dst->offsets.len);
      uint32_t shift = (uint32_t)base - (uint32_t)b0;
      for (int64_t i = 1; i <= n; i++)
        o[i - 1] = (uint32_t)so[i] + shift;
      dst->offsets.len += (size_t)n * 4;
    }
    break;
  }
  case CL_TYPE_FIXED_SIZE_LIST:
    CL_TRY(cl_arr_append_from(&dst->children[0], src->children[0], i0 * f->size, n * f->size, err));
    break;
  case CL_TYPE_STRUCT:
    for (size_t c = 0; c < dst->n_children; c++)
      CL_TRY(cl_arr_append_from(&dst->children[c], src->children[c], i0, n, err));
    break;
  case CL_TYPE_DICTIONARY:
    return cl_err(err, CLANCE_EUNSUPPORTED, "column \"%s\": dictionary-encoded input arrays are "
                  "not supported yet", f->name);
  default: {
    size_t w = cl_type_bits(f) / 8;
    CL_TRY(cl_buf_append(&dst->values, (const uint8_t *)src->buffers[1] + (size_t)i0 * w,
                         (size_t)n * w, err));
    break;
  }
  }
  return cl_arr_append_validity(dst, cl_array_validity(src), i0, n, err);
}

void cl_array_rows_stats(const cl_field *f, const struct ArrowArray *src, int64_t start, int64_t n,
                         cl_rows_stats *out) {
  memset(out, 0, sizeof *out);
  if (n <= 0)
    return;
  int64_t i0 = src->offset + start;
  if (f->type == CL_TYPE_NULL) {
    out->nulls = n;
    return;
  }
  const uint8_t *valid = cl_array_validity(src);
  if (valid)
    out->nulls = cl_bits_count_zero(valid, i0, n);
  if (cl_type_is_binary_like(f->type)) {
    int large = cl_type_is_large(f->type);
    out->var_bytes = (uint64_t)(src_offset_at(src, i0 + n, large) - src_offset_at(src, i0, large));
  } else if (f->type == CL_TYPE_FIXED_SIZE_LIST) {
    const struct ArrowArray *c = src->children[0];
    const uint8_t *cv = cl_array_validity(c);
    if (cv)
      out->item_nulls = cl_bits_count_zero(cv, c->offset + i0 * f->size, n * f->size);
  }
}

uint64_t cl_arr_nbytes_of(const cl_field *f, int64_t length, const cl_rows_stats *t) {
  uint64_t L = (uint64_t)length;
  if (f->type == CL_TYPE_NULL)
    return 0;
  uint64_t n = t->nulls > 0 ? (L + 7) / 8 : 0; /* the bitmap exists from the first null on */
  if (f->type == CL_TYPE_BOOL)
    return n + (L + 7) / 8;
  if (cl_type_is_binary_like(f->type))
    return n + (L + 1) * (uint64_t)offset_width(f->type) + t->var_bytes;
  if (f->type == CL_TYPE_FIXED_SIZE_LIST) {
    uint64_t items = L * (uint64_t)f->size;
    return n + (t->item_nulls > 0 ? (items + 7) / 8 : 0) + items * (cl_type_bits(&f->children[0]) / 8);
  }
  return n + L * (cl_type_bits(f) / 8);
}

int64_t cl_array_rows_fitting(const cl_field *f, const struct ArrowArray *src, int64_t start,
                              int64_t n, uint64_t room) {
  if (n <= 1)
    return n;
  if (cl_type_is_binary_like(f->type)) {
    /* Offsets are monotonic: the largest k whose rows fit, by bisection. */
    int large = cl_type_is_large(f->type);
    uint64_t w = (uint64_t)offset_width(f->type);
    int64_t i0 = src->offset + start, b0 = src_offset_at(src, i0, large), lo = 1, hi = n;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo + 1) / 2;
      uint64_t bytes = (uint64_t)mid * w + (uint64_t)(src_offset_at(src, i0 + mid, large) - b0);
      if (bytes <= room)
        lo = mid;
      else
        hi = mid - 1;
    }
    return lo;
  }
  cl_rows_stats none;
  memset(&none, 0, sizeof none);
  uint64_t row = cl_arr_nbytes_of(f, 8, &none) / 8; /* bool: 1 byte per 8 rows */
  if (!row)
    return n;
  uint64_t k = room / row;
  return k < 1 ? 1 : k > (uint64_t)n ? n : (int64_t)k;
}

/* Placeholder values for n elements, without touching validity. */
static clance_status append_placeholders(cl_arr *a, int64_t n, clance_error *err) {
  const cl_field *f = a->field;
  switch (f->type) {
  case CL_TYPE_NULL:
    return CLANCE_OK;
  case CL_TYPE_BOOL: {
    size_t need = (size_t)((a->length + n + 7) >> 3);
    return need > a->values.len ? cl_buf_fill(&a->values, 0, need - a->values.len, err) : CLANCE_OK;
  }
  case CL_TYPE_UTF8:
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_BINARY:
  case CL_TYPE_LARGE_BINARY:
  case CL_TYPE_LIST:
  case CL_TYPE_LARGE_LIST: {
    uint64_t end = cl_arr_last_offset(a);
    for (int64_t i = 0; i < n; i++)
      CL_TRY(cl_arr_push_offset(a, end, err));
    return CLANCE_OK;
  }
  case CL_TYPE_FIXED_SIZE_LIST: {
    cl_arr *c = &a->children[0];
    int64_t items = n * f->size;
    CL_TRY(append_placeholders(c, items, err));
    return cl_arr_append_valid(c, items, err);
  }
  case CL_TYPE_STRUCT:
    for (size_t i = 0; i < a->n_children; i++) {
      CL_TRY(append_placeholders(&a->children[i], n, err));
      CL_TRY(cl_arr_append_null(&a->children[i], n, err));
    }
    return CLANCE_OK;
  case CL_TYPE_DICTIONARY:
    return cl_buf_fill(&a->values, 0, (size_t)n * (cl_type_bits(&(cl_field){.type = f->index_type}) / 8), err);
  default:
    return cl_buf_fill(&a->values, 0, (size_t)n * (cl_type_bits(f) / 8), err);
  }
}

clance_status cl_arr_append_placeholders(cl_arr *a, int64_t n, clance_error *err) {
  if (n <= 0)
    return CLANCE_OK;
  CL_TRY(append_placeholders(a, n, err));
  a->length += n;
  return CLANCE_OK;
}

clance_status cl_arr_append_nulls(cl_arr *a, int64_t n, clance_error *err) {
  if (n <= 0)
    return CLANCE_OK;
  CL_TRY(append_placeholders(a, n, err));
  if (a->field->type == CL_TYPE_NULL) {
    a->length += n;
    a->null_count += n;
    return CLANCE_OK;
  }
  return cl_arr_append_null(a, n, err);
}

size_t cl_arr_nbytes(const cl_arr *a) {
  size_t n = a->validity.len + a->offsets.len + a->values.len;
  for (size_t i = 0; i < a->n_children; i++)
    n += cl_arr_nbytes(&a->children[i]);
  return n;
}

/* Private data of arrays we export. */
typedef struct export_array {
  void *owned[3];
  const void *bufs[3];
  struct ArrowArray *children;
  struct ArrowArray **child_ptrs;
  struct ArrowArray *dictionary;
  int64_t n_children;
} export_array;

static void release_array(struct ArrowArray *a) {
  if (!a || !a->release)
    return;
  export_array *p = a->private_data;
  if (p) {
    for (int i = 0; i < 3; i++)
      free(p->owned[i]);
    for (int64_t i = 0; i < p->n_children; i++)
      if (p->children[i].release)
        p->children[i].release(&p->children[i]);
    free(p->children);
    free(p->child_ptrs);
    if (p->dictionary) {
      if (p->dictionary->release)
        p->dictionary->release(p->dictionary);
      free(p->dictionary);
    }
    free(p);
  }
  a->release = NULL;
}

/* Buffers handed to Arrow must never be NULL where data is expected, even if
 * empty: allocate a small zeroed block for empty buffers. */
static void *take_or_empty(cl_buf *b, clance_error *err) {
  if (b->data) {
    /* Arrow consumers may read a whole last byte/word: keep 8 bytes of slack. */
    if (cl_buf_reserve(b, 8, err))
      return NULL;
    memset(b->data + b->len, 0, 8);
    return cl_buf_take(b);
  }
  return cl_calloc(1, 64, err);
}

/* Export a's own buffers; children are a's exported recursively, or the
 * given `kids` (moved) when not NULL. */
static clance_status export_node(cl_arr *a, struct ArrowArray *kids, size_t n_kids,
                                 struct ArrowArray *out, clance_error *err) {
  memset(out, 0, sizeof *out);
  size_t nc = kids ? n_kids : a->n_children;
  export_array *p = cl_calloc(1, sizeof *p, err);
  if (!p)
    goto fail_kids;
  out->private_data = p;
  out->release = release_array;
  out->length = a->length;
  out->null_count = a->null_count;
  out->buffers = p->bufs;
  const cl_field *f = a->field;
  int64_t nb = expected_buffers(f);
  out->n_buffers = nb;
  if (nb >= 1 && a->null_count > 0) {
    if (!(p->owned[0] = take_or_empty(&a->validity, err)))
      goto fail;
  }
  if (nb >= 2) {
    cl_buf *second = has_offsets(f->type) ? &a->offsets : &a->values;
    if (!(p->owned[1] = take_or_empty(second, err)))
      goto fail;
  }
  if (nb >= 3 && !(p->owned[2] = take_or_empty(&a->values, err)))
    goto fail;
  for (int i = 0; i < 3; i++)
    p->bufs[i] = p->owned[i];
  if (nc) {
    p->children = cl_calloc(nc, sizeof *p->children, err);
    p->child_ptrs = cl_calloc(nc, sizeof *p->child_ptrs, err);
    if (!p->children || !p->child_ptrs)
      goto fail;
    out->children = p->child_ptrs;
    for (size_t i = 0; i < nc; i++) {
      p->child_ptrs[i] = &p->children[i];
      if (kids) {
        p->children[i] = kids[i];
        kids[i].release = NULL;
      } else if (cl_arr_export(&a->children[i], &p->children[i], err)) {
        goto fail;
      }
      p->n_children = (int64_t)i + 1;
      out->n_children = p->n_children;
    }
  }
  if (a->dictionary) {
    p->dictionary = cl_calloc(1, sizeof *p->dictionary, err);
    if (!p->dictionary || cl_arr_export(a->dictionary, p->dictionary, err))
      goto fail;
    out->dictionary = p->dictionary;
  }
  /* The builder is now empty; make it reusable. */
  a->length = a->null_count = 0;
  a->validity.len = 0;
  if (has_offsets(f->type) && cl_arr_push_offset(a, 0, err))
    goto fail;
  return CLANCE_OK;
fail:
  release_array(out);
fail_kids:
  for (size_t i = 0; kids && i < n_kids; i++)
    if (kids[i].release)
      kids[i].release(&kids[i]);
  return err->code;
}

clance_status cl_arr_export(cl_arr *a, struct ArrowArray *out, clance_error *err) {
  return export_node(a, NULL, 0, out, err);
}

clance_status cl_arr_export_node(cl_arr *a, struct ArrowArray *kids, size_t n_kids,
                                 struct ArrowArray *out, clance_error *err) {
  return export_node(a, kids, n_kids, out, err);
}

clance_status cl_struct_array_export(int64_t length, struct ArrowArray *children, size_t n,
                                     struct ArrowArray *out, clance_error *err) {
  memset(out, 0, sizeof *out);
  export_array *p = cl_calloc(1, sizeof *p, err);
  if (!p)
    goto fail_children;
  out->private_data = p;
  out->release = release_array;
  out->length = length;
  out->n_buffers = 1;
  out->buffers = p->bufs;
  if (n) {
    p->children = cl_calloc(n, sizeof *p->children, err);
    p->child_ptrs = cl_calloc(n, sizeof *p->child_ptrs, err);
    if (!p->children || !p->child_ptrs) {
      release_array(out);
      goto fail_children;
    }
  }
  for (size_t i = 0; i < n; i++) {
    p->children[i] = children[i];
    children[i].release = NULL;
    p->child_ptrs[i] = &p->children[i];
  }
  p->n_children = (int64_t)n;
  out->n_children = (int64_t)n;
  out->children = p->child_ptrs;
  return CLANCE_OK;
fail_children:
  for (size_t i = 0; i < n; i++)
    if (children[i].release)
      children[i].release(&children[i]);
  return err->code;
}

/* ------------------------------------------------------------------------ */
/* Shared arrays                                                              */
/* ------------------------------------------------------------------------ */

struct cl_shared {
  int refs;
  struct ArrowArray a;
};

cl_shared *cl_shared_new(struct ArrowArray *a, clance_error *err) {
  cl_shared *s = cl_malloc(sizeof *s, err);
  if (!s) {
    if (a->release)
      a->release(a);
    return NULL;
  }
  s->refs = 1;
  s->a = *a;
  a->release = NULL;
  return s;
}

void cl_shared_ref(cl_shared *s) { __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED); }

void cl_shared_unref(cl_shared *s) {
  if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
    return;
  if (s->a.release)
    s->a.release(&s->a);
  free(s);
}

const struct ArrowArray *cl_shared_array(const cl_shared *s) { return &s->a; }

int cl_shared_refs(const cl_shared *s) { return __atomic_load_n(&s->refs, __ATOMIC_ACQUIRE); }

/* Each node of a slice owns its child structs (so consumers may move them)
 * and one reference to the shared array. */
typedef struct slice_node {
  cl_shared *owner;
  struct ArrowArray *children;
  struct ArrowArray **child_ptrs;
  struct ArrowArray *dictionary;
  int64_t n_children;
} slice_node;

static void release_slice(struct ArrowArray *a) {
  if (!a || !a->release)
    return;
  slice_node *p = a->private_data;
  for (int64_t i = 0; i < p->n_children; i++)
    if (p->children[i].release)
      p->children[i].release(&p->children[i]);
  if (p->dictionary) {
    if (p->dictionary->release)
      p->dictionary->release(p->dictionary);
    free(p->dictionary);
  }
  free(p->children);
  free(p->child_ptrs);
  cl_shared_unref(p->owner);
  free(p);
  a->release = NULL;
}

/* Mirror `src` into `out` (same buffers), holding a reference per node. */
static clance_status mirror(cl_shared *owner, const struct ArrowArray *src, struct ArrowArray *out,
                            clance_error *err) {
  *out = *src;
  out->release = NULL;
  slice_node *p = cl_calloc(1, sizeof *p, err);
  if (!p)
    return err->code;
  cl_shared_ref(owner);
  p->owner = owner;
  out->private_data = p;
  out->release = release_slice;
  out->children = NULL;
  out->dictionary = NULL;
  if (src->n_children) {
    p->children = cl_calloc((size_t)src->n_children, sizeof *p->children, err);
    p->child_ptrs = cl_calloc((size_t)src->n_children, sizeof *p->child_ptrs, err);
    if (!p->children || !p->child_ptrs)
      goto fail;
    out->children = p->child_ptrs;
    for (int64_t i = 0; i < src->n_children; i++) {
      p->child_ptrs[i] = &p->children[i];
      if (mirror(owner, src->children[i], &p->children[i], err))
        goto fail;
      p->n_children = i + 1;
    }
  }
  if (src->dictionary) {
    p->dictionary = cl_calloc(1, sizeof *p->dictionary, err);
    if (!p->dictionary || mirror(owner, src->dictionary, p->dictionary, err))
      goto fail;
    out->dictionary = p->dictionary;
  }
  return CLANCE_OK;
fail:
  release_slice(out);
  return err->code;
}

clance_status cl_shared_slice(cl_shared *s, int64_t offset, int64_t length, struct ArrowArray *out,
                              clance_error *err) {
  CL_TRY(mirror(s, &s->a, out, err));
  /* Children stay whole: Arrow applies a parent's offset to them. */
  out->offset = s->a.offset + offset;
  out->length = length;
  const uint8_t *valid = s->a.n_buffers > 0 ? s->a.buffers[0] : NULL;
  out->null_count = valid && s->a.null_count != 0 ? cl_bits_count_zero(valid, out->offset, length) : 0;
  return CLANCE_OK;
}

/* ------------------------------------------------------------------------ */
/* Streams                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct batch_stream {
  cl_schema schema;
  struct ArrowArray *batches;
  size_t n, next;
  char last_error[CLANCE_ERROR_MESSAGE_SIZE];
} batch_stream;

static int bs_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  batch_stream *p = s->private_data;
  clance_error e;
  if (cl_schema_to_arrow(&p->schema, out, &e)) {
    snprintf(p->last_error, sizeof p->last_error, "%s", e.message);
    return ENOMEM;
  }
  return 0;
}

static int bs_get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  batch_stream *p = s->private_data;
  if (p->next >= p->n) {
    memset(out, 0, sizeof *out);
    return 0;
  }
  *out = p->batches[p->next];
  p->batches[p->next].release = NULL;
  p->next++;
  return 0;
}

static const char *bs_last_error(struct ArrowArrayStream *s) {
  batch_stream *p = s->private_data;
  return p->last_error[0] ? p->last_error : NULL;
}

static void bs_release(struct ArrowArrayStream *s) {
  if (!s->release)
    return;
  batch_stream *p = s->private_data;
  for (size_t i = 0; i < p->n; i++)
    if (p->batches[i].release)
      p->batches[i].release(&p->batches[i]);
  free(p->batches);
  cl_schema_free(&p->schema);
  free(p);
  s->release = NULL;
}

clance_status cl_stream_from_batches(const cl_schema *schema, struct ArrowArray *batches, size_t n,
                                     struct ArrowArrayStream *out, clance_error *err) {
  memset(out, 0, sizeof *out);
  batch_stream *p = cl_calloc(1, sizeof *p, err);
  if (!p)
    goto fail;
  p->batches = cl_calloc(n ? n : 1, sizeof *p->batches, err);
  if (!p->batches || cl_schema_copy(schema, &p->schema, err)) {
    free(p->batches);
    free(p);
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    p->batches[i] = batches[i];
    batches[i].release = NULL;
  }
  p->n = n;
  out->private_data = p;
  out->get_schema = bs_get_schema;
  out->get_next = bs_get_next;
  out->get_last_error = bs_last_error;
  out->release = bs_release;
  return CLANCE_OK;
fail:
  for (size_t i = 0; i < n; i++)
    if (batches[i].release)
      batches[i].release(&batches[i]);
  return err->code;
}

clance_status cl_stream_error(struct ArrowArrayStream *s, int rc, const char *what,
                              clance_error *err) {
  const char *msg = s->get_last_error ? s->get_last_error(s) : NULL;
  return cl_err(err, cl_errno_to_status(rc), "%s: %s", what, msg ? msg : strerror(rc));
}
