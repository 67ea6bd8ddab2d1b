#include "table/transaction.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/fs.h"

cl_op_kind cl_txn_kind(const pb_txn *t) {
  switch (t->operation_case) {
  case LANCE__TABLE__TRANSACTION__OPERATION_APPEND: return CL_OP_APPEND;
  case LANCE__TABLE__TRANSACTION__OPERATION_DELETE: return CL_OP_DELETE;
  case LANCE__TABLE__TRANSACTION__OPERATION_OVERWRITE: return CL_OP_OVERWRITE;
  case LANCE__TABLE__TRANSACTION__OPERATION_CREATE_INDEX: return CL_OP_CREATE_INDEX;
  case LANCE__TABLE__TRANSACTION__OPERATION_REWRITE: return CL_OP_REWRITE;
  case LANCE__TABLE__TRANSACTION__OPERATION_MERGE: return CL_OP_MERGE;
  case LANCE__TABLE__TRANSACTION__OPERATION_RESTORE: return CL_OP_RESTORE;
  case LANCE__TABLE__TRANSACTION__OPERATION_RESERVE_FRAGMENTS: return CL_OP_RESERVE_FRAGMENTS;
  case LANCE__TABLE__TRANSACTION__OPERATION_UPDATE: return CL_OP_UPDATE;
  case LANCE__TABLE__TRANSACTION__OPERATION_PROJECT: return CL_OP_PROJECT;
  case LANCE__TABLE__TRANSACTION__OPERATION_UPDATE_CONFIG: return CL_OP_UPDATE_CONFIG;
  case LANCE__TABLE__TRANSACTION__OPERATION_DATA_REPLACEMENT: return CL_OP_DATA_REPLACEMENT;
  case LANCE__TABLE__TRANSACTION__OPERATION_UPDATE_MEM_WAL_STATE: return CL_OP_UPDATE_MEM_WAL_STATE;
  case LANCE__TABLE__TRANSACTION__OPERATION_CLONE: return CL_OP_CLONE;
  case LANCE__TABLE__TRANSACTION__OPERATION_UPDATE_BASES: return CL_OP_UPDATE_BASES;
  default: return CL_OP_UNKNOWN;
  }
}

const char *cl_op_name(cl_op_kind k) {
  static const char *const names[] = {
      "Unknown",     "Append",  "Delete",  "Overwrite",        "CreateIndex",
      "Rewrite",     "Merge",   "Restore", "ReserveFragments", "Update",
      "Project",     "UpdateConfig", "DataReplacement", "UpdateMemWalState", "Clone",
      "UpdateBases"};
  return (size_t)k < sizeof names / sizeof *names ? names[k] : "Unknown";
}

void cl_txn_file_name(const pb_txn *t, char *out, size_t n) {
  snprintf(out, n, "%llu-%s.txn", (unsigned long long)t->read_version, cl_pb_str(t->uuid));
}

clance_status cl_txn_of_manifest(const cl_manifest *m, const char *root, pb_txn **out,
                                 clance_error *err) {
  *out = NULL;
  if (m->txn_block) {
    char what[600];
    snprintf(what, sizeof what, "manifest %s: inline transaction", m->path);
    return cl_pb_unpack(&lance__table__transaction__descriptor, m->txn_block, m->txn_len, what,
                        (ProtobufCMessage **)out, err);
  }
  const char *name = cl_pb_str(m->pb->transaction_file);
  if (!*name)
    return CLANCE_OK;
  if (strchr(name, '/'))
    return cl_err(err, CLANCE_ECORRUPT, "manifest %s: transaction file name \"%s\" has a '/'",
                  m->path, name);
  char rel[512];
  snprintf(rel, sizeof rel, "_transactions/%s", name);
  char *p = cl_path_join(root, rel, err);
  if (!p)
    return err->code;
  cl_buf b = CL_BUF_INIT;
  clance_status st = cl_file_read_all(p, (size_t)1 << 31, &b, err);
  if (!st)
    st = cl_pb_unpack(&lance__table__transaction__descriptor, b.data ? b.data : (const uint8_t *)"",
                      b.len, p, (ProtobufCMessage **)out, err);
  cl_buf_free(&b);
  free(p);
  return st;
}
