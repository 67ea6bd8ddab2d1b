/* clance_fsck: check that every version can be read in full (its manifest,
 * data files, deletion files, transaction) and every tag points at a
 * version that exists; list the files no version references. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset/dataset.h"
#include "dataset/inventory.h"
#include "dataset/refs.h"
#include "io/fs.h"
#include "table/deletion.h"

typedef struct fsck_state {
  const char *root;
  clance_fsck_result *r;
  size_t cap_problems;
  cl_file_refs refs;    /* every file some version references */
  cl_file_refs checked; /* sealed after each version: files already checked */
} fsck_state;

static clance_status add_problem(fsck_state *s, uint64_t version, const char *rel,
                                 const char *message, clance_error *err) {
  clance_fsck_result *r = s->r;
  if (r->num_problems == s->cap_problems) {
    size_t cap = s->cap_problems ? s->cap_problems * 2 : 16;
    clance_fsck_problem *p = realloc(r->problems, cap * sizeof *p);
    if (!p)
      return cl_err_nomem(err, "fsck problems");
    r->problems = p;
    s->cap_problems = cap;
  }
  clance_fsck_problem *p = &r->problems[r->num_problems];
  p->version = version;
  if (!(p->path = cl_strdup(rel, err)))
    return err->code;
  if (!(p->message = cl_strdup(message, err))) {
    free(p->path);
    return err->code;
  }
  r->num_problems++;
  return CLANCE_OK;
}

/* Record the error `e` of checking `rel` as a problem; out of memory
 * stops the check. */
static clance_status problem_from(fsck_state *s, uint64_t version, const char *rel,
                                  const clance_error *e, clance_error *err) {
  if (e->code == CLANCE_ENOMEM)
    return cl_err(err, CLANCE_ENOMEM, "%s", e->message);
  return add_problem(s, version, rel, e->message, err);
}

static clance_status check_data_file(fsck_state *s, uint64_t version, const pb_fragment *f,
                                     const pb_data_file *df, const char *rel, clance_error *err) {
  char msg[CLANCE_ERROR_MESSAGE_SIZE + 200];
  char *abs = cl_path_join(s->root, rel, err);
  if (!abs)
    return err->code;
  struct stat sb;
  clance_error e;
  cl_err_clear(&e);
  msg[0] = '\0';
  if (stat(abs, &sb) != 0) {
    snprintf(msg, sizeof msg, "data file %.400s of fragment %llu is missing", rel,
             (unsigned long long)f->id);
  } else if (df->file_size_bytes && (uint64_t)sb.st_size != df->file_size_bytes) {
    snprintf(msg, sizeof msg, "data file %.400s is %llu bytes; the manifest says %llu", rel,
             (unsigned long long)sb.st_size, (unsigned long long)df->file_size_bytes);
  } else {
    cl_file_reader *fr;
    if (cl_file_reader_open(abs, df->file_size_bytes, &fr, &e) == CLANCE_OK) {
      if (f->physical_rows && fr->num_rows != f->physical_rows)
        snprintf(msg, sizeof msg, "data file %.400s holds %llu rows; fragment %llu has %llu", rel,
                 (unsigned long long)fr->num_rows, (unsigned long long)f->id,
                 (unsigned long long)f->physical_rows);
      cl_file_reader_close(fr);
    } else if (e.code == CLANCE_ENOMEM) {
      free(abs);
      return cl_err(err, CLANCE_ENOMEM, "%s", e.message);
    } else {
      snprintf(msg, sizeof msg, "%s", e.message);
    }
  }
  free(abs);
  return msg[0] ? add_problem(s, version, rel, msg, err) : CLANCE_OK;
}

static clance_status check_txn(fsck_state *s, uint64_t version, const char *rel,
                               clance_error *err) {
  char *abs = cl_path_join(s->root, rel, err);
  if (!abs)
    return err->code;
  cl_buf b = CL_BUF_INIT;
  clance_error e;
  pb_txn *t = NULL;
  clance_status st = cl_file_read_all(abs, (size_t)1 << 31, &b, &e);
  if (!st)
    st = cl_pb_unpack(&lance__table__transaction__descriptor, b.data ? b.data : (const uint8_t *)"",
                      b.len, abs, (ProtobufCMessage **)&t, &e);
  if (t)
    protobuf_c_message_free_unpacked(&t->base, NULL);
  cl_buf_free(&b);
  free(abs);
  if (st == CLANCE_ENOTFOUND)
    snprintf(e.message, sizeof e.message, "transaction file %.400s of version %llu is missing", rel,
             (unsigned long long)version);
  return st ? problem_from(s, version, rel, &e, err) : CLANCE_OK;
}

/* Check the files of one version that no older version had (a file listed
 * twice within one version is checked twice: lookups see older versions). */
static clance_status check_version(fsck_state *s, uint64_t version, const pb_manifest *m,
                                   clance_error *err) {
  char rel[4200];
  for (size_t i = 0; i < m->n_fragments; i++) {
    const pb_fragment *f = m->fragments[i];
    for (size_t k = 0; k < f->n_files; k++) {
      snprintf(rel, sizeof rel, "data/%s", cl_pb_str(f->files[k]->path));
      if (cl_strset_has(&s->checked.data, rel))
        continue;
      CL_TRY(cl_strset_add(&s->checked.data, rel, err));
      CL_TRY(check_data_file(s, version, f, f->files[k], rel, err));
    }
    if (!f->deletion_file)
      continue;
    char *d = cl_deletion_path("", f, err);
    if (!d)
      return err->code;
    clance_status st = CLANCE_OK;
    if (!cl_strset_has(&s->checked.deletions, d)) {
      st = cl_strset_add(&s->checked.deletions, d, err);
      cl_deletions *dv = NULL;
      clance_error e;
      if (!st && cl_deletions_load(s->root, f, &dv, &e) != CLANCE_OK)
        st = problem_from(s, version, d, &e, err);
      cl_deletions_free(dv);
    }
    free(d);
    CL_TRY(st);
  }
  const char *t = cl_pb_str(m->transaction_file);
  if (*t) {
    snprintf(rel, sizeof rel, "_transactions/%s", t);
    if (!cl_strset_has(&s->checked.txns, rel)) {
      CL_TRY(cl_strset_add(&s->checked.txns, rel, err));
      CL_TRY(check_txn(s, version, rel, err));
    }
  }
  cl_file_refs_seal(&s->checked);
  return CLANCE_OK;
}

static clance_status check_manifests(fsck_state *s, const cl_manifest_files *mf,
                                     clance_error *err) {
  for (size_t i = 0; i < mf->n; i++) {
    const cl_manifest_file *f = &mf->v[i];
    char *abs = cl_path_join(s->root, f->rel, err);
    if (!abs)
      return err->code;
    cl_manifest m;
    clance_error e;
    clance_status st = cl_manifest_read(abs, f->detached ? 0 : f->version, &m, &e);
    free(abs);
    if (st) {
      CL_TRY(problem_from(s, f->version, f->rel, &e, err));
      continue;
    }
    st = cl_file_refs_add(&s->refs, m.pb, f->rel, &e);
    if (st == CLANCE_EUNSUPPORTED || st == CLANCE_ENOMEM)
      st = cl_err(err, st, "%s", e.message); /* the check itself cannot go on */
    else if (st)
      st = problem_from(s, f->version, f->rel, &e, err);
    else
      st = check_version(s, f->version, m.pb, err);
    cl_manifest_free(&m);
    CL_TRY(st);
  }
  cl_file_refs_seal(&s->refs);
  return CLANCE_OK;
}

static int has_version(const cl_manifest_files *mf, uint64_t v, const char **rel) {
  for (size_t i = 0; i < mf->n_versions; i++)
    if (mf->v[i].version == v) {
      *rel = mf->v[i].rel;
      return 1;
    }
  return 0;
}

static clance_status check_tags(fsck_state *s, const cl_manifest_files *mf, clance_error *err) {
  cl_dirlist names;
  CL_TRY(cl_tag_names(s->root, &names, err));
  clance_status st = CLANCE_OK;
  for (size_t i = 0; !st && i < names.n; i++) {
    char rel[CLANCE_TAG_NAME_MAX + 64], msg[CLANCE_ERROR_MESSAGE_SIZE + 200];
    snprintf(rel, sizeof rel, "_refs/tags/%s.json", names.names[i]);
    clance_tag t;
    clance_error e;
    s->r->tags++;
    if (cl_tag_read(s->root, names.names[i], &t, &e)) {
      st = problem_from(s, 0, rel, &e, err);
      continue;
    }
    if (t.on_branch)
      continue; /* branch versions live under tree/, which fsck does not check */
    const char *mrel;
    struct stat sb;
    msg[0] = '\0';
    if (!has_version(mf, t.version, &mrel)) {
      snprintf(msg, sizeof msg, "tag \"%s\" names version %llu, which does not exist",
               names.names[i], (unsigned long long)t.version);
    } else {
      char *abs = cl_path_join(s->root, mrel, err);
      if (!abs) {
        st = err->code;
        break;
      }
      if (stat(abs, &sb) == 0 && (uint64_t)sb.st_size != t.manifest_size)
        snprintf(msg, sizeof msg, "tag \"%s\" records a manifest of %llu bytes for version %llu; "
                 "%s is %llu bytes", names.names[i], (unsigned long long)t.manifest_size,
                 (unsigned long long)t.version, mrel, (unsigned long long)sb.st_size);
      free(abs);
    }
    if (msg[0])
      st = add_problem(s, 0, rel, msg, err);
  }
  cl_dirlist_free(&names);
  return st;
}

static clance_status list_orphans(fsck_state *s, clance_error *err) {
  cl_managed_files files;
  CL_TRY(cl_managed_files_list(s->root, &files, err));
  clance_fsck_result *r = s->r;
  clance_status st = CLANCE_OK;
  if (files.n && !(r->orphans = cl_calloc(files.n, sizeof *r->orphans, err)))
    st = err->code;
  for (size_t i = 0; !st && i < files.n; i++) {
    const cl_managed_file *f = &files.v[i];
    if (f->kind != CL_FILE_TEMPORARY && cl_file_refs_has(&s->refs, f->rel))
      continue;
    clance_fsck_orphan *o = &r->orphans[r->num_orphans];
    if (!(o->path = cl_strdup(f->rel, err))) {
      st = err->code;
      break;
    }
    snprintf(o->kind, sizeof o->kind, "%s", cl_file_kind_name(f->kind));
    o->bytes = f->bytes;
    o->mtime_ns = f->mtime_ns;
    r->orphan_bytes += f->bytes;
    r->num_orphans++;
  }
  cl_managed_files_free(&files);
  return st;
}

static clance_status fsck(const char *root, clance_fsck_result *r, clance_error *err) {
  CL_TRY(cl_refuse_branches(root, "fsck", err));
  cl_manifest_files mf;
  CL_TRY(cl_manifest_files_list(root, &mf, err));
  fsck_state s;
  memset(&s, 0, sizeof s);
  s.root = root;
  s.r = r;
  clance_status st = CLANCE_OK;
  if (mf.n_versions == 0)
    st = cl_err(err, CLANCE_ENOTFOUND, "%s is not a Lance dataset (no manifests in _versions/)",
                root);
  else if (mf.mixed)
    st = add_problem(&s, 0, "_versions", "V1 and V2 manifest names side by side; Lance refuses "
                     "to open such a dataset", err);
  if (!st) {
    r->num_versions = mf.n_versions;
    r->oldest_version = mf.v[0].version;
    r->latest_version = mf.latest;
    st = check_manifests(&s, &mf, err);
  }
  if (!st)
    st = check_tags(&s, &mf, err);
  if (!st)
    st = list_orphans(&s, err);
  r->data_files = s.checked.data.n;
  r->deletion_files = s.checked.deletions.n;
  r->transaction_files = s.checked.txns.n;
  cl_file_refs_free(&s.refs);
  cl_file_refs_free(&s.checked);
  cl_manifest_files_free(&mf);
  return st;
}

clance_status clance_fsck(const char *uri, clance_fsck_result **out, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!uri || !out)
    return cl_err(err, CLANCE_EINVAL, "clance_fsck: NULL argument");
  *out = NULL;
  char *root;
  CL_TRY(cl_uri_to_path(uri, &root, err));
  clance_fsck_result *r = cl_calloc(1, sizeof *r, err);
  clance_status st = r ? fsck(root, r, err) : err->code;
  free(root);
  if (st) {
    clance_fsck_result_free(r);
    return st;
  }
  *out = r;
  return CLANCE_OK;
}

void clance_fsck_result_free(clance_fsck_result *r) {
  if (!r)
    return;
  for (size_t i = 0; i < r->num_problems; i++) {
    free(r->problems[i].path);
    free(r->problems[i].message);
  }
  for (size_t i = 0; i < r->num_orphans; i++)
    free(r->orphans[i].path);
  free(r->problems);
  free(r->orphans);
  free(r);
}
