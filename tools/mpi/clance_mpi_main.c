/* clance-mpi: an MPI program that writes a Lance dataset in one transaction.
 *
 *   mpirun -np 4 clance-mpi write URI --schema 'a:int32,b:string' --input 'part-%d.csv'
 *   mpirun -np 4 clance-mpi add-columns URI --schema 'c:int64' --input 'cols-%d.csv'
 *
 * write: each rank reads its own part (%d = its rank) with the CLI's text
 * reader, writes fragments, and rank 0 commits one Overwrite or Append
 * (clance_mpi_write). add-columns: each rank adds the new columns to its
 * contiguous share of the fragments and rank 0 commits one Merge
 * (clance_mpi_add_columns). Rank 0 prints the committed version; on error
 * rank 0 prints the error (the same on every rank) and every rank exits
 * non-zero. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clance/clance_mpi.h"
#include "dataset/dataset.h"
#include "textio.h"
#include "textio_addcols.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_RETRYABLE = 3, EXIT_INCOMPATIBLE = 4 };

static const char usage_text[] =
    "Usage: mpirun -np N clance-mpi write URI --schema SPEC --input PATTERN [options]\n"
    "       mpirun -np N clance-mpi add-columns URI --schema SPEC --input PATTERN|FILE\n"
    "                                [--key COLUMN] [options]\n"
    "\n"
    "write: every rank reads its own part of the input and writes it as fragments of\n"
    "URI; rank 0 commits them as one transaction (Overwrite or Append) and prints\n"
    "the new version.\n"
    "\n"
    "add-columns: the fragments of the read version are split among the ranks in\n"
    "contiguous ranges (with F fragments, rank r has those at positions r*F/N to\n"
    "(r+1)*F/N - 1 in manifest order, so its rows are one contiguous range in scan\n"
    "order); every rank writes the new columns' values for its fragments as new\n"
    "data files and rank 0 commits one Merge and prints the new version. The\n"
    "values: with a PATTERN (%d = the rank), rank r's part holds exactly the values\n"
    "of rank r's rows, in scan order; with one FILE (no %d), every rank reads it\n"
    "and its row n belongs to the version's n-th row. With --key, rows match by\n"
    "the value of a column that the dataset and the input have (dataset rows\n"
    "without an input row get nulls) and every rank reads the whole input (all\n"
    "parts of a PATTERN). The input a rank reads is held in memory.\n"
    "\n"
    "When any rank fails, every rank fails with its error and nothing is committed.\n"
    "\n"
    "Options:\n"
    "  --schema SPEC               column names and types, e.g. 'a:int32,b:string' (required;\n"
    "                              add-columns: the new columns)\n"
    "  --input PATTERN             input file of each rank: %d is the rank (also %0Nd,\n"
    "                              zero-padded to N digits; %% is a %) (required)\n"
    "  --format csv|jsonl          input format (default: from the extension, else jsonl)\n"
    "  --mode overwrite|append     write: Overwrite (default; creates the dataset) or Append\n"
    "  --key COLUMN                add-columns: match input rows to dataset rows by this\n"
    "                              column instead of by position\n"
    "  --read-version N            version the operation is prepared against (default: the\n"
    "                              latest when it starts; write: 0 = no dataset yet)\n"
    "  --data-storage-version V    write: Lance file format 2.0, 2.1 or 2.2\n"
    "  --max-rows-per-file N       write: start a new file and fragment after N rows\n"
    "  --max-rows-per-group N      at most N rows per page\n"
    "  --batch-rows N              write: rows parsed per batch (default 65536)\n"
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
 * usage message when the pattern is malformed. With allow_none, a pattern
 * without %d is one file; *per_rank (may be NULL) tells which it is. */
static char *input_of(const char *pattern, int rank, int allow_none, int *per_rank) {
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
  if (per_rank)
    *per_rank = placeholders == 1;
  if (placeholders != 1 && !(allow_none && placeholders == 0)) {
    usage_error("--input needs exactly one %%d (the rank) in \"%s\"", pattern);
    free(out);
    return NULL;
  }
  return out;
}

typedef struct args {
  int add_columns; /* the command: write (0) or add-columns (1) */
  const char *uri, *schema, *input, *format, *mode, *dsv, *key;
  const char *read_version, *max_rows_per_file, *max_rows_per_group, *batch_rows;
} args;

static int parse_args(int argc, char **argv, args *a) {
  memset(a, 0, sizeof *a);
  if (argc < 2)
    return usage_error("missing command (write or add-columns)");
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    if (g_rank == 0)
      fputs(usage_text, stdout);
    return -1;
  }
  if (!strcmp(argv[1], "add-columns"))
    a->add_columns = 1;
  else if (strcmp(argv[1], "write") != 0)
    return usage_error("unknown command \"%s\" (the commands are write and add-columns)",
                       argv[1]);
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
              {"--batch-rows", &a->batch_rows},
              {"--key", &a->key}};
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
  static const char *const write_only[] = {"--mode", "--data-storage-version",
                                           "--max-rows-per-file", "--batch-rows"};
  const char *const given[] = {a->mode, a->dsv, a->max_rows_per_file, a->batch_rows};
  for (size_t i = 0; a->add_columns && i < sizeof given / sizeof *given; i++)
    if (given[i])
      return usage_error("%s is an option of write, not of add-columns", write_only[i]);
  if (!a->add_columns && a->key)
    return usage_error("--key is an option of add-columns, not of write");
  return 0;
}

static int run_add_columns(const args *a);

static int run(int argc, char **argv) {
  args a;
  int rc = parse_args(argc, argv, &a);
  if (rc)
    return rc < 0 ? EXIT_OK : rc;
  if (a.add_columns)
    return run_add_columns(&a);

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
  char *input = input_of(a.input, g_rank, 0, NULL);
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

/* ---- add-columns ---- */

/* Collective: 0 when no rank has an error in *e; else every rank gets the
 * error of the lowest failing rank ("rank R: ...") in *e and 1. */
static int any_failed(clance_error *e) {
  int size = 1, mine, lowest;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  mine = e->code ? g_rank : size;
  if (MPI_Allreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS) {
    cl_err(e, CLANCE_EIO, "MPI_Allreduce failed");
    return 1;
  }
  if (lowest == size)
    return 0;
  clance_error out;
  int code = (int)e->code;
  if (g_rank == lowest)
    snprintf(out.message, sizeof out.message, "rank %d: %.1000s", lowest, e->message);
  MPI_Bcast(&code, 1, MPI_INT, lowest, MPI_COMM_WORLD);
  MPI_Bcast(out.message, (int)sizeof out.message, MPI_CHAR, lowest, MPI_COMM_WORLD);
  out.code = (clance_status)code;
  out.message[sizeof out.message - 1] = '\0';
  *e = out;
  return 1;
}

typedef struct add_ctx {
  const cl_addcols_input *in;
  const char *key;          /* match by this column, or by position */
  const cl_addcols_keys *keys;
  uint64_t base;            /* the dataset row of input row 0 (by position) */
} add_ctx;

static clance_status values_of(void *user, const clance_dataset *ds, uint64_t fragment_id,
                               uint64_t first_row, uint64_t num_rows,
                               struct ArrowArrayStream *out, clance_error *err) {
  const add_ctx *c = user;
  int64_t *rows = NULL, n = 0;
  clance_status st;
  if (c->key) {
    st = cl_addcols_rows_by_key(ds, fragment_id, c->key, c->keys, &rows, &n, err);
  } else if (first_row < c->base || first_row - c->base + num_rows > (uint64_t)c->in->rows) {
    st = cl_err(err, CLANCE_EINVAL, "the input has %lld rows; fragment %llu needs rows %llu to %llu",
                (long long)c->in->rows, (unsigned long long)fragment_id,
                (unsigned long long)(first_row - c->base + 1),
                (unsigned long long)(first_row - c->base + num_rows));
  } else {
    n = (int64_t)num_rows;
    rows = malloc((num_rows ? num_rows : 1) * sizeof *rows);
    st = rows ? CLANCE_OK : cl_err(err, CLANCE_ENOMEM, "out of memory");
    for (int64_t i = 0; rows && i < n; i++)
      rows[i] = (int64_t)(first_row - c->base) + i;
  }
  if (!st)
    st = cl_addcols_values(c->in, c->key ? 1 : 0, rows, n, out, err);
  free(rows);
  return st;
}

static int run_add_columns(const args *a) {
  clance_write_options wo;
  clance_write_options_init(&wo);
  uint64_t read_version = CLANCE_MPI_LATEST_VERSION;
  if ((a->read_version && parse_u64("--read-version", a->read_version, &read_version)) ||
      (a->max_rows_per_group &&
       parse_u64("--max-rows-per-group", a->max_rows_per_group, &wo.max_rows_per_group)))
    return EXIT_USAGE;
  if (read_version == 0)
    return usage_error("--read-version of add-columns must be a version of the dataset (>= 1)");
  int format;
  if (a->format) {
    format = cl_text_format_from_name(a->format);
    if (format < 0)
      return usage_error("--format must be csv or jsonl");
  } else {
    size_t n = strlen(a->input);
    format = n > 4 && !strcmp(a->input + n - 4, ".csv") ? CL_TEXT_CSV : CL_TEXT_JSONL;
  }
  int size = 1, per_rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  /* The files this rank reads: its part, every part (by key), or the one file. */
  int n_paths = 0;
  char **paths = calloc((size_t)size, sizeof *paths);
  if (!paths)
    return EXIT_ERROR;
  char *first = input_of(a->input, g_rank, 1, &per_rank);
  if (!first) {
    free(paths);
    return EXIT_USAGE;
  }
  paths[n_paths++] = first;
  for (int r = 0; per_rank && a->key && r < size; r++) {
    if (r == g_rank)
      continue;
    if (!(paths[n_paths] = input_of(a->input, r, 1, NULL)))
      break;
    n_paths++;
  }
  clance_error err = {CLANCE_OK, ""};
  cl_schema added = {0};
  cl_addcols_input in;
  cl_addcols_keys keys;
  clance_dataset *ds = NULL;
  struct ArrowSchema as;
  memset(&in, 0, sizeof in);
  memset(&keys, 0, sizeof keys);
  memset(&as, 0, sizeof as);
  uint64_t rv = read_version, version = 0;
  int rc = EXIT_OK;
  /* The same spec everywhere: a bad one fails every rank alike. */
  if (cl_schema_parse_spec(a->schema, &added, &err) || cl_schema_to_arrow(&added, &as, &err)) {
    rc = fail(&err);
    goto done;
  }
  /* Pin the latest version (rank 0 reads it), so that every rank checks its
   * input against the version the Merge is prepared against. */
  if (rv == CLANCE_MPI_LATEST_VERSION) {
    if (g_rank == 0 && !clance_dataset_open(a->uri, 0, &ds, &err)) {
      rv = clance_dataset_version(ds);
      clance_dataset_close(ds);
      ds = NULL;
    }
    if (any_failed(&err)) {
      rc = fail(&err);
      goto done;
    }
    MPI_Bcast(&rv, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  }
  /* Every rank: the input (the key column typed as in the dataset, then the
   * new columns), checked against its share of the rows. */
  uint64_t base = 0;
  if (!clance_dataset_open(a->uri, rv, &ds, &err)) {
    size_t n = added.n_fields + (a->key ? 1 : 0);
    if ((in.schema.fields = cl_calloc(n, sizeof *in.schema.fields, &err))) {
      if (a->key) {
        int idx = cl_schema_index(&ds->schema, a->key);
        if (idx < 0 || !cl_addcols_key_ok(&ds->schema.fields[idx]))
          cl_err(&err, idx < 0 ? CLANCE_ENOTFOUND : CLANCE_EUNSUPPORTED,
                 idx < 0 ? "key column \"%s\" is not in the dataset"
                         : "key column \"%s\" must be an integer or string column", a->key);
        else if (!cl_field_copy(&ds->schema.fields[idx], &in.schema.fields[0], &err))
          in.schema.n_fields = 1;
      }
      for (size_t i = 0; !err.code && i < added.n_fields; i++)
        if (!cl_field_copy(&added.fields[i], &in.schema.fields[in.schema.n_fields], &err))
          in.schema.n_fields++;
    }
    if (!err.code && n_paths < (per_rank && a->key ? size : 1))
      cl_err(&err, CLANCE_ENOMEM, "out of memory");
    if (!err.code)
      cl_addcols_input_read((const char *const *)paths, (size_t)n_paths, format, &in, &err);
    if (!err.code && a->key)
      cl_addcols_key_build(&keys, &in.schema.fields[0], &in.arrays[0], &err);
    uint64_t rows = 0;
    if (!err.code && !a->key) {
      if (per_rank) {
        clance_mpi_add_columns_share(ds, g_rank, size, NULL, NULL, &base, &rows, &err);
      } else {
        rows = clance_dataset_count_rows(ds);
      }
      if (!err.code && rows != (uint64_t)in.rows)
        cl_err(&err, CLANCE_EINVAL,
               "%s has %lld rows but %s %llu rows of version %llu (match rows by position, or "
               "give --key)", paths[0], (long long)in.rows,
               per_rank ? "this rank adds to" : "the dataset has", (unsigned long long)rows,
               (unsigned long long)clance_dataset_version(ds));
    }
  }
  if (any_failed(&err)) {
    rc = fail(&err);
    goto done;
  }
  add_ctx ctx = {&in, a->key, &keys, base};
  if (clance_mpi_add_columns(MPI_COMM_WORLD, a->uri, rv, &as, values_of, &ctx, &wo, NULL,
                             &version, &err))
    rc = fail(&err);
  else if (g_rank == 0)
    printf("%llu\n", (unsigned long long)version);
done:
  if (as.release)
    as.release(&as);
  clance_dataset_close(ds);
  cl_addcols_input_free(&in);
  free(keys.slots);
  cl_schema_free(&added);
  for (int i = 0; i < n_paths; i++)
    free(paths[i]);
  free(paths);
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
