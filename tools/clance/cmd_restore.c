/* clance restore: make an old version the content of a new one. */
#include <stdlib.h>

#include "cli.h"

static const cli_option opts[] = {{NULL, NULL, NULL}};

static int run(const cli_command *cmd, const cli_args *a) {
  char *end;
  unsigned long long v = strtoull(a->pos[1], &end, 10);
  if (!*a->pos[1] || *end || v == 0)
    return cli_usage_error(cmd, "VERSION must be a positive integer, got \"%s\"", a->pos[1]);
  clance_error err;
  clance_operation *op = NULL;
  clance_dataset *ds = NULL;
  uint64_t version;
  int rc = EXIT_OK;
  if (clance_dataset_open(a->pos[0], 0, &ds, &err) || clance_operation_restore(v, &op, &err) ||
      clance_commit(a->pos[0], op, clance_dataset_version(ds), NULL, &version, &err))
    rc = cli_fail(cmd->name, &err);
  else
    printf("%llu\n", (unsigned long long)version);
  clance_operation_free(op);
  clance_dataset_close(ds);
  return rc;
}

const cli_command cli_cmd_restore = {
    "restore",
    "URI VERSION",
    "Commit a new version whose content is that of VERSION; print the new version.",
    "History is kept: the versions after VERSION stay readable (a Restore transaction, as\n"
    "Lance's restore()).",
    opts, 2, 2, run};
