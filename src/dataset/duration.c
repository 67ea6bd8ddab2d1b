/* Durations as cleanup thresholds are written ("14d", "1h30m", "2weeks"):
 * a subset of the humantime syntax Lance's auto-cleanup config uses. */
#include <stdint.h>
#include <string.h>

#include "util/error.h"

typedef struct unit {
  const char *name;
  int64_t seconds;
} unit;

/* Plural forms ("days", "hrs") are the names plus 's'. */
static const unit units[] = {
    {"s", 1},         {"sec", 1},       {"second", 1},  {"m", 60},     {"min", 60},
    {"minute", 60},   {"h", 3600},      {"hr", 3600},   {"hour", 3600}, {"d", 86400},
    {"day", 86400},   {"w", 604800},    {"week", 604800}};

static int64_t unit_seconds(const char *s, size_t n) {
  for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
    size_t k = strlen(units[i].name);
    if ((n == k || (n == k + 1 && k > 1 && s[k] == 's')) && !strncmp(s, units[i].name, k))
      return units[i].seconds;
  }
  return -1;
}

clance_status clance_parse_duration(const char *text, int64_t *seconds, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!text || !seconds)
    return cl_err(err, CLANCE_EINVAL, "clance_parse_duration: NULL argument");
  int64_t total = 0;
  int parts = 0;
  const char *p = text;
  for (;;) {
    while (*p == ' ')
      p++;
    if (!*p)
      break;
    if (*p < '0' || *p > '9')
      return cl_err(err, CLANCE_EINVAL, "duration \"%s\": expected a number at \"%s\" (e.g. 14d, "
                    "3h, 1h30m, 90s)", text, p);
    int64_t n = 0;
    for (; *p >= '0' && *p <= '9'; p++)
      if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, *p - '0', &n))
        return cl_err(err, CLANCE_EINVAL, "duration \"%s\" is too long", text);
    const char *u = p;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
      p++;
    if (p == u)
      return cl_err(err, CLANCE_EINVAL, "duration \"%s\": the number %lld has no unit (s, m, h, "
                    "d or w)", text, (long long)n);
    int64_t per = unit_seconds(u, (size_t)(p - u));
    if (per < 0)
      return cl_err(err, CLANCE_EINVAL, "duration \"%s\": unknown unit \"%.*s\" (s, m, h, d or "
                    "w)", text, (int)(p - u), u);
    if (__builtin_mul_overflow(n, per, &n) || __builtin_add_overflow(total, n, &total))
      return cl_err(err, CLANCE_EINVAL, "duration \"%s\" is too long", text);
    parts++;
  }
  if (!parts)
    return cl_err(err, CLANCE_EINVAL, "duration \"%s\" is empty (e.g. 14d, 3h, 1h30m, 90s)", text);
  *seconds = total;
  return CLANCE_OK;
}
