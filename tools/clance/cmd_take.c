/* clance take / clance count: random access and counting. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "textio.h"

/* "a,b,c" -> names (in a copy the caller frees). */
static size_t split_names(const char *s, char **copy, const char **list, size_t max) {
  size_t n = 0;
  *copy = s ? strdup(s) : NULL;
  for (char *save = NULL, *t = *copy ? strtok_r(*copy, ",", &save) : NULL; t && n < max;
       t = strtok_r(NULL, ",", &save))
    list[n++] = t;
  return n;
}

static const cli_option take_opts[] = {
    {"--rows", "I,J,...", "row positions to read (0-based, among the version's rows; required)"},
    {"--version", "N", "read version N (default: latest)"},
    {"--tag", "NAME", "read the version tagged NAME"},
    {"--columns", "A,B,...", "only these columns, in this order"},
    {"--format", "jsonl|csv", "output format (default jsonl)"},
    {NULL, NULL, NULL}};

static int run_take(const cli_command *cmd, const cli_args *a) {
  const char *rows_s = cli_get(cmd, a, "--rows");
  if (!rows_s)
    return cli_usage_error(cmd, "--rows is required");
  const char *fmt = cli_get(cmd, a, "--format");
  int format = fmt ? cl_text_format_from_name(fmt) : CL_TEXT_JSONL;
  if (format < 0)
    return cli_usage_error(cmd, "--format must be jsonl or csv");
  size_t cap = 16, n = 0;
  uint64_t *rows = malloc(cap * sizeof *rows);
  for (const char *p = rows_s; rows && *p;) {
    char *end;
    if (*p < '0' || *p > '9') {
      free(rows);
      return cli_usage_error(cmd, "--rows: \"%s\" is not a list of row numbers", rows_s);
    }
    unsigned long long v = strtoull(p, &end, 10);
    if (n == cap) {
      uint64_t *r = realloc(rows, (cap *= 2) * sizeof *rows);
      if (!r) {
        free(rows);
        return EXIT_ERROR;
      }
      rows = r;
    }
    rows[n++] = v;
    p = *end == ',' ? end + 1 : end;
    if (*end && *end != ',') {
      free(rows);
      return cli_usage_error(cmd, "--rows: \"%s\" is not a list of row numbers", rows_s);
    }
  }
  char *copy;
  const char *cols[1024];
  size_t nc = split_names(cli_get(cmd, a, "--columns"), &copy, cols, 1024);
  clance_scan_options o;
  clance_scan_options_init(&o);
  o.columns = nc ? cols : NULL;
  o.num_columns = nc;
  clance_error err;
  clance_dataset *ds = NULL;
  struct ArrowArray arr;
  struct ArrowSchema sch;
  memset(&arr, 0, sizeof arr);
  memset(&sch, 0, sizeof sch);
  int rc = EXIT_OK;
  cl_schema cs;
  memset(&cs, 0, sizeof cs);
  if ((rc = cli_open_dataset(cmd, a, &ds)) == EXIT_OK &&
      (clance_dataset_take(ds, rows, n, &o, &arr, &sch, &err) ||
       cl_schema_from_arrow(&sch, &cs, &err) || cl_text_write_batch(stdout, format, &cs, &arr, 1, &err)))
    rc = cli_fail(cmd->name, &err);
  cl_schema_free(&cs);
  if (arr.release)
    arr.release(&arr);
  if (sch.release)
    sch.release(&sch);
  clance_dataset_close(ds);
  free(copy);
  free(rows);
  return rc;
}

const cli_command cli_cmd_take = {
    "take", "URI --rows I,J,... [--columns A,B] [--version N | --tag NAME] [--format jsonl|csv]",
    "Print the rows at the given positions.",
    "Positions count the rows of the version (deleted rows excluded) from 0; rows are printed\n"
    "in the order given. Only the pages that hold the rows are decoded.",
    take_opts, 1, 1, run_take};

static const cli_option count_opts[] = {
    {"--filter", "PREDICATE", "count only rows where PREDICATE holds, e.g. \"id > 10 AND s = 'x'\""},
    {"--version", "N", "count in version N (default: latest)"},
    {"--tag", "NAME", "count in the version tagged NAME"},
    {NULL, NULL, NULL}};

static int run_count(const cli_command *cmd, const cli_args *a) {
  uint64_t n;
  clance_error err;
  clance_dataset *ds;
  int rc = cli_open_dataset(cmd, a, &ds);
  if (rc != EXIT_OK)
    return rc;
  clance_status st = clance_dataset_count_rows_where(ds, cli_get(cmd, a, "--filter"), &n, &err);
  clance_dataset_close(ds);
  if (st)
    return cli_fail(cmd->name, &err);
  printf("%llu\n", (unsigned long long)n);
  return EXIT_OK;
}

const cli_command cli_cmd_count = {
    "count", "URI [--filter PREDICATE] [--version N | --tag NAME]", "Print the number of rows.",
    "Without --filter the count comes from the manifest (no data is read). With it, only\n"
    "the columns the predicate names are read. Predicates compare columns with literals\n"
    "(= != <> < <= > >=), test IS [NOT] NULL, and combine with AND, OR, NOT and\n"
    "parentheses; comparisons with NULL are unknown, as in SQL.",
    count_opts, 1, 1, run_count};
