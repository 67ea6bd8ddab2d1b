/* Arrow arrays: reading arrays handed to us (validated views), and building
 * arrays we own and export through the C Data Interface. */
#ifndef CL_ARROW_ARRAY_H
#define CL_ARROW_ARRAY_H

#include <stdint.h>

#include "arrow/type.h"
#include "util/buf.h"

/* ------------------------------------------------------------------------ */
/* Reading foreign arrays                                                     */
/* ------------------------------------------------------------------------ */

/* Check that `a` has the buffer/children shape the Arrow spec requires for
 * `f` (recursively), that lengths and offsets are consistent, and that
 * offsets are monotonic. `what` names the column in the error message. */
clance_status cl_array_validate(const cl_field *f, const struct ArrowArray *a, const char *what,
                                clance_error *err);

static inline int cl_bit_get(const uint8_t *bits, int64_t i) { return (bits[i >> 3] >> (i & 7)) & 1; }
static inline void cl_bit_set(uint8_t *bits, int64_t i) { bits[i >> 3] |= (uint8_t)(1u << (i & 7)); }
static inline void cl_bit_clear(uint8_t *bits, int64_t i) {
  bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
}

/* Is element i (0-based, before applying a->offset) valid? */
static inline int cl_array_valid(const struct ArrowArray *a, int64_t i) {
  const uint8_t *v = a->n_buffers > 0 ? (const uint8_t *)a->buffers[0] : NULL;
  if (!v || a->null_count == 0)
    return 1;
  return cl_bit_get(v, i + a->offset);
}

/* The first i in [0, n] at which offsets o[0..n] (int32, or int64 when
 * `large`) are negative or below o[i - 1]; -1 when they are non-negative and
 * never decrease. */
int64_t cl_offsets_first_bad(const void *o, int large, int64_t n);

/* Number of nulls among elements [0, n) (computes when null_count is -1). */
int64_t cl_array_null_count(const struct ArrowArray *a);

/* Copy `n` bits starting at bit `src_off` of src into dst starting at bit
 * `dst_off` (dst must be large enough). */
void cl_bits_copy(uint8_t *dst, int64_t dst_off, const uint8_t *src, int64_t src_off, int64_t n);
int64_t cl_bits_count_zero(const uint8_t *bits, int64_t off, int64_t n);

/* ------------------------------------------------------------------------ */
/* Building owned arrays                                                      */
/* ------------------------------------------------------------------------ */

/* An array under construction, laid out as Arrow wants it. */
typedef struct cl_arr {
  const cl_field *field; /* borrowed; must outlive the builder */
  int64_t length;
  int64_t null_count;
  cl_buf validity;       /* bitmap; stays empty until the first null */
  cl_buf offsets;        /* int32 or int64 offsets (length + 1 entries) */
  cl_buf values;         /* fixed-width values, bool bits, or var bytes */
  size_t n_children;
  struct cl_arr *children;
  struct cl_arr *dictionary;
} cl_arr;

clance_status cl_arr_init(cl_arr *a, const cl_field *f, clance_error *err);
void cl_arr_free(cl_arr *a);
/* Drop the contents but keep the allocations, ready for the next batch. */
void cl_arr_reset(cl_arr *a);

/* Validity: mark the next n elements valid or null (values are appended
 * separately by the caller). */
clance_status cl_arr_append_valid(cl_arr *a, int64_t n, clance_error *err);
clance_status cl_arr_append_null(cl_arr *a, int64_t n, clance_error *err);
/* Append n validity bits from a bitmap (NULL = all valid). */
clance_status cl_arr_append_validity(cl_arr *a, const uint8_t *bits, int64_t off, int64_t n,
                                     clance_error *err);

/* For var-width and list arrays: append an offset (value end). */
clance_status cl_arr_push_offset(cl_arr *a, uint64_t end, clance_error *err);
/* Append n offsets ends[i] + add at once (one reservation, no per-value
 * checks beyond the 32-bit range). */
clance_status cl_arr_push_offsets(cl_arr *a, const uint64_t *ends, size_t n, uint64_t add,
                                  clance_error *err);

/* Current end offset of var-width data (0 when empty). */
uint64_t cl_arr_last_offset(const cl_arr *a);

/* Append elements [start, start+n) of a foreign array (validated against
 * the builder's field) to the builder, copying the data. `start` does not
 * include src->offset. */
clance_status cl_arr_append_from(cl_arr *dst, const struct ArrowArray *src, int64_t start,
                                 int64_t n, clance_error *err);

/* What appending rows [start, start+n) of src with cl_arr_append_from adds
 * to a builder of field f (a leaf: fixed width, bool, var width or a
 * fixed_size_list of fixed width), so that pages can be sized without
 * copying rows: nulls, nulls among the items (fixed_size_list) and value
 * bytes (var width). */
typedef struct cl_rows_stats {
  int64_t nulls, item_nulls;
  uint64_t var_bytes;
} cl_rows_stats;
void cl_array_rows_stats(const cl_field *f, const struct ArrowArray *src, int64_t start, int64_t n,
                         cl_rows_stats *out);
/* cl_arr_nbytes of a builder of leaf field f holding `length` rows with
 * these totals. */
uint64_t cl_arr_nbytes_of(const cl_field *f, int64_t length, const cl_rows_stats *totals);
/* How many of the n rows of src from `start` on fit in `room` bytes of a
 * builder of leaf field f, counting values and offsets but not validity
 * bitmaps; at least 1 (a row larger than the room is taken alone), at most
 * n. Lets a page be cut inside a large input batch. */
int64_t cl_array_rows_fitting(const cl_field *f, const struct ArrowArray *src, int64_t start,
                              int64_t n, uint64_t room);
/* The validity bitmap cl_arr_append_from reads from src: NULL when every row
 * counts as valid. */
static inline const uint8_t *cl_array_validity(const struct ArrowArray *src) {
  return src->n_buffers > 0 && src->null_count != 0 ? (const uint8_t *)src->buffers[0] : NULL;
}

/* Append n zeroed placeholder values and count them in length, leaving
 * validity alone (decoders set validity afterwards). */
clance_status cl_arr_append_placeholders(cl_arr *a, int64_t n, clance_error *err);

/* Append n null elements (with zeroed placeholder values). */
clance_status cl_arr_append_nulls(cl_arr *a, int64_t n, clance_error *err);

/* Bytes currently held (for page sizing). */
size_t cl_arr_nbytes(const cl_arr *a);

/* Move the contents into an ArrowArray (the builder is left empty and may
 * be reused or freed). */
clance_status cl_arr_export(cl_arr *a, struct ArrowArray *out, clance_error *err);

/* Export a's own buffers (validity, offsets) with the given exported
 * children (moved) instead of a's own children. */
clance_status cl_arr_export_node(cl_arr *a, struct ArrowArray *kids, size_t n_kids,
                                 struct ArrowArray *out, clance_error *err);

/* A struct ArrowArray whose children are the given exported arrays (moved). */
clance_status cl_struct_array_export(int64_t length, struct ArrowArray *children, size_t n,
                                     struct ArrowArray *out, clance_error *err);

/* ------------------------------------------------------------------------ */
/* Shared arrays: zero-copy slices                                            */
/* ------------------------------------------------------------------------ */

/* A reference-counted owner of an array, so that several exported slices can
 * share its buffers; the array is released with the last reference. */
typedef struct cl_shared cl_shared;

/* Take ownership of *a (moved). */
cl_shared *cl_shared_new(struct ArrowArray *a, clance_error *err);
void cl_shared_ref(cl_shared *s);
void cl_shared_unref(cl_shared *s);
const struct ArrowArray *cl_shared_array(const cl_shared *s);
/* References held right now (1: only the caller's). */
int cl_shared_refs(const cl_shared *s);
/* An independent ArrowArray for elements [offset, offset+length) of the
 * shared array, pointing at its buffers (every node of it holds a reference). */
clance_status cl_shared_slice(cl_shared *s, int64_t offset, int64_t length, struct ArrowArray *out,
                              clance_error *err);

/* ------------------------------------------------------------------------ */
/* Streams                                                                    */
/* ------------------------------------------------------------------------ */

/* A stream over pre-built batches (moved in) of a schema (copied). */
clance_status cl_stream_from_batches(const cl_schema *schema, struct ArrowArray *batches, size_t n,
                                     struct ArrowArrayStream *out, clance_error *err);

/* Map an errno-style stream result to a clance error naming the stream's message. */
clance_status cl_stream_error(struct ArrowArrayStream *s, int rc, const char *what,
                              clance_error *err);

#endif
