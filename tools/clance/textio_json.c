/* A strict JSON (RFC 8259) value parser that appends straight into cl_arr
 * builders, guided by the field type: no DOM, number literals keep their text
 * (exact 64-bit integers, correctly rounded float32, exact decimals), and the
 * recursion depth is bounded by the schema. Used for JSONL rows and for the
 * list/struct cells of CSV. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "textio_internal.h"

void cl_tj_skip_ws(cl_tj *j) {
  while (j->pos < j->len) {
    char c = j->t[j->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      break;
    j->pos++;
  }
}

clance_status cl_tj_syntax(cl_tj *j, size_t at, const char *fmt, ...) {
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  size_t chars = 0;
  for (size_t i = 0; i < at && i < j->len; i++)
    if (((unsigned char)j->t[i] & 0xC0) != 0x80)
      chars++;
  cl_text_loc loc = j->loc;
  if (j->line_chars) {
    loc.chr = j->chr_base + chars + 1;
    return cl_text_err(&loc, j->err, CLANCE_ECORRUPT, "invalid JSON: %s", what);
  }
  return cl_text_err(&loc, j->err, CLANCE_ECORRUPT, "invalid JSON at char %zu of the cell: %s",
                     chars + 1, what);
}

static clance_status unexpected(cl_tj *j, const char *expected) {
  if (j->pos >= j->len)
    return cl_tj_syntax(j, j->pos, "unexpected end of text (%s)", expected);
  unsigned char c = (unsigned char)j->t[j->pos];
  if (c > 0x20 && c < 0x7F)
    return cl_tj_syntax(j, j->pos, "unexpected character '%c' (%s)", c, expected);
  return cl_tj_syntax(j, j->pos, "unexpected byte 0x%02X (%s)", c, expected);
}

/* ------------------------------------------------------------------------ */
/* Tokens                                                                     */
/* ------------------------------------------------------------------------ */

static int hex4(const cl_tj *j, size_t at, uint32_t *out) {
  if (at + 4 > j->len)
    return 0;
  uint32_t v = 0;
  for (size_t i = 0; i < 4; i++) {
    char c = j->t[at + i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (uint32_t)(c - 'A' + 10);
    else
      return 0;
  }
  *out = v;
  return 1;
}

/* The escape at t[*ip] == '\\', appended to scratch as UTF-8. */
static clance_status escape(cl_tj *j, size_t *ip) {
  size_t i = *ip;
  if (i + 1 >= j->len)
    return cl_tj_syntax(j, i, "unterminated string");
  char c = j->t[i + 1], one = 0;
  switch (c) {
  case '"': one = '"'; break;
  case '\\': one = '\\'; break;
  case '/': one = '/'; break;
  case 'b': one = '\b'; break;
  case 'f': one = '\f'; break;
  case 'n': one = '\n'; break;
  case 'r': one = '\r'; break;
  case 't': one = '\t'; break;
  case 'u': break;
  default: return cl_tj_syntax(j, i, "invalid escape '\\%c'", c > 0x20 && c < 0x7F ? c : '?');
  }
  if (c != 'u') {
    *ip = i + 2;
    return cl_buf_append(&j->scratch, &one, 1, j->err);
  }
  uint32_t cp, lo;
  if (!hex4(j, i + 2, &cp))
    return cl_tj_syntax(j, i, "invalid \\u escape");
  size_t next = i + 6;
  if (cp >= 0xDC00 && cp <= 0xDFFF)
    return cl_tj_syntax(j, i, "lone low surrogate in \\u escape");
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    if (next + 1 >= j->len || j->t[next] != '\\' || j->t[next + 1] != 'u' ||
        !hex4(j, next + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
      return cl_tj_syntax(j, i, "high surrogate not followed by a low surrogate");
    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    next += 6;
  }
  uint8_t u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (uint8_t)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (uint8_t)(0xC0 | cp >> 6);
    u[1] = (uint8_t)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (uint8_t)(0xE0 | cp >> 12);
    u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (uint8_t)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (uint8_t)(0xF0 | cp >> 18);
    u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (uint8_t)(0x80 | (cp & 0x3F));
    n = 4;
  }
  *ip = next;
  return cl_buf_append(&j->scratch, u, n, j->err);
}

/* Length of the run of plain string characters at t[i] (0 at '"', '\\' or
 * the end); *bad is set when it stops at a control byte or invalid UTF-8. */
static size_t plain_run(const cl_tj *j, size_t i, int *bad) {
  const uint8_t *p = (const uint8_t *)j->t;
  size_t start = i;
  *bad = 0;
  while (i < j->len) {
    uint8_t c = p[i];
    if (c == '"' || c == '\\')
      break;
    if (c < 0x20) {
      *bad = 1;
      break;
    }
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t k = cl_utf8_seq(p + i, j->len - i);
    if (!k) {
      *bad = 2;
      break;
    }
    i += k;
  }
  return i - start;
}

clance_status cl_tj_string(cl_tj *j, const char **s, size_t *n) {
  size_t open = j->pos, i = open + 1;
  int bad;
  size_t run = plain_run(j, i, &bad);
  i += run;
  if (!bad && i < j->len && j->t[i] == '"') { /* no escapes: point into the text */
    *s = j->t + open + 1;
    *n = run;
    j->pos = i + 1;
    return CLANCE_OK;
  }
  j->scratch.len = 0;
  CL_TRY(cl_buf_append(&j->scratch, j->t + open + 1, run, j->err));
  for (;;) {
    if (bad == 1)
      return cl_tj_syntax(j, i, "control character 0x%02X in a string (escape it)",
                          (unsigned char)j->t[i]);
    if (bad == 2)
      return cl_tj_syntax(j, i, "invalid UTF-8 in a string (byte 0x%02X)",
                          (unsigned char)j->t[i]);
    if (i >= j->len)
      return cl_tj_syntax(j, open, "unterminated string");
    if (j->t[i] == '"')
      break;
    CL_TRY(escape(j, &i)); /* t[i] == '\\' */
    run = plain_run(j, i, &bad);
    CL_TRY(cl_buf_append(&j->scratch, j->t + i, run, j->err));
    i += run;
  }
  j->pos = i + 1;
  /* Non-NULL even when empty, for callers that pass it on. */
  CL_TRY(cl_buf_reserve(&j->scratch, 1, j->err));
  *s = (const char *)j->scratch.data;
  *n = j->scratch.len;
  return CLANCE_OK;
}

static int is_digit(const cl_tj *j, size_t at) {
  return at < j->len && j->t[at] >= '0' && j->t[at] <= '9';
}

/* A JSON number at pos: its span. */
static clance_status number(cl_tj *j, size_t *start, size_t *end) {
  size_t i = j->pos;
  *start = i;
  if (j->t[i] == '-')
    i++;
  if (!is_digit(j, i)) {
    j->pos = i;
    return unexpected(j, "expected a digit");
  }
  if (j->t[i] == '0') {
    i++;
    if (is_digit(j, i))
      return cl_tj_syntax(j, i, "leading zeros are not allowed in numbers");
  } else {
    while (is_digit(j, i))
      i++;
  }
  if (i < j->len && j->t[i] == '.') {
    i++;
    if (!is_digit(j, i))
      return cl_tj_syntax(j, i, "expected a digit after the decimal point");
    while (is_digit(j, i))
      i++;
  }
  if (i < j->len && (j->t[i] == 'e' || j->t[i] == 'E')) {
    i++;
    if (i < j->len && (j->t[i] == '+' || j->t[i] == '-'))
      i++;
    if (!is_digit(j, i))
      return cl_tj_syntax(j, i, "expected a digit in the exponent");
    while (is_digit(j, i))
      i++;
  }
  *end = j->pos = i;
  return CLANCE_OK;
}

static int word(cl_tj *j, const char *w) {
  size_t n = strlen(w);
  if (j->len - j->pos < n || memcmp(j->t + j->pos, w, n) != 0)
    return 0;
  j->pos += n;
  return 1;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                     */
/* ------------------------------------------------------------------------ */

static int is_list(cl_type_id t) {
  return t == CL_TYPE_FIXED_SIZE_LIST || t == CL_TYPE_LIST || t == CL_TYPE_LARGE_LIST;
}

static clance_status mismatch(cl_tj *j, const cl_field *f, const char *got) {
  cl_buf b = CL_BUF_INIT;
  clance_error e;
  const char *t = cl_type_name(f->type);
  if (cl_field_type_spec(f, &b, &e) == CLANCE_OK && cl_buf_cstr(&b, &e) == CLANCE_OK) {
    if (b.len && b.data[b.len - 1] == '!')
      b.data[--b.len] = '\0';
    t = (const char *)b.data;
  }
  clance_status st = cl_text_err(&j->loc, j->err, CLANCE_ESCHEMA, "expected %s, got %s", t, got);
  cl_buf_free(&b);
  return st;
}

static clance_status array(cl_tj *j, cl_arr *a) {
  const cl_field *f = a->field;
  cl_arr *c = &a->children[0];
  int64_t count = 0;
  j->pos++; /* '[' */
  cl_tj_skip_ws(j);
  if (j->pos < j->len && j->t[j->pos] == ']') {
    j->pos++;
  } else {
    for (;;) {
      CL_TRY(cl_tj_value(j, c));
      count++;
      cl_tj_skip_ws(j);
      if (j->pos < j->len && j->t[j->pos] == ',') {
        j->pos++;
        continue;
      }
      if (j->pos < j->len && j->t[j->pos] == ']') {
        j->pos++;
        break;
      }
      return unexpected(j, "expected ',' or ']'");
    }
  }
  if (f->type == CL_TYPE_FIXED_SIZE_LIST) {
    if (count != f->size)
      return cl_text_err(&j->loc, j->err, CLANCE_ESCHEMA, "expected %d items, got %lld",
                         (int)f->size, (long long)count);
  } else {
    CL_TRY(cl_arr_push_offset(a, (uint64_t)c->length, j->err));
  }
  return cl_arr_append_valid(a, 1, j->err);
}

clance_status cl_tj_value(cl_tj *j, cl_arr *a) {
  const cl_field *f = a->field;
  cl_tj_skip_ws(j);
  if (j->pos >= j->len)
    return unexpected(j, "expected a value");
  char c = j->t[j->pos];
  switch (c) {
  case 'n':
    if (!word(j, "null"))
      return unexpected(j, "expected a value");
    return cl_text_append_null(a, &j->loc, j->err);
  case 't':
  case 'f': {
    int v = c == 't';
    if (!word(j, v ? "true" : "false"))
      return unexpected(j, "expected a value");
    if (f->type != CL_TYPE_BOOL)
      return mismatch(j, f, v ? "true" : "false");
    return cl_text_append_bool(a, v, j->err);
  }
  case '"': {
    const char *s;
    size_t n;
    CL_TRY(cl_tj_string(j, &s, &n));
    if (is_list(f->type) || f->type == CL_TYPE_STRUCT)
      return mismatch(j, f, "a string");
    return cl_text_append_scalar(a, s, n, CL_TK_STRING, &j->loc, j->err);
  }
  case '[':
    if (!is_list(f->type))
      return mismatch(j, f, "an array");
    return array(j, a);
  case '{':
    if (f->type != CL_TYPE_STRUCT)
      return mismatch(j, f, "an object");
    CL_TRY(cl_tj_object(j, f->children, a->children, f->n_children, 0));
    return cl_arr_append_valid(a, 1, j->err);
  default:
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t s0 = 0, s1 = 0;
      CL_TRY(number(j, &s0, &s1));
      if (is_list(f->type) || f->type == CL_TYPE_STRUCT || f->type == CL_TYPE_BOOL) {
        char got[64];
        snprintf(got, sizeof got, "%.*s%s", (int)(s1 - s0 > 40 ? 40 : s1 - s0), j->t + s0,
                 s1 - s0 > 40 ? "..." : "");
        return mismatch(j, f, got);
      }
      return cl_text_append_scalar(a, j->t + s0, s1 - s0, CL_TK_NUMBER, &j->loc, j->err);
    }
    return unexpected(j, "expected a value");
  }
}

static long find_field(const cl_field *fields, size_t n, size_t hint, const char *k, size_t kn) {
  for (size_t step = 0; step < n; step++) {
    size_t i = (hint + step) % n;
    const char *name = fields[i].name ? fields[i].name : "";
    if (strlen(name) == kn && memcmp(name, k, kn) == 0)
      return (long)i;
  }
  return -1;
}

clance_status cl_tj_object(cl_tj *j, const cl_field *fields, cl_arr *builders, size_t n,
                           int top) {
  uint8_t stack_seen[64];
  uint8_t *seen = stack_seen;
  size_t seen_bytes = (n + 7) / 8;
  clance_status st = CLANCE_OK;
  if (seen_bytes > sizeof stack_seen && !(seen = cl_calloc(seen_bytes, 1, j->err)))
    return j->err->code;
  memset(seen, 0, seen_bytes > sizeof stack_seen ? seen_bytes : sizeof stack_seen);
  const char *outer_column = j->loc.column;
  size_t hint = 0;
  j->pos++; /* '{' */
  cl_tj_skip_ws(j);
  if (j->pos < j->len && j->t[j->pos] == '}') {
    j->pos++;
  } else {
    for (;;) {
      cl_tj_skip_ws(j);
      if (j->pos >= j->len || j->t[j->pos] != '"') {
        st = unexpected(j, "expected a key string");
        goto done;
      }
      size_t key_at = j->pos;
      const char *k;
      size_t kn;
      CL_CHECK(st, cl_tj_string(j, &k, &kn));
      long idx = n ? find_field(fields, n, hint, k, kn) : -1;
      if (idx < 0) {
        char shown[128];
        size_t m = kn > 100 ? 100 : kn;
        while (m < kn && m > 0 && ((unsigned char)k[m] & 0xC0) == 0x80)
          m--;
        snprintf(shown, sizeof shown, "%.*s%s", (int)m, k, m < kn ? "..." : "");
        if (top) {
          cl_text_loc loc = j->loc;
          loc.column = NULL;
          st = cl_text_err(&loc, j->err, CLANCE_ESCHEMA, "unknown column \"%s\"", shown);
        } else {
          st = cl_text_err(&j->loc, j->err, CLANCE_ESCHEMA, "unknown struct field \"%s\"", shown);
        }
        goto done;
      }
      if (cl_bit_get(seen, idx)) {
        st = cl_tj_syntax(j, key_at, "duplicate key \"%s\"", fields[idx].name);
        goto done;
      }
      cl_bit_set(seen, idx);
      hint = (size_t)idx + 1;
      cl_tj_skip_ws(j);
      if (j->pos >= j->len || j->t[j->pos] != ':') {
        st = unexpected(j, "expected ':'");
        goto done;
      }
      j->pos++;
      if (top)
        j->loc.column = fields[idx].name;
      st = cl_tj_value(j, &builders[idx]);
      j->loc.column = outer_column;
      if (st)
        goto done;
      cl_tj_skip_ws(j);
      if (j->pos < j->len && j->t[j->pos] == ',') {
        j->pos++;
        continue;
      }
      if (j->pos < j->len && j->t[j->pos] == '}') {
        j->pos++;
        break;
      }
      st = unexpected(j, "expected ',' or '}'");
      goto done;
    }
  }
  for (size_t i = 0; i < n; i++) {
    if (cl_bit_get(seen, (int64_t)i))
      continue;
    if (!fields[i].nullable) {
      cl_text_loc loc = j->loc;
      if (top)
        loc.column = fields[i].name;
      st = top ? cl_text_err(&loc, j->err, CLANCE_ESCHEMA, "missing value for NOT NULL column")
               : cl_text_err(&loc, j->err, CLANCE_ESCHEMA,
                             "missing value for NOT NULL struct field \"%s\"", fields[i].name);
      goto done;
    }
    CL_CHECK(st, cl_arr_append_nulls(&builders[i], 1, j->err));
  }
done:
fail:
  if (seen != stack_seen)
    free(seen);
  return st;
}
