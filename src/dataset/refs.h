/* _refs/: tags (_refs/tags/<name>.json, Lance's TagContents JSON) and the
 * check for branches, which clance does not handle. */
#ifndef CL_DATASET_REFS_H
#define CL_DATASET_REFS_H

#include <stddef.h>
#include <stdint.h>

#include "io/fs.h"
#include "util/buf.h"

/* Check a tag name. `strict` applies Lance's rules with ASCII letters and
 * digits only (for names clance creates); otherwise bytes >= 0x80 are also
 * accepted, because Lance allows any Unicode alphanumeric character and
 * tags it made must stay reachable. Either way the name can never leave
 * _refs/tags/. EINVAL says what is wrong. */
clance_status cl_tag_name_check(const char *name, int strict, clance_error *err);

/* "<root>/_refs/tags/<name>.json"; caller frees. */
char *cl_tag_path(const char *root, const char *name, clance_error *err);

/* Parse tag JSON as Lance writes it ("version" and "manifestSize" required,
 * "branch" null, absent or a string); `path` names the file in errors. */
clance_status cl_tag_parse(const char *text, size_t len, const char *path, clance_tag *out,
                           clance_error *err);

/* Lance 12's bytes for a tag: pretty-printed camelCase JSON with createdAt
 * and updatedAt set to `now_ns` (ns since the epoch). */
clance_status cl_tag_encode(uint64_t version, uint64_t manifest_size, int64_t now_ns, cl_buf *out,
                            clance_error *err);

/* Read one tag; ENOTFOUND when there is no such tag. */
clance_status cl_tag_read(const char *root, const char *name, clance_tag *out, clance_error *err);

/* Names of the tag files (without ".json"), sorted; a missing _refs/tags/
 * gives none. Staging files ("<name>.json#<random>") are not tags. */
clance_status cl_tag_names(const char *root, cl_dirlist *out, clance_error *err);

/* Every tag, sorted by name (*out malloc'ed, NULL when there are none). A
 * tag file that cannot be parsed is ECORRUPT. */
clance_status cl_tags_read_all(const char *root, clance_tag **out, size_t *n, clance_error *err);

/* Nonzero when the dataset has branches (_refs/branches/ holds an entry, or
 * a tree/ directory exists). */
int cl_refs_has_branches(const char *root);

#endif
