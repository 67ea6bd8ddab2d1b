/* The Lance 2.x container: page buffers, column metadata, the offset tables
 * and the 40-byte footer. Encoders hand it finished pages; it lays them out. */
#ifndef CL_FILE_CONTAINER_H
#define CL_FILE_CONTAINER_H

#include "file/format.h"
#include "io/fs.h"
#include "proto/pb.h"

#define CL_MAX_PAGE_BUFS 8

/* Bytes the page points at without owning them (input rows used in place). */
typedef struct cl_slice {
  const void *data;
  size_t len;
} cl_slice;

/* One encoded page, ready to be written. A buffer is either its own bytes
 * (bufs[i]) or, when ext_n[i] > 0, the concatenation of the slices
 * ext[ext_first[i] .. ext_first[i] + ext_n[i]), which must stay valid until
 * the page is written. */
typedef struct cl_page_enc {
  cl_buf bufs[CL_MAX_PAGE_BUFS];
  size_t n_bufs;
  uint64_t length;   /* Page.length: rows (or items of a 2.0 list child) */
  uint64_t priority; /* first row (2.1+), 0 in 2.0 */
  cl_buf encoding;   /* serialized google.protobuf.Any */
  size_t ext_first[CL_MAX_PAGE_BUFS], ext_n[CL_MAX_PAGE_BUFS];
  cl_slice *ext;
  size_t n_ext, cap_ext;
} cl_page_enc;

void cl_page_enc_reset(cl_page_enc *p);
void cl_page_enc_free(cl_page_enc *p);
/* Make buffer `i` the concatenation of the next slices added with
 * cl_page_enc_add_slice (no copy). */
void cl_page_enc_begin_slices(cl_page_enc *p, size_t i);
clance_status cl_page_enc_add_slice(cl_page_enc *p, size_t i, const void *data, size_t len,
                                    clance_error *err);
/* Size of buffer i in bytes. */
uint64_t cl_page_enc_buf_len(const cl_page_enc *p, size_t i);

typedef struct cl_page_rec cl_page_rec;

typedef struct cl_container_writer {
  cl_wfile file;
  cl_file_version version;
  size_t n_columns;
  struct cl_col_rec *cols;
} cl_container_writer;

/* `durable`: fsync the file at finish (and start its writeback early). */
clance_status cl_container_create(cl_container_writer *w, const char *path, cl_file_version v,
                                  size_t n_columns, int durable, clance_error *err);
/* Write the page's buffers (64-byte aligned) and remember its metadata. */
clance_status cl_container_add_page(cl_container_writer *w, size_t column, const cl_page_enc *page,
                                    clance_error *err);
/* Bytes written so far. */
uint64_t cl_container_pos(const cl_container_writer *w);
/* Write global buffer 0 (the serialized FileDescriptor), the column metadata,
 * the offset tables and the footer; fsync (if durable) and close. */
clance_status cl_container_finish(cl_container_writer *w, const cl_buf *file_descriptor,
                                  uint64_t *out_size, clance_error *err);
/* Discard a half-written file. */
void cl_container_abort(cl_container_writer *w);

/* ---- reading ---- */

typedef struct cl_page_info {
  uint64_t length;     /* Page.length */
  uint64_t first_row;  /* prefix sum of earlier pages' lengths */
  uint64_t priority;
  size_t n_bufs;
  const uint64_t *buf_offsets;
  const uint64_t *buf_sizes;
  const uint8_t *encoding; /* serialized Any */
  size_t encoding_len;
} cl_page_info;

typedef struct cl_column_info {
  size_t n_pages;
  cl_page_info *pages;
  size_t n_bufs; /* column-level buffers */
  const uint64_t *buf_offsets;
  const uint64_t *buf_sizes;
  pb_column_meta *meta; /* owns what the pointers above point into */
} cl_column_info;

typedef struct cl_container_reader {
  cl_rfile file;
  cl_file_version version;
  uint64_t num_columns;
  uint64_t num_global_buffers;
  uint64_t column_meta_start, cmo_start, gbo_start;
  uint8_t *tail;       /* file bytes [tail_start, size) */
  uint64_t tail_start;
  uint64_t fd_pos, fd_size; /* global buffer 0 */
} cl_container_reader;

/* Open a data file and read its footer and metadata tail. `expected_size`
 * (0 = unknown) is the size the manifest recorded. */
clance_status cl_container_open(cl_container_reader *r, const char *path, uint64_t expected_size,
                                clance_error *err);
void cl_container_close(cl_container_reader *r);
/* The serialized FileDescriptor bytes (inside the tail). */
const uint8_t *cl_container_descriptor(const cl_container_reader *r, size_t *len);
/* Decode the metadata of column i. Free with cl_column_info_free. */
clance_status cl_container_column(const cl_container_reader *r, uint64_t i, cl_column_info *out,
                                  clance_error *err);
void cl_column_info_free(cl_column_info *c);
/* Read a byte range of the file into dst (bounds-checked). */
clance_status cl_container_read(const cl_container_reader *r, uint64_t off, uint64_t len,
                                void *dst, clance_error *err);

#endif
