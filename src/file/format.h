/* Lance data file versions and container constants. */
#ifndef CL_FILE_FORMAT_H
#define CL_FILE_FORMAT_H

#include <stdint.h>

#include "util/error.h"

typedef enum cl_file_version {
  CL_FILE_V2_0 = 0,
  CL_FILE_V2_1 = 1,
  CL_FILE_V2_2 = 2
} cl_file_version;

#define CL_FOOTER_SIZE 40
#define CL_MAGIC "LANC"
#define CL_PAGE_ALIGN 64
#define CL_PAD_BYTE 0x48 /* 'H', what Lance pads page buffers with */

/* "2.0", "2.1", "2.2" (also "stable" = 2.0 and "next" = 2.1 as in Lance). */
clance_status cl_file_version_parse(const char *s, cl_file_version *out, clance_error *err);
const char *cl_file_version_name(cl_file_version v);
/* The (major, minor) pair stored in manifests (DataFile) for this version. */
void cl_file_version_manifest_pair(cl_file_version v, uint32_t *major, uint32_t *minor);
/* The (major, minor) pair written in the data file footer. */
void cl_file_version_footer_pair(cl_file_version v, uint16_t *major, uint16_t *minor);
/* Map a manifest DataFile pair to a version; 0 on success, -1 for legacy/unknown. */
int cl_file_version_from_manifest(uint32_t major, uint32_t minor, cl_file_version *out);

#endif
