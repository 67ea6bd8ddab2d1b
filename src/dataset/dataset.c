#include "dataset/dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/fs.h"

void cl_dataset_ref(cl_dataset *ds) { __atomic_add_fetch(&ds->refs, 1, __ATOMIC_RELAXED); }

void cl_dataset_unref(cl_dataset *ds) {
  if (!ds || __atomic_sub_fetch(&ds->refs, 1, __ATOMIC_ACQ_REL) != 0)
    return;
  cl_manifest_free(&ds->manifest);
  cl_schema_free(&ds->schema);
  free(ds->root);
  free(ds);
}

char *cl_dataset_data_path(const char *root, const pb_data_file *df, clance_error *err) {
  if (df->has_base_id) {
    cl_err(err, CLANCE_EUNSUPPORTED, "data file %s lives in base path %u; base paths are not "
           "supported", cl_pb_str(df->path), df->base_id);
    return NULL;
  }
  const char *p = cl_pb_str(df->path);
  if (!*p || strchr(p, '/') || !strcmp(p, "..")) {
    cl_err(err, CLANCE_ECORRUPT, "data file name \"%s\" is not a bare file name", p);
    return NULL;
  }
  char *data = cl_path_join(root, "data", err);
  if (!data)
    return NULL;
  char *r = cl_path_join(data, p, err);
  free(data);
  return r;
}

clance_status cl_data_file_version(const pb_data_file *df, cl_file_version *out, clance_error *err) {
  if (cl_file_version_from_manifest(df->file_major_version, df->file_minor_version, out) != 0)
    return cl_err(err, df->file_major_version == 0 ? CLANCE_EUNSUPPORTED : CLANCE_ECORRUPT,
                  "data file %s has format version %u.%u, which clance does not read",
                  cl_pb_str(df->path), df->file_major_version, df->file_minor_version);
  return CLANCE_OK;
}

static clance_status push_id(int32_t **ids, size_t *n, size_t *cap, int32_t id, clance_error *err) {
  if (*n == *cap) {
    *cap = *cap ? *cap * 2 : 16;
    int32_t *p = realloc(*ids, *cap * sizeof *p);
    if (!p)
      return cl_err_nomem(err, "field ids");
    *ids = p;
  }
  (*ids)[(*n)++] = id;
  return CLANCE_OK;
}

static clance_status collect(const cl_field *f, cl_file_version v, int32_t **ids, size_t *n,
                             size_t *cap, clance_error *err) {
  /* A packed struct is one column in every version, listed under its own id. */
  int nested = (f->type == CL_TYPE_STRUCT && !cl_field_is_packed(f)) || f->type == CL_TYPE_LIST ||
               f->type == CL_TYPE_LARGE_LIST;
  if (!nested || v == CL_FILE_V2_0)
    CL_TRY(push_id(ids, n, cap, f->id, err));
  if (nested)
    for (size_t i = 0; i < f->n_children; i++)
      CL_TRY(collect(&f->children[i], v, ids, n, cap, err));
  return CLANCE_OK;
}

clance_status cl_expected_file_fields(const cl_schema *s, cl_file_version v, int32_t **ids,
                                      size_t *n, clance_error *err) {
  *ids = NULL;
  *n = 0;
  size_t cap = 0;
  for (size_t i = 0; i < s->n_fields; i++)
    if (collect(&s->fields[i], v, ids, n, &cap, err)) {
      free(*ids);
      *ids = NULL;
      return err->code;
    }
  return CLANCE_OK;
}

clance_status cl_fragment_rows(const char *root, const pb_fragment *f, uint64_t *rows,
                               clance_error *err) {
  if (f->physical_rows || f->n_files == 0) {
    *rows = f->physical_rows;
    return CLANCE_OK;
  }
  char *p = cl_dataset_data_path(root, f->files[0], err);
  if (!p)
    return err->code;
  cl_file_reader *r;
  clance_status st = cl_file_reader_open(p, f->files[0]->file_size_bytes, &r, err);
  free(p);
  if (st)
    return st;
  *rows = r->num_rows;
  cl_file_reader_close(r);
  return CLANCE_OK;
}

static clance_status not_found(const char *root, uint64_t version, clance_error *err);
static clance_status open_version(const char *root, uint64_t v, cl_naming naming, cl_dataset **out,
                                  clance_error *err);

clance_status cl_dataset_open(const char *root, uint64_t version, cl_dataset **out,
                              clance_error *err) {
  *out = NULL;
  cl_naming naming = 0;
  uint64_t v = 0;
  if (version) {
    /* A given version: look its manifest up directly (either scheme). */
    for (cl_naming n = CL_NAMING_V2; !naming && n >= CL_NAMING_V1; n--) {
      char *p = cl_version_path(root, version, n, err);
      if (!p)
        return err->code;
      if (cl_path_exists(p))
        naming = n;
      free(p);
    }
    v = version;
  } else {
    /* The latest: listed (which also catches mixed naming schemes). */
    cl_version_list vl;
    CL_TRY(cl_versions_list(root, &vl, err));
    v = vl.n ? vl.versions[vl.n - 1] : 0;
    naming = vl.naming;
    cl_version_list_free(&vl);
  }
  if (!naming || !v)
    return not_found(root, version, err);
  return open_version(root, v, naming, out, err);
}

/* The error for a missing dataset or version (lists _versions/ to say why). */
static clance_status not_found(const char *root, uint64_t version, clance_error *err) {
  cl_version_list vl;
  CL_TRY(cl_versions_list(root, &vl, err));
  if (vl.n == 0) {
    cl_version_list_free(&vl);
    if (!cl_is_dir(root))
      return cl_err(err, CLANCE_ENOTFOUND, "dataset %s does not exist", root);
    return cl_err(err, CLANCE_ENOTFOUND, "%s is not a Lance dataset (no manifests in _versions/)",
                  root);
  }
  uint64_t latest = vl.versions[vl.n - 1];
  uint64_t v = version ? version : latest;
  int found = 0;
  for (size_t i = 0; i < vl.n; i++)
    found |= vl.versions[i] == v;
  cl_version_list_free(&vl);
  if (!found)
    return cl_err(err, CLANCE_ENOTFOUND, "dataset %s has no version %llu (latest is %llu)", root,
                  (unsigned long long)v, (unsigned long long)latest);
  return cl_err(err, CLANCE_ENOTFOUND, "dataset %s: version %llu vanished while opening it", root,
                (unsigned long long)v);
}

static clance_status open_version(const char *root, uint64_t v, cl_naming naming, cl_dataset **out,
                                  clance_error *err) {
  cl_dataset *ds = cl_calloc(1, sizeof *ds, err);
  if (!ds)
    return err->code;
  ds->refs = 1;
  ds->naming = naming;
  clance_status st;
  char *mpath = NULL;
  if (!(ds->root = cl_strdup(root, err)) || !(mpath = cl_version_path(root, v, naming, err))) {
    st = err->code;
    goto fail;
  }
  CL_CHECK(st, cl_manifest_read(mpath, v, &ds->manifest, err));
  const pb_manifest *m = ds->manifest.pb;
  if (m->reader_feature_flags & ~(uint64_t)CL_READER_FLAGS_SUPPORTED) {
    st = cl_err(err, CLANCE_EUNSUPPORTED,
                "manifest %s needs reader features 0x%llx that clance does not support", mpath,
                (unsigned long long)(m->reader_feature_flags & ~(uint64_t)CL_READER_FLAGS_SUPPORTED));
    goto fail;
  }
  CL_CHECK(st, cl_manifest_schema(&ds->manifest, &ds->schema, err));
  const char *fmt = m->data_format ? cl_pb_str(m->data_format->version) : "";
  if (!*fmt && m->n_fragments) {
    /* Old manifests have no data_format: infer it from the first data file. */
    const pb_data_file *df = m->fragments[0]->files[0];
    CL_CHECK(st, cl_data_file_version(df, &ds->data_version, err));
    snprintf(ds->data_format, sizeof ds->data_format, "%s", cl_file_version_name(ds->data_version));
  } else {
    if (!*fmt)
      fmt = "2.0";
    snprintf(ds->data_format, sizeof ds->data_format, "%s", fmt);
    if ((st = cl_file_version_parse(fmt, &ds->data_version, err))) {
      cl_err_ctx(err, "manifest %s: ", mpath);
      goto fail;
    }
  }
  for (size_t i = 0; i < m->n_fragments; i++) {
    uint64_t rows = 0;
    CL_CHECK(st, cl_fragment_rows(root, m->fragments[i], &rows, err));
    uint64_t del = m->fragments[i]->deletion_file ? m->fragments[i]->deletion_file->num_deleted_rows : 0;
    ds->num_rows += rows >= del ? rows - del : 0;
  }
  free(mpath);
  *out = ds;
  return CLANCE_OK;
fail:
  free(mpath);
  cl_dataset_unref(ds);
  return st;
}

/* ---- public API ---- */

clance_status clance_dataset_open(const char *uri, uint64_t version, clance_dataset **out,
                                  clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!uri || !out)
    return cl_err(err, CLANCE_EINVAL, "clance_dataset_open: NULL argument");
  char *root;
  CL_TRY(cl_uri_to_path(uri, &root, err));
  clance_status st = cl_dataset_open(root, version, out, err);
  free(root);
  return st;
}

void clance_dataset_close(clance_dataset *ds) { cl_dataset_unref(ds); }

uint64_t clance_dataset_version(const clance_dataset *ds) { return ds ? ds->manifest.pb->version : 0; }

uint64_t clance_dataset_count_rows(const clance_dataset *ds) { return ds ? ds->num_rows : 0; }

size_t clance_dataset_num_fragments(const clance_dataset *ds) {
  return ds ? ds->manifest.pb->n_fragments : 0;
}

const char *clance_dataset_data_storage_version(const clance_dataset *ds) {
  return ds ? ds->data_format : "";
}

clance_status clance_dataset_schema(const clance_dataset *ds, struct ArrowSchema *out,
                                    clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!ds || !out)
    return cl_err(err, CLANCE_EINVAL, "clance_dataset_schema: NULL argument");
  return cl_schema_to_arrow(&ds->schema, out, err);
}

clance_status clance_dataset_fragments(const clance_dataset *ds, clance_fragments **out,
                                       clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!ds || !out)
    return cl_err(err, CLANCE_EINVAL, "clance_dataset_fragments: NULL argument");
  CL_TRY(clance_fragments_new(out, err));
  const pb_manifest *m = ds->manifest.pb;
  for (size_t i = 0; i < m->n_fragments; i++) {
    pb_fragment *c;
    clance_status st = cl_fragment_copy(m->fragments[i], &c, err);
    if (!st)
      st = cl_fragments_push(*out, c, err);
    if (st) {
      clance_fragments_free(*out);
      *out = NULL;
      return st;
    }
  }
  return CLANCE_OK;
}
