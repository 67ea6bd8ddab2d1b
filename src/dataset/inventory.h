/* What cleanup, gc and fsck share: the manifests in _versions/, the files
 * the versions reference, and the files under the directories Lance manages
 * that a cleanup may remove. Paths are relative to the dataset root. */
#ifndef CL_DATASET_INVENTORY_H
#define CL_DATASET_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#include "table/manifest.h"

/* A set of strings: add, then seal (sort + dedup); lookups see the strings
 * added up to the last seal. */
typedef struct cl_strset {
  char **v;
  size_t n, cap;
  size_t sealed; /* v[0..sealed) is sorted and unique */
} cl_strset;

clance_status cl_strset_add(cl_strset *s, const char *str, clance_error *err);
void cl_strset_seal(cl_strset *s);
int cl_strset_has(const cl_strset *s, const char *str);
void cl_strset_free(cl_strset *s);

/* One manifest file: a version, or a detached version ("d<n>.manifest"). */
typedef struct cl_manifest_file {
  uint64_t version;
  int detached;
  char *rel; /* "_versions/<name>" */
} cl_manifest_file;

typedef struct cl_manifest_files {
  cl_manifest_file *v; /* versions ascending, then detached ones */
  size_t n;
  size_t n_versions;   /* the first n_versions entries are not detached */
  uint64_t latest;     /* 0 when there is no version */
  int mixed;           /* V1 and V2 names side by side (Lance refuses that) */
} cl_manifest_files;

clance_status cl_manifest_files_list(const char *root, cl_manifest_files *out, clance_error *err);
void cl_manifest_files_free(cl_manifest_files *l);

/* Files the versions seen so far reference. */
typedef struct cl_file_refs {
  cl_strset data, deletions, txns;
} cl_file_refs;

/* Add the files manifest `m` references. Base paths (files outside the
 * dataset root) are EUNSUPPORTED; a file name with a '/' is ECORRUPT. */
clance_status cl_file_refs_add(cl_file_refs *r, const pb_manifest *m, const char *mpath,
                               clance_error *err);
/* Add (then seal) the references of every manifest of `mf` that `seen` does
 * not list (all of them when seen is NULL). A manifest that cannot be read is
 * an error: skipping it could lose files it needs. */
clance_status cl_file_refs_add_all(const char *root, const cl_manifest_files *mf,
                                   const cl_manifest_files *seen, cl_file_refs *refs,
                                   clance_error *err);
void cl_file_refs_seal(cl_file_refs *r);
int cl_file_refs_has(const cl_file_refs *r, const char *rel);
void cl_file_refs_free(cl_file_refs *r);

typedef enum cl_file_kind {
  CL_FILE_DATA,
  CL_FILE_DELETION,
  CL_FILE_TRANSACTION,
  CL_FILE_TEMPORARY
} cl_file_kind;

/* "data", "deletion", "transaction", "temporary". */
const char *cl_file_kind_name(cl_file_kind k);

typedef struct cl_managed_file {
  char *rel;
  cl_file_kind kind;
  uint64_t bytes;
  int64_t mtime_ns;
} cl_managed_file;

typedef struct cl_managed_files {
  cl_managed_file *v;
  size_t n;
} cl_managed_files;

/* The only files a cleanup or gc ever removes: data/<name>.lance,
 * _deletions/<name>.arrow|.bin, _transactions/<name>.txn, and staging files
 * in _versions/ (".tmp*", or "<name>#<random>" as clance and Lance's local
 * store leave behind). Regular files only; subdirectories are not entered. */
clance_status cl_managed_files_list(const char *root, cl_managed_files *out, clance_error *err);
void cl_managed_files_free(cl_managed_files *l);

/* Remove root/rel; a file already gone is fine (a concurrent cleanup). */
clance_status cl_remove_rel(const char *root, const char *rel, clance_error *err);

/* Ns since the epoch of a manifest's commit (0 when it has no timestamp:
 * such a version counts as the oldest, as in Lance). */
int64_t cl_manifest_time_ns(const pb_manifest *m);

/* The wall clock in ns since the epoch (the clock manifests and file times
 * use). */
int64_t cl_now_ns(void);

/* EUNSUPPORTED when the dataset has branches (cleanup, gc and fsck only
 * know the main line). */
clance_status cl_refuse_branches(const char *root, const char *what, clance_error *err);

#endif
