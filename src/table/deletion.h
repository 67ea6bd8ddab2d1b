/* Deletion vectors: the row offsets of a fragment that are deleted, loaded
 * from _deletions/{fragment}-{read_version}-{id}.arrow (Arrow IPC file with a
 * uint32 row_id column) or .bin (portable Roaring bitmap). */
#ifndef CL_TABLE_DELETION_H
#define CL_TABLE_DELETION_H

#include <stdint.h>

#include "proto/pb.h"

typedef struct cl_deletions {
  uint32_t *rows; /* sorted, unique */
  size_t n;
} cl_deletions;

/* "_deletions/<frag>-<read_version>-<id>.<arrow|bin>" relative to root; caller frees. */
char *cl_deletion_path(const char *root, const pb_fragment *f, clance_error *err);

/* Load and validate the deletion vector of fragment f (which must have one).
 * The count must match deletion_file.num_deleted_rows and every offset must
 * be below the fragment's physical rows (when known). */
clance_status cl_deletions_load(const char *root, const pb_fragment *f, cl_deletions **out,
                                clance_error *err);
void cl_deletions_free(cl_deletions *d);

int cl_deletions_contains(const cl_deletions *d, uint64_t row);
/* End (exclusive, at most `limit`) of the run of rows starting at `row` that
 * all share row's deleted/kept state. */
uint64_t cl_deletions_run_end(const cl_deletions *d, uint64_t row, uint64_t limit);

/* Write the deletion vector `rows` (sorted, unique, n > 0) of fragment
 * `frag_id` as a new file under root/_deletions/, in the form Lance picks
 * (an Arrow IPC file of uint32 row_id for up to 5000 rows, else a portable
 * Roaring bitmap), durably (fsync'ed), and describe it in *out (malloc'ed;
 * free with protobuf_c_message_free_unpacked). */
clance_status cl_deletions_write(const char *root, uint64_t frag_id, uint64_t read_version,
                                 const uint32_t *rows, size_t n,
                                 Lance__Table__DeletionFile **out, clance_error *err);

/* cl_deletions_write in the given form (`bitmap`: .bin, else .arrow), for
 * writers that choose it as Lance does (a rebase always writes a bitmap). */
clance_status cl_deletions_write_as(const char *root, uint64_t frag_id, uint64_t read_version,
                                    const uint32_t *rows, size_t n, int bitmap,
                                    Lance__Table__DeletionFile **out, clance_error *err);

/* The union of two sorted unique row lists (malloc'ed). */
clance_status cl_rows_union(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                            uint32_t **out, size_t *n, clance_error *err);

/* Parse deletion vector bytes (exposed for fuzzing). `bitmap` selects the
 * .bin form. */
clance_status cl_deletions_parse(const uint8_t *data, size_t len, int bitmap, const char *what,
                                 cl_deletions **out, clance_error *err);

#endif
