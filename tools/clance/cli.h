/* The clance command-line tool: commands are described by a table that
 * drives argument parsing, --help and the manual page alike. */
#ifndef CLANCE_CLI_H
#define CLANCE_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "clance/clance.h"

/* Exit codes (documented in --help and the manual). */
enum {
  EXIT_OK = 0,
  EXIT_ERROR = 1,
  EXIT_USAGE = 2,
  EXIT_CONFLICT_RETRYABLE = 3,
  EXIT_CONFLICT_INCOMPATIBLE = 4
};

typedef struct cli_option {
  const char *name; /* "--schema" */
  const char *arg;  /* "SPEC", or NULL for a flag */
  const char *help;
} cli_option;

#define CLI_MAX_OPTS 16
#define CLI_MAX_POS 4096

typedef struct cli_args {
  const char *values[CLI_MAX_OPTS]; /* per option of the command, NULL = absent ("" for a flag) */
  const char *pos[CLI_MAX_POS];
  int n_pos;
} cli_args;

typedef struct cli_command {
  const char *name;
  const char *synopsis;    /* "URI --schema SPEC --input FILE [options]" */
  const char *summary;     /* one line */
  const char *description; /* paragraphs */
  const cli_option *opts;
  int min_pos, max_pos;
  int (*run)(const struct cli_command *cmd, const cli_args *a);
} cli_command;

/* Value of option `name` or NULL. */
const char *cli_get(const cli_command *cmd, const cli_args *a, const char *name);
/* Parse an unsigned integer option; exits with a usage error when malformed. */
int cli_get_u64(const cli_command *cmd, const cli_args *a, const char *name, uint64_t *out);

/* Parse "1,2,3" into a malloc'ed array (caller frees); exits on a malformed list.
 * Returns 0 when the option is absent. */
int cli_get_u64_list(const cli_command *cmd, const cli_args *a, const char *name, uint64_t **out,
                     size_t *n);

/* Print fragments as JSON on stdout, or write them to `output` (atomically:
 * a commit job never sees a half-written file). Returns an exit code. */
int cli_print_fragments(const char *cmd, const clance_fragments *f, const char *output);

/* Print an error from the library and return the matching exit code. */
int cli_fail(const char *cmd, const clance_error *err);
int cli_usage_error(const cli_command *cmd, const char *fmt, ...);

void cli_print_help(FILE *out, const cli_command *cmd);

/* Open the dataset pos[0] at the command's --version N or --tag NAME (which
 * exclude each other); on failure prints why and returns the exit code. */
int cli_open_dataset(const cli_command *cmd, const cli_args *a, clance_dataset **out);

extern const cli_command cli_cmd_write_fragments;
extern const cli_command cli_cmd_commit;
extern const cli_command cli_cmd_scan;
extern const cli_command cli_cmd_info;
extern const cli_command cli_cmd_versions;
extern const cli_command cli_cmd_take;
extern const cli_command cli_cmd_count;
extern const cli_command cli_cmd_delete;
extern const cli_command cli_cmd_add_columns;
extern const cli_command cli_cmd_update;
extern const cli_command cli_cmd_drop_columns;
extern const cli_command cli_cmd_alter_column;
extern const cli_command cli_cmd_restore;
extern const cli_command cli_cmd_config;
extern const cli_command cli_cmd_optimize;
extern const cli_command cli_cmd_tag;
extern const cli_command cli_cmd_cleanup;
extern const cli_command cli_cmd_gc;
extern const cli_command cli_cmd_fsck;

#endif
