/* Page encoders: turn one accumulated page of a column (a cl_arr holding the
 * page's rows) into buffers plus an encoding description. */
#ifndef CL_ENCODING_ENCODE_H
#define CL_ENCODING_ENCODE_H

#include "arrow/array.h"
#include "file/container.h"

/* Which leaf types the writers can encode as one column. */
int cl_encode_supported_leaf(const cl_field *f);

/* File version 2.1 / 2.2 structural encoding of a leaf column page. */
clance_status cl_encode21_page(const cl_field *f, const cl_arr *page, uint64_t first_row,
                               cl_file_version v, cl_page_enc *out, clance_error *err);

/* File version 2.0 encoding of a leaf column page. */
clance_status cl_encode20_page(const cl_field *f, const cl_arr *page, cl_page_enc *out,
                               clance_error *err);

#endif
