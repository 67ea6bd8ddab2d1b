/* clance info / clance versions: describe a dataset. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const cli_option info_opts[] = {
    {"--version", "N", "describe version N (default: latest)"},
    {"--tag", "NAME", "describe the version tagged NAME"},
    {NULL, NULL, NULL}};

static int run_info(const cli_command *cmd, const cli_args *a) {
  clance_error err;
  clance_dataset *ds;
  int rc = cli_open_dataset(cmd, a, &ds);
  if (rc != EXIT_OK)
    return rc;
  char *json;
  clance_status st = clance_dataset_info_json(ds, &json, &err);
  clance_dataset_close(ds);
  if (st)
    return cli_fail(cmd->name, &err);
  printf("%s\n", json);
  clance_free(json);
  return EXIT_OK;
}

const cli_command cli_cmd_info = {
    "info", "URI [--version N | --tag NAME]", "Print a dataset version as JSON.",
    "Prints {\"version\", \"num_rows\", \"num_fragments\", \"data_storage_version\", \"schema\",\n"
    "\"fragments\"}; fragments are FragmentMetadata JSON with their committed ids.",
    info_opts, 1, 1, run_info};

static int run_versions(const cli_command *cmd, const cli_args *a) {
  clance_error err;
  clance_version_info *v;
  size_t n;
  if (clance_list_versions(a->pos[0], &v, &n, &err))
    return cli_fail(cmd->name, &err);
  for (size_t i = 0; i < n; i++) {
    char ts[64] = "";
    time_t secs = (time_t)(v[i].timestamp_ns / 1000000000);
    struct tm tm;
    if (v[i].timestamp_ns && gmtime_r(&secs, &tm))
      strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("{\"version\": %llu, \"timestamp\": \"%s\", \"operation\": \"%s\", \"num_rows\": %llu, "
           "\"num_fragments\": %zu}\n",
           (unsigned long long)v[i].version, ts, v[i].operation, (unsigned long long)v[i].num_rows,
           v[i].num_fragments);
  }
  clance_free(v);
  return EXIT_OK;
}

const cli_command cli_cmd_versions = {
    "versions", "URI", "List the versions of a dataset, one JSON object per line.",
    "Each line gives the version number, its commit time (UTC), the operation that made it,\n"
    "and its row and fragment counts.",
    NULL, 1, 1, run_versions};
