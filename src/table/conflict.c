/* Lance's conflict rules: can transaction `ours`, prepared against an older
 * version, be committed after `theirs` was? The table in docs/conflicts.md
 * lists every pair; this file is that table. Outcomes:
 *   NONE         compatible: commit on top of the newer version (a rebase);
 *   RETRYABLE    redo the work against the latest version;
 *   INCOMPATIBLE can never succeed (the table was replaced or restored).
 * One deliberate difference from Lance, off by `overwrite_wins`: an Overwrite
 * prepared against an older version is refused as retryable when anything
 * was committed since, so that no committed data disappears unnoticed. */
#include <stdio.h>
#include <string.h>

#include "table/transaction.h"

/* ---- fragment ids a transaction modifies ---- */

typedef struct id_set {
  uint64_t v[64];
  size_t n;
  int overflow; /* more than fit: treat as "touches everything" */
} id_set;

static void add_id(id_set *s, uint64_t id) {
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i] == id)
      return;
  if (s->n == sizeof s->v / sizeof *s->v) {
    s->overflow = 1;
    return;
  }
  s->v[s->n++] = id;
}

static void add_frags(id_set *s, pb_fragment *const *f, size_t n) {
  for (size_t i = 0; i < n; i++)
    add_id(s, f[i]->id);
}

/* Ids of existing fragments the transaction changes or removes (the "Rf"
 * sets of Lance's resolver). */
static void modified_ids(const pb_txn *t, id_set *s) {
  memset(s, 0, sizeof *s);
  switch (cl_txn_kind(t)) {
  case CL_OP_DELETE:
    add_frags(s, t->delete_->updated_fragments, t->delete_->n_updated_fragments);
    for (size_t i = 0; i < t->delete_->n_deleted_fragment_ids; i++)
      add_id(s, t->delete_->deleted_fragment_ids[i]);
    break;
  case CL_OP_UPDATE:
    add_frags(s, t->update->updated_fragments, t->update->n_updated_fragments);
    for (size_t i = 0; i < t->update->n_removed_fragment_ids; i++)
      add_id(s, t->update->removed_fragment_ids[i]);
    break;
  case CL_OP_REWRITE:
    add_frags(s, t->rewrite->old_fragments, t->rewrite->n_old_fragments);
    for (size_t g = 0; g < t->rewrite->n_groups; g++)
      add_frags(s, t->rewrite->groups[g]->old_fragments, t->rewrite->groups[g]->n_old_fragments);
    break;
  case CL_OP_DATA_REPLACEMENT:
    for (size_t i = 0; i < t->data_replacement->n_replacements; i++)
      add_id(s, t->data_replacement->replacements[i]->fragment_id);
    break;
  default:
    break;
  }
}

static int intersects(const id_set *a, const id_set *b, uint64_t *common) {
  if ((a->overflow && b->n) || (b->overflow && a->n))
    return *common = a->n ? a->v[0] : b->v[0], 1;
  for (size_t i = 0; i < a->n; i++)
    for (size_t j = 0; j < b->n; j++)
      if (a->v[i] == b->v[j])
        return *common = a->v[i], 1;
  return 0;
}

/* ---- config keys ---- */

typedef struct key_list {
  const char *k[128];
  size_t n;
} key_list;

static void add_key(key_list *l, const char *k) {
  if (l->n < sizeof l->k / sizeof *l->k)
    l->k[l->n++] = k;
}

/* Config keys the transaction upserts (`upserts`) and all it touches (`all`). */
static void config_keys(const pb_txn *t, key_list *upserts, key_list *all) {
  memset(upserts, 0, sizeof *upserts);
  memset(all, 0, sizeof *all);
  if (cl_txn_kind(t) == CL_OP_OVERWRITE) {
    for (size_t i = 0; i < t->overwrite->n_config_upsert_values; i++) {
      add_key(upserts, t->overwrite->config_upsert_values[i]->key);
      add_key(all, t->overwrite->config_upsert_values[i]->key);
    }
  } else if (cl_txn_kind(t) == CL_OP_UPDATE_CONFIG) {
    const Lance__Table__Transaction__UpdateConfig *u = t->update_config;
    for (size_t i = 0; i < u->n_upsert_values; i++) {
      add_key(upserts, u->upsert_values[i]->key);
      add_key(all, u->upsert_values[i]->key);
    }
    for (size_t i = 0; i < u->n_delete_keys; i++)
      add_key(all, u->delete_keys[i]);
    if (u->config_updates)
      for (size_t i = 0; i < u->config_updates->n_update_entries; i++) {
        const Lance__Table__Transaction__UpdateMapEntry *e = u->config_updates->update_entries[i];
        if (e->value)
          add_key(upserts, e->key);
        add_key(all, e->key);
      }
  }
}

/* One side upserts a key the other upserts or deletes. */
static const char *key_clash(const pb_txn *a, const pb_txn *b) {
  key_list au, aa, bu, ba;
  config_keys(a, &au, &aa);
  config_keys(b, &bu, &ba);
  for (size_t i = 0; i < au.n; i++)
    for (size_t j = 0; j < ba.n; j++)
      if (!strcmp(cl_pb_str(au.k[i]), cl_pb_str(ba.k[j])))
        return au.k[i];
  for (size_t i = 0; i < bu.n; i++)
    for (size_t j = 0; j < aa.n; j++)
      if (!strcmp(cl_pb_str(bu.k[i]), cl_pb_str(aa.k[j])))
        return bu.k[i];
  return NULL;
}

static int changes_schema_metadata(const pb_txn *t) {
  if (cl_txn_kind(t) != CL_OP_UPDATE_CONFIG)
    return 0;
  const Lance__Table__Transaction__UpdateConfig *u = t->update_config;
  return u->n_schema_metadata || u->schema_metadata_updates;
}

static int changes_field_metadata(const pb_txn *t, int32_t field) {
  if (cl_txn_kind(t) != CL_OP_UPDATE_CONFIG)
    return 0;
  const Lance__Table__Transaction__UpdateConfig *u = t->update_config;
  for (size_t i = 0; i < u->n_field_metadata_updates; i++)
    if (field < 0 || u->field_metadata_updates[i]->key == field)
      return 1;
  return 0;
}

/* ---- the table ---- */

#define WHY(...) (why && why_size ? (void)snprintf(why, why_size, __VA_ARGS__) : (void)0)

static cl_conflict fragments_rule(const pb_txn *ours, const pb_txn *theirs, char *why,
                                  size_t why_size) {
  id_set a, b;
  uint64_t common;
  modified_ids(ours, &a);
  modified_ids(theirs, &b);
  if (!intersects(&a, &b, &common))
    return CL_CONFLICT_NONE;
  WHY("both change fragment %llu", (unsigned long long)common);
  return CL_CONFLICT_RETRYABLE;
}

/* DataReplacement pairs: the same fragment and overlapping field ids. */
static cl_conflict replacement_rule(const pb_txn *ours, const pb_txn *theirs, char *why,
                                    size_t why_size) {
  const Lance__Table__Transaction__DataReplacement *a = ours->data_replacement,
                                                   *b = theirs->data_replacement;
  for (size_t i = 0; i < a->n_replacements; i++)
    for (size_t j = 0; j < b->n_replacements; j++) {
      const Lance__Table__Transaction__DataReplacementGroup *x = a->replacements[i],
                                                            *y = b->replacements[j];
      if (x->fragment_id != y->fragment_id || !x->new_file || !y->new_file)
        continue;
      for (size_t p = 0; p < x->new_file->n_fields; p++)
        for (size_t q = 0; q < y->new_file->n_fields; q++)
          if (x->new_file->fields[p] == y->new_file->fields[q]) {
            WHY("both replace field %d of fragment %llu", (int)x->new_file->fields[p],
                (unsigned long long)x->fragment_id);
            return CL_CONFLICT_RETRYABLE;
          }
    }
  return CL_CONFLICT_NONE;
}

/* DataReplacement against CreateIndex: a replaced column is indexed anew. */
static cl_conflict index_rule(const pb_txn *repl, const pb_txn *index, char *why, size_t why_size) {
  const Lance__Table__Transaction__DataReplacement *r = repl->data_replacement;
  const Lance__Table__Transaction__CreateIndex *c = index->create_index;
  for (size_t i = 0; i < r->n_replacements; i++) {
    const pb_data_file *f = r->replacements[i]->new_file;
    for (size_t k = 0; f && k < f->n_fields; k++)
      for (size_t x = 0; x < c->n_new_indices; x++)
        for (size_t y = 0; y < c->new_indices[x]->n_fields; y++)
          if (c->new_indices[x]->fields[y] == f->fields[k]) {
            WHY("field %d is both replaced and newly indexed", (int)f->fields[k]);
            return CL_CONFLICT_RETRYABLE;
          }
  }
  return CL_CONFLICT_NONE;
}

cl_conflict cl_txn_conflict(const pb_txn *ours, const pb_txn *theirs, int overwrite_wins,
                            char *why, size_t why_size) {
  cl_op_kind o = cl_txn_kind(ours), t = cl_txn_kind(theirs);
  if (why && why_size)
    why[0] = '\0';
  /* Operations Lance keeps opaque or that clance never sees: be safe. */
  if (t == CL_OP_UNKNOWN || t == CL_OP_UPDATE_MEM_WAL_STATE) {
    WHY("clance cannot check a %s transaction", cl_op_name(t));
    return CL_CONFLICT_RETRYABLE;
  }
  /* Replacing or restoring the table beats everything prepared before it,
   * except operations that do not depend on the data. */
  if ((t == CL_OP_OVERWRITE || t == CL_OP_RESTORE) && o != CL_OP_OVERWRITE && o != CL_OP_RESTORE &&
      o != CL_OP_UPDATE_CONFIG && o != CL_OP_CLONE && o != CL_OP_UPDATE_BASES) {
    WHY("the table was %s", t == CL_OP_OVERWRITE ? "overwritten" : "restored to an old version");
    return CL_CONFLICT_INCOMPATIBLE;
  }
  switch (o) {
  case CL_OP_APPEND:
  case CL_OP_RESERVE_FRAGMENTS:
    return CL_CONFLICT_NONE;
  case CL_OP_DELETE:
  case CL_OP_UPDATE:
    switch (t) {
    case CL_OP_DELETE:
    case CL_OP_UPDATE:
    case CL_OP_REWRITE:
    case CL_OP_DATA_REPLACEMENT:
      /* Without the read version's deletion vectors a common fragment means
       * redo; commit.c asks txn_rebase.c first, which merges Delete/Update
       * deletions of a common fragment as Lance does. */
      return fragments_rule(ours, theirs, why, why_size);
    case CL_OP_MERGE:
      WHY("columns were added");
      return CL_CONFLICT_RETRYABLE;
    default:
      return CL_CONFLICT_NONE;
    }
  case CL_OP_OVERWRITE: {
    if (!overwrite_wins) {
      WHY("the table changed after the Overwrite was prepared");
      return CL_CONFLICT_RETRYABLE;
    }
    if (t == CL_OP_OVERWRITE || t == CL_OP_UPDATE_CONFIG) {
      const char *k = key_clash(ours, theirs);
      if (k) {
        WHY("both set config key \"%s\"", k);
        return CL_CONFLICT_INCOMPATIBLE;
      }
    }
    return CL_CONFLICT_NONE;
  }
  case CL_OP_CREATE_INDEX:
    if (t == CL_OP_REWRITE) {
      WHY("fragments were rewritten");
      return CL_CONFLICT_RETRYABLE;
    }
    if (t == CL_OP_DATA_REPLACEMENT)
      return index_rule(theirs, ours, why, why_size);
    return CL_CONFLICT_NONE;
  case CL_OP_REWRITE:
    switch (t) {
    case CL_OP_DELETE:
    case CL_OP_UPDATE:
    case CL_OP_REWRITE:
    case CL_OP_DATA_REPLACEMENT:
      return fragments_rule(ours, theirs, why, why_size);
    case CL_OP_CREATE_INDEX:
    case CL_OP_MERGE:
      WHY("%s changed what the rewrite copies", t == CL_OP_MERGE ? "added columns" : "a new index");
      return CL_CONFLICT_RETRYABLE;
    default:
      return CL_CONFLICT_NONE;
    }
  case CL_OP_MERGE:
    switch (t) {
    case CL_OP_APPEND:
    case CL_OP_DELETE:
    case CL_OP_UPDATE:
    case CL_OP_REWRITE:
    case CL_OP_MERGE:
    case CL_OP_DATA_REPLACEMENT:
      /* A Merge lists every fragment; any change to the list means redo. */
      WHY("the fragments changed");
      return CL_CONFLICT_RETRYABLE;
    case CL_OP_PROJECT:
      WHY("columns were dropped or renamed");
      return CL_CONFLICT_INCOMPATIBLE;
    default:
      return CL_CONFLICT_NONE;
    }
  case CL_OP_PROJECT:
    if (t == CL_OP_MERGE || t == CL_OP_PROJECT) {
      WHY("the schema changed");
      return CL_CONFLICT_RETRYABLE;
    }
    return CL_CONFLICT_NONE;
  case CL_OP_RESTORE:
  case CL_OP_CLONE:
    return CL_CONFLICT_NONE;
  case CL_OP_UPDATE_CONFIG: {
    if (t == CL_OP_OVERWRITE) {
      const char *k = key_clash(ours, theirs);
      if (changes_schema_metadata(ours) || changes_field_metadata(ours, -1)) {
        WHY("the table was overwritten (new schema)");
        return CL_CONFLICT_INCOMPATIBLE;
      }
      if (k) {
        WHY("both set config key \"%s\"", k);
        return CL_CONFLICT_INCOMPATIBLE;
      }
      return CL_CONFLICT_NONE;
    }
    if (t == CL_OP_UPDATE_CONFIG) {
      const char *k = key_clash(ours, theirs);
      if (k) {
        WHY("both change config key \"%s\"", k);
        return CL_CONFLICT_INCOMPATIBLE;
      }
      if (changes_schema_metadata(ours) && changes_schema_metadata(theirs)) {
        WHY("both change the schema metadata");
        return CL_CONFLICT_INCOMPATIBLE;
      }
      const Lance__Table__Transaction__UpdateConfig *u = ours->update_config;
      for (size_t i = 0; i < u->n_field_metadata_updates; i++)
        if (changes_field_metadata(theirs, u->field_metadata_updates[i]->key)) {
          WHY("both change the metadata of field %d", (int)u->field_metadata_updates[i]->key);
          return CL_CONFLICT_INCOMPATIBLE;
        }
    }
    return CL_CONFLICT_NONE;
  }
  case CL_OP_DATA_REPLACEMENT:
    switch (t) {
    case CL_OP_CREATE_INDEX: return index_rule(ours, theirs, why, why_size);
    case CL_OP_REWRITE: return fragments_rule(ours, theirs, why, why_size);
    case CL_OP_DATA_REPLACEMENT: return replacement_rule(ours, theirs, why, why_size);
    default: return CL_CONFLICT_NONE;
    }
  case CL_OP_UPDATE_BASES:
    if (t == CL_OP_UPDATE_BASES) {
      WHY("both add base paths");
      return CL_CONFLICT_INCOMPATIBLE;
    }
    return CL_CONFLICT_NONE;
  default:
    WHY("clance cannot check a %s transaction", cl_op_name(o));
    return CL_CONFLICT_RETRYABLE;
  }
}
