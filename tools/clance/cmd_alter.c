/* clance drop-columns / alter-column: schema changes without rewriting data
 * (a Project transaction). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int commit_changes(const cli_command *cmd, const char *uri,
                          const clance_column_alteration *c, size_t n, uint64_t read_version) {
  clance_error err;
  clance_operation *op = NULL;
  clance_dataset *ds = NULL;
  uint64_t version;
  int rc = EXIT_OK;
  if (!read_version) {
    if (clance_dataset_open(uri, 0, &ds, &err))
      return cli_fail(cmd->name, &err);
    read_version = clance_dataset_version(ds);
  }
  if (clance_operation_alter_columns(c, n, &op, &err) ||
      clance_commit(uri, op, read_version, NULL, &version, &err))
    rc = cli_fail(cmd->name, &err);
  else
    printf("%llu\n", (unsigned long long)version);
  clance_operation_free(op);
  clance_dataset_close(ds);
  return rc;
}

static const cli_option drop_opts[] = {
    {"--read-version", "N", "the version the change is based on (default: the latest)"},
    {NULL, NULL, NULL}};

static int run_drop(const cli_command *cmd, const cli_args *a) {
  clance_column_alteration *c = calloc((size_t)a->n_pos, sizeof *c);
  if (!c)
    return EXIT_ERROR;
  for (int i = 1; i < a->n_pos; i++) {
    c[i - 1].column = a->pos[i];
    c[i - 1].nullable = -1;
    c[i - 1].drop = 1;
  }
  uint64_t rv = 0;
  cli_get_u64(cmd, a, "--read-version", &rv);
  int rc = commit_changes(cmd, a->pos[0], c, (size_t)a->n_pos - 1, rv);
  free(c);
  return rc;
}

const cli_command cli_cmd_drop_columns = {
    "drop-columns",
    "URI COLUMN...",
    "Drop columns and print the new version.",
    "The columns disappear from the schema (a Project transaction); data files are not\n"
    "rewritten (files holding only dropped columns are no longer referenced, and 'clance\n"
    "cleanup' can remove them later). Older versions still hold the columns.",
    drop_opts, 2, -1, run_drop};

static const cli_option alter_opts[] = {
    {"--rename", "NAME", "new name of the column"},
    {"--nullable", NULL, "allow nulls"},
    {"--not-null", NULL, "forbid nulls (fails when the column holds any)"},
    {"--read-version", "N", "the version the change is based on (default: the latest)"},
    {NULL, NULL, NULL}};

static int run_alter(const cli_command *cmd, const cli_args *a) {
  clance_column_alteration c = {a->pos[1], cli_get(cmd, a, "--rename"), -1, 0};
  int nullable = cli_get(cmd, a, "--nullable") != NULL, not_null = cli_get(cmd, a, "--not-null") != NULL;
  if (nullable && not_null)
    return cli_usage_error(cmd, "--nullable and --not-null exclude each other");
  if (nullable || not_null)
    c.nullable = nullable;
  if (!c.rename && c.nullable < 0)
    return cli_usage_error(cmd, "nothing to change: give --rename, --nullable or --not-null");
  uint64_t rv = 0;
  cli_get_u64(cmd, a, "--read-version", &rv);
  if (not_null) {
    /* Lance refuses NOT NULL over existing nulls; so do we, before committing. */
    clance_error err;
    clance_dataset *ds;
    if (clance_dataset_open(a->pos[0], rv, &ds, &err))
      return cli_fail(cmd->name, &err);
    char pred[600];
    snprintf(pred, sizeof pred, "%s IS NULL", a->pos[1]);
    uint64_t nulls = 0;
    clance_status st = clance_dataset_count_rows_where(ds, pred, &nulls, &err);
    clance_dataset_close(ds);
    if (st)
      return cli_fail(cmd->name, &err);
    if (nulls) {
      fprintf(stderr, "clance %s: error EINVAL: column \"%s\" holds %llu nulls; it cannot be "
              "made NOT NULL\n", cmd->name, a->pos[1], (unsigned long long)nulls);
      return EXIT_ERROR;
    }
  }
  return commit_changes(cmd, a->pos[0], &c, 1, rv);
}

const cli_command cli_cmd_alter_column = {
    "alter-column",
    "URI COLUMN [--rename NAME] [--nullable | --not-null]",
    "Rename a column or change whether it may hold nulls; print the new version.",
    "A Project transaction: only the schema changes, no data is rewritten.",
    alter_opts, 2, 2, run_alter};
