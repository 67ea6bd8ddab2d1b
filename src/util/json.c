#include "util/json.h"

#include <inttypes.h>
#include <locale.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cl_json_member cl_json_member;

struct cl_json {
  cl_json_type type;
  int neg;  /* INT: the value is -mag (never set for 0) */
  size_t n; /* STRING: byte length; ARRAY / OBJECT: item count */
  union {
    int b;
    uint64_t mag; /* INT magnitude: covers both int64 and uint64 exactly */
    double d;
    char *s; /* NUL-terminated, may also contain NULs */
    cl_json *items;
    cl_json_member *members;
  } u;
};

struct cl_json_member {
  char *key;
  size_t klen;
  size_t pos; /* offset of the key in the text, to report duplicates */
  cl_json val;
};

/* ------------------------------------------------------------------------- */
/* Shared helpers                                                             */
/* ------------------------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at p[0..n), or 0 if there is none.
 * Follows Unicode table 3-7, so overlong forms, surrogates (ED A0..BF) and
 * code points above U+10FFFF are all rejected. */
static size_t utf8_seq(const uint8_t *p, size_t n) {
  uint8_t c = p[0], lo = 0x80, hi = 0xBF;
  size_t len;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len || p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < len; i++)
    if ((p[i] & 0xC0) != 0x80)
      return 0;
  return len;
}

/* printf and strtod use the locale's decimal point, JSON always uses '.'; a
 * host application may well have called setlocale(LC_ALL, ""). */
static const char *locale_point(void) {
  const char *dp = localeconv()->decimal_point;
  return dp && *dp ? dp : ".";
}

int cl_strtod_c(const char *s, size_t n, int as_float, double *out) {
  const char *dp = locale_point();
  size_t dplen = strlen(dp);
  char stack[128];
  size_t need = n + dplen + 1;
  char *buf = need <= sizeof stack ? stack : malloc(need);
  if (!buf)
    return -1;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '.') {
      memcpy(buf + k, dp, dplen);
      k += dplen;
    } else {
      buf[k++] = s[i];
    }
  }
  buf[k] = '\0';
  *out = as_float ? (double)strtof(buf, NULL) : strtod(buf, NULL);
  if (buf != stack)
    free(buf);
  return 0;
}

/* snprintf "%.*e" with '.' whatever the locale. */
static void c_format(char *out, size_t cap, int prec, double v) {
  snprintf(out, cap, "%.*e", prec, v);
  const char *dp = locale_point();
  char *at = strcmp(dp, ".") ? strstr(out, dp) : NULL;
  if (at) {
    size_t dplen = strlen(dp);
    *at = '.';
    memmove(at + 1, at + dplen, strlen(at + dplen) + 1);
  }
}

/* Make room for one more elem-sized item after items[0..n). Returns the
 * (possibly moved) array, or NULL if out of memory (items is still valid). */
static void *grow(void *items, size_t n, size_t *cap, size_t elem) {
  if (n < *cap)
    return items;
  size_t ncap = *cap ? *cap * 2 : 4;
  if (ncap > SIZE_MAX / elem)
    return NULL;
  void *p = realloc(items, ncap * elem);
  if (p)
    *cap = ncap;
  return p;
}

static void free_value(cl_json *j) {
  switch (j->type) {
  case CL_JSON_STRING:
    free(j->u.s);
    break;
  case CL_JSON_ARRAY:
    for (size_t i = 0; i < j->n; i++)
      free_value(&j->u.items[i]);
    free(j->u.items);
    break;
  case CL_JSON_OBJECT:
    for (size_t i = 0; i < j->n; i++) {
      free(j->u.members[i].key);
      free_value(&j->u.members[i].val);
    }
    free(j->u.members);
    break;
  default:
    break;
  }
  memset(j, 0, sizeof *j);
}

void cl_json_free(cl_json *j) {
  if (!j)
    return;
  free_value(j);
  free(j);
}

/* ------------------------------------------------------------------------- */
/* Parser                                                                     */
/* ------------------------------------------------------------------------- */

typedef struct parser {
  const uint8_t *t;
  size_t len, pos;
  const char *source;
  clance_error *err;
  cl_buf scratch; /* decoded bytes of the string being parsed */
} parser;

static clance_status perr(parser *ps, size_t at, const char *fmt, ...) CL_PRINTF(3, 4);

/* Line and column are only needed on error, so they are counted here rather
 * than tracked while parsing. Columns count characters (UTF-8 lead bytes). */
static clance_status perr(parser *ps, size_t at, const char *fmt, ...) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < at && i < ps->len; i++) {
    if (ps->t[i] == '\n') {
      line++;
      col = 1;
    } else if ((ps->t[i] & 0xC0) != 0x80) {
      col++;
    }
  }
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return cl_err(ps->err, CLANCE_ECORRUPT, "%s: line %zu, column %zu: %s",
                ps->source ? ps->source : "JSON", line, col, what);
}

static clance_status nomem(parser *ps) { return cl_err_nomem(ps->err, "JSON document"); }

/* Report whatever is at the current position as unexpected. */
static clance_status unexpected(parser *ps, const char *expected) {
  if (ps->pos >= ps->len)
    return perr(ps, ps->pos, "unexpected end of input (%s)", expected);
  uint8_t c = ps->t[ps->pos];
  if (c > 0x20 && c < 0x7F)
    return perr(ps, ps->pos, "unexpected character '%c' (%s)", c, expected);
  return perr(ps, ps->pos, "unexpected byte 0x%02X (%s)", c, expected);
}

static void skip_ws(parser *ps) {
  while (ps->pos < ps->len) {
    uint8_t c = ps->t[ps->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      break;
    ps->pos++;
  }
}

static int hex4(const parser *ps, size_t at, uint32_t *out) {
  if (at > ps->len || ps->len - at < 4)
    return 0;
  uint32_t v = 0;
  for (size_t i = at; i < at + 4; i++) {
    uint8_t c = ps->t[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return 0;
    v = v << 4 | (uint32_t)d;
  }
  *out = v;
  return 1;
}

/* Decode the escape sequence at *ip (a backslash) into ps->scratch. */
static clance_status parse_escape(parser *ps, size_t *ip) {
  size_t i = *ip;
  if (ps->len - i < 2)
    return perr(ps, i, "unterminated string");
  uint8_t e = ps->t[i + 1], out[4];
  size_t n = 1;
  switch (e) {
  case '"': case '\\': case '/': out[0] = e; break;
  case 'b': out[0] = '\b'; break;
  case 'f': out[0] = '\f'; break;
  case 'n': out[0] = '\n'; break;
  case 'r': out[0] = '\r'; break;
  case 't': out[0] = '\t'; break;
  case 'u': {
    uint32_t cp, lo;
    if (!hex4(ps, i + 2, &cp))
      return perr(ps, i, "invalid \\u escape (expected 4 hex digits)");
    size_t end = i + 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      /* A high surrogate is only valid as the first half of a pair. */
      if (end + 1 < ps->len && ps->t[end] == '\\' && ps->t[end + 1] == 'u' &&
          hex4(ps, end + 2, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        end += 6;
      } else {
        return perr(ps, i, "unpaired surrogate \\u%04X", (unsigned)cp);
      }
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return perr(ps, i, "unpaired surrogate \\u%04X", (unsigned)cp);
    }
    if (cp < 0x80) {
      out[0] = (uint8_t)cp;
    } else if (cp < 0x800) {
      out[0] = (uint8_t)(0xC0 | cp >> 6);
      out[1] = (uint8_t)(0x80 | (cp & 0x3F));
      n = 2;
    } else if (cp < 0x10000) {
      out[0] = (uint8_t)(0xE0 | cp >> 12);
      out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
      out[2] = (uint8_t)(0x80 | (cp & 0x3F));
      n = 3;
    } else {
      out[0] = (uint8_t)(0xF0 | cp >> 18);
      out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
      out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
      out[3] = (uint8_t)(0x80 | (cp & 0x3F));
      n = 4;
    }
    *ip = end;
    return cl_buf_append(&ps->scratch, out, n, ps->err);
  }
  default:
    if (e > 0x20 && e < 0x7F)
      return perr(ps, i, "invalid escape sequence '\\%c'", e);
    return perr(ps, i, "invalid escape sequence (byte 0x%02X after '\\')", e);
  }
  *ip = i + 2;
  return cl_buf_append(&ps->scratch, out, 1, ps->err);
}

/* Parse the string starting at ps->pos (a '"') into a fresh allocation. */
static clance_status parse_string(parser *ps, char **out, size_t *out_len) {
  const uint8_t *t = ps->t;
  size_t start = ps->pos, i = start + 1;
  cl_buf_reset(&ps->scratch);
  for (;;) {
    /* Copy plain ASCII in runs; stop at anything that needs a look. */
    size_t run = i;
    while (run < ps->len && t[run] >= 0x20 && t[run] < 0x80 && t[run] != '"' && t[run] != '\\')
      run++;
    CL_TRY(cl_buf_append(&ps->scratch, t + i, run - i, ps->err));
    i = run;
    if (i >= ps->len)
      return perr(ps, start, "unterminated string");
    uint8_t c = t[i];
    if (c == '"')
      break;
    if (c == '\\') {
      CL_TRY(parse_escape(ps, &i));
    } else if (c < 0x20) {
      return perr(ps, i, "raw control character 0x%02X in string (must be escaped)", c);
    } else {
      size_t n = utf8_seq(t + i, ps->len - i);
      if (!n)
        return perr(ps, i, "invalid UTF-8 in string");
      CL_TRY(cl_buf_append(&ps->scratch, t + i, n, ps->err));
      i += n;
    }
  }
  char *s = malloc(ps->scratch.len + 1);
  if (!s)
    return nomem(ps);
  if (ps->scratch.len)
    memcpy(s, ps->scratch.data, ps->scratch.len);
  s[ps->scratch.len] = '\0';
  *out = s;
  *out_len = ps->scratch.len;
  ps->pos = i + 1;
  return CLANCE_OK;
}

static int is_digit(parser *ps, size_t at) {
  return at < ps->len && ps->t[at] >= '0' && ps->t[at] <= '9';
}

static clance_status parse_number(parser *ps, cl_json *out) {
  size_t start = ps->pos, i = start;
  int neg = 0, integral = 1;
  if (ps->t[i] == '-') {
    neg = 1;
    i++;
  }
  if (!is_digit(ps, i)) {
    ps->pos = i;
    return unexpected(ps, "expected a digit");
  }
  if (ps->t[i] == '0') {
    i++;
    if (is_digit(ps, i))
      return perr(ps, i, "leading zeros are not allowed in numbers");
  } else {
    while (is_digit(ps, i))
      i++;
  }
  size_t int_end = i;
  if (i < ps->len && ps->t[i] == '.') {
    integral = 0;
    i++;
    if (!is_digit(ps, i))
      return perr(ps, i, "expected a digit after the decimal point");
    while (is_digit(ps, i))
      i++;
  }
  if (i < ps->len && (ps->t[i] == 'e' || ps->t[i] == 'E')) {
    integral = 0;
    i++;
    if (i < ps->len && (ps->t[i] == '+' || ps->t[i] == '-'))
      i++;
    if (!is_digit(ps, i))
      return perr(ps, i, "expected a digit in the exponent");
    while (is_digit(ps, i))
      i++;
  }
  if (integral) {
    /* Exact when it fits uint64 (positive) or int64 (negative). */
    uint64_t mag = 0;
    int fits = 1;
    for (size_t k = start + (size_t)neg; k < int_end && fits; k++) {
      unsigned d = (unsigned)(ps->t[k] - '0');
      if (mag > (UINT64_MAX - d) / 10)
        fits = 0;
      else
        mag = mag * 10 + d;
    }
    if (fits && (!neg || mag <= (uint64_t)1 << 63)) {
      out->type = CL_JSON_INT;
      out->neg = neg && mag != 0; /* "-0" is just 0 */
      out->u.mag = mag;
      ps->pos = i;
      return CLANCE_OK;
    }
  }
  double d;
  if (cl_strtod_c((const char *)ps->t + start, i - start, 0, &d))
    return nomem(ps);
  /* A number no double can hold could not be written back out. */
  if (!isfinite(d))
    return perr(ps, start, "number out of range");
  out->type = CL_JSON_REAL;
  out->u.d = d;
  ps->pos = i;
  return CLANCE_OK;
}

static clance_status parse_value(parser *ps, cl_json *out, int depth);

static clance_status parse_array(parser *ps, cl_json *out, int depth) {
  clance_status st;
  size_t cap = 0;
  out->type = CL_JSON_ARRAY;
  ps->pos++; /* '[' */
  skip_ws(ps);
  if (ps->pos < ps->len && ps->t[ps->pos] == ']') {
    ps->pos++;
    return CLANCE_OK;
  }
  for (;;) {
    cl_json *items = grow(out->u.items, out->n, &cap, sizeof *items);
    if (!items) {
      st = nomem(ps);
      goto fail;
    }
    out->u.items = items;
    CL_CHECK(st, parse_value(ps, &out->u.items[out->n], depth + 1));
    out->n++;
    skip_ws(ps);
    if (ps->pos < ps->len && ps->t[ps->pos] == ',') {
      ps->pos++;
    } else if (ps->pos < ps->len && ps->t[ps->pos] == ']') {
      ps->pos++;
      return CLANCE_OK;
    } else {
      st = unexpected(ps, "expected ',' or ']'");
      goto fail;
    }
  }
fail:
  free_value(out);
  return st;
}

static int member_cmp(const void *a, const void *b) {
  const cl_json_member *x = *(const cl_json_member *const *)a;
  const cl_json_member *y = *(const cl_json_member *const *)b;
  int c = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);
  if (c)
    return c;
  if (x->klen != y->klen)
    return x->klen < y->klen ? -1 : 1;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Sorting makes duplicates adjacent without quadratic cost on hostile input.
 * Reports the first key (in document order) that repeats an earlier one. */
static clance_status check_duplicates(parser *ps, const cl_json *obj) {
  if (obj->n < 2)
    return CLANCE_OK;
  const cl_json_member **sorted = malloc(obj->n * sizeof *sorted);
  if (!sorted)
    return nomem(ps);
  for (size_t i = 0; i < obj->n; i++)
    sorted[i] = &obj->u.members[i];
  qsort(sorted, obj->n, sizeof *sorted, member_cmp);
  const cl_json_member *dup = NULL;
  for (size_t i = 1; i < obj->n; i++) {
    const cl_json_member *x = sorted[i - 1], *y = sorted[i];
    if (x->klen == y->klen && memcmp(x->key, y->key, x->klen) == 0 && (!dup || y->pos < dup->pos))
      dup = y;
  }
  free(sorted);
  if (!dup)
    return CLANCE_OK;
  /* Show the key printable and short; never cut a UTF-8 sequence. */
  char shown[72];
  size_t n = dup->klen;
  if (n > 64) {
    n = 64;
    while (n > 0 && ((uint8_t)dup->key[n] & 0xC0) == 0x80)
      n--;
  }
  for (size_t i = 0; i < n; i++)
    shown[i] = (uint8_t)dup->key[i] < 0x20 ? '?' : dup->key[i];
  strcpy(shown + n, n < dup->klen ? "..." : "");
  return perr(ps, dup->pos, "duplicate key \"%s\"", shown);
}

static clance_status parse_object(parser *ps, cl_json *out, int depth) {
  clance_status st;
  size_t cap = 0;
  out->type = CL_JSON_OBJECT;
  ps->pos++; /* '{' */
  skip_ws(ps);
  if (ps->pos < ps->len && ps->t[ps->pos] == '}') {
    ps->pos++;
    return CLANCE_OK;
  }
  for (;;) {
    skip_ws(ps);
    if (ps->pos >= ps->len || ps->t[ps->pos] != '"') {
      st = unexpected(ps, out->n ? "expected a string key" : "expected a string key or '}'");
      goto fail;
    }
    cl_json_member *members = grow(out->u.members, out->n, &cap, sizeof *members);
    if (!members) {
      st = nomem(ps);
      goto fail;
    }
    out->u.members = members;
    cl_json_member *m = &out->u.members[out->n];
    memset(m, 0, sizeof *m);
    m->pos = ps->pos;
    CL_CHECK(st, parse_string(ps, &m->key, &m->klen));
    out->n++; /* counted now so that a failure below frees the key */
    skip_ws(ps);
    if (ps->pos >= ps->len || ps->t[ps->pos] != ':') {
      st = unexpected(ps, "expected ':'");
      goto fail;
    }
    ps->pos++;
    CL_CHECK(st, parse_value(ps, &m->val, depth + 1));
    skip_ws(ps);
    if (ps->pos < ps->len && ps->t[ps->pos] == ',') {
      ps->pos++;
    } else if (ps->pos < ps->len && ps->t[ps->pos] == '}') {
      ps->pos++;
      break;
    } else {
      st = unexpected(ps, "expected ',' or '}'");
      goto fail;
    }
  }
  CL_CHECK(st, check_duplicates(ps, out));
  return CLANCE_OK;
fail:
  free_value(out);
  return st;
}

static int match_word(parser *ps, const char *word) {
  size_t n = strlen(word);
  if (ps->len - ps->pos < n || memcmp(ps->t + ps->pos, word, n) != 0)
    return 0;
  ps->pos += n;
  return 1;
}

/* Parse one value into *out (zeroed first). On failure *out is left zeroed
 * (a null), with everything it had allocated freed. */
static clance_status parse_value(parser *ps, cl_json *out, int depth) {
  memset(out, 0, sizeof *out);
  skip_ws(ps);
  if (ps->pos >= ps->len)
    return unexpected(ps, "expected a value");
  uint8_t c = ps->t[ps->pos];
  if ((c == '[' || c == '{') && depth >= CL_JSON_MAX_DEPTH)
    return perr(ps, ps->pos, "nesting deeper than %d levels", CL_JSON_MAX_DEPTH);
  switch (c) {
  case '[':
    return parse_array(ps, out, depth);
  case '{':
    return parse_object(ps, out, depth);
  case '"':
    CL_TRY(parse_string(ps, &out->u.s, &out->n));
    out->type = CL_JSON_STRING;
    return CLANCE_OK;
  case 't':
  case 'f':
  case 'n':
    if (match_word(ps, "true") || match_word(ps, "false")) {
      out->type = CL_JSON_BOOL;
      out->u.b = c == 't';
      return CLANCE_OK;
    }
    if (match_word(ps, "null"))
      return CLANCE_OK;
    return perr(ps, ps->pos, "invalid literal (expected true, false or null)");
  default:
    if (c == '-' || (c >= '0' && c <= '9'))
      return parse_number(ps, out);
    return unexpected(ps, "expected a value");
  }
}

clance_status cl_json_parse(const char *text, size_t len, const char *source, cl_json **out,
                            clance_error *err) {
  if (!out || (!text && len))
    return cl_err(err, CLANCE_EINVAL, "cl_json_parse: NULL argument");
  *out = NULL;
  parser ps = {(const uint8_t *)text, len, 0, source, err, CL_BUF_INIT};
  cl_json *root = malloc(sizeof *root);
  if (!root)
    return nomem(&ps);
  clance_status st = parse_value(&ps, root, 0);
  if (st == CLANCE_OK) {
    skip_ws(&ps);
    if (ps.pos < ps.len) {
      st = unexpected(&ps, "expected end of input after the value");
      free_value(root);
    }
  }
  cl_buf_free(&ps.scratch);
  if (st != CLANCE_OK) {
    free(root);
    return st;
  }
  *out = root;
  return CLANCE_OK;
}

/* ------------------------------------------------------------------------- */
/* Accessors                                                                  */
/* ------------------------------------------------------------------------- */

cl_json_type cl_json_typeof(const cl_json *j) { return j ? j->type : CL_JSON_NULL; }

const char *cl_json_type_name(cl_json_type t) {
  switch (t) {
  case CL_JSON_NULL: return "null";
  case CL_JSON_BOOL: return "boolean";
  case CL_JSON_INT: return "integer";
  case CL_JSON_REAL: return "number";
  case CL_JSON_STRING: return "string";
  case CL_JSON_ARRAY: return "array";
  case CL_JSON_OBJECT: return "object";
  }
  return "unknown";
}

size_t cl_json_len(const cl_json *j) {
  return j && (j->type == CL_JSON_ARRAY || j->type == CL_JSON_OBJECT) ? j->n : 0;
}

const cl_json *cl_json_at(const cl_json *arr, size_t i) {
  return arr && arr->type == CL_JSON_ARRAY && i < arr->n ? &arr->u.items[i] : NULL;
}

const cl_json *cl_json_get(const cl_json *obj, const char *key) {
  if (!obj || obj->type != CL_JSON_OBJECT || !key)
    return NULL;
  size_t n = strlen(key);
  for (size_t i = 0; i < obj->n; i++) {
    const cl_json_member *m = &obj->u.members[i];
    if (m->klen == n && memcmp(m->key, key, n) == 0)
      return &m->val;
  }
  return NULL;
}

const char *cl_json_key(const cl_json *obj, size_t i) {
  return obj && obj->type == CL_JSON_OBJECT && i < obj->n ? obj->u.members[i].key : NULL;
}

const cl_json *cl_json_value(const cl_json *obj, size_t i) {
  return obj && obj->type == CL_JSON_OBJECT && i < obj->n ? &obj->u.members[i].val : NULL;
}

int cl_json_bool(const cl_json *j, int *out) {
  if (!j || j->type != CL_JSON_BOOL)
    return 0;
  *out = j->u.b;
  return 1;
}

int cl_json_u64(const cl_json *j, uint64_t *out) {
  if (!j || j->type != CL_JSON_INT || j->neg)
    return 0;
  *out = j->u.mag;
  return 1;
}

int cl_json_i64(const cl_json *j, int64_t *out) {
  if (!j || j->type != CL_JSON_INT)
    return 0;
  if (j->neg) {
    /* mag <= 2^63 was checked by the parser; 2^63 itself is INT64_MIN. */
    *out = j->u.mag == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)j->u.mag;
    return 1;
  }
  if (j->u.mag > INT64_MAX)
    return 0;
  *out = (int64_t)j->u.mag;
  return 1;
}

int cl_json_double(const cl_json *j, double *out) {
  if (j && j->type == CL_JSON_REAL) {
    *out = j->u.d;
    return 1;
  }
  if (j && j->type == CL_JSON_INT) {
    *out = j->neg ? -(double)j->u.mag : (double)j->u.mag;
    return 1;
  }
  return 0;
}

const char *cl_json_string(const cl_json *j, size_t *len) {
  if (!j || j->type != CL_JSON_STRING)
    return NULL;
  if (len)
    *len = j->n;
  return j->u.s;
}

/* ------------------------------------------------------------------------- */
/* Writing                                                                    */
/* ------------------------------------------------------------------------- */

static clance_status write_string(cl_buf *b, const char *s, size_t len, clance_error *err) {
  static const char hex[] = "0123456789abcdef";
  const uint8_t *p = (const uint8_t *)s;
  CL_TRY(cl_buf_reserve(b, len + 2, err));
  CL_TRY(cl_buf_append(b, "\"", 1, err));
  size_t i = 0;
  while (i < len) {
    size_t run = i;
    while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
      run++;
    CL_TRY(cl_buf_append(b, p + i, run - i, err));
    i = run;
    if (i >= len)
      break;
    uint8_t c = p[i];
    const char *esc = NULL;
    switch (c) {
    case '"': esc = "\\\""; break;
    case '\\': esc = "\\\\"; break;
    case '\n': esc = "\\n"; break;
    case '\r': esc = "\\r"; break;
    case '\t': esc = "\\t"; break;
    case '\b': esc = "\\b"; break;
    case '\f': esc = "\\f"; break;
    default: break;
    }
    if (esc) {
      CL_TRY(cl_buf_append(b, esc, 2, err));
      i++;
    } else if (c < 0x20) {
      char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      CL_TRY(cl_buf_append(b, u, 6, err));
      i++;
    } else {
      size_t n = utf8_seq(p + i, len - i);
      if (!n)
        return cl_err(err, CLANCE_EINVAL, "cannot write JSON string: invalid UTF-8 at byte %zu", i);
      CL_TRY(cl_buf_append(b, p + i, n, err));
      i += n;
    }
  }
  return cl_buf_append(b, "\"", 1, err);
}

clance_status cl_json_write_string(cl_buf *b, const char *s, size_t len, clance_error *err) {
  size_t mark = b->len;
  clance_status st = write_string(b, s, len, err);
  if (st != CLANCE_OK)
    b->len = mark;
  return st;
}

clance_status cl_json_write_u64(cl_buf *b, uint64_t v, clance_error *err) {
  return cl_buf_printf(b, err, "%" PRIu64, v);
}

clance_status cl_json_write_i64(cl_buf *b, int64_t v, clance_error *err) {
  return cl_buf_printf(b, err, "%" PRId64, v);
}

/* Find the fewest significant digits that read back to the same value, then
 * lay them out like Python's repr(). */
static clance_status write_shortest(cl_buf *b, double v, int as_float, clance_error *err) {
  if (!isfinite(v))
    return cl_err(err, CLANCE_EINVAL, "cannot write %s as JSON", isnan(v) ? "NaN" : "infinity");
  /* 17 significant digits always round-trip a double, 9 a float. Start at
   * 15 (double) or 6 (float) digits: a value whose shortest form has at most
   * that many digits prints as that form plus trailing zeros (its rounding
   * error is below half a unit of the last digit), so stripping the zeros
   * gives the shortest form without trying every precision from 1. */
  int maxp = as_float ? 9 : 17, start = as_float ? 6 : 15, prec;
  /* Subnormals have fewer significant bits, so the argument does not hold. */
  if (fabs(v) < (as_float ? (double)FLT_MIN : DBL_MIN))
    start = 1;
  char sci[64];
  for (prec = start; prec <= maxp; prec++) {
    double back;
    c_format(sci, sizeof sci, prec - 1, v);
    if (cl_strtod_c(sci, strlen(sci), as_float, &back))
      return cl_err_nomem(err, "number");
    if (as_float) {
      float x = (float)back, y = (float)v;
      if (memcmp(&x, &y, sizeof x) == 0)
        break;
    } else if (memcmp(&back, &v, sizeof v) == 0) {
      break;
    }
  }
  if (prec > maxp)
    prec = maxp;
  /* sci is [-]d[.ddd]e[+-]XX, its exponent taken after rounding. */
  char *e = strchr(sci, 'e');
  if (prec == start) {
    char *z = e;
    while (z > sci && z[-1] == '0')
      z--;
    if (z > sci && z[-1] == '.')
      z--;
    memmove(z, e, strlen(e) + 1);
    e = z;
  }
  long exp10 = strtol(e + 1, NULL, 10);
  if (exp10 < -4 || exp10 >= 16)
    return cl_buf_append(b, sci, strlen(sci), err);
  /* Fixed notation built from the same digits: printf("%f") would print the
   * exact binary value, which for a float such as 1e15f has more digits
   * (999999986991104). Always with a '.', so it reads back as a REAL. */
  char digits[32], fixed[64];
  int nd = 0, neg = sci[0] == '-', k = 0, x = (int)exp10;
  for (const char *p = sci + neg; p < e; p++)
    if (*p != '.')
      digits[nd++] = *p;
  if (neg)
    fixed[k++] = '-';
  if (x < 0) {
    fixed[k++] = '0';
    fixed[k++] = '.';
    for (int i = -1; i > x; i--)
      fixed[k++] = '0';
    for (int i = 0; i < nd; i++)
      fixed[k++] = digits[i];
  } else {
    for (int i = 0; i <= x; i++)
      fixed[k++] = i < nd ? digits[i] : '0';
    fixed[k++] = '.';
    if (nd <= x + 1)
      fixed[k++] = '0';
    for (int i = x + 1; i < nd; i++)
      fixed[k++] = digits[i];
  }
  return cl_buf_append(b, fixed, (size_t)k, err);
}

clance_status cl_json_write_double(cl_buf *b, double v, clance_error *err) {
  size_t mark = b->len;
  clance_status st = write_shortest(b, v, 0, err);
  if (st != CLANCE_OK)
    b->len = mark;
  return st;
}

clance_status cl_json_write_float(cl_buf *b, float v, clance_error *err) {
  size_t mark = b->len;
  clance_status st = write_shortest(b, (double)v, 1, err);
  if (st != CLANCE_OK)
    b->len = mark;
  return st;
}

static clance_status dump(const cl_json *j, cl_buf *b, clance_error *err) {
  switch (j->type) {
  case CL_JSON_NULL:
    return cl_buf_append(b, "null", 4, err);
  case CL_JSON_BOOL:
    return j->u.b ? cl_buf_append(b, "true", 4, err) : cl_buf_append(b, "false", 5, err);
  case CL_JSON_INT:
    return cl_buf_printf(b, err, "%s%" PRIu64, j->neg ? "-" : "", j->u.mag);
  case CL_JSON_REAL:
    return write_shortest(b, j->u.d, 0, err);
  case CL_JSON_STRING:
    return write_string(b, j->u.s, j->n, err);
  case CL_JSON_ARRAY:
    CL_TRY(cl_buf_append(b, "[", 1, err));
    for (size_t i = 0; i < j->n; i++) {
      if (i)
        CL_TRY(cl_buf_append(b, ",", 1, err));
      CL_TRY(dump(&j->u.items[i], b, err));
    }
    return cl_buf_append(b, "]", 1, err);
  case CL_JSON_OBJECT:
    CL_TRY(cl_buf_append(b, "{", 1, err));
    for (size_t i = 0; i < j->n; i++) {
      const cl_json_member *m = &j->u.members[i];
      if (i)
        CL_TRY(cl_buf_append(b, ",", 1, err));
      CL_TRY(write_string(b, m->key, m->klen, err));
      CL_TRY(cl_buf_append(b, ":", 1, err));
      CL_TRY(dump(&m->val, b, err));
    }
    return cl_buf_append(b, "}", 1, err);
  }
  return cl_err(err, CLANCE_EINTERNAL, "corrupt JSON value");
}

clance_status cl_json_dump(const cl_json *j, cl_buf *b, clance_error *err) {
  if (!j)
    return cl_err(err, CLANCE_EINVAL, "cl_json_dump: NULL document");
  size_t mark = b->len;
  clance_status st = dump(j, b, err);
  if (st != CLANCE_OK)
    b->len = mark;
  return st;
}
