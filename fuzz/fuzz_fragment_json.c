/* FragmentMetadata JSON: parse, print, parse again; the two prints must agree. */
#include <stdlib.h>
#include <string.h>

#include "clance/clance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  clance_error err;
  clance_fragments *f;
  if (clance_fragments_from_json((const char *)data, size, "fuzz", &f, &err) != CLANCE_OK)
    return 0;
  char *a = NULL, *b = NULL;
  clance_fragments *g = NULL;
  if (clance_fragments_to_json(f, &a, &err) == CLANCE_OK) {
    if (clance_fragments_from_json(a, strlen(a), "again", &g, &err) != CLANCE_OK)
      abort();
    if (clance_fragments_to_json(g, &b, &err) != CLANCE_OK || strcmp(a, b) != 0)
      abort();
  }
  clance_free(a);
  clance_free(b);
  clance_fragments_free(f);
  clance_fragments_free(g);
  return 0;
}
