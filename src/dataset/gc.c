/* clance_gc: remove orphans (files under data/, _deletions/, _transactions/
 * and staging files in _versions/ that no version references) once they
 * are old enough not to belong to a write in progress. Unlike cleanup, no
 * version is removed. */
#include <stdlib.h>
#include <string.h>

#include "dataset/inventory.h"
#include "dataset/task.h"
#include "io/fs.h"

void clance_gc_options_init(clance_gc_options *o) {
  if (!o)
    return;
  memset(o, 0, sizeof *o);
  o->older_than_seconds = 7LL * 86400;
}

static clance_status list_versions(const char *root, cl_manifest_files *mf, clance_error *err) {
  CL_TRY(cl_manifest_files_list(root, mf, err));
  clance_status st = CLANCE_OK;
  if (mf->n_versions == 0)
    st = cl_err(err, CLANCE_ENOTFOUND, "%s is not a Lance dataset (no manifests in _versions/)",
                root);
  else if (mf->mixed)
    st = cl_err(err, CLANCE_ECORRUPT, "%s/_versions mixes V1 and V2 manifest names; Lance "
                "refuses such datasets too", root);
  if (st)
    cl_manifest_files_free(mf);
  return st;
}

static clance_status gc(const char *root, const clance_gc_options *o, clance_gc_stats *s,
                        clance_error *err) {
  if (o->older_than_seconds < 0)
    return cl_err(err, CLANCE_EINVAL, "gc: older_than_seconds is negative (%lld)",
                  (long long)o->older_than_seconds);
  CL_TRY(cl_refuse_branches(root, "gc", err));
  cl_manifest_files first, again;
  memset(&again, 0, sizeof again);
  CL_TRY(list_versions(root, &first, err));
  cl_file_refs refs;
  memset(&refs, 0, sizeof refs);
  cl_managed_files files;
  memset(&files, 0, sizeof files);
  int64_t now = cl_now_ns(), limit;
  if (__builtin_mul_overflow(o->older_than_seconds, (int64_t)1000000000, &limit) ||
      __builtin_sub_overflow(now, limit, &limit))
    limit = INT64_MIN;
  clance_status st = cl_file_refs_add_all(root, &first, NULL, &refs, err);
  if (!st)
    st = cl_managed_files_list(root, &files, err);
  /* A commit may have landed while we looked at the files: take the
   * versions again and keep whatever they reference. */
  if (!st)
    st = list_versions(root, &again, err);
  if (!st)
    st = cl_file_refs_add_all(root, &again, &first, &refs, err);
  for (size_t i = 0; !st && i < files.n; i++) {
    const cl_managed_file *f = &files.v[i];
    if (f->kind != CL_FILE_TEMPORARY && cl_file_refs_has(&refs, f->rel))
      continue;
    if (f->mtime_ns >= limit) {
      s->files_kept++;
      continue;
    }
    if (o->on_file)
      o->on_file(o->ctx, f->rel, cl_file_kind_name(f->kind), f->bytes);
    if (!o->dry_run && (st = cl_remove_rel(root, f->rel, err)))
      break;
    s->files_removed++;
    s->bytes_removed += f->bytes;
  }
  if (!st)
    st = cl_task_records_prune(root, &refs, limit, o->dry_run, o->on_file, o->ctx,
                               &s->files_removed, &s->bytes_removed, err);
  cl_managed_files_free(&files);
  cl_file_refs_free(&refs);
  cl_manifest_files_free(&again);
  cl_manifest_files_free(&first);
  return st;
}

clance_status clance_gc(const char *uri, const clance_gc_options *options, clance_gc_stats *stats,
                        clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!uri)
    return cl_err(err, CLANCE_EINVAL, "clance_gc: NULL argument");
  clance_gc_options o;
  if (options)
    o = *options;
  else
    clance_gc_options_init(&o);
  clance_gc_stats s;
  memset(&s, 0, sizeof s);
  char *root;
  CL_TRY(cl_uri_to_path(uri, &root, err));
  clance_status st = gc(root, &o, &s, err);
  free(root);
  if (stats)
    *stats = s;
  return st;
}
