/* Schema spec strings and Lance logical type strings. */
#include <stdlib.h>
#include <string.h>

#include "arrow/type.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s)
    return 0;
  memcpy(s, data, size);
  s[size] = '\0';
  clance_error err;
  cl_schema sch;
  if (cl_schema_parse_spec(s, &sch, &err) == CLANCE_OK) {
    struct ArrowSchema a;
    if (cl_schema_to_arrow(&sch, &a, &err) == CLANCE_OK) {
      cl_schema back;
      if (cl_schema_from_arrow(&a, &back, &err) != CLANCE_OK)
        abort(); /* our own export must import */
      cl_schema_free(&back);
      a.release(&a);
    }
    cl_schema_free(&sch);
  }
  cl_field f;
  memset(&f, 0, sizeof f);
  if (cl_field_set_logical_type(&f, s, &err) == CLANCE_OK) {
    cl_buf b = CL_BUF_INIT;
    (void)cl_field_logical_type(&f, &b, &err);
    cl_buf_free(&b);
  }
  cl_field_free(&f);
  free(s);
  return 0;
}
