/* clance's in-memory schema: a tree of typed fields. It is the hub between
 * Arrow format strings (C Data Interface), Lance logical type strings
 * (manifests and file descriptors) and the compact CLI spec language. */
#ifndef CL_ARROW_TYPE_H
#define CL_ARROW_TYPE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

typedef enum cl_type_id {
  CL_TYPE_NULL = 0,
  CL_TYPE_BOOL,
  CL_TYPE_INT8,
  CL_TYPE_UINT8,
  CL_TYPE_INT16,
  CL_TYPE_UINT16,
  CL_TYPE_INT32,
  CL_TYPE_UINT32,
  CL_TYPE_INT64,
  CL_TYPE_UINT64,
  CL_TYPE_FLOAT16,
  CL_TYPE_FLOAT32,
  CL_TYPE_FLOAT64,
  CL_TYPE_DECIMAL128,
  CL_TYPE_DECIMAL256,
  CL_TYPE_DATE32,
  CL_TYPE_DATE64,
  CL_TYPE_TIME32,
  CL_TYPE_TIME64,
  CL_TYPE_TIMESTAMP,
  CL_TYPE_DURATION,
  CL_TYPE_FIXED_SIZE_BINARY,
  CL_TYPE_UTF8,
  CL_TYPE_LARGE_UTF8,
  CL_TYPE_BINARY,
  CL_TYPE_LARGE_BINARY,
  CL_TYPE_FIXED_SIZE_LIST,
  CL_TYPE_LIST,
  CL_TYPE_LARGE_LIST,
  CL_TYPE_STRUCT,
  CL_TYPE_DICTIONARY
} cl_type_id;

/* Arrow/Lance key-value metadata; values are bytes (usually UTF-8). */
typedef struct cl_kv {
  char *key;
  uint8_t *value;
  size_t value_len;
} cl_kv;

typedef struct cl_meta {
  size_t n;
  cl_kv *items;
} cl_meta;

typedef struct cl_field {
  char *name;
  cl_type_id type;
  int nullable;
  int32_t id;            /* Lance field id; -1 while unassigned */
  int32_t size;          /* fixed_size_list length, fixed_size_binary width, decimal precision */
  int32_t scale;         /* decimal scale */
  char unit;             /* 's', 'm' (milli), 'u', 'n' for time32/64, timestamp, duration */
  char *tz;              /* timestamp time zone; NULL when absent */
  cl_type_id index_type; /* dictionary key type */
  size_t n_children;     /* list/FSL: 1 item; struct: members; dictionary: 1 value type */
  struct cl_field *children;
  cl_meta metadata;
} cl_field;

typedef struct cl_schema {
  size_t n_fields;
  cl_field *fields;
  cl_meta metadata;
} cl_schema;

void cl_meta_free(cl_meta *m);
clance_status cl_meta_copy(const cl_meta *src, cl_meta *dst, clance_error *err);
clance_status cl_meta_set(cl_meta *m, const char *key, const void *value, size_t len,
                          clance_error *err);
/* Value of `key` as a NUL-terminated string in `out` (truncated), or NULL. */
const char *cl_meta_get(const cl_meta *m, const char *key, char *out, size_t out_size);
/* Arrow C metadata blob (int32 count, then length-prefixed keys/values). */
clance_status cl_meta_from_arrow(const char *blob, cl_meta *out, clance_error *err);
clance_status cl_meta_to_arrow(const cl_meta *m, char **out_blob, clance_error *err);

void cl_field_free(cl_field *f);
clance_status cl_field_copy(const cl_field *src, cl_field *dst, clance_error *err);
void cl_schema_free(cl_schema *s);
clance_status cl_schema_copy(const cl_schema *src, cl_schema *dst, clance_error *err);

/* Arrow C Data Interface conversion. The schema is a struct ("+s"). */
clance_status cl_schema_from_arrow(const struct ArrowSchema *s, cl_schema *out, clance_error *err);
clance_status cl_field_from_arrow(const struct ArrowSchema *s, cl_field *out, clance_error *err);
clance_status cl_schema_to_arrow(const cl_schema *s, struct ArrowSchema *out, clance_error *err);
clance_status cl_field_to_arrow(const cl_field *f, struct ArrowSchema *out, clance_error *err);

/* Lance logical type strings ("int32", "fixed_size_list:float:128", ...). */
clance_status cl_field_logical_type(const cl_field *f, cl_buf *out, clance_error *err);
/* Set f's type (and params, and FSL/dictionary children) from a logical type;
 * list/struct children are added by the caller from the flattened field list. */
clance_status cl_field_set_logical_type(cl_field *f, const char *logical_type, clance_error *err);

/* Compact spec language of the CLI: "a:int32,b:string,v:vector(float32,128)". */
clance_status cl_schema_parse_spec(const char *spec, cl_schema *out, clance_error *err);
/* Type in spec language, e.g. "int32", "timestamp(us,UTC)", "vector(float32,8)". */
clance_status cl_field_type_spec(const cl_field *f, cl_buf *out, clance_error *err);

/* Pre-order field ids starting at *next (ids of every node, nested included). */
void cl_schema_assign_ids(cl_schema *s, int32_t *next);
int32_t cl_schema_max_id(const cl_schema *s);
/* Field with this Lance id anywhere in the tree, or NULL. */
const cl_field *cl_schema_find_id(const cl_schema *s, int32_t id);
/* Top-level field index by name, or -1. */
int cl_schema_index(const cl_schema *s, const char *name);

/* Same type (and parameters, recursively; names of nested children are not
 * compared). On mismatch writes a description into why (may be NULL). */
int cl_field_same_type(const cl_field *a, const cl_field *b, char *why, size_t why_size);

/* Is f a struct that Lance stores as one packed column ("packed struct"):
 * a struct with children whose metadata has "packed" or
 * "lance-encoding:packed" set to "true" (any case)? Such a struct is a leaf
 * for the file layout: the struct's own field id has the column. */
int cl_field_is_packed(const cl_field *f);

/* Bits per value of a fixed-width type (bool 1, FSL dim*item, FSB 8*width);
 * 0 for variable-width and nested types. */
uint32_t cl_type_bits(const cl_field *f);
int cl_type_is_binary_like(cl_type_id t); /* utf8/binary, regular or large */
int cl_type_is_large(cl_type_id t);       /* 64-bit offsets */
int cl_type_is_integer(cl_type_id t);
const char *cl_type_name(cl_type_id t);

#endif
