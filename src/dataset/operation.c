#include "dataset/operation.h"

#include <stdlib.h>
#include <string.h>

#include "proto/fields.h"

void clance_operation_free(clance_operation *op) {
  if (!op)
    return;
  cl_schema_free(&op->schema);
  cl_fragments_clear(&op->frags);
  cl_fragments_clear(&op->frags2);
  free(op->ids);
  free(op->fields);
  free(op->predicate);
  for (size_t i = 0; i < op->n_groups; i++) {
    free(op->groups[i].old_ids);
    cl_fragments_clear(&op->groups[i].new_frags);
  }
  free(op->groups);
  for (size_t i = 0; i < op->n_alters; i++) {
    free(op->alters[i].name);
    free(op->alters[i].new_name);
  }
  free(op->alters);
  for (size_t i = 0; i < op->n_updates; i++) {
    free(op->updates[i].key);
    free(op->updates[i].value);
  }
  free(op->updates);
  free(op);
}

static clance_status op_new(cl_op_kind kind, const clance_fragments *f, clance_operation **out,
                            clance_error *err) {
  *out = NULL;
  clance_operation *op = cl_calloc(1, sizeof *op, err);
  if (!op)
    return err->code;
  op->kind = kind;
  if (f && clance_fragments_extend(&op->frags, f, err)) {
    clance_operation_free(op);
    return err->code;
  }
  *out = op;
  return CLANCE_OK;
}

static clance_status fail_free(clance_operation **out, clance_status st) {
  clance_operation_free(*out);
  *out = NULL;
  return st;
}

static clance_status copy_ids(const uint64_t *ids, size_t n, uint64_t **out, clance_error *err) {
  *out = NULL;
  if (!n)
    return CLANCE_OK;
  if (!ids)
    return cl_err(err, CLANCE_EINVAL, "a list of %zu fragment ids is NULL", n);
  if (!(*out = cl_malloc(n * sizeof **out, err)))
    return err->code;
  memcpy(*out, ids, n * sizeof **out);
  return CLANCE_OK;
}

clance_status clance_operation_overwrite(const struct ArrowSchema *schema,
                                         const clance_fragments *fragments, clance_operation **out,
                                         clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!schema || !out || !fragments)
    return cl_err(err, CLANCE_EINVAL, "clance_operation_overwrite: NULL argument");
  CL_TRY(op_new(CL_OP_OVERWRITE, fragments, out, err));
  clance_status st = cl_schema_from_arrow(schema, &(*out)->schema, err);
  if (!st && (*out)->schema.n_fields == 0)
    st = cl_err(err, CLANCE_EINVAL, "an Overwrite needs a schema with at least one column");
  if (st)
    return fail_free(out, st);
  int32_t next = 0;
  cl_schema_assign_ids(&(*out)->schema, &next);
  return CLANCE_OK;
}

clance_status clance_operation_append(const clance_fragments *fragments, clance_operation **out,
                                      clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!out || !fragments)
    return cl_err(err, CLANCE_EINVAL, "clance_operation_append: NULL argument");
  CL_TRY(op_new(CL_OP_APPEND, fragments, out, err));
  if ((*out)->frags.n == 0)
    return fail_free(out, cl_err(err, CLANCE_EINVAL, "an Append needs at least one fragment"));
  return CLANCE_OK;
}

clance_status clance_operation_delete(const clance_fragments *updated, const uint64_t *deleted_ids,
                                      size_t num_deleted, const char *predicate,
                                      clance_operation **out, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!out)
    return cl_err(err, CLANCE_EINVAL, "clance_operation_delete: NULL argument");
  CL_TRY(op_new(CL_OP_DELETE, updated, out, err));
  clance_operation *op = *out;
  clance_status st = copy_ids(deleted_ids, num_deleted, &op->ids, err);
  op->n_ids = num_deleted;
  if (!st && predicate && !(op->predicate = cl_strdup(predicate, err)))
    st = err->code;
  /* Fragments whose every row is deleted are removed instead. */
  size_t w = 0;
  for (size_t i = 0; !st && i < op->frags.n; i++) {
    pb_fragment *f = op->frags.v[i];
    if (!f->deletion_file) {
      st = cl_err(err, CLANCE_EINVAL, "Delete: updated fragment %llu has no deletion file",
                  (unsigned long long)f->id);
      break;
    }
    if (f->physical_rows && f->deletion_file->num_deleted_rows >= f->physical_rows) {
      uint64_t *ids = realloc(op->ids, (op->n_ids + 1) * sizeof *ids);
      if (!ids) {
        st = cl_err_nomem(err, "fragment ids");
        break;
      }
      op->ids = ids;
      op->ids[op->n_ids++] = f->id;
      cl_fragment_free(f);
      continue;
    }
    op->frags.v[w++] = f;
  }
  if (!st)
    op->frags.n = w;
  return st ? fail_free(out, st) : CLANCE_OK;
}

clance_status clance_operation_merge(const struct ArrowSchema *new_columns,
                                     const clance_fragments *updated, clance_operation **out,
                                     clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!new_columns || !updated || !out)
    return cl_err(err, CLANCE_EINVAL, "clance_operation_merge: NULL argument");
  CL_TRY(op_new(CL_OP_MERGE, updated, out, err));
  clance_status st = cl_schema_from_arrow(new_columns, &(*out)->schema, err);
  if (!st && (*out)->schema.n_fields == 0)
    st = cl_err(err, CLANCE_EINVAL, "a Merge needs at least one new column");
  return st ? fail_free(out, st) : CLANCE_OK;
}

clance_status clance_operation_update(const clance_fragments *updated, const uint64_t *removed_ids,
                                      size_t num_removed, const clance_fragments *new_fragments,
                                      const uint32_t *fields_modified, size_t num_fields,
                                      int rewrite_columns, clance_operation **out,
                                      clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!out)
    return cl_err(err, CLANCE_EINVAL, "clance_operation_update: NULL argument");
  CL_TRY(op_new(CL_OP_UPDATE, updated, out, err));
  clance_operation *op = *out;
  clance_status st = copy_ids(removed_ids, num_removed, &op->ids, err);
  op->n_ids = num_removed;
  if (!st && new_fragments)
    st = clance_fragments_extend(&op->frags2, new_fragments, err);
  if (!st && num_fields) {
    if (!fields_modified)
      st = cl_err(err, CLANCE_EINVAL, "Update: fields_modified is NULL");
    else if (!(op->fields = cl_malloc(num_fields * sizeof *op->fields, err)))
      st = err->code;
    else
      memcpy(op->fields, fields_modified, num_fields * sizeof *op->fields);
  }
  op->n_fields = num_fields;
  op->update_mode = rewrite_columns ? 1 : 0;
  return st ? fail_free(out, st) : CLANCE_OK;
}

clance_status clance_operation_alter_columns(const clance_column_alteration *changes,
                                             size_t num_changes, clance_operation **out,
                                             clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!out || (!changes && num_changes))
    return cl_err(err, CLANCE_EINVAL, "clance_operation_alter_columns: NULL argument");
  if (!num_changes)
    return cl_err(err, CLANCE_EINVAL, "no column changes given");
  CL_TRY(op_new(CL_OP_PROJECT, NULL, out, err));
  clance_operation *op = *out;
  if (!(op->alters = cl_calloc(num_changes, sizeof *op->alters, err)))
    return fail_free(out, err->code);
  for (size_t i = 0; i < num_changes; i++) {
    const clance_column_alteration *c = &changes[i];
    cl_alter *a = &op->alters[op->n_alters++];
    if (!c->column || !*c->column)
      return fail_free(out, cl_err(err, CLANCE_EINVAL, "column change %zu names no column", i));
    if (c->drop) {
      a->new_name = cl_strdup("", err);
      a->nullable = -1;
    } else {
      if (c->rename && !*c->rename)
        return fail_free(out, cl_err(err, CLANCE_EINVAL, "cannot rename \"%s\" to an empty name",
                                     c->column));
      a->new_name = c->rename ? cl_strdup(c->rename, err) : NULL;
      a->nullable = c->nullable < 0 ? -1 : !!c->nullable;
    }
    if (!(a->name = cl_strdup(c->column, err)) || ((c->drop || c->rename) && !a->new_name))
      return fail_free(out, err->code);
  }
  return CLANCE_OK;
}

clance_status clance_operation_restore(uint64_t version, clance_operation **out, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!out)
    return cl_err(err, CLANCE_EINVAL, "clance_operation_restore: NULL argument");
  if (version == 0)
    return cl_err(err, CLANCE_EINVAL, "cannot restore version 0 (versions start at 1)");
  CL_TRY(op_new(CL_OP_RESTORE, NULL, out, err));
  (*out)->version = version;
  return CLANCE_OK;
}

clance_status clance_operation_rewrite(const clance_rewrite_group *groups, size_t num_groups,
                                       clance_operation **out, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!out || (!groups && num_groups))
    return cl_err(err, CLANCE_EINVAL, "clance_operation_rewrite: NULL argument");
  if (!num_groups)
    return cl_err(err, CLANCE_EINVAL, "a Rewrite needs at least one group");
  CL_TRY(op_new(CL_OP_REWRITE, NULL, out, err));
  clance_operation *op = *out;
  if (!(op->groups = cl_calloc(num_groups, sizeof *op->groups, err)))
    return fail_free(out, err->code);
  for (size_t g = 0; g < num_groups; g++) {
    cl_rewrite_group *d = &op->groups[op->n_groups++];
    if (!groups[g].num_old || !groups[g].new_fragments)
      return fail_free(out, cl_err(err, CLANCE_EINVAL, "rewrite group %zu replaces no fragment", g));
    clance_status st = copy_ids(groups[g].old_fragment_ids, groups[g].num_old, &d->old_ids, err);
    d->n_old = groups[g].num_old;
    if (!st)
      st = clance_fragments_extend(&d->new_frags, groups[g].new_fragments, err);
    if (st)
      return fail_free(out, st);
  }
  return CLANCE_OK;
}

clance_status clance_operation_data_replacement(const clance_fragments *replacements,
                                                clance_operation **out, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!out || !replacements)
    return cl_err(err, CLANCE_EINVAL, "clance_operation_data_replacement: NULL argument");
  CL_TRY(op_new(CL_OP_DATA_REPLACEMENT, replacements, out, err));
  clance_operation *op = *out;
  if (!op->frags.n)
    return fail_free(out, cl_err(err, CLANCE_EINVAL, "a DataReplacement needs at least one file"));
  for (size_t i = 0; i < op->frags.n; i++)
    if (op->frags.v[i]->n_files != 1)
      return fail_free(out, cl_err(err, CLANCE_EINVAL, "replacement %zu (fragment %llu) must carry "
                                   "exactly one data file", i,
                                   (unsigned long long)op->frags.v[i]->id));
  return CLANCE_OK;
}

clance_status clance_operation_update_config(clance_config_target target, const char *const *keys,
                                             const char *const *values, size_t num,
                                             clance_operation **out, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!out || !keys || !values)
    return cl_err(err, CLANCE_EINVAL, "clance_operation_update_config: NULL argument");
  if (!num)
    return cl_err(err, CLANCE_EINVAL, "no keys to update");
  if (target < CLANCE_CONFIG_TABLE || target > CLANCE_CONFIG_SCHEMA)
    return cl_err(err, CLANCE_EINVAL, "unknown config target %d", (int)target);
  CL_TRY(op_new(CL_OP_UPDATE_CONFIG, NULL, out, err));
  clance_operation *op = *out;
  op->update_target = (int)target;
  if (!(op->updates = cl_calloc(num, sizeof *op->updates, err)))
    return fail_free(out, err->code);
  for (size_t i = 0; i < num; i++) {
    if (!keys[i] || !*keys[i])
      return fail_free(out, cl_err(err, CLANCE_EINVAL, "config key %zu is empty", i));
    cl_key_update *u = &op->updates[op->n_updates++];
    if (!(u->key = cl_strdup(keys[i], err)) || (values[i] && !(u->value = cl_strdup(values[i], err))))
      return fail_free(out, err->code);
  }
  return CLANCE_OK;
}

/* ------------------------------------------------------------------------ */
/* Resolution against the read version                                        */
/* ------------------------------------------------------------------------ */

static int32_t max_id(const cl_field *f, int32_t m) {
  if (f->id > m)
    m = f->id;
  for (size_t i = 0; i < f->n_children; i++)
    m = max_id(&f->children[i], m);
  return m;
}

void cl_schema_assign_new_ids(const cl_schema *base, cl_schema *added) {
  int32_t m = -1;
  for (size_t i = 0; i < base->n_fields; i++)
    m = max_id(&base->fields[i], m);
  int32_t next = m + 1;
  for (size_t i = 0; i < added->n_fields; i++)
    added->fields[i].id = -1;
  cl_schema_assign_ids(added, &next);
}

clance_status cl_op_schema(const clance_operation *op, const cl_dataset *read, cl_schema *out,
                           clance_error *err) {
  memset(out, 0, sizeof *out);
  if (op->kind == CL_OP_OVERWRITE)
    return cl_schema_copy(&op->schema, out, err);
  if (!read)
    return cl_err(err, CLANCE_ENOTFOUND, "a %s needs an existing dataset", cl_op_name(op->kind));
  CL_TRY(cl_schema_copy(&read->schema, out, err));
  clance_status st = CLANCE_OK;
  if (op->kind == CL_OP_MERGE) {
    cl_schema added;
    CL_CHECK(st, cl_schema_copy(&op->schema, &added, err));
    cl_schema_assign_new_ids(&read->schema, &added);
    for (size_t i = 0; !st && i < added.n_fields; i++)
      if (cl_schema_index(out, added.fields[i].name) >= 0)
        st = cl_err(err, CLANCE_ESCHEMA, "cannot add column \"%s\": the dataset has one",
                    added.fields[i].name);
    cl_field *nf = st ? NULL : realloc(out->fields, (out->n_fields + added.n_fields) * sizeof *nf);
    if (!st && !nf)
      st = cl_err_nomem(err, "schema");
    if (!st) {
      out->fields = nf;
      memcpy(out->fields + out->n_fields, added.fields, added.n_fields * sizeof *nf);
      out->n_fields += added.n_fields;
      free(added.fields); /* the fields moved into out */
      added.fields = NULL;
      added.n_fields = 0;
    }
    cl_schema_free(&added);
    if (st)
      goto fail;
  } else if (op->kind == CL_OP_PROJECT) {
    for (size_t i = 0; i < op->n_alters; i++) {
      const cl_alter *a = &op->alters[i];
      int idx = cl_schema_index(out, a->name);
      if (idx < 0) {
        st = cl_err(err, CLANCE_ENOTFOUND, "column \"%s\" is not in the dataset", a->name);
        goto fail;
      }
      cl_field *f = &out->fields[idx];
      if (a->new_name && !*a->new_name) { /* drop */
        cl_field_free(f);
        memmove(f, f + 1, (out->n_fields - (size_t)idx - 1) * sizeof *f);
        out->n_fields--;
        continue;
      }
      if (a->new_name) {
        if (cl_schema_index(out, a->new_name) >= 0 && strcmp(a->new_name, a->name) != 0) {
          st = cl_err(err, CLANCE_ESCHEMA, "cannot rename \"%s\" to \"%s\": that column exists",
                      a->name, a->new_name);
          goto fail;
        }
        char *n = cl_strdup(a->new_name, err);
        if (!n) {
          st = err->code;
          goto fail;
        }
        free(f->name);
        f->name = n;
      }
      if (a->nullable >= 0)
        f->nullable = a->nullable;
    }
    if (out->n_fields == 0) {
      st = cl_err(err, CLANCE_EINVAL, "cannot drop every column of the dataset");
      goto fail;
    }
  }
  return CLANCE_OK;
fail:
  cl_schema_free(out);
  return st;
}

/* Copies of the read version's fragments with `updated` substituted by id. */
static clance_status merged_fragments(const cl_dataset *read, const clance_fragments *updated,
                                      pb_fragment ***out, size_t *n, clance_error *err) {
  const pb_manifest *m = read->manifest.pb;
  *out = cl_calloc(m->n_fragments ? m->n_fragments : 1, sizeof **out, err);
  *n = 0;
  if (!*out)
    return err->code;
  for (size_t u = 0; u < updated->n; u++) {
    int found = 0;
    for (size_t i = 0; i < m->n_fragments && !found; i++)
      found = m->fragments[i]->id == updated->v[u]->id;
    if (!found)
      return cl_err(err, CLANCE_EINVAL, "fragment %llu is not in version %llu of the dataset",
                    (unsigned long long)updated->v[u]->id, (unsigned long long)m->version);
    for (size_t k = 0; k < u; k++)
      if (updated->v[k]->id == updated->v[u]->id)
        return cl_err(err, CLANCE_EINVAL, "fragment %llu is given twice",
                      (unsigned long long)updated->v[u]->id);
  }
  for (size_t i = 0; i < m->n_fragments; i++) {
    const pb_fragment *src = m->fragments[i];
    for (size_t u = 0; u < updated->n; u++)
      if (updated->v[u]->id == src->id)
        src = updated->v[u];
    CL_TRY(cl_fragment_copy(src, &(*out)[*n], err));
    (*n)++;
  }
  return CLANCE_OK;
}

static void free_frags(pb_fragment **v, size_t n) {
  for (size_t i = 0; i < n; i++)
    cl_fragment_free(v[i]);
  free(v);
}

/* Fragments given to a transaction as new ones carry id 0 (Lance assigns). */
static clance_status new_frags(const clance_fragments *l, pb_fragment ***out, clance_error *err) {
  *out = cl_calloc(l->n ? l->n : 1, sizeof **out, err);
  if (!*out)
    return err->code;
  for (size_t i = 0; i < l->n; i++) {
    CL_TRY(cl_fragment_copy(l->v[i], &(*out)[i], err));
    (*out)[i]->id = 0;
    (*out)[i]->has_id = 0;
  }
  return CLANCE_OK;
}

typedef Lance__Table__Transaction__UpdateMapEntry pb_map_entry;

clance_status cl_op_to_txn(const clance_operation *op, const cl_dataset *read, uint64_t read_version,
                           const char *uuid, pb_txn **out, clance_error *err) {
  *out = NULL;
  pb_txn t = LANCE__TABLE__TRANSACTION__INIT;
  t.has_read_version = read_version != 0;
  t.read_version = read_version;
  t.uuid = (char *)uuid;
  /* Everything below is borrowed or owned by these locals until packed. */
  pb_fragment **fa = NULL, **fb = NULL;
  size_t nfa = 0, nfb = 0;
  pb_field **fields = NULL;
  size_t nf = 0;
  Lance__File__StringBytesEntry **meta = NULL;
  size_t nmeta = 0;
  cl_schema schema = {0};
  Lance__Table__Transaction__Append app = LANCE__TABLE__TRANSACTION__APPEND__INIT;
  Lance__Table__Transaction__Overwrite ow = LANCE__TABLE__TRANSACTION__OVERWRITE__INIT;
  Lance__Table__Transaction__Delete del = LANCE__TABLE__TRANSACTION__DELETE__INIT;
  Lance__Table__Transaction__Merge mg = LANCE__TABLE__TRANSACTION__MERGE__INIT;
  Lance__Table__Transaction__Update up = LANCE__TABLE__TRANSACTION__UPDATE__INIT;
  Lance__Table__Transaction__Project pr = LANCE__TABLE__TRANSACTION__PROJECT__INIT;
  Lance__Table__Transaction__Restore rs = LANCE__TABLE__TRANSACTION__RESTORE__INIT;
  Lance__Table__Transaction__Rewrite rw = LANCE__TABLE__TRANSACTION__REWRITE__INIT;
  Lance__Table__Transaction__Rewrite__RewriteGroup *groups = NULL, **gp = NULL;
  pb_fragment ***gold = NULL, ***gnew = NULL;
  Lance__Table__Transaction__DataReplacement dr = LANCE__TABLE__TRANSACTION__DATA_REPLACEMENT__INIT;
  Lance__Table__Transaction__DataReplacementGroup *rg = NULL, **rgp = NULL;
  Lance__Table__Transaction__UpdateConfig uc = LANCE__TABLE__TRANSACTION__UPDATE_CONFIG__INIT;
  Lance__Table__Transaction__UpdateMap umap = LANCE__TABLE__TRANSACTION__UPDATE_MAP__INIT;
  pb_map_entry *ents = NULL, **entp = NULL;
  cl_buf bytes = CL_BUF_INIT;
  clance_status st = CLANCE_OK;

  switch (op->kind) {
  case CL_OP_APPEND:
    CL_CHECK(st, new_frags(&op->frags, &fa, err));
    nfa = op->frags.n;
    app.n_fragments = nfa;
    app.fragments = fa;
    t.operation_case = LANCE__TABLE__TRANSACTION__OPERATION_APPEND;
    t.append = &app;
    break;
  case CL_OP_OVERWRITE:
    CL_CHECK(st, new_frags(&op->frags, &fa, err));
    nfa = op->frags.n;
    CL_CHECK(st, cl_fields_to_pb(&op->schema, &fields, &nf, err));
    CL_CHECK(st, cl_meta_to_pb(&op->schema.metadata, &meta, &nmeta, err));
    ow.n_fragments = nfa;
    ow.fragments = fa;
    ow.n_schema = nf;
    ow.schema = fields;
    ow.n_schema_metadata = nmeta;
    ow.schema_metadata = meta;
    t.operation_case = LANCE__TABLE__TRANSACTION__OPERATION_OVERWRITE;
    t.overwrite = &ow;
    break;
  case CL_OP_DELETE:
    del.n_updated_fragments = op->frags.n;
    del.updated_fragments = op->frags.v;
    del.n_deleted_fragment_ids = op->n_ids;
    del.deleted_fragment_ids = op->ids;
    del.predicate = op->predicate;
    t.operation_case = LANCE__TABLE__TRANSACTION__OPERATION_DELETE;
    t.delete_ = &del;
    break;
  case CL_OP_MERGE:
    CL_CHECK(st, cl_op_schema(op, read, &schema, err));
    CL_CHECK(st, cl_fields_to_pb(&schema, &fields, &nf, err));
    CL_CHECK(st, merged_fragments(read, &op->frags, &fa, &nfa, err));
    mg.n_fragments = nfa;
    mg.fragments = fa;
    mg.n_schema = nf;
    mg.schema = fields;
    t.operation_case = LANCE__TABLE__TRANSACTION__OPERATION_MERGE;
    t.merge = &mg;
    break;
  case CL_OP_UPDATE:
    CL_CHECK(st, new_frags(&op->frags2, &fb, err));
    nfb = op->frags2.n;
    up.n_removed_fragment_ids = op->n_ids;
    up.removed_fragment_ids = op->ids;
    up.n_updated_fragments = op->frags.n;
    up.updated_fragments = op->frags.v;
    up.n_new_fragments = nfb;
    up.new_fragments = fb;
    up.n_fields_modified = op->n_fields;
    up.fields_modified = op->fields;
    up.has_update_mode = op->update_mode != 0;
    up.update_mode = op->update_mode;
    t.operation_case = LANCE__TABLE__TRANSACTION__OPERATION_UPDATE;
    t.update = &up;
    break;
  case CL_OP_PROJECT:
    CL_CHECK(st, cl_op_schema(op, read, &schema, err));
    CL_CHECK(st, cl_fields_to_pb(&schema, &fields, &nf, err));
    pr.n_schema = nf;
    pr.schema = fields;
    t.operation_case = LANCE__TABLE__TRANSACTION__OPERATION_PROJECT;
    t.project = &pr;
    break;
  case CL_OP_RESTORE:
    rs.has_version = 1;
    rs.version = op->version;
    t.operation_case = LANCE__TABLE__TRANSACTION__OPERATION_RESTORE;
    t.restore = &rs;
    break;
  case CL_OP_REWRITE: {
    const pb_manifest *m = read ? read->manifest.pb : NULL;
    if (!m) {
      st = cl_err(err, CLANCE_ENOTFOUND, "a Rewrite needs an existing dataset");
      goto fail;
    }
    groups = cl_calloc(op->n_groups, sizeof *groups, err);
    gp = cl_calloc(op->n_groups, sizeof *gp, err);
    gold = cl_calloc(op->n_groups, sizeof *gold, err);
    gnew = cl_calloc(op->n_groups, sizeof *gnew, err);
    if (!groups || !gp || !gold || !gnew) {
      st = err->code;
      goto fail;
    }
    for (size_t g = 0; g < op->n_groups; g++) {
      const cl_rewrite_group *src = &op->groups[g];
      lance__table__transaction__rewrite__rewrite_group__init(&groups[g]);
      gp[g] = &groups[g];
      /* The old fragments are recorded whole, as in the read version. */
      if (!(gold[g] = cl_calloc(src->n_old, sizeof **gold, err))) {
        st = err->code;
        goto fail;
      }
      for (size_t k = 0; k < src->n_old; k++) {
        const pb_fragment *f = NULL;
        for (size_t i = 0; i < m->n_fragments && !f; i++)
          if (m->fragments[i]->id == src->old_ids[k])
            f = m->fragments[i];
        if (!f) {
          st = cl_err(err, CLANCE_EINVAL, "Rewrite: fragment %llu is not in version %llu",
                      (unsigned long long)src->old_ids[k], (unsigned long long)m->version);
          goto fail;
        }
        CL_CHECK(st, cl_fragment_copy(f, &gold[g][k], err));
        groups[g].n_old_fragments = k + 1;
      }
      groups[g].old_fragments = gold[g];
      CL_CHECK(st, new_frags(&src->new_frags, &gnew[g], err));
      groups[g].new_fragments = gnew[g];
      groups[g].n_new_fragments = src->new_frags.n;
    }
    rw.n_groups = op->n_groups;
    rw.groups = gp;
    t.operation_case = LANCE__TABLE__TRANSACTION__OPERATION_REWRITE;
    t.rewrite = &rw;
    break;
  }
  case CL_OP_DATA_REPLACEMENT:
    rg = cl_calloc(op->frags.n, sizeof *rg, err);
    rgp = cl_calloc(op->frags.n, sizeof *rgp, err);
    if (!rg || !rgp) {
      st = err->code;
      goto fail;
    }
    for (size_t i = 0; i < op->frags.n; i++) {
      lance__table__transaction__data_replacement_group__init(&rg[i]);
      rg[i].has_fragment_id = 1;
      rg[i].fragment_id = op->frags.v[i]->id;
      rg[i].new_file = op->frags.v[i]->files[0];
      rgp[i] = &rg[i];
    }
    dr.n_replacements = op->frags.n;
    dr.replacements = rgp;
    t.operation_case = LANCE__TABLE__TRANSACTION__OPERATION_DATA_REPLACEMENT;
    t.data_replacement = &dr;
    break;
  case CL_OP_UPDATE_CONFIG:
    ents = cl_calloc(op->n_updates, sizeof *ents, err);
    entp = cl_calloc(op->n_updates, sizeof *entp, err);
    if (!ents || !entp) {
      st = err->code;
      goto fail;
    }
    for (size_t i = 0; i < op->n_updates; i++) {
      lance__table__transaction__update_map_entry__init(&ents[i]);
      ents[i].key = op->updates[i].key;
      ents[i].value = op->updates[i].value;
      entp[i] = &ents[i];
    }
    umap.n_update_entries = op->n_updates;
    umap.update_entries = entp;
    if (op->update_target == 0)
      uc.config_updates = &umap;
    else if (op->update_target == 1)
      uc.table_metadata_updates = &umap;
    else
      uc.schema_metadata_updates = &umap;
    t.operation_case = LANCE__TABLE__TRANSACTION__OPERATION_UPDATE_CONFIG;
    t.update_config = &uc;
    break;
  default:
    st = cl_err(err, CLANCE_EINTERNAL, "operation %s has no transaction form", cl_op_name(op->kind));
    goto fail;
  }
  CL_CHECK(st, cl_pb_pack(&t.base, &bytes, err));
  *out = lance__table__transaction__unpack(NULL, bytes.len, bytes.data ? bytes.data : (const uint8_t *)"");
  if (!*out)
    st = cl_err_nomem(err, "transaction");
fail:
  cl_buf_free(&bytes);
  free_frags(fa, nfa);
  free_frags(fb, nfb);
  cl_fields_pb_free(fields, nf);
  cl_meta_pb_free(meta, nmeta);
  cl_schema_free(&schema);
  for (size_t g = 0; groups && g < op->n_groups; g++) {
    free_frags(gold[g], groups[g].n_old_fragments);
    free_frags(gnew[g], groups[g].n_new_fragments);
  }
  free(groups);
  free(gp);
  free(gold);
  free(gnew);
  free(rg);
  free(rgp);
  free(ents);
  free(entp);
  return st;
}
