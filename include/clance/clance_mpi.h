/*
 * clance MPI front end (libclance_mpi): a distributed write in one collective call.
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

/** Name of an operation: "overwrite", "append" (NULL for an unknown value). */
CLANCE_API const char *clance_mpi_operation_name(clance_mpi_operation op);

#ifdef __cplusplus
}
#endif

#endif /* CLANCE_CLANCE_MPI_H */
