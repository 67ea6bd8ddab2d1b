/* clance: command-line front end. Each command lives in its own cmd_*.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "man.h"
#include "io/fs.h"
#include "table/manifest.h"

static const cli_command *const commands[] = {
    &cli_cmd_write_fragments, &cli_cmd_commit, &cli_cmd_scan,     &cli_cmd_take,
    &cli_cmd_count,           &cli_cmd_info,   &cli_cmd_versions, &cli_cmd_delete,
    &cli_cmd_add_columns,     &cli_cmd_update, &cli_cmd_drop_columns, &cli_cmd_alter_column,
    &cli_cmd_restore,         &cli_cmd_config,          &cli_cmd_optimize,
    &cli_cmd_tag,             &cli_cmd_cleanup,         &cli_cmd_gc,          &cli_cmd_fsck,
};
#define N_COMMANDS (sizeof commands / sizeof *commands)

static const char *const exit_codes =
    "Exit status: 0 success; 1 error (message on stderr: code, then what and where);\n"
    "2 usage error; 3 commit conflict that is retryable (redo the work on the latest\n"
    "version); 4 commit conflict that can never succeed.\n";

const char *cli_get(const cli_command *cmd, const cli_args *a, const char *name) {
  for (int i = 0; cmd->opts && cmd->opts[i].name; i++)
    if (!strcmp(cmd->opts[i].name, name))
      return a->values[i];
  return NULL;
}

int cli_get_u64(const cli_command *cmd, const cli_args *a, const char *name, uint64_t *out) {
  const char *v = cli_get(cmd, a, name);
  if (!v)
    return 0;
  char *end;
  unsigned long long x = strtoull(v, &end, 10);
  if (!*v || *end || *v == '-') {
    cli_usage_error(cmd, "%s needs a non-negative integer, got \"%s\"", name, v);
    exit(EXIT_USAGE);
  }
  *out = x;
  return 1;
}

int cli_get_u64_list(const cli_command *cmd, const cli_args *a, const char *name, uint64_t **out,
                     size_t *n) {
  const char *v = cli_get(cmd, a, name);
  *out = NULL;
  *n = 0;
  if (!v)
    return 0;
  *out = calloc(strlen(v) / 2 + 2, sizeof **out);
  if (!*out) {
    fprintf(stderr, "clance %s: out of memory\n", cmd->name);
    exit(EXIT_ERROR);
  }
  const char *p = v;
  for (;;) {
    char *end;
    if (*p < '0' || *p > '9') {
      cli_usage_error(cmd, "%s needs a comma-separated list of non-negative integers, got \"%s\"",
                      name, v);
      exit(EXIT_USAGE);
    }
    (*out)[(*n)++] = strtoull(p, &end, 10);
    if (!*end)
      break;
    if (*end != ',') {
      cli_usage_error(cmd, "%s needs a comma-separated list of non-negative integers, got \"%s\"",
                      name, v);
      exit(EXIT_USAGE);
    }
    p = end + 1;
  }
  return 1;
}

int cli_print_fragments(const char *cmd, const clance_fragments *f, const char *output) {
  clance_error err;
  char *json = NULL;
  if (clance_fragments_to_json(f, &json, &err))
    return cli_fail(cmd, &err);
  int rc = EXIT_OK;
  if (output) {
    size_t n = strlen(json);
    json[n] = '\n';
    if (cl_put_replace(output, json, n + 1, 1, &err))
      rc = cli_fail(cmd, &err);
    json[n] = '\0';
  } else {
    printf("%s\n", json);
  }
  clance_free(json);
  return rc;
}

int cli_fail(const char *cmd, const clance_error *err) {
  fprintf(stderr, "clance %s: error %s: %s\n", cmd, clance_status_name(err->code), err->message);
  switch (err->code) {
  case CLANCE_ECONFLICT_RETRYABLE:
  case CLANCE_ECONTENTION: return EXIT_CONFLICT_RETRYABLE;
  case CLANCE_ECONFLICT_INCOMPATIBLE: return EXIT_CONFLICT_INCOMPATIBLE;
  default: return EXIT_ERROR;
  }
}

int cli_usage_error(const cli_command *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "clance %s: ", cmd->name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'clance %s --help'.\n", cmd->name);
  return EXIT_USAGE;
}

void cli_print_help(FILE *out, const cli_command *cmd) {
  fprintf(out, "Usage: clance %s %s\n\n%s\n\n%s\n", cmd->name, cmd->synopsis, cmd->summary,
          cmd->description);
  if (cmd->opts && cmd->opts[0].name) {
    fprintf(out, "\nOptions:\n");
    for (int i = 0; cmd->opts[i].name; i++) {
      char left[64];
      snprintf(left, sizeof left, "%s%s%s", cmd->opts[i].name, cmd->opts[i].arg ? " " : "",
               cmd->opts[i].arg ? cmd->opts[i].arg : "");
      /* Continuation lines of the help (after '\n') line up under its first. */
      if (strlen(left) > 28)
        fprintf(out, "  %s\n  %-28s ", left, "");
      else
        fprintf(out, "  %-28s ", left);
      for (const char *h = cmd->opts[i].help; *h; h++)
        if (*h == '\n')
          fprintf(out, "\n  %-28s ", "");
        else
          fputc(*h, out);
      fputc('\n', out);
    }
  }
  fprintf(out, "  %-28s %s\n\n%s", "--help", "show this help", exit_codes);
}

/* Shared by --help and the manual page (--help-man). */
static const char *const intro =
    "Write and read Lance datasets; the two phases of a distributed write are\n"
    "'write-fragments' (on every worker) and 'commit' (once, on a coordinator).\n";

static void print_usage(FILE *out) {
  fprintf(out, "Usage: clance COMMAND [ARGS]\n\n%s\nCommands:\n", intro);
  for (size_t i = 0; i < N_COMMANDS; i++)
    fprintf(out, "  %-16s %s\n", commands[i]->name, commands[i]->summary);
  fprintf(out, "\nRun 'clance COMMAND --help' for a command's options.\n"
               "'clance --version' prints the library and format versions.\n\n%s", exit_codes);
}

static int parse(const cli_command *cmd, int argc, char **argv, cli_args *a) {
  memset(a, 0, sizeof *a);
  int only_pos = 0;
  for (int i = 0; i < argc; i++) {
    const char *s = argv[i];
    if (!only_pos && !strcmp(s, "--")) {
      only_pos = 1;
      continue;
    }
    if (!only_pos && s[0] == '-' && s[1] == '-') {
      const char *eq = strchr(s, '=');
      size_t len = eq ? (size_t)(eq - s) : strlen(s);
      int k = -1;
      for (int j = 0; cmd->opts && cmd->opts[j].name; j++)
        if (strlen(cmd->opts[j].name) == len && !strncmp(cmd->opts[j].name, s, len))
          k = j;
      if (k < 0)
        return cli_usage_error(cmd, "unknown option %.*s", (int)len, s);
      if (!cmd->opts[k].arg) {
        if (eq)
          return cli_usage_error(cmd, "option %s takes no value", cmd->opts[k].name);
        a->values[k] = "";
      } else if (eq) {
        a->values[k] = eq + 1;
      } else if (i + 1 < argc) {
        a->values[k] = argv[++i];
      } else {
        return cli_usage_error(cmd, "option %s needs a value (%s)", cmd->opts[k].name,
                               cmd->opts[k].arg);
      }
      continue;
    }
    if (a->n_pos >= CLI_MAX_POS)
      return cli_usage_error(cmd, "too many arguments");
    a->pos[a->n_pos++] = s;
  }
  if (a->n_pos < cmd->min_pos)
    return cli_usage_error(cmd, "missing argument (%s)", cmd->synopsis);
  if (cmd->max_pos >= 0 && a->n_pos > cmd->max_pos)
    return cli_usage_error(cmd, "unexpected argument \"%s\"", a->pos[cmd->max_pos]);
  return EXIT_OK;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    print_usage(stderr);
    return EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    print_usage(stdout);
    return EXIT_OK;
  }
  if (!strcmp(argv[1], "--help-man")) { /* hidden: the manual page, built from the tables */
    cli_print_man(stdout, commands, N_COMMANDS, intro, exit_codes);
    return EXIT_OK;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("clance %s (library %s)\n"
           "Lance data file formats: 2.0, 2.1 (default), 2.2 (read and written)\n"
           "Lance table format: manifest format 0.2, V2 (default) and V1 manifest names,\n"
           "transaction files, deletion files (Arrow IPC and roaring bitmaps);\n"
           "feature flags read 0x%x, written 0x%x\n",
           CLANCE_VERSION_STRING, clance_version(), (unsigned)CL_READER_FLAGS_SUPPORTED,
           (unsigned)CL_WRITER_FLAGS_SUPPORTED);
    return EXIT_OK;
  }
  for (size_t i = 0; i < N_COMMANDS; i++) {
    const cli_command *cmd = commands[i];
    if (strcmp(argv[1], cmd->name) != 0)
      continue;
    for (int k = 2; k < argc; k++)
      if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
        cli_print_help(stdout, cmd);
        return EXIT_OK;
      }
    cli_args a;
    int rc = parse(cmd, argc - 2, argv + 2, &a);
    if (rc)
      return rc;
    return cmd->run(cmd, &a);
  }
  fprintf(stderr, "clance: unknown command \"%s\"\n\n", argv[1]);
  print_usage(stderr);
  return EXIT_USAGE;
}
