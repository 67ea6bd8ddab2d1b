/* Deletion vectors: first byte selects .bin (Roaring) or .arrow (IPC file). */
#include "table/deletion.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  clance_error err;
  cl_deletions *d;
  if (cl_deletions_parse(data + 1, size - 1, data[0] & 1, "fuzz", &d, &err) == CLANCE_OK) {
    for (size_t i = 0; i < d->n && i < 64; i++)
      (void)cl_deletions_run_end(d, d->rows[i], (uint64_t)d->rows[i] + 10);
    cl_deletions_free(d);
  }
  return 0;
}
