/* clance add-columns: add columns to a dataset from a CSV/JSONL file, in one
 * process or as a worker of a distributed add-columns (Merge). Rows of the
 * input match the dataset's rows by position (the n-th live row in scan
 * order), or by the value of a key column present in both. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dataset/dataset.h"
#include "textio.h"
#include "textio_addcols.h"

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
  cl_addcols_input in;
  memset(&in, 0, sizeof in);
  cl_schema added = {0};
  cl_addcols_keys k = {0};
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
    if (idx < 0 || !cl_addcols_key_ok(&ds->schema.fields[idx])) {
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
  if (cl_addcols_input_read(&path, 1, format, &in, &err))
    goto fail;
  if (key && cl_addcols_key_build(&k, &in.schema.fields[0], &in.arrays[0], &err))
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
      if (cl_addcols_rows_by_key(ds, ids[t], key, &k, &rows, &n, &err))
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
    if (cl_addcols_values(&in, first, rows, n, &vs, &err) ||
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
  cl_addcols_input_free(&in);
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
