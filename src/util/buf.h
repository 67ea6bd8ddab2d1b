/* A growable byte buffer: the one place most of clance's heap memory lives. */
#ifndef CL_UTIL_BUF_H
#define CL_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/error.h"

typedef struct cl_buf {
  uint8_t *data;
  size_t len;
  size_t cap;
} cl_buf;

#define CL_BUF_INIT {NULL, 0, 0}

clance_status cl_buf_reserve(cl_buf *b, size_t extra, clance_error *err);
clance_status cl_buf_append(cl_buf *b, const void *src, size_t n, clance_error *err);
clance_status cl_buf_fill(cl_buf *b, uint8_t byte, size_t n, clance_error *err);
/* Pad with `byte` until len is a multiple of `align`. */
clance_status cl_buf_pad(cl_buf *b, size_t align, uint8_t byte, clance_error *err);
clance_status cl_buf_append_u16(cl_buf *b, uint16_t v, clance_error *err);
clance_status cl_buf_append_u32(cl_buf *b, uint32_t v, clance_error *err);
clance_status cl_buf_append_u64(cl_buf *b, uint64_t v, clance_error *err);
clance_status cl_buf_printf(cl_buf *b, clance_error *err, const char *fmt, ...) CL_PRINTF(3, 4);
/* Ensure a trailing NUL after len (not counted in len). */
clance_status cl_buf_cstr(cl_buf *b, clance_error *err);
/* Hand the storage to the caller (who frees it with free()); b becomes empty. */
uint8_t *cl_buf_take(cl_buf *b);
void cl_buf_free(cl_buf *b);

static inline void cl_buf_reset(cl_buf *b) { b->len = 0; }

/* Little-endian load/store (the Lance formats are little-endian throughout). */
static inline uint16_t cl_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t cl_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t cl_le64(const uint8_t *p) {
  return (uint64_t)cl_le32(p) | ((uint64_t)cl_le32(p + 4) << 32);
}
static inline void cl_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void cl_put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void cl_put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Overflow-checked size arithmetic for untrusted sizes. */
static inline int cl_add_overflows(uint64_t a, uint64_t b, uint64_t *out) {
  return __builtin_add_overflow(a, b, out);
}
static inline int cl_mul_overflows(uint64_t a, uint64_t b, uint64_t *out) {
  return __builtin_mul_overflow(a, b, out);
}

/* Checked allocation helpers: set err on failure. */
void *cl_malloc(size_t n, clance_error *err);
void *cl_calloc(size_t count, size_t size, clance_error *err);
char *cl_strdup(const char *s, clance_error *err);
char *cl_strndup(const char *s, size_t n, clance_error *err);

#endif
