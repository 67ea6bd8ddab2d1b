/* clance write-fragments: phase 1 of a distributed write, run by each worker. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "io/fs.h"
#include "textio.h"

static const cli_option opts[] = {
    {"--schema", "SPEC", "column names and types, e.g. 'a:int32,b:string' (required)"},
    {"--input", "FILE", "input file, '-' for standard input (required)"},
    {"--format", "csv|jsonl|arrow", "input format (default: from the file extension, else jsonl)"},
    {"--data-storage-version", "V", "Lance file format 2.0, 2.1 or 2.2 (default: the dataset's, else 2.1)"},
    {"--mode", "auto|create|append", "reuse an existing dataset's field ids (auto, default) or not"},
    {"--max-rows-per-file", "N", "start a new file and fragment after N rows (default 1048576)"},
    {"--max-rows-per-group", "N", "at most N rows per page"},
    {"--max-bytes-per-file", "N", "start a new file after about N bytes (default 90 GiB)"},
    {"--batch-rows", "N", "rows parsed per batch (default 65536)"},
    {"--max-buffer-bytes", "N", "bound on the data held while writing (default 268435456 = 256 MiB)"},
    {"--threads", "N", "threads encoding pages (1 = single-threaded; default: one per core)"},
    {"--output", "FILE", "write the fragment JSON to FILE (atomically) instead of stdout"},
    {"--task-id", "ID", "worker task id (e.g. $SLURM_ARRAY_TASK_ID): a re-run replaces the task's earlier output"},
    {"--progress", NULL, "show rows written and MB/s on stderr (default: when stderr is a terminal)"},
    {"--no-progress", NULL, "never show progress"},
    {"--no-fsync", NULL, "leave flushing the data files to the OS, as Lance does (an OS crash can lose them)"},
    {NULL, NULL, NULL}};

#define FORMAT_ARROW 1000 /* Arrow IPC stream or file */

static int format_of(const cli_command *cmd, const cli_args *a, const char *input) {
  const char *f = cli_get(cmd, a, "--format");
  if (f)
    return !strcmp(f, "arrow") ? FORMAT_ARROW : cl_text_format_from_name(f);
  size_t n = strlen(input);
  if ((n > 6 && !strcmp(input + n - 6, ".arrow")) || (n > 7 && !strcmp(input + n - 7, ".arrows")))
    return FORMAT_ARROW;
  if (n > 4 && !strcmp(input + n - 4, ".csv"))
    return CL_TEXT_CSV;
  return CL_TEXT_JSONL;
}

/* Progress on stderr, at most every half second, on one rewritten line. */
typedef struct progress {
  struct timespec start, last;
  uint64_t rows, bytes;
  int shown;
} progress;

static double secs(const struct timespec *a, const struct timespec *b) {
  return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void progress_print(progress *p, const struct timespec *now) {
  double t = secs(&p->start, now);
  fprintf(stderr, "\rclance write-fragments: %llu rows, %.1f MB written, %.1f MB/s   ",
          (unsigned long long)p->rows, (double)p->bytes / 1e6,
          t > 0 ? (double)p->bytes / 1e6 / t : 0.0);
  fflush(stderr);
  p->last = *now;
  p->shown = 1;
}

static void on_progress(void *ctx, uint64_t rows, uint64_t bytes) {
  progress *p = ctx;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  p->rows = rows;
  p->bytes = bytes;
  if (secs(&p->last, &now) >= 0.5)
    progress_print(p, &now);
}

static int run(const cli_command *cmd, const cli_args *a) {
  const char *uri = a->pos[0], *spec = cli_get(cmd, a, "--schema"),
             *input = cli_get(cmd, a, "--input"), *output = cli_get(cmd, a, "--output");
  if (!input)
    return cli_usage_error(cmd, "--input is required");
  int format = format_of(cmd, a, input);
  if (format < 0)
    return cli_usage_error(cmd, "--format must be csv, jsonl or arrow");
  if (!spec && format != FORMAT_ARROW)
    return cli_usage_error(cmd, "--schema is required (except with --format arrow)");
  clance_write_options o;
  clance_write_options_init(&o);
  o.data_storage_version = cli_get(cmd, a, "--data-storage-version");
  const char *mode = cli_get(cmd, a, "--mode");
  if (mode && !strcmp(mode, "create"))
    o.mode = CLANCE_WRITE_CREATE;
  else if (mode && !strcmp(mode, "append"))
    o.mode = CLANCE_WRITE_APPEND;
  else if (mode && strcmp(mode, "auto") != 0)
    return cli_usage_error(cmd, "--mode must be auto, create or append");
  cli_get_u64(cmd, a, "--max-rows-per-file", &o.max_rows_per_file);
  cli_get_u64(cmd, a, "--max-rows-per-group", &o.max_rows_per_group);
  cli_get_u64(cmd, a, "--max-bytes-per-file", &o.max_bytes_per_file);
  cli_get_u64(cmd, a, "--max-buffer-bytes", &o.max_buffer_bytes);
  uint64_t batch_rows = 0;
  cli_get_u64(cmd, a, "--batch-rows", &batch_rows);
  uint64_t threads = 0;
  cli_get_u64(cmd, a, "--threads", &threads);
  o.num_threads = threads > 4096 ? 4096 : (uint32_t)threads;
  o.task_id = cli_get(cmd, a, "--task-id");
  o.no_fsync = cli_get(cmd, a, "--no-fsync") != NULL;
  progress prog;
  memset(&prog, 0, sizeof prog);
  if (cli_get(cmd, a, "--progress") || (!cli_get(cmd, a, "--no-progress") && isatty(2))) {
    clock_gettime(CLOCK_MONOTONIC, &prog.start);
    prog.last = prog.start;
    o.on_progress = on_progress;
    o.progress_ctx = &prog;
  }

  clance_error err;
  cl_schema schema;
  memset(&schema, 0, sizeof schema);
  if (spec && cl_schema_parse_spec(spec, &schema, &err))
    return cli_fail(cmd->name, &err);
  struct ArrowSchema as;
  memset(&as, 0, sizeof as);
  struct ArrowArrayStream stream;
  clance_fragments *frags = NULL;
  int rc = EXIT_OK;
  if (spec && cl_schema_to_arrow(&schema, &as, &err)) {
    cl_schema_free(&schema);
    return cli_fail(cmd->name, &err);
  }
  /* Arrow IPC: the schema comes with the data (--schema must match it);
   * dictionary-encoded columns are written as plain columns. */
  if ((format == FORMAT_ARROW
           ? clance_ipc_stream_open(input, CLANCE_IPC_DECODE_DICTIONARIES, &stream, &err)
           : cl_text_reader_open(input, format, &schema, batch_rows, &stream, &err)) ||
      clance_write_fragments(uri, spec ? &as : NULL, &stream, &o, &frags, &err))
    rc = cli_fail(cmd->name, &err);
  else
    rc = cli_print_fragments(cmd->name, frags, output);
  if (o.on_progress && (prog.shown || rc == EXIT_OK)) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    progress_print(&prog, &now);
    fputc('\n', stderr);
  }
  clance_fragments_free(frags);
  if (as.release)
    as.release(&as);
  cl_schema_free(&schema);
  return rc;
}

const cli_command cli_cmd_write_fragments = {
    "write-fragments",
    "URI [--schema SPEC] --input FILE [--format csv|jsonl|arrow] [options]",
    "Write data files for URI and print their FragmentMetadata as JSON, without committing.",
    "Run this on every worker: files get unique names, so any number of workers may write\n"
    "into the same dataset at once. Nothing becomes visible until 'clance commit' commits\n"
    "the printed JSON. Schema types: bool, int8..int64, uint8..uint64, float16, float32,\n"
    "float64, string, large_string, binary, large_binary, date32, timestamp(us[,TZ]),\n"
    "vector(float32,N); append '!' for NOT NULL. JSON Lines input has one object per row;\n"
    "CSV input has a header naming the columns. Arrow IPC input (stream or file, e.g.\n"
    "from pyarrow, polars, DuckDB or arrow-js; '.arrow'/'.arrows' or --format arrow)\n"
    "carries its schema, so --schema is optional and must match it when given.",
    opts, 1, 1, run};
