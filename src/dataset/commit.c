/* Phase 2 of a distributed write: commit one transaction as the next version.
 *
 * Protocol (the same as Lance's, so Lance and clance committers coexist):
 *   1. write the transaction to _transactions/{read_version}-{uuid}.txn;
 *   2. find the latest version L; check every transaction committed after
 *      read_version for conflicts with ours;
 *   3. build manifest L+1 from manifest L and our operation;
 *   4. create _versions/<L+1> only if it does not exist (link(2)); if another
 *      committer took L+1 first, go back to 2 (bounded, with backoff).
 * Nothing is visible until step 4 succeeds, and step 4 never replaces a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dataset/dataset.h"
#include "dataset/operation.h"
#include "table/deletion.h"
#include "table/txn_apply.h"
#include "table/txn_rebase.h"
#include "io/fs.h"
#include "proto/fields.h"
#include "util/uuid.h"

#define DEFAULT_MAX_RETRIES 20

void clance_commit_options_init(clance_commit_options *o) {
  memset(o, 0, sizeof *o);
  o->verify_files = 1;
  o->v2_manifest_paths = 1;
}

/* ------------------------------------------------------------------------ */
/* Validation of the fragments against the schema they are committed with      */
/* ------------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static clance_status check_file(const char *root, size_t fi, pb_fragment *f, const pb_data_file *df,
                                const cl_schema *schema, cl_file_version version, int verify,
                                clance_error *err) {
  const char *name = cl_pb_str(df->path);
  cl_file_version fv;
  if (cl_data_file_version(df, &fv, err))
    return cl_err_ctx(err, "fragment %zu: ", fi);
  if (fv != version)
    return cl_err(err, CLANCE_ESCHEMA, "fragment %zu: data file %s is format %s but the dataset "
                  "stores %s", fi, name, cl_file_version_name(fv), cl_file_version_name(version));
  if (df->n_column_indices != df->n_fields)
    return cl_err(err, CLANCE_ECORRUPT, "fragment %zu: data file %s lists %zu fields but %zu "
                  "column indices", fi, name, df->n_fields, df->n_column_indices);
  for (size_t k = 0; k < df->n_fields; k++)
    if (!cl_schema_find_id(schema, df->fields[k]))
      return cl_err(err, CLANCE_ESCHEMA, "fragment %zu: data file %s stores field id %d, which the "
                    "schema does not have", fi, name, (int)df->fields[k]);
  if (!verify)
    return CLANCE_OK;
  char *p = cl_dataset_data_path(root, df, err);
  if (!p)
    return err->code;
  if (!cl_path_exists(p)) {
    clance_status st = cl_err(err, CLANCE_ENOTFOUND, "fragment %zu: data file %s does not exist "
                              "(fragments written for another dataset?)", fi, p);
    free(p);
    return st;
  }
  cl_file_reader *r;
  clance_status st = cl_file_reader_open(p, df->file_size_bytes, &r, err);
  free(p);
  if (st)
    return cl_err_ctx(err, "fragment %zu: ", fi);
  if (r->c.version != version)
    st = cl_err(err, CLANCE_ESCHEMA, "fragment %zu: data file %s is really format %s", fi, name,
                cl_file_version_name(r->c.version));
  if (!st && f->physical_rows && f->physical_rows != r->num_rows)
    st = cl_err(err, CLANCE_ECORRUPT, "fragment %zu: data file %s holds %llu rows, the fragment "
                "says %llu", fi, name, (unsigned long long)r->num_rows,
                (unsigned long long)f->physical_rows);
  if (!st && !f->physical_rows) {
    f->physical_rows = r->num_rows;
    f->has_physical_rows = r->num_rows != 0;
  }
  for (size_t k = 0; !st && k < df->n_fields; k++) {
    const cl_field *want = cl_schema_find_id(schema, df->fields[k]);
    const cl_field *have = cl_schema_find_id(&r->schema, df->fields[k]);
    char why[256] = "";
    if (!have || strcmp(have->name, want->name) != 0 || !cl_field_same_type(have, want, why, sizeof why))
      st = cl_err(err, CLANCE_ESCHEMA, "fragment %zu: data file %s holds field %d as %s%s%s, but "
                  "the schema has column \"%s\" (%s)", fi, name, (int)df->fields[k],
                  have ? "\"" : "nothing", have ? have->name : "", have ? "\"" : "", want->name,
                  why[0] ? why : "different name");
  }
  cl_file_reader_close(r);
  return st;
}

static clance_status check_fragments(const char *root, clance_fragments *frags,
                                     const cl_schema *schema, cl_file_version version, int verify,
                                     clance_error *err) {
  int32_t *want;
  size_t n_want;
  CL_TRY(cl_expected_file_fields(schema, version, &want, &n_want, err));
  clance_status st = CLANCE_OK;
  size_t n_paths = 0;
  for (size_t i = 0; i < frags->n; i++)
    n_paths += frags->v[i]->n_files;
  char **paths = cl_calloc(n_paths ? n_paths : 1, sizeof *paths, err);
  int *seen = cl_calloc(n_want ? n_want : 1, sizeof *seen, err);
  if (!paths || !seen) {
    st = err->code;
    goto done;
  }
  n_paths = 0;
  for (size_t i = 0; i < frags->n; i++) {
    pb_fragment *f = frags->v[i];
    memset(seen, 0, (n_want ? n_want : 1) * sizeof *seen);
    if (f->deletion_file) {
      st = cl_err(err, CLANCE_EINVAL, "fragment %zu has a deletion file; new fragments cannot", i);
      goto done;
    }
    for (size_t d = 0; d < f->n_files; d++) {
      const pb_data_file *df = f->files[d];
      paths[n_paths++] = df->path;
      if ((st = check_file(root, i, f, df, schema, version, verify, err)))
        goto done;
      for (size_t k = 0; k < df->n_fields; k++)
        for (size_t w = 0; w < n_want; w++)
          if (want[w] == df->fields[k]) {
            if (seen[w]++) {
              st = cl_err(err, CLANCE_ECORRUPT, "fragment %zu stores field %d twice", i,
                          (int)want[w]);
              goto done;
            }
          }
    }
    for (size_t w = 0; w < n_want; w++)
      if (!seen[w]) {
        const cl_field *fl = cl_schema_find_id(schema, want[w]);
        st = cl_err(err, CLANCE_ESCHEMA, "fragment %zu (data file %s) has no column \"%s\" "
                    "(field %d) of the schema", i, cl_pb_str(f->files[0]->path),
                    fl ? fl->name : "?", (int)want[w]);
        goto done;
      }
  }
  qsort(paths, n_paths, sizeof *paths, cmp_str);
  for (size_t i = 1; i < n_paths; i++)
    if (strcmp(paths[i], paths[i - 1]) == 0) {
      st = cl_err(err, CLANCE_EINVAL, "data file %s appears in two fragments (the same "
                  "FragmentMetadata was given twice?)", paths[i]);
      goto done;
    }
done:
  free(paths);
  free(seen);
  free(want);
  return st;
}

/* ------------------------------------------------------------------------ */
/* Fragments an operation changes                                             */
/* ------------------------------------------------------------------------ */

static const pb_fragment *read_fragment(const cl_dataset *read, uint64_t id) {
  const pb_manifest *m = read->manifest.pb;
  for (size_t i = 0; i < m->n_fragments; i++)
    if (m->fragments[i]->id == id)
      return m->fragments[i];
  return NULL;
}

static int same_file(const pb_data_file *a, const pb_data_file *b) {
  return !strcmp(cl_pb_str(a->path), cl_pb_str(b->path)) && a->n_fields == b->n_fields &&
         !memcmp(a->fields, b->fields, a->n_fields * sizeof *a->fields);
}

/* An existing fragment as an operation changes it: same id and rows as in
 * the read version; data files not in the read version are new and checked
 * like new fragments' files; `same_files` demands the file list unchanged
 * (a Delete only adds a deletion vector). */
static clance_status check_changed(const char *root, const cl_dataset *read, pb_fragment *f,
                                   const cl_schema *schema, int same_files, int verify,
                                   const char *opname, clance_error *err) {
  const pb_fragment *old = read_fragment(read, f->id);
  unsigned long long id = (unsigned long long)f->id;
  if (!old)
    return cl_err(err, CLANCE_EINVAL, "%s: fragment %llu is not in version %llu of the dataset",
                  opname, id, (unsigned long long)read->manifest.pb->version);
  uint64_t old_rows;
  CL_TRY(cl_fragment_rows(root, old, &old_rows, err));
  if (f->physical_rows != old_rows)
    return cl_err(err, CLANCE_EINVAL, "%s: fragment %llu has %llu rows in version %llu, but the "
                  "given metadata says %llu", opname, id, (unsigned long long)old_rows,
                  (unsigned long long)read->manifest.pb->version,
                  (unsigned long long)f->physical_rows);
  if (same_files) {
    int same = f->n_files == old->n_files;
    for (size_t d = 0; same && d < f->n_files; d++)
      same = same_file(f->files[d], old->files[d]);
    if (!same)
      return cl_err(err, CLANCE_EINVAL, "%s: fragment %llu lists other data files than version "
                    "%llu has", opname, id, (unsigned long long)read->manifest.pb->version);
  }
  for (size_t d = 0; d < f->n_files; d++) {
    const pb_data_file *df = f->files[d];
    int known = 0;
    for (size_t k = 0; k < old->n_files && !known; k++)
      known = same_file(df, old->files[k]) ||
              !strcmp(cl_pb_str(df->path), cl_pb_str(old->files[k]->path));
    if (known)
      continue;
    CL_TRY(check_file(root, (size_t)f->id, f, df, schema, read->data_version, verify, err));
  }
  if (f->deletion_file) {
    const Lance__Table__DeletionFile *dfl = f->deletion_file;
    if (dfl->num_deleted_rows == 0 || dfl->num_deleted_rows >= f->physical_rows)
      return cl_err(err, CLANCE_EINVAL, "%s: fragment %llu's deletion file counts %llu of %llu "
                    "rows (a fragment with every row deleted is removed instead)", opname, id,
                    (unsigned long long)dfl->num_deleted_rows, (unsigned long long)f->physical_rows);
    if (verify) {
      char *p = cl_deletion_path(root, f, err);
      if (!p)
        return err->code;
      int ok = cl_path_exists(p);
      clance_status st = ok ? CLANCE_OK
                            : cl_err(err, CLANCE_ENOTFOUND, "%s: deletion file %s of fragment %llu "
                                     "does not exist", opname, p, id);
      free(p);
      CL_TRY(st);
    }
  }
  return CLANCE_OK;
}

static clance_status check_ids(const cl_dataset *read, const uint64_t *ids, size_t n,
                               const char *opname, clance_error *err) {
  for (size_t i = 0; i < n; i++)
    if (!read_fragment(read, ids[i]))
      return cl_err(err, CLANCE_EINVAL, "%s: fragment %llu is not in version %llu of the dataset",
                    opname, (unsigned long long)ids[i],
                    (unsigned long long)read->manifest.pb->version);
  return CLANCE_OK;
}

/* ------------------------------------------------------------------------ */
/* The commit                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct commit_ctx {
  const char *root;
  const clance_operation *op;
  uint64_t read_version;
  clance_commit_options opts;
  char uuid[37];
  char txn_name[128];
  cl_dataset *read;       /* the read version, NULL when creating */
  pb_txn *txn;
  cl_buf txn_bytes;
  cl_schema schema;       /* the schema of the new version */
  cl_file_version version;
  uint64_t checked_upto;  /* versions whose transactions were already checked */
  cl_txn_rebase rebase;   /* Delete/Update merged over concurrent ones (txn_rebase.h) */
} commit_ctx;

/* Everything that can be checked once, against the read version. */
static clance_status validate(commit_ctx *c, clance_error *err) {
  const clance_operation *op = c->op;
  const char *name = cl_op_name(op->kind);
  int verify = c->opts.verify_files;
  if (c->read) {
    uint64_t wf = c->read->manifest.pb->writer_feature_flags;
    if (wf & ~(uint64_t)CL_WRITER_FLAGS_SUPPORTED)
      return cl_err(err, CLANCE_EUNSUPPORTED, "dataset %s uses writer features 0x%llx that clance "
                    "cannot maintain", c->root,
                    (unsigned long long)(wf & ~(uint64_t)CL_WRITER_FLAGS_SUPPORTED));
  } else if (op->kind == CL_OP_APPEND) {
    /* Read version 0: the conflict check meets the dataset's creation (an
     * incompatible Overwrite), or the loop finds no dataset to append to. */
    return CLANCE_OK;
  } else if (op->kind != CL_OP_OVERWRITE) {
    return cl_err(err, op->kind == CL_OP_APPEND ? CLANCE_ENOTFOUND : CLANCE_EINVAL,
                  "cannot %s: %s", op->kind == CL_OP_APPEND ? "append" : name,
                  c->read_version ? "no such read version"
                                  : "the read version is 0 (no dataset); commit an Overwrite first");
  }
  if (op->kind == CL_OP_RESTORE)
    return CLANCE_OK; /* checked against the restored version in the loop */
  CL_TRY(cl_op_schema(op, c->read, &c->schema, err));
  c->version = c->read ? c->read->data_version : CL_FILE_V2_1;
  if (op->kind == CL_OP_OVERWRITE) {
    c->version = CL_FILE_V2_1; /* an empty table */
    if (op->frags.n && op->frags.v[0]->n_files)
      CL_TRY(cl_data_file_version(op->frags.v[0]->files[0], &c->version, err));
  }
  const pb_txn *t = c->txn;
  switch (op->kind) {
  case CL_OP_APPEND:
  case CL_OP_OVERWRITE: {
    clance_fragments nf = {.v = t->append ? t->append->fragments : t->overwrite->fragments,
                           .n = t->append ? t->append->n_fragments : t->overwrite->n_fragments};
    return check_fragments(c->root, &nf, &c->schema, c->version, verify, err);
  }
  case CL_OP_DELETE: {
    const Lance__Table__Transaction__Delete *d = t->delete_;
    CL_TRY(check_ids(c->read, d->deleted_fragment_ids, d->n_deleted_fragment_ids, name, err));
    for (size_t i = 0; i < d->n_updated_fragments; i++) {
      if (!d->updated_fragments[i]->deletion_file)
        return cl_err(err, CLANCE_EINVAL, "Delete: fragment %llu has no deletion file",
                      (unsigned long long)d->updated_fragments[i]->id);
      CL_TRY(check_changed(c->root, c->read, d->updated_fragments[i], &c->schema, 1, verify, name, err));
    }
    if (!d->n_updated_fragments && !d->n_deleted_fragment_ids)
      return cl_err(err, CLANCE_EINVAL, "Delete: no fragment changes (nothing matched?)");
    return CLANCE_OK;
  }
  case CL_OP_UPDATE: {
    const Lance__Table__Transaction__Update *u = t->update;
    CL_TRY(check_ids(c->read, u->removed_fragment_ids, u->n_removed_fragment_ids, name, err));
    for (size_t i = 0; i < u->n_updated_fragments; i++)
      CL_TRY(check_changed(c->root, c->read, u->updated_fragments[i], &c->schema, 0, verify, name, err));
    clance_fragments nf = {.v = u->new_fragments, .n = u->n_new_fragments};
    CL_TRY(check_fragments(c->root, &nf, &c->schema, c->version, verify, err));
    for (size_t i = 0; i < u->n_fields_modified; i++)
      if (!cl_schema_find_id(&c->schema, (int32_t)u->fields_modified[i]))
        return cl_err(err, CLANCE_EINVAL, "Update: modified field %u is not in the schema",
                      u->fields_modified[i]);
    return CLANCE_OK;
  }
  case CL_OP_MERGE: {
    /* Every fragment: from the read version, the updated ones with new files. */
    for (size_t i = 0; i < op->frags.n; i++)
      CL_TRY(check_changed(c->root, c->read, op->frags.v[i], &c->schema, 0, verify, name, err));
    /* Their new files must carry exactly the ids the schema gave the new columns. */
    for (size_t i = 0; i < op->frags.n; i++)
      for (size_t d = 0; d < op->frags.v[i]->n_files; d++) {
        const pb_data_file *df = op->frags.v[i]->files[d];
        for (size_t k = 0; k < df->n_fields; k++)
          if (df->fields[k] >= 0 && !cl_schema_find_id(&c->schema, df->fields[k]))
            return cl_err(err, CLANCE_ESCHEMA, "Merge: fragment %llu's data file %s stores field "
                          "%d, which neither the dataset nor the new columns have (columns "
                          "written against another read version?)",
                          (unsigned long long)op->frags.v[i]->id, cl_pb_str(df->path),
                          (int)df->fields[k]);
      }
    return CLANCE_OK;
  }
  case CL_OP_REWRITE: {
    const Lance__Table__Transaction__Rewrite *r = t->rewrite;
    for (size_t g = 0; g < r->n_groups; g++) {
      uint64_t live = 0, rows = 0;
      for (size_t k = 0; k < r->groups[g]->n_old_fragments; k++)
        live += cl_fragment_live_rows(r->groups[g]->old_fragments[k]);
      clance_fragments nf = {.v = r->groups[g]->new_fragments,
                             .n = r->groups[g]->n_new_fragments};
      CL_TRY(check_fragments(c->root, &nf, &c->schema, c->version, verify, err));
      for (size_t k = 0; k < nf.n; k++)
        rows += nf.v[k]->physical_rows;
      if (rows != live)
        return cl_err(err, CLANCE_EINVAL, "Rewrite: group %zu replaces %llu live rows by %llu rows",
                      g, (unsigned long long)live, (unsigned long long)rows);
    }
    if (c->read->manifest.index_block)
      return cl_err(err, CLANCE_EUNSUPPORTED, "Rewrite: dataset %s has indices, which clance "
                    "cannot remap to rewritten fragments yet", c->root);
    return CLANCE_OK;
  }
  case CL_OP_DATA_REPLACEMENT:
    for (size_t i = 0; i < op->frags.n; i++) {
      pb_fragment *f = op->frags.v[i];
      const pb_fragment *old = read_fragment(c->read, f->id);
      if (!old)
        return cl_err(err, CLANCE_EINVAL, "DataReplacement: fragment %llu is not in version %llu",
                      (unsigned long long)f->id, (unsigned long long)c->read->manifest.pb->version);
      uint64_t rows;
      CL_TRY(cl_fragment_rows(c->root, old, &rows, err));
      pb_fragment probe = *f;
      probe.physical_rows = rows;
      CL_TRY(check_file(c->root, (size_t)f->id, &probe, f->files[0], &c->schema, c->version, verify, err));
    }
    return CLANCE_OK;
  default:
    return CLANCE_OK;
  }
}

/* Check the transactions committed since read_version against ours. */
static clance_status check_conflicts(commit_ctx *c, const cl_version_list *vl, clance_error *err) {
  uint64_t from = c->checked_upto > c->read_version ? c->checked_upto : c->read_version;
  const char *ours_name = cl_op_name(c->op->kind);
  for (size_t i = 0; i < vl->n; i++) {
    uint64_t v = vl->versions[i];
    if (v <= from)
      continue;
    char *p = cl_version_path(c->root, v, vl->naming, err);
    if (!p)
      return err->code;
    cl_manifest m;
    clance_status st = cl_manifest_read(p, v, &m, err);
    free(p);
    CL_TRY(st);
    pb_txn *theirs;
    st = cl_txn_of_manifest(&m, c->root, &theirs, err);
    cl_manifest_free(&m);
    CL_TRY(st);
    if (!theirs)
      return cl_err(err, CLANCE_ECONFLICT_RETRYABLE,
                    "commit conflict: version %llu has no transaction record, so this %s prepared "
                    "against version %llu cannot be checked against it; redo it on the latest version",
                    (unsigned long long)v, ours_name, (unsigned long long)c->read_version);
    cl_op_kind tk = cl_txn_kind(theirs);
    char why[256];
    cl_conflict k;
    st = cl_txn_rebase_check(&c->rebase, c->read ? c->read->manifest.pb : NULL, c->txn, theirs, v,
                             c->opts.overwrite_wins, &k, why, sizeof why, err);
    protobuf_c_message_free_unpacked(&theirs->base, NULL);
    CL_TRY(st);
    if (k != CL_CONFLICT_NONE)
      return cl_err(err, k == CL_CONFLICT_RETRYABLE ? CLANCE_ECONFLICT_RETRYABLE
                                                    : CLANCE_ECONFLICT_INCOMPATIBLE,
                    "commit conflict: this %s was prepared against version %llu, but version %llu "
                    "(%s) was committed since and %s; %s",
                    ours_name, (unsigned long long)c->read_version, (unsigned long long)v,
                    cl_op_name(tk), why,
                    k == CL_CONFLICT_RETRYABLE ? "redo it against the latest version"
                                               : "it cannot be applied any more");
    c->checked_upto = v;
  }
  return CLANCE_OK;
}

static void backoff(int attempt, double unit_ms) {
  if (unit_ms < 1)
    unit_ms = 1;
  uint64_t r = 0;
  clance_error e;
  cl_random_bytes(&r, sizeof r, &e);
  int shift = attempt + 2 < 12 ? attempt + 2 : 12;
  double ms = unit_ms * (double)(r % (1ull << shift));
  if (ms > 5000)
    ms = 5000;
  struct timespec ts = {(time_t)(ms / 1000), (long)((ms - (double)(time_t)(ms / 1000) * 1000) * 1e6)};
  nanosleep(&ts, NULL);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The transaction file, not yet fsynced (publish() makes it durable). */
static clance_status write_txn_file(commit_ctx *c, clance_error *err) {
  char *dir = cl_path_join(c->root, "_transactions", err);
  if (!dir)
    return err->code;
  clance_status st = cl_mkdirs(dir, err);
  char *p = st ? NULL : cl_path_join(dir, c->txn_name, err);
  if (!st && !p)
    st = err->code;
  if (!st)
    st = cl_put_new(p, c->txn_bytes.data, c->txn_bytes.len, 0, err);
  free(p);
  free(dir);
  return st;
}

/* Publish the manifest `bytes` as `path` (put-if-absent). Durably, unless
 * no_fsync: the data, deletion and transaction files were written (the data
 * and deletion files fsynced by their writers), and their directory entries,
 * the transaction file and the staged manifest are fsynced together before
 * the rename, so that a crash never leaves a version pointing at a file that
 * vanished; then _versions/ is fsynced so the version itself survives. */
static clance_status publish(const commit_ctx *c, const char *path, const cl_buf *bytes,
                             clance_error *err) {
  int sync = !c->opts.no_fsync;
  char tmp[CL_STAGE_NAME_MAX];
  CL_TRY(cl_stage_write(path, bytes->data, bytes->len, tmp, err));
  clance_status st = CLANCE_OK;
  if (sync) {
    static const char *const dirs[] = {"data", "_deletions", "_transactions"};
    char *paths[5] = {0};
    size_t n = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs && !st; i++) {
      char *p = cl_path_join(c->root, dirs[i], err);
      if (!p)
        st = err->code;
      else if (cl_path_exists(p))
        paths[n++] = p;
      else
        free(p);
    }
    char txn[CL_STAGE_NAME_MAX];
    if (!st && (size_t)snprintf(txn, sizeof txn, "%s/_transactions/%s", c->root, c->txn_name) >=
                   sizeof txn)
      st = cl_err(err, CLANCE_EINVAL, "path too long: %s", c->root);
    if (!st) {
      paths[n++] = txn;
      paths[n++] = tmp;
      st = cl_fsync_paths((const char *const *)paths, n, err);
    }
    for (size_t i = 0; i < n; i++)
      if (paths[i] != txn && paths[i] != tmp)
        free(paths[i]);
  }
  if (st) {
    unlink(tmp);
    return st;
  }
  return cl_stage_publish(tmp, path, sync, err);
}

/* One attempt at version latest + 1. */
static clance_status attempt_commit(commit_ctx *c, const cl_version_list *vl, int *txn_written,
                                    uint64_t *out_version, clance_error *err) {
  uint64_t latest = vl->n ? vl->versions[vl->n - 1] : 0;
  if (c->read_version > latest)
    return cl_err(err, CLANCE_EINVAL, "read version %llu is newer than the latest version %llu of %s",
                  (unsigned long long)c->read_version, (unsigned long long)latest, c->root);
  if (c->op->kind != CL_OP_OVERWRITE && latest == 0)
    return cl_err(err, CLANCE_ENOTFOUND, "cannot %s: dataset %s does not exist (commit an "
                  "Overwrite first)", c->op->kind == CL_OP_APPEND ? "append" : "commit", c->root);
  CL_TRY(check_conflicts(c, vl, err));
  cl_dataset *prev = NULL, *restored = NULL;
  cl_apply_out ao = {0};
  cl_buf bytes = CL_BUF_INIT;
  char *path = NULL, *vdir = NULL;
  clance_status st = CLANCE_OK;
  if (latest && c->read && latest == c->read_version) {
    prev = c->read; /* no commit since the read version: it is the latest */
    cl_dataset_ref(prev);
  } else if (latest) {
    CL_CHECK(st, cl_dataset_open(c->root, latest, &prev, err));
  }
  if (c->op->kind == CL_OP_RESTORE) {
    if (c->op->version > latest) {
      st = cl_err(err, CLANCE_ENOTFOUND, "cannot restore version %llu: the latest version is %llu",
                  (unsigned long long)c->op->version, (unsigned long long)latest);
      goto fail;
    }
    CL_CHECK(st, cl_dataset_open(c->root, c->op->version, &restored, err));
  }
  /* Deletions merged over concurrent Deletes/Updates: a new transaction. */
  int rebased = 0;
  CL_CHECK(st, cl_txn_rebase_finish(&c->rebase, c->root, prev ? prev->manifest.pb : NULL, &c->txn,
                                    &rebased, err));
  if (rebased) {
    c->txn_bytes.len = 0;
    CL_CHECK(st, cl_pb_pack(&c->txn->base, &c->txn_bytes, err));
    cl_txn_file_name(c->txn, c->txn_name, sizeof c->txn_name);
    *txn_written = 0;
  }
  cl_apply_in in = {
      .prev = prev ? &prev->manifest : NULL,
      .restore = restored ? &restored->manifest : NULL,
      .version = latest + 1,
      .file_version = c->version,
      .txn_file = c->txn_name,
  };
  CL_CHECK(st, cl_txn_apply(c->txn, &in, &ao, err));
  if (!*txn_written) {
    CL_CHECK(st, write_txn_file(c, err));
    *txn_written = 1;
  }
  CL_CHECK(st, cl_manifest_encode(ao.m, ao.index.len ? ao.index.data : NULL, ao.index.len,
                                  c->txn_bytes.data, c->txn_bytes.len, &bytes, err));
  cl_naming naming = vl->naming ? vl->naming : (c->opts.v2_manifest_paths ? CL_NAMING_V2 : CL_NAMING_V1);
  if (!(vdir = cl_path_join(c->root, "_versions", err))) {
    st = err->code;
    goto fail;
  }
  CL_CHECK(st, cl_mkdirs(vdir, err));
  if (!(path = cl_version_path(c->root, latest + 1, naming, err))) {
    st = err->code;
    goto fail;
  }
  st = publish(c, path, &bytes, err);
  if (st == CLANCE_OK) {
    cl_versions_write_hint(c->root, latest + 1);
    *out_version = latest + 1;
  }
fail:
  free(path);
  free(vdir);
  cl_buf_free(&bytes);
  cl_apply_out_free(&ao);
  cl_dataset_unref(prev);
  cl_dataset_unref(restored);
  return st;
}

static clance_status commit_loop(commit_ctx *c, uint64_t *out_version, clance_error *err) {
  uint32_t attempts = c->opts.max_retries ? c->opts.max_retries : DEFAULT_MAX_RETRIES;
  clance_status st = CLANCE_OK;
  int txn_written = 0;
  double unit = 0;
  for (uint32_t attempt = 0; attempt < attempts; attempt++) {
    double t0 = now_ms();
    cl_version_list vl;
    /* From the read version on by lookups (no listing of _versions/). */
    if ((st = c->read ? cl_versions_from(c->root, c->read_version, c->read->naming, &vl, err)
                      : cl_versions_list(c->root, &vl, err)))
      break;
    st = attempt_commit(c, &vl, &txn_written, out_version, err);
    cl_version_list_free(&vl);
    if (st != CLANCE_EEXISTS)
      break;
    /* Lost the race for this version number: look again. */
    if (!unit)
      unit = 1.1 * (now_ms() - t0);
    cl_err_clear(err);
    backoff((int)attempt, unit);
    st = CLANCE_ECONTENTION;
  }
  if (st == CLANCE_ECONTENTION)
    cl_err(err, CLANCE_ECONTENTION, "failed to commit to %s after %u attempts: other committers "
           "kept taking the next version", c->root, attempts);
  return st;
}

clance_status clance_commit(const char *uri, const clance_operation *op, uint64_t read_version,
                            const clance_commit_options *options, uint64_t *out_version,
                            clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!uri || !op || !out_version)
    return cl_err(err, CLANCE_EINVAL, "clance_commit: NULL argument");
  commit_ctx c;
  memset(&c, 0, sizeof c);
  clance_commit_options_init(&c.opts);
  if (options)
    c.opts = *options;
  c.op = op;
  c.read_version = read_version;
  char *root = NULL;
  clance_status st;
  CL_CHECK(st, cl_uri_to_path(uri, &root, err));
  c.root = root;
  if (read_version) {
    st = cl_dataset_open(root, read_version, &c.read, err);
    if (st == CLANCE_ENOTFOUND) {
      cl_version_list vl;
      uint64_t latest = 0;
      if (cl_versions_list(root, &vl, &(clance_error){0}) == CLANCE_OK) {
        latest = vl.n ? vl.versions[vl.n - 1] : 0;
        cl_version_list_free(&vl);
      }
      if (latest && read_version > latest)
        st = cl_err(err, CLANCE_EINVAL, "read version %llu is newer than the latest version %llu "
                    "of %s", (unsigned long long)read_version, (unsigned long long)latest, root);
    }
    if (st)
      goto fail;
  }
  CL_CHECK(st, cl_uuid_v4(c.uuid, err));
  CL_CHECK(st, cl_op_to_txn(op, c.read, read_version, c.uuid, &c.txn, err));
  /* Validation may fill in row counts the fragment metadata left out. */
  CL_CHECK(st, validate(&c, err));
  CL_CHECK(st, cl_pb_pack(&c.txn->base, &c.txn_bytes, err));
  cl_txn_file_name(c.txn, c.txn_name, sizeof c.txn_name);
  if (op->kind == CL_OP_OVERWRITE)
    CL_CHECK(st, cl_mkdirs(root, err));
  st = commit_loop(&c, out_version, err);
fail:
  cl_txn_rebase_end(&c.rebase, root, st == CLANCE_OK);
  if (c.txn)
    protobuf_c_message_free_unpacked(&c.txn->base, NULL);
  cl_buf_free(&c.txn_bytes);
  cl_dataset_unref(c.read);
  cl_schema_free(&c.schema);
  free(root);
  return st;
}
