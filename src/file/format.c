#include "file/format.h"

#include <string.h>

clance_status cl_file_version_parse(const char *s, cl_file_version *out, clance_error *err) {
  if (!strcmp(s, "2.0") || !strcmp(s, "stable") || !strcmp(s, "0.3"))
    *out = CL_FILE_V2_0;
  else if (!strcmp(s, "2.1") || !strcmp(s, "next"))
    *out = CL_FILE_V2_1;
  else if (!strcmp(s, "2.2"))
    *out = CL_FILE_V2_2;
  else if (!strcmp(s, "0.1") || !strcmp(s, "legacy"))
    return cl_err(err, CLANCE_EUNSUPPORTED,
                  "data storage version %s (legacy Lance files) is not supported", s);
  else
    return cl_err(err, CLANCE_EINVAL, "unknown data storage version \"%s\" (use 2.0, 2.1 or 2.2)", s);
  return CLANCE_OK;
}

const char *cl_file_version_name(cl_file_version v) {
  switch (v) {
  case CL_FILE_V2_0: return "2.0";
  case CL_FILE_V2_1: return "2.1";
  case CL_FILE_V2_2: return "2.2";
  }
  return "?";
}

void cl_file_version_manifest_pair(cl_file_version v, uint32_t *major, uint32_t *minor) {
  *major = 2;
  *minor = (uint32_t)v;
}

void cl_file_version_footer_pair(cl_file_version v, uint16_t *major, uint16_t *minor) {
  /* Lance writes 2.0 files with the footer pair (0, 3). */
  if (v == CL_FILE_V2_0) {
    *major = 0;
    *minor = 3;
  } else {
    *major = 2;
    *minor = (uint16_t)v;
  }
}

int cl_file_version_from_manifest(uint32_t major, uint32_t minor, cl_file_version *out) {
  if ((major == 2 && minor == 0) || (major == 0 && minor == 3))
    *out = CL_FILE_V2_0;
  else if (major == 2 && minor == 1)
    *out = CL_FILE_V2_1;
  else if (major == 2 && minor == 2)
    *out = CL_FILE_V2_2;
  else
    return -1;
  return 0;
}
