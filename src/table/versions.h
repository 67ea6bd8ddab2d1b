/* The _versions/ directory: manifest naming schemes (V1 "N.manifest", V2
 * "{u64::MAX - N:020}.manifest"), listing, and the latest-version hint. */
#ifndef CL_TABLE_VERSIONS_H
#define CL_TABLE_VERSIONS_H

#include <stdint.h>

#include "util/error.h"

typedef enum cl_naming { CL_NAMING_V1 = 1, CL_NAMING_V2 = 2 } cl_naming;

typedef struct cl_version_list {
  size_t n;
  uint64_t *versions; /* ascending */
  cl_naming naming;   /* 0 when there are no manifests */
} cl_version_list;

/* List the manifests of the dataset rooted at `root`. A missing _versions
 * directory gives an empty list. Mixed naming schemes are ECORRUPT. */
clance_status cl_versions_list(const char *root, cl_version_list *out, clance_error *err);
void cl_version_list_free(cl_version_list *l);

/* The versions from `from` (a version known to exist, e.g. the one a commit
 * read, in scheme `naming`) up to the latest, found by looking up
 * from+1, from+2, ... (versions are made one after the other, so the first
 * missing one ends the list) instead of listing _versions/; falls back to
 * cl_versions_list after many steps. */
clance_status cl_versions_from(const char *root, uint64_t from, cl_naming naming,
                               cl_version_list *out, clance_error *err);
/* "_versions/<name>" of version v under the scheme; caller frees. */
char *cl_version_path(const char *root, uint64_t v, cl_naming naming, clance_error *err);

/* Write _versions/latest_version_hint.json = {"version":v} (best effort:
 * readers never trust it, we only keep it current like Lance does). */
void cl_versions_write_hint(const char *root, uint64_t v);

/* Parse one _versions/ entry name; returns 1 with version and scheme for a
 * manifest, 0 for anything else (hint file, staging files, detached). */
int cl_version_parse_name(const char *name, uint64_t *version, cl_naming *naming);

#endif
