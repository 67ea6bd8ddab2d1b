/* Random identifiers: UUID v4 text and Lance-style data file names. */
#ifndef CL_UTIL_UUID_H
#define CL_UTIL_UUID_H

#include <stdint.h>

#include "util/error.h"

/* 36 characters + NUL, lowercase hyphenated. */
clance_status cl_uuid_v4(char out[37], clance_error *err);

/* A data file name as Lance >= 0.37 makes them: bytes 0..2 of a random UUID
 * as 24 binary digits (spreads object-store key prefixes), bytes 3..15 as 26
 * hex digits, then ".lance". 56 characters + NUL. */
clance_status cl_data_file_name(char out[57], clance_error *err);

#endif
