/* clance_cleanup: Lance's cleanup_old_versions (rust/lance/src/dataset/
 * cleanup.rs). Old manifests go; then files that no kept version references
 * go when a removed version referenced them ("verified"), or when they are
 * old enough that no write can still be using them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset/inventory.h"
#include "dataset/refs.h"
#include "io/fs.h"

/* Unreferenced files younger than this may belong to a write in progress
 * (Lance's UNVERIFIED_THRESHOLD_DAYS). */
#define UNVERIFIED_NS (7LL * 86400 * 1000000000)

void clance_cleanup_options_init(clance_cleanup_options *o) {
  if (!o)
    return;
  memset(o, 0, sizeof *o);
  o->older_than_seconds = 14LL * 86400;
  o->error_if_tagged_old_versions = 1;
}

/* now - seconds, in ns, saturating at INT64_MIN. */
static int64_t cutoff_ns(int64_t now, int64_t seconds) {
  int64_t ns, c;
  if (__builtin_mul_overflow(seconds, (int64_t)1000000000, &ns) ||
      __builtin_sub_overflow(now, ns, &c))
    return INT64_MIN;
  return c;
}

typedef struct old_manifest {
  const char *rel; /* owned by the manifest listing */
  uint64_t bytes;
} old_manifest;

typedef struct inspection {
  cl_file_refs kept;     /* referenced by versions that stay */
  cl_file_refs verified; /* referenced by versions that go */
  old_manifest *old;
  size_t n_old;
  int64_t earliest_kept_ns;
  uint64_t *tagged_old;
  size_t n_tagged_old;
} inspection;

static void inspection_free(inspection *in) {
  cl_file_refs_free(&in->kept);
  cl_file_refs_free(&in->verified);
  free(in->old);
  free(in->tagged_old);
}

static int is_tagged(const clance_tag *tags, size_t n, uint64_t v) {
  for (size_t i = 0; i < n; i++)
    if (!tags[i].on_branch && tags[i].version == v)
      return 1;
  return 0;
}

/* Read every manifest and sort it into kept or old. A manifest that cannot
 * be read stops the cleanup, as in Lance: a damaged manifest cannot be told
 * from a passing I/O error, and skipping it could remove files it needs. */
static clance_status inspect(const char *root, const cl_manifest_files *mf, const clance_tag *tags,
                             size_t n_tags, const clance_cleanup_options *o, int64_t cutoff,
                             inspection *in, clance_error *err) {
  in->earliest_kept_ns = INT64_MAX;
  if (!(in->old = cl_calloc(mf->n, sizeof *in->old, err)) ||
      !(in->tagged_old = cl_calloc(mf->n, sizeof *in->tagged_old, err)))
    return err->code;
  for (size_t i = 0; i < mf->n; i++) {
    const cl_manifest_file *f = &mf->v[i];
    char *abs = cl_path_join(root, f->rel, err);
    if (!abs)
      return err->code;
    cl_manifest m;
    clance_status st = cl_manifest_read(abs, f->detached ? 0 : f->version, &m, err);
    struct stat sb;
    uint64_t bytes = !st && stat(abs, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    free(abs);
    CL_TRY(st);
    int64_t t = cl_manifest_time_ns(m.pb);
    int old = t < cutoff && (!o->before_version || f->version < o->before_version);
    int latest = !f->detached && f->version >= mf->latest;
    int tagged = !f->detached && is_tagged(tags, n_tags, f->version);
    /* Detached versions are never cleaned: nothing else knows about them. */
    int keep = f->detached || latest || tagged || !old;
    if (tagged && !latest && old)
      in->tagged_old[in->n_tagged_old++] = f->version;
    st = cl_file_refs_add(keep ? &in->kept : &in->verified, m.pb, m.path, err);
    cl_manifest_free(&m);
    CL_TRY(st);
    if (!keep) {
      in->old[in->n_old].rel = f->rel;
      in->old[in->n_old++].bytes = bytes;
    } else if (t < in->earliest_kept_ns) {
      in->earliest_kept_ns = t;
    }
  }
  cl_file_refs_seal(&in->kept);
  cl_file_refs_seal(&in->verified);
  return CLANCE_OK;
}

static clance_status tagged_error(const clance_tag *tags, size_t n_tags, const inspection *in,
                                  clance_error *err) {
  cl_buf b = CL_BUF_INIT;
  clance_status st = CLANCE_OK;
  for (size_t i = 0; !st && i < n_tags; i++)
    for (size_t k = 0; !st && k < in->n_tagged_old; k++)
      if (!tags[i].on_branch && tags[i].version == in->tagged_old[k])
        st = cl_buf_printf(&b, err, "%s\"%s\" (version %llu)", b.len ? ", " : "", tags[i].name,
                           (unsigned long long)tags[i].version);
  if (!st)
    st = cl_buf_cstr(&b, err);
  if (!st)
    st = cl_err(err, CLANCE_EINVAL, "%zu tagged version(s) would be removed; delete the tag(s) %s "
                "or keep tagged versions (error_if_tagged_old_versions = 0, clance cleanup "
                "--keep-tagged)", in->n_tagged_old, (const char *)b.data);
  cl_buf_free(&b);
  return st;
}

static clance_status drop(const char *root, const clance_cleanup_options *o, const char *rel,
                          const char *kind, uint64_t bytes, clance_cleanup_stats *s,
                          uint64_t *counter, clance_error *err) {
  if (o->on_file)
    o->on_file(o->ctx, rel, kind, bytes);
  if (!o->dry_run)
    CL_TRY(cl_remove_rel(root, rel, err));
  (*counter)++;
  s->bytes_removed += bytes;
  return CLANCE_OK;
}

static clance_status remove_files(const char *root, const clance_cleanup_options *o,
                                  const inspection *in, int64_t now, clance_cleanup_stats *s,
                                  clance_error *err) {
  cl_managed_files files;
  CL_TRY(cl_managed_files_list(root, &files, err));
  clance_status st = CLANCE_OK;
  for (size_t i = 0; !st && i < files.n; i++) {
    const cl_managed_file *f = &files.v[i];
    /* Files written after the oldest kept version may belong to commits
     * that are not visible yet (Lance lists only older files). */
    if (f->mtime_ns >= in->earliest_kept_ns)
      continue;
    int maybe_in_progress = !o->delete_unverified && f->mtime_ns >= now - UNVERIFIED_NS;
    int go;
    if (f->kind == CL_FILE_TEMPORARY)
      go = !maybe_in_progress;
    else
      go = !cl_file_refs_has(&in->kept, f->rel) &&
           (!maybe_in_progress || cl_file_refs_has(&in->verified, f->rel));
    if (!go)
      continue;
    uint64_t *counter = f->kind == CL_FILE_DATA        ? &s->data_files
                        : f->kind == CL_FILE_DELETION  ? &s->deletion_files
                        : f->kind == CL_FILE_TRANSACTION ? &s->transaction_files
                                                        : &s->temporary_files;
    st = drop(root, o, f->rel, cl_file_kind_name(f->kind), f->bytes, s, counter, err);
  }
  cl_managed_files_free(&files);
  return st;
}

static clance_status cleanup(const char *root, const clance_cleanup_options *o,
                             clance_cleanup_stats *s, clance_error *err) {
  if (o->older_than_seconds < 0)
    return cl_err(err, CLANCE_EINVAL, "cleanup: older_than_seconds is negative (%lld)",
                  (long long)o->older_than_seconds);
  CL_TRY(cl_refuse_branches(root, "cleanup", err));
  cl_manifest_files mf;
  CL_TRY(cl_manifest_files_list(root, &mf, err));
  clance_tag *tags = NULL;
  size_t n_tags = 0;
  inspection in;
  memset(&in, 0, sizeof in);
  clance_status st = CLANCE_OK;
  int64_t now = cl_now_ns();
  if (mf.n_versions == 0)
    st = cl_err(err, CLANCE_ENOTFOUND, "%s is not a Lance dataset (no manifests in _versions/)",
                root);
  else if (mf.mixed)
    st = cl_err(err, CLANCE_ECORRUPT, "%s/_versions mixes V1 and V2 manifest names; Lance "
                "refuses such datasets too", root);
  if (!st)
    st = cl_tags_read_all(root, &tags, &n_tags, err);
  if (!st)
    st = inspect(root, &mf, tags, n_tags, o, cutoff_ns(now, o->older_than_seconds), &in, err);
  if (!st && in.n_tagged_old && o->error_if_tagged_old_versions)
    st = tagged_error(tags, n_tags, &in, err);
  /* Manifests first: if we are interrupted, no version is left pointing at
   * a file that is gone; only unreferenced files remain. */
  for (size_t i = 0; !st && i < in.n_old; i++)
    st = drop(root, o, in.old[i].rel, "manifest", in.old[i].bytes, s, &s->old_versions, err);
  if (!st)
    st = remove_files(root, o, &in, now, s, err);
  inspection_free(&in);
  free(tags);
  cl_manifest_files_free(&mf);
  return st;
}

clance_status clance_cleanup(const char *uri, const clance_cleanup_options *options,
                             clance_cleanup_stats *stats, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!uri)
    return cl_err(err, CLANCE_EINVAL, "clance_cleanup: NULL argument");
  clance_cleanup_options o;
  if (options)
    o = *options;
  else
    clance_cleanup_options_init(&o);
  clance_cleanup_stats s;
  memset(&s, 0, sizeof s);
  char *root;
  CL_TRY(cl_uri_to_path(uri, &root, err));
  clance_status st = cleanup(root, &o, &s, err);
  free(root);
  if (stats)
    *stats = s;
  return st;
}
