/* clance add-columns: add columns to a dataset from a CSV/JSONL file, in one
 * process or as a worker of a distributed add-columns (Merge). Rows of the
 * input match the dataset's rows by position (the n-th live row in scan
 * order), or by the value of a key column present in both. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dataset/dataset.h"
#include "textio.h"

static const cli_option opts[] = {
    {"--schema", "SPEC", "the new columns, e.g. 'score:float64,tag:string' (required)"},
    {"--input", "FILE", "their values, one row per dataset row, '-' = stdin (required)"},
    {"--format", "csv|jsonl", "input format (default: from the extension, else jsonl)"},
    {"--key", "COLUMN", "match input rows to dataset rows by this column (in both) instead of by position"},
    {"--read-version", "N", "the version to add to (default: the latest)"},
    {"--fragments", "IDS", "worker: only these fragments (comma-separated ids)"},
    {"--no-commit", NULL, "worker: print the changed fragments as JSON instead of committing"},
    {"--output", "FILE", "with --no-commit: write the JSON to FILE (atomically)"},
    {NULL, NULL, NULL}};

/* The whole input, one array per column. */
typedef struct input {
  cl_schema schema;
  cl_arr *cols;
  struct ArrowArray *arrays;
  int64_t rows;
} input;

static void input_free(input *in) {
  for (size_t c = 0; in->arrays && c < in->schema.n_fields; c++)
    if (in->arrays[c].release)
      in->arrays[c].release(&in->arrays[c]);
  for (size_t c = 0; in->cols && c < in->schema.n_fields; c++)
    cl_arr_free(&in->cols[c]);
  free(in->arrays);
  free(in->cols);
  cl_schema_free(&in->schema);
}

static clance_status input_read(const char *path, int format, input *in, clance_error *err) {
  struct ArrowArrayStream s;
  size_t n = in->schema.n_fields;
  in->cols = cl_calloc(n, sizeof *in->cols, err);
  in->arrays = cl_calloc(n, sizeof *in->arrays, err);
  if (!in->cols || !in->arrays)
    return err->code;
  for (size_t c = 0; c < n; c++)
    CL_TRY(cl_arr_init(&in->cols[c], &in->schema.fields[c], err));
  CL_TRY(cl_text_reader_open(path, format, &in->schema, 0, &s, err));
  clance_status st = CLANCE_OK;
  for (;;) {
    struct ArrowArray b;
    if (s.get_next(&s, &b)) {
      st = cl_text_reader_error(&s, err);
      break;
    }
    if (!b.release)
      break;
    for (size_t c = 0; !st && c < n; c++)
      st = cl_arr_append_from(&in->cols[c], b.children[c], 0, b.length, err);
    in->rows += b.length;
    b.release(&b);
    if (st)
      break;
  }
  s.release(&s);
  for (size_t c = 0; !st && c < n; c++)
    st = cl_arr_export(&in->cols[c], &in->arrays[c], err);
  return st;
}

/* ---- keys: 64-bit integers or byte strings ---- */

typedef struct key_index {
  const struct ArrowArray *a;
  const cl_field *f;
  int64_t *slots; /* input row, or -1 */
  size_t cap;
} key_index;

static int key_bytes(const cl_field *f, const struct ArrowArray *a, int64_t i, const uint8_t **p,
                     size_t *n, int64_t *ival) {
  int64_t j = i + a->offset;
  switch (f->type) {
  case CL_TYPE_UTF8:
  case CL_TYPE_BINARY: {
    const int32_t *o = a->buffers[1];
    *p = (const uint8_t *)a->buffers[2] + o[j];
    *n = (size_t)(o[j + 1] - o[j]);
    return 1;
  }
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_LARGE_BINARY: {
    const int64_t *o = a->buffers[1];
    *p = (const uint8_t *)a->buffers[2] + o[j];
    *n = (size_t)(o[j + 1] - o[j]);
    return 1;
  }
  default: {
    uint32_t w = cl_type_bits(f) / 8;
    int64_t v = 0;
    memcpy(&v, (const uint8_t *)a->buffers[1] + (size_t)j * w, w);
    if (w < 8 && f->type != CL_TYPE_UINT8 && f->type != CL_TYPE_UINT16 && f->type != CL_TYPE_UINT32)
      v = (v << (64 - 8 * w)) >> (64 - 8 * w); /* sign-extend */
    *ival = v;
    *p = (const uint8_t *)ival;
    *n = sizeof *ival;
    return 1;
  }
  }
}

static uint64_t hash_of(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull ^ n;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h ^ (h >> 31);
}

static int key_ok(const cl_field *f) {
  return cl_type_is_integer(f->type) || f->type == CL_TYPE_UTF8 || f->type == CL_TYPE_LARGE_UTF8 ||
         f->type == CL_TYPE_BINARY || f->type == CL_TYPE_LARGE_BINARY;
}

/* Find `probe` (row i of array b, same type) in the index: input row or -1. */
static int64_t key_find(const key_index *k, const struct ArrowArray *b, int64_t i, int insert_row) {
  const uint8_t *p, *q;
  size_t n, m;
  int64_t iv, jv;
  key_bytes(k->f, b, i, &p, &n, &iv);
  size_t h = (size_t)hash_of(p, n) & (k->cap - 1);
  for (;;) {
    int64_t r = k->slots[h];
    if (r < 0) {
      if (insert_row >= 0)
        k->slots[h] = insert_row;
      return -1;
    }
    key_bytes(k->f, k->a, r, &q, &m, &jv);
    if (m == n && !memcmp(p, q, n))
      return r;
    h = (h + 1) & (k->cap - 1);
  }
}

static clance_status key_build(key_index *k, const cl_field *f, const struct ArrowArray *a,
                               clance_error *err) {
  k->a = a;
  k->f = f;
  k->cap = 16;
  while (k->cap < (size_t)a->length * 2)
    k->cap *= 2;
  if (!(k->slots = cl_malloc(k->cap * sizeof *k->slots, err)))
    return err->code;
  memset(k->slots, 0xff, k->cap * sizeof *k->slots);
  for (int64_t i = 0; i < a->length; i++) {
    if (!cl_array_valid(a, i))
      return cl_err(err, CLANCE_EINVAL, "input row %lld has a null key", (long long)i + 1);
    if (key_find(k, a, i, i) >= 0)
      return cl_err(err, CLANCE_EINVAL, "input rows have the same key twice (row %lld)",
                    (long long)i + 1);
  }
  return CLANCE_OK;
}

/* ---- per fragment ---- */

/* A one-batch stream of the new columns for the given input rows (-1 = null). */
static clance_status values_stream(const input *in, size_t first_col, const int64_t *rows, int64_t n,
                                   struct ArrowArrayStream *out, clance_error *err) {
  size_t nc = in->schema.n_fields - first_col;
  cl_schema s = {0};
  struct ArrowArray *kids = cl_calloc(nc, sizeof *kids, err);
  cl_arr *b = cl_calloc(nc, sizeof *b, err);
  if (!kids || !b) {
    free(kids);
    free(b);
    return err->code;
  }
  clance_status st = CLANCE_OK;
  s.fields = in->schema.fields + first_col; /* borrowed view */
  s.n_fields = nc;
  for (size_t c = 0; !st && c < nc; c++) {
    st = cl_arr_init(&b[c], &s.fields[c], err);
    for (int64_t i = 0; !st && i < n;) {
      if (rows[i] < 0) {
        st = s.fields[c].nullable ? cl_arr_append_nulls(&b[c], 1, err)
                                  : cl_err(err, CLANCE_EINVAL, "a dataset row has no input row "
                                           "but column \"%s\" is NOT NULL", s.fields[c].name);
        i++;
        continue;
      }
      int64_t j = i + 1; /* copy runs of consecutive input rows at once */
      while (j < n && rows[j] == rows[j - 1] + 1)
        j++;
      st = cl_arr_append_from(&b[c], &in->arrays[first_col + c], rows[i], j - i, err);
      i = j;
    }
    if (!st)
      st = cl_arr_export(&b[c], &kids[c], err);
  }
  struct ArrowArray batch;
  memset(&batch, 0, sizeof batch);
  if (!st)
    st = cl_struct_array_export(n, kids, nc, &batch, err);
  if (!st)
    st = cl_stream_from_batches(&s, &batch, 1, out, err);
  else
    for (size_t c = 0; c < nc; c++)
      if (kids[c].release)
        kids[c].release(&kids[c]);
  for (size_t c = 0; c < nc; c++)
    cl_arr_free(&b[c]);
  free(b);
  free(kids);
  return st;
}

/* Input row of each live row of the fragment, by key. */
static clance_status rows_by_key(const clance_dataset *ds, uint64_t frag, const char *key,
                                 const key_index *k, int64_t **rows, int64_t *n,
                                 clance_error *err) {
  clance_scan_options o;
  clance_scan_options_init(&o);
  const char *cols[1] = {key};
  o.columns = cols;
  o.num_columns = 1;
  o.fragment_ids = &frag;
  o.num_fragment_ids = 1;
  struct ArrowArrayStream s;
  CL_TRY(clance_dataset_scan(ds, &o, &s, err));
  clance_status st = CLANCE_OK;
  size_t cap = 0;
  *rows = NULL;
  *n = 0;
  for (;;) {
    struct ArrowArray b;
    int rc = s.get_next(&s, &b);
    if (rc) {
      st = cl_stream_error(&s, rc, "reading the key column", err);
      break;
    }
    if (!b.release)
      break;
    const struct ArrowArray *kc = b.children[0];
    for (int64_t i = 0; !st && i < b.length; i++) {
      if ((size_t)*n == cap) {
        cap = cap ? cap * 2 : 4096;
        int64_t *p = realloc(*rows, cap * sizeof *p);
        if (!p) {
          st = cl_err(err, CLANCE_ENOMEM, "out of memory");
          break;
        }
        *rows = p;
      }
      (*rows)[(*n)++] = cl_array_valid(kc, i) ? key_find(k, kc, i, -1) : -1;
    }
    b.release(&b);
    if (st)
      break;
  }
  s.release(&s);
  return st;
}

static int run(const cli_command *cmd, const cli_args *a) {
  const char *uri = a->pos[0], *spec = cli_get(cmd, a, "--schema"),
             *path = cli_get(cmd, a, "--input"), *key = cli_get(cmd, a, "--key");
  if (!spec || !path)
    return cli_usage_error(cmd, "--schema and --input are required");
  const char *fmt = cli_get(cmd, a, "--format");
  size_t pl = strlen(path);
  int format = fmt ? cl_text_format_from_name(fmt)
                   : (pl > 4 && !strcmp(path + pl - 4, ".csv")) ? CL_TEXT_CSV : CL_TEXT_JSONL;
  if (format < 0)
    return cli_usage_error(cmd, "--format must be csv or jsonl");
  int worker = cli_get(cmd, a, "--no-commit") != NULL;
  uint64_t read_version = 0, *ids = NULL;
  size_t n_ids = 0;
  int pinned = cli_get_u64(cmd, a, "--read-version", &read_version);
  cli_get_u64_list(cmd, a, "--fragments", &ids, &n_ids);
  clance_error err;
  clance_dataset *ds = NULL;
  clance_fragments *upd = NULL;
  clance_operation *op = NULL;
  input in;
  memset(&in, 0, sizeof in);
  cl_schema added = {0};
  key_index k = {0};
  int64_t *rows = NULL;
  struct ArrowSchema as;
  memset(&as, 0, sizeof as);
  int rc = EXIT_OK;
  if (clance_dataset_open(uri, pinned ? read_version : 0, &ds, &err) ||
      cl_schema_parse_spec(spec, &added, &err))
    goto fail;
  /* The input holds the key column (typed as in the dataset) and the new ones. */
  size_t first = 0;
  if (key) {
    int idx = cl_schema_index(&ds->schema, key);
    if (idx < 0 || !key_ok(&ds->schema.fields[idx])) {
      cl_err(&err, idx < 0 ? CLANCE_ENOTFOUND : CLANCE_EUNSUPPORTED,
             idx < 0 ? "key column \"%s\" is not in the dataset"
                     : "key column \"%s\" must be an integer or string column", key);
      goto fail;
    }
    in.schema.fields = cl_calloc(added.n_fields + 1, sizeof *in.schema.fields, &err);
    if (!in.schema.fields || cl_field_copy(&ds->schema.fields[idx], &in.schema.fields[0], &err))
      goto fail;
    in.schema.n_fields = 1;
    for (size_t i = 0; i < added.n_fields; i++) {
      if (cl_field_copy(&added.fields[i], &in.schema.fields[i + 1], &err))
        goto fail;
      in.schema.n_fields++;
    }
    first = 1;
  } else if (cl_schema_copy(&added, &in.schema, &err)) {
    goto fail;
  }
  if (input_read(path, format, &in, &err))
    goto fail;
  if (key && key_build(&k, &in.schema.fields[0], &in.arrays[0], &err))
    goto fail;
  /* Fragments, and where each one's rows start among the dataset's live rows. */
  const pb_manifest *m = ds->manifest.pb;
  if (!n_ids) {
    n_ids = m->n_fragments;
    ids = calloc(n_ids ? n_ids : 1, sizeof *ids);
    for (size_t i = 0; ids && i < n_ids; i++)
      ids[i] = m->fragments[i]->id;
  }
  if (!ids) {
    cl_err(&err, CLANCE_ENOMEM, "out of memory");
    goto fail;
  }
  if (clance_fragments_new(&upd, &err))
    goto fail;
  uint64_t total_live = 0;
  for (size_t i = 0; i < m->n_fragments; i++)
    total_live += cl_fragment_live_rows(m->fragments[i]);
  if (!key && !cli_get(cmd, a, "--fragments") && (uint64_t)in.rows != total_live) {
    cl_err(&err, CLANCE_EINVAL, "%s has %lld rows but version %llu has %llu rows (match rows by "
           "position, or give --key)", path, (long long)in.rows, (unsigned long long)m->version,
           (unsigned long long)total_live);
    goto fail;
  }
  for (size_t t = 0; t < n_ids; t++) {
    uint64_t start = 0, live = 0;
    size_t fi = 0;
    while (fi < m->n_fragments && m->fragments[fi]->id != ids[t])
      start += cl_fragment_live_rows(m->fragments[fi++]);
    if (fi == m->n_fragments) {
      cl_err(&err, CLANCE_ENOTFOUND, "fragment %llu is not in version %llu", (unsigned long long)ids[t],
             (unsigned long long)m->version);
      goto fail;
    }
    live = cl_fragment_live_rows(m->fragments[fi]);
    int64_t n = 0;
    free(rows);
    rows = NULL;
    if (key) {
      if (rows_by_key(ds, ids[t], key, &k, &rows, &n, &err))
        goto fail;
    } else {
      if (start + live > (uint64_t)in.rows) {
        cl_err(&err, CLANCE_EINVAL, "%s has %lld rows; fragment %llu needs rows %llu to %llu", path,
               (long long)in.rows, (unsigned long long)ids[t], (unsigned long long)start + 1,
               (unsigned long long)(start + live));
        goto fail;
      }
      n = (int64_t)live;
      rows = calloc(live ? live : 1, sizeof *rows);
      if (!rows) {
        cl_err(&err, CLANCE_ENOMEM, "out of memory");
        goto fail;
      }
      for (uint64_t i = 0; i < live; i++)
        rows[i] = (int64_t)(start + i);
    }
    struct ArrowArrayStream vs;
    if (values_stream(&in, first, rows, n, &vs, &err) ||
        clance_fragment_add_columns(ds, ids[t], &vs, NULL, upd, &err))
      goto fail;
  }
  if (worker) {
    rc = cli_print_fragments(cmd->name, upd, cli_get(cmd, a, "--output"));
    goto done;
  }
  uint64_t version;
  if (cl_schema_to_arrow(&added, &as, &err) || clance_operation_merge(&as, upd, &op, &err) ||
      clance_commit(uri, op, clance_dataset_version(ds), NULL, &version, &err))
    goto fail;
  printf("%llu\n", (unsigned long long)version);
  goto done;
fail:
  rc = cli_fail(cmd->name, &err);
done:
  if (as.release)
    as.release(&as);
  clance_operation_free(op);
  clance_fragments_free(upd);
  clance_dataset_close(ds);
  input_free(&in);
  cl_schema_free(&added);
  free(k.slots);
  free(rows);
  free(ids);
  return rc;
}

const cli_command cli_cmd_add_columns = {
    "add-columns",
    "URI --schema SPEC --input FILE [--key COLUMN] [--fragments IDS --no-commit] [options]",
    "Add columns to a dataset (a Merge) and print the new version.",
    "The values come from a CSV or JSON Lines file: by position (input row n belongs to the\n"
    "dataset's n-th row in scan order), or with --key by the value of a column that both\n"
    "have (dataset rows without a matching input row get nulls). Each fragment gets a new\n"
    "data file for the new columns; no existing file is rewritten. As a worker of a\n"
    "distributed add-columns (--no-commit), it handles its --fragments of --read-version\n"
    "and prints the changed fragments as JSON; 'clance commit --operation merge --schema\n"
    "SPEC' commits all workers' results at once. By position, a worker still reads the\n"
    "whole input file to find its rows. The input is held in memory.",
    opts, 1, 1, run};
