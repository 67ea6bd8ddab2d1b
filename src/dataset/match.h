/* Rows of a fragment that satisfy a filter. */
#ifndef CL_DATASET_MATCH_H
#define CL_DATASET_MATCH_H

#include "dataset/dataset.h"
#include "dataset/filter.h"

/* Physical row offsets (ascending) of the live rows of fragment `index` (in
 * manifest order) that satisfy `filter` (NULL: every live row). */
clance_status cl_fragment_match(cl_dataset *ds, size_t index, const cl_filter *filter,
                                uint32_t **rows, size_t *n, clance_error *err);

/* Position of fragment `id` in the manifest; 0 when absent. */
int cl_manifest_fragment_index(const cl_dataset *ds, uint64_t id, size_t *index);

#endif
