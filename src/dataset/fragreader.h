/* Reading the rows of one fragment at a time for a projection of columns:
 * one cursor per file column, rows taken or skipped in order (skipping whole
 * pages without reading them), taken rows gathered into Arrow builders. Used
 * by scans, takes and filtered counts. */
#ifndef CL_DATASET_FRAGREADER_H
#define CL_DATASET_FRAGREADER_H

#include "dataset/dataset.h"
#include "table/deletion.h"

typedef struct cl_frag_reader cl_frag_reader;

/* Columns by name (NULL/0 = all), in output order. Keeps a dataset reference. */
clance_status cl_frag_reader_new(cl_dataset *ds, const char *const *columns, size_t n_columns,
                                 cl_frag_reader **out, clance_error *err);
void cl_frag_reader_free(cl_frag_reader *r);
const cl_schema *cl_frag_reader_schema(const cl_frag_reader *r);

/* Position at row 0 of fragment `index` of the manifest (closes the previous). */
clance_status cl_frag_reader_open(cl_frag_reader *r, size_t index, clance_error *err);
void cl_frag_reader_close(cl_frag_reader *r);
/* Physical rows of the open fragment and its deletion vector (or NULL). */
uint64_t cl_frag_reader_rows(const cl_frag_reader *r);
const cl_deletions *cl_frag_reader_deletions(const cl_frag_reader *r);

/* Append the next n rows to the builders / pass over them. */
clance_status cl_frag_reader_take(cl_frag_reader *r, uint64_t n, clance_error *err);
clance_status cl_frag_reader_skip(cl_frag_reader *r, uint64_t n, clance_error *err);
/* Append the given physical rows of the open fragment (strictly ascending,
 * none before the rows already taken or skipped): flat columns read sparse
 * rows of a page by row access (mini-block chunks, full-zip entries, 2.0
 * values) and dense ones from the decoded page; pages without a requested
 * row are not read. Nested columns walk to the rows. May be mixed with
 * cl_frag_reader_take/skip. */
clance_status cl_frag_reader_take_rows(cl_frag_reader *r, const uint64_t *rows, size_t n,
                                       clance_error *err);

/* Rows gathered so far, as one struct array; the builders start over. */
clance_status cl_frag_reader_export(cl_frag_reader *r, int64_t rows, struct ArrowArray *out,
                                    clance_error *err);

#endif
