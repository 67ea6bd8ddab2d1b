/* Transactions: what a commit did, recorded in _transactions/ (and inline in
 * the manifest) so that concurrent committers can check for conflicts. */
#ifndef CL_TABLE_TRANSACTION_H
#define CL_TABLE_TRANSACTION_H

#include "proto/pb.h"
#include "table/manifest.h"

typedef enum cl_op_kind {
  CL_OP_UNKNOWN = 0,
  CL_OP_APPEND,
  CL_OP_DELETE,
  CL_OP_OVERWRITE,
  CL_OP_CREATE_INDEX,
  CL_OP_REWRITE,
  CL_OP_MERGE,
  CL_OP_RESTORE,
  CL_OP_RESERVE_FRAGMENTS,
  CL_OP_UPDATE,
  CL_OP_PROJECT,
  CL_OP_UPDATE_CONFIG,
  CL_OP_DATA_REPLACEMENT,
  CL_OP_UPDATE_MEM_WAL_STATE,
  CL_OP_CLONE,
  CL_OP_UPDATE_BASES
} cl_op_kind;

cl_op_kind cl_txn_kind(const pb_txn *t);
const char *cl_op_name(cl_op_kind k);

/* "_transactions/{read_version}-{uuid}.txn" file name (no directory). */
void cl_txn_file_name(const pb_txn *t, char *out, size_t n);

/* The transaction that produced the version `m` describes: the inline copy,
 * else _transactions/<transaction_file>; *out is NULL when there is none. */
clance_status cl_txn_of_manifest(const cl_manifest *m, const char *root, pb_txn **out,
                                 clance_error *err);

typedef enum cl_conflict {
  CL_CONFLICT_NONE = 0,       /* compatible: rebase and commit */
  CL_CONFLICT_RETRYABLE,      /* redo the work on the new version */
  CL_CONFLICT_INCOMPATIBLE    /* can never succeed */
} cl_conflict;

/* Can `ours` be committed after `theirs` was (Lance's rules, conflict.c)?
 * `why` (may be NULL) receives the reason of a conflict. With
 * `overwrite_wins` 0, an Overwrite is refused (retryable) after any commit. */
cl_conflict cl_txn_conflict(const pb_txn *ours, const pb_txn *theirs, int overwrite_wins,
                            char *why, size_t why_size);

#endif
