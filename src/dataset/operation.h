/* Operations: what a commit does, as the caller described it. At commit time
 * an operation becomes a Lance transaction (cl_op_to_txn), resolved against
 * the version it was prepared on (`read`). */
#ifndef CL_DATASET_OPERATION_H
#define CL_DATASET_OPERATION_H

#include "dataset/dataset.h"

typedef struct cl_rewrite_group {
  uint64_t *old_ids;
  size_t n_old;
  clance_fragments new_frags;
} cl_rewrite_group;

typedef struct cl_key_update {
  char *key;
  char *value; /* NULL = remove the key */
} cl_key_update;

typedef struct cl_alter {
  char *name;
  char *new_name;  /* NULL = keep */
  int nullable;    /* -1 = keep, 0/1 = set */
} cl_alter;

struct clance_operation {
  cl_op_kind kind;
  cl_schema schema;        /* Overwrite: new schema (ids assigned); Merge: the added columns */
  clance_fragments frags;  /* Append/Overwrite: new; Delete/Update/Merge: updated; DataReplacement: replacements */
  clance_fragments frags2; /* Update: new fragments */
  uint64_t *ids;           /* Delete: deleted fragments; Update: removed fragments */
  size_t n_ids;
  uint32_t *fields;        /* Update: fields modified */
  size_t n_fields;
  int update_mode;         /* Update: 0 rewrite rows, 1 rewrite columns */
  char *predicate;         /* Delete: for the record */
  uint64_t version;        /* Restore */
  cl_rewrite_group *groups; /* Rewrite */
  size_t n_groups;
  cl_alter *alters;        /* Project: drops (new_name "" = drop), renames, nullability */
  size_t n_alters;
  cl_key_update *updates;  /* UpdateConfig */
  size_t n_updates;
  int update_target;       /* UpdateConfig: 0 config, 1 table metadata, 2 schema metadata */
};

/* The transaction body for `op`: `read` is the version it was prepared on
 * (NULL when creating). The read version and uuid are filled in too. */
clance_status cl_op_to_txn(const clance_operation *op, const cl_dataset *read, uint64_t read_version,
                           const char *uuid, pb_txn **out, clance_error *err);

/* The schema of the version `op` produces on top of `read` (caller frees). */
clance_status cl_op_schema(const clance_operation *op, const cl_dataset *read, cl_schema *out,
                           clance_error *err);

/* Ids for the columns a Merge adds to `base`: from the largest id + 1, in
 * order (also what workers writing those columns must use). */
void cl_schema_assign_new_ids(const cl_schema *base, cl_schema *added);

#endif
