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

#include "dataset/dataset.h"
#include "io/fs.h"
#include "proto/fields.h"
#include "util/uuid.h"

#define DEFAULT_MAX_RETRIES 20

struct clance_operation {
  cl_op_kind kind;
  cl_schema schema; /* Overwrite: the new schema, ids assigned from 0 */
  clance_fragments frags;
};

void clance_operation_free(clance_operation *op) {
  if (!op)
    return;
  cl_schema_free(&op->schema);
  cl_fragments_clear(&op->frags);
  free(op);
}

static clance_status op_new(cl_op_kind kind, const clance_fragments *f, clance_operation **out,
                            clance_error *err) {
  *out = NULL;
  if (!f)
    return cl_err(err, CLANCE_EINVAL, "the fragment list is NULL");
  clance_operation *op = cl_calloc(1, sizeof *op, err);
  if (!op)
    return err->code;
  op->kind = kind;
  if (clance_fragments_extend(&op->frags, f, err)) {
    clance_operation_free(op);
    return err->code;
  }
  *out = op;
  return CLANCE_OK;
}

clance_status clance_operation_overwrite(const struct ArrowSchema *schema,
                                         const clance_fragments *fragments, clance_operation **out,
                                         clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!schema || !out)
    return cl_err(err, CLANCE_EINVAL, "clance_operation_overwrite: NULL argument");
  CL_TRY(op_new(CL_OP_OVERWRITE, fragments, out, err));
  clance_status st = cl_schema_from_arrow(schema, &(*out)->schema, err);
  if (!st && (*out)->schema.n_fields == 0)
    st = cl_err(err, CLANCE_EINVAL, "an Overwrite needs a schema with at least one column");
  if (st) {
    clance_operation_free(*out);
    *out = NULL;
    return st;
  }
  int32_t next = 0;
  cl_schema_assign_ids(&(*out)->schema, &next);
  return CLANCE_OK;
}

clance_status clance_operation_append(const clance_fragments *fragments, clance_operation **out,
                                      clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!out)
    return cl_err(err, CLANCE_EINVAL, "clance_operation_append: NULL argument");
  CL_TRY(op_new(CL_OP_APPEND, fragments, out, err));
  if ((*out)->frags.n == 0) {
    clance_operation_free(*out);
    *out = NULL;
    return cl_err(err, CLANCE_EINVAL, "an Append needs at least one fragment");
  }
  return CLANCE_OK;
}

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
/* Transactions and manifests                                                 */
/* ------------------------------------------------------------------------ */

/* The transaction records new fragments with id 0 (unassigned). */
static clance_status build_txn(const clance_operation *op, uint64_t read_version, const char *uuid,
                               cl_buf *out, clance_error *err) {
  pb_txn t = LANCE__TABLE__TRANSACTION__INIT;
  t.has_read_version = read_version != 0;
  t.read_version = read_version;
  t.uuid = (char *)uuid;
  pb_fragment **frags = cl_calloc(op->frags.n ? op->frags.n : 1, sizeof *frags, err);
  if (!frags)
    return err->code;
  clance_status st = CLANCE_OK;
  for (size_t i = 0; !st && i < op->frags.n; i++) {
    st = cl_fragment_copy(op->frags.v[i], &frags[i], err);
    if (!st) {
      frags[i]->id = 0;
      frags[i]->has_id = 0;
    }
  }
  Lance__Table__Transaction__Append app = LANCE__TABLE__TRANSACTION__APPEND__INIT;
  Lance__Table__Transaction__Overwrite ow = LANCE__TABLE__TRANSACTION__OVERWRITE__INIT;
  pb_field **fields = NULL;
  size_t nf = 0;
  if (!st && op->kind == CL_OP_APPEND) {
    app.n_fragments = op->frags.n;
    app.fragments = frags;
    t.operation_case = LANCE__TABLE__TRANSACTION__OPERATION_APPEND;
    t.append = &app;
  } else if (!st) {
    st = cl_fields_to_pb(&op->schema, &fields, &nf, err);
    ow.n_fragments = op->frags.n;
    ow.fragments = frags;
    ow.n_schema = nf;
    ow.schema = fields;
    t.operation_case = LANCE__TABLE__TRANSACTION__OPERATION_OVERWRITE;
    t.overwrite = &ow;
  }
  if (!st)
    st = cl_pb_pack(&t.base, out, err);
  cl_fields_pb_free(fields, nf);
  for (size_t i = 0; i < op->frags.n; i++)
    cl_fragment_free(frags[i]);
  free(frags);
  return st;
}

typedef struct commit_ctx {
  const char *root;
  const clance_operation *op;
  uint64_t read_version;
  clance_commit_options opts;
  char uuid[37];
  char txn_name[128];
  cl_buf txn;
  clance_fragments frags; /* validated copy (rows filled in) */
  int validated;
  cl_schema schema;       /* the schema of the new version */
  cl_file_version version;
  uint64_t checked_upto;  /* versions whose transactions were already checked */
} commit_ctx;

static clance_status set_str(char **dst, const char *s, clance_error *err) {
  free(*dst);
  *dst = s ? cl_strdup(s, err) : NULL;
  return (!s || *dst) ? CLANCE_OK : err->code;
}

/* Recompute feature flags from the manifest's content, as Lance does. */
static void set_flags(pb_manifest *m) {
  uint64_t rf = 0, wf = 0;
  for (size_t i = 0; i < m->n_fragments; i++)
    if (m->fragments[i]->deletion_file)
      rf = wf = CL_FLAG_DELETION_FILES;
  if (m->n_config)
    wf |= CL_FLAG_TABLE_CONFIG;
  m->reader_feature_flags = rf;
  m->has_reader_feature_flags = rf != 0;
  m->writer_feature_flags = wf;
  m->has_writer_feature_flags = wf != 0;
}

static clance_status copy_manifest(const pb_manifest *src, pb_manifest **out, clance_error *err) {
  cl_buf b = CL_BUF_INIT;
  CL_TRY(cl_pb_pack(&src->base, &b, err));
  *out = lance__table__manifest__unpack(NULL, b.len, b.data);
  cl_buf_free(&b);
  return *out ? CLANCE_OK : cl_err_nomem(err, "manifest copy");
}

static clance_status build_manifest(commit_ctx *c, const cl_manifest *prev, uint64_t version,
                                    pb_manifest **out, clance_error *err) {
  pb_manifest *m = NULL;
  clance_status st = CLANCE_OK;
  const clance_operation *op = c->op;
  uint64_t next_id = 0;
  size_t keep = 0;
  if (prev) {
    CL_TRY(copy_manifest(prev->pb, &m, err));
    if (m->has_max_fragment_id)
      next_id = (uint64_t)m->max_fragment_id + 1;
    for (size_t i = 0; i < m->n_fragments; i++)
      if (m->fragments[i]->id >= next_id)
        next_id = m->fragments[i]->id + 1;
    keep = op->kind == CL_OP_APPEND ? m->n_fragments : 0;
    if (op->kind == CL_OP_OVERWRITE) {
      /* New schema; the old fragments go (their ids are never reused). */
      for (size_t i = 0; i < m->n_fragments; i++)
        cl_fragment_free(m->fragments[i]);
      m->n_fragments = 0;
      cl_fields_pb_free(m->fields, m->n_fields);
      m->fields = NULL;
      m->n_fields = 0;
      cl_meta_pb_free(m->schema_metadata, m->n_schema_metadata);
      m->schema_metadata = NULL;
      m->n_schema_metadata = 0;
    }
  } else {
    m = cl_calloc(1, sizeof *m, err);
    if (!m)
      return err->code;
    lance__table__manifest__init(m);
  }
  if (op->kind == CL_OP_OVERWRITE) {
    CL_CHECK(st, cl_fields_to_pb(&op->schema, &m->fields, &m->n_fields, err));
    CL_CHECK(st, cl_meta_to_pb(&op->schema.metadata, &m->schema_metadata, &m->n_schema_metadata, err));
  }
  /* Fragments: kept ones plus the new ones with fresh ids. */
  size_t total = keep + c->frags.n;
  pb_fragment **fr = realloc(m->fragments, (total ? total : 1) * sizeof *fr);
  if (!fr) {
    st = cl_err_nomem(err, "manifest fragments");
    goto fail;
  }
  m->fragments = fr;
  for (size_t i = 0; i < c->frags.n; i++) {
    pb_fragment *f;
    CL_CHECK(st, cl_fragment_copy(c->frags.v[i], &f, err));
    f->id = next_id++;
    f->has_id = f->id != 0;
    m->fragments[m->n_fragments++] = f;
  }
  if (m->n_fragments) {
    uint64_t max_id = m->fragments[m->n_fragments - 1]->id;
    if (max_id > UINT32_MAX) {
      st = cl_err(err, CLANCE_EUNSUPPORTED, "fragment id %llu exceeds 32 bits",
                  (unsigned long long)max_id);
      goto fail;
    }
    if (!m->has_max_fragment_id || max_id > m->max_fragment_id)
      m->max_fragment_id = (uint32_t)max_id;
    m->has_max_fragment_id = 1;
  }
  m->version = version;
  m->has_version = 1;
  if (!m->timestamp) {
    m->timestamp = cl_calloc(1, sizeof *m->timestamp, err);
    if (!m->timestamp) {
      st = err->code;
      goto fail;
    }
    lance__file__pb_timestamp__init(m->timestamp);
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  m->timestamp->seconds = ts.tv_sec;
  m->timestamp->has_seconds = 1;
  m->timestamp->nanos = (int32_t)ts.tv_nsec;
  m->timestamp->has_nanos = ts.tv_nsec != 0;
  if (!m->writer_version) {
    m->writer_version = cl_calloc(1, sizeof *m->writer_version, err);
    if (!m->writer_version) {
      st = err->code;
      goto fail;
    }
    lance__table__manifest__writer_version__init(m->writer_version);
  }
  CL_CHECK(st, set_str(&m->writer_version->library, "clance", err));
  CL_CHECK(st, set_str(&m->writer_version->version, CLANCE_VERSION_STRING, err));
  CL_CHECK(st, set_str(&m->writer_version->prerelease, NULL, err));
  CL_CHECK(st, set_str(&m->writer_version->build_metadata, NULL, err));
  if (!m->data_format) {
    m->data_format = cl_calloc(1, sizeof *m->data_format, err);
    if (!m->data_format) {
      st = err->code;
      goto fail;
    }
    lance__table__manifest__data_storage_format__init(m->data_format);
  }
  CL_CHECK(st, set_str(&m->data_format->file_format, "lance", err));
  CL_CHECK(st, set_str(&m->data_format->version, cl_file_version_name(c->version), err));
  CL_CHECK(st, set_str(&m->transaction_file, c->txn_name, err));
  CL_CHECK(st, set_str(&m->tag, NULL, err));
  set_flags(m);
  *out = m;
  return CLANCE_OK;
fail:
  if (m)
    protobuf_c_message_free_unpacked(&m->base, NULL);
  return st;
}

/* Check the transactions committed since read_version against ours. */
static clance_status check_conflicts(commit_ctx *c, const cl_version_list *vl, pb_txn *ours,
                                     clance_error *err) {
  uint64_t from = c->checked_upto > c->read_version ? c->checked_upto : c->read_version;
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
    const char *ours_name = cl_op_name(cl_txn_kind(ours));
    if (!theirs)
      return cl_err(err, CLANCE_ECONFLICT_RETRYABLE,
                    "commit conflict: version %llu has no transaction record, so this %s prepared "
                    "against version %llu cannot be checked against it; redo it on the latest version",
                    (unsigned long long)v, ours_name, (unsigned long long)c->read_version);
    cl_op_kind tk = cl_txn_kind(theirs);
    cl_conflict k = cl_txn_conflict(ours, theirs);
    protobuf_c_message_free_unpacked(&theirs->base, NULL);
    if (k == CL_CONFLICT_RETRYABLE)
      return cl_err(err, CLANCE_ECONFLICT_RETRYABLE,
                    "commit conflict: this %s was prepared against version %llu, but version %llu "
                    "(%s) was committed since; redo it against the latest version",
                    ours_name, (unsigned long long)c->read_version, (unsigned long long)v,
                    cl_op_name(tk));
    if (k == CL_CONFLICT_INCOMPATIBLE)
      return cl_err(err, CLANCE_ECONFLICT_INCOMPATIBLE,
                    "commit conflict: version %llu (%s) replaced the table after read version %llu; "
                    "this %s cannot be applied to it",
                    (unsigned long long)v, cl_op_name(tk), (unsigned long long)c->read_version,
                    ours_name);
    c->checked_upto = v;
  }
  return CLANCE_OK;
}

/* Validate the operation against the state it will be committed on. */
static clance_status validate(commit_ctx *c, const cl_manifest *prev, const cl_dataset *prev_ds,
                              clance_error *err) {
  const clance_operation *op = c->op;
  if (prev) {
    uint64_t wf = prev->pb->writer_feature_flags;
    if (wf & ~(uint64_t)CL_WRITER_FLAGS_SUPPORTED)
      return cl_err(err, CLANCE_EUNSUPPORTED, "dataset %s uses writer features 0x%llx that clance "
                    "cannot maintain", c->root,
                    (unsigned long long)(wf & ~(uint64_t)CL_WRITER_FLAGS_SUPPORTED));
  }
  if (op->kind == CL_OP_APPEND) {
    CL_TRY(cl_schema_copy(&prev_ds->schema, &c->schema, err));
    c->version = prev_ds->data_version;
  } else {
    CL_TRY(cl_schema_copy(&op->schema, &c->schema, err));
    /* The storage version is that of the data files (2.1 for an empty table). */
    c->version = CL_FILE_V2_1;
    if (c->frags.n && c->frags.v[0]->n_files)
      CL_TRY(cl_data_file_version(c->frags.v[0]->files[0], &c->version, err));
  }
  return check_fragments(c->root, &c->frags, &c->schema, c->version, c->opts.verify_files, err);
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

static clance_status write_txn_file(commit_ctx *c, clance_error *err) {
  char *dir = cl_path_join(c->root, "_transactions", err);
  if (!dir)
    return err->code;
  clance_status st = cl_mkdirs(dir, err);
  char *p = st ? NULL : cl_path_join(dir, c->txn_name, err);
  if (!st && !p)
    st = err->code;
  if (!st)
    st = cl_put_new(p, c->txn.data, c->txn.len, err);
  free(p);
  free(dir);
  return st;
}

static clance_status commit_loop(commit_ctx *c, uint64_t *out_version, clance_error *err) {
  uint32_t attempts = c->opts.max_retries ? c->opts.max_retries : DEFAULT_MAX_RETRIES;
  pb_txn *ours = lance__table__transaction__unpack(NULL, c->txn.len, c->txn.data);
  if (!ours)
    return cl_err(err, CLANCE_EINTERNAL, "cannot decode our own transaction");
  clance_status st = CLANCE_OK;
  int txn_written = 0;
  double unit = 0;
  for (uint32_t attempt = 0; attempt < attempts; attempt++) {
    double t0 = now_ms();
    cl_version_list vl;
    if ((st = cl_versions_list(c->root, &vl, err)))
      break;
    uint64_t latest = vl.n ? vl.versions[vl.n - 1] : 0;
    cl_manifest prev;
    memset(&prev, 0, sizeof prev);
    cl_dataset *prev_ds = NULL;
    pb_manifest *m = NULL;
    cl_buf bytes = CL_BUF_INIT;
    char *path = NULL;
    if (c->op->kind == CL_OP_APPEND && latest == 0) {
      st = cl_err(err, CLANCE_ENOTFOUND, "cannot append: dataset %s does not exist (commit an "
                  "Overwrite first)", c->root);
      goto next;
    }
    if (c->read_version > latest) {
      st = cl_err(err, CLANCE_EINVAL, "read version %llu is newer than the latest version %llu of %s",
                  (unsigned long long)c->read_version, (unsigned long long)latest, c->root);
      goto next;
    }
    if ((st = check_conflicts(c, &vl, ours, err)))
      goto next;
    if (latest) {
      if ((st = cl_dataset_open(c->root, latest, &prev_ds, err)))
        goto next;
      prev = prev_ds->manifest;
    }
    if (!c->validated) {
      if ((st = validate(c, latest ? &prev : NULL, prev_ds, err)))
        goto next;
      c->validated = 1;
    }
    if ((st = build_manifest(c, latest ? &prev : NULL, latest + 1, &m, err)))
      goto next;
    if (!txn_written) {
      if ((st = write_txn_file(c, err)))
        goto next;
      txn_written = 1;
    }
    /* Indices survive an Append (copied as they are); an Overwrite drops them. */
    int keep_index = c->op->kind == CL_OP_APPEND && latest && prev.index_block;
    if ((st = cl_manifest_encode(m, keep_index ? prev.index_block : NULL,
                                 keep_index ? prev.index_len : 0, c->txn.data, c->txn.len, &bytes,
                                 err)))
      goto next;
    cl_naming naming = vl.naming ? vl.naming : (c->opts.v2_manifest_paths ? CL_NAMING_V2 : CL_NAMING_V1);
    char *vdir = cl_path_join(c->root, "_versions", err);
    if (!vdir || (st = cl_mkdirs(vdir, err))) {
      st = err->code;
      free(vdir);
      goto next;
    }
    free(vdir);
    if (!(path = cl_version_path(c->root, latest + 1, naming, err))) {
      st = err->code;
      goto next;
    }
    st = cl_put_if_absent(path, bytes.data, bytes.len, err);
    if (st == CLANCE_OK) {
      cl_versions_write_hint(c->root, latest + 1);
      *out_version = latest + 1;
    }
  next:
    free(path);
    cl_buf_free(&bytes);
    if (m)
      protobuf_c_message_free_unpacked(&m->base, NULL);
    cl_dataset_unref(prev_ds);
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
  protobuf_c_message_free_unpacked(&ours->base, NULL);
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
  CL_CHECK(st, clance_fragments_extend(&c.frags, &op->frags, err));
  CL_CHECK(st, cl_uuid_v4(c.uuid, err));
  CL_CHECK(st, build_txn(op, read_version, c.uuid, &c.txn, err));
  {
    pb_txn tmp = LANCE__TABLE__TRANSACTION__INIT;
    tmp.read_version = read_version;
    tmp.uuid = c.uuid;
    cl_txn_file_name(&tmp, c.txn_name, sizeof c.txn_name);
  }
  if (op->kind == CL_OP_OVERWRITE)
    CL_CHECK(st, cl_mkdirs(root, err));
  st = commit_loop(&c, out_version, err);
fail:
  cl_buf_free(&c.txn);
  cl_fragments_clear(&c.frags);
  cl_schema_free(&c.schema);
  free(root);
  return st;
}
