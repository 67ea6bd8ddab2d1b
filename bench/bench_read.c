/* clance's side of the read benchmark (bench/run; Lance's is lance_bench.js).
 * Times, best of --repeat runs: full scan (open included: each run opens the
 * dataset anew), a scan of one column, a take of the rows listed in
 * TAKES_FILE, a scan with a filter (all columns) and a count with the filter.
 * Then, untimed, each operation once more to fingerprint what it returned:
 * rows, the wrapping uint64 sum of `id` ("sum"), and for a float column the
 * sum of its values in scan order ("sumf"). Prints one JSON object.
 *   bench_read DATASET TAKES_FILE [--repeat N] [--filter PRED] [--column C] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clance/clance.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const clance_error *err) {
  fprintf(stderr, "bench_read: %s: %s: %s\n", what, clance_status_name(err->code), err->message);
  exit(1);
}

typedef struct result {
  double seconds;
  uint64_t rows, sum; /* sum: of int64 `id` (wrapping) */
  double sumf;        /* sum of a float64 column (one-column scan of one) */
  int has_sum, has_sumf;
} result;

/* Fingerprint `a` (a struct array with schema `sc`) into r: rows, and the sum
 * of column `col` (int64: r->sum, float64: r->sumf). */
static void fingerprint(const struct ArrowArray *a, const struct ArrowSchema *sc, const char *col,
                        result *r) {
  r->rows += (uint64_t)a->length;
  for (int64_t c = 0; c < sc->n_children; c++) {
    if (strcmp(sc->children[c]->name, col))
      continue;
    const struct ArrowArray *ch = a->children[c];
    int64_t off = a->offset + ch->offset;
    if (!strcmp(sc->children[c]->format, "l")) {
      const int64_t *v = ch->buffers[1];
      for (int64_t i = 0; i < a->length; i++)
        r->sum += (uint64_t)v[off + i];
      r->has_sum = 1;
    } else if (!strcmp(sc->children[c]->format, "g")) {
      const double *v = ch->buffers[1];
      for (int64_t i = 0; i < a->length; i++)
        r->sumf += v[off + i];
      r->has_sumf = 1;
    }
  }
}

/* Scan (column: one column, else all; filter may be NULL). Timed runs only
 * count rows; with `fp` the batches are fingerprinted by column fp. */
static uint64_t scan(const clance_dataset *ds, const char *column, const char *filter,
                     const char *fp, result *r) {
  clance_error err;
  clance_scan_options o;
  clance_scan_options_init(&o);
  o.columns = column ? &column : NULL;
  o.num_columns = column ? 1 : 0;
  o.filter = filter;
  struct ArrowArrayStream s;
  if (clance_dataset_scan(ds, &o, &s, &err))
    die("scan", &err);
  struct ArrowSchema sc;
  if (fp && s.get_schema(&s, &sc))
    die("scan schema", &err);
  uint64_t rows = 0;
  struct ArrowArray b;
  for (;;) {
    if (s.get_next(&s, &b)) {
      fprintf(stderr, "bench_read: scan: %s\n", s.get_last_error(&s));
      exit(1);
    }
    if (!b.release)
      break;
    rows += (uint64_t)b.length;
    if (fp)
      fingerprint(&b, &sc, fp, r);
    b.release(&b);
  }
  if (fp)
    sc.release(&sc);
  s.release(&s);
  return rows;
}

static void print(const char *name, const result *r, int last) {
  printf("\"%s\":{\"seconds\":%.6f,\"rows\":%llu", name, r->seconds, (unsigned long long)r->rows);
  if (r->has_sum)
    printf(",\"sum\":\"%llu\"", (unsigned long long)r->sum);
  if (r->has_sumf)
    printf(",\"sumf\":%.17g", r->sumf);
  printf("}%s", last ? "" : ",");
}

enum { FULL, ONE, TAKE, FSCAN, COUNT, NOPS };

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench_read DATASET TAKES_FILE [--repeat N] [--filter PRED] [--column C]\n");
    return 2;
  }
  int repeat = 3;
  const char *filter = "x > 0.5", *column = "x";
  for (int i = 3; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--repeat"))
      repeat = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--filter"))
      filter = argv[i + 1];
    else if (!strcmp(argv[i], "--column"))
      column = argv[i + 1];
  }
  FILE *tf = fopen(argv[2], "r");
  if (!tf) {
    perror(argv[2]);
    return 1;
  }
  size_t n = 0, cap = 1024;
  uint64_t *rows = malloc(cap * sizeof *rows);
  unsigned long long v;
  while (rows && fscanf(tf, "%llu", &v) == 1) {
    if (n == cap)
      rows = realloc(rows, (cap *= 2) * sizeof *rows);
    rows[n++] = v;
  }
  fclose(tf);
  if (!rows)
    return 1;
  clance_error err;
  result res[NOPS];
  memset(res, 0, sizeof res);
  for (int k = 0; k < NOPS; k++)
    res[k].seconds = 1e30;
  for (int r = 0; r < repeat; r++) {
    /* Each run opens the dataset anew, as each Lance query does its own work. */
    double t[NOPS + 1];
    t[0] = now();
    clance_dataset *ds;
    if (clance_dataset_open(argv[1], 0, &ds, &err))
      die("open", &err);
    scan(ds, NULL, NULL, NULL, NULL);
    t[1] = now();
    scan(ds, column, NULL, NULL, NULL);
    t[2] = now();
    struct ArrowArray a;
    if (clance_dataset_take(ds, rows, n, NULL, &a, NULL, &err))
      die("take", &err);
    a.release(&a);
    t[3] = now();
    scan(ds, NULL, filter, NULL, NULL);
    t[4] = now();
    uint64_t count;
    if (clance_dataset_count_rows_where(ds, filter, &count, &err))
      die("count", &err);
    t[5] = now();
    clance_dataset_close(ds);
    for (int k = 0; k < NOPS; k++)
      if (t[k + 1] - t[k] < res[k].seconds)
        res[k].seconds = t[k + 1] - t[k];
  }
  /* Untimed: what each operation returns. */
  clance_dataset *ds;
  if (clance_dataset_open(argv[1], 0, &ds, &err))
    die("open", &err);
  scan(ds, NULL, NULL, "id", &res[FULL]);
  scan(ds, column, NULL, column, &res[ONE]);
  struct ArrowArray a;
  struct ArrowSchema sc;
  if (clance_dataset_take(ds, rows, n, NULL, &a, &sc, &err))
    die("take", &err);
  fingerprint(&a, &sc, "id", &res[TAKE]);
  a.release(&a);
  sc.release(&sc);
  scan(ds, NULL, filter, "id", &res[FSCAN]);
  if (clance_dataset_count_rows_where(ds, filter, &res[COUNT].rows, &err))
    die("count", &err);
  clance_dataset_close(ds);
  printf("{");
  print("full_scan", &res[FULL], 0);
  print("one_column_scan", &res[ONE], 0);
  print("take", &res[TAKE], 0);
  print("filtered_scan", &res[FSCAN], 0);
  print("filtered_count", &res[COUNT], 1);
  printf("}\n");
  free(rows);
  return 0;
}
