/* Times clance on a dataset made by gen_lance.js; prints one JSON object with
 * the seconds per operation (best of --repeat runs) and what each returned.
 *   bench_read DIR/bench.lance TAKES_FILE [--repeat N] [--filter PRED] */
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

/* Scan and touch every batch; returns rows. */
static uint64_t scan(const clance_dataset *ds, const char *column) {
  clance_error err;
  clance_scan_options o;
  clance_scan_options_init(&o);
  o.columns = column ? &column : NULL;
  o.num_columns = column ? 1 : 0;
  struct ArrowArrayStream s;
  if (clance_dataset_scan(ds, &o, &s, &err))
    die("scan", &err);
  uint64_t rows = 0;
  struct ArrowArray b;
  while (s.get_next(&s, &b) == 0 && b.release) {
    rows += (uint64_t)b.length;
    b.release(&b);
  }
  s.release(&s);
  return rows;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench_read DATASET TAKES_FILE [--repeat N] [--filter PRED]\n");
    return 2;
  }
  int repeat = 3;
  const char *filter = "x > 0.5";
  for (int i = 3; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--repeat"))
      repeat = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--filter"))
      filter = argv[i + 1];
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
  clance_error err;
  double best[4] = {1e30, 1e30, 1e30, 1e30};
  uint64_t res[4] = {0};
  for (int r = 0; r < repeat; r++) {
    /* Each run opens the dataset anew, as each Lance query does its own work. */
    double t0 = now();
    clance_dataset *ds;
    if (clance_dataset_open(argv[1], 0, &ds, &err))
      die("open", &err);
    res[0] = scan(ds, NULL);
    double t1 = now();
    res[1] = scan(ds, "x");
    double t2 = now();
    struct ArrowArray a;
    if (clance_dataset_take(ds, rows, n, NULL, &a, NULL, &err))
      die("take", &err);
    res[2] = (uint64_t)a.length;
    a.release(&a);
    double t3 = now();
    if (clance_dataset_count_rows_where(ds, filter, &res[3], &err))
      die("count", &err);
    double t4 = now();
    clance_dataset_close(ds);
    double d[4] = {t1 - t0, t2 - t1, t3 - t2, t4 - t3};
    for (int k = 0; k < 4; k++)
      if (d[k] < best[k])
        best[k] = d[k];
  }
  printf("{\"full_scan\":{\"seconds\":%.6f,\"result\":%llu},\"one_column_scan\":{\"seconds\":%.6f,"
         "\"result\":%llu},\"take\":{\"seconds\":%.6f,\"result\":%llu},\"count_filter\":{"
         "\"seconds\":%.6f,\"result\":%llu}}\n",
         best[0], (unsigned long long)res[0], best[1], (unsigned long long)res[1], best[2],
         (unsigned long long)res[2], best[3], (unsigned long long)res[3]);
  free(rows);
  return 0;
}
