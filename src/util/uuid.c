#include "util/uuid.h"

#include <stdio.h>

#include "io/fs.h"

static void uuid_bytes_v4(uint8_t b[16]) {
  b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
  b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

clance_status cl_uuid_v4(char out[37], clance_error *err) {
  uint8_t b[16];
  CL_TRY(cl_random_bytes(b, sizeof b, err));
  uuid_bytes_v4(b);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
           b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
           b[15]);
  return CLANCE_OK;
}

clance_status cl_data_file_name(char out[57], clance_error *err) {
  uint8_t b[16];
  CL_TRY(cl_random_bytes(b, sizeof b, err));
  uuid_bytes_v4(b);
  size_t k = 0;
  for (int i = 0; i < 3; i++)
    for (int bit = 7; bit >= 0; bit--)
      out[k++] = (b[i] >> bit) & 1 ? '1' : '0';
  for (int i = 3; i < 16; i++) {
    snprintf(out + k, 3, "%02x", b[i]);
    k += 2;
  }
  snprintf(out + k, 57 - k, ".lance");
  return CLANCE_OK;
}
