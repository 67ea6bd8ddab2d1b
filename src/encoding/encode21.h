/* Internals of the 2.1/2.2 page encoder (encode21.c). */
#ifndef CL_ENCODING_ENCODE21_H
#define CL_ENCODING_ENCODE21_H

#include "arrow/array.h"
#include "util/buf.h"

/* A read-only view of the accumulated page of one leaf column. */
typedef struct leaf_view {
  const cl_field *f;
  int64_t n;
  const uint8_t *validity; /* NULL when the page has no null */
  /* fixed width */
  uint32_t bits;           /* data bits per value (FSL: dim * item bits) */
  const uint8_t *values;
  /* fixed_size_list */
  uint32_t dim, item_bits;
  const uint8_t *item_validity; /* NULL unless some item is null */
  /* variable width */
  int var, large;
  const uint8_t *offsets;
  const uint8_t *data;
} leaf_view;

static inline uint64_t var_off(const leaf_view *v, int64_t i) {
  return v->large ? cl_le64(v->offsets + 8 * i) : cl_le32(v->offsets + 4 * i);
}

static inline int is_null(const leaf_view *v, int64_t i) {
  return v->validity && !cl_bit_get(v->validity, i);
}

#endif
