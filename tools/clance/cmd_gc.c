/* clance gc: remove orphaned files (no version references them). */
#include <stdlib.h>

#include "cli.h"

static const cli_option opts[] = {
    {"--older-than", "DURATION", "only orphans last modified longer ago than this (default 7d;\n"
                                 "younger ones may belong to writes in progress)"},
    {"--dry-run", NULL, "print what would be removed; remove nothing"},
    {NULL, NULL, NULL}};

static void print_file(void *ctx, const char *path, const char *kind, uint64_t bytes) {
  printf("%s %s %s (%llu bytes)\n", *(const int *)ctx ? "would remove" : "removed", kind, path,
         (unsigned long long)bytes);
}

static int run(const cli_command *cmd, const cli_args *a) {
  clance_gc_options o;
  clance_gc_options_init(&o);
  clance_error err;
  const char *older = cli_get(cmd, a, "--older-than");
  if (older && clance_parse_duration(older, &o.older_than_seconds, &err))
    return cli_usage_error(cmd, "--older-than: %s", err.message);
  o.dry_run = cli_get(cmd, a, "--dry-run") != NULL;
  o.on_file = print_file;
  o.ctx = &o.dry_run;
  clance_gc_stats s;
  if (clance_gc(a->pos[0], &o, &s, &err))
    return cli_fail(cmd->name, &err);
  printf("%s %llu files, %llu bytes; kept %llu younger orphans\n",
         o.dry_run ? "would remove" : "removed", (unsigned long long)s.files_removed,
         (unsigned long long)s.bytes_removed, (unsigned long long)s.files_kept);
  return EXIT_OK;
}

const cli_command cli_cmd_gc = {
    "gc", "URI [--older-than 7d] [--dry-run]",
    "Remove files that no version references.",
    "Orphans are files under data/, _deletions/ and _transactions/, and staging files in\n"
    "_versions/, that no manifest references (left by failed or abandoned writes, or by an\n"
    "interrupted cleanup). Only those last modified before the threshold go. The versions\n"
    "are listed again just before removing, so a commit that lands meanwhile keeps its\n"
    "files. Records of resumable tasks (_clance_tasks/, see --task-id) older than the\n"
    "threshold go too once every file they name is committed or gone. No version is\n"
    "removed (see `clance cleanup`).",
    opts, 1, 1, run};
