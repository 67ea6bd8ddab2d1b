/* clance scan: print rows of a dataset version. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "textio.h"

static const cli_option opts[] = {
    {"--version", "N", "read version N (default: latest)"},
    {"--tag", "NAME", "read the version tagged NAME"},
    {"--columns", "A,B,...", "only these columns, in this order"},
    {"--format", "jsonl|csv|arrow", "output format (default jsonl; arrow = Arrow IPC stream)"},
    {"--batch-size", "N", "rows per batch (default 65536)"},
    {"--filter", "PREDICATE", "only rows where PREDICATE holds, e.g. \"id > 10 AND s = 'x'\""},
    {NULL, NULL, NULL}};

/* Rows as text, or as an Arrow IPC stream on stdout (consumes the stream). */
static clance_status write_out(int arrow, int format, struct ArrowArrayStream *s,
                               clance_error *err) {
  if (!arrow)
    return cl_text_write_stream(stdout, format, s, err);
  fflush(stdout);
  return clance_ipc_write_stream(s, 1, 0, err);
}

static int run(const cli_command *cmd, const cli_args *a) {
  uint64_t batch = 0;
  cli_get_u64(cmd, a, "--batch-size", &batch);
  const char *fmt = cli_get(cmd, a, "--format");
  int arrow = fmt && !strcmp(fmt, "arrow");
  int format = arrow ? CL_TEXT_JSONL : fmt ? cl_text_format_from_name(fmt) : CL_TEXT_JSONL;
  if (format < 0)
    return cli_usage_error(cmd, "--format must be jsonl, csv or arrow");
  const char *cols = cli_get(cmd, a, "--columns");
  char *names = cols ? strdup(cols) : NULL;
  const char *list[1024];
  size_t n = 0;
  for (char *save = NULL, *t = names ? strtok_r(names, ",", &save) : NULL; t;
       t = strtok_r(NULL, ",", &save)) {
    if (n == 1024) {
      free(names);
      return cli_usage_error(cmd, "too many columns");
    }
    list[n++] = t;
  }
  clance_error err;
  clance_dataset *ds = NULL;
  struct ArrowArrayStream s;
  memset(&s, 0, sizeof s);
  int rc = EXIT_OK;
  clance_scan_options so;
  clance_scan_options_init(&so);
  so.columns = n ? list : NULL;
  so.num_columns = n;
  so.batch_size = batch;
  so.filter = cli_get(cmd, a, "--filter");
  if ((rc = cli_open_dataset(cmd, a, &ds)) != EXIT_OK) {
    free(names);
    return rc;
  }
  if (clance_dataset_scan(ds, &so, &s, &err) || write_out(arrow, format, &s, &err))
    rc = cli_fail(cmd->name, &err);
  if (s.release)
    s.release(&s);
  clance_dataset_close(ds);
  free(names);
  if (fflush(stdout) != 0 && rc == EXIT_OK) {
    fprintf(stderr, "clance scan: error writing output\n");
    rc = EXIT_ERROR;
  }
  return rc;
}

const cli_command cli_cmd_scan = {
    "scan", "URI [--version N | --tag NAME] [--columns A,B] [--format jsonl|csv]",
    "Print the rows of a dataset version.",
    "With --filter only matching rows are printed (comparisons of a column with a literal,\n"
    "IS [NOT] NULL, AND, OR, NOT, parentheses; NULL comparisons are unknown, as in SQL).\n"
    "JSON Lines output has one object per row with the columns in schema order: integers\n"
    "exact, floats in their shortest round-trip form (NaN/Infinity as strings), binary as\n"
    "hex, dates as days and timestamps as integers in their unit since the epoch.\n"
    "--format arrow writes an Arrow IPC stream (dictionary columns as dictionary batches).",
    opts, 1, 1, run};
