/* clance update: set columns of the rows matching a filter. */
#include <stdlib.h>

#include "cli.h"
#include "dataset/update.h"

static const cli_option opts[] = {
    {"--set", "ASSIGNMENTS", "new values, e.g. \"x = 0, s = 'done', f = NULL\" (required)"},
    {"--where", "PRED", "rows to update (default: every row)"},
    {"--read-version", "N", "compute the update on version N and commit it as prepared on N: a\n"
                            "conflicting commit made since fails (exit 3 or 4) instead of being redone"},
    {"--max-retries", "N", "attempts on conflicts with concurrent commits (default 20)"},
    {NULL, NULL, NULL}};

static int run(const cli_command *cmd, const cli_args *a) {
  const char *set = cli_get(cmd, a, "--set");
  if (!set)
    return cli_usage_error(cmd, "--set is required");
  clance_commit_options co;
  clance_commit_options_init(&co);
  uint64_t retries, version, n, read_version = 0;
  if (cli_get_u64(cmd, a, "--max-retries", &retries))
    co.max_retries = (uint32_t)(retries ? retries : 1);
  if (cli_get_u64(cmd, a, "--read-version", &read_version) && read_version == 0)
    return cli_usage_error(cmd, "--read-version must be a version (1 or more)");
  clance_error err;
  if (cl_dataset_update_at(a->pos[0], read_version, set, cli_get(cmd, a, "--where"), &co, &version,
                           &n, &err))
    return cli_fail(cmd->name, &err);
  printf("%llu\n", (unsigned long long)version);
  return EXIT_OK;
}

const cli_command cli_cmd_update = {
    "update",
    "URI --set \"COL = VALUE[, ...]\" [--where PRED] [--read-version N]",
    "Set columns of the rows matching a filter and print the new version.",
    "Lance's Update in REWRITE_ROWS mode: the matching rows are deleted from their fragments\n"
    "(deletion vectors) and written again with the new values as new fragments, in one\n"
    "transaction. Values are numbers, 'strings' ('' for a quote), true/false or NULL. When\n"
    "nothing matches, nothing is committed and the current version is printed.",
    opts, 1, 1, run};
