/* clance config: the table's config, table metadata and schema metadata
 * (an UpdateConfig transaction). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dataset/dataset.h"
#include "util/json.h"

static const cli_option opts[] = {
    {"--metadata", NULL, "work on the table metadata instead of the config"},
    {"--schema-metadata", NULL, "work on the schema metadata instead of the config"},
    {"--read-version", "N", "the version the change is based on (default: the latest)"},
    {NULL, NULL, NULL}};

/* Print the chosen map of the latest version as one JSON object. */
static int list(const cli_command *cmd, const char *uri, int target) {
  clance_error err;
  clance_dataset *ds;
  if (clance_dataset_open(uri, 0, &ds, &err))
    return cli_fail(cmd->name, &err);
  const pb_manifest *m = ds->manifest.pb;
  cl_buf out = CL_BUF_INIT;
  clance_status st = cl_buf_printf(&out, &err, "{");
  if (target == 2) {
    for (size_t i = 0; !st && i < m->n_schema_metadata; i++) {
      const Lance__File__StringBytesEntry *e = m->schema_metadata[i];
      st = cl_buf_printf(&out, &err, "%s", i ? ", " : "");
      if (!st)
        st = cl_json_write_string(&out, cl_pb_str(e->key), strlen(cl_pb_str(e->key)), &err);
      if (!st)
        st = cl_buf_printf(&out, &err, ": ");
      if (!st)
        st = cl_json_write_string(&out, (const char *)e->value.data, e->value.len, &err);
    }
  } else {
    Lance__File__StringStringEntry *const *v = target ? m->table_metadata : m->config;
    size_t n = target ? m->n_table_metadata : m->n_config;
    for (size_t i = 0; !st && i < n; i++) {
      st = cl_buf_printf(&out, &err, "%s", i ? ", " : "");
      if (!st)
        st = cl_json_write_string(&out, cl_pb_str(v[i]->key), strlen(cl_pb_str(v[i]->key)), &err);
      if (!st)
        st = cl_buf_printf(&out, &err, ": ");
      if (!st)
        st = cl_json_write_string(&out, cl_pb_str(v[i]->value), strlen(cl_pb_str(v[i]->value)), &err);
    }
  }
  if (!st)
    st = cl_buf_printf(&out, &err, "}");
  clance_dataset_close(ds);
  if (st) {
    cl_buf_free(&out);
    return cli_fail(cmd->name, &err);
  }
  printf("%.*s\n", (int)out.len, (const char *)out.data);
  cl_buf_free(&out);
  return EXIT_OK;
}

static int run(const cli_command *cmd, const cli_args *a) {
  const char *uri = a->pos[0], *verb = a->pos[1];
  int target = cli_get(cmd, a, "--metadata") ? 1 : cli_get(cmd, a, "--schema-metadata") ? 2 : 0;
  if (cli_get(cmd, a, "--metadata") && cli_get(cmd, a, "--schema-metadata"))
    return cli_usage_error(cmd, "--metadata and --schema-metadata exclude each other");
  if (!strcmp(verb, "list")) {
    if (a->n_pos != 2)
      return cli_usage_error(cmd, "list takes no arguments");
    return list(cmd, uri, target);
  }
  int set = !strcmp(verb, "set");
  if (!set && strcmp(verb, "unset") != 0)
    return cli_usage_error(cmd, "the action must be list, set or unset, not \"%s\"", verb);
  size_t n = (size_t)a->n_pos - 2;
  if (!n)
    return cli_usage_error(cmd, "%s needs %s", verb, set ? "KEY=VALUE arguments" : "KEY arguments");
  const char **keys = calloc(n, sizeof *keys), **values = calloc(n, sizeof *values);
  char **owned = calloc(n, sizeof *owned);
  int rc = EXIT_OK;
  if (!keys || !values || !owned) {
    rc = EXIT_ERROR;
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    const char *arg = a->pos[i + 2];
    if (!set) {
      keys[i] = arg;
      continue;
    }
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
      rc = cli_usage_error(cmd, "set needs KEY=VALUE, got \"%s\"", arg);
      goto done;
    }
    owned[i] = strndup(arg, (size_t)(eq - arg));
    keys[i] = owned[i];
    values[i] = eq + 1;
  }
  clance_error err;
  clance_operation *op = NULL;
  clance_dataset *ds = NULL;
  uint64_t rv = 0, version;
  if (!cli_get_u64(cmd, a, "--read-version", &rv)) {
    if (clance_dataset_open(uri, 0, &ds, &err)) {
      rc = cli_fail(cmd->name, &err);
      goto done;
    }
    rv = clance_dataset_version(ds);
    clance_dataset_close(ds);
  }
  if (clance_operation_update_config((clance_config_target)target, keys, values, n, &op, &err) ||
      clance_commit(uri, op, rv, NULL, &version, &err))
    rc = cli_fail(cmd->name, &err);
  else
    printf("%llu\n", (unsigned long long)version);
  clance_operation_free(op);
done:
  for (size_t i = 0; owned && i < n; i++)
    free(owned[i]);
  free(owned);
  free(keys);
  free(values);
  return rc;
}

const cli_command cli_cmd_config = {
    "config",
    "URI list | set KEY=VALUE... | unset KEY... [--metadata | --schema-metadata]",
    "Show or change the table config (or table / schema metadata).",
    "set and unset commit an UpdateConfig transaction and print the new version; list prints\n"
    "the latest version's map as a JSON object. Lance reads some config keys itself, e.g.\n"
    "lance.auto_cleanup.interval and lance.auto_cleanup.older_than.",
    opts, 2, -1, run};
