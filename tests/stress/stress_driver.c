/* Stress driver (public API only), run by stress_test.sh:
 *
 *   stress_driver append URI WORKER COUNT ROWS
 *     COUNT Append commits of ROWS rows each: ids WORKER * 1000000 + i * ROWS + k,
 *     v = id * 10. Each commit uses the version seen before its fragments were
 *     written as read version, so concurrent commits are checked and rebased.
 *     Every commit must succeed; prints one line per commit: "version".
 *   stress_driver create URI
 *     version 1: an empty table id:int64, v:int64.
 *   stress_driver verify URI
 *     opens every version 1..latest, checks that its row count matches the
 *     version list and that a full scan returns that many rows; prints the
 *     number of versions and the operations seen ("Append N", ...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clance/clance.h>

static int64_t stress_rows; /* rows per batch */

/* A one-batch stream of (id, v) int64 columns, built by hand (Arrow C ABI). */
typedef struct batch_data {
  int64_t *ids, *vs;
  const void *buf_id[2], *buf_v[2], *buf_struct[1];
  struct ArrowArray kids[2], *kid_ptrs[2];
  int done;
} batch_data;

static void release_child(struct ArrowArray *a) { a->release = NULL; }
static void release_batch(struct ArrowArray *a) {
  a->release = NULL; /* the memory belongs to the stream */
}

static int get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  (void)s;
  clance_error err;
  return clance_schema_parse("id:int64,v:int64", out, &err) ? 22 : 0;
}

static int get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  batch_data *b = s->private_data;
  memset(out, 0, sizeof *out);
  if (b->done)
    return 0; /* end: out->release == NULL */
  b->done = 1;
  int64_t n = stress_rows;
  b->buf_id[0] = b->buf_v[0] = NULL;
  b->buf_id[1] = b->ids;
  b->buf_v[1] = b->vs;
  for (int c = 0; c < 2; c++) {
    struct ArrowArray *k = &b->kids[c];
    memset(k, 0, sizeof *k);
    k->length = n;
    k->n_buffers = 2;
    k->buffers = c ? b->buf_v : b->buf_id;
    k->release = release_child;
    b->kid_ptrs[c] = k;
  }
  b->buf_struct[0] = NULL;
  out->length = n;
  out->n_buffers = 1;
  out->buffers = b->buf_struct;
  out->n_children = 2;
  out->children = b->kid_ptrs;
  out->release = release_batch;
  return 0;
}

static const char *last_error(struct ArrowArrayStream *s) {
  (void)s;
  return "stress stream";
}
static void release_stream(struct ArrowArrayStream *s) { s->release = NULL; }

static int create(const char *uri) {
  clance_error err;
  struct ArrowSchema schema;
  clance_fragments *f = NULL;
  clance_operation *op = NULL;
  uint64_t v;
  if (clance_schema_parse("id:int64,v:int64", &schema, &err) || clance_fragments_new(&f, &err) ||
      clance_operation_overwrite(&schema, f, &op, &err) ||
      clance_commit(uri, op, 0, NULL, &v, &err)) {
    fprintf(stderr, "create: %s\n", err.message);
    return 1;
  }
  schema.release(&schema);
  clance_operation_free(op);
  clance_fragments_free(f);
  return 0;
}

static int append(const char *uri, int64_t worker, int64_t count, int64_t rows) {
  stress_rows = rows;
  int64_t *ids = malloc((size_t)rows * sizeof *ids), *vs = malloc((size_t)rows * sizeof *vs);
  if (!ids || !vs)
    return 1;
  clance_commit_options co;
  clance_commit_options_init(&co);
  co.max_retries = 1000; /* 8+ committers race for every version number */
  for (int64_t i = 0; i < count; i++) {
    clance_error err;
    clance_dataset *ds;
    if (clance_dataset_open(uri, 0, &ds, &err)) {
      fprintf(stderr, "worker %lld: open: %s\n", (long long)worker, err.message);
      return 1;
    }
    uint64_t read_version = clance_dataset_version(ds);
    clance_dataset_close(ds);
    for (int64_t k = 0; k < rows; k++) {
      ids[k] = worker * 1000000 + i * rows + k;
      vs[k] = ids[k] * 10;
    }
    batch_data bd = {ids, vs, {0}, {0}, {0}, {{0}}, {0}, 0};
    struct ArrowArrayStream s = {get_schema, get_next, last_error, release_stream, &bd};
    clance_write_options wo;
    clance_write_options_init(&wo);
    wo.mode = CLANCE_WRITE_APPEND;
    clance_fragments *f;
    if (clance_write_fragments(uri, NULL, &s, &wo, &f, &err)) {
      fprintf(stderr, "worker %lld: write: %s\n", (long long)worker, err.message);
      return 1;
    }
    clance_operation *op;
    uint64_t v;
    clance_status st = clance_operation_append(f, &op, &err);
    if (!st)
      st = clance_commit(uri, op, read_version, &co, &v, &err);
    clance_operation_free(op);
    clance_fragments_free(f);
    if (st) {
      fprintf(stderr, "worker %lld: commit %lld (read version %llu): %s: %s\n", (long long)worker,
              (long long)i, (unsigned long long)read_version, clance_status_name(st), err.message);
      return 1;
    }
    printf("%llu\n", (unsigned long long)v);
  }
  free(ids);
  free(vs);
  return 0;
}

static int verify(const char *uri) {
  clance_error err;
  clance_version_info *vi;
  size_t n;
  if (clance_list_versions(uri, &vi, &n, &err)) {
    fprintf(stderr, "versions: %s\n", err.message);
    return 1;
  }
  int bad = 0;
  char ops[8][32] = {{0}};
  size_t op_count[8] = {0};
  for (size_t i = 0; i < n; i++) {
    if (vi[i].version != i + 1) {
      fprintf(stderr, "version %zu of the list is %llu (a gap?)\n", i,
              (unsigned long long)vi[i].version);
      bad = 1;
    }
    clance_dataset *ds;
    if (clance_dataset_open(uri, vi[i].version, &ds, &err)) {
      fprintf(stderr, "version %llu does not open: %s\n", (unsigned long long)vi[i].version,
              err.message);
      bad = 1;
      continue;
    }
    uint64_t rows = clance_dataset_count_rows(ds), scanned = 0;
    struct ArrowArrayStream s;
    if (clance_dataset_scan(ds, NULL, &s, &err)) {
      fprintf(stderr, "version %llu: scan: %s\n", (unsigned long long)vi[i].version, err.message);
      bad = 1;
    } else {
      for (;;) {
        struct ArrowArray b;
        if (s.get_next(&s, &b) != 0) {
          fprintf(stderr, "version %llu: scan: %s\n", (unsigned long long)vi[i].version,
                  s.get_last_error(&s));
          bad = 1;
          break;
        }
        if (!b.release)
          break;
        scanned += (uint64_t)b.length;
        b.release(&b);
      }
      s.release(&s);
    }
    if (rows != vi[i].num_rows || scanned != rows) {
      fprintf(stderr, "version %llu: %llu rows, list says %llu, scan gives %llu\n",
              (unsigned long long)vi[i].version, (unsigned long long)rows,
              (unsigned long long)vi[i].num_rows, (unsigned long long)scanned);
      bad = 1;
    }
    clance_dataset_close(ds);
    for (int k = 0; k < 8; k++) {
      if (!ops[k][0])
        snprintf(ops[k], sizeof ops[k], "%s", vi[i].operation);
      if (!strcmp(ops[k], vi[i].operation)) {
        op_count[k]++;
        break;
      }
    }
  }
  printf("%zu versions", n);
  for (int k = 0; k < 8 && ops[k][0]; k++)
    printf(" %s=%zu", ops[k], op_count[k]);
  printf("\n");
  clance_free(vi);
  return bad;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "create"))
    return create(argv[2]);
  if (argc == 3 && !strcmp(argv[1], "verify"))
    return verify(argv[2]);
  if (argc == 6 && !strcmp(argv[1], "append"))
    return append(argv[2], atoll(argv[3]), atoll(argv[4]), atoll(argv[5]));
  fprintf(stderr, "usage: stress_driver create URI | append URI WORKER COUNT ROWS | verify URI\n");
  return 2;
}
