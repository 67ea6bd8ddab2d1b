/* clance commit: phase 2 of a distributed write. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/fs.h"

static const cli_option opts[] = {
    {"--operation", "overwrite|append", "what to commit (required)"},
    {"--read-version", "N", "version the fragments were prepared against (required; 0 = none)"},
    {"--schema", "SPEC", "schema of an overwrite, e.g. 'a:int32,b:string' (required for overwrite)"},
    {"--max-retries", "N", "attempts when concurrent commits take the version number (default 20)"},
    {"--no-verify", NULL, "do not open the data files to check them against the schema"},
    {"--v1-manifest-paths", NULL, "name manifests N.manifest when creating a dataset (default: V2 names)"},
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

static int run(const cli_command *cmd, const cli_args *a) {
  const char *uri = a->pos[0];
  const char *kind = cli_get(cmd, a, "--operation");
  uint64_t read_version = 0;
  if (!kind)
    return cli_usage_error(cmd, "--operation is required");
  if (!cli_get_u64(cmd, a, "--read-version", &read_version))
    return cli_usage_error(cmd, "--read-version is required (0 when creating the dataset)");
  int overwrite = !strcmp(kind, "overwrite");
  if (!overwrite && strcmp(kind, "append") != 0)
    return cli_usage_error(cmd, "--operation must be overwrite or append, not \"%s\"", kind);
  const char *spec = cli_get(cmd, a, "--schema");
  if (overwrite && !spec)
    return cli_usage_error(cmd, "an overwrite needs --schema");
  if (a->n_pos < 2)
    return cli_usage_error(cmd, "no fragment JSON files given");

  clance_error err;
  clance_fragments *all = NULL;
  clance_operation *op = NULL;
  struct ArrowSchema schema;
  memset(&schema, 0, sizeof schema);
  int rc = EXIT_OK;
  if (clance_fragments_new(&all, &err))
    goto fail;
  for (int i = 1; i < a->n_pos; i++) {
    cl_buf b = CL_BUF_INIT;
    clance_fragments *f;
    const char *src = strcmp(a->pos[i], "-") ? a->pos[i] : "standard input";
    if (slurp(a->pos[i], &b, &err)) {
      cl_buf_free(&b);
      goto fail;
    }
    clance_status st = clance_fragments_from_json(b.data ? (const char *)b.data : "", b.len, src, &f, &err);
    cl_buf_free(&b);
    if (st)
      goto fail;
    st = clance_fragments_extend(all, f, &err);
    clance_fragments_free(f);
    if (st)
      goto fail;
  }
  if (overwrite) {
    if (clance_schema_parse(spec, &schema, &err) ||
        clance_operation_overwrite(&schema, all, &op, &err))
      goto fail;
  } else if (clance_operation_append(all, &op, &err)) {
    goto fail;
  }
  clance_commit_options co;
  clance_commit_options_init(&co);
  uint64_t retries = 0;
  if (cli_get_u64(cmd, a, "--max-retries", &retries))
    co.max_retries = (uint32_t)(retries ? retries : 1);
  co.verify_files = cli_get(cmd, a, "--no-verify") == NULL;
  co.v2_manifest_paths = cli_get(cmd, a, "--v1-manifest-paths") == NULL;
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
  if (schema.release)
    schema.release(&schema);
  return rc;
}

const cli_command cli_cmd_commit = {
    "commit",
    "URI --operation overwrite|append --read-version N [--schema SPEC] FRAGS.json...",
    "Commit the fragments of one or more JSON files as the next version of URI.",
    "Each FRAGS.json holds FragmentMetadata as printed by write-fragments (or by pylance's\n"
    "FragmentMetadata.to_json()), an object or an array. The union of all fragments is\n"
    "committed as one transaction and the new version is printed. Concurrent Appends are\n"
    "rebased automatically; a commit that conflicts with one made since --read-version is\n"
    "refused without changing the dataset (exit 3 or 4). Use '-' to read JSON from stdin.",
    opts, 1, -1, run};
