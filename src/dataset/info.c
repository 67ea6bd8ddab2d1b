/* Descriptions of a dataset for people and scripts: info JSON and the
 * version history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/dataset.h"
#include "io/fs.h"

static clance_status schema_json(const cl_schema *s, cl_buf *o, clance_error *err) {
  CL_TRY(cl_buf_append(o, "[", 1, err));
  for (size_t i = 0; i < s->n_fields; i++) {
    const cl_field *f = &s->fields[i];
    cl_buf t = CL_BUF_INIT;
    clance_status st = cl_field_type_spec(f, &t, err);
    /* The spec string marks NOT NULL with '!'; report it separately. */
    if (!st && t.len && t.data[t.len - 1] == '!')
      t.len--;
    if (!st)
      st = cl_buf_printf(o, err, "%s{\"name\": ", i ? ", " : "");
    if (!st)
      st = cl_json_write_string(o, f->name, strlen(f->name), err);
    if (!st)
      st = cl_buf_printf(o, err, ", \"type\": ");
    if (!st)
      st = cl_json_write_string(o, (const char *)t.data, t.len, err);
    if (!st)
      st = cl_buf_printf(o, err, ", \"nullable\": %s, \"id\": %d}", f->nullable ? "true" : "false",
                         (int)f->id);
    cl_buf_free(&t);
    CL_TRY(st);
  }
  return cl_buf_append(o, "]", 1, err);
}

clance_status clance_dataset_info_json(const clance_dataset *ds, char **out, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!ds || !out)
    return cl_err(err, CLANCE_EINVAL, "clance_dataset_info_json: NULL argument");
  const pb_manifest *m = ds->manifest.pb;
  cl_buf o = CL_BUF_INIT;
  clance_status st = cl_buf_printf(&o, err,
                                   "{\"version\": %llu, \"num_rows\": %llu, \"num_fragments\": %zu, "
                                   "\"data_storage_version\": \"%s\", \"schema\": ",
                                   (unsigned long long)m->version, (unsigned long long)ds->num_rows,
                                   m->n_fragments, ds->data_format);
  if (!st)
    st = schema_json(&ds->schema, &o, err);
  if (!st)
    st = cl_buf_printf(&o, err, ", \"fragments\": [");
  for (size_t i = 0; !st && i < m->n_fragments; i++) {
    if (i)
      st = cl_buf_append(&o, ", ", 2, err);
    if (!st)
      st = cl_fragment_to_json(m->fragments[i], &o, err);
  }
  if (!st)
    st = cl_buf_printf(&o, err, "]}");
  if (!st)
    st = cl_buf_cstr(&o, err);
  if (st) {
    cl_buf_free(&o);
    return st;
  }
  *out = (char *)cl_buf_take(&o);
  return CLANCE_OK;
}

clance_status clance_list_versions(const char *uri, clance_version_info **out, size_t *count,
                                   clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!uri || !out || !count)
    return cl_err(err, CLANCE_EINVAL, "clance_list_versions: NULL argument");
  *out = NULL;
  *count = 0;
  char *root;
  CL_TRY(cl_uri_to_path(uri, &root, err));
  cl_version_list vl;
  clance_status st = cl_versions_list(root, &vl, err);
  if (st) {
    free(root);
    return st;
  }
  if (vl.n == 0) {
    st = cl_err(err, CLANCE_ENOTFOUND, "%s is not a Lance dataset (no manifests in _versions/)", root);
    goto done;
  }
  clance_version_info *v = cl_calloc(vl.n, sizeof *v, err);
  if (!v) {
    st = err->code;
    goto done;
  }
  for (size_t i = 0; i < vl.n; i++) {
    char *p = cl_version_path(root, vl.versions[i], vl.naming, err);
    cl_manifest m;
    if (!p || (st = cl_manifest_read(p, vl.versions[i], &m, err))) {
      st = err->code;
      free(p);
      free(v);
      goto done;
    }
    free(p);
    v[i].version = m.pb->version;
    if (m.pb->timestamp)
      v[i].timestamp_ns = m.pb->timestamp->seconds * 1000000000 + m.pb->timestamp->nanos;
    v[i].num_fragments = m.pb->n_fragments;
    for (size_t k = 0; k < m.pb->n_fragments; k++)
      v[i].num_rows += cl_fragment_live_rows(m.pb->fragments[k]);
    pb_txn *t = NULL;
    clance_error ignore;
    if (cl_txn_of_manifest(&m, root, &t, &ignore) == CLANCE_OK && t) {
      snprintf(v[i].operation, sizeof v[i].operation, "%s", cl_op_name(cl_txn_kind(t)));
      protobuf_c_message_free_unpacked(&t->base, NULL);
    } else {
      snprintf(v[i].operation, sizeof v[i].operation, "unknown");
    }
    cl_manifest_free(&m);
  }
  *out = v;
  *count = vl.n;
done:
  cl_version_list_free(&vl);
  free(root);
  return st;
}
