/* Dataset-level operations: open a version, scan it, write fragments,
 * commit transactions. */
#ifndef CL_DATASET_DATASET_H
#define CL_DATASET_DATASET_H

#include "file/file.h"
#include "table/fragment.h"
#include "table/manifest.h"
#include "table/transaction.h"
#include "table/versions.h"

struct clance_dataset {
  int refs;               /* atomic; scans keep the dataset alive */
  char *root;             /* local path of the dataset directory */
  cl_manifest manifest;
  cl_schema schema;
  cl_file_version data_version;
  char data_format[16];
  uint64_t num_rows;
  cl_naming naming;
};

typedef struct clance_dataset cl_dataset;

clance_status cl_dataset_open(const char *root, uint64_t version, cl_dataset **out,
                              clance_error *err);
void cl_dataset_ref(cl_dataset *ds);
void cl_dataset_unref(cl_dataset *ds);

/* Absolute path of a data file of the dataset; caller frees. */
char *cl_dataset_data_path(const char *root, const pb_data_file *df, clance_error *err);

/* The storage version a data file entry declares; ECORRUPT names the file. */
clance_status cl_data_file_version(const pb_data_file *df, cl_file_version *out, clance_error *err);

/* Field ids a complete data file of this version lists for the schema:
 * 2.0 lists every field node, 2.1+ only leaves; a packed struct is listed
 * alone (not its children) in both. Caller frees *ids. */
clance_status cl_expected_file_fields(const cl_schema *s, cl_file_version v, int32_t **ids,
                                      size_t *n, clance_error *err);

/* Physical rows of a fragment, opening its first data file when the
 * manifest did not record them. */
clance_status cl_fragment_rows(const char *root, const pb_fragment *f, uint64_t *rows,
                               clance_error *err);

/* Write the batches of `stream` (not released) as data files of `schema`
 * (with field ids) in storage version v, split as `o` says (NULL =
 * defaults); the new fragments (id 0) are appended to `out`. On failure the
 * files written are removed and `out` is as before. */
clance_status cl_write_batches(const char *root, const cl_schema *schema, cl_file_version v,
                               const clance_write_options *o, struct ArrowArrayStream *stream,
                               clance_fragments *out, clance_error *err);

#endif
