/* Read a dataset back into Arrow: open a version, scan chosen columns with a
 * filter batch by batch, count, and take rows by position.
 *
 *   scan DATASET [FILTER]      (default filter: "id >= 0")
 *
 * Prints the version, the number of matching rows, the sum of column x over
 * them, and the names of the first and last rows (by take). */
#include <clance/clance.h>

#include <stdio.h>
#include <string.h>

static int fail(const char *what, const clance_error *err) {
  fprintf(stderr, "scan: %s: %s: %s\n", what, clance_status_name(err->code), err->message);
  return 1;
}

/* The string at row i of a utf8 array (arrays may start at an offset). */
static void print_utf8(const struct ArrowArray *a, int64_t i) {
  const int32_t *off = (const int32_t *)a->buffers[1] + a->offset;
  printf("%.*s", (int)(off[i + 1] - off[i]), (const char *)a->buffers[2] + off[i]);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: scan DATASET [FILTER]\n");
    return 2;
  }
  const char *filter = argc > 2 ? argv[2] : "id >= 0";
  clance_error err;
  clance_dataset *ds;
  if (clance_dataset_open(argv[1], 0 /* latest */, &ds, &err) != CLANCE_OK)
    return fail("open", &err);
  printf("version %llu: %llu rows in %zu fragments, format %s\n",
         (unsigned long long)clance_dataset_version(ds),
         (unsigned long long)clance_dataset_count_rows(ds), clance_dataset_num_fragments(ds),
         clance_dataset_data_storage_version(ds));

  /* Scan two columns, in this order, of the rows matching the filter. */
  static const char *const columns[] = {"x", "id"};
  clance_scan_options so;
  clance_scan_options_init(&so);
  so.columns = columns;
  so.num_columns = 2;
  so.filter = filter;
  so.batch_size = 500;
  struct ArrowArrayStream stream;
  if (clance_dataset_scan(ds, &so, &stream, &err) != CLANCE_OK)
    return fail("scan", &err);
  struct ArrowArray batch;
  double sum = 0;
  int64_t rows = 0, batches = 0;
  int rc;
  while ((rc = stream.get_next(&stream, &batch)) == 0 && batch.release) {
    const struct ArrowArray *x = batch.children[0];
    const double *xv = (const double *)x->buffers[1] + x->offset;
    for (int64_t i = 0; i < batch.length; i++)
      sum += xv[i]; /* no nulls in this data; check x->buffers[0] otherwise */
    rows += batch.length;
    batches++;
    batch.release(&batch);
  }
  if (rc != 0) {
    fprintf(stderr, "scan: %s\n", stream.get_last_error(&stream));
    stream.release(&stream);
    return 1;
  }
  stream.release(&stream);
  uint64_t counted;
  if (clance_dataset_count_rows_where(ds, filter, &counted, &err) != CLANCE_OK)
    return fail("count", &err);
  printf("filter \"%s\": %lld rows in %lld batches (count: %llu), sum(x) = %.1f\n", filter,
         (long long)rows, (long long)batches, (unsigned long long)counted, sum);

  /* Take the first and the last row by position. */
  uint64_t n = clance_dataset_count_rows(ds);
  if (n > 0) {
    uint64_t pos[2] = {0, n - 1};
    static const char *const name[] = {"name"};
    so.columns = name;
    so.num_columns = 1;
    struct ArrowArray taken;
    struct ArrowSchema schema;
    if (clance_dataset_take(ds, pos, 2, &so, &taken, &schema, &err) != CLANCE_OK)
      return fail("take", &err);
    printf("first: ");
    print_utf8(taken.children[0], 0);
    printf(", last: ");
    print_utf8(taken.children[0], 1);
    printf("\n");
    taken.release(&taken);
    schema.release(&schema);
  }
  clance_dataset_close(ds);
  return 0;
}
