/* Update by filter, pinned to a read version (the CLI's update --read-version). */
#ifndef CL_DATASET_UPDATE_H
#define CL_DATASET_UPDATE_H

#include "dataset/dataset.h"

/* clance_dataset_update() computed against `read_version` and committed with
 * that read version: a conflicting commit made since is reported (exit 3/4
 * in the CLI), not redone. read_version 0 = the latest, redone on conflicts. */
clance_status cl_dataset_update_at(const char *uri, uint64_t read_version, const char *set,
                                   const char *where, const clance_commit_options *options,
                                   uint64_t *out_version, uint64_t *num_updated,
                                   clance_error *err);

#endif
