/* A small strict JSON parser (read-only DOM) and JSON writing helpers.
 *
 * Why not jansson: its integers are int64_t, but Lance FragmentMetadata JSON
 * carries random u64 ids up to 2^64-1 that must round-trip exactly. Here an
 * integer literal keeps its exact value whenever it fits int64 or uint64.
 *
 * The DOM is built only by cl_json_parse() and is immutable afterwards; one
 * cl_json_free() on the root releases everything, and every pointer obtained
 * from the accessors lives exactly as long as the root. */
#ifndef CL_UTIL_JSON_H
#define CL_UTIL_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

/* Arrays and objects may nest this deep; deeper input is rejected (the parser
 * recurses, and no Lance document comes close). */
#define CL_JSON_MAX_DEPTH 256

typedef enum cl_json_type {
  CL_JSON_NULL,
  CL_JSON_BOOL,
  /* An integer literal (no fraction, no exponent) within int64 or uint64. */
  CL_JSON_INT,
  /* Any other number (fraction, exponent, or an integer too large). */
  CL_JSON_REAL,
  CL_JSON_STRING,
  CL_JSON_ARRAY,
  CL_JSON_OBJECT
} cl_json_type;

typedef struct cl_json cl_json;

/*
 * Parse exactly one JSON value (RFC 8259, strict) from text[0..len); the text
 * need not be NUL-terminated. Surrounding whitespace is allowed. Strings must be
 * valid UTF-8; lone surrogate escapes, raw control characters, duplicate object
 * keys, nesting deeper than CL_JSON_MAX_DEPTH and numbers beyond the range of a
 * double are rejected. On malformed input returns CLANCE_ECORRUPT with the
 * message "<source>: line L, column C: <problem>" (source NULL -> "JSON");
 * columns count characters from 1. *out is NULL on failure.
 */
clance_status cl_json_parse(const char *text, size_t len, const char *source, cl_json **out,
                            clance_error *err);
void cl_json_free(cl_json *j);

/* Accessors. All accept NULL, so lookups can be chained:
 * cl_json_u64(cl_json_get(obj, "id"), &id) is simply 0 when "id" is absent. */

/* A NULL pointer reports CL_JSON_NULL: an absent member reads like null. */
cl_json_type cl_json_typeof(const cl_json *j);
/* "null", "boolean", "integer", "number", "string", "array", "object". */
const char *cl_json_type_name(cl_json_type t);
/* Number of array items or object members; 0 for anything else. */
size_t cl_json_len(const cl_json *j);
/* Item i of an array; NULL if not an array or out of range. */
const cl_json *cl_json_at(const cl_json *arr, size_t i);
/* Member named `key` of an object; NULL if absent or not an object. */
const cl_json *cl_json_get(const cl_json *obj, const char *key);
/* Key / value of member i (document order); NULL if out of range. A key that
 * contains "\u0000" is truncated there by this accessor. */
const char *cl_json_key(const cl_json *obj, size_t i);
const cl_json *cl_json_value(const cl_json *obj, size_t i);

/* Typed reads: return 1 and set *out on success, 0 (leaving *out) otherwise. */
int cl_json_bool(const cl_json *j, int *out);
/* An INT that is >= 0. */
int cl_json_u64(const cl_json *j, uint64_t *out);
/* An INT within int64. */
int cl_json_i64(const cl_json *j, int64_t *out);
/* An INT (possibly rounded) or a REAL. */
int cl_json_double(const cl_json *j, double *out);
/* The NUL-terminated string (owned by the DOM) or NULL if not a string; *len
 * (if len is non-NULL) gets its length, which counts any embedded NUL. */
const char *cl_json_string(const cl_json *j, size_t *len);

/* Writing. Each appends to `b`; on failure b->len is as it was. */

/* A quoted string. Escapes '"', '\\', and control characters (\n \r \t \b \f,
 * others as \u00XX); valid UTF-8 is copied as is. Invalid UTF-8 -> EINVAL. */
clance_status cl_json_write_string(cl_buf *b, const char *s, size_t len, clance_error *err);
clance_status cl_json_write_u64(cl_buf *b, uint64_t v, clance_error *err);
clance_status cl_json_write_i64(cl_buf *b, int64_t v, clance_error *err);
/*
 * The shortest decimal that reads back as the same double, laid out like
 * Python's repr(): "0.1", "100.0", "-0.0", "1e+16", "5e-324" (fixed notation
 * for exponents -4..15, always with a '.' so it reads back as a REAL).
 * NaN and infinities have no JSON form: EINVAL, callers decide what to write.
 */
clance_status cl_json_write_double(cl_buf *b, double v, clance_error *err);
/* Same for a float: the shortest decimal that reads back as the same float
 * ("0.1" for 0.1f rather than "0.10000000149011612"). */
clance_status cl_json_write_float(cl_buf *b, float v, clance_error *err);
/* Compact serialisation of a parsed document (members in document order).
 * Dumping a document parsed from a dump reproduces that dump exactly. */
clance_status cl_json_dump(const cl_json *j, cl_buf *b, clance_error *err);

/* strtod (or strtof when as_float) of number text s[0..n) in C syntax ('.'
 * as the decimal point whatever the locale), which need not be
 * NUL-terminated and must already be valid. Returns 0, or -1 if out of
 * memory. */
int cl_strtod_c(const char *s, size_t n, int as_float, double *out);

#endif
