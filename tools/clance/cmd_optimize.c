/* clance optimize: compaction (Lance's compact_files) as one Rewrite commit. */
#include <errno.h>
#include <stdlib.h>

#include "cli.h"

static const cli_option opts[] = {
    {"--target-rows-per-fragment", "N", "fragments smaller than this are merged; new fragments\n"
                                        "get at most N rows (default 1048576)"},
    {"--max-rows-per-group", "N", "at most N rows per page of the new files"},
    {"--max-bytes-per-file", "N", "start a new file after N bytes"},
    {"--deletion-threshold", "F", "rewrite a fragment alone when more than this share (0..1) of\n"
                                  "its rows is deleted (default 0.1)"},
    {"--no-materialize-deletions", NULL, "never rewrite a fragment only for its deletions"},
    {"--max-retries", "N", "attempts when concurrent commits change the same fragments (default 20)"},
    {"--json", NULL, "print the new version and what was done as a JSON object"},
    {NULL, NULL, NULL}};

static int run(const cli_command *cmd, const cli_args *a) {
  clance_compact_options o;
  clance_compact_options_init(&o);
  uint64_t v;
  if (cli_get_u64(cmd, a, "--target-rows-per-fragment", &v)) {
    if (v == 0)
      return cli_usage_error(cmd, "--target-rows-per-fragment must be 1 or more");
    o.target_rows_per_fragment = v;
  }
  if (cli_get_u64(cmd, a, "--max-rows-per-group", &v))
    o.max_rows_per_group = v;
  if (cli_get_u64(cmd, a, "--max-bytes-per-file", &v))
    o.max_bytes_per_file = v;
  if (cli_get_u64(cmd, a, "--max-retries", &v))
    o.max_retries = (uint32_t)(v ? v : 1);
  const char *t = cli_get(cmd, a, "--deletion-threshold");
  if (t) {
    char *end;
    errno = 0;
    double d = strtod(t, &end);
    if (!*t || *end || errno || !(d >= 0.0 && d <= 1.0))
      return cli_usage_error(cmd, "--deletion-threshold must be a number from 0 to 1, got \"%s\"", t);
    o.materialize_deletions_threshold = d;
  }
  if (cli_get(cmd, a, "--no-materialize-deletions"))
    o.materialize_deletions = 0;
  clance_error err;
  clance_compact_stats s;
  uint64_t version;
  if (clance_dataset_compact(a->pos[0], &o, &version, &s, &err))
    return cli_fail(cmd->name, &err);
  if (cli_get(cmd, a, "--json"))
    printf("{\"version\":%llu,\"fragments_removed\":%llu,\"fragments_added\":%llu,"
           "\"files_removed\":%llu,\"files_added\":%llu,\"rows_rewritten\":%llu,"
           "\"deleted_rows_removed\":%llu}\n",
           (unsigned long long)version, (unsigned long long)s.fragments_removed,
           (unsigned long long)s.fragments_added, (unsigned long long)s.files_removed,
           (unsigned long long)s.files_added, (unsigned long long)s.rows_rewritten,
           (unsigned long long)s.deleted_rows_removed);
  else
    printf("%llu\n", (unsigned long long)version);
  return EXIT_OK;
}

const cli_command cli_cmd_optimize = {
    "optimize",
    "URI [--target-rows-per-fragment N] [--deletion-threshold F] [--json]",
    "Compact the dataset: merge small fragments, drop deleted rows; print the version.",
    "Lance's compact_files: in fragment order, runs of fragments smaller than the target are\n"
    "merged into fragments of up to the target size, and fragments with more deleted rows than\n"
    "the threshold are rewritten without them; row order is kept. All of it is one Rewrite\n"
    "commit; concurrent commits that change the same fragments make it plan again. When there\n"
    "is nothing to do nothing is committed and the current version is printed. Old files stay\n"
    "until `clance cleanup` removes the versions that use them. Datasets with indices or stable\n"
    "row ids are refused.",
    opts, 1, 1, run};
