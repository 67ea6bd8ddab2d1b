/* Every cell of the conflict matrix (docs/conflicts.md) through the public
 * API: operation B is prepared against version 2 (its files written), then
 * operation A is prepared and committed on top of version 2, then B is
 * committed with read version 2. The test asserts B's status (rebased,
 * retryable, incompatible) and the rows of the latest version, which an
 * independent model computes: A's effect, then B's when B was rebased.
 *
 * The dataset: version 1 = fragments F0 (ids 0-4), F1 (5-9), F2 (10-14) with
 * columns id:int64, v:int64 = id * 10; version 2 appends F3 (ids 50, 51).
 * Operations on fragments: A always works on F0; B on F0 ("same fragment"
 * runs) or on F2 ("other fragment" runs, only where the outcome depends on
 * it). A and B change different rows and write different values, so a
 * rebase that loses or doubles either one shows in the rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arrow/array.h"
#include "dataset/dataset.h"
#include "table/fragment.h"
#include "test.h"

enum { APPEND, OVERWRITE, DELETE, UPDATE, MERGE, PROJECT, REWRITE, RESTORE, CONFIG, REPLACE, NOPS };
static const char *const op_names[NOPS] = {"Append",  "Overwrite", "Delete",  "Update",
                                           "Merge",   "Project",   "Rewrite", "Restore",
                                           "UpdateConfig", "DataReplacement"};

/* The expected outcome of committing B (row) after A (column):
 *   o  rebased (committed on top of A)
 *   R  retryable conflict       I  incompatible conflict
 *   f  R when both change the same fragment, else o
 *   b  o, run on the same fragment too: deletion vectors are merged
 *   k  I when both set the same config key, else o
 * Written from Lance's conflict_resolver.rs rules (spec 7.3) with clance's
 * documented difference: an Overwrite is R after anything unless
 * overwrite_wins (then Lance's rule, o here). Delete/Update after
 * Delete/Update of the same fragment is rebased as in Lance (A and B delete
 * different rows); the other rebase rules are in test_rebase below. */
static const char *const expected_table[NOPS] = {
    /*                 AODUMPWRCX  (Append Overwrite Delete Update Merge Project
                                    reWrite Restore Config replaCe-data) */
    /* Append    */ "oIoooooIoo",
    /* Overwrite */ "RRRRRRRRRR",
    /* Delete    */ "oIbbRofIof",
    /* Update    */ "oIbbRofIof",
    /* Merge     */ "RIRRRIRIoR",
    /* Project   */ "oIooRRoIoo",
    /* Rewrite   */ "oIffRofIof",
    /* Restore   */ "oooooooooo",
    /* Config    */ "ooooooooko",
    /* Replace   */ "oIoooofIof",
};

/* ---- the model ---- */

typedef struct mrow {
  int64_t id, v, w;
  int has_w; /* w is set (else null) */
  int frag;  /* fragment label: 0-3, or 100 for fragments written later */
} mrow;

typedef struct model {
  mrow r[64];
  int n;
  int has_v, has_w;
} model;

static void model_base(model *m, int with_append) {
  memset(m, 0, sizeof *m);
  for (int i = 0; i < 15; i++)
    m->r[m->n++] = (mrow){i, i * 10, 0, 0, i / 5};
  if (with_append)
    for (int i = 50; i < 52; i++)
      m->r[m->n++] = (mrow){i, i * 10, 0, 0, 3};
  m->has_v = 1;
}

static mrow *model_find(model *m, int64_t id) {
  for (int i = 0; i < m->n; i++)
    if (m->r[i].id == id)
      return &m->r[i];
  return NULL;
}

/* Role a = 0 for A, 1 for B; frag = the fragment label it works on. */
static int64_t deleted_id(int role, int frag) { return frag * 5 + (role ? 3 : 1); }
static int64_t updated_id(int role, int frag) { return frag * 5 + (role ? 4 : 2); }
static int64_t updated_v(int role) { return role ? 8 : 7; }
static const char *config_key(int role, int same) { return role && !same ? "k.b" : "k.a"; }

static void model_apply(model *m, int op, int role, int frag) {
  switch (op) {
  case APPEND:
    for (int64_t id = role ? 110 : 100; id < (role ? 112 : 102); id++)
      m->r[m->n++] = (mrow){id, id * 10, 0, 0, 100};
    break;
  case OVERWRITE:
    m->n = 0;
    for (int64_t id = role ? 600 : 500; id < (role ? 603 : 503); id++)
      m->r[m->n++] = (mrow){id, id * 10, 0, 0, 100};
    m->has_v = 1;
    m->has_w = 0;
    break;
  case DELETE: {
    mrow *r = model_find(m, deleted_id(role, frag));
    if (r)
      *r = m->r[--m->n];
    break;
  }
  case UPDATE: {
    mrow *r = model_find(m, updated_id(role, frag));
    if (r) {
      r->v = updated_v(role);
      r->frag = 100;
    }
    break;
  }
  case MERGE:
    for (int i = 0; i < m->n; i++)
      if (m->r[i].frag < 100) {
        m->r[i].w = m->r[i].id * (role ? 3 : 2);
        m->r[i].has_w = 1;
      }
    m->has_w = 1;
    break;
  case PROJECT:
    m->has_v = 0;
    break;
  case REWRITE:
    for (int i = 0; i < m->n; i++)
      if (m->r[i].frag == frag)
        m->r[i].frag = 100;
    break;
  case RESTORE:
    model_base(m, 0);
    break;
  case CONFIG:
    break;
  case REPLACE:
    for (int i = 0; i < m->n; i++)
      if (m->r[i].frag == frag)
        m->r[i].v = m->r[i].id * 10 + (role ? 2 : 1);
    break;
  }
}

static int cmp_line(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Rows as sorted lines "id=1 v=10 w=null", after a "cols:" line. */
static void render(char lines[][64], int n, const char *cols, char *out, size_t cap) {
  char *ptr[128];
  for (int i = 0; i < n; i++)
    ptr[i] = lines[i];
  qsort(ptr, (size_t)n, sizeof *ptr, cmp_line);
  size_t k = (size_t)snprintf(out, cap, "cols:%s;", cols);
  for (int i = 0; i < n && k < cap; i++)
    k += (size_t)snprintf(out + k, cap - k, "%s;", ptr[i]);
}

static void model_text(const model *m, char *out, size_t cap) {
  char lines[128][64];
  for (int i = 0; i < m->n; i++) {
    int k = snprintf(lines[i], 64, "id=%06lld", (long long)m->r[i].id);
    if (m->has_v)
      k += snprintf(lines[i] + k, (size_t)(64 - k), " v=%lld", (long long)m->r[i].v);
    if (m->has_w) {
      if (m->r[i].has_w)
        snprintf(lines[i] + k, (size_t)(64 - k), " w=%lld", (long long)m->r[i].w);
      else
        snprintf(lines[i] + k, (size_t)(64 - k), " w=null");
    }
  }
  char cols[32];
  snprintf(cols, sizeof cols, "id%s%s", m->has_v ? ",v" : "", m->has_w ? ",w" : "");
  render(lines, m->n, cols, out, cap);
}

/* ---- the dataset through the API ---- */

/* A stream of int64 columns (spec names them), n rows. */
static clance_status i64_stream(const char *spec, const int64_t *const *cols, size_t ncols,
                                int64_t n, struct ArrowArrayStream *out, clance_error *err) {
  cl_schema s;
  CL_TRY(cl_schema_parse_spec(spec, &s, err));
  cl_arr arr[4];
  struct ArrowArray kids[4], batch;
  clance_status st = CLANCE_OK;
  size_t inited = 0;
  for (; !st && inited < ncols; inited++)
    st = cl_arr_init(&arr[inited], &s.fields[inited], err);
  for (size_t c = 0; !st && c < ncols; c++) {
    st = cl_buf_append(&arr[c].values, cols[c], (size_t)n * 8, err);
    if (!st)
      st = cl_arr_append_valid(&arr[c], n, err);
  }
  for (size_t c = 0; !st && c < ncols; c++)
    st = cl_arr_export(&arr[c], &kids[c], err);
  if (!st)
    st = cl_struct_array_export(n, kids, ncols, &batch, err);
  if (!st)
    st = cl_stream_from_batches(&s, &batch, 1, out, err);
  for (size_t c = 0; c < inited; c++)
    cl_arr_free(&arr[c]);
  cl_schema_free(&s);
  return st;
}

/* Write rows (id, v) as new fragments; NULL on failure (message printed). */
static clance_fragments *write_rows(const char *uri, const int64_t *ids, const int64_t *vs,
                                    int64_t n, clance_write_mode mode, uint64_t rows_per_file) {
  clance_error err;
  struct ArrowArrayStream s;
  const int64_t *cols[2] = {ids, vs};
  if (i64_stream("id:int64,v:int64", cols, 2, n, &s, &err)) {
    fprintf(stderr, "stream: %s\n", err.message);
    return NULL;
  }
  clance_write_options o;
  clance_write_options_init(&o);
  o.mode = mode;
  o.max_rows_per_file = rows_per_file;
  clance_fragments *f = NULL;
  if (clance_write_fragments(uri, NULL, &s, &o, &f, &err)) {
    fprintf(stderr, "write_fragments: %s\n", err.message);
    return NULL;
  }
  return f;
}

static clance_fragments *write_range(const char *uri, int64_t from, int64_t n, int64_t vmul,
                                     int64_t vadd, clance_write_mode mode, uint64_t per_file) {
  int64_t ids[64], vs[64];
  for (int64_t i = 0; i < n; i++) {
    ids[i] = from + i;
    vs[i] = ids[i] * vmul + vadd;
  }
  return write_rows(uri, ids, vs, n, mode, per_file);
}

/* Ids of the live rows of one fragment, in scan order. */
static int fragment_ids(const clance_dataset *ds, uint64_t frag, int64_t *ids, int64_t *n) {
  clance_error err;
  clance_scan_options o;
  clance_scan_options_init(&o);
  const char *col = "id";
  o.columns = &col;
  o.num_columns = 1;
  o.fragment_ids = &frag;
  o.num_fragment_ids = 1;
  struct ArrowArrayStream s;
  if (clance_dataset_scan(ds, &o, &s, &err))
    return -1;
  *n = 0;
  for (;;) {
    struct ArrowArray b;
    if (s.get_next(&s, &b) != 0) {
      s.release(&s);
      return -1;
    }
    if (!b.release)
      break;
    const struct ArrowArray *a = b.children[0];
    for (int64_t i = 0; i < b.length; i++)
      ids[(*n)++] = ((const int64_t *)a->buffers[1])[a->offset + i];
    b.release(&b);
  }
  s.release(&s);
  return 0;
}

/* The latest version's rows, rendered like model_text. */
static int scan_text(const char *uri, char *out, size_t cap) {
  clance_error err;
  clance_dataset *ds;
  if (clance_dataset_open(uri, 0, &ds, &err)) {
    fprintf(stderr, "open: %s\n", err.message);
    return -1;
  }
  struct ArrowArrayStream s;
  if (clance_dataset_scan(ds, NULL, &s, &err)) {
    fprintf(stderr, "scan: %s\n", err.message);
    clance_dataset_close(ds);
    return -1;
  }
  clance_dataset_close(ds);
  struct ArrowSchema sc;
  if (s.get_schema(&s, &sc) != 0) {
    s.release(&s);
    return -1;
  }
  char cols[64] = "";
  size_t ck = 0;
  for (int64_t c = 0; c < sc.n_children; c++)
    ck += (size_t)snprintf(cols + ck, sizeof cols - ck, "%s%s", c ? "," : "", sc.children[c]->name);
  char lines[128][64];
  int n = 0, rc = 0;
  for (;;) {
    struct ArrowArray b;
    if (s.get_next(&s, &b) != 0) {
      fprintf(stderr, "scan: %s\n", s.get_last_error(&s));
      rc = -1;
      break;
    }
    if (!b.release)
      break;
    for (int64_t i = 0; i < b.length && n < 128; i++, n++) {
      int k = 0;
      for (int64_t c = 0; c < b.n_children; c++) {
        const struct ArrowArray *a = b.children[c];
        const char *name = sc.children[c]->name;
        if (cl_array_valid(a, i))
          k += snprintf(lines[n] + k, (size_t)(64 - k), c ? " %s=%lld" : "%s=%06lld", name,
                        (long long)((const int64_t *)a->buffers[1])[a->offset + i]);
        else
          k += snprintf(lines[n] + k, (size_t)(64 - k), " %s=null", name);
      }
    }
    b.release(&b);
  }
  sc.release(&sc);
  s.release(&s);
  if (!rc)
    render(lines, n, cols, out, cap);
  return rc;
}

static uint64_t frag_id[4]; /* fragment ids of F0..F3 */

/* Version 1 (F0-F2) and version 2 (+F3). */
static int make_base(const char *uri) {
  clance_error err;
  struct ArrowSchema schema;
  if (clance_schema_parse("id:int64,v:int64", &schema, &err))
    return -1;
  clance_fragments *f = write_range(uri, 0, 15, 10, 0, CLANCE_WRITE_CREATE, 5);
  clance_operation *op = NULL;
  uint64_t v = 0;
  int rc = -1;
  if (f && !clance_operation_overwrite(&schema, f, &op, &err) &&
      !clance_commit(uri, op, 0, NULL, &v, &err) && v == 1)
    rc = 0;
  else
    fprintf(stderr, "base v1: %s\n", err.message);
  clance_operation_free(op);
  clance_fragments_free(f);
  schema.release(&schema);
  op = NULL;
  f = rc ? NULL : write_range(uri, 50, 2, 10, 0, CLANCE_WRITE_APPEND, 0);
  if (!f || clance_operation_append(f, &op, &err) || clance_commit(uri, op, 1, NULL, &v, &err) ||
      v != 2)
    rc = -1;
  clance_operation_free(op);
  clance_fragments_free(f);
  clance_dataset *ds;
  if (rc || clance_dataset_open(uri, 2, &ds, &err))
    return -1;
  clance_fragments *all;
  if (clance_dataset_fragments(ds, &all, &err) || clance_fragments_count(all) != 4)
    rc = -1;
  else
    clance_fragments_ids(all, frag_id);
  clance_fragments_free(all);
  clance_dataset_close(ds);
  return rc;
}

/* Prepare `op` against version 2 of the dataset, as role A (0) or B (1),
 * on fragment label `frag`. Returns NULL on failure (message printed). */
static clance_operation *prepare(const char *uri, int op, int role, int frag, int same) {
  clance_error err;
  clance_dataset *ds;
  if (clance_dataset_open(uri, 2, &ds, &err)) {
    fprintf(stderr, "open v2: %s\n", err.message);
    return NULL;
  }
  uint64_t fid = frag_id[frag];
  clance_operation *out = NULL;
  clance_fragments *f = NULL, *g = NULL;
  clance_status st = CLANCE_OK;
  err.message[0] = '\0';
  switch (op) {
  case APPEND:
    if ((f = write_range(uri, role ? 110 : 100, 2, 10, 0, CLANCE_WRITE_APPEND, 0)))
      st = clance_operation_append(f, &out, &err);
    break;
  case OVERWRITE: {
    struct ArrowSchema schema;
    if (clance_schema_parse("id:int64,v:int64", &schema, &err))
      break;
    if ((f = write_range(uri, role ? 600 : 500, 3, 10, 0, CLANCE_WRITE_CREATE, 0)))
      st = clance_operation_overwrite(&schema, f, &out, &err);
    schema.release(&schema);
    break;
  }
  case DELETE:
  case UPDATE: {
    char pred[64];
    int64_t id = op == DELETE ? deleted_id(role, frag) : updated_id(role, frag);
    snprintf(pred, sizeof pred, "id = %lld", (long long)id);
    uint64_t n = 0;
    if ((st = clance_fragments_new(&f, &err)) ||
        (st = clance_fragment_delete_rows(ds, fid, pred, NULL, 0, f, &n, &err)))
      break;
    if (n != 1) {
      fprintf(stderr, "%s deleted %llu rows\n", pred, (unsigned long long)n);
      break;
    }
    if (op == DELETE) {
      st = clance_operation_delete(f, NULL, 0, pred, &out, &err);
    } else {
      int64_t v = updated_v(role);
      uint32_t field_v = 1;
      if ((g = write_rows(uri, &id, &v, 1, CLANCE_WRITE_APPEND, 0)))
        st = clance_operation_update(f, NULL, 0, g, &field_v, 1, 0, &out, &err);
    }
    break;
  }
  case MERGE: {
    if ((st = clance_fragments_new(&f, &err)))
      break;
    for (int k = 0; k < 4 && !st; k++) {
      int64_t ids[16], n, w[16];
      if (fragment_ids(ds, frag_id[k], ids, &n)) {
        st = CLANCE_EIO;
        break;
      }
      for (int64_t i = 0; i < n; i++)
        w[i] = ids[i] * (role ? 3 : 2);
      const int64_t *cols[1] = {w};
      struct ArrowArrayStream s;
      if (!(st = i64_stream("w:int64", cols, 1, n, &s, &err)))
        st = clance_fragment_add_columns(ds, frag_id[k], &s, NULL, f, &err);
    }
    struct ArrowSchema ws;
    if (!st && !(st = clance_schema_parse("w:int64", &ws, &err))) {
      st = clance_operation_merge(&ws, f, &out, &err);
      ws.release(&ws);
    }
    break;
  }
  case PROJECT: {
    clance_column_alteration c = {"v", NULL, -1, 1};
    st = clance_operation_alter_columns(&c, 1, &out, &err);
    break;
  }
  case REWRITE:
  case REPLACE: {
    int64_t ids[16], n, vs[16];
    if (fragment_ids(ds, fid, ids, &n))
      break;
    for (int64_t i = 0; i < n; i++)
      vs[i] = ids[i] * 10 + (op == REPLACE ? (role ? 2 : 1) : 0);
    if (!(f = write_rows(uri, ids, vs, n, CLANCE_WRITE_APPEND, 0)))
      break;
    if (op == REWRITE) {
      clance_rewrite_group grp = {&fid, 1, f};
      st = clance_operation_rewrite(&grp, 1, &out, &err);
    } else {
      /* The fragment whose file is replaced (as its id in the JSON would say). */
      f->v[0]->id = fid;
      f->v[0]->has_id = fid != 0;
      st = clance_operation_data_replacement(f, &out, &err);
    }
    break;
  }
  case RESTORE:
    st = clance_operation_restore(1, &out, &err);
    break;
  case CONFIG: {
    const char *key = config_key(role, same), *val = role ? "2" : "1";
    st = clance_operation_update_config(CLANCE_CONFIG_TABLE, &key, &val, 1, &out, &err);
    break;
  }
  }
  if (st || !out)
    fprintf(stderr, "prepare %s: %s\n", op_names[op], err.message);
  clance_fragments_free(f);
  clance_fragments_free(g);
  clance_dataset_close(ds);
  return st ? NULL : out;
}

static int cases_run;

/* One cell: B (ours) after A (theirs). */
static void run_case(int a, int b, int same, int overwrite_wins) {
  char label[128];
  snprintf(label, sizeof label, "%s after %s (%s fragment%s)", op_names[b], op_names[a],
           same ? "same" : "other", overwrite_wins ? ", overwrite_wins" : "");
  char exp = expected_table[b][a];
  if (b == OVERWRITE && overwrite_wins)
    exp = 'o';
  if (exp == 'f')
    exp = same ? 'R' : 'o';
  if (exp == 'b')
    exp = 'o';
  if (exp == 'k')
    exp = same ? 'I' : 'o';
  char *dir = cl_test_tmpdir("conflicts");
  if (!dir || make_base(dir)) {
    fprintf(stderr, "%s: cannot make the base dataset\n", label);
    cl_test_failures++;
    cl_test_rmtree(dir);
    return;
  }
  int bfrag = same ? 0 : 2;
  clance_operation *opb = prepare(dir, b, 1, bfrag, same);
  clance_operation *opa = prepare(dir, a, 0, 0, same);
  clance_error err;
  uint64_t va = 0, vb = 0;
  if (!opa || !opb || clance_commit(dir, opa, 2, NULL, &va, &err) || va != 3) {
    fprintf(stderr, "%s: preparing or committing A failed\n", label);
    cl_test_failures++;
    goto done;
  }
  clance_commit_options co;
  clance_commit_options_init(&co);
  co.overwrite_wins = overwrite_wins;
  clance_status st = clance_commit(dir, opb, 2, &co, &vb, &err);
  clance_status want = exp == 'o' ? CLANCE_OK
                       : exp == 'R' ? CLANCE_ECONFLICT_RETRYABLE
                                    : CLANCE_ECONFLICT_INCOMPATIBLE;
  if (st != want) {
    fprintf(stderr, "%s: got %s (%s), expected %s\n", label, clance_status_name(st),
            st ? err.message : "", clance_status_name(want));
    cl_test_failures++;
    goto done;
  }
  if (st == CLANCE_OK && vb != 4) {
    fprintf(stderr, "%s: committed as version %llu, expected 4\n", label, (unsigned long long)vb);
    cl_test_failures++;
  }
  if (st != CLANCE_OK && !strstr(err.message, op_names[a])) {
    fprintf(stderr, "%s: the message does not name %s: %s\n", label, op_names[a], err.message);
    cl_test_failures++;
  }
  model m;
  model_base(&m, 1);
  model_apply(&m, a, 0, 0);
  if (st == CLANCE_OK)
    model_apply(&m, b, 1, bfrag);
  char want_rows[4096], got_rows[4096];
  model_text(&m, want_rows, sizeof want_rows);
  if (scan_text(dir, got_rows, sizeof got_rows) || strcmp(want_rows, got_rows) != 0) {
    fprintf(stderr, "%s: rows differ\n  expected %s\n  got      %s\n", label, want_rows, got_rows);
    cl_test_failures++;
  }
  /* A failed commit leaves no new version behind. */
  clance_dataset *ds;
  if (!clance_dataset_open(dir, 0, &ds, &err)) {
    CHECK_EQ_U64(clance_dataset_version(ds), st == CLANCE_OK ? 4 : 3);
    clance_dataset_close(ds);
  }
  cases_run++;
done:
  clance_operation_free(opa);
  clance_operation_free(opb);
  cl_test_rmtree(dir);
}

static void test_matrix(void) {
  for (int b = 0; b < NOPS; b++)
    for (int a = 0; a < NOPS; a++) {
      run_case(a, b, 1, 0);
      char e = expected_table[b][a];
      if (e == 'f' || e == 'k' || e == 'b')
        run_case(a, b, 0, 0);
    }
  /* Lance's rule for Overwrite, on request. */
  for (int a = 0; a < NOPS; a++)
    run_case(a, OVERWRITE, 1, 1);
  fprintf(stderr, "%d cases\n", cases_run);
}

/* ---- the rebase rules for Delete/Update over Delete/Update ---- */

/* A Delete (or, with vnew >= 0, an Update setting v = vnew, in REWRITE_ROWS
 * mode or REWRITE_COLUMNS with rewrite_columns) of the rows at `offsets` of
 * F<frag>, prepared against `version`. */
static clance_operation *offsets_op(const char *uri, uint64_t version, int frag,
                                    const uint64_t *offsets, size_t n, int64_t vnew,
                                    int rewrite_columns) {
  clance_error err;
  clance_dataset *ds;
  if (clance_dataset_open(uri, version, &ds, &err))
    return NULL;
  clance_fragments *f = NULL, *g = NULL;
  clance_operation *out = NULL;
  uint64_t got = 0;
  clance_status st = clance_fragments_new(&f, &err);
  if (!st)
    st = clance_fragment_delete_rows(ds, frag_id[frag], NULL, offsets, n, f, &got, &err);
  if (!st && vnew < 0) {
    st = clance_operation_delete(f, NULL, 0, "offsets", &out, &err);
  } else if (!st) {
    int64_t ids[8], vs[8];
    for (size_t i = 0; i < n; i++) {
      ids[i] = frag * 5 + (int64_t)offsets[i];
      vs[i] = vnew;
    }
    uint32_t field_v = 1;
    /* A fragment left without rows is removed, as clance update does. */
    uint64_t removed = frag_id[frag];
    int all = f->n && f->v[0]->deletion_file->num_deleted_rows >= f->v[0]->physical_rows;
    if ((g = write_rows(uri, ids, vs, (int64_t)n, CLANCE_WRITE_APPEND, 0)))
      st = clance_operation_update(all ? NULL : f, all ? &removed : NULL, all, g, &field_v, 1,
                                   rewrite_columns, &out, &err);
  }
  if (st)
    fprintf(stderr, "offsets_op: %s\n", err.message);
  clance_fragments_free(f);
  clance_fragments_free(g);
  clance_dataset_close(ds);
  return st ? NULL : out;
}

static clance_status commit_op(const char *uri, clance_operation *op, uint64_t read_version,
                               uint64_t *v, clance_error *err) {
  if (!op)
    return cl_err(err, CLANCE_EINVAL, "no operation (preparing it failed)");
  clance_status st = clance_commit(uri, op, read_version, NULL, v, err);
  clance_operation_free(op);
  return st;
}

static void model_delete(model *m, int64_t id) {
  mrow *r = model_find(m, id);
  if (r)
    *r = m->r[--m->n];
}

static void model_update(model *m, int64_t id, int64_t v) {
  mrow *r = model_find(m, id);
  if (r) {
    r->v = v;
    r->frag = 100;
  }
}

static void check_rows(const char *label, const char *uri, const model *m) {
  char want[4096], got[4096];
  model_text(m, want, sizeof want);
  if (scan_text(uri, got, sizeof got) || strcmp(want, got) != 0) {
    fprintf(stderr, "%s: rows differ\n  expected %s\n  got      %s\n", label, want, got);
    cl_test_failures++;
  }
}

/* The latest version's F<frag>, or NULL; *ds must be closed. */
static const pb_fragment *latest_frag(const char *uri, int frag, clance_dataset **ds) {
  clance_error err;
  if (clance_dataset_open(uri, 0, ds, &err))
    return NULL;
  const pb_manifest *m = (*ds)->manifest.pb;
  for (size_t i = 0; i < m->n_fragments; i++)
    if (m->fragments[i]->id == frag_id[frag])
      return m->fragments[i];
  return NULL;
}

/* Names in dir/_deletions, sorted and joined. */
static void list_deletions(const char *uri, char *out, size_t cap) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "ls '%s/_deletions' 2>/dev/null | sort | tr '\\n' ' '", uri);
  out[0] = '\0';
  FILE *p = popen(cmd, "r");
  if (!p)
    return;
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = '\0';
  pclose(p);
}

static void test_rebase(void) {
  static const uint64_t o0[] = {0}, o1[] = {1}, o2[] = {2}, o3[] = {3}, o012[] = {0, 1, 2},
                        o34[] = {3, 4}, oall[] = {0, 1, 2, 3, 4};
  clance_error err;
  uint64_t v;
  model m;
  char *dir;

  /* Two concurrent commits (a Delete, then an Update) under a Delete: the
   * three deletion vectors are merged into one .bin file named after the
   * latest version. */
  dir = cl_test_tmpdir("rebase");
  REQUIRE(dir && !make_base(dir));
  clance_operation *b = offsets_op(dir, 2, 0, o3, 1, -1, 0);
  CHECK_EQ_U64(commit_op(dir, offsets_op(dir, 2, 0, o1, 1, -1, 0), 2, &v, &err), CLANCE_OK);
  CHECK_EQ_U64(commit_op(dir, offsets_op(dir, 3, 0, o2, 1, 7, 0), 3, &v, &err), CLANCE_OK);
  CHECK_EQ_U64(commit_op(dir, b, 2, &v, &err), CLANCE_OK);
  CHECK_EQ_U64(v, 5);
  model_base(&m, 1);
  model_delete(&m, 1);
  model_update(&m, 2, 7);
  model_delete(&m, 3);
  check_rows("Delete after Delete and Update", dir, &m);
  clance_dataset *ds = NULL;
  const pb_fragment *f = latest_frag(dir, 0, &ds);
  CHECK(f && f->deletion_file);
  if (f && f->deletion_file) {
    CHECK_EQ_U64(f->deletion_file->file_type,
                 LANCE__TABLE__DELETION_FILE__DELETION_FILE_TYPE__BITMAP);
    CHECK_EQ_U64(f->deletion_file->read_version, 4);
    CHECK_EQ_U64(f->deletion_file->num_deleted_rows, 3);
  }
  clance_dataset_close(ds);
  cl_test_rmtree(dir);

  /* The union deletes every row of F0: the fragment is removed. */
  dir = cl_test_tmpdir("rebase");
  REQUIRE(dir && !make_base(dir));
  b = offsets_op(dir, 2, 0, o34, 2, 8, 0);
  CHECK_EQ_U64(commit_op(dir, offsets_op(dir, 2, 0, o012, 3, -1, 0), 2, &v, &err), CLANCE_OK);
  CHECK_EQ_U64(commit_op(dir, b, 2, &v, &err), CLANCE_OK);
  model_base(&m, 1);
  for (int64_t id = 0; id < 3; id++)
    model_delete(&m, id);
  model_update(&m, 3, 8);
  model_update(&m, 4, 8);
  check_rows("Update emptying F0 after Delete", dir, &m);
  ds = NULL;
  CHECK(latest_frag(dir, 0, &ds) == NULL);
  clance_dataset_close(ds);
  cl_test_rmtree(dir);

  /* Still retryable: theirs removed the fragment (Delete, Update), both
   * deleted the same row, ours removes whole fragments only, ours rewrites
   * columns. The failed commit leaves no file of its own behind. */
  struct {
    const char *label;
    const uint64_t *a;
    size_t na;
    int64_t av;
    const uint64_t *b;
    size_t nb;
    int64_t bv;
    int b_columns;
    const char *needle;
  } retry[] = {
      {"Delete after a Delete removing F0", oall, 5, -1, o3, 1, -1, 0, "removed fragment"},
      {"Update after an Update removing F0", oall, 5, 7, o3, 1, 8, 0, "removed fragment"},
      {"Delete of the row a Delete deleted", o3, 1, -1, o3, 1, -1, 0, "row 3 of fragment"},
      {"Update of the row an Update updated", o3, 1, 7, o3, 1, 8, 0, "row 3 of fragment"},
      {"Delete removing F0 after a Delete", o1, 1, -1, oall, 5, -1, 0, "whole fragments"},
      {"Update rewriting columns after a Delete", o1, 1, -1, o0, 1, 8, 1, "rewrites columns"},
  };
  for (size_t i = 0; i < sizeof retry / sizeof *retry; i++) {
    dir = cl_test_tmpdir("rebase");
    REQUIRE(dir && !make_base(dir));
    b = offsets_op(dir, 2, 0, retry[i].b, retry[i].nb, retry[i].bv, retry[i].b_columns);
    CHECK_EQ_U64(commit_op(dir, offsets_op(dir, 2, 0, retry[i].a, retry[i].na, retry[i].av, 0), 2,
                           &v, &err), CLANCE_OK);
    char before[4096], after[4096];
    list_deletions(dir, before, sizeof before);
    clance_status st = commit_op(dir, b, 2, &v, &err);
    if (st != CLANCE_ECONFLICT_RETRYABLE || !strstr(err.message, retry[i].needle) ||
        !strstr(err.message, "version 3")) {
      fprintf(stderr, "%s: got %s: %s\n", retry[i].label, clance_status_name(st),
              st ? err.message : "");
      cl_test_failures++;
    }
    list_deletions(dir, after, sizeof after);
    CHECK_STR(after, before);
    cl_test_rmtree(dir);
  }

  /* A rebase whose commit then fails removes the deletion file it wrote
   * (_transactions is made a file, so the rebased transaction cannot be
   * written). */
  dir = cl_test_tmpdir("rebase");
  REQUIRE(dir && !make_base(dir));
  b = offsets_op(dir, 2, 0, o3, 1, -1, 0);
  CHECK_EQ_U64(commit_op(dir, offsets_op(dir, 2, 0, o1, 1, -1, 0), 2, &v, &err), CLANCE_OK);
  char before[4096], after[4096], cmd[4200];
  list_deletions(dir, before, sizeof before);
  snprintf(cmd, sizeof cmd, "cd '%s' && mv _transactions _t && touch _transactions", dir);
  CHECK_EQ_U64(system(cmd), 0);
  CHECK(commit_op(dir, b, 2, &v, &err) != CLANCE_OK);
  list_deletions(dir, after, sizeof after);
  CHECK_STR(after, before);
  cl_test_rmtree(dir);
}

int main(void) {
  /* Commits fsync; a tmpfs keeps the ~130 cases fast. */
  if (!getenv("TMPDIR") && access("/dev/shm", W_OK) == 0)
    setenv("TMPDIR", "/dev/shm", 1);
  RUN(test_matrix);
  RUN(test_rebase);
  TEST_MAIN_END();
}
