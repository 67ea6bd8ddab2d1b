/* Rebasing a Delete or Update over concurrent Deletes and Updates of the same
 * fragments, as Lance's TransactionRebase does (conflict_resolver.rs,
 * docs/conflicts.md "Delete and Update of the same fragment").
 *
 * When both only added deletions to a fragment, ours is committed with a new
 * deletion file: the fragment's deletion vector in the latest version united
 * with the rows ours deletes. Everything else (the fragment removed or its
 * data files changed by the other side, ours removing whole fragments or
 * rewriting columns, both deleting the same row) stays a retryable conflict.
 *
 * Use: cl_txn_rebase_check() for every transaction committed since the read
 * version (it falls back to cl_txn_conflict() for the other pairs), then
 * cl_txn_rebase_finish() against the latest manifest before building the next
 * one, and cl_txn_rebase_end() once the commit succeeded or finally failed. */
#ifndef CL_TABLE_TXN_REBASE_H
#define CL_TABLE_TXN_REBASE_H

#include "table/transaction.h"

typedef struct cl_rebase_frag cl_rebase_frag;

typedef struct cl_txn_rebase {
  int started;              /* ours was inspected (on the first check) */
  const char *no_rows;      /* why ours cannot name the rows it deletes (never merged) */
  pb_txn *original;         /* ours as prepared: each finish starts from it */
  const pb_manifest *read;  /* the read version (outlives the rebase) */
  cl_rebase_frag *frags;    /* fragments of the read version ours changes */
  size_t n_frags;
  uint64_t read_version;
} cl_txn_rebase;

/* The outcome of committing `ours` (prepared against `read`) after `theirs`,
 * committed as version `their_version`. A zeroed *rb is a valid start. */
clance_status cl_txn_rebase_check(cl_txn_rebase *rb, const pb_manifest *read, const pb_txn *ours,
                                  const pb_txn *theirs, uint64_t their_version, int overwrite_wins,
                                  cl_conflict *out, char *why, size_t why_size, clance_error *err);

/* When a concurrent commit changed the deletion vector of a fragment ours
 * changes: write the merged deletion files under root/_deletions/ (fsync'ed;
 * the directory is synced by the caller before publishing) and replace *txn
 * by ours rebased onto `latest` (read_version = latest's version, new
 * deletion files, fragments left without rows removed); *changed = 1. Files
 * an earlier finish wrote are removed. A row both sides deleted is a
 * CLANCE_ECONFLICT_RETRYABLE error naming both operations and versions. */
clance_status cl_txn_rebase_finish(cl_txn_rebase *rb, const char *root, const pb_manifest *latest,
                                   pb_txn **txn, int *changed, clance_error *err);

/* Free rb; unless `committed`, remove the deletion files it wrote (nothing
 * published refers to them). */
void cl_txn_rebase_end(cl_txn_rebase *rb, const char *root, int committed);

#endif
