/* Small helpers shared by the text readers and writers: messages, UTF-8,
 * half floats, calendar days, decimals, hex, type support. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "textio_internal.h"

int cl_text_format_from_name(const char *name) {
  if (!name)
    return -1;
  if (!strcmp(name, "jsonl") || !strcmp(name, "ndjson"))
    return CL_TEXT_JSONL;
  if (!strcmp(name, "csv"))
    return CL_TEXT_CSV;
  return -1;
}

const char *cl_text_format_name(int format) {
  return format == CL_TEXT_JSONL ? "jsonl" : format == CL_TEXT_CSV ? "csv" : "unknown";
}

clance_status cl_text_err(const cl_text_loc *loc, clance_error *err, clance_status code,
                          const char *fmt, ...) {
  char what[768], col[300] = "", chr[48] = "";
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (loc->column)
    snprintf(col, sizeof col, ", column \"%s\"", loc->column);
  if (loc->chr)
    snprintf(chr, sizeof chr, ", char %zu", loc->chr);
  return cl_err(err, code, "%s: line %llu%s%s: %s", loc->source ? loc->source : "input",
                (unsigned long long)loc->line, col, chr, what);
}

/* ------------------------------------------------------------------------ */
/* UTF-8                                                                      */
/* ------------------------------------------------------------------------ */

/* Unicode table 3-7: no overlong forms, surrogates or code points > U+10FFFF. */
size_t cl_utf8_seq(const uint8_t *p, size_t n) {
  uint8_t c = p[0], lo = 0x80, hi = 0xBF;
  size_t len;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0)
      lo = 0xA0;
    if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0)
      lo = 0x90;
    if (c == 0xF4)
      hi = 0x8F;
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

int cl_utf8_valid(const uint8_t *p, size_t n, size_t *bad) {
  size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      i++;
      continue;
    }
    size_t k = cl_utf8_seq(p + i, n - i);
    if (!k) {
      if (bad)
        *bad = i;
      return 0;
    }
    i += k;
  }
  return 1;
}

/* ------------------------------------------------------------------------ */
/* Half floats                                                                */
/* ------------------------------------------------------------------------ */

float cl_half_to_float(uint16_t h) {
  unsigned exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  float v;
  if (exp == 0)
    v = ldexpf((float)man, -24);
  else if (exp == 31)
    v = man ? NAN : INFINITY;
  else
    v = ldexpf((float)(man | 0x400), (int)exp - 25);
  return (h & 0x8000) ? -v : v;
}

uint16_t cl_half_from_double(double d) {
  uint16_t sign = signbit(d) ? 0x8000 : 0;
  if (isnan(d))
    return sign | 0x7e00;
  double a = fabs(d);
  if (a >= 65520.0) /* beyond the midpoint above the largest half (65504) */
    return sign | 0x7c00;
  if (a < 0x1p-14) /* subnormal (or zero): units of 2^-24; 1024 is the smallest normal */
    return sign | (uint16_t)nearbyint(a * 0x1p24);
  int e;
  double m = frexp(a, &e); /* a = m * 2^e, m in [0.5, 1) */
  double r = nearbyint(ldexp(m, 11));
  int biased = e - 1 + 15;
  if (r == 2048.0) {
    r = 1024.0;
    biased++;
  }
  if (biased >= 31)
    return sign | 0x7c00;
  return (uint16_t)(sign | (unsigned)biased << 10 | ((unsigned)r - 1024u));
}

/* ------------------------------------------------------------------------ */
/* Calendar                                                                   */
/* ------------------------------------------------------------------------ */

int64_t cl_days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

int64_t cl_unit_per_second(char unit) {
  switch (unit) {
  case 'm': return 1000;
  case 'u': return 1000000;
  case 'n': return 1000000000;
  default: return 1;
  }
}

/* ------------------------------------------------------------------------ */
/* Decimals: two's-complement little-endian integers of 16 or 32 bytes        */
/* ------------------------------------------------------------------------ */

#define DEC_LIMBS 8 /* 32-bit limbs of a 256-bit value */

static void le_to_limbs(const uint8_t *le, size_t bytes, uint32_t *limbs, int *neg) {
  size_t n = bytes / 4;
  for (size_t i = 0; i < n; i++)
    limbs[i] = cl_le32(le + 4 * i);
  *neg = (le[bytes - 1] & 0x80) != 0;
  if (*neg) { /* magnitude = ~x + 1 */
    uint64_t carry = 1;
    for (size_t i = 0; i < n; i++) {
      uint64_t v = (uint64_t)(uint32_t)~limbs[i] + carry;
      limbs[i] = (uint32_t)v;
      carry = v >> 32;
    }
  }
}

clance_status cl_decimal_format(cl_buf *out, const uint8_t *le, size_t bytes, int32_t scale,
                                clance_error *err) {
  uint32_t limbs[DEC_LIMBS];
  int neg;
  size_t n = bytes / 4;
  le_to_limbs(le, bytes, limbs, &neg);
  /* Digits, least significant first, by repeated division by 10^9. */
  char rev[96];
  size_t nd = 0;
  for (;;) {
    uint64_t rem = 0;
    int nonzero = 0;
    for (size_t i = n; i-- > 0;) {
      uint64_t cur = rem << 32 | limbs[i];
      limbs[i] = (uint32_t)(cur / 1000000000u);
      rem = cur % 1000000000u;
      nonzero |= limbs[i] != 0;
    }
    for (int k = 0; k < 9; k++) {
      rev[nd++] = (char)('0' + rem % 10);
      rem /= 10;
    }
    if (!nonzero)
      break;
  }
  while (nd > 1 && rev[nd - 1] == '0')
    nd--;
  char txt[200];
  size_t k = 0;
  if (neg)
    txt[k++] = '-';
  if (scale <= 0) {
    for (size_t i = nd; i-- > 0;)
      txt[k++] = rev[i];
    if (!(nd == 1 && rev[0] == '0'))
      for (int32_t i = 0; i < -scale; i++)
        txt[k++] = '0';
  } else {
    size_t s = (size_t)scale;
    if (nd <= s) {
      txt[k++] = '0';
      txt[k++] = '.';
      for (size_t i = nd; i < s; i++)
        txt[k++] = '0';
      for (size_t i = nd; i-- > 0;)
        txt[k++] = rev[i];
    } else {
      for (size_t i = nd; i-- > 0;) {
        txt[k++] = rev[i];
        if (i == s)
          txt[k++] = '.';
      }
    }
  }
  return cl_buf_append(out, txt, k, err);
}

const char *cl_decimal_parse(const char *s, size_t n, int32_t precision, int32_t scale,
                             uint8_t *le, size_t bytes) {
  size_t i = 0;
  int neg = 0;
  if (i < n && (s[i] == '-' || s[i] == '+'))
    neg = s[i++] == '-';
  char dig[128];
  size_t nd = 0, int_digits = 0, frac_digits = 0;
  int any = 0;
  while (i < n && s[i] >= '0' && s[i] <= '9') {
    any = 1;
    if (nd || s[i] != '0') {
      if (nd >= sizeof dig)
        return "too many digits";
      dig[nd++] = s[i];
    }
    int_digits++;
    i++;
  }
  if (i < n && s[i] == '.') {
    i++;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
      any = 1;
      if (nd || s[i] != '0') {
        if (nd >= sizeof dig)
          return "too many digits";
        dig[nd++] = s[i];
      }
      frac_digits++;
      i++;
    }
  }
  if (!any)
    return "not a decimal number";
  long exp10 = 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    int eneg = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
      eneg = s[i++] == '-';
    if (i >= n || s[i] < '0' || s[i] > '9')
      return "not a decimal number";
    while (i < n && s[i] >= '0' && s[i] <= '9') {
      if (exp10 < 100000)
        exp10 = exp10 * 10 + (s[i] - '0');
      i++;
    }
    if (eneg)
      exp10 = -exp10;
  }
  if (i != n)
    return "not a decimal number";
  (void)int_digits;
  /* value = dig * 10^(exp10 - frac_digits); unscaled = value * 10^scale.
   * Only the significant digits were kept: leading zeros dropped. */
  long shift = exp10 - (long)frac_digits + scale;
  while (nd > 0 && shift < 0 && dig[nd - 1] == '0') {
    nd--;
    shift++;
  }
  if (nd == 0) {
    shift = 0;
  } else if (shift < 0) {
    return "has more digits after the decimal point than the column's scale allows";
  }
  if ((long)nd + shift > precision)
    return "is out of range for the column's precision";
  for (long z = 0; z < shift; z++)
    dig[nd++] = '0';
  uint32_t limbs[DEC_LIMBS] = {0};
  size_t nl = bytes / 4;
  for (size_t d = 0; d < nd; d++) {
    uint64_t carry = (uint64_t)(dig[d] - '0');
    for (size_t l = 0; l < nl; l++) {
      uint64_t v = (uint64_t)limbs[l] * 10u + carry;
      limbs[l] = (uint32_t)v;
      carry = v >> 32;
    }
  }
  if (neg) {
    uint64_t carry = 1;
    for (size_t l = 0; l < nl; l++) {
      uint64_t v = (uint64_t)(uint32_t)~limbs[l] + carry;
      limbs[l] = (uint32_t)v;
      carry = v >> 32;
    }
  }
  for (size_t l = 0; l < nl; l++)
    cl_put32(le + 4 * l, limbs[l]);
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Hex and type support                                                       */
/* ------------------------------------------------------------------------ */

clance_status cl_hex_append(cl_buf *out, const uint8_t *p, size_t n, clance_error *err) {
  static const char hex[] = "0123456789abcdef";
  CL_TRY(cl_buf_reserve(out, 2 * n, err));
  uint8_t *d = out->data + out->len;
  for (size_t i = 0; i < n; i++) {
    d[2 * i] = (uint8_t)hex[p[i] >> 4];
    d[2 * i + 1] = (uint8_t)hex[p[i] & 15];
  }
  out->len += 2 * n;
  return CLANCE_OK;
}

clance_status cl_text_check_field(const cl_field *f, int for_input, const char *column,
                                  clance_error *err) {
  switch (f->type) {
  case CL_TYPE_DICTIONARY:
    if (for_input)
      return cl_err(err, CLANCE_EUNSUPPORTED,
                    "column \"%s\": dictionary-encoded columns cannot be read from text", column);
    if (f->n_children != 1 || !cl_type_is_integer(f->index_type))
      return cl_err(err, CLANCE_EUNSUPPORTED, "column \"%s\": malformed dictionary type", column);
    return cl_text_check_field(&f->children[0], for_input, column, err);
  case CL_TYPE_DECIMAL128:
  case CL_TYPE_DECIMAL256: {
    int32_t maxp = f->type == CL_TYPE_DECIMAL128 ? 38 : 76;
    if (f->size < 1 || f->size > maxp || f->scale < -maxp || f->scale > maxp)
      return cl_err(err, CLANCE_EUNSUPPORTED, "column \"%s\": unsupported %s(%d,%d)", column,
                    cl_type_name(f->type), (int)f->size, (int)f->scale);
    return CLANCE_OK;
  }
  case CL_TYPE_FIXED_SIZE_LIST:
  case CL_TYPE_LIST:
  case CL_TYPE_LARGE_LIST:
    if (f->n_children != 1 || (f->type == CL_TYPE_FIXED_SIZE_LIST && f->size < 1))
      return cl_err(err, CLANCE_EUNSUPPORTED, "column \"%s\": malformed %s type", column,
                    cl_type_name(f->type));
    return cl_text_check_field(&f->children[0], for_input, column, err);
  case CL_TYPE_STRUCT:
    for (size_t i = 0; i < f->n_children; i++)
      CL_TRY(cl_text_check_field(&f->children[i], for_input, column, err));
    return CLANCE_OK;
  case CL_TYPE_FIXED_SIZE_BINARY:
    if (f->size < 0)
      return cl_err(err, CLANCE_EUNSUPPORTED, "column \"%s\": malformed fixed_size_binary type",
                    column);
    return CLANCE_OK;
  default:
    if ((unsigned)f->type > (unsigned)CL_TYPE_DICTIONARY)
      return cl_err(err, CLANCE_EUNSUPPORTED, "column \"%s\": unknown type", column);
    return CLANCE_OK;
  }
}
