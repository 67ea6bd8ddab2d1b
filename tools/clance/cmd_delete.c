/* clance delete: delete rows by a filter, in one process or as a worker of a
 * distributed Delete. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_option opts[] = {
    {"--where", "PRED", "rows to delete, e.g. \"id < 10 AND s = 'x'\" (required)"},
    {"--read-version", "N", "worker: the version to delete from (default: the latest)"},
    {"--fragments", "IDS", "worker: only these fragments (comma-separated ids)"},
    {"--no-commit", NULL, "worker: print the changed fragments as JSON instead of committing"},
    {"--output", "FILE", "with --no-commit: write the JSON to FILE (atomically)"},
    {"--max-retries", "N", "attempts on conflicts with concurrent commits (default 20)"},
    {NULL, NULL, NULL}};

static int run(const cli_command *cmd, const cli_args *a) {
  const char *uri = a->pos[0];
  const char *where = cli_get(cmd, a, "--where");
  if (!where)
    return cli_usage_error(cmd, "--where is required (use --where true to delete every row)");
  uint64_t read_version = 0, retries = 0, *ids = NULL;
  size_t n_ids = 0;
  int worker = cli_get(cmd, a, "--no-commit") != NULL;
  int pinned = cli_get_u64(cmd, a, "--read-version", &read_version);
  cli_get_u64_list(cmd, a, "--fragments", &ids, &n_ids);
  if (cli_get(cmd, a, "--output") && !worker) {
    free(ids);
    return cli_usage_error(cmd, "--output goes with --no-commit");
  }
  clance_commit_options co;
  clance_commit_options_init(&co);
  if (cli_get_u64(cmd, a, "--max-retries", &retries))
    co.max_retries = (uint32_t)(retries ? retries : 1);
  clance_error err;
  int rc = EXIT_OK;
  if (!worker && !pinned && !n_ids) {
    /* One process: delete from the latest version, redoing it on conflicts. */
    uint64_t version, deleted;
    if (clance_dataset_delete(uri, where, &co, &version, &deleted, &err))
      rc = cli_fail(cmd->name, &err);
    else
      printf("%llu\n", (unsigned long long)version);
    free(ids);
    return rc;
  }
  clance_dataset *ds = NULL;
  clance_fragments *upd = NULL, *all = NULL;
  clance_operation *op = NULL;
  if (clance_dataset_open(uri, pinned ? read_version : 0, &ds, &err) ||
      clance_fragments_new(&upd, &err))
    goto fail;
  if (!n_ids) {
    if (clance_dataset_fragments(ds, &all, &err))
      goto fail;
    n_ids = clance_fragments_count(all);
    ids = calloc(n_ids ? n_ids : 1, sizeof *ids);
    if (!ids) {
      fprintf(stderr, "clance delete: out of memory\n");
      rc = EXIT_ERROR;
      goto done;
    }
    clance_fragments_ids(all, ids);
  }
  for (size_t i = 0; i < n_ids; i++)
    if (clance_fragment_delete_rows(ds, ids[i], where, NULL, 0, upd, NULL, &err))
      goto fail;
  if (worker) {
    rc = cli_print_fragments(cmd->name, upd, cli_get(cmd, a, "--output"));
    goto done;
  }
  uint64_t version = clance_dataset_version(ds);
  if (clance_fragments_count(upd)) {
    if (clance_operation_delete(upd, NULL, 0, where, &op, &err) ||
        clance_commit(uri, op, clance_dataset_version(ds), &co, &version, &err))
      goto fail;
  }
  printf("%llu\n", (unsigned long long)version);
  goto done;
fail:
  rc = cli_fail(cmd->name, &err);
done:
  clance_operation_free(op);
  clance_fragments_free(upd);
  clance_fragments_free(all);
  clance_dataset_close(ds);
  free(ids);
  return rc;
}

const cli_command cli_cmd_delete = {
    "delete",
    "URI --where PRED [--read-version N] [--fragments IDS] [--no-commit [--output FILE]]",
    "Delete the rows matching a filter and print the new version.",
    "Rows are marked deleted in each fragment's deletion vector (files under _deletions/,\n"
    "in the forms Lance writes); fragments whose every row is deleted are removed. Alone,\n"
    "the command deletes from the latest version and commits, redoing the work when a\n"
    "concurrent commit changed the same fragments. As a worker of a distributed delete\n"
    "(--no-commit), it handles its --fragments of --read-version and prints the changed\n"
    "fragments as JSON, which 'clance commit --operation delete' commits once for all\n"
    "workers. Nothing matched: the version is unchanged and nothing is committed.",
    opts, 1, 1, run};
