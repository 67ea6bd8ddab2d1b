/* Scalar values from text: strict number parsing, dates and times, hex,
 * decimals; appended to cl_arr builders. Shared by the CSV and JSONL readers. */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "textio_internal.h"
#include "util/json.h"

/* ------------------------------------------------------------------------ */
/* Strict integers and floats                                                 */
/* ------------------------------------------------------------------------ */

static int all_digits(const char *s, size_t n) {
  if (n == 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return 1;
}

/* Magnitude of a digit string; 0 ok, 2 overflow. */
static int digits_u64(const char *s, size_t n, uint64_t *out) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned d = (unsigned)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10)
      return 2;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

int cl_parse_i64(const char *s, size_t n, int64_t *out) {
  int neg = 0;
  if (n && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s++;
    n--;
  }
  uint64_t mag;
  if (!all_digits(s, n))
    return 1;
  if (digits_u64(s, n, &mag))
    return 2;
  if (neg) {
    if (mag > (uint64_t)1 << 63)
      return 2;
    *out = mag == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)mag;
  } else {
    if (mag > INT64_MAX)
      return 2;
    *out = (int64_t)mag;
  }
  return 0;
}

int cl_parse_u64(const char *s, size_t n, uint64_t *out) {
  int neg = 0;
  if (n && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s++;
    n--;
  }
  uint64_t mag;
  if (!all_digits(s, n))
    return 1;
  if (digits_u64(s, n, &mag))
    return 2;
  if (neg && mag)
    return 2;
  *out = mag;
  return 0;
}

/* Decimal floating-point syntax: [+-] (d+[.d*] | .d+) [(e|E)[+-]d+]. */
static int float_syntax(const char *s, size_t n) {
  size_t i = 0, digits = 0;
  if (i < n && (s[i] == '+' || s[i] == '-'))
    i++;
  while (i < n && s[i] >= '0' && s[i] <= '9')
    i++, digits++;
  if (i < n && s[i] == '.') {
    i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++, digits++;
  }
  if (!digits)
    return 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-'))
      i++;
    if (i >= n || s[i] < '0' || s[i] > '9')
      return 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
      i++;
  }
  return i == n;
}

/* NaN / infinity spellings: NaN, Infinity, -Infinity (any case), inf, -inf. */
static int float_special(const char *s, size_t n, double *out) {
  int neg = 0;
  if (n && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s++;
    n--;
  }
  if (n == 3 && !strncasecmp(s, "nan", 3)) {
    *out = NAN;
    return 1;
  }
  if ((n == 3 && !strncasecmp(s, "inf", 3)) || (n == 8 && !strncasecmp(s, "infinity", 8))) {
    *out = neg ? -INFINITY : INFINITY;
    return 1;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Dates and times                                                            */
/* ------------------------------------------------------------------------ */

static int take_digits(const char *s, size_t n, size_t *i, size_t count, unsigned *out) {
  if (*i + count > n)
    return 0;
  unsigned v = 0;
  for (size_t k = 0; k < count; k++) {
    char c = s[*i + k];
    if (c < '0' || c > '9')
      return 0;
    v = v * 10 + (unsigned)(c - '0');
  }
  *i += count;
  *out = v;
  return 1;
}

static int days_in_month(int64_t y, unsigned m) {
  static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : dm[m - 1];
}

/* "HH:MM[:SS[.fff]]" at s[*i]: seconds of the day and the fraction digits. */
static const char *parse_clock(const char *s, size_t n, size_t *i, int64_t *secs,
                               const char **frac, size_t *nfrac) {
  unsigned hh, mm, ss = 0;
  *frac = NULL;
  *nfrac = 0;
  if (!take_digits(s, n, i, 2, &hh) || *i >= n || s[*i] != ':' || (++*i, 0) ||
      !take_digits(s, n, i, 2, &mm))
    return "expected a time HH:MM[:SS[.fraction]]";
  if (*i < n && s[*i] == ':') {
    ++*i;
    if (!take_digits(s, n, i, 2, &ss))
      return "expected seconds after HH:MM:";
    if (*i < n && (s[*i] == '.' || s[*i] == ',')) {
      ++*i;
      *frac = s + *i;
      while (*i < n && s[*i] >= '0' && s[*i] <= '9')
        ++*i, ++*nfrac;
      if (!*nfrac)
        return "expected digits after the decimal point of the seconds";
    }
  }
  if (hh > 23 || mm > 59 || ss > 59)
    return "time of day out of range";
  *secs = (int64_t)hh * 3600 + mm * 60 + ss;
  return NULL;
}

/* Whole seconds plus fraction digits -> count of `unit`; the fraction must
 * not be finer than the unit (unless the extra digits are zeros). */
static const char *to_unit(int64_t secs, const char *frac, size_t nfrac, char unit,
                           int64_t *out) {
  int64_t per = cl_unit_per_second(unit), v, sub = 0;
  size_t unit_digits = unit == 'm' ? 3 : unit == 'u' ? 6 : unit == 'n' ? 9 : 0;
  for (size_t k = 0; k < nfrac; k++) {
    if (k < unit_digits)
      sub = sub * 10 + (frac[k] - '0');
    else if (frac[k] != '0')
      return "has more sub-second digits than the column's unit holds";
  }
  for (size_t k = nfrac; k < unit_digits; k++)
    sub *= 10;
  if (__builtin_mul_overflow(secs, per, &v) || __builtin_add_overflow(v, sub, &v))
    return "is out of range for the column's unit";
  *out = v;
  return NULL;
}

/* ISO-8601 date or date-time -> days (date_only) or a count of `unit`. */
static const char *parse_iso(const char *s, size_t n, int date_only, char unit, int64_t *out) {
  size_t i = 0;
  int yneg = 0;
  if (i < n && (s[i] == '-' || s[i] == '+'))
    yneg = s[i++] == '-';
  size_t y0 = i;
  int64_t y = 0;
  while (i < n && s[i] >= '0' && s[i] <= '9' && i - y0 < 6)
    y = y * 10 + (s[i++] - '0');
  unsigned mo, d;
  if (i - y0 < 4 || i >= n || s[i] != '-')
    return "expected a date YYYY-MM-DD";
  i++;
  if (!take_digits(s, n, &i, 2, &mo) || i >= n || s[i] != '-' || (++i, 0) ||
      !take_digits(s, n, &i, 2, &d))
    return "expected a date YYYY-MM-DD";
  if (yneg)
    y = -y;
  if (mo < 1 || mo > 12 || d < 1 || (int)d > days_in_month(y, mo))
    return "is not a valid date";
  int64_t days = cl_days_from_civil(y, mo, d);
  if (date_only) {
    if (i != n)
      return "expected a date YYYY-MM-DD";
    *out = days;
    return NULL;
  }
  int64_t secs = 0, tzoff = 0;
  const char *frac = NULL, *why;
  size_t nfrac = 0;
  if (i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
    i++;
    if ((why = parse_clock(s, n, &i, &secs, &frac, &nfrac)))
      return why;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
      i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
      int tneg = s[i++] == '-';
      unsigned th, tm = 0;
      if (!take_digits(s, n, &i, 2, &th))
        return "expected a time zone offset +HH:MM";
      if (i < n && s[i] == ':')
        i++;
      if (i < n && !take_digits(s, n, &i, 2, &tm))
        return "expected a time zone offset +HH:MM";
      if (th > 23 || tm > 59)
        return "time zone offset out of range";
      tzoff = (int64_t)(th * 3600 + tm * 60) * (tneg ? -1 : 1);
    }
  }
  if (i != n)
    return "expected an ISO-8601 date-time such as 2024-01-02T03:04:05.123Z";
  return to_unit(days * 86400 + secs - tzoff, frac, nfrac, unit, out);
}

/* ------------------------------------------------------------------------ */
/* Appending                                                                  */
/* ------------------------------------------------------------------------ */

static clance_status append_fixed(cl_arr *a, const void *v, size_t w, clance_error *err) {
  CL_TRY(cl_buf_append(&a->values, v, w, err));
  return cl_arr_append_valid(a, 1, err);
}

clance_status cl_text_append_bool(cl_arr *a, int v, clance_error *err) {
  size_t need = (size_t)((a->length + 8) >> 3);
  if (need > a->values.len)
    CL_TRY(cl_buf_fill(&a->values, 0, need - a->values.len, err));
  if (v)
    cl_bit_set(a->values.data, a->length);
  return cl_arr_append_valid(a, 1, err);
}

clance_status cl_text_append_null(cl_arr *a, const cl_text_loc *loc, clance_error *err) {
  if (!a->field->nullable) {
    if (a->field->name && loc->column && strcmp(a->field->name, loc->column) != 0)
      return cl_text_err(loc, err, CLANCE_ESCHEMA, "null for NOT NULL field \"%s\"",
                         a->field->name);
    return cl_text_err(loc, err, CLANCE_ESCHEMA, "null in a NOT NULL column");
  }
  return cl_arr_append_nulls(a, 1, err);
}

/* The value text for a message: quoted if it was a string, cut if long. */
static const char *shown(const char *s, size_t n, cl_text_kind kind, char *buf, size_t cap) {
  int cut = n > 40;
  size_t m = cut ? 40 : n;
  const char *q = kind == CL_TK_NUMBER ? "" : "\"";
  /* Do not cut inside a UTF-8 sequence. */
  while (cut && m > 0 && ((unsigned char)s[m] & 0xC0) == 0x80)
    m--;
  snprintf(buf, cap, "%s%.*s%s%s", q, (int)m, s, cut ? "..." : "", q);
  return buf;
}

static const char *type_desc(const cl_field *f, char *buf, size_t cap) {
  cl_buf b = CL_BUF_INIT;
  clance_error e;
  if (cl_field_type_spec(f, &b, &e) == CLANCE_OK && cl_buf_cstr(&b, &e) == CLANCE_OK)
    snprintf(buf, cap, "%s", (const char *)b.data);
  else
    snprintf(buf, cap, "%s", cl_type_name(f->type));
  cl_buf_free(&b);
  size_t l = strlen(buf);
  if (l && buf[l - 1] == '!')
    buf[l - 1] = '\0';
  return buf;
}

static clance_status bad_value(cl_arr *a, const char *s, size_t n, cl_text_kind kind,
                               const char *why, const cl_text_loc *loc, clance_error *err) {
  char v[64], t[128];
  if (why)
    return cl_text_err(loc, err, CLANCE_ESCHEMA, "%s %s", shown(s, n, kind, v, sizeof v), why);
  return cl_text_err(loc, err, CLANCE_ESCHEMA, "expected %s, got %s%s",
                     type_desc(a->field, t, sizeof t),
                     kind == CL_TK_STRING ? "string " : "", shown(s, n, kind, v, sizeof v));
}

static clance_status out_of_range(cl_arr *a, const char *s, size_t n, cl_text_kind kind,
                                  const cl_text_loc *loc, clance_error *err) {
  char v[64], t[128];
  return cl_text_err(loc, err, CLANCE_ESCHEMA, "%s is out of range for %s",
                     shown(s, n, kind, v, sizeof v), type_desc(a->field, t, sizeof t));
}

static clance_status append_int(cl_arr *a, const char *s, size_t n, cl_text_kind kind,
                                const cl_text_loc *loc, clance_error *err) {
  cl_type_id t = a->field->type;
  if (kind == CL_TK_STRING)
    return bad_value(a, s, n, kind, NULL, loc, err);
  int is_unsigned = t == CL_TYPE_UINT8 || t == CL_TYPE_UINT16 || t == CL_TYPE_UINT32 ||
                    t == CL_TYPE_UINT64;
  int rc;
  if (is_unsigned) {
    uint64_t u = 0;
    rc = cl_parse_u64(s, n, &u);
    uint64_t max = t == CL_TYPE_UINT8 ? UINT8_MAX : t == CL_TYPE_UINT16 ? UINT16_MAX
                   : t == CL_TYPE_UINT32 ? UINT32_MAX : UINT64_MAX;
    if (rc == 0 && u > max)
      rc = 2;
    if (rc == 1)
      return bad_value(a, s, n, kind, NULL, loc, err);
    if (rc == 2)
      return out_of_range(a, s, n, kind, loc, err);
    uint8_t b8 = (uint8_t)u;
    uint16_t b16 = (uint16_t)u;
    uint32_t b32 = (uint32_t)u;
    return t == CL_TYPE_UINT8    ? append_fixed(a, &b8, 1, err)
           : t == CL_TYPE_UINT16 ? append_fixed(a, &b16, 2, err)
           : t == CL_TYPE_UINT32 ? append_fixed(a, &b32, 4, err)
                                 : append_fixed(a, &u, 8, err);
  }
  int64_t v = 0;
  rc = cl_parse_i64(s, n, &v);
  int64_t lo = t == CL_TYPE_INT8 ? INT8_MIN : t == CL_TYPE_INT16 ? INT16_MIN
               : t == CL_TYPE_INT32 ? INT32_MIN : INT64_MIN;
  int64_t hi = t == CL_TYPE_INT8 ? INT8_MAX : t == CL_TYPE_INT16 ? INT16_MAX
               : t == CL_TYPE_INT32 ? INT32_MAX : INT64_MAX;
  if (rc == 0 && (v < lo || v > hi))
    rc = 2;
  if (rc == 1)
    return bad_value(a, s, n, kind, NULL, loc, err);
  if (rc == 2)
    return out_of_range(a, s, n, kind, loc, err);
  int8_t b8 = (int8_t)v;
  int16_t b16 = (int16_t)v;
  int32_t b32 = (int32_t)v;
  return t == CL_TYPE_INT8    ? append_fixed(a, &b8, 1, err)
         : t == CL_TYPE_INT16 ? append_fixed(a, &b16, 2, err)
         : t == CL_TYPE_INT32 ? append_fixed(a, &b32, 4, err)
                              : append_fixed(a, &v, 8, err);
}

static clance_status append_float(cl_arr *a, const char *s, size_t n, cl_text_kind kind,
                                  const cl_text_loc *loc, clance_error *err) {
  cl_type_id t = a->field->type;
  double d;
  if (kind != CL_TK_NUMBER && float_special(s, n, &d)) {
    /* ok */
  } else if (kind == CL_TK_STRING || !float_syntax(s, n)) {
    return bad_value(a, s, n, kind, NULL, loc, err);
  } else {
    if (cl_strtod_c(s, n, t == CL_TYPE_FLOAT32, &d))
      return cl_err_nomem(err, "number");
    if (isinf(d))
      return out_of_range(a, s, n, kind, loc, err);
  }
  if (t == CL_TYPE_FLOAT64)
    return append_fixed(a, &d, 8, err);
  if (t == CL_TYPE_FLOAT32) {
    float f = (float)d;
    return append_fixed(a, &f, 4, err);
  }
  uint16_t h = cl_half_from_double(d);
  if ((h & 0x7fff) == 0x7c00 && !isinf(d))
    return out_of_range(a, s, n, kind, loc, err);
  return append_fixed(a, &h, 2, err);
}

/* Integer text, or (unless it came as a JSON number) an ISO-8601 string. */
static clance_status append_temporal(cl_arr *a, const char *s, size_t n, cl_text_kind kind,
                                     const cl_text_loc *loc, clance_error *err) {
  const cl_field *f = a->field;
  int64_t v = 0;
  const char *why = NULL;
  int rc = cl_parse_i64(s, n, &v);
  if (rc == 2)
    return out_of_range(a, s, n, kind, loc, err);
  if (rc == 1) {
    if (kind == CL_TK_NUMBER || f->type == CL_TYPE_DURATION)
      return bad_value(a, s, n, kind, NULL, loc, err);
    switch (f->type) {
    case CL_TYPE_DATE32: why = parse_iso(s, n, 1, 's', &v); break;
    case CL_TYPE_DATE64: why = parse_iso(s, n, 0, 'm', &v); break;
    case CL_TYPE_TIMESTAMP: why = parse_iso(s, n, 0, f->unit, &v); break;
    default: { /* time32 / time64 */
      size_t i = 0;
      int64_t secs = 0;
      const char *frac;
      size_t nfrac;
      why = parse_clock(s, n, &i, &secs, &frac, &nfrac);
      if (!why && i != n)
        why = "expected a time HH:MM[:SS[.fraction]]";
      if (!why)
        why = to_unit(secs, frac, nfrac, f->unit, &v);
      break;
    }
    }
    if (why)
      return bad_value(a, s, n, kind, why, loc, err);
  }
  if (f->type == CL_TYPE_DATE32 || f->type == CL_TYPE_TIME32) {
    if (v < INT32_MIN || v > INT32_MAX)
      return out_of_range(a, s, n, kind, loc, err);
    int32_t v32 = (int32_t)v;
    return append_fixed(a, &v32, 4, err);
  }
  return append_fixed(a, &v, 8, err);
}

static int hex_val(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static clance_status append_hex(cl_arr *a, const char *s, size_t n, cl_text_kind kind,
                                const cl_text_loc *loc, clance_error *err) {
  const cl_field *f = a->field;
  if (kind == CL_TK_NUMBER)
    return bad_value(a, s, n, kind, "is not a hex string", loc, err);
  if (n % 2)
    return bad_value(a, s, n, kind, "is not hex (odd number of digits)", loc, err);
  if (f->type == CL_TYPE_FIXED_SIZE_BINARY && n / 2 != (size_t)f->size) {
    char v[64];
    return cl_text_err(loc, err, CLANCE_ESCHEMA, "%s has %zu bytes, fixed_size_binary(%d) needs %d",
                       shown(s, n, kind, v, sizeof v), n / 2, (int)f->size, (int)f->size);
  }
  CL_TRY(cl_buf_reserve(&a->values, n / 2, err));
  uint8_t *d = a->values.data + a->values.len;
  for (size_t i = 0; i < n; i += 2) {
    int hi = hex_val(s[i]), lo = hex_val(s[i + 1]);
    if (hi < 0 || lo < 0)
      return bad_value(a, s, n, kind, "is not a hex string", loc, err);
    d[i / 2] = (uint8_t)(hi << 4 | lo);
  }
  a->values.len += n / 2;
  if (f->type != CL_TYPE_FIXED_SIZE_BINARY)
    CL_TRY(cl_arr_push_offset(a, a->values.len, err));
  return cl_arr_append_valid(a, 1, err);
}

clance_status cl_text_append_scalar(cl_arr *a, const char *s, size_t n, cl_text_kind kind,
                                    const cl_text_loc *loc, clance_error *err) {
  const cl_field *f = a->field;
  switch (f->type) {
  case CL_TYPE_BOOL:
    if (kind == CL_TK_RAW) {
      if ((n == 4 && !strncasecmp(s, "true", 4)) || (n == 1 && s[0] == '1'))
        return cl_text_append_bool(a, 1, err);
      if ((n == 5 && !strncasecmp(s, "false", 5)) || (n == 1 && s[0] == '0'))
        return cl_text_append_bool(a, 0, err);
    }
    return bad_value(a, s, n, kind, NULL, loc, err);
  case CL_TYPE_INT8:
  case CL_TYPE_UINT8:
  case CL_TYPE_INT16:
  case CL_TYPE_UINT16:
  case CL_TYPE_INT32:
  case CL_TYPE_UINT32:
  case CL_TYPE_INT64:
  case CL_TYPE_UINT64:
    return append_int(a, s, n, kind, loc, err);
  case CL_TYPE_FLOAT16:
  case CL_TYPE_FLOAT32:
  case CL_TYPE_FLOAT64:
    return append_float(a, s, n, kind, loc, err);
  case CL_TYPE_DATE32:
  case CL_TYPE_DATE64:
  case CL_TYPE_TIME32:
  case CL_TYPE_TIME64:
  case CL_TYPE_TIMESTAMP:
  case CL_TYPE_DURATION:
    return append_temporal(a, s, n, kind, loc, err);
  case CL_TYPE_DECIMAL128:
  case CL_TYPE_DECIMAL256: {
    uint8_t le[32];
    size_t bytes = f->type == CL_TYPE_DECIMAL128 ? 16 : 32;
    const char *why = cl_decimal_parse(s, n, f->size, f->scale, le, bytes);
    if (why) {
      if (!strcmp(why, "not a decimal number"))
        return bad_value(a, s, n, kind, NULL, loc, err);
      return bad_value(a, s, n, kind, why, loc, err);
    }
    return append_fixed(a, le, bytes, err);
  }
  case CL_TYPE_UTF8:
  case CL_TYPE_LARGE_UTF8: {
    if (kind == CL_TK_NUMBER)
      return bad_value(a, s, n, kind, NULL, loc, err);
    size_t bad;
    if (kind == CL_TK_RAW && !cl_utf8_valid((const uint8_t *)s, n, &bad))
      return cl_text_err(loc, err, CLANCE_ECORRUPT, "invalid UTF-8 (byte 0x%02X at offset %zu)",
                         (unsigned char)s[bad], bad);
    CL_TRY(cl_buf_append(&a->values, s, n, err));
    CL_TRY(cl_arr_push_offset(a, a->values.len, err));
    return cl_arr_append_valid(a, 1, err);
  }
  case CL_TYPE_BINARY:
  case CL_TYPE_LARGE_BINARY:
  case CL_TYPE_FIXED_SIZE_BINARY:
    return append_hex(a, s, n, kind, loc, err);
  case CL_TYPE_NULL:
    return bad_value(a, s, n, kind, NULL, loc, err);
  default:
    return cl_text_err(loc, err, CLANCE_EUNSUPPORTED, "type %s cannot be read from text",
                       cl_type_name(f->type));
  }
}
