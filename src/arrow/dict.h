/* Building dictionary arrays from plain values. */
#ifndef CL_ARROW_DICT_H
#define CL_ARROW_DICT_H

#include "arrow/type.h"

/* Replace `a`, an array of f's value type (f->children[0]), by the same
 * values as a dictionary array of type f: distinct values in first-seen
 * order, codes of f's key type. Nulls stay nulls (in the codes). */
clance_status cl_array_dict_encode(const cl_field *f, struct ArrowArray *a, clance_error *err);

/* Key of element i (before a->offset) of a dictionary array. */
int64_t cl_dict_key(const struct ArrowArray *a, cl_type_id index_type, int64_t i);

/* out = rows `rows` of `src`, a dictionary array of type f, with the same
 * dictionary (copied). */
clance_status cl_array_dict_gather(const cl_field *f, const struct ArrowArray *src,
                                   const size_t *rows, size_t n, struct ArrowArray *out,
                                   clance_error *err);

#endif
