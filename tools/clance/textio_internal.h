/* Shared internals of the text readers and writers (not part of textio.h). */
#ifndef CLANCE_TOOLS_TEXTIO_INTERNAL_H
#define CLANCE_TOOLS_TEXTIO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "arrow/array.h"
#include "textio.h"
#include "util/buf.h"

/* ------------------------------------------------------------------------ */
/* Locations and errors (textio_util.c)                                       */
/* ------------------------------------------------------------------------ */

/* Where a value came from, for messages:
 * "<source>: line <line>[, column "<column>"][, char <chr>]: ..." */
typedef struct cl_text_loc {
  const char *source;
  uint64_t line;
  const char *column; /* top-level column name, or NULL */
  size_t chr;         /* 1-based character in the line; 0 = not reported */
} cl_text_loc;

clance_status cl_text_err(const cl_text_loc *loc, clance_error *err, clance_status code,
                          const char *fmt, ...) CL_PRINTF(4, 5);

/* ------------------------------------------------------------------------ */
/* Small conversions (textio_util.c)                                          */
/* ------------------------------------------------------------------------ */

/* Length of the well-formed UTF-8 sequence at p[0..n), 0 if invalid. */
size_t cl_utf8_seq(const uint8_t *p, size_t n);
/* 1 if p[0..n) is valid UTF-8; else 0 and *bad = offset of the bad byte. */
int cl_utf8_valid(const uint8_t *p, size_t n, size_t *bad);

float cl_half_to_float(uint16_t h);
/* Round to nearest, ties to even; overflow gives infinity. */
uint16_t cl_half_from_double(double d);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t cl_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Fixed-width two's-complement little-endian integer of `bytes` bytes (16
 * or 32) <-> decimal digit string with `scale`. */
clance_status cl_decimal_format(cl_buf *out, const uint8_t *le, size_t bytes, int32_t scale,
                                clance_error *err);
/* Parse decimal text ("-12.345", "1e3") for decimal(precision, scale) into
 * `le`. Returns NULL or a description of the problem (static string). */
const char *cl_decimal_parse(const char *s, size_t n, int32_t precision, int32_t scale,
                             uint8_t *le, size_t bytes);

/* Lowercase hex of p[0..n). */
clance_status cl_hex_append(cl_buf *out, const uint8_t *p, size_t n, clance_error *err);

/* CLANCE_OK if the type can be read from (for_input) or written as text;
 * otherwise CLANCE_EUNSUPPORTED naming `column`. */
clance_status cl_text_check_field(const cl_field *f, int for_input, const char *column,
                                  clance_error *err);

/* The unit of time32/time64/timestamp/duration as a count per second. */
int64_t cl_unit_per_second(char unit);

/* ------------------------------------------------------------------------ */
/* Scalar values from text (textio_scalar.c)                                  */
/* ------------------------------------------------------------------------ */

typedef enum cl_text_kind {
  CL_TK_RAW = 0, /* a CSV field: any text */
  CL_TK_NUMBER,  /* a JSON number token (valid JSON number syntax) */
  CL_TK_STRING   /* a decoded JSON string (valid UTF-8) */
} cl_text_kind;

/* Append one non-null value of a scalar (non-nested) type given as text. */
clance_status cl_text_append_scalar(cl_arr *a, const char *s, size_t n, cl_text_kind kind,
                                    const cl_text_loc *loc, clance_error *err);
/* Append a null, or fail (ESCHEMA) if the field is NOT NULL. */
clance_status cl_text_append_null(cl_arr *a, const cl_text_loc *loc, clance_error *err);
clance_status cl_text_append_bool(cl_arr *a, int v, clance_error *err);

/* Strict number parsing of s[0..n): 0 ok, 1 syntax error, 2 out of range. */
int cl_parse_i64(const char *s, size_t n, int64_t *out);
int cl_parse_u64(const char *s, size_t n, uint64_t *out);

/* ------------------------------------------------------------------------ */
/* JSON values into builders (textio_json.c)                                  */
/* ------------------------------------------------------------------------ */

typedef struct cl_tj {
  const char *t;   /* text (need not be NUL-terminated) */
  size_t len, pos;
  cl_text_loc loc; /* loc.chr is filled in on syntax errors when line_chars */
  int line_chars;  /* report character positions (JSONL) */
  size_t chr_base; /* characters before t[0] on its line (CSV cell: 0) */
  cl_buf scratch;  /* decoded strings with escapes */
  clance_error *err;
} cl_tj;

void cl_tj_skip_ws(cl_tj *j);
/* Syntax error at t[at] (ECORRUPT). */
clance_status cl_tj_syntax(cl_tj *j, size_t at, const char *fmt, ...) CL_PRINTF(3, 4);
/* Parse a JSON string at t[pos] == '"'; *s points into t or into scratch. */
clance_status cl_tj_string(cl_tj *j, const char **s, size_t *n);
/* Parse one JSON value at pos (after whitespace) and append it to `a`. */
clance_status cl_tj_value(cl_tj *j, cl_arr *a);
/* Parse a JSON object at pos ('{') whose keys are among fields[0..n) and
 * append one element to each builder (null for an absent key). `top`: the
 * fields are the table's columns (sets loc.column while parsing a value). */
clance_status cl_tj_object(cl_tj *j, const cl_field *fields, cl_arr *builders, size_t n,
                           int top);

/* ------------------------------------------------------------------------ */
/* Reader plumbing (textio_reader.c, input_jsonl.c, input_csv.c)              */
/* ------------------------------------------------------------------------ */

/* Buffered reading of physical lines. */
typedef struct cl_line_reader {
  FILE *fp;
  uint8_t *chunk;
  size_t chunk_len, chunk_pos;
  int eof;
} cl_line_reader;

/* Append the next physical line (with its '\n', if any) to `out`; *got = 0
 * at end of input. `max` bounds out->len. */
clance_status cl_line_read(cl_line_reader *lr, cl_buf *out, size_t max, int *got,
                           const cl_text_loc *loc, clance_error *err);

typedef struct cl_text_reader {
  cl_schema schema;
  char *source;
  FILE *fp;
  int close_fp;
  int format;
  uint64_t batch_rows;
  cl_line_reader lr;
  uint64_t line;      /* physical lines consumed so far */
  cl_arr *cols;       /* one builder per top-level field */
  cl_buf rec;         /* current line / record text */
  size_t bytes;       /* input bytes consumed by the current batch */
  int done, failed;
  clance_error error; /* sticky error of get_next */
  /* JSONL */
  cl_tj tj;
  /* CSV */
  size_t n_csv_cols;  /* fields per record (header width) */
  int *csv_map;       /* CSV field index -> schema field index */
  cl_buf cells;       /* unescaped text of the fields of the current record */
  cl_buf cellmeta;    /* struct cl_csv_cell per field of the current record */
} cl_text_reader;

/* Is `s` a stream made by cl_text_reader_open? */
int cl_text_stream_is_reader(const struct ArrowArrayStream *s);

/* Read one row into r->cols; *got = 0 at end of input. */
clance_status cl_jsonl_read_row(cl_text_reader *r, int *got, clance_error *err);
clance_status cl_csv_read_header(cl_text_reader *r, clance_error *err);
clance_status cl_csv_read_row(cl_text_reader *r, int *got, clance_error *err);
void cl_csv_free(cl_text_reader *r);

#endif
