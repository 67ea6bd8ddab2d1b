/* Text input and output of the clance CLI: JSON Lines and CSV <-> Arrow batches.
 *
 * The row format is the CANONICAL ROW FORMAT shared with the interop tests
 * (tests/interop/README.md): one JSON object per line with the keys in schema
 * order; null -> null; bool -> true/false; every integer type -> exact integer;
 * float16/32/64 -> shortest decimal that round-trips in its own width, NaN /
 * +inf / -inf -> "NaN" / "Infinity" / "-Infinity"; utf8 -> JSON string;
 * binary, fixed_size_binary -> lowercase hex string; date32 -> days; date64 ->
 * ms; time32/64, timestamp, duration -> integer count of the unit (no time
 * zone conversion); decimal128/256 -> string such as "-12.345"; lists ->
 * arrays; struct -> object; dictionary (output only) -> the decoded value.
 *
 * Reading also accepts, for convenience: integers for float columns; ISO-8601
 * strings for date32/date64 ("2024-01-02") and timestamps
 * ("2024-01-02T03:04:05.123456Z", "2024-01-02 03:04:05+01:00", "2024-01-02";
 * an offset is subtracted to get UTC, no offset means UTC; sub-second digits
 * finer than the unit must be zeros); "HH:MM[:SS[.fff]]" for time32/64;
 * numbers for decimals; upper-case hex. Integers are exact literals only:
 * "1.0", "1e3" or "12" (a string) are errors for an int column.
 *
 * CSV: RFC 4180. The first record is a header naming every column of the
 * schema exactly once, in any order (columns are mapped by name). An empty
 * unquoted field is null; "" (quoted empty) is an empty string / binary. Bool
 * is true/false/1/0; binary is hex; list, vector and struct cells hold the
 * JSON text of the value ("[1.0,2.0]"). CRLF line endings are accepted; blank
 * lines are skipped unless the schema has a single column (where a blank line
 * is a null). A UTF-8 byte order mark before the header is ignored.
 *
 * Errors in the input name the file, the (physical) line number and the
 * column: "in.csv: line 7, column \"x\": 300 is out of range for int8".
 * Malformed text (bad JSON, unterminated quote, invalid UTF-8, wrong field
 * count) is CLANCE_ECORRUPT; values that do not fit the schema (bad number,
 * out of range, wrong vector length, unknown or missing column, null in a NOT
 * NULL column) are CLANCE_ESCHEMA.
 */
#ifndef CLANCE_TOOLS_TEXTIO_H
#define CLANCE_TOOLS_TEXTIO_H

#include <stdint.h>
#include <stdio.h>

#include "arrow/type.h"
#include "clance/clance.h"

enum { CL_TEXT_JSONL = 1, CL_TEXT_CSV = 2 };

/* "jsonl" / "ndjson" -> CL_TEXT_JSONL, "csv" -> CL_TEXT_CSV, else -1. */
int cl_text_format_from_name(const char *name);
const char *cl_text_format_name(int format);

/* Rows per batch when batch_rows is 0. A batch is also cut early once it has
 * consumed CL_TEXT_BATCH_BYTES of input, so 32-bit offsets never overflow. */
#define CL_TEXT_DEFAULT_BATCH_ROWS 65536
#define CL_TEXT_BATCH_BYTES ((size_t)128 << 20)
/* Longest accepted line (JSONL) or record (CSV, quoted newlines included). */
#define CL_TEXT_MAX_RECORD ((size_t)256 << 20)

/*
 * Open `path` ("-" = stdin) as a stream of struct batches of `schema` (which
 * is copied). Input is read one batch at a time. The CSV header is read and
 * checked here; everything else is reported by get_next (use
 * cl_text_reader_error() to get the status code and message). Dictionary and
 * other unsupported column types give CLANCE_EUNSUPPORTED here.
 */
clance_status cl_text_reader_open(const char *path, int format, const cl_schema *schema,
                                  uint64_t batch_rows, struct ArrowArrayStream *out,
                                  clance_error *err);
/* Same from an open FILE; `name` is used in messages; the FILE is fclose()d
 * by the stream's release when close_fp is non-zero (also on failure here). */
clance_status cl_text_reader_open_file(FILE *fp, const char *name, int close_fp, int format,
                                       const cl_schema *schema, uint64_t batch_rows,
                                       struct ArrowArrayStream *out, clance_error *err);
/* Status and message of the last failed get_next of a text reader stream
 * (CLANCE_OK if none; CLANCE_EINVAL if `s` is not a text reader). */
clance_status cl_text_reader_error(struct ArrowArrayStream *s, clance_error *err);

/*
 * Print the rows of one struct batch of `schema`. JSONL: canonical rows.
 * CSV: a header line first when print_header is set; then one record per row.
 * The batch (offsets, children offsets, validity with null_count -1) is
 * validated first. A write error on `out` is CLANCE_EIO.
 */
clance_status cl_text_write_batch(FILE *out, int format, const cl_schema *schema,
                                  const struct ArrowArray *batch, int print_header,
                                  clance_error *err);
/* Print a whole stream (CSV header once, even for an empty stream). Does not
 * release the stream. */
clance_status cl_text_write_stream(FILE *out, int format, struct ArrowArrayStream *stream,
                                   clance_error *err);

#endif
