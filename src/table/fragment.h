/* Fragments (lance.table.DataFragment) and their FragmentMetadata JSON, the
 * hand-off format between workers and the committing coordinator. The
 * in-memory form is the protobuf-c message itself: serialising it for a
 * manifest or a transaction needs no conversion, and unknown fields survive. */
#ifndef CL_TABLE_FRAGMENT_H
#define CL_TABLE_FRAGMENT_H

#include "proto/pb.h"
#include "util/json.h"

struct clance_fragments {
  pb_fragment **v;
  size_t n, cap;
  /* The worker task that wrote these fragments (clance_write_options.task_id),
   * NULL when unknown or when the list mixes tasks. Carried through the
   * FragmentMetadata JSON as the extra key "clance_task" of every object
   * (pylance ignores unknown keys). */
  char *task_id;
  uint64_t task_attempt;
  char task_uuid[37];
};

/* Set (copy) the task tag of a list; id NULL clears it. */
clance_status cl_fragments_set_task(clance_fragments *l, const char *id, uint64_t attempt,
                                    const char *uuid, clance_error *err);

/* Take ownership of f. */
clance_status cl_fragments_push(clance_fragments *l, pb_fragment *f, clance_error *err);
void cl_fragments_clear(clance_fragments *l);

/* Deep copy (via serialisation). */
clance_status cl_fragment_copy(const pb_fragment *f, pb_fragment **out, clance_error *err);
void cl_fragment_free(pb_fragment *f);

/* A new fragment with one data file (id 0, unassigned). Arrays are copied. */
clance_status cl_fragment_new(const char *file_name, const int32_t *field_ids,
                              const int32_t *column_indices, size_t n_fields, uint32_t major,
                              uint32_t minor, uint64_t file_size, uint64_t physical_rows,
                              pb_fragment **out, clance_error *err);

/* Rows visible in the fragment (physical minus deleted). */
uint64_t cl_fragment_live_rows(const pb_fragment *f);

/* JSON exactly as pylance's FragmentMetadata.to_json() + json.dumps. */
clance_status cl_fragment_to_json(const pb_fragment *f, cl_buf *out, clance_error *err);
/* Parse one FragmentMetadata object; `what` names it in errors. */
clance_status cl_fragment_from_json(const cl_json *j, const char *what, pb_fragment **out,
                                    clance_error *err);

#endif
