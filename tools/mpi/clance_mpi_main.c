/* clance-mpi: an MPI program that writes a Lance dataset in one transaction.
 *
 *   mpirun -np 4 clance-mpi write URI --schema 'a:int32,b:string' --input 'part-%d.csv'
 *
 * Each rank reads its own part (%d = its rank) with the CLI's text reader,
 * writes fragments, and rank 0 commits one Overwrite or Append
 * (clance_mpi_write). Rank 0 prints the committed version; on error rank 0
 * prints the error (the same on every rank) and every rank exits non-zero. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clance/clance_mpi.h"
#include "textio.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_RETRYABLE = 3, EXIT_INCOMPATIBLE = 4 };

static const char usage_text[] =
    "Usage: mpirun -np N clance-mpi write URI --schema SPEC --input PATTERN [options]\n"
    "\n"
    "Every rank reads its own part of the input and writes it as fragments of URI;\n"
    "rank 0 commits them as one transaction and prints the new version. When any\n"
    "rank fails, every rank fails with its error and nothing is committed.\n"
    "\n"
    "Options:\n"
    "  --schema SPEC               column names and types, e.g. 'a:int32,b:string' (required)\n"
    "  --input PATTERN             input file of each rank: %d is the rank (also %0Nd,\n"
    "                              zero-padded to N digits; %% is a %) (required)\n"
    "  --format csv|jsonl          input format (default: from the extension, else jsonl)\n"
    "  --mode overwrite|append     Overwrite (default; creates the dataset) or Append\n"
    "  --read-version N            version the write is prepared against (default: the\n"
    "                              latest when the write starts; 0 = no dataset yet)\n"
    "  --data-storage-version V    Lance file format 2.0, 2.1 or 2.2\n"
    "  --max-rows-per-file N       start a new file and fragment after N rows\n"
    "  --max-rows-per-group N      at most N rows per page\n"
    "  --batch-rows N              rows parsed per batch (default 65536)\n"
    "\n"
    "Exit status: 0 success; 1 error; 2 usage error; 3 retryable commit conflict;\n"
    "4 commit conflict that can never succeed.\n";

static int g_rank;

static int usage_error(const char *fmt, ...) {
  if (g_rank == 0) {
    va_list ap;
    fprintf(stderr, "clance-mpi: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'clance-mpi --help'.\n");
  }
  return EXIT_USAGE;
}

static int fail(const clance_error *err) {
  if (g_rank == 0)
    fprintf(stderr, "clance-mpi: error %s: %s\n", clance_status_name(err->code), err->message);
  switch (err->code) {
  case CLANCE_ECONFLICT_RETRYABLE:
  case CLANCE_ECONTENTION: return EXIT_RETRYABLE;
  case CLANCE_ECONFLICT_INCOMPATIBLE: return EXIT_INCOMPATIBLE;
  default: return EXIT_ERROR;
  }
}

static int parse_u64(const char *name, const char *v, uint64_t *out) {
  char *end;
  if (!v || !*v || *v == '-' || *v == '+')
    return usage_error("%s needs a non-negative integer, got \"%s\"", name, v ? v : "");
  unsigned long long x = strtoull(v, &end, 10);
  if (*end)
    return usage_error("%s needs a non-negative integer, got \"%s\"", name, v);
  *out = x;
  return 0;
}

/* PATTERN with the rank substituted for its one %d (or %0Nd); NULL and a
 * usage message when the pattern is malformed. */
static char *input_of(const char *pattern, int rank) {
  size_t cap = strlen(pattern) + 32;
  char *out = malloc(cap);
  int placeholders = 0;
  size_t k = 0;
  if (!out)
    return NULL;
  for (const char *p = pattern; *p; p++) {
    if (*p != '%') {
      out[k++] = *p;
      continue;
    }
    if (p[1] == '%') {
      out[k++] = '%';
      p++;
      continue;
    }
    const char *q = p + 1;
    int width = 0;
    if (*q == '0')
      while (*q >= '0' && *q <= '9' && width < 100)
        width = width * 10 + (*q++ - '0');
    if (*q != 'd' || width >= 20) {
      usage_error("--input: only %%d, %%0Nd and %%%% may follow a %% in \"%s\"", pattern);
      free(out);
      return NULL;
    }
    placeholders++;
    k += (size_t)snprintf(out + k, cap - k, "%0*d", width, rank);
    p = q;
  }
  out[k] = '\0';
  if (placeholders != 1) {
    usage_error("--input needs exactly one %%d (the rank) in \"%s\"", pattern);
    free(out);
    return NULL;
  }
  return out;
}

typedef struct args {
  const char *uri, *schema, *input, *format, *mode, *dsv;
  const char *read_version, *max_rows_per_file, *max_rows_per_group, *batch_rows;
} args;

static int parse_args(int argc, char **argv, args *a) {
  memset(a, 0, sizeof *a);
  if (argc < 2)
    return usage_error("missing command (write)");
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    if (g_rank == 0)
      fputs(usage_text, stdout);
    return -1;
  }
  if (strcmp(argv[1], "write") != 0)
    return usage_error("unknown command \"%s\" (the command is write)", argv[1]);
  struct {
    const char *name;
    const char **slot;
  } opts[] = {{"--schema", &a->schema},
              {"--input", &a->input},
              {"--format", &a->format},
              {"--mode", &a->mode},
              {"--data-storage-version", &a->dsv},
              {"--read-version", &a->read_version},
              {"--max-rows-per-file", &a->max_rows_per_file},
              {"--max-rows-per-group", &a->max_rows_per_group},
              {"--batch-rows", &a->batch_rows}};
  for (int i = 2; i < argc; i++) {
    const char *arg = argv[i];
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      if (g_rank == 0)
        fputs(usage_text, stdout);
      return -1;
    }
    if (arg[0] == '-' && arg[1] == '-') {
      size_t k = 0, n = sizeof opts / sizeof *opts;
      const char *eq = strchr(arg, '=');
      size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
      while (k < n && !(strlen(opts[k].name) == len && !strncmp(opts[k].name, arg, len)))
        k++;
      if (k == n)
        return usage_error("unknown option \"%s\"", arg);
      if (eq) {
        *opts[k].slot = eq + 1;
      } else {
        if (i + 1 >= argc)
          return usage_error("%s needs a value", opts[k].name);
        *opts[k].slot = argv[++i];
      }
    } else if (!a->uri) {
      a->uri = arg;
    } else {
      return usage_error("unexpected argument \"%s\"", arg);
    }
  }
  if (!a->uri)
    return usage_error("missing the dataset URI");
  if (!a->schema)
    return usage_error("--schema is required");
  if (!a->input)
    return usage_error("--input is required");
  return 0;
}

static int run(int argc, char **argv) {
  args a;
  int rc = parse_args(argc, argv, &a);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;

  clance_write_options wo;
  clance_write_options_init(&wo);
  wo.data_storage_version = a.dsv;
  uint64_t read_version = CLANCE_MPI_LATEST_VERSION, batch_rows = 0;
  if ((a.read_version && parse_u64("--read-version", a.read_version, &read_version)) ||
      (a.max_rows_per_file &&
       parse_u64("--max-rows-per-file", a.max_rows_per_file, &wo.max_rows_per_file)) ||
      (a.max_rows_per_group &&
       parse_u64("--max-rows-per-group", a.max_rows_per_group, &wo.max_rows_per_group)) ||
      (a.batch_rows && parse_u64("--batch-rows", a.batch_rows, &batch_rows)))
    return EXIT_USAGE;
  clance_mpi_operation op = CLANCE_MPI_OVERWRITE;
  if (a.mode && !strcmp(a.mode, "append"))
    op = CLANCE_MPI_APPEND;
  else if (a.mode && strcmp(a.mode, "overwrite") != 0)
    return usage_error("--mode must be overwrite or append");
  int format;
  if (a.format) {
    format = cl_text_format_from_name(a.format);
    if (format < 0)
      return usage_error("--format must be csv or jsonl");
  } else {
    size_t n = strlen(a.input);
    format = n > 4 && !strcmp(a.input + n - 4, ".csv") ? CL_TEXT_CSV : CL_TEXT_JSONL;
  }
  char *input = input_of(a.input, g_rank);
  if (!input)
    return EXIT_USAGE;

  /* The schema spec is the same on every rank, so a bad one fails everywhere
   * alike before any collective call. */
  clance_error err;
  cl_schema schema;
  struct ArrowSchema as;
  if (cl_schema_parse_spec(a.schema, &schema, &err)) {
    free(input);
    return fail(&err);
  }
  if (cl_schema_to_arrow(&schema, &as, &err)) {
    cl_schema_free(&schema);
    free(input);
    return fail(&err);
  }
  /* A rank whose input cannot be opened still takes part, with a stream that
   * fails with its error: every rank then reports it. */
  struct ArrowArrayStream stream;
  clance_error open_err;
  if (cl_text_reader_open(input, format, &schema, batch_rows, &stream, &open_err) &&
      clance_mpi_error_stream(&open_err, &stream, &err)) {
    stream.release = NULL; /* clance_mpi_write reports the missing stream */
  }
  uint64_t version = 0;
  if (clance_mpi_write(MPI_COMM_WORLD, a.uri, &as, &stream, op, &wo, read_version, NULL,
                       &version, &err))
    rc = fail(&err);
  else if (g_rank == 0)
    printf("%llu\n", (unsigned long long)version);
  as.release(&as);
  cl_schema_free(&schema);
  free(input);
  return rc;
}

int main(int argc, char **argv) {
  /* --help needs no MPI runtime (manual pages are generated from it). */
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(usage_text, stdout);
      return EXIT_OK;
    }
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
    fprintf(stderr, "clance-mpi: MPI_Init failed\n");
    return EXIT_ERROR;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  int rc = run(argc, argv);
  fflush(stdout);
  MPI_Finalize();
  return rc;
}
