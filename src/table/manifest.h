/* Manifest files: [index block][transaction block] manifest block + 16-byte
 * trailer (i64 offset of the manifest block, u16 0, u16 2, "LANC"). */
#ifndef CL_TABLE_MANIFEST_H
#define CL_TABLE_MANIFEST_H

#include "arrow/type.h"
#include "proto/pb.h"

typedef struct cl_manifest {
  pb_manifest *pb;
  uint8_t *index_block; /* raw IndexSection bytes, NULL when none */
  size_t index_len;
  uint8_t *txn_block;   /* raw inline Transaction bytes, NULL when none */
  size_t txn_len;
  char *path;
} cl_manifest;

/* Read and validate a manifest file (`expect_version` 0 = any). */
clance_status cl_manifest_read(const char *path, uint64_t expect_version, cl_manifest *out,
                               clance_error *err);
/* The same from bytes in memory (`path` names them in errors). */
clance_status cl_manifest_parse(const uint8_t *data, size_t len, const char *path,
                                uint64_t expect_version, cl_manifest *out, clance_error *err);
void cl_manifest_free(cl_manifest *m);

/* Serialise: optional raw index block, optional inline transaction, then
 * the manifest (whose index_section/transaction_section are set here). */
clance_status cl_manifest_encode(pb_manifest *m, const uint8_t *index_block, size_t index_len,
                                 const uint8_t *txn, size_t txn_len, cl_buf *out,
                                 clance_error *err);

/* The schema stored in the manifest (fields + schema metadata). */
clance_status cl_manifest_schema(const cl_manifest *m, cl_schema *out, clance_error *err);

/* Feature flags clance understands. */
#define CL_FLAG_DELETION_FILES 1u
#define CL_FLAG_STABLE_ROW_IDS 2u
#define CL_FLAG_USE_V2_FORMAT_DEPRECATED 4u
#define CL_FLAG_TABLE_CONFIG 8u
#define CL_FLAG_BASE_PATHS 16u

/* Reader flags we can read through; writer flags we can commit on top of. */
#define CL_READER_FLAGS_SUPPORTED (CL_FLAG_DELETION_FILES | CL_FLAG_STABLE_ROW_IDS | CL_FLAG_USE_V2_FORMAT_DEPRECATED)
#define CL_WRITER_FLAGS_SUPPORTED (CL_FLAG_DELETION_FILES | CL_FLAG_USE_V2_FORMAT_DEPRECATED | CL_FLAG_TABLE_CONFIG)

#endif
