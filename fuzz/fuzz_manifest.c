/* Manifest bytes: trailer, blocks, Manifest protobuf, schema, inline transaction. */
#include "table/manifest.h"
#include "table/transaction.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  clance_error err;
  cl_manifest m;
  if (cl_manifest_parse(data, size, "fuzz.manifest", 0, &m, &err) != CLANCE_OK)
    return 0;
  cl_schema s;
  if (cl_manifest_schema(&m, &s, &err) == CLANCE_OK)
    cl_schema_free(&s);
  pb_txn *t;
  if (m.txn_block && cl_txn_of_manifest(&m, "/nonexistent", &t, &err) == CLANCE_OK && t)
    protobuf_c_message_free_unpacked(&t->base, NULL);
  cl_buf out = CL_BUF_INIT;
  (void)cl_manifest_encode(m.pb, m.index_block, m.index_len, m.txn_block, m.txn_len, &out, &err);
  cl_buf_free(&out);
  cl_manifest_free(&m);
  return 0;
}
