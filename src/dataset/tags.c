/* Tags: named versions in _refs/tags/<name>.json (Lance's refs.rs). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dataset/dataset.h"
#include "dataset/refs.h"
#include "io/fs.h"

/* The manifest of `version` (0 = latest): its number and size, as the tag
 * records them. */
static clance_status find_version(const char *root, uint64_t *version, uint64_t *size,
                                  clance_error *err) {
  cl_version_list vl;
  CL_TRY(cl_versions_list(root, &vl, err));
  if (vl.n == 0) {
    cl_version_list_free(&vl);
    return cl_err(err, CLANCE_ENOTFOUND, "%s is not a Lance dataset (no manifests in _versions/)",
                  root);
  }
  uint64_t latest = vl.versions[vl.n - 1], v = *version ? *version : latest;
  int found = 0;
  for (size_t i = 0; i < vl.n; i++)
    found |= vl.versions[i] == v;
  cl_naming naming = vl.naming;
  cl_version_list_free(&vl);
  if (!found)
    return cl_err(err, CLANCE_ENOTFOUND, "dataset %s has no version %llu (latest is %llu)", root,
                  (unsigned long long)v, (unsigned long long)latest);
  char *mpath = cl_version_path(root, v, naming, err);
  if (!mpath)
    return err->code;
  cl_rfile f;
  clance_status st = cl_rfile_open(mpath, &f, err);
  free(mpath);
  CL_TRY(st);
  *size = f.size;
  cl_rfile_close(&f);
  *version = v;
  return CLANCE_OK;
}

static clance_status tag_create(const char *root, const char *name, uint64_t version,
                                clance_error *err) {
  CL_TRY(cl_tag_name_check(name, 1, err));
  uint64_t size = 0;
  CL_TRY(find_version(root, &version, &size, err));
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  cl_buf body = CL_BUF_INIT;
  char *dir = NULL, *path = NULL;
  clance_status st = cl_tag_encode(version, size, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec,
                                   &body, err);
  if (!st && (!(dir = cl_path_join(root, "_refs/tags", err)) ||
              !(path = cl_tag_path(root, name, err))))
    st = err->code;
  if (!st)
    st = cl_mkdirs(dir, err);
  /* Put-if-absent: of two concurrent creators of one name exactly one wins,
   * and a reader never sees a half-written tag. */
  if (!st && (st = cl_put_if_absent(path, body.data, body.len, 1, err)) == CLANCE_EEXISTS)
    st = cl_err(err, CLANCE_EEXISTS, "tag \"%s\" already exists (%s)", name, path);
  cl_buf_free(&body);
  free(dir);
  free(path);
  return st;
}

clance_status clance_tag_create(const char *uri, const char *name, uint64_t version,
                                clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!uri || !name)
    return cl_err(err, CLANCE_EINVAL, "clance_tag_create: NULL argument");
  char *root;
  CL_TRY(cl_uri_to_path(uri, &root, err));
  clance_status st = tag_create(root, name, version, err);
  free(root);
  return st;
}

clance_status clance_tag_delete(const char *uri, const char *name, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!uri || !name)
    return cl_err(err, CLANCE_EINVAL, "clance_tag_delete: NULL argument");
  CL_TRY(cl_tag_name_check(name, 0, err));
  char *root, *path;
  CL_TRY(cl_uri_to_path(uri, &root, err));
  clance_status st = CLANCE_OK;
  if (!(path = cl_tag_path(root, name, err)))
    st = err->code;
  else if (unlink(path) != 0)
    st = errno == ENOENT ? cl_err(err, CLANCE_ENOTFOUND, "dataset %s has no tag \"%s\"", root, name)
                         : cl_err_errno(err, errno, "remove", path);
  free(path);
  free(root);
  return st;
}

clance_status clance_tag_list(const char *uri, clance_tag **out, size_t *count,
                              clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!uri || !out || !count)
    return cl_err(err, CLANCE_EINVAL, "clance_tag_list: NULL argument");
  char *root;
  CL_TRY(cl_uri_to_path(uri, &root, err));
  clance_status st = cl_tags_read_all(root, out, count, err);
  free(root);
  return st;
}

clance_status clance_tag_version(const char *uri, const char *name, uint64_t *version,
                                 clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!uri || !name || !version)
    return cl_err(err, CLANCE_EINVAL, "clance_tag_version: NULL argument");
  char *root;
  CL_TRY(cl_uri_to_path(uri, &root, err));
  clance_tag t;
  clance_status st = cl_tag_read(root, name, &t, err);
  free(root);
  if (!st)
    *version = t.version;
  return st;
}

clance_status clance_dataset_open_tag(const char *uri, const char *name, clance_dataset **out,
                                      clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!uri || !name || !out)
    return cl_err(err, CLANCE_EINVAL, "clance_dataset_open_tag: NULL argument");
  *out = NULL;
  char *root;
  CL_TRY(cl_uri_to_path(uri, &root, err));
  clance_tag t;
  clance_status st = cl_tag_read(root, name, &t, err);
  if (!st && t.on_branch)
    st = cl_err(err, CLANCE_EUNSUPPORTED, "tag \"%s\" of %s names a version of a branch; "
                "branches are not supported", name, root);
  if (!st && t.version == 0)
    st = cl_err(err, CLANCE_ECORRUPT, "tag \"%s\" of %s names version 0", name, root);
  if (!st && (st = cl_dataset_open(root, t.version, out, err)))
    cl_err_ctx(err, "tag \"%s\": ", name);
  free(root);
  return st;
}
