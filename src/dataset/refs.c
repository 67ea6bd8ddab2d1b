#include "dataset/refs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/json.h"

/* Lance's check_valid_ref (refs.rs): non-empty, only alphanumerics, '.', '-'
 * and '_', no leading or trailing '.', no "..", not ending in ".lock". */
clance_status cl_tag_name_check(const char *name, int strict, clance_error *err) {
  size_t n = name ? strlen(name) : 0;
  if (n == 0)
    return cl_err(err, CLANCE_EINVAL, "tag name is empty");
  if (n > CLANCE_TAG_NAME_MAX)
    return cl_err(err, CLANCE_EINVAL, "tag name \"%.40s...\" is longer than %d bytes", name,
                  CLANCE_TAG_NAME_MAX);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '-' || c == '_' || (!strict && c >= 0x80);
    if (!ok)
      return cl_err(err, CLANCE_EINVAL, "tag name \"%s\": only letters, digits, '.', '-' and '_' "
                    "are allowed", name);
  }
  if (name[0] == '.')
    return cl_err(err, CLANCE_EINVAL, "tag name \"%s\" begins with a dot", name);
  if (name[n - 1] == '.')
    return cl_err(err, CLANCE_EINVAL, "tag name \"%s\" ends with a dot", name);
  if (strstr(name, ".."))
    return cl_err(err, CLANCE_EINVAL, "tag name \"%s\" has two consecutive dots", name);
  if (n >= 5 && !strcmp(name + n - 5, ".lock"))
    return cl_err(err, CLANCE_EINVAL, "tag name \"%s\" ends with .lock", name);
  return CLANCE_OK;
}

char *cl_tag_path(const char *root, const char *name, clance_error *err) {
  size_t n = strlen(name) + 32;
  char *rel = cl_malloc(n, err);
  if (!rel)
    return NULL;
  snprintf(rel, n, "_refs/tags/%s.json", name);
  char *p = cl_path_join(root, rel, err);
  free(rel);
  return p;
}

clance_status cl_tag_parse(const char *text, size_t len, const char *path, clance_tag *out,
                           clance_error *err) {
  cl_json *j;
  CL_TRY(cl_json_parse(text, len, path, &j, err));
  clance_status st = CLANCE_OK;
  const cl_json *branch = cl_json_get(j, "branch");
  if (cl_json_typeof(j) != CL_JSON_OBJECT)
    st = cl_err(err, CLANCE_ECORRUPT, "tag %s is not a JSON object", path);
  else if (!cl_json_u64(cl_json_get(j, "version"), &out->version))
    st = cl_err(err, CLANCE_ECORRUPT, "tag %s has no \"version\" (a non-negative integer)", path);
  else if (!cl_json_u64(cl_json_get(j, "manifestSize"), &out->manifest_size))
    st = cl_err(err, CLANCE_ECORRUPT, "tag %s has no \"manifestSize\" (a non-negative integer)",
                path);
  else if (cl_json_typeof(branch) != CL_JSON_NULL && cl_json_typeof(branch) != CL_JSON_STRING)
    st = cl_err(err, CLANCE_ECORRUPT, "tag %s: \"branch\" is a %s, not null or a string", path,
                cl_json_type_name(cl_json_typeof(branch)));
  else
    out->on_branch = cl_json_typeof(branch) == CL_JSON_STRING;
  cl_json_free(j);
  return st;
}

/* chrono's RFC 3339 form with SecondsFormat::AutoSi, as serde writes a
 * DateTime<Utc>: 0, 3, 6 or 9 fraction digits, whichever is exact. */
static clance_status put_time(cl_buf *b, int64_t ns, clance_error *err) {
  time_t secs = (time_t)(ns / 1000000000);
  long frac = (long)(ns % 1000000000);
  struct tm tm;
  if (!gmtime_r(&secs, &tm))
    return cl_err(err, CLANCE_EINVAL, "time %lld is out of range", (long long)ns);
  char day[32];
  strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
  if (frac == 0)
    return cl_buf_printf(b, err, "\"%sZ\"", day);
  if (frac % 1000000 == 0)
    return cl_buf_printf(b, err, "\"%s.%03ldZ\"", day, frac / 1000000);
  if (frac % 1000 == 0)
    return cl_buf_printf(b, err, "\"%s.%06ldZ\"", day, frac / 1000);
  return cl_buf_printf(b, err, "\"%s.%09ldZ\"", day, frac);
}

clance_status cl_tag_encode(uint64_t version, uint64_t manifest_size, int64_t now_ns, cl_buf *out,
                            clance_error *err) {
  /* serde_json::to_string_pretty of Lance 12's TagContents; Lance 1.0
   * readers ignore the keys they do not know. */
  CL_TRY(cl_buf_printf(out, err, "{\n  \"branch\": null,\n  \"version\": %llu,\n  \"createdAt\": ",
                       (unsigned long long)version));
  CL_TRY(put_time(out, now_ns, err));
  CL_TRY(cl_buf_printf(out, err, ",\n  \"updatedAt\": "));
  CL_TRY(put_time(out, now_ns, err));
  return cl_buf_printf(out, err, ",\n  \"manifestSize\": %llu,\n  \"metadata\": {}\n}",
                       (unsigned long long)manifest_size);
}

/* Tag files are a few hundred bytes; anything this large is not one. */
#define MAX_TAG_FILE (1u << 20)

clance_status cl_tag_read(const char *root, const char *name, clance_tag *out, clance_error *err) {
  memset(out, 0, sizeof *out);
  CL_TRY(cl_tag_name_check(name, 0, err));
  char *p = cl_tag_path(root, name, err);
  if (!p)
    return err->code;
  cl_buf b = CL_BUF_INIT;
  clance_status st = cl_file_read_all(p, MAX_TAG_FILE, &b, err);
  if (st == CLANCE_ENOTFOUND)
    st = cl_err(err, CLANCE_ENOTFOUND, "dataset %s has no tag \"%s\"", root, name);
  if (!st)
    st = cl_tag_parse(b.data ? (const char *)b.data : "", b.len, p, out, err);
  if (!st)
    snprintf(out->name, sizeof out->name, "%s", name);
  cl_buf_free(&b);
  free(p);
  return st;
}

clance_status cl_tag_names(const char *root, cl_dirlist *out, clance_error *err) {
  memset(out, 0, sizeof *out);
  char *dir = cl_path_join(root, "_refs/tags", err);
  if (!dir)
    return err->code;
  clance_status st = cl_list_dir(dir, out, err);
  free(dir);
  if (st == CLANCE_ENOTFOUND) {
    cl_err_clear(err);
    return CLANCE_OK;
  }
  CL_TRY(st);
  size_t k = 0;
  for (size_t i = 0; i < out->n; i++) {
    char *s = out->names[i];
    size_t n = strlen(s);
    if (n > 5 && !strcmp(s + n - 5, ".json") && n - 5 <= CLANCE_TAG_NAME_MAX) {
      s[n - 5] = '\0';
      out->names[k++] = s;
    } else {
      free(s);
    }
  }
  out->n = k;
  return CLANCE_OK; /* still sorted: ".json" is removed from every name alike */
}

clance_status cl_tags_read_all(const char *root, clance_tag **out, size_t *n, clance_error *err) {
  *out = NULL;
  *n = 0;
  cl_dirlist names;
  CL_TRY(cl_tag_names(root, &names, err));
  clance_status st = CLANCE_OK;
  clance_tag *tags = names.n ? cl_calloc(names.n, sizeof *tags, err) : NULL;
  if (names.n && !tags)
    st = err->code;
  size_t k = 0;
  for (size_t i = 0; !st && i < names.n; i++) {
    st = cl_tag_read(root, names.names[i], &tags[k], err);
    if (st == CLANCE_ENOTFOUND) { /* deleted while we listed */
      cl_err_clear(err);
      st = CLANCE_OK;
    } else if (!st) {
      k++;
    }
  }
  cl_dirlist_free(&names);
  if (st) {
    free(tags);
    return st;
  }
  *out = tags;
  *n = k;
  return CLANCE_OK;
}

int cl_refs_has_branches(const char *root) {
  clance_error e;
  int found = 0;
  char *dir = cl_path_join(root, "_refs/branches", &e);
  cl_dirlist l;
  if (dir && !cl_list_dir(dir, &l, &e)) {
    found = l.n > 0;
    cl_dirlist_free(&l);
  }
  free(dir);
  char *tree = cl_path_join(root, "tree", &e);
  if (tree && cl_is_dir(tree))
    found = 1;
  free(tree);
  return found;
}
