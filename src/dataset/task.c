/* Resumable, idempotent worker tasks (clance_write_options.task_id).
 *
 * Protocol of one run ("attempt") of task T, after its data files are
 * written and fsynced under data/ with fresh random names:
 *   1. read _clance_tasks/T.json, the record of the previous attempt (if any):
 *      {"task_id": T, "attempt": N, "uuid": U, "files": [names under data/]};
 *   2. fsync data/, then replace the record atomically (temporary file +
 *      rename) by {T, N + 1, a new uuid, this attempt's files};
 *   3. remove the previous attempt's files, except those a version of the
 *      dataset references (its output was committed already).
 * The returned fragments carry (T, N + 1, uuid), also in their JSON, so that a
 * coordinator can take every task's latest output exactly once and refuse a
 * superseded one (clance_task_check). A crash before 2 leaves the previous
 * attempt intact plus orphans; after 2, the record names the new attempt.
 * Orphans (files of dead attempts) are what fsck lists and gc removes; gc
 * also removes old records whose files are all committed or gone
 * (cl_task_records_prune). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset/dataset.h"
#include "dataset/task.h"
#include "dataset/inventory.h"
#include "io/fs.h"
#include "util/json.h"
#include "util/uuid.h"

#define TASK_DIR "_clance_tasks"
#define TASK_ID_MAX 128

clance_status cl_task_id_check(const char *id, clance_error *err) {
  size_t n = id ? strlen(id) : 0;
  if (n == 0 || n > TASK_ID_MAX || id[0] == '.')
    return cl_err(err, CLANCE_EINVAL, "task id \"%s\" must have 1 to %d characters and not start "
                  "with '.'", id ? id : "", TASK_ID_MAX);
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '_' || c == '-'))
      return cl_err(err, CLANCE_EINVAL, "task id \"%s\" may only hold letters, digits, '.', '_' "
                    "and '-'", id);
  }
  return CLANCE_OK;
}

static char *record_path(const char *root, const char *id, clance_error *err) {
  char name[TASK_ID_MAX + 8];
  snprintf(name, sizeof name, "%s.json", id);
  char *dir = cl_path_join(root, TASK_DIR, err);
  char *p = dir ? cl_path_join(dir, name, err) : NULL;
  free(dir);
  return p;
}

typedef struct task_record {
  uint64_t attempt;
  char uuid[37];
  char **files;
  size_t n_files;
} task_record;

static void record_free(task_record *r) {
  for (size_t i = 0; i < r->n_files; i++)
    free(r->files[i]);
  free(r->files);
  memset(r, 0, sizeof *r);
}

/* Read the record of task `id`; *found = 0 when there is none. */
static clance_status record_read(const char *root, const char *id, task_record *r, int *found,
                                 clance_error *err) {
  memset(r, 0, sizeof *r);
  *found = 0;
  char *p = record_path(root, id, err);
  if (!p)
    return err->code;
  if (!cl_path_exists(p)) {
    free(p);
    return CLANCE_OK;
  }
  cl_buf b = CL_BUF_INIT;
  cl_json *j = NULL;
  clance_status st = cl_file_read_all(p, (size_t)1 << 30, &b, err);
  if (!st)
    st = cl_json_parse(b.data ? (const char *)b.data : "", b.len, p, &j, err);
  const cl_json *files = st ? NULL : cl_json_get(j, "files");
  const char *uuid = st ? NULL : cl_json_string(cl_json_get(j, "uuid"), NULL);
  if (!st && (cl_json_typeof(j) != CL_JSON_OBJECT || !cl_json_u64(cl_json_get(j, "attempt"), &r->attempt) ||
              !uuid || strlen(uuid) > 36 || !files || cl_json_typeof(files) != CL_JSON_ARRAY))
    st = cl_err(err, CLANCE_ECORRUPT, "task record %s is not a task record (remove it to start the "
                "task afresh)", p);
  if (!st) {
    snprintf(r->uuid, sizeof r->uuid, "%s", uuid);
    size_t n = cl_json_len(files);
    r->files = cl_calloc(n ? n : 1, sizeof *r->files, err);
    if (!r->files)
      st = err->code;
    for (size_t i = 0; !st && i < n; i++) {
      size_t len;
      const char *s = cl_json_string(cl_json_at(files, i), &len);
      if (!s || !len || memchr(s, '/', len) || !strcmp(s, "..") || !strcmp(s, "."))
        st = cl_err(err, CLANCE_ECORRUPT, "task record %s: files[%zu] is not a data file name", p, i);
      else if (!(r->files[i] = cl_strndup(s, len, err)))
        st = err->code;
      else
        r->n_files = i + 1;
    }
  }
  cl_json_free(j);
  cl_buf_free(&b);
  free(p);
  if (st)
    record_free(r);
  else
    *found = 1;
  return st;
}

/* The data files any version of the dataset references (none when it does not
 * exist yet): a file an older version still needs must stay, or time travel
 * to that version (and restore) would break. */
static clance_status referenced_files(const char *root, cl_file_refs *refs, clance_error *err) {
  memset(refs, 0, sizeof *refs);
  cl_manifest_files mf;
  CL_TRY(cl_manifest_files_list(root, &mf, err));
  clance_status st = cl_file_refs_add_all(root, &mf, NULL, refs, err);
  cl_manifest_files_free(&mf);
  if (st)
    cl_file_refs_free(refs);
  return st;
}

clance_status cl_task_finish(const char *root, const char *data_dir, const char *id,
                             clance_fragments *frags, clance_error *err) {
  task_record old;
  int found;
  CL_TRY(record_read(root, id, &old, &found, err));
  char uuid[37];
  cl_buf b = CL_BUF_INIT;
  char *dir = NULL, *p = NULL;
  clance_status st;
  CL_CHECK(st, cl_uuid_v4(uuid, err));
  uint64_t attempt = found ? old.attempt + 1 : 1;
  CL_CHECK(st, cl_buf_printf(&b, err, "{\"task_id\": \"%s\", \"attempt\": %llu, \"uuid\": \"%s\", "
                             "\"files\": [", id, (unsigned long long)attempt, uuid));
  for (size_t i = 0; i < frags->n; i++)
    for (size_t k = 0; k < frags->v[i]->n_files; k++) {
      const char *s = cl_pb_str(frags->v[i]->files[k]->path);
      CL_CHECK(st, cl_buf_printf(&b, err, "%s", i || k ? ", " : ""));
      CL_CHECK(st, cl_json_write_string(&b, s, strlen(s), err));
    }
  CL_CHECK(st, cl_buf_printf(&b, err, "]}\n"));
  if (!(dir = cl_path_join(root, TASK_DIR, err)) || !(p = record_path(root, id, err))) {
    st = err->code;
    goto fail;
  }
  CL_CHECK(st, cl_mkdirs(dir, err));
  CL_CHECK(st, cl_fsync_dir(data_dir, err));
  CL_CHECK(st, cl_put_replace(p, b.data, b.len, 1, err));
  CL_CHECK(st, cl_fragments_set_task(frags, id, attempt, uuid, err));
  /* The new record is durable: the previous attempt's files may go. */
  if (found && old.n_files) {
    cl_file_refs refs;
    clance_error e2;
    if (referenced_files(root, &refs, &e2) == CLANCE_OK) {
      for (size_t i = 0; i < old.n_files; i++) {
        char rel[4200];
        snprintf(rel, sizeof rel, "data/%s", old.files[i]);
        if (cl_file_refs_has(&refs, rel))
          continue; /* committed already: it belongs to the dataset now */
        int mine = 0;
        for (size_t f = 0; f < frags->n && !mine; f++)
          for (size_t k = 0; k < frags->v[f]->n_files && !mine; k++)
            mine = !strcmp(cl_pb_str(frags->v[f]->files[k]->path), old.files[i]);
        char *fp = mine ? NULL : cl_path_join(data_dir, old.files[i], &e2);
        if (fp)
          remove(fp);
        free(fp);
      }
      cl_file_refs_free(&refs);
    }
    /* When the dataset cannot be read, nothing is removed: gc can do it. */
  }
fail:
  record_free(&old);
  cl_buf_free(&b);
  free(dir);
  free(p);
  return st;
}

void clance_fragments_task(const clance_fragments *fragments, const char **task_id,
                           uint64_t *attempt, const char **attempt_uuid) {
  int has = fragments && fragments->task_id;
  if (task_id)
    *task_id = has ? fragments->task_id : NULL;
  if (attempt)
    *attempt = has ? fragments->task_attempt : 0;
  if (attempt_uuid)
    *attempt_uuid = has ? fragments->task_uuid : NULL;
}

clance_status clance_task_check(const char *uri, const clance_fragments *fragments,
                                const char *source, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!uri || !fragments)
    return cl_err(err, CLANCE_EINVAL, "clance_task_check: NULL argument");
  if (!fragments->task_id)
    return CLANCE_OK;
  const char *src = source ? source : "the fragments";
  CL_TRY(cl_task_id_check(fragments->task_id, err));
  char *root;
  CL_TRY(cl_uri_to_path(uri, &root, err));
  task_record r;
  int found;
  clance_status st = record_read(root, fragments->task_id, &r, &found, err);
  if (!st && found && (r.attempt != fragments->task_attempt || strcmp(r.uuid, fragments->task_uuid)))
    st = cl_err(err, CLANCE_EINVAL, "%s holds attempt %llu of task %s, but %s "
                "records attempt %llu%s as the task's latest output (its files replace these); "
                "commit that attempt's output or re-run the task", src,
                (unsigned long long)fragments->task_attempt, fragments->task_id, root,
                (unsigned long long)r.attempt,
                r.attempt == fragments->task_attempt ? " of another run" : "");
  if (found)
    record_free(&r);
  free(root);
  return st;
}

/* Whether record file `name` (under TASK_DIR) is done with: every file it
 * names is referenced by a version or gone. Unreadable records are kept. */
static int record_settled(const char *root, const char *name, const cl_file_refs *refs) {
  size_t n = strlen(name);
  char id[TASK_ID_MAX + 1];
  if (n <= 5 || n - 5 > TASK_ID_MAX || strcmp(name + n - 5, ".json") != 0)
    return 0;
  memcpy(id, name, n - 5);
  id[n - 5] = '\0';
  clance_error e;
  task_record r;
  int found = 0;
  if (cl_task_id_check(id, &e) || record_read(root, id, &r, &found, &e) || !found)
    return 0;
  int settled = 1;
  for (size_t i = 0; settled && i < r.n_files; i++) {
    char rel[4200];
    snprintf(rel, sizeof rel, "data/%s", r.files[i]);
    char *abs = cl_path_join(root, rel, &e);
    settled = abs && (cl_file_refs_has(refs, rel) || !cl_path_exists(abs));
    free(abs);
  }
  record_free(&r);
  return settled;
}

clance_status cl_task_records_prune(const char *root, const cl_file_refs *refs, int64_t limit_ns,
                                    int dry_run, clance_file_callback on_file, void *ctx,
                                    uint64_t *removed, uint64_t *bytes, clance_error *err) {
  char *dir = cl_path_join(root, TASK_DIR, err);
  if (!dir)
    return err->code;
  cl_dirlist l;
  clance_status st = cl_list_dir(dir, &l, err);
  if (st == CLANCE_ENOTFOUND) {
    cl_err_clear(err);
    free(dir);
    return CLANCE_OK;
  }
  for (size_t i = 0; !st && i < l.n; i++) {
    char *p = cl_path_join(dir, l.names[i], err);
    if (!p) {
      st = err->code;
      break;
    }
    struct stat sb;
    int64_t mtime = 0;
    if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode))
      mtime = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
    /* Old enough, and either a staging file a crash left ("<id>.json#...")
     * or a record whose attempt is committed or gone. */
    if (mtime && mtime < limit_ns && (strchr(l.names[i], '#') || record_settled(root, l.names[i], refs))) {
      char rel[4200];
      snprintf(rel, sizeof rel, "%s/%s", TASK_DIR, l.names[i]);
      if (on_file)
        on_file(ctx, rel, "task_record", (uint64_t)sb.st_size);
      if (!dry_run && unlink(p) != 0)
        st = cl_err_errno(err, errno, "remove", p);
      if (!st) {
        (*removed)++;
        *bytes += (uint64_t)sb.st_size;
      }
    }
    free(p);
  }
  cl_dirlist_free(&l);
  free(dir);
  return st;
}
