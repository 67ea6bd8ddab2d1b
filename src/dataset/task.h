/* Resumable, idempotent worker tasks: see task.c for the protocol. */
#ifndef CL_DATASET_TASK_H
#define CL_DATASET_TASK_H

#include "table/fragment.h"

/* EINVAL unless `id` is a valid task id (letters, digits, . _ -, 1..128). */
clance_status cl_task_id_check(const char *id, clance_error *err);

/* After every data file of `frags` is written under data_dir: record them as
 * the latest attempt of task `id`, tag `frags` with it, remove the files of
 * the previous attempt. */
clance_status cl_task_finish(const char *root, const char *data_dir, const char *id,
                             clance_fragments *frags, clance_error *err);

#endif
