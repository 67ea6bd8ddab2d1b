/* Page decoders: turn one page of a column back into Arrow data.
 *
 * A decoded page is an owned ArrowArray of the column's field holding the
 * page's rows. Scans copy row ranges out of decoded pages into batches. */
#ifndef CL_ENCODING_DECODE_H
#define CL_ENCODING_DECODE_H

#include "arrow/array.h"
#include "file/container.h"

/* Where a page comes from, for I/O and for error messages. */
typedef struct cl_page_ctx {
  const cl_container_reader *file;
  const cl_page_info *page;
  const char *what; /* "data file F, column \"c\", page N" */
  /* 2.0 only: the column is a dictionary-typed field, whose Dictionary
   * encoding holds Arrow's own keys (0-based; nulls in the enclosing
   * Nullable) rather than Lance's automatic string dictionary (1-based, 0 =
   * null). Either way the page decodes to the values. */
  int dict_keys;
} cl_page_ctx;

/* Read page buffer i into out (replacing its contents). */
clance_status cl_page_read_buffer(const cl_page_ctx *ctx, size_t i, cl_buf *out, clance_error *err);

/* Decode a 2.1/2.2 page of a leaf column. `f` is the top-level field cut
 * down to the leaf's branch (the leaf itself for flat columns). */
clance_status cl_decode21_page(const cl_page_ctx *ctx, cl_file_version v, const cl_field *f,
                               struct ArrowArray *out, clance_error *err);

/* The ArrayEncoding of a 2.0 page (unwrapped from its Any); free *out with
 * protobuf_c_message_free_unpacked. */
clance_status cl_decode20_encoding(const cl_page_ctx *ctx, pb20_enc **out, clance_error *err);

/* Decode a 2.0 page of a leaf column. */
clance_status cl_decode20_page(const cl_page_ctx *ctx, const cl_field *f, struct ArrowArray *out,
                               clance_error *err);

/* Decode a 2.0 list offsets page (List encoding) into a nullable uint64
 * array of item counts, one per list. */
clance_status cl_decode20_list_lengths(const cl_page_ctx *ctx, struct ArrowArray *out,
                                       clance_error *err);

/* Row access to a page of a flat column (take21.c, take20.c): only the
 * bytes holding requested rows are read (mini-block chunks, full-zip
 * entries, 2.0 values and string offsets), and most values are copied
 * straight out of them. *supported is 0 (and *out NULL) for pages that need
 * a whole-page decode instead (other layouts and encodings, nested
 * columns). A handle reads from ctx->file and ctx->page while it lives: free
 * it before the file's column metadata. */
typedef struct cl_page_rows cl_page_rows;
struct cl_page_rows {
  clance_status (*take)(cl_page_rows *p, const uint64_t *rows, size_t n, cl_arr *dst,
                        clance_error *err);
  void (*free)(cl_page_rows *p);
  /* Row access costs no more than a whole-page decode even when most rows
   * are wanted (full-zip: the decode copies every value too). */
  int dense;
};
/* 2.1/2.2 pages: mini-block and full-zip layouts. */
clance_status cl_page_rows_open(const cl_page_ctx *ctx, cl_file_version v, const cl_field *f,
                                cl_page_rows **out, int *supported, clance_error *err);
/* 2.0 pages: Nullable, Flat, FixedSizeList, Binary, Fsst, FixedSizeBinary. */
clance_status cl_page_rows_open20(const cl_page_ctx *ctx, const cl_field *f, cl_page_rows **out,
                                  int *supported, clance_error *err);
/* Append the page-local rows (ascending) with their validity to dst. */
clance_status cl_page_rows_take(cl_page_rows *p, const uint64_t *rows, size_t n, cl_arr *dst,
                                clance_error *err);
void cl_page_rows_free(cl_page_rows *p);

/* Reads of small ranges of one page buffer through a cached block (row
 * access). The block grows while reads move forward through the buffer, so
 * dense access reads the buffer in large pieces and sparse access in small
 * ones. */
typedef struct cl_bufrd {
  const cl_container_reader *file;
  const char *what;
  uint64_t pos, size;   /* the buffer's place in the file */
  cl_buf blk;           /* bytes [blk_off, blk_off + blk.len) of the buffer */
  uint64_t blk_off;
  uint64_t next;        /* size of the next block read */
} cl_bufrd;
/* Page buffer i of ctx (ECORRUPT when the page has no such buffer). */
clance_status cl_bufrd_init(cl_bufrd *r, const cl_page_ctx *ctx, size_t i, const char *what,
                            clance_error *err);
/* Point *out at bytes [off, off + len) of the buffer, valid until the next
 * call on r. ECORRUPT when they are not inside it. */
clance_status cl_bufrd_get(cl_bufrd *r, uint64_t off, uint64_t len, const uint8_t **out,
                           clance_error *err);
void cl_bufrd_free(cl_bufrd *r);

/* ---- compressive encodings of 2.1/2.2 (compressive.c) ---- */

/* A value sink: the builder receiving decoded values (without validity). */
typedef struct cl_sink {
  cl_arr *arr;            /* values go to arr->values / arr->offsets / children[0] */
  const cl_field *field;  /* the value type */
} cl_sink;

/* One mini-block chunk's value buffers. */
typedef struct cl_chunk_bufs {
  const uint8_t *data[8];
  size_t len[8];
  size_t n;
} cl_chunk_bufs;

/* State kept across the chunks of one page (e.g. a parsed FSST table). */
typedef struct cl_dec_state {
  void *fsst; /* cl_fsst_table* */
  /* Packed struct fields: one state per field (each has its own tables). */
  struct cl_dec_state *fields;
  size_t n_fields;
} cl_dec_state;
void cl_dec_state_free(cl_dec_state *s);

/* Decode `n` values of a mini-block chunk, appending to the sink. */
clance_status cl_decode_miniblock_values(const pb21_enc *e, const cl_chunk_bufs *bufs, uint64_t n,
                                         cl_sink *sink, cl_dec_state *st, const char *what,
                                         clance_error *err);

/* Decode `n` u16 levels of a block buffer (rep/def levels). */
clance_status cl_decode_levels(const pb21_enc *e, const uint8_t *buf, size_t len, uint64_t n,
                               uint16_t *out, const char *what, clance_error *err);

/* Decode a whole block buffer of `n` values (dictionaries), appending to the sink. */
clance_status cl_decode_block_values(const pb21_enc *e, const uint8_t *buf, size_t len, uint64_t n,
                                     cl_sink *sink, cl_dec_state *st, const char *what,
                                     clance_error *err);

/* Decode one full-zip value (its stored bytes), appending one value to the sink. */
clance_status cl_decode_pervalue(const pb21_enc *e, const uint8_t *buf, size_t len, cl_sink *sink,
                                 cl_dec_state *st, const char *what, clance_error *err);

/* Bits per stored value of a fixed-width per-value encoding (full-zip). */
clance_status cl_pervalue_bits(const pb21_enc *e, uint64_t *bits, const char *what,
                               clance_error *err);

/* ---- packed structs (compressive.c; 2.0 too) ---- */

/* Byte width of each child of packed struct f (widths: f->n_children
 * entries; fixed-size lists flattened) and of a row. EUNSUPPORTED naming
 * the child when one cannot be packed (bool, variable width, nested). */
clance_status cl_packed_layout(const cl_field *f, uint64_t *widths, uint64_t *row_bytes,
                               const char *what, clance_error *err);

/* Append n rows (row-major, row_bytes each, the children's values back to
 * back) to the children of struct builder a, all valid. a's own length and
 * validity are left to the caller. */
clance_status cl_packed_append_rows(cl_arr *a, const uint8_t *rows, uint64_t row_bytes,
                                    const uint64_t *widths, uint64_t n, clance_error *err);

/* Mini-block PackedStruct (2.1+): append rows [first, first+count) of a
 * chunk of n rows to the children of struct builder a (length and validity
 * of a left to the caller), after checking the encoding against a's type. */
clance_status cl_packed_mb_rows(const pb21_enc *e, const cl_chunk_bufs *bufs, uint64_t n,
                                uint64_t first, uint64_t count, cl_arr *a, const char *what,
                                clance_error *err);

#endif
