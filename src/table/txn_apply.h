/* Building the next manifest from the latest one and a transaction, as
 * Lance's Transaction::build_manifest does (docs/architecture.md, "Commits").
 * A pure function of its inputs: no file is read or written here. */
#ifndef CL_TABLE_TXN_APPLY_H
#define CL_TABLE_TXN_APPLY_H

#include "file/format.h"
#include "table/manifest.h"
#include "table/transaction.h"

typedef struct cl_apply_in {
  const cl_manifest *prev;      /* the latest version; NULL when creating the dataset */
  const cl_manifest *restore;   /* Restore: the manifest of the version restored */
  uint64_t version;             /* the new version number */
  cl_file_version file_version; /* storage version of a created or overwritten dataset */
  const char *txn_file;         /* name of the transaction file under _transactions/ */
} cl_apply_in;

typedef struct cl_apply_out {
  pb_manifest *m;
  cl_buf index; /* the IndexSection to write; empty for none */
} cl_apply_out;

clance_status cl_txn_apply(const pb_txn *t, const cl_apply_in *in, cl_apply_out *out,
                           clance_error *err);
void cl_apply_out_free(cl_apply_out *o);

/* Copy of a manifest message (via serialisation). */
clance_status cl_manifest_copy_pb(const pb_manifest *src, pb_manifest **out, clance_error *err);

/* The fragment with this id, or NULL. */
pb_fragment *cl_manifest_fragment(const pb_manifest *m, uint64_t id);

#endif
