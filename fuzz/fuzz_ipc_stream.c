/* Fuzz the lazy Arrow IPC stream that `write-fragments --format arrow` reads
 * (cl_ipc_stream_open_mem with zero-copy buffers, dictionaries decoded as
 * the CLI does, or kept). Any input must either fail with ECORRUPT,
 * EUNSUPPORTED or ENOMEM and a message naming the source, or give batches
 * that pass cl_array_validate and can be appended to column builders (what
 * the file writer does with them), also after the stream is released.
 *
 * The first byte picks the options; the rest is the IPC input, copied to an
 * exact-size buffer so that reads past its end are caught. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/array.h"
#include "arrow/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEEP 8

static void check_message(const char *m) {
  if (!m || strncmp(m, "fuzz", 4) != 0)
    abort();
}

static void consume(const cl_schema *s, struct ArrowArray *b) {
  cl_field root;
  memset(&root, 0, sizeof root);
  root.name = "batch";
  root.type = CL_TYPE_STRUCT;
  root.children = s->fields;
  root.n_children = s->n_fields;
  clance_error err;
  clance_status vs = cl_array_validate(&root, b, "fuzz", &err);
  if (vs && vs != CLANCE_ESCHEMA)
    abort();
  if (vs)
    return;
  for (size_t i = 0; i < s->n_fields; i++) {
    cl_arr a;
    if (cl_arr_init(&a, &s->fields[i], &err))
      continue;
    clance_status st = cl_arr_append_from(&a, b->children[i], 0, b->length, &err);
    if (st && st != CLANCE_ENOMEM && st != CLANCE_EUNSUPPORTED && st != CLANCE_EINVAL)
      abort();
    cl_arr_free(&a);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t mode = size ? data[0] : 0;
  size_t n = size ? size - 1 : 0;
  uint8_t *d = malloc(n ? n : 1);
  if (!d)
    return 0;
  if (n)
    memcpy(d, data + 1, n);
  cl_ipc_read_options o;
  memset(&o, 0, sizeof o);
  o.decode_dictionaries = !(mode & 1);
  o.max_decoded_bytes = 16u << 20;
  struct ArrowArrayStream st;
  clance_error err;
  clance_status rc = cl_ipc_stream_open_mem(d, n, "fuzz", !(mode & 2), &o, &st, &err);
  if (rc) {
    if (rc != CLANCE_ECORRUPT && rc != CLANCE_EUNSUPPORTED && rc != CLANCE_ENOMEM)
      abort();
    if (rc != CLANCE_ENOMEM)
      check_message(err.message);
    free(d);
    return 0;
  }
  struct ArrowSchema as;
  if (st.get_schema(&st, &as) != 0)
    abort();
  cl_schema s;
  if (cl_schema_from_arrow(&as, &s, &err)) {
    as.release(&as);
    st.release(&st);
    free(d);
    return 0;
  }
  as.release(&as);
  struct ArrowArray keep[KEEP];
  size_t kept = 0;
  for (;;) {
    struct ArrowArray b;
    int e = st.get_next(&st, &b);
    if (e) {
      if (e != EBADMSG && e != EOPNOTSUPP && e != ENOMEM)
        abort();
      if (e != ENOMEM)
        check_message(st.get_last_error(&st));
      break;
    }
    if (!b.release)
      break;
    if (kept < KEEP)
      keep[kept++] = b;
    else
      b.release(&b);
  }
  st.release(&st);
  /* batches outlive the stream (the input stays until we free it) */
  for (size_t i = 0; i < kept; i++) {
    consume(&s, &keep[i]);
    keep[i].release(&keep[i]);
  }
  cl_schema_free(&s);
  free(d);
  return 0;
}
