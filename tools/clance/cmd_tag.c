/* clance tag: create, delete and list tags (_refs/tags/, as Lance writes
 * them); and opening a dataset at --version N or --tag NAME for the
 * reading commands. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_open_dataset(const cli_command *cmd, const cli_args *a, clance_dataset **out) {
  *out = NULL;
  uint64_t version = 0;
  int has_version = cli_get_u64(cmd, a, "--version", &version);
  const char *tag = cli_get(cmd, a, "--tag");
  if (tag && has_version)
    return cli_usage_error(cmd, "--version and --tag are mutually exclusive");
  clance_error err;
  clance_status st = tag ? clance_dataset_open_tag(a->pos[0], tag, out, &err)
                         : clance_dataset_open(a->pos[0], version, out, &err);
  return st ? cli_fail(cmd->name, &err) : EXIT_OK;
}

static const cli_option opts[] = {
    {"--version", "N", "tag version N (create; default: the latest)"}, {NULL, NULL, NULL}};

static int run(const cli_command *cmd, const cli_args *a) {
  const char *sub = a->pos[0], *uri = a->pos[1], *name = a->n_pos > 2 ? a->pos[2] : NULL;
  int is_list = !strcmp(sub, "list");
  if (!is_list && strcmp(sub, "create") && strcmp(sub, "delete"))
    return cli_usage_error(cmd, "unknown subcommand \"%s\" (create, delete or list)", sub);
  if (a->n_pos < 2)
    return cli_usage_error(cmd, "missing URI");
  if (is_list ? name != NULL : name == NULL)
    return cli_usage_error(cmd, is_list ? "list takes no NAME" : "%s needs a NAME", sub);
  uint64_t version = 0;
  if (cli_get_u64(cmd, a, "--version", &version) && strcmp(sub, "create"))
    return cli_usage_error(cmd, "--version only applies to create");
  clance_error err;
  if (!strcmp(sub, "create")) {
    if (clance_tag_create(uri, name, version, &err) || clance_tag_version(uri, name, &version, &err))
      return cli_fail(cmd->name, &err);
    printf("%llu\n", (unsigned long long)version);
    return EXIT_OK;
  }
  if (!strcmp(sub, "delete"))
    return clance_tag_delete(uri, name, &err) ? cli_fail(cmd->name, &err) : EXIT_OK;
  clance_tag *tags;
  size_t n;
  if (clance_tag_list(uri, &tags, &n, &err))
    return cli_fail(cmd->name, &err);
  for (size_t i = 0; i < n; i++)
    /* Names are letters, digits, '.', '-', '_' (or UTF-8 from Lance): no JSON escaping needed. */
    printf("{\"name\": \"%s\", \"version\": %llu, \"manifest_size\": %llu%s}\n", tags[i].name,
           (unsigned long long)tags[i].version, (unsigned long long)tags[i].manifest_size,
           tags[i].on_branch ? ", \"branch\": true" : "");
  clance_free(tags);
  return EXIT_OK;
}

const cli_command cli_cmd_tag = {
    "tag", "create|delete|list URI [NAME] [--version N]",
    "Create, delete or list tags (named versions).",
    "create tags version N (default: the latest) as NAME and prints the version; it fails if\n"
    "the tag exists or the version does not. delete removes a tag. list prints one JSON\n"
    "object per tag, sorted by name: {\"name\", \"version\", \"manifest_size\"}. Tags are\n"
    "_refs/tags/NAME.json, as Lance writes them; names are letters, digits, '.', '-' and\n"
    "'_', without a leading or trailing '.', \"..\" or a final \".lock\". Tagged versions\n"
    "survive `clance cleanup`; read one with --tag NAME (scan, take, count, info).",
    opts, 2, 3, run};
