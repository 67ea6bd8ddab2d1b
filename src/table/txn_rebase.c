/* Lance's rebase of Delete/Update over Delete/Update (txn_rebase.h). The
 * rules, as in conflict_resolver.rs (check_delete_txn, check_update_txn,
 * finish_delete_update), for ours and theirs each a Delete or an Update that
 * change a common fragment:
 *   - ours must name the rows it deletes ("affected rows"): an ours that only
 *     removes whole fragments, or an Update rewriting columns, cannot -> R;
 *   - theirs removed a fragment ours changes, or changed its data files (an
 *     Update rewriting columns) -> R;
 *   - theirs changed only the deletion file -> the fragment is rebased: the
 *     latest deletion vector must not hold a row ours deletes (else R), the
 *     union is written as a new .bin deletion file (Lance builds the merged
 *     vector as a Roaring bitmap, whatever its size) named after the latest
 *     version, with a random id and num_deleted_rows = the union's size; a
 *     union covering every physical row removes the fragment instead.
 * clance never writes to datasets with stable row ids (validate() refuses
 * them), so row addresses are fragment offsets here. */
#include "table/txn_rebase.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table/deletion.h"
#include "table/fragment.h"
#include "table/txn_apply.h"

struct cl_rebase_frag {
  uint64_t id;
  const pb_fragment *initial; /* as in the read version */
  int ours_removed;           /* ours removes the whole fragment */
  int needs_rewrite;          /* a concurrent commit changed its deletion file */
  uint64_t their_version;     /* the last such commit, for messages */
  cl_op_kind their_kind;
  int have_rows;              /* rows/physical computed (once: *txn changes) */
  uint32_t *rows;             /* rows ours deletes, sorted */
  size_t n_rows;
  uint64_t physical;
  Lance__Table__DeletionFile *written; /* the file the last finish wrote */
};

/* The fragment lists of a Delete or Update. */
typedef struct txn_lists {
  pb_fragment ***upd;
  size_t *n_upd;
  uint64_t **rm;
  size_t *n_rm;
} txn_lists;

static int lists_of(pb_txn *t, txn_lists *l) {
  if (cl_txn_kind(t) == CL_OP_DELETE) {
    *l = (txn_lists){&t->delete_->updated_fragments, &t->delete_->n_updated_fragments,
                     &t->delete_->deleted_fragment_ids, &t->delete_->n_deleted_fragment_ids};
    return 1;
  }
  if (cl_txn_kind(t) == CL_OP_UPDATE) {
    *l = (txn_lists){&t->update->updated_fragments, &t->update->n_updated_fragments,
                     &t->update->removed_fragment_ids, &t->update->n_removed_fragment_ids};
    return 1;
  }
  return 0;
}

static clance_status copy_msg(const ProtobufCMessage *src, ProtobufCMessage **out,
                              clance_error *err) {
  cl_buf b = CL_BUF_INIT;
  CL_TRY(cl_pb_pack(src, &b, err));
  *out = protobuf_c_message_unpack(src->descriptor, NULL, b.len, b.data ? b.data : (const uint8_t *)"");
  cl_buf_free(&b);
  return *out ? CLANCE_OK : cl_err_nomem(err, "protobuf copy");
}

static cl_rebase_frag *find_frag(const cl_txn_rebase *rb, uint64_t id) {
  for (size_t i = 0; i < rb->n_frags; i++)
    if (rb->frags[i].id == id)
      return &rb->frags[i];
  return NULL;
}

static int same_data_files(const pb_fragment *a, const pb_fragment *b) {
  if (a->n_files != b->n_files)
    return 0;
  for (size_t i = 0; i < a->n_files; i++) {
    const pb_data_file *x = a->files[i], *y = b->files[i];
    if (strcmp(cl_pb_str(x->path), cl_pb_str(y->path)) || x->n_fields != y->n_fields ||
        x->n_column_indices != y->n_column_indices ||
        memcmp(x->fields, y->fields, x->n_fields * sizeof *x->fields) ||
        memcmp(x->column_indices, y->column_indices, x->n_column_indices * sizeof *x->column_indices) ||
        x->file_major_version != y->file_major_version ||
        x->file_minor_version != y->file_minor_version || x->has_base_id != y->has_base_id ||
        x->base_id != y->base_id)
      return 0;
  }
  return 1;
}

static int same_deletion_file(const Lance__Table__DeletionFile *a,
                              const Lance__Table__DeletionFile *b) {
  if (!a || !b)
    return a == b;
  return a->file_type == b->file_type && a->read_version == b->read_version && a->id == b->id &&
         a->num_deleted_rows == b->num_deleted_rows && a->has_base_id == b->has_base_id &&
         a->base_id == b->base_id;
}

/* Inspect ours once: the fragments of the read version it changes, and
 * whether it names the rows it deletes. */
static clance_status start(cl_txn_rebase *rb, const pb_manifest *read, const pb_txn *ours,
                           clance_error *err) {
  rb->started = 1;
  cl_op_kind k = cl_txn_kind(ours);
  if ((k != CL_OP_DELETE && k != CL_OP_UPDATE) || !read)
    return CLANCE_OK;
  rb->read = read;
  rb->read_version = read->version;
  CL_TRY(copy_msg(&ours->base, (ProtobufCMessage **)&rb->original, err));
  txn_lists l = {0};
  lists_of(rb->original, &l);
  rb->frags = cl_calloc(*l.n_upd + *l.n_rm + 1, sizeof *rb->frags, err);
  if (!rb->frags)
    return err->code;
  /* Lance passes no affected rows for an ours without updated fragments
   * (whole fragments removed) nor for an Update rewriting columns. */
  if (*l.n_upd == 0)
    rb->no_rows = "only removes whole fragments";
  else if (k == CL_OP_UPDATE && ours->update->has_update_mode && ours->update->update_mode != 0)
    rb->no_rows = "rewrites columns";
  for (size_t i = 0; i < *l.n_upd + *l.n_rm; i++) {
    int removed = i >= *l.n_upd;
    uint64_t id = removed ? (*l.rm)[i - *l.n_upd] : (*l.upd)[i]->id;
    const pb_fragment *init = cl_manifest_fragment(read, id);
    if (!init || find_frag(rb, id))
      continue;
    /* Ours changed data files, not only deletions: its rows cannot be merged. */
    if (!removed && !same_data_files(init, (*l.upd)[i]))
      rb->no_rows = "changes data files";
    rb->frags[rb->n_frags++] = (cl_rebase_frag){.id = id, .initial = init, .ours_removed = removed};
  }
  return CLANCE_OK;
}

#define WHY(...) (why && why_size ? (void)snprintf(why, why_size, __VA_ARGS__) : (void)0)

clance_status cl_txn_rebase_check(cl_txn_rebase *rb, const pb_manifest *read, const pb_txn *ours,
                                  const pb_txn *theirs, uint64_t their_version, int overwrite_wins,
                                  cl_conflict *out, char *why, size_t why_size, clance_error *err) {
  if (!rb->started)
    CL_TRY(start(rb, read, ours, err));
  txn_lists t;
  cl_op_kind ok = cl_txn_kind(ours);
  if ((ok != CL_OP_DELETE && ok != CL_OP_UPDATE) || !rb->original ||
      !lists_of((pb_txn *)theirs, &t)) {
    *out = cl_txn_conflict(ours, theirs, overwrite_wins, why, why_size);
    return CLANCE_OK;
  }
  *out = CL_CONFLICT_NONE;
  if (why && why_size)
    why[0] = '\0';
  const cl_rebase_frag *common = NULL;
  for (size_t i = 0; i < *t.n_upd + *t.n_rm && !common; i++)
    common = find_frag(rb, i < *t.n_upd ? (*t.upd)[i]->id : (*t.rm)[i - *t.n_upd]);
  if (!common)
    return CLANCE_OK;
  if (rb->no_rows) {
    WHY("both change fragment %llu, and this %s %s, so its deletions cannot be merged",
        (unsigned long long)common->id, cl_op_name(ok), rb->no_rows);
    *out = CL_CONFLICT_RETRYABLE;
    return CLANCE_OK;
  }
  for (size_t i = 0; i < *t.n_upd; i++) {
    const pb_fragment *u = (*t.upd)[i];
    cl_rebase_frag *f = find_frag(rb, u->id);
    if (!f)
      continue;
    if (!same_data_files(f->initial, u)) {
      WHY("it changed the data files of fragment %llu, not only its deletions",
          (unsigned long long)u->id);
      *out = CL_CONFLICT_RETRYABLE;
      return CLANCE_OK;
    }
    if (!same_deletion_file(f->initial->deletion_file, u->deletion_file)) {
      f->needs_rewrite = 1;
      f->their_version = their_version;
      f->their_kind = cl_txn_kind(theirs);
    }
  }
  for (size_t i = 0; i < *t.n_rm; i++)
    if (find_frag(rb, (*t.rm)[i])) {
      WHY("it removed fragment %llu", (unsigned long long)(*t.rm)[i]);
      *out = CL_CONFLICT_RETRYABLE;
      return CLANCE_OK;
    }
  return CLANCE_OK;
}

/* ---- finish ---- */

/* rows = a \ b (both sorted). */
static clance_status rows_minus(const uint32_t *a, size_t na, const cl_deletions *b, uint32_t **out,
                                size_t *n, clance_error *err) {
  *n = 0;
  if (!(*out = cl_malloc((na ? na : 1) * sizeof **out, err)))
    return err->code;
  for (size_t i = 0; i < na; i++)
    if (!b || !cl_deletions_contains(b, a[i]))
      (*out)[(*n)++] = a[i];
  return CLANCE_OK;
}

/* The rows ours deletes from f: its deletion vector (all rows when it
 * removes the fragment) less the read version's. */
static clance_status affected_rows(const char *root, const cl_txn_rebase *rb, cl_rebase_frag *f,
                                   clance_error *err) {
  cl_deletions *init = NULL, *mine = NULL;
  uint32_t *all = NULL;
  clance_status st;
  /* Row counts: validate() checked ours' against the read version (the
   * table layer reads no data files). */
  f->physical = f->initial->physical_rows;
  const pb_fragment *o = NULL;
  txn_lists l = {0};
  lists_of(rb->original, &l);
  for (size_t i = 0; i < *l.n_upd && !o; i++)
    if ((*l.upd)[i]->id == f->id)
      o = (*l.upd)[i];
  if (o && o->physical_rows)
    f->physical = o->physical_rows;
  if (!f->physical) {
    st = cl_err(err, CLANCE_ECONFLICT_RETRYABLE, "commit conflict: fragment %llu changed since "
                "version %llu and its row count is unknown, so the deletions cannot be merged; "
                "redo it against the latest version", (unsigned long long)f->id,
                (unsigned long long)rb->read_version);
    goto fail;
  }
  if (f->initial->deletion_file)
    CL_CHECK(st, cl_deletions_load(root, f->initial, &init, err));
  if (f->ours_removed) {
    if (f->physical > UINT32_MAX) {
      st = cl_err(err, CLANCE_EUNSUPPORTED, "fragment %llu has more than 2^32 rows",
                  (unsigned long long)f->id);
      goto fail;
    }
    if (!(all = cl_malloc((f->physical ? f->physical : 1) * sizeof *all, err))) {
      st = err->code;
      goto fail;
    }
    for (uint64_t r = 0; r < f->physical; r++)
      all[r] = (uint32_t)r;
    CL_CHECK(st, rows_minus(all, f->physical, init, &f->rows, &f->n_rows, err));
  } else {
    if (o && o->deletion_file)
      CL_CHECK(st, cl_deletions_load(root, o, &mine, err));
    CL_CHECK(st, rows_minus(mine ? mine->rows : NULL, mine ? mine->n : 0, init, &f->rows,
                            &f->n_rows, err));
  }
  f->have_rows = 1;
fail:
  free(all);
  cl_deletions_free(init);
  cl_deletions_free(mine);
  return st;
}

static void remove_written(const char *root, cl_rebase_frag *f) {
  if (!f->written)
    return;
  pb_fragment probe = LANCE__TABLE__DATA_FRAGMENT__INIT;
  probe.id = f->id;
  probe.deletion_file = f->written;
  clance_error e;
  char *p = root ? cl_deletion_path(root, &probe, &e) : NULL;
  if (p)
    remove(p);
  free(p);
  protobuf_c_message_free_unpacked(&f->written->base, NULL);
  f->written = NULL;
}

/* In the rebased txn: fragment id is removed (every row deleted). */
static clance_status mark_removed(pb_txn *t, uint64_t id, clance_error *err) {
  txn_lists l = {0};
  lists_of(t, &l);
  size_t w = 0;
  for (size_t i = 0; i < *l.n_upd; i++) {
    if ((*l.upd)[i]->id == id)
      cl_fragment_free((*l.upd)[i]);
    else
      (*l.upd)[w++] = (*l.upd)[i];
  }
  *l.n_upd = w;
  for (size_t i = 0; i < *l.n_rm; i++)
    if ((*l.rm)[i] == id)
      return CLANCE_OK;
  uint64_t *v = realloc(*l.rm, (*l.n_rm + 1) * sizeof *v);
  if (!v)
    return cl_err_nomem(err, "removed fragment ids");
  *l.rm = v;
  v[(*l.n_rm)++] = id;
  return CLANCE_OK;
}

static clance_status set_deletion_file(pb_txn *t, uint64_t id, const Lance__Table__DeletionFile *df,
                                       clance_error *err) {
  txn_lists l = {0};
  lists_of(t, &l);
  for (size_t i = 0; i < *l.n_upd; i++) {
    pb_fragment *f = (*l.upd)[i];
    if (f->id != id)
      continue;
    Lance__Table__DeletionFile *c;
    CL_TRY(copy_msg(&df->base, (ProtobufCMessage **)&c, err));
    if (f->deletion_file)
      protobuf_c_message_free_unpacked(&f->deletion_file->base, NULL);
    f->deletion_file = c;
  }
  return CLANCE_OK;
}

/* Merge the deletions of one fragment into the rebased txn `t`. */
static clance_status rebase_frag(cl_txn_rebase *rb, const char *root, const pb_manifest *latest,
                                 cl_rebase_frag *f, pb_txn *t, clance_error *err) {
  const char *ours = cl_op_name(cl_txn_kind(rb->original));
  const pb_fragment *lf = cl_manifest_fragment(latest, f->id);
  if (!lf) /* the check refuses every commit that removes it: be safe */
    return cl_err(err, CLANCE_ECONFLICT_RETRYABLE, "commit conflict: this %s was prepared against "
                  "version %llu, but fragment %llu is not in version %llu any more; redo it "
                  "against the latest version", ours, (unsigned long long)rb->read_version,
                  (unsigned long long)f->id, (unsigned long long)latest->version);
  if (!f->have_rows)
    CL_TRY(affected_rows(root, rb, f, err));
  cl_deletions *now = NULL;
  uint32_t *merged = NULL;
  size_t n = 0;
  clance_status st = CLANCE_OK;
  if (lf->deletion_file)
    CL_CHECK(st, cl_deletions_load(root, lf, &now, err));
  for (size_t i = 0; now && i < f->n_rows; i++)
    if (cl_deletions_contains(now, f->rows[i])) {
      st = cl_err(err, CLANCE_ECONFLICT_RETRYABLE, "commit conflict: this %s was prepared against "
                  "version %llu, but version %llu (%s) was committed since and also deleted or "
                  "updated row %u of fragment %llu; redo it against the latest version", ours,
                  (unsigned long long)rb->read_version, (unsigned long long)f->their_version,
                  cl_op_name(f->their_kind), f->rows[i], (unsigned long long)f->id);
      goto fail;
    }
  CL_CHECK(st, cl_rows_union(now ? now->rows : NULL, now ? now->n : 0, f->rows, f->n_rows, &merged,
                             &n, err));
  remove_written(root, f); /* an earlier attempt's file: nothing refers to it */
  if (n >= f->physical) {
    st = mark_removed(t, f->id, err);
  } else {
    CL_CHECK(st, cl_deletions_write_as(root, f->id, latest->version, merged, n, 1, &f->written, err));
    st = set_deletion_file(t, f->id, f->written, err);
  }
fail:
  free(merged);
  cl_deletions_free(now);
  return st;
}

clance_status cl_txn_rebase_finish(cl_txn_rebase *rb, const char *root, const pb_manifest *latest,
                                   pb_txn **txn, int *changed, clance_error *err) {
  *changed = 0;
  int any = 0;
  for (size_t i = 0; i < rb->n_frags; i++)
    any |= rb->frags[i].needs_rewrite;
  if (!any || !latest)
    return CLANCE_OK;
  pb_txn *t;
  CL_TRY(copy_msg(&rb->original->base, (ProtobufCMessage **)&t, err));
  clance_status st = CLANCE_OK;
  for (size_t i = 0; !st && i < rb->n_frags; i++)
    if (rb->frags[i].needs_rewrite)
      st = rebase_frag(rb, root, latest, &rb->frags[i], t, err);
  if (st) {
    protobuf_c_message_free_unpacked(&t->base, NULL);
    return st;
  }
  /* As Lance: the rebased transaction reads the version it was rebased on. */
  t->read_version = latest->version;
  protobuf_c_message_free_unpacked(&(*txn)->base, NULL);
  *txn = t;
  *changed = 1;
  return CLANCE_OK;
}

void cl_txn_rebase_end(cl_txn_rebase *rb, const char *root, int committed) {
  for (size_t i = 0; i < rb->n_frags; i++) {
    cl_rebase_frag *f = &rb->frags[i];
    if (!committed)
      remove_written(root, f);
    if (f->written)
      protobuf_c_message_free_unpacked(&f->written->base, NULL);
    free(f->rows);
  }
  free(rb->frags);
  if (rb->original)
    protobuf_c_message_free_unpacked(&rb->original->base, NULL);
  memset(rb, 0, sizeof *rb);
}
