/* Lance data files: write a file from Arrow batches, read its columns back.
 * The writer handles flat columns (primitives, strings/binary, vectors),
 * plain structs of them: each leaf is a column (in 2.1+ with a layer per
 * struct around it, null structs as definition levels), plus, in 2.0, a
 * header column per struct (2.0 cannot store null structs); and, in 2.1+,
 * top-level lists of a flat item (full-zip pages, encode21_list.c). The reader decodes page by
 * page. */
#ifndef CL_FILE_FILE_H
#define CL_FILE_FILE_H

#include "arrow/array.h"
#include "file/container.h"

struct cl_page_rows;

struct cl_pool;

typedef struct cl_file_writer_opts {
  cl_file_version version;
  uint64_t page_bytes;        /* cut a page once a column buffers this much */
  uint64_t max_rows_per_page; /* 0 = no row cap */
  /* Bound on column buffers plus pages in flight; 0 = 256 MiB. Pages are
   * made smaller when the columns' buffers would not fit in half of it. */
  uint64_t max_buffer_bytes;
  /* Encode pages on these threads (borrowed; NULL = on the caller's). Pages
   * are written in the same order either way, so files are identical. */
  struct cl_pool *pool;
  /* Leave flushing to the OS (no fsync); zero, the default, is durable. */
  int no_fsync;
} cl_file_writer_opts;

typedef struct cl_file_writer cl_file_writer;

/* Which top-level fields a file of this version lists, and where. */
typedef struct cl_file_layout {
  size_t n;
  int32_t *field_ids;      /* DataFile.fields */
  int32_t *column_indices; /* DataFile.column_indices */
} cl_file_layout;
void cl_file_layout_free(cl_file_layout *l);

/* Check that every field of `schema` can be written in file format v. */
clance_status cl_file_check_writable(const cl_schema *schema, cl_file_version v, clance_error *err);

/* `schema` must have field ids; it is copied. */
clance_status cl_file_writer_open(const char *path, const cl_schema *schema,
                                  const cl_file_writer_opts *opts, cl_file_writer **out,
                                  clance_error *err);
/* Append rows [start, start+n) of a struct batch whose children match the
 * schema (validated by the caller); the rows are copied. */
clance_status cl_file_writer_write(cl_file_writer *w, const struct ArrowArray *batch, int64_t start,
                                   int64_t n, clance_error *err);
/* The same for a shared batch, whose rows pages may use in place: the
 * writer takes references to it as it needs (the caller keeps its own).
 * After dropping its own reference to a batch, the caller calls
 * cl_file_writer_release_unused, which lets go of batches no page uses and
 * copies the rows of open pages that keep too many batches alive (beyond
 * half of max_buffer_bytes). */
clance_status cl_file_writer_write_shared(cl_file_writer *w, cl_shared *batch, int64_t start,
                                          int64_t n, clance_error *err);
clance_status cl_file_writer_release_unused(cl_file_writer *w, clance_error *err);
uint64_t cl_file_writer_rows(const cl_file_writer *w);
/* Bytes written plus bytes still buffered (approximate while pages are
 * being encoded by a pool). */
uint64_t cl_file_writer_bytes(const cl_file_writer *w);
/* Exactly: have the bytes written plus buffered reached `limit`? The same
 * answer with or without a pool (may wait for queued pages). */
int cl_file_writer_reached(cl_file_writer *w, uint64_t limit);
/* A finished (or finishing) file of a writer, until collected. */
typedef struct cl_written_file cl_written_file;
/* Finish the current file without waiting for it: its pages are flushed and,
 * with a pool, its footer is written (and the file fsynced) by a worker
 * once its pages are, while the caller goes on; the writer is idle at once
 * (start the next file with cl_file_writer_reopen). Every file must be
 * collected with cl_file_writer_collect, in any order, before the writer is
 * freed. On error the writer stays as it was (abort it). */
clance_status cl_file_writer_finish_async(cl_file_writer *w, cl_written_file **out,
                                          clance_error *err);
/* Is the file finished (collect would not wait)? */
int cl_file_writer_file_done(cl_file_writer *w, const cl_written_file *f);
/* Wait for the file; its rows, size and layout, or the error that removed
 * it. Frees f. */
clance_status cl_file_writer_collect(cl_file_writer *w, cl_written_file *f, uint64_t *out_rows,
                                     uint64_t *out_size, cl_file_layout *out_layout,
                                     clance_error *err);
/* Flush, write metadata and footer, close; frees w. */
clance_status cl_file_writer_finish(cl_file_writer *w, uint64_t *out_rows, uint64_t *out_size,
                                    cl_file_layout *out_layout, clance_error *err);
/* Like cl_file_writer_finish, but on success w stays allocated, idle, with
 * its column buffers (no fresh memory to fault in for the next file): start
 * the next file with cl_file_writer_reopen or free it with
 * cl_file_writer_free. On error w is freed. */
clance_status cl_file_writer_finish_keep(cl_file_writer *w, uint64_t *out_rows,
                                         uint64_t *out_size, cl_file_layout *out_layout,
                                         clance_error *err);
/* Start a new file at `path` with an idle writer (same schema and options).
 * On error w stays idle. */
clance_status cl_file_writer_reopen(cl_file_writer *w, const char *path, clance_error *err);
/* Free an idle writer (NULL is ignored). */
void cl_file_writer_free(cl_file_writer *w);
/* Remove the partial file; frees w. */
void cl_file_writer_abort(cl_file_writer *w);

/* ---- reading ---- */

typedef struct cl_file_reader {
  cl_container_reader c;
  cl_schema schema;     /* the file's own schema (with field ids) */
  uint64_t num_rows;
  size_t n_cols;
  cl_column_info *cols; /* loaded on demand */
  unsigned char *loaded;
} cl_file_reader;

clance_status cl_file_reader_open(const char *path, uint64_t expected_size, cl_file_reader **out,
                                  clance_error *err);
void cl_file_reader_close(cl_file_reader *r);
clance_status cl_file_reader_column(cl_file_reader *r, size_t col, const cl_column_info **out,
                                    clance_error *err);
/* Decode page `page` of column `col` as field f. */
clance_status cl_file_reader_decode_page(cl_file_reader *r, size_t col, size_t page,
                                         const cl_field *f, struct ArrowArray *out,
                                         clance_error *err);

/* Prepare page `page` of column `col` (a flat column) for row access; see
 * cl_page_rows_open. The handle reads from r: free it before closing r. */
clance_status cl_file_reader_page_rows(cl_file_reader *r, size_t col, size_t page, const cl_field *f,
                                       struct cl_page_rows **out, int *supported, clance_error *err);

/* Decode page `page` of a 2.0 list offsets column into a nullable uint64
 * array holding each list's item count. */
clance_status cl_file_reader_decode_list_lengths(cl_file_reader *r, size_t col, size_t page,
                                                 struct ArrowArray *out, clance_error *err);

#endif
