/* Page encoders: turn one accumulated page of a column (a cl_arr holding the
 * page's rows) into buffers plus an encoding description. */
#ifndef CL_ENCODING_ENCODE_H
#define CL_ENCODING_ENCODE_H

#include "arrow/array.h"
#include "encoding/fsst.h"
#include "file/container.h"

/* Rows [start, start + n) of a validated foreign array (start does not
 * count a->offset), used in place. */
typedef struct cl_seg {
  const struct ArrowArray *a;
  int64_t start, n;
} cl_seg;

/* The rows of one page: copied into one builder (arr), or slices of input
 * arrays (segs, with their totals). */
typedef struct cl_page_src {
  const cl_arr *arr; /* when not NULL, the page's rows; nothing else is used */
  const cl_seg *segs;
  size_t n_segs;
  int64_t length;
  cl_rows_stats totals;
} cl_page_src;

/* Deepest nesting of plain structs around a written leaf. */
#define CL_MAX_STRUCT_DEPTH 32

/* Which leaf types the writers can encode as one column. */
int cl_encode_supported_leaf(const cl_field *f);

/* File version 2.1 / 2.2 structural encoding of a leaf column page. */
clance_status cl_encode21_page(const cl_field *f, const cl_arr *page, uint64_t first_row,
                               cl_file_version v, cl_page_enc *out, clance_error *err);

/* Working buffers of the 2.1+ page encoder (compressed strings, chunk
 * buffers), kept between pages by a caller that encodes many: fresh
 * memory for every page costs a page fault per 4 KiB. Zero-initialise;
 * free with cl_enc21_scratch_free. One encoding at a time. */
typedef struct cl_enc21_scratch {
  cl_buf levels, vb[2], fdata, foffs;
  uint8_t ftable[CL_FSST_TABLE_SIZE];
} cl_enc21_scratch;
void cl_enc21_scratch_free(cl_enc21_scratch *sc);
/* cl_encode21_page with the caller's scratch buffers. */
/* `outer`: plain structs around the leaf f (0 for a top-level field), each
 * one more item layer of the page; `sdef` (NULL: no null struct on the
 * page): per row, the layer (1 = innermost) of the outermost null struct
 * around the leaf, or 0. */
clance_status cl_encode21_page_scratch(const cl_field *f, uint32_t outer, const uint8_t *sdef,
                                       const cl_arr *page, uint64_t first_row, cl_file_version v,
                                       cl_page_enc *out, cl_enc21_scratch *scratch,
                                       clance_error *err);

/* The rows of a 2.1+ page in place (src->segs) when Lance's encoding of
 * them is the rows' own bytes (full-zip vectors without nulls): the page's
 * buffer is then a list of slices of the input (as in 2.0), which must stay
 * valid until the page is written, and *done = 1. Otherwise *done = 0 and
 * the page is encoded from a copy with cl_encode21_page. */
clance_status cl_encode21_fullzip_in_place(const cl_field *f, uint32_t outer, const cl_page_src *src,
                                           uint64_t first_row, cl_page_enc *out, int *done,
                                           clance_error *err);

/* Can a list column of field f (list or large_list) be written (2.1+): a
 * flat, byte-aligned item (not bool), string, binary or vector? */
int cl_encode21_list_supported(const cl_field *f);
/* A 2.1/2.2 page of a list column: `page` holds its rows (a list builder). */
clance_status cl_encode21_list_page(const cl_field *f, const cl_arr *page, uint64_t first_row,
                                    cl_page_enc *out, clance_error *err);

/* The one page of a 2.0 struct header column (SimpleStruct, no buffers),
 * `rows` long. */
clance_status cl_encode20_struct_header(uint64_t rows, cl_page_enc *out, clance_error *err);

/* File version 2.0 encoding of a leaf column page. Value bytes are not
 * copied: the page's buffers point into the source rows (see
 * cl_page_enc.ext), which must stay valid until the page is written. */
clance_status cl_encode20_page(const cl_field *f, const cl_page_src *src, cl_page_enc *out,
                               clance_error *err);

#endif
