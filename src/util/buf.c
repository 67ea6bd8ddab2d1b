#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

clance_status cl_buf_reserve(cl_buf *b, size_t extra, clance_error *err) {
  size_t need;
  if (__builtin_add_overflow(b->len, extra, &need))
    return cl_err(err, CLANCE_ENOMEM, "buffer size overflow");
  if (need <= b->cap)
    return CLANCE_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) {
    if (cap > SIZE_MAX / 2) {
      cap = need;
      break;
    }
    cap *= 2;
  }
  uint8_t *p = realloc(b->data, cap);
  if (!p)
    return cl_err_nomem(err, "buffer");
  b->data = p;
  b->cap = cap;
  return CLANCE_OK;
}

clance_status cl_buf_append(cl_buf *b, const void *src, size_t n, clance_error *err) {
  if (n == 0)
    return CLANCE_OK;
  CL_TRY(cl_buf_reserve(b, n, err));
  memcpy(b->data + b->len, src, n);
  b->len += n;
  return CLANCE_OK;
}

clance_status cl_buf_fill(cl_buf *b, uint8_t byte, size_t n, clance_error *err) {
  if (n == 0)
    return CLANCE_OK;
  CL_TRY(cl_buf_reserve(b, n, err));
  memset(b->data + b->len, byte, n);
  b->len += n;
  return CLANCE_OK;
}

clance_status cl_buf_pad(cl_buf *b, size_t align, uint8_t byte, clance_error *err) {
  size_t rem = b->len % align;
  return rem ? cl_buf_fill(b, byte, align - rem, err) : CLANCE_OK;
}

clance_status cl_buf_append_u16(cl_buf *b, uint16_t v, clance_error *err) {
  uint8_t t[2];
  cl_put16(t, v);
  return cl_buf_append(b, t, 2, err);
}

clance_status cl_buf_append_u32(cl_buf *b, uint32_t v, clance_error *err) {
  uint8_t t[4];
  cl_put32(t, v);
  return cl_buf_append(b, t, 4, err);
}

clance_status cl_buf_append_u64(cl_buf *b, uint64_t v, clance_error *err) {
  uint8_t t[8];
  cl_put64(t, v);
  return cl_buf_append(b, t, 8, err);
}

clance_status cl_buf_printf(cl_buf *b, clance_error *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return cl_err(err, CLANCE_EINTERNAL, "format error");
  CL_TRY(cl_buf_reserve(b, (size_t)n + 1, err));
  va_start(ap, fmt);
  vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return CLANCE_OK;
}

clance_status cl_buf_cstr(cl_buf *b, clance_error *err) {
  CL_TRY(cl_buf_reserve(b, 1, err));
  b->data[b->len] = '\0';
  return CLANCE_OK;
}

uint8_t *cl_buf_take(cl_buf *b) {
  uint8_t *p = b->data;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

void cl_buf_free(cl_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void *cl_malloc(size_t n, clance_error *err) {
  void *p = malloc(n ? n : 1);
  if (!p)
    cl_err_nomem(err, "malloc");
  return p;
}

void *cl_calloc(size_t count, size_t size, clance_error *err) {
  void *p = calloc(count ? count : 1, size ? size : 1);
  if (!p)
    cl_err_nomem(err, "calloc");
  return p;
}

char *cl_strdup(const char *s, clance_error *err) { return cl_strndup(s, strlen(s), err); }

char *cl_strndup(const char *s, size_t n, clance_error *err) {
  char *p = malloc(n + 1);
  if (!p) {
    cl_err_nomem(err, "string");
    return NULL;
  }
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void clance_free(void *ptr) { free(ptr); }
