/* clance cleanup: remove old versions and the files only they used
 * (Lance's cleanup_old_versions). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_option opts[] = {
    {"--older-than", "DURATION", "versions committed longer ago than this may go (default 14d;\n"
                                 "units s, m, h, d, w, e.g. 1h30m)"},
    {"--before-version", "N", "also only versions below N may go"},
    {"--delete-unverified", NULL, "also remove unreferenced files younger than 7 days that no\n"
                                  "removed version used (only when nothing else writes)"},
    {"--keep-tagged", NULL, "keep tagged old versions instead of failing"},
    {"--dry-run", NULL, "print what would be removed; remove nothing"},
    {"--json", NULL, "print the totals as one JSON object"},
    {NULL, NULL, NULL}};

typedef struct printer {
  int dry_run, quiet;
} printer;

static void print_file(void *ctx, const char *path, const char *kind, uint64_t bytes) {
  const printer *p = ctx;
  if (!p->quiet)
    printf("%s %s %s (%llu bytes)\n", p->dry_run ? "would remove" : "removed", kind, path,
           (unsigned long long)bytes);
}

static int run(const cli_command *cmd, const cli_args *a) {
  clance_cleanup_options o;
  clance_cleanup_options_init(&o);
  clance_error err;
  const char *older = cli_get(cmd, a, "--older-than");
  if (older && clance_parse_duration(older, &o.older_than_seconds, &err))
    return cli_usage_error(cmd, "--older-than: %s", err.message);
  cli_get_u64(cmd, a, "--before-version", &o.before_version);
  o.delete_unverified = cli_get(cmd, a, "--delete-unverified") != NULL;
  o.error_if_tagged_old_versions = cli_get(cmd, a, "--keep-tagged") == NULL;
  o.dry_run = cli_get(cmd, a, "--dry-run") != NULL;
  int json = cli_get(cmd, a, "--json") != NULL;
  printer p = {o.dry_run, json};
  o.on_file = print_file;
  o.ctx = &p;
  clance_cleanup_stats s;
  if (clance_cleanup(a->pos[0], &o, &s, &err))
    return cli_fail(cmd->name, &err);
  printf(json ? "{\"dry_run\": %s, \"old_versions\": %llu, \"data_files\": %llu, "
                "\"deletion_files\": %llu, \"transaction_files\": %llu, \"temporary_files\": %llu, "
                "\"bytes_removed\": %llu}\n"
              : "%s %llu old versions, %llu data files, %llu deletion files, %llu transaction "
                "files, %llu temporary files, %llu bytes\n",
         json ? (o.dry_run ? "true" : "false") : (o.dry_run ? "would remove" : "removed"),
         (unsigned long long)s.old_versions, (unsigned long long)s.data_files,
         (unsigned long long)s.deletion_files, (unsigned long long)s.transaction_files,
         (unsigned long long)s.temporary_files, (unsigned long long)s.bytes_removed);
  return EXIT_OK;
}

const cli_command cli_cmd_cleanup = {
    "cleanup",
    "URI [--older-than 14d] [--before-version N] [--delete-unverified] [--keep-tagged] [--dry-run]",
    "Remove old versions and the files only they used.",
    "Lance's cleanup_old_versions: a version committed before the cutoff goes unless it is the\n"
    "latest or tagged (a tagged old version is an error unless --keep-tagged). Then a file\n"
    "under data/, _deletions/ or _transactions/ (or a staging file in _versions/) older than\n"
    "the oldest kept version goes when no kept version uses it and a removed version did, or\n"
    "it is older than 7 days, or --delete-unverified is given. Nothing else is touched.\n"
    "Manifests are removed first. Each removed file is printed, then the totals.",
    opts, 1, 1, run};
