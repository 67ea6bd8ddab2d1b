/* Whole data files: footer, tables, file descriptor, column metadata and
 * every page of every column decoded with the file's own schema. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "encoding/decode.h"
#include "file/file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* The reader opens paths; an anonymous in-memory file keeps the disk out
   * of the loop (tens of thousands of inputs a minute). */
  int fd = memfd_create("clance-fuzz", 0);
  if (fd < 0)
    return 0;
  if (write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return 0;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  clance_error err;
  cl_file_reader *r;
  if (cl_file_reader_open(path, 0, &r, &err) == CLANCE_OK) {
    /* Flat schemas map field i to column i; decode what maps. */
    for (size_t c = 0; c < r->n_cols && c < r->schema.n_fields; c++) {
      const cl_column_info *ci;
      if (cl_file_reader_column(r, c, &ci, &err) != CLANCE_OK)
        continue;
      for (size_t p = 0; p < ci->n_pages && p < 64; p++) {
        /* Row access into the page (takes) must be as careful as decoding. */
        struct cl_page_rows *pr;
        int supported;
        if (cl_file_reader_page_rows(r, c, p, &r->schema.fields[c], &pr, &supported, &err) == CLANCE_OK &&
            supported) {
          cl_arr dst;
          if (cl_arr_init(&dst, &r->schema.fields[c], &err) == CLANCE_OK) {
            uint64_t len = ci->pages[p].length, rows[3] = {0, len / 2, len - 1};
            (void)cl_page_rows_take(pr, rows, len ? 3 : 0, &dst, &err);
            cl_arr_free(&dst);
          }
          cl_page_rows_free(pr);
        }
        struct ArrowArray a;
        if (cl_file_reader_decode_page(r, c, p, &r->schema.fields[c], &a, &err) == CLANCE_OK) {
          if (cl_array_validate(&r->schema.fields[c], &a, "fuzz", &err) != CLANCE_OK &&
              err.code != CLANCE_ESCHEMA)
            abort(); /* a decoder produced an array that breaks Arrow's rules */
          a.release(&a);
        }
      }
    }
    cl_file_reader_close(r);
  }
  close(fd);
  return 0;
}
