/* Fuzz the JSON parser: any input must parse or fail with ECORRUPT (never
 * crash), and a parsed document must dump to text that parses back to a
 * document with the very same dump. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walk the DOM through the accessors, as a consumer would. */
static void walk(const cl_json *j) {
  uint64_t u;
  int64_t i;
  double d;
  int b;
  size_t len;
  (void)cl_json_u64(j, &u);
  (void)cl_json_i64(j, &i);
  (void)cl_json_double(j, &d);
  (void)cl_json_bool(j, &b);
  const char *s = cl_json_string(j, &len);
  if (s && s[len] != '\0')
    abort();
  for (size_t k = 0; k < cl_json_len(j); k++) {
    if (cl_json_typeof(j) == CL_JSON_OBJECT) {
      const char *key = cl_json_key(j, k);
      if (!key || !cl_json_value(j, k))
        abort();
      /* Keys are unique; lookup finds this member unless the key holds a NUL. */
      const cl_json *v = cl_json_get(j, key);
      if (v && v != cl_json_value(j, k) && strlen(key) == strlen(cl_json_key(j, k)))
        abort();
      walk(cl_json_value(j, k));
    } else {
      walk(cl_json_at(j, k));
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  clance_error err = {0};
  cl_json *j = NULL, *k = NULL;
  if (cl_json_parse((const char *)data, size, "fuzz", &j, &err) != CLANCE_OK) {
    if (err.code != CLANCE_ECORRUPT && err.code != CLANCE_ENOMEM)
      abort();
    if (err.code == CLANCE_ECORRUPT && strncmp(err.message, "fuzz: line ", 11) != 0)
      abort();
    return 0;
  }
  walk(j);
  cl_buf a = CL_BUF_INIT, b = CL_BUF_INIT;
  if (cl_json_dump(j, &a, &err) != CLANCE_OK)
    abort();
  if (cl_json_parse((const char *)a.data, a.len, "dump", &k, &err) != CLANCE_OK)
    abort();
  if (cl_json_dump(k, &b, &err) != CLANCE_OK)
    abort();
  if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
    abort();
  if (cl_json_typeof(j) != cl_json_typeof(k) || cl_json_len(j) != cl_json_len(k))
    abort();
  cl_json_free(j);
  cl_json_free(k);
  cl_buf_free(&a);
  cl_buf_free(&b);
  return 0;
}
