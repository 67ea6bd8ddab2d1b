#include "dataset/inventory.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dataset/refs.h"
#include "io/fs.h"
#include "table/deletion.h"
#include "table/versions.h"

/* ---- string sets ---- */

clance_status cl_strset_add(cl_strset *s, const char *str, clance_error *err) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    char **v = realloc(s->v, cap * sizeof *v);
    if (!v)
      return cl_err_nomem(err, "path set");
    s->v = v;
    s->cap = cap;
  }
  if (!(s->v[s->n] = cl_strdup(str, err)))
    return err->code;
  s->n++;
  return CLANCE_OK;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void cl_strset_seal(cl_strset *s) {
  s->sealed = s->n;
  if (s->n < 2)
    return;
  qsort(s->v, s->n, sizeof *s->v, cmp_str);
  size_t k = 1;
  for (size_t i = 1; i < s->n; i++) {
    if (!strcmp(s->v[i], s->v[k - 1]))
      free(s->v[i]);
    else
      s->v[k++] = s->v[i];
  }
  s->n = s->sealed = k;
}

int cl_strset_has(const cl_strset *s, const char *str) {
  return s->sealed && bsearch(&str, s->v, s->sealed, sizeof *s->v, cmp_str) != NULL;
}

void cl_strset_free(cl_strset *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->v[i]);
  free(s->v);
  memset(s, 0, sizeof *s);
}

/* ---- manifests ---- */

static int parse_detached(const char *name, uint64_t *v) {
  size_t n = strlen(name);
  if (name[0] != 'd' || n < 11 || n > 30 || strcmp(name + n - 9, ".manifest"))
    return 0;
  uint64_t x = 0;
  for (size_t i = 1; i < n - 9; i++) {
    if (name[i] < '0' || name[i] > '9')
      return 0;
    uint64_t d = (uint64_t)(name[i] - '0');
    if (x > (UINT64_MAX - d) / 10)
      return 0;
    x = x * 10 + d;
  }
  *v = x;
  return 1;
}

static int cmp_manifest_file(const void *a, const void *b) {
  const cl_manifest_file *x = a, *y = b;
  if (x->detached != y->detached)
    return x->detached - y->detached;
  return x->version < y->version ? -1 : x->version > y->version;
}

clance_status cl_manifest_files_list(const char *root, cl_manifest_files *out, clance_error *err) {
  memset(out, 0, sizeof *out);
  char *dir = cl_path_join(root, "_versions", err);
  if (!dir)
    return err->code;
  cl_dirlist l;
  clance_status st = cl_list_dir(dir, &l, err);
  free(dir);
  if (st == CLANCE_ENOTFOUND) {
    cl_err_clear(err);
    return CLANCE_OK;
  }
  CL_TRY(st);
  if (l.n && !(out->v = cl_calloc(l.n, sizeof *out->v, err)))
    st = err->code;
  cl_naming seen = 0;
  for (size_t i = 0; !st && i < l.n; i++) {
    uint64_t v;
    cl_naming naming;
    int detached = 0;
    if (cl_version_parse_name(l.names[i], &v, &naming)) {
      if (seen && seen != naming)
        out->mixed = 1;
      seen = naming;
    } else if (parse_detached(l.names[i], &v)) {
      detached = 1;
    } else {
      continue;
    }
    cl_manifest_file *f = &out->v[out->n];
    f->version = v;
    f->detached = detached;
    if (!(f->rel = cl_path_join("_versions", l.names[i], err))) {
      st = err->code;
      break;
    }
    out->n++;
    if (!detached) {
      out->n_versions++;
      if (v > out->latest)
        out->latest = v;
    }
  }
  cl_dirlist_free(&l);
  if (st) {
    cl_manifest_files_free(out);
    return st;
  }
  if (out->n)
    qsort(out->v, out->n, sizeof *out->v, cmp_manifest_file);
  return CLANCE_OK;
}

void cl_manifest_files_free(cl_manifest_files *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i].rel);
  free(l->v);
  memset(l, 0, sizeof *l);
}

int64_t cl_manifest_time_ns(const pb_manifest *m) {
  if (!m->timestamp)
    return 0;
  return m->timestamp->seconds * 1000000000 + m->timestamp->nanos;
}

/* ---- referenced files ---- */

clance_status cl_file_refs_add(cl_file_refs *r, const pb_manifest *m, const char *mpath,
                               clance_error *err) {
  if (m->n_base_paths)
    return cl_err(err, CLANCE_EUNSUPPORTED, "manifest %s lists base paths (files outside the "
                  "dataset root); clance does not clean or check such datasets", mpath);
  char rel[4200];
  for (size_t i = 0; i < m->n_fragments; i++) {
    const pb_fragment *f = m->fragments[i];
    for (size_t k = 0; k < f->n_files; k++) {
      const pb_data_file *df = f->files[k];
      if (df->has_base_id)
        return cl_err(err, CLANCE_EUNSUPPORTED, "manifest %s: data file %s lives in base path %u; "
                      "base paths are not supported", mpath, cl_pb_str(df->path), df->base_id);
      const char *p = cl_pb_str(df->path);
      if (!*p || strchr(p, '/') || !strcmp(p, "..") || strlen(p) > 4000)
        return cl_err(err, CLANCE_ECORRUPT, "manifest %s: data file name \"%.200s\" is not a bare "
                      "file name", mpath, p);
      snprintf(rel, sizeof rel, "data/%s", p);
      CL_TRY(cl_strset_add(&r->data, rel, err));
    }
    if (f->deletion_file) {
      if (f->deletion_file->has_base_id)
        return cl_err(err, CLANCE_EUNSUPPORTED, "manifest %s: the deletion file of fragment %llu "
                      "lives in base path %u; base paths are not supported", mpath,
                      (unsigned long long)f->id, f->deletion_file->base_id);
      char *d = cl_deletion_path("", f, err); /* "" as root: the relative path */
      if (!d)
        return err->code;
      clance_status st = cl_strset_add(&r->deletions, d, err);
      free(d);
      CL_TRY(st);
    }
  }
  const char *t = cl_pb_str(m->transaction_file);
  if (*t) {
    if (strchr(t, '/') || strlen(t) > 4000)
      return cl_err(err, CLANCE_ECORRUPT, "manifest %s: transaction file name \"%.200s\" is not a "
                    "bare file name", mpath, t);
    snprintf(rel, sizeof rel, "_transactions/%s", t);
    CL_TRY(cl_strset_add(&r->txns, rel, err));
  }
  return CLANCE_OK;
}

/* A manifest removed since `seen` was listed (a concurrent cleanup) is
 * skipped; any other failure to read one is an error. */
clance_status cl_file_refs_add_all(const char *root, const cl_manifest_files *mf,
                                   const cl_manifest_files *seen, cl_file_refs *refs,
                                   clance_error *err) {
  for (size_t i = 0; i < mf->n; i++) {
    int known = 0;
    for (size_t k = 0; seen && !known && k < seen->n; k++)
      known = !strcmp(seen->v[k].rel, mf->v[i].rel);
    if (known)
      continue;
    char *abs = cl_path_join(root, mf->v[i].rel, err);
    if (!abs)
      return err->code;
    cl_manifest m;
    clance_status st = cl_manifest_read(abs, mf->v[i].detached ? 0 : mf->v[i].version, &m, err);
    free(abs);
    if (st == CLANCE_ENOTFOUND && seen) {
      cl_err_clear(err); /* removed by a concurrent cleanup since the listing */
      continue;
    }
    CL_TRY(st);
    st = cl_file_refs_add(refs, m.pb, m.path, err);
    cl_manifest_free(&m);
    CL_TRY(st);
  }
  cl_file_refs_seal(refs);
  return CLANCE_OK;
}

void cl_file_refs_seal(cl_file_refs *r) {
  cl_strset_seal(&r->data);
  cl_strset_seal(&r->deletions);
  cl_strset_seal(&r->txns);
}

int cl_file_refs_has(const cl_file_refs *r, const char *rel) {
  return cl_strset_has(&r->data, rel) || cl_strset_has(&r->deletions, rel) ||
         cl_strset_has(&r->txns, rel);
}

void cl_file_refs_free(cl_file_refs *r) {
  cl_strset_free(&r->data);
  cl_strset_free(&r->deletions);
  cl_strset_free(&r->txns);
}

/* ---- managed files ---- */

const char *cl_file_kind_name(cl_file_kind k) {
  switch (k) {
  case CL_FILE_DATA: return "data";
  case CL_FILE_DELETION: return "deletion";
  case CL_FILE_TRANSACTION: return "transaction";
  case CL_FILE_TEMPORARY: return "temporary";
  }
  return "?";
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n > k && !strcmp(s + n - k, suffix);
}

/* Which managed kind a name in `dir` is, or -1 for a file never touched. */
static int kind_of(const char *dir, const char *name) {
  if (!strcmp(dir, "data"))
    return ends_with(name, ".lance") ? CL_FILE_DATA : -1;
  if (!strcmp(dir, "_deletions"))
    return ends_with(name, ".arrow") || ends_with(name, ".bin") ? CL_FILE_DELETION : -1;
  if (!strcmp(dir, "_transactions"))
    return ends_with(name, ".txn") ? CL_FILE_TRANSACTION : -1;
  /* _versions/: staging files of interrupted commits. Never a manifest. */
  if (ends_with(name, ".manifest"))
    return -1;
  return !strncmp(name, ".tmp", 4) || strchr(name, '#') ? CL_FILE_TEMPORARY : -1;
}

static clance_status push_file(cl_managed_files *l, size_t *cap, const char *rel, cl_file_kind k,
                               const struct stat *sb, clance_error *err) {
  if (l->n == *cap) {
    size_t c = *cap ? *cap * 2 : 64;
    cl_managed_file *v = realloc(l->v, c * sizeof *v);
    if (!v)
      return cl_err_nomem(err, "file listing");
    l->v = v;
    *cap = c;
  }
  cl_managed_file *f = &l->v[l->n];
  if (!(f->rel = cl_strdup(rel, err)))
    return err->code;
  f->kind = k;
  f->bytes = (uint64_t)sb->st_size;
  f->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
  l->n++;
  return CLANCE_OK;
}

clance_status cl_managed_files_list(const char *root, cl_managed_files *out, clance_error *err) {
  static const char *const dirs[] = {"_versions", "_transactions", "data", "_deletions"};
  memset(out, 0, sizeof *out);
  size_t cap = 0;
  clance_status st = CLANCE_OK;
  for (size_t d = 0; !st && d < sizeof dirs / sizeof *dirs; d++) {
    char *dir = cl_path_join(root, dirs[d], err);
    if (!dir)
      return err->code;
    cl_dirlist l;
    st = cl_list_dir(dir, &l, err);
    free(dir);
    if (st == CLANCE_ENOTFOUND) {
      cl_err_clear(err);
      st = CLANCE_OK;
      continue;
    }
    for (size_t i = 0; !st && i < l.n; i++) {
      int k = kind_of(dirs[d], l.names[i]);
      if (k < 0)
        continue;
      char rel[4400];
      snprintf(rel, sizeof rel, "%s/%s", dirs[d], l.names[i]);
      char *abs = cl_path_join(root, rel, err);
      if (!abs) {
        st = err->code;
        break;
      }
      struct stat sb;
      if (lstat(abs, &sb) != 0) {
        if (errno != ENOENT) /* ENOENT: removed since the listing */
          st = cl_err_errno(err, errno, "stat", abs);
      } else if (S_ISREG(sb.st_mode)) {
        st = push_file(out, &cap, rel, (cl_file_kind)k, &sb, err);
      }
      free(abs);
    }
    cl_dirlist_free(&l);
  }
  if (st)
    cl_managed_files_free(out);
  return st;
}

void cl_managed_files_free(cl_managed_files *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i].rel);
  free(l->v);
  memset(l, 0, sizeof *l);
}

clance_status cl_remove_rel(const char *root, const char *rel, clance_error *err) {
  char *p = cl_path_join(root, rel, err);
  if (!p)
    return err->code;
  clance_status st = CLANCE_OK;
  if (unlink(p) != 0 && errno != ENOENT)
    st = cl_err_errno(err, errno, "remove", p);
  free(p);
  return st;
}

clance_status cl_refuse_branches(const char *root, const char *what, clance_error *err) {
  if (cl_refs_has_branches(root))
    return cl_err(err, CLANCE_EUNSUPPORTED, "%s: dataset %s has branches (_refs/branches/ or "
                  "tree/); clance only handles the main line", what, root);
  return CLANCE_OK;
}

int64_t cl_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
