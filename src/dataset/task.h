/* Resumable, idempotent worker tasks: see task.c for the protocol. */
#ifndef CL_DATASET_TASK_H
#define CL_DATASET_TASK_H

#include "dataset/inventory.h"
#include "table/fragment.h"

/* EINVAL unless `id` is a valid task id (letters, digits, . _ -, 1..128). */
clance_status cl_task_id_check(const char *id, clance_error *err);

/* After every data file of `frags` is written under data_dir: record them as
 * the latest attempt of task `id`, tag `frags` with it, remove the files of
 * the previous attempt. */
clance_status cl_task_finish(const char *root, const char *data_dir, const char *id,
                             clance_fragments *frags, clance_error *err);

/* gc's part: remove the task records (and crash-left staging files) under
 * _clance_tasks/ last modified before limit_ns whose files are all
 * referenced by a version in `refs` or gone; a record names the latest
 * attempt of a task, so once that is committed or lost it protects nothing.
 * Counts into *removed / *bytes; reports each through on_file (kind
 * "task_record"). Unreadable records are left alone. */
clance_status cl_task_records_prune(const char *root, const cl_file_refs *refs, int64_t limit_ns,
                                    int dry_run, clance_file_callback on_file, void *ctx,
                                    uint64_t *removed, uint64_t *bytes, clance_error *err);

#endif
