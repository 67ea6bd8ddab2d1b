/*
 * clance MPI front end (libclance_mpi): a distributed write, or a distributed
 * add-columns, in one collective call.
 *
 * Separate from libclance, which never depends on MPI; link -lclance_mpi -lclance
 * and your MPI library. Built only when CMake finds MPI (option CLANCE_MPI).
 * Conventions are clance.h's: a clance_status result, an optional caller-owned
 * clance_error last, Arrow C Stream Interface input.
 *
 * Every function here is COLLECTIVE over `comm`: every rank calls it with the
 * same uri, operation, read version and data storage version, and every rank
 * returns the same status, message and version.
 */
#ifndef CLANCE_CLANCE_MPI_H
#define CLANCE_CLANCE_MPI_H

#include <mpi.h>
#include <stdint.h>

#include "clance/clance.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What the ranks' fragments become when rank 0 commits them. */
typedef enum clance_mpi_operation {
  /** Overwrite: the dataset becomes the ranks' schema and rows (created if absent). */
  CLANCE_MPI_OVERWRITE = 0,
  /** Append the ranks' rows to the existing dataset. */
  CLANCE_MPI_APPEND = 1
} clance_mpi_operation;

/** `read_version` meaning "the latest version when the call starts" (rank 0
 *  reads it before any rank writes; 0 when an Overwrite creates the dataset). */
#define CLANCE_MPI_LATEST_VERSION UINT64_MAX

/**
 * Distributed write of one transaction, collective over `comm`:
 *
 *  1. every rank describes its schema (`schema`, or the stream's own when
 *     NULL); rank 0 checks that all ranks give the same schema (names, types,
 *     nullability, metadata) and the same uri, `op`, `read_version` and
 *     data storage version; a mismatch fails every rank before anything is
 *     written (CLANCE_ESCHEMA for schemas, CLANCE_EINVAL for the rest);
 *  2. every rank writes its stream as fragments with clance_write_fragments()
 *     (no commit); the FragmentMetadata JSON is gathered to rank 0
 *     (MPI_Gatherv, lengths first);
 *  3. rank 0 commits ONE operation (Overwrite with the schema, or Append) at
 *     `read_version` over the fragments in rank order (rank 0's first), with
 *     `commit_options` (NULL = defaults);
 *  4. the outcome is broadcast: every rank returns the same status, message
 *     and *out_version (the committed version).
 *
 * When any rank fails (bad input, I/O, schema), every rank returns the error
 * of the lowest failing rank, its message prefixed with "rank R: "; nothing is
 * committed, and the data files the other ranks wrote are removed before any
 * rank returns. A failed commit ("commit by rank 0: ...") removes them too.
 *
 * `options` (may be NULL) are the write options of every rank; mode AUTO
 * becomes CREATE for an Overwrite and APPEND for an Append (other mixes are
 * CLANCE_EINVAL); num_threads 0 becomes the node's online cores divided by
 * the ranks on the node (at least 1). `read_version`: the version the write is prepared against
 * (0 when an Overwrite creates the dataset), or CLANCE_MPI_LATEST_VERSION.
 * `stream` is consumed on every rank (released before returning, on success
 * and on error). A rank may have no rows (an empty stream). A rank that
 * cannot even open its input still has to take part: pass a stream from
 * clance_mpi_error_stream(), so that every rank fails with its error.
 */
CLANCE_API clance_status clance_mpi_write(MPI_Comm comm, const char *uri,
                                          const struct ArrowSchema *schema,
                                          struct ArrowArrayStream *stream,
                                          clance_mpi_operation op,
                                          const clance_write_options *options,
                                          uint64_t read_version,
                                          const clance_commit_options *commit_options,
                                          uint64_t *out_version, clance_error *err);

/**
 * A stream that fails with `error` (its code and message) at get_schema and
 * get_next: the input of a rank whose own input could not be opened, so that
 * it still takes part in clance_mpi_write() and every rank reports its error.
 * Release it with out->release(out) (clance_mpi_write() does).
 */
CLANCE_API clance_status clance_mpi_error_stream(const clance_error *error,
                                                 struct ArrowArrayStream *out,
                                                 clance_error *err);

/**
 * Values of the new columns for one fragment, asked for by
 * clance_mpi_add_columns() on the rank that handles the fragment: fill `out`
 * with a stream of the new columns (the schema of `new_columns`, same names,
 * types, nullability and metadata) holding exactly `num_rows` rows, one per
 * live row of fragment `fragment_id` of `ds` in scan order. These are the
 * rows `first_row` .. `first_row + num_rows - 1` of the whole version (0-based
 * among its live rows in scan order, deleted rows not counted), so values
 * matched by position need only `first_row`; values matched by a key can scan
 * the fragment's key column (clance_dataset_scan() with fragment_ids). `ds` is
 * the read version, open for the whole call. Return CLANCE_OK, or an error
 * with `err` set (`out` is then ignored): every rank then fails with it.
 */
typedef clance_status (*clance_mpi_values_fn)(void *user, const clance_dataset *ds,
                                              uint64_t fragment_id, uint64_t first_row,
                                              uint64_t num_rows, struct ArrowArrayStream *out,
                                              clance_error *err);

/**
 * Distributed add-columns (Lance's merge_columns) of one transaction,
 * collective over `comm`:
 *
 *  1. rank 0 checks that all ranks give the same uri, `read_version` and new
 *     columns (`new_columns`: a struct schema of the columns to add, which
 *     must not exist yet), and resolves CLANCE_MPI_LATEST_VERSION;
 *  2. the fragments of the read version are split in contiguous ranges in
 *     manifest order: with F fragments and N ranks, rank r handles the
 *     fragments at positions floor(r*F/N) .. floor((r+1)*F/N) - 1, so its
 *     rows are one contiguous range of the version's rows in scan order (a
 *     rank may have none when F < N). For each of them, in order, the rank
 *     calls `values` and writes the values as a new data file of the fragment
 *     (clance_fragment_add_columns(), with `options`; may be NULL); no
 *     existing file is rewritten; deleted rows get nulls;
 *  3. the updated FragmentMetadata JSON is gathered to rank 0, which commits
 *     ONE Merge (clance_operation_merge()) with `new_columns` at the read
 *     version, with `commit_options` (NULL = defaults);
 *  4. the outcome is broadcast: every rank returns the same status, message
 *     and *out_version (the committed version).
 *
 * When any rank fails (its `values` callback, a stream with too few or too
 * many rows or another schema, I/O), every rank returns the error of the
 * lowest failing rank, its message prefixed with "rank R: "; nothing is
 * committed and the new data files of every rank are removed (the existing
 * files of the fragments are never touched) before any rank returns.
 */
CLANCE_API clance_status clance_mpi_add_columns(MPI_Comm comm, const char *uri,
                                                uint64_t read_version,
                                                const struct ArrowSchema *new_columns,
                                                clance_mpi_values_fn values, void *user,
                                                const clance_write_options *options,
                                                const clance_commit_options *commit_options,
                                                uint64_t *out_version, clance_error *err);

/**
 * The share of rank `rank` of `size` ranks in a clance_mpi_add_columns() over
 * the version `ds` is open at (not collective; no MPI call): the positions of
 * its fragments in manifest order (*first_fragment, *num_fragments) and its
 * rows in scan order (*first_row, *num_rows; deleted rows not counted). Any
 * output may be NULL. A program that gives each rank its own input checks
 * with it, before the collective call, that the input has the right rows.
 */
CLANCE_API clance_status clance_mpi_add_columns_share(const clance_dataset *ds, int rank,
                                                      int size, size_t *first_fragment,
                                                      size_t *num_fragments, uint64_t *first_row,
                                                      uint64_t *num_rows, clance_error *err);

/** Name of an operation: "overwrite", "append" (NULL for an unknown value). */
CLANCE_API const char *clance_mpi_operation_name(clance_mpi_operation op);

#ifdef __cplusplus
}
#endif

#endif /* CLANCE_CLANCE_MPI_H */
