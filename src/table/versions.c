#include "table/versions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/fs.h"

int cl_version_parse_name(const char *name, uint64_t *version, cl_naming *naming) {
  size_t n = strlen(name);
  if (name[0] == 'd')
    return 0; /* detached version: never "latest" */
  if (n < 9 || strcmp(name + n - 9, ".manifest") != 0)
    return 0;
  size_t digits = n - 9;
  if (digits == 0 || digits > 20)
    return 0;
  uint64_t v = 0;
  for (size_t i = 0; i < digits; i++) {
    if (name[i] < '0' || name[i] > '9')
      return 0;
    uint64_t d = (uint64_t)(name[i] - '0');
    if (v > (UINT64_MAX - d) / 10)
      return 0;
    v = v * 10 + d;
  }
  if (n == 29) {
    *naming = CL_NAMING_V2;
    *version = UINT64_MAX - v;
  } else {
    *naming = CL_NAMING_V1;
    *version = v;
  }
  return *version != 0;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

clance_status cl_versions_list(const char *root, cl_version_list *out, clance_error *err) {
  memset(out, 0, sizeof *out);
  char *dir = cl_path_join(root, "_versions", err);
  if (!dir)
    return err->code;
  cl_dirlist l;
  clance_status st = cl_list_dir(dir, &l, err);
  if (st == CLANCE_ENOTFOUND) {
    free(dir);
    cl_err_clear(err);
    return CLANCE_OK;
  }
  if (st) {
    free(dir);
    return st;
  }
  out->versions = cl_malloc((l.n ? l.n : 1) * sizeof *out->versions, err);
  if (!out->versions) {
    st = err->code;
    goto done;
  }
  for (size_t i = 0; i < l.n; i++) {
    uint64_t v;
    cl_naming s;
    if (!cl_version_parse_name(l.names[i], &v, &s))
      continue;
    if (out->naming && out->naming != s) {
      st = cl_err(err, CLANCE_ECORRUPT,
                  "%s mixes V1 and V2 manifest names (found %s); Lance refuses such datasets too",
                  dir, l.names[i]);
      goto done;
    }
    out->naming = s;
    out->versions[out->n++] = v;
  }
  qsort(out->versions, out->n, sizeof *out->versions, cmp_u64);
  for (size_t i = 1; i < out->n; i++)
    if (out->versions[i] == out->versions[i - 1]) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s holds version %llu twice", dir,
                  (unsigned long long)out->versions[i]);
      goto done;
    }
done:
  cl_dirlist_free(&l);
  free(dir);
  if (st)
    cl_version_list_free(out);
  return st;
}

void cl_version_list_free(cl_version_list *l) {
  free(l->versions);
  l->versions = NULL;
  l->n = 0;
}

char *cl_version_path(const char *root, uint64_t v, cl_naming naming, clance_error *err) {
  char name[64];
  if (naming == CL_NAMING_V2)
    snprintf(name, sizeof name, "_versions/%020llu.manifest", (unsigned long long)(UINT64_MAX - v));
  else
    snprintf(name, sizeof name, "_versions/%llu.manifest", (unsigned long long)v);
  return cl_path_join(root, name, err);
}

void cl_versions_write_hint(const char *root, uint64_t v) {
  clance_error e;
  char *p = cl_path_join(root, "_versions/latest_version_hint.json", &e);
  if (!p)
    return;
  char body[64];
  int n = snprintf(body, sizeof body, "{\"version\":%llu}", (unsigned long long)v);
  /* In place: a replace by rename would create an inode and free one per
   * commit, and on ext4 freshly freed inodes slow down every later file
   * creation. No reader trusts the hint (Lance reads it only on S3 Express,
   * and checks it there). */
  (void)cl_put_in_place(p, body, (size_t)n, &e);
  free(p);
}

#define PROBE_STEPS 64

static int version_exists(const char *root, uint64_t v, cl_naming naming, int *ok) {
  clance_error e;
  char *p = cl_version_path(root, v, naming, &e);
  if (!p) {
    *ok = 0;
    return 0;
  }
  int r = cl_path_exists(p);
  free(p);
  return r;
}

/* Versions after `from` by lookups; 1 when the end was found. */
static int probe(const char *root, uint64_t from, cl_naming naming, uint64_t *last) {
  int ok = 1;
  uint64_t v = from;
  for (int i = 0; i < PROBE_STEPS; i++) {
    if (!version_exists(root, v + 1, naming, &ok))
      break;
    v++;
  }
  *last = v;
  return ok && !version_exists(root, v + 1, naming, &ok) && ok;
}

clance_status cl_versions_from(const char *root, uint64_t from, cl_naming naming,
                               cl_version_list *out, clance_error *err) {
  memset(out, 0, sizeof *out);
  uint64_t last;
  if (!from || !naming || !probe(root, from, naming, &last))
    return cl_versions_list(root, out, err);
  out->versions = cl_malloc((size_t)(last - from + 1) * sizeof *out->versions, err);
  if (!out->versions)
    return err->code;
  for (uint64_t v = from; v <= last; v++)
    out->versions[out->n++] = v;
  out->naming = naming;
  return CLANCE_OK;
}
