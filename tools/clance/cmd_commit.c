/* clance commit: phase 2 of a distributed write. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dataset/dataset.h"
#include "io/fs.h"

static const cli_option opts[] = {
    {"--operation", "OP", "overwrite, append, delete, merge, update-columns or data-replacement (required)"},
    {"--read-version", "N", "version the fragments were prepared against (required; 0 = none)"},
    {"--schema", "SPEC", "overwrite: the table's schema; merge: the added columns (required for both)"},
    {"--predicate", "TEXT", "delete: the filter the workers used (recorded in the transaction)"},
    {"--columns", "A,B", "update-columns: the columns the workers rewrote (required)"},
    {"--overwrite-wins", NULL, "overwrite: replace whatever was committed since --read-version (Lance's rule)"},
    {"--max-retries", "N", "attempts when concurrent commits take the version number (default 20)"},
    {"--no-verify", NULL, "do not open the data files to check them against the schema"},
    {"--v1-manifest-paths", NULL, "name manifests N.manifest when creating a dataset (default: V2 names)"},
    {"--no-fsync", NULL, "leave flushing the new version's files to the OS, as Lance does (an OS crash can lose it)"},
    {NULL, NULL, NULL}};

/* Read a whole file ("-" = stdin). */
static int slurp(const char *path, cl_buf *out, clance_error *err) {
  if (strcmp(path, "-") != 0)
    return cl_file_read_all(path, (size_t)1 << 31, out, err);
  char tmp[65536];
  size_t n;
  while ((n = fread(tmp, 1, sizeof tmp, stdin)) > 0)
    if (cl_buf_append(out, tmp, n, err))
      return err->code;
  return ferror(stdin) ? cl_err(err, CLANCE_EIO, "reading standard input failed") : CLANCE_OK;
}

/* Field ids of the named top-level columns in the read version. */
static clance_status field_ids_of(const char *uri, uint64_t version, const char *names,
                                  uint32_t **out, size_t *n, clance_error *err) {
  clance_dataset *ds;
  CL_TRY(clance_dataset_open(uri, version, &ds, err));
  clance_status st = CLANCE_OK;
  *out = calloc(strlen(names) + 1, sizeof **out);
  *n = 0;
  if (!*out)
    st = cl_err(err, CLANCE_ENOMEM, "out of memory");
  char *copy = st ? NULL : strdup(names);
  for (char *save = NULL, *t = copy ? strtok_r(copy, ",", &save) : NULL; !st && t;
       t = strtok_r(NULL, ",", &save)) {
    int idx = cl_schema_index(&ds->schema, t);
    if (idx < 0)
      st = cl_err(err, CLANCE_ENOTFOUND, "column \"%s\" is not in version %llu of %s", t,
                  (unsigned long long)clance_dataset_version(ds), uri);
    else
      (*out)[(*n)++] = (uint32_t)ds->schema.fields[idx].id;
  }
  free(copy);
  clance_dataset_close(ds);
  if (st) {
    free(*out);
    *out = NULL;
  }
  return st;
}

/* One input file's fragments. */
typedef struct input {
  const char *src;
  clance_fragments *f;
  int skip;
} input;

/* Every task's latest attempt exactly once: of several inputs from one task
 * the highest attempt is kept (the others are skipped with a notice), two
 * different runs claiming the same attempt are refused; then the kept one
 * must be the attempt the dataset's task record names. */
static clance_status pick_task_outputs(const char *uri, input *in, int n, clance_error *err) {
  for (int i = 0; i < n; i++) {
    const char *ti, *ui;
    uint64_t ai;
    clance_fragments_task(in[i].f, &ti, &ai, &ui);
    if (!ti || in[i].skip)
      continue;
    for (int k = i + 1; k < n; k++) {
      const char *tk, *uk;
      uint64_t ak;
      clance_fragments_task(in[k].f, &tk, &ak, &uk);
      if (!tk || in[k].skip || strcmp(ti, tk) != 0)
        continue;
      if (ak == ai && strcmp(ui, uk) != 0)
        return cl_err(err, CLANCE_EINVAL, "%s and %s both hold attempt %llu of task %s, from two "
                      "different runs; give only one", in[i].src, in[k].src,
                      (unsigned long long)ai, ti);
      int drop = ak <= ai ? k : i, keep = drop == k ? i : k;
      fprintf(stderr, "clance commit: skipping %s: %s of task %s %s %s\n", in[drop].src,
              ak == ai ? "the same attempt" : "an older attempt", ti,
              ak == ai ? "as" : "than", in[keep].src);
      in[drop].skip = 1;
      if (drop == i)
        break;
    }
  }
  for (int i = 0; i < n; i++)
    if (!in[i].skip)
      CL_TRY(clance_task_check(uri, in[i].f, in[i].src, err));
  return CLANCE_OK;
}

static int same_ids(const pb_data_file *a, const pb_data_file *b) {
  return a->n_fields == b->n_fields && a->file_major_version == b->file_major_version &&
         a->file_minor_version == b->file_minor_version &&
         !memcmp(a->fields, b->fields, a->n_fields * sizeof *a->fields);
}

/* New fragments from different workers must have been written with one
 * schema: the same field ids and format in their files and, when the files
 * can be read, the same column names and types in their footers. Checked
 * per input file so that the error names the two files that differ. */
static clance_status check_same_schema(const char *uri, const input *in, int n, int verify,
                                       clance_error *err) {
  const input *first = NULL;
  cl_file_reader *r0 = NULL;
  char *root = NULL;
  clance_status st = cl_uri_to_path(uri, &root, err);
  for (int i = 0; !st && i < n; i++) {
    if (in[i].skip || !in[i].f->n || !in[i].f->v[0]->n_files)
      continue;
    const pb_data_file *df = in[i].f->v[0]->files[0];
    if (!first) {
      first = &in[i];
      if (verify) {
        char *p = cl_dataset_data_path(root, df, err);
        if (!p || cl_file_reader_open(p, df->file_size_bytes, &r0, &(clance_error){0}))
          r0 = NULL; /* the commit's own checks report it */
        free(p);
      }
      continue;
    }
    const pb_data_file *d0 = first->f->v[0]->files[0];
    if (!same_ids(df, d0)) {
      st = cl_err(err, CLANCE_ESCHEMA, "%s and %s were written with different schemas or formats "
                  "(data files %s and %s store other fields or format versions); every worker "
                  "must use the same --schema", first->src, in[i].src, cl_pb_str(d0->path),
                  cl_pb_str(df->path));
      break;
    }
    if (!r0)
      continue;
    char *p = cl_dataset_data_path(root, df, err);
    cl_file_reader *r = NULL;
    if (!p || cl_file_reader_open(p, df->file_size_bytes, &r, &(clance_error){0}))
      r = NULL;
    free(p);
    for (size_t k = 0; r && k < df->n_fields; k++) {
      const cl_field *x = cl_schema_find_id(&r0->schema, df->fields[k]);
      const cl_field *y = cl_schema_find_id(&r->schema, df->fields[k]);
      char why[256] = "";
      if (x && y && (strcmp(x->name, y->name) || !cl_field_same_type(x, y, why, sizeof why))) {
        st = cl_err(err, CLANCE_ESCHEMA, "%s and %s were written with different schemas: "
                    "column \"%s\" vs \"%s\" (%s); every worker must use the same --schema",
                    first->src, in[i].src, x->name, y->name, why[0] ? why : "different name");
        break;
      }
    }
    if (r)
      cl_file_reader_close(r);
  }
  if (r0)
    cl_file_reader_close(r0);
  free(root);
  return st;
}

static int run(const cli_command *cmd, const cli_args *a) {
  const char *uri = a->pos[0];
  const char *kind = cli_get(cmd, a, "--operation");
  uint64_t read_version = 0;
  if (!kind)
    return cli_usage_error(cmd, "--operation is required");
  if (!cli_get_u64(cmd, a, "--read-version", &read_version))
    return cli_usage_error(cmd, "--read-version is required (0 when creating the dataset)");
  static const char *const kinds[] = {"overwrite", "append", "delete", "merge", "update-columns",
                                      "data-replacement"};
  int k = -1;
  for (int i = 0; i < (int)(sizeof kinds / sizeof *kinds); i++)
    if (!strcmp(kind, kinds[i]))
      k = i;
  if (k < 0)
    return cli_usage_error(cmd, "--operation must be overwrite, append, delete, merge, "
                           "update-columns or data-replacement, not \"%s\"", kind);
  int overwrite = k == 0;
  const char *spec = cli_get(cmd, a, "--schema");
  if ((overwrite || k == 3) && !spec)
    return cli_usage_error(cmd, "%s needs --schema", overwrite ? "an overwrite" : "a merge");
  const char *columns = cli_get(cmd, a, "--columns");
  if (k == 4 && !columns)
    return cli_usage_error(cmd, "update-columns needs --columns");
  if (a->n_pos < 2)
    return cli_usage_error(cmd, "no fragment JSON files given");

  clance_error err;
  clance_fragments *all = NULL;
  clance_operation *op = NULL;
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof schema);
  int rc = EXIT_OK, n_in = a->n_pos - 1;
  input *in = calloc((size_t)n_in, sizeof *in);
  if (!in) {
    cl_err(&err, CLANCE_ENOMEM, "out of memory");
    goto fail;
  }
  if (clance_fragments_new(&all, &err))
    goto fail;
  for (int i = 0; i < n_in; i++) {
    cl_buf b = CL_BUF_INIT;
    const char *path = a->pos[i + 1];
    in[i].src = strcmp(path, "-") ? path : "standard input";
    clance_status st = slurp(path, &b, &err);
    if (!st && b.len == 0)
      st = cl_err(&err, CLANCE_ECORRUPT, "%s is empty (the worker that writes it did not finish?)",
                  in[i].src);
    if (!st)
      st = clance_fragments_from_json((const char *)b.data, b.len, in[i].src, &in[i].f, &err);
    cl_buf_free(&b);
    if (st)
      goto fail;
  }
  if (pick_task_outputs(uri, in, n_in, &err))
    goto fail;
  if ((k == 0 || k == 1) && check_same_schema(uri, in, n_in, cli_get(cmd, a, "--no-verify") == NULL, &err))
    goto fail;
  for (int i = 0; i < n_in; i++)
    if (!in[i].skip && clance_fragments_extend(all, in[i].f, &err))
      goto fail;
  if (overwrite || k == 3) {
    if (clance_schema_parse(spec, &schema, &err))
      goto fail;
    if (overwrite ? clance_operation_overwrite(&schema, all, &op, &err)
                  : clance_operation_merge(&schema, all, &op, &err))
      goto fail;
  } else if (k == 1) {
    if (clance_operation_append(all, &op, &err))
      goto fail;
  } else if (k == 2) {
    if (clance_operation_delete(all, NULL, 0, cli_get(cmd, a, "--predicate"), &op, &err))
      goto fail;
  } else if (k == 4) {
    uint32_t *ids = NULL;
    size_t n_ids = 0;
    if (field_ids_of(uri, read_version, columns, &ids, &n_ids, &err))
      goto fail;
    clance_status st = clance_operation_update(all, NULL, 0, NULL, ids, n_ids, 1, &op, &err);
    free(ids);
    if (st)
      goto fail;
  } else if (clance_operation_data_replacement(all, &op, &err)) {
    goto fail;
  }
  clance_commit_options co;
  clance_commit_options_init(&co);
  uint64_t retries = 0;
  if (cli_get_u64(cmd, a, "--max-retries", &retries))
    co.max_retries = (uint32_t)(retries ? retries : 1);
  co.verify_files = cli_get(cmd, a, "--no-verify") == NULL;
  co.v2_manifest_paths = cli_get(cmd, a, "--v1-manifest-paths") == NULL;
  co.overwrite_wins = cli_get(cmd, a, "--overwrite-wins") != NULL;
  co.no_fsync = cli_get(cmd, a, "--no-fsync") != NULL;
  uint64_t version;
  if (clance_commit(uri, op, read_version, &co, &version, &err))
    goto fail;
  printf("%llu\n", (unsigned long long)version);
  goto done;
fail:
  rc = cli_fail(cmd->name, &err);
done:
  clance_operation_free(op);
  clance_fragments_free(all);
  for (int i = 0; in && i < n_in; i++)
    clance_fragments_free(in[i].f);
  free(in);
  if (schema.release)
    schema.release(&schema);
  return rc;
}

const cli_command cli_cmd_commit = {
    "commit",
    "URI --operation OP --read-version N [--schema SPEC] FRAGS.json...",
    "Commit the fragments of one or more JSON files as the next version of URI.",
    "Each FRAGS.json holds FragmentMetadata as printed by write-fragments (or by pylance's\n"
    "FragmentMetadata.to_json()), an object or an array. The union of all fragments is\n"
    "committed as one transaction and the new version is printed:\n"
    "  overwrite, append    new fragments from write-fragments;\n"
    "  delete               fragments from 'delete --no-commit' workers;\n"
    "  merge                fragments from 'add-columns --no-commit' workers, --schema = the\n"
    "                       added columns;\n"
    "  update-columns       fragments whose --columns were rewritten (Update, REWRITE_COLUMNS);\n"
    "  data-replacement     one data file per fragment replacing the file with the same fields.\n"
    "Compatible concurrent commits are rebased over automatically (Lance's rules); a commit\n"
    "that conflicts with one made since --read-version is refused without changing the\n"
    "dataset (exit 3 or 4). Use '-' to read JSON from stdin.\n"
    "Output of 'write-fragments --task-id': of several files from one task only the latest\n"
    "attempt is committed (the others are skipped with a notice), and a file whose attempt\n"
    "a later run of the task replaced is refused. New fragments from different files must\n"
    "have been written with the same schema.",
    opts, 1, -1, run};
