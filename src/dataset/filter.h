/* Row filters for scans and counts: comparisons of a column with a literal
 * (= == != <> < <= > >=), IS [NOT] NULL, AND / OR / NOT and parentheses,
 * evaluated with SQL's three-valued logic (a NULL comparison is unknown, and
 * only rows where the whole predicate is true are kept). */
#ifndef CL_DATASET_FILTER_H
#define CL_DATASET_FILTER_H

#include "arrow/array.h"

typedef struct cl_filter cl_filter;

/* Parse and bind `text` to the top-level columns of `schema`. Errors name
 * the offending token and its offset. */
clance_status cl_filter_parse(const char *text, const cl_schema *schema, cl_filter **out,
                              clance_error *err);
void cl_filter_free(cl_filter *f);

/* Names of the columns the filter reads. */
size_t cl_filter_num_columns(const cl_filter *f);
const char *cl_filter_column(const cl_filter *f, size_t i);

/* Evaluate on a struct batch whose children are the columns named by
 * `names` (n of them); sets keep[i] = 1 for rows where the predicate is
 * true, else 0. */
clance_status cl_filter_eval(const cl_filter *f, const struct ArrowArray *batch,
                             const char *const *names, size_t n, uint8_t *keep,
                             clance_error *err);

#endif
