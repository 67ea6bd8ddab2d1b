#include "table/txn_apply.h"

#include <roaring/roaring.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/fields.h"
#include "table/fragment.h"

/* Every member of a message built here is malloc'ed, so that
 * protobuf_c_message_free_unpacked frees it like an unpacked one. */

static clance_status copy_msg(const ProtobufCMessage *src, const ProtobufCMessageDescriptor *d,
                              ProtobufCMessage **out, clance_error *err) {
  cl_buf b = CL_BUF_INIT;
  CL_TRY(cl_pb_pack(src, &b, err));
  *out = protobuf_c_message_unpack(d, NULL, b.len, b.data ? b.data : (const uint8_t *)"");
  cl_buf_free(&b);
  return *out ? CLANCE_OK : cl_err_nomem(err, "protobuf copy");
}

clance_status cl_manifest_copy_pb(const pb_manifest *src, pb_manifest **out, clance_error *err) {
  /* Everything but the fragments through protobuf (unknown fields survive),
   * the fragments (most of a big manifest) with cl_fragment_copy. */
  pb_manifest shell = *src;
  shell.n_fragments = 0;
  shell.fragments = NULL;
  CL_TRY(copy_msg(&shell.base, &lance__table__manifest__descriptor, (ProtobufCMessage **)out, err));
  pb_manifest *m = *out;
  if (!src->n_fragments)
    return CLANCE_OK;
  if (!(m->fragments = cl_calloc(src->n_fragments, sizeof *m->fragments, err))) {
    protobuf_c_message_free_unpacked(&m->base, NULL);
    *out = NULL;
    return err->code;
  }
  for (size_t i = 0; i < src->n_fragments; i++) {
    clance_status st = cl_fragment_copy(src->fragments[i], &m->fragments[i], err);
    if (st) {
      protobuf_c_message_free_unpacked(&m->base, NULL);
      *out = NULL;
      return st;
    }
    m->n_fragments = i + 1;
  }
  return CLANCE_OK;
}

pb_fragment *cl_manifest_fragment(const pb_manifest *m, uint64_t id) {
  for (size_t i = 0; i < m->n_fragments; i++)
    if (m->fragments[i]->id == id)
      return m->fragments[i];
  return NULL;
}

void cl_apply_out_free(cl_apply_out *o) {
  if (o->m)
    protobuf_c_message_free_unpacked(&o->m->base, NULL);
  cl_buf_free(&o->index);
  memset(o, 0, sizeof *o);
}

static clance_status set_str(char **dst, const char *s, clance_error *err) {
  free(*dst);
  *dst = s ? cl_strdup(s, err) : NULL;
  return (!s || *dst) ? CLANCE_OK : err->code;
}

/* ---- fragment lists ---- */

typedef struct frag_list {
  pb_fragment **v;
  size_t n, cap;
} frag_list;

static clance_status list_push(frag_list *l, pb_fragment *f, clance_error *err) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    pb_fragment **v = realloc(l->v, cap * sizeof *v);
    if (!v)
      return cl_err_nomem(err, "fragment list");
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = f;
  return CLANCE_OK;
}

static clance_status list_push_copy(frag_list *l, const pb_fragment *f, clance_error *err) {
  pb_fragment *c;
  CL_TRY(cl_fragment_copy(f, &c, err));
  clance_status st = list_push(l, c, err);
  if (st)
    cl_fragment_free(c);
  return st;
}

/* Move the fragment in *slot (owned by the manifest being built) into l:
 * the old version's fragments are not copied again. */
static clance_status list_take(frag_list *l, pb_fragment **slot, clance_error *err) {
  CL_TRY(list_push(l, *slot, err));
  *slot = NULL;
  return CLANCE_OK;
}

/* A replacement from the transaction (copied), or else the old fragment. */
static clance_status list_push_or_take(frag_list *l, const pb_fragment *replacement,
                                       pb_fragment **slot, clance_error *err) {
  return replacement ? list_push_copy(l, replacement, err) : list_take(l, slot, err);
}

static void list_free(frag_list *l) {
  for (size_t i = 0; i < l->n; i++)
    cl_fragment_free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

static int has_id(const uint64_t *ids, size_t n, uint64_t id) {
  for (size_t i = 0; i < n; i++)
    if (ids[i] == id)
      return 1;
  return 0;
}

static const pb_fragment *find_in(pb_fragment *const *v, size_t n, uint64_t id) {
  for (size_t i = 0; i < n; i++)
    if (v[i]->id == id)
      return v[i];
  return NULL;
}

/* Copies of `add`; those with id 0 get the next fresh ids. */
static clance_status push_new(frag_list *l, pb_fragment *const *add, size_t n, uint64_t *next_id,
                              clance_error *err) {
  for (size_t i = 0; i < n; i++) {
    pb_fragment *c;
    CL_TRY(cl_fragment_copy(add[i], &c, err));
    if (c->id == 0) {
      c->id = (*next_id)++;
      c->has_id = c->id != 0;
    }
    clance_status st = list_push(l, c, err);
    if (st) {
      cl_fragment_free(c);
      return st;
    }
  }
  return CLANCE_OK;
}

static int cmp_frag_id(const void *a, const void *b) {
  uint64_t x = (*(pb_fragment *const *)a)->id, y = (*(pb_fragment *const *)b)->id;
  return x < y ? -1 : x > y;
}

/* Data files whose every field id is -2 (replaced) hold nothing any more. */
static void drop_tombstoned_files(pb_fragment *f) {
  size_t w = 0;
  for (size_t d = 0; d < f->n_files; d++) {
    pb_data_file *df = f->files[d];
    int live = df->n_fields == 0;
    for (size_t k = 0; k < df->n_fields; k++)
      live |= df->fields[k] != -2;
    if (live)
      f->files[w++] = df;
    else
      protobuf_c_message_free_unpacked(&df->base, NULL);
  }
  f->n_files = w;
}

/* ---- string maps (config, table metadata) ---- */

typedef Lance__File__StringStringEntry kv_entry;

static clance_status map_set(kv_entry ***v, size_t *n, const char *key, const char *value,
                             clance_error *err) {
  for (size_t i = 0; i < *n; i++)
    if (!strcmp(cl_pb_str((*v)[i]->key), key))
      return set_str(&(*v)[i]->value, value, err);
  kv_entry **nv = realloc(*v, (*n + 1) * sizeof *nv);
  if (!nv)
    return cl_err_nomem(err, "config");
  *v = nv;
  kv_entry *e = cl_calloc(1, sizeof *e, err);
  if (!e)
    return err->code;
  lance__file__string_string_entry__init(e);
  e->key = cl_strdup(key, err);
  e->value = cl_strdup(value, err);
  if (!e->key || !e->value) {
    free(e->key);
    free(e->value);
    free(e);
    return err->code;
  }
  nv[(*n)++] = e;
  return CLANCE_OK;
}

static void map_remove(kv_entry ***v, size_t *n, const char *key) {
  size_t w = 0;
  for (size_t i = 0; i < *n; i++) {
    if (!strcmp(cl_pb_str((*v)[i]->key), key))
      protobuf_c_message_free_unpacked(&(*v)[i]->base, NULL);
    else
      (*v)[w++] = (*v)[i];
  }
  *n = w;
}

static void map_clear(kv_entry ***v, size_t *n) {
  for (size_t i = 0; i < *n; i++)
    protobuf_c_message_free_unpacked(&(*v)[i]->base, NULL);
  *n = 0;
}

static clance_status apply_update_map(kv_entry ***v, size_t *n,
                                      const Lance__Table__Transaction__UpdateMap *u,
                                      clance_error *err) {
  if (!u)
    return CLANCE_OK;
  if (u->replace)
    map_clear(v, n);
  for (size_t i = 0; i < u->n_update_entries; i++) {
    const Lance__Table__Transaction__UpdateMapEntry *e = u->update_entries[i];
    if (e->value)
      CL_TRY(map_set(v, n, cl_pb_str(e->key), e->value, err));
    else
      map_remove(v, n, cl_pb_str(e->key));
  }
  return CLANCE_OK;
}

/* Schema and field metadata are string -> bytes maps. */
typedef Lance__File__StringBytesEntry kb_entry;

static clance_status bytes_map_apply(kb_entry ***v, size_t *n,
                                     const Lance__Table__Transaction__UpdateMap *u,
                                     clance_error *err) {
  if (!u)
    return CLANCE_OK;
  if (u->replace) {
    for (size_t i = 0; i < *n; i++)
      protobuf_c_message_free_unpacked(&(*v)[i]->base, NULL);
    *n = 0;
  }
  for (size_t i = 0; i < u->n_update_entries; i++) {
    const Lance__Table__Transaction__UpdateMapEntry *e = u->update_entries[i];
    const char *key = cl_pb_str(e->key);
    size_t w = 0;
    for (size_t k = 0; k < *n; k++) {
      if (!strcmp(cl_pb_str((*v)[k]->key), key))
        protobuf_c_message_free_unpacked(&(*v)[k]->base, NULL);
      else
        (*v)[w++] = (*v)[k];
    }
    *n = w;
    if (!e->value)
      continue;
    kb_entry **nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
      return cl_err_nomem(err, "metadata");
    *v = nv;
    kb_entry *x = cl_calloc(1, sizeof *x, err);
    if (!x)
      return err->code;
    lance__file__string_bytes_entry__init(x);
    size_t len = strlen(e->value);
    x->key = cl_strdup(key, err);
    x->value.data = malloc(len ? len : 1);
    if (!x->key || !x->value.data) {
      free(x->key);
      free(x->value.data);
      free(x);
      return cl_err_nomem(err, "metadata");
    }
    memcpy(x->value.data, e->value, len);
    x->value.len = len;
    x->has_value = 1;
    nv[(*n)++] = x;
  }
  return CLANCE_OK;
}

/* ---- indices ---- */

typedef Lance__Table__IndexSection pb_index_section;

/* Remove fragment ids from the fragment bitmaps of indices on any of
 * `fields` (NULL = all indices): their rows changed, so those indices no
 * longer cover them. */
static clance_status prune_index_bitmaps(pb_index_section *s, const uint32_t *fields, size_t n_fields,
                                         const uint64_t *ids, size_t n_ids, clance_error *err) {
  for (size_t i = 0; i < s->n_indices; i++) {
    Lance__Table__IndexMetadata *x = s->indices[i];
    int covers = fields == NULL;
    for (size_t a = 0; !covers && a < x->n_fields; a++)
      for (size_t b = 0; b < n_fields; b++)
        covers |= x->fields[a] == (int32_t)fields[b];
    if (!covers || !x->has_fragment_bitmap)
      continue;
    roaring_bitmap_t *bm = roaring_bitmap_portable_deserialize_safe(
        (const char *)x->fragment_bitmap.data, x->fragment_bitmap.len);
    if (!bm)
      return cl_err(err, CLANCE_ECORRUPT, "index \"%s\": unreadable fragment bitmap",
                    cl_pb_str(x->name));
    for (size_t k = 0; k < n_ids; k++)
      if (ids[k] <= UINT32_MAX)
        roaring_bitmap_remove(bm, (uint32_t)ids[k]);
    size_t len = roaring_bitmap_portable_size_in_bytes(bm);
    uint8_t *data = malloc(len ? len : 1);
    if (!data) {
      roaring_bitmap_free(bm);
      return cl_err_nomem(err, "index bitmap");
    }
    roaring_bitmap_portable_serialize(bm, (char *)data);
    roaring_bitmap_free(bm);
    free(x->fragment_bitmap.data);
    x->fragment_bitmap.data = data;
    x->fragment_bitmap.len = len;
  }
  return CLANCE_OK;
}

/* Drop indices on a field that is no longer in the schema. */
static void drop_indices_of_missing_fields(pb_index_section *s, const pb_manifest *m) {
  size_t w = 0;
  for (size_t i = 0; i < s->n_indices; i++) {
    Lance__Table__IndexMetadata *x = s->indices[i];
    int ok = 1;
    for (size_t a = 0; ok && a < x->n_fields; a++) {
      int found = 0;
      for (size_t f = 0; !found && f < m->n_fields; f++)
        found = m->fields[f]->id == x->fields[a];
      ok = found;
    }
    if (ok)
      s->indices[w++] = x;
    else
      protobuf_c_message_free_unpacked(&x->base, NULL);
  }
  s->n_indices = w;
}

/* ---- the operations ---- */

static clance_status set_fields(pb_manifest *m, pb_field *const *fields, size_t n,
                                clance_error *err) {
  cl_fields_pb_free(m->fields, m->n_fields);
  m->fields = NULL;
  m->n_fields = 0;
  if (!n)
    return CLANCE_OK;
  m->fields = cl_calloc(n, sizeof *m->fields, err);
  if (!m->fields)
    return err->code;
  for (size_t i = 0; i < n; i++) {
    CL_TRY(copy_msg(&fields[i]->base, &lance__file__field__descriptor,
                    (ProtobufCMessage **)&m->fields[i], err));
    m->n_fields = i + 1;
  }
  return CLANCE_OK;
}

static clance_status set_schema_metadata(pb_manifest *m, kb_entry *const *e, size_t n,
                                         clance_error *err) {
  cl_meta_pb_free(m->schema_metadata, m->n_schema_metadata);
  m->schema_metadata = NULL;
  m->n_schema_metadata = 0;
  if (!n)
    return CLANCE_OK;
  m->schema_metadata = cl_calloc(n, sizeof *m->schema_metadata, err);
  if (!m->schema_metadata)
    return err->code;
  for (size_t i = 0; i < n; i++) {
    CL_TRY(copy_msg(&e[i]->base, &lance__file__string_bytes_entry__descriptor,
                    (ProtobufCMessage **)&m->schema_metadata[i], err));
    m->n_schema_metadata = i + 1;
  }
  return CLANCE_OK;
}

static clance_status data_replacement(frag_list *l, const Lance__Table__Transaction__DataReplacement *r,
                                      clance_error *err) {
  for (size_t g = 0; g < r->n_replacements; g++) {
    const Lance__Table__Transaction__DataReplacementGroup *grp = r->replacements[g];
    const pb_data_file *nf = grp->new_file;
    pb_fragment *f = NULL;
    for (size_t i = 0; i < l->n && !f; i++)
      if (l->v[i]->id == grp->fragment_id)
        f = l->v[i];
    if (!f || !nf)
      return cl_err(err, CLANCE_EINVAL, "DataReplacement: fragment %llu is not in the dataset",
                    (unsigned long long)grp->fragment_id);
    int done = 0, overlap = 0;
    for (size_t d = 0; d < f->n_files && !done; d++) {
      pb_data_file *df = f->files[d];
      int same = df->n_fields == nf->n_fields &&
                 !memcmp(df->fields, nf->fields, nf->n_fields * sizeof *nf->fields) &&
                 df->file_major_version == nf->file_major_version &&
                 df->file_minor_version == nf->file_minor_version;
      for (size_t a = 0; a < df->n_fields; a++)
        for (size_t b = 0; b < nf->n_fields; b++)
          overlap |= df->fields[a] == nf->fields[b];
      if (same) {
        CL_TRY(set_str(&df->path, nf->path, err));
        df->file_size_bytes = nf->file_size_bytes;
        df->has_file_size_bytes = nf->has_file_size_bytes;
        done = 1;
      }
    }
    if (done)
      continue;
    if (overlap)
      return cl_err(err, CLANCE_EINVAL, "DataReplacement: fragment %llu stores those columns in a "
                    "data file with other fields; the new file must list the same fields",
                    (unsigned long long)grp->fragment_id);
    /* The columns were all null (no file): the new file is added. */
    pb_data_file **nv = realloc(f->files, (f->n_files + 1) * sizeof *nv);
    if (!nv)
      return cl_err_nomem(err, "data files");
    f->files = nv;
    CL_TRY(copy_msg(&nf->base, &lance__table__data_file__descriptor,
                    (ProtobufCMessage **)&f->files[f->n_files], err));
    f->n_files++;
  }
  return CLANCE_OK;
}

static clance_status update_config(pb_manifest *m, const Lance__Table__Transaction__UpdateConfig *u,
                                   clance_error *err) {
  for (size_t i = 0; i < u->n_upsert_values; i++)
    CL_TRY(map_set(&m->config, &m->n_config, cl_pb_str(u->upsert_values[i]->key),
                   cl_pb_str(u->upsert_values[i]->value), err));
  for (size_t i = 0; i < u->n_delete_keys; i++)
    map_remove(&m->config, &m->n_config, cl_pb_str(u->delete_keys[i]));
  CL_TRY(apply_update_map(&m->config, &m->n_config, u->config_updates, err));
  CL_TRY(apply_update_map(&m->table_metadata, &m->n_table_metadata, u->table_metadata_updates, err));
  CL_TRY(bytes_map_apply(&m->schema_metadata, &m->n_schema_metadata, u->schema_metadata_updates, err));
  for (size_t i = 0; i < u->n_field_metadata_updates; i++) {
    const Lance__Table__Transaction__FieldMetadataUpdateEntry *e = u->field_metadata_updates[i];
    pb_field *f = NULL;
    for (size_t k = 0; k < m->n_fields && !f; k++)
      if (m->fields[k]->id == e->key)
        f = m->fields[k];
    if (!f)
      return cl_err(err, CLANCE_EINVAL, "UpdateConfig: field id %d is not in the schema", (int)e->key);
    CL_TRY(bytes_map_apply(&f->metadata, &f->n_metadata, e->value, err));
  }
  return CLANCE_OK;
}

/* Recompute the feature flags from the content, as Lance does on every commit. */
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

static clance_status stamp(pb_manifest *m, const cl_apply_in *in, const pb_txn *t, clance_error *err) {
  m->version = in->version;
  m->has_version = 1;
  if (!m->timestamp) {
    if (!(m->timestamp = cl_calloc(1, sizeof *m->timestamp, err)))
      return err->code;
    lance__file__pb_timestamp__init(m->timestamp);
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  m->timestamp->seconds = ts.tv_sec;
  m->timestamp->has_seconds = 1;
  m->timestamp->nanos = (int32_t)ts.tv_nsec;
  m->timestamp->has_nanos = ts.tv_nsec != 0;
  if (!m->writer_version) {
    if (!(m->writer_version = cl_calloc(1, sizeof *m->writer_version, err)))
      return err->code;
    lance__table__manifest__writer_version__init(m->writer_version);
  }
  CL_TRY(set_str(&m->writer_version->library, "clance", err));
  CL_TRY(set_str(&m->writer_version->version, CLANCE_VERSION_STRING, err));
  CL_TRY(set_str(&m->writer_version->prerelease, NULL, err));
  CL_TRY(set_str(&m->writer_version->build_metadata, NULL, err));
  if (!m->data_format) {
    if (!(m->data_format = cl_calloc(1, sizeof *m->data_format, err)))
      return err->code;
    lance__table__manifest__data_storage_format__init(m->data_format);
    CL_TRY(set_str(&m->data_format->file_format, "lance", err));
    CL_TRY(set_str(&m->data_format->version, cl_file_version_name(in->file_version), err));
  }
  CL_TRY(set_str(&m->transaction_file, in->txn_file, err));
  CL_TRY(set_str(&m->tag, t->tag && *t->tag ? t->tag : NULL, err));
  return CLANCE_OK;
}

clance_status cl_txn_apply(const pb_txn *t, const cl_apply_in *in, cl_apply_out *out,
                           clance_error *err) {
  memset(out, 0, sizeof *out);
  const cl_manifest *prev = in->prev;
  cl_op_kind kind = cl_txn_kind(t);
  pb_manifest *m = NULL;
  pb_index_section *idx = NULL;
  frag_list l = {0};
  clance_status st = CLANCE_OK;
  /* Start from the latest manifest (or the restored one, or nothing). */
  const cl_manifest *base = kind == CL_OP_RESTORE ? in->restore : prev;
  if (kind == CL_OP_RESTORE && !base)
    return cl_err(err, CLANCE_EINTERNAL, "Restore without the restored manifest");
  if (base) {
    CL_CHECK(st, cl_manifest_copy_pb(base->pb, &m, err));
  } else {
    if (!(m = cl_calloc(1, sizeof *m, err)))
      return err->code;
    lance__table__manifest__init(m);
  }
  /* The high-water mark of fragment ids never goes down. */
  uint64_t next_id = 0;
  if (prev) {
    if (prev->pb->has_max_fragment_id)
      next_id = (uint64_t)prev->pb->max_fragment_id + 1;
    for (size_t i = 0; i < prev->pb->n_fragments; i++)
      if (prev->pb->fragments[i]->id >= next_id)
        next_id = prev->pb->fragments[i]->id + 1;
  }
  if (kind == CL_OP_RESTORE && m->has_max_fragment_id && (uint64_t)m->max_fragment_id + 1 > next_id)
    next_id = (uint64_t)m->max_fragment_id + 1;
  /* Indices: the latest version's (a Restore takes the restored version's). */
  if (base && base->index_block)
    CL_CHECK(st, cl_pb_unpack(&lance__table__index_section__descriptor, base->index_block,
                              base->index_len, base->path, (ProtobufCMessage **)&idx, err));
  /* The fragments of the new version. */
  pb_fragment *const *old = m->fragments;
  size_t n_old = m->n_fragments;
  switch (kind) {
  case CL_OP_APPEND:
    for (size_t i = 0; i < n_old; i++)
      CL_CHECK(st, list_take(&l, &m->fragments[i], err));
    CL_CHECK(st, push_new(&l, t->append->fragments, t->append->n_fragments, &next_id, err));
    break;
  case CL_OP_OVERWRITE: {
    const Lance__Table__Transaction__Overwrite *o = t->overwrite;
    CL_CHECK(st, push_new(&l, o->fragments, o->n_fragments, &next_id, err));
    CL_CHECK(st, set_fields(m, o->schema, o->n_schema, err));
    CL_CHECK(st, set_schema_metadata(m, o->schema_metadata, o->n_schema_metadata, err));
    for (size_t i = 0; i < o->n_config_upsert_values; i++)
      CL_CHECK(st, map_set(&m->config, &m->n_config, cl_pb_str(o->config_upsert_values[i]->key),
                           cl_pb_str(o->config_upsert_values[i]->value), err));
    if (m->data_format) /* an overwrite may change the storage version */
      CL_CHECK(st, set_str(&m->data_format->version, cl_file_version_name(in->file_version), err));
    if (idx) {
      protobuf_c_message_free_unpacked(&idx->base, NULL);
      idx = NULL;
    }
    break;
  }
  case CL_OP_DELETE: {
    const Lance__Table__Transaction__Delete *d = t->delete_;
    for (size_t i = 0; i < n_old; i++) {
      if (has_id(d->deleted_fragment_ids, d->n_deleted_fragment_ids, old[i]->id))
        continue;
      const pb_fragment *u = find_in(d->updated_fragments, d->n_updated_fragments, old[i]->id);
      CL_CHECK(st, list_push_or_take(&l, u, &m->fragments[i], err));
    }
    break;
  }
  case CL_OP_UPDATE: {
    const Lance__Table__Transaction__Update *u = t->update;
    for (size_t i = 0; i < n_old; i++) {
      if (has_id(u->removed_fragment_ids, u->n_removed_fragment_ids, old[i]->id))
        continue;
      const pb_fragment *r = find_in(u->updated_fragments, u->n_updated_fragments, old[i]->id);
      CL_CHECK(st, list_push_or_take(&l, r, &m->fragments[i], err));
    }
    CL_CHECK(st, push_new(&l, u->new_fragments, u->n_new_fragments, &next_id, err));
    if (idx && u->n_updated_fragments) {
      uint64_t *ids = cl_calloc(u->n_updated_fragments, sizeof *ids, err);
      if (!ids) {
        st = err->code;
        goto fail;
      }
      for (size_t i = 0; i < u->n_updated_fragments; i++)
        ids[i] = u->updated_fragments[i]->id;
      st = prune_index_bitmaps(idx, u->fields_modified, u->n_fields_modified, ids,
                               u->n_updated_fragments, err);
      free(ids);
      if (st)
        goto fail;
    }
    break;
  }
  case CL_OP_MERGE: {
    const Lance__Table__Transaction__Merge *g = t->merge;
    /* The complete list; ids are kept (fragment 0 is a real fragment here). */
    for (size_t i = 0; i < g->n_fragments; i++)
      CL_CHECK(st, list_push_copy(&l, g->fragments[i], err));
    CL_CHECK(st, set_fields(m, g->schema, g->n_schema, err));
    break;
  }
  case CL_OP_PROJECT: {
    const Lance__Table__Transaction__Project *p = t->project;
    CL_CHECK(st, set_fields(m, p->schema, p->n_schema, err));
    for (size_t i = 0; i < n_old; i++) {
      CL_CHECK(st, list_take(&l, &m->fragments[i], err));
      /* A data file none of whose fields remain is dropped. */
      pb_fragment *f = l.v[l.n - 1];
      for (size_t d = 0; d < f->n_files; d++) {
        pb_data_file *df = f->files[d];
        int live = 0;
        for (size_t k = 0; k < df->n_fields && !live; k++)
          for (size_t s = 0; s < m->n_fields && !live; s++)
            live = m->fields[s]->id == df->fields[k];
        if (!live)
          for (size_t k = 0; k < df->n_fields; k++)
            df->fields[k] = -2;
      }
    }
    if (idx)
      drop_indices_of_missing_fields(idx, m);
    break;
  }
  case CL_OP_RESTORE:
    for (size_t i = 0; i < n_old; i++)
      CL_CHECK(st, list_take(&l, &m->fragments[i], err));
    break;
  case CL_OP_REWRITE: {
    const Lance__Table__Transaction__Rewrite *r = t->rewrite;
    /* Old fragments of every group go; the new ones come in. */
    for (size_t i = 0; i < n_old; i++) {
      int gone = find_in(r->old_fragments, r->n_old_fragments, old[i]->id) != NULL;
      for (size_t g = 0; g < r->n_groups && !gone; g++)
        gone = find_in(r->groups[g]->old_fragments, r->groups[g]->n_old_fragments, old[i]->id) != NULL;
      if (!gone)
        CL_CHECK(st, list_take(&l, &m->fragments[i], err));
    }
    CL_CHECK(st, push_new(&l, r->new_fragments, r->n_new_fragments, &next_id, err));
    for (size_t g = 0; g < r->n_groups; g++)
      CL_CHECK(st, push_new(&l, r->groups[g]->new_fragments, r->groups[g]->n_new_fragments,
                            &next_id, err));
    break;
  }
  case CL_OP_DATA_REPLACEMENT: {
    for (size_t i = 0; i < n_old; i++)
      CL_CHECK(st, list_take(&l, &m->fragments[i], err));
    CL_CHECK(st, data_replacement(&l, t->data_replacement, err));
    break;
  }
  case CL_OP_UPDATE_CONFIG:
    for (size_t i = 0; i < n_old; i++)
      CL_CHECK(st, list_take(&l, &m->fragments[i], err));
    CL_CHECK(st, update_config(m, t->update_config, err));
    break;
  case CL_OP_RESERVE_FRAGMENTS:
    for (size_t i = 0; i < n_old; i++)
      CL_CHECK(st, list_take(&l, &m->fragments[i], err));
    next_id += t->reserve_fragments->num_fragments;
    break;
  default:
    st = cl_err(err, CLANCE_EUNSUPPORTED, "clance cannot commit a %s transaction", cl_op_name(kind));
    goto fail;
  }
  /* Replace the fragment list, sorted by id, without dead data files. */
  for (size_t i = 0; i < m->n_fragments; i++)
    cl_fragment_free(m->fragments[i]);
  free(m->fragments);
  m->fragments = l.v;
  m->n_fragments = l.n;
  memset(&l, 0, sizeof l);
  if (m->n_fragments) /* an empty table has no array: qsort(NULL, 0) is UB */
    qsort(m->fragments, m->n_fragments, sizeof *m->fragments, cmp_frag_id);
  for (size_t i = 0; i < m->n_fragments; i++) {
    drop_tombstoned_files(m->fragments[i]);
    if (i && m->fragments[i]->id == m->fragments[i - 1]->id) {
      st = cl_err(err, CLANCE_EINVAL, "the new version would hold fragment id %llu twice",
                  (unsigned long long)m->fragments[i]->id);
      goto fail;
    }
  }
  if (next_id > 0) {
    uint64_t max_id = next_id - 1;
    if (m->n_fragments && m->fragments[m->n_fragments - 1]->id > max_id)
      max_id = m->fragments[m->n_fragments - 1]->id;
    if (max_id > UINT32_MAX) {
      st = cl_err(err, CLANCE_EUNSUPPORTED, "fragment id %llu exceeds 32 bits",
                  (unsigned long long)max_id);
      goto fail;
    }
    if (m->n_fragments || m->has_max_fragment_id || kind == CL_OP_RESERVE_FRAGMENTS) {
      m->max_fragment_id = (uint32_t)max_id;
      m->has_max_fragment_id = 1;
    }
  }
  CL_CHECK(st, stamp(m, in, t, err));
  set_flags(m);
  if (idx && idx->n_indices)
    CL_CHECK(st, cl_pb_pack(&idx->base, &out->index, err));
  if (idx)
    protobuf_c_message_free_unpacked(&idx->base, NULL);
  out->m = m;
  return CLANCE_OK;
fail:
  list_free(&l);
  if (idx)
    protobuf_c_message_free_unpacked(&idx->base, NULL);
  if (m)
    protobuf_c_message_free_unpacked(&m->base, NULL);
  cl_buf_free(&out->index);
  return st;
}
