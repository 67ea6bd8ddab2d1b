/* Adding columns from CSV/JSON Lines input: what `clance add-columns` and
 * `clance-mpi add-columns` share. The whole input is held in memory, one
 * array per column; its rows are matched to a fragment's rows by position or
 * by a key column (a hash index over the input's keys). */
#ifndef CLANCE_TOOLS_TEXTIO_ADDCOLS_H
#define CLANCE_TOOLS_TEXTIO_ADDCOLS_H

#include "arrow/array.h"
#include "clance/clance.h"

/* The whole input, one array per column. */
typedef struct cl_addcols_input {
  cl_schema schema;
  cl_arr *cols;
  struct ArrowArray *arrays;
  int64_t rows;
} cl_addcols_input;

/* Set in->schema, then read the files one after the other (their rows
 * concatenated). Free with cl_addcols_input_free() on success and error. */
clance_status cl_addcols_input_read(const char *const *paths, size_t n_paths, int format,
                                    cl_addcols_input *in, clance_error *err);
void cl_addcols_input_free(cl_addcols_input *in);

/* An index of the input's key column (its values must be unique, non-null). */
typedef struct cl_addcols_keys {
  const struct ArrowArray *a;
  const cl_field *f;
  int64_t *slots; /* input row, or -1 */
  size_t cap;
} cl_addcols_keys;

/* 1 when `f` can be a key (integer or string/binary). */
int cl_addcols_key_ok(const cl_field *f);
/* Index array `a` (of field `f`, kept alive by the caller); free k->slots. */
clance_status cl_addcols_key_build(cl_addcols_keys *k, const cl_field *f, const struct ArrowArray *a,
                                   clance_error *err);
/* Input row of each live row of fragment `frag` of `ds` (-1 = no input row). */
clance_status cl_addcols_rows_by_key(const clance_dataset *ds, uint64_t frag, const char *key,
                                     const cl_addcols_keys *k, int64_t **rows, int64_t *n,
                                     clance_error *err);
/* A one-batch stream of the input's columns from `first_col` on, for the
 * given input rows (-1 = null). */
clance_status cl_addcols_values(const cl_addcols_input *in, size_t first_col, const int64_t *rows,
                                int64_t n, struct ArrowArrayStream *out, clance_error *err);

#endif
