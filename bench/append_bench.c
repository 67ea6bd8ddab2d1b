/* Sequential small appends in one process (the fair counterpart of Lance's
 * table.add() in a warm runtime): create DATASET with ROWS rows, then COMMITS
 * times write ROWS rows with clance_write_fragments (one thread) and commit
 * them with clance_commit as an Append against the version just made. Every
 * commit is durable (data file, directories, transaction and manifest are
 * fsynced: the library default). Prints JSON: the latency of every append
 * (write + commit), then the time to open the dataset and count its rows.
 *
 * With --no-fsync nothing is fsynced (no_fsync in both option structs), the
 * guarantee Lance gives.
 *
 *   append_bench [--no-fsync] DATASET [COMMITS [ROWS]]
 */
#include <clance/clance.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCHEMA "id:int64,x:float64,s:string"

typedef struct gen {
  long base, rows;
  int done;
  int64_t *id;
  double *x;
  int32_t *off;
  char *chars;
  const void *bufs[3][3];
  struct ArrowArray cols[3], *colp[3];
} gen;

static void release_child(struct ArrowArray *a) { a->release = NULL; }
static void release_batch(struct ArrowArray *a) { a->release = NULL; }
static void release_stream(struct ArrowArrayStream *s) { s->release = NULL; }
static const char *last_error(struct ArrowArrayStream *s) {
  (void)s;
  return NULL;
}

static int get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  (void)s;
  clance_error err;
  return clance_schema_parse(SCHEMA, out, &err) == CLANCE_OK ? 0 : 22;
}

/* One batch of `rows` rows built in buffers the generator owns. */
static int get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  gen *g = s->private_data;
  memset(out, 0, sizeof *out);
  if (g->done)
    return 0;
  g->done = 1;
  g->off[0] = 0;
  for (long i = 0; i < g->rows; i++) {
    g->id[i] = g->base + i;
    g->x[i] = (double)i / (double)g->rows;
    g->off[i + 1] = g->off[i] + sprintf(g->chars + g->off[i], "row %ld-%ld", g->base / g->rows, i);
  }
  const void *data[3][3] = {{NULL, g->id}, {NULL, g->x}, {NULL, g->off, g->chars}};
  memcpy(g->bufs, data, sizeof data);
  for (int i = 0; i < 3; i++) {
    memset(&g->cols[i], 0, sizeof g->cols[i]);
    g->cols[i].length = g->rows;
    g->cols[i].n_buffers = i == 2 ? 3 : 2;
    g->cols[i].buffers = g->bufs[i];
    g->cols[i].release = release_child;
    g->colp[i] = &g->cols[i];
  }
  static const void *no_buffers[1] = {NULL};
  out->length = g->rows;
  out->n_buffers = 1;
  out->buffers = no_buffers;
  out->n_children = 3;
  out->children = g->colp;
  out->release = release_batch;
  out->private_data = g;
  return 0;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what, const clance_error *err) {
  fprintf(stderr, "append_bench: %s: %s: %s\n", what, clance_status_name(err->code), err->message);
  return 1;
}

static int no_fsync; /* --no-fsync */

/* Write g's rows and commit them (Overwrite when read_version is 0). */
static int write_commit(const char *uri, gen *g, uint64_t read_version, uint64_t *version) {
  clance_error err;
  struct ArrowArrayStream stream = {get_schema, get_next, last_error, release_stream, g};
  g->done = 0;
  clance_write_options wo;
  clance_write_options_init(&wo);
  wo.num_threads = 1;
  wo.no_fsync = no_fsync;
  clance_fragments *frags;
  if (clance_write_fragments(uri, NULL, &stream, &wo, &frags, &err) != CLANCE_OK)
    return fail("write", &err);
  clance_operation *op = NULL;
  clance_status st;
  if (read_version == 0) {
    struct ArrowSchema schema;
    if ((st = clance_schema_parse(SCHEMA, &schema, &err)) == CLANCE_OK) {
      st = clance_operation_overwrite(&schema, frags, &op, &err);
      schema.release(&schema);
    }
  } else {
    st = clance_operation_append(frags, &op, &err);
  }
  clance_commit_options co;
  clance_commit_options_init(&co);
  co.no_fsync = no_fsync;
  if (st == CLANCE_OK)
    st = clance_commit(uri, op, read_version, &co, version, &err);
  clance_operation_free(op);
  clance_fragments_free(frags);
  return st == CLANCE_OK ? 0 : fail("commit", &err);
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--no-fsync")) {
    no_fsync = 1;
    argv++, argc--;
  }
  if (argc < 2) {
    fprintf(stderr, "usage: append_bench [--no-fsync] DATASET [COMMITS [ROWS]]\n");
    return 2;
  }
  const char *uri = argv[1];
  long commits = argc > 2 ? atol(argv[2]) : 200, rows = argc > 3 ? atol(argv[3]) : 100;
  if (commits < 1 || rows < 1)
    return 2;
  gen g;
  memset(&g, 0, sizeof g);
  g.rows = rows;
  g.id = malloc((size_t)rows * sizeof *g.id);
  g.x = malloc((size_t)rows * sizeof *g.x);
  g.off = malloc((size_t)(rows + 1) * sizeof *g.off);
  g.chars = malloc((size_t)rows * 48);
  double *lat = malloc((size_t)commits * sizeof *lat);
  if (!g.id || !g.x || !g.off || !g.chars || !lat)
    return 1;
  uint64_t version = 0;
  if (write_commit(uri, &g, 0, &version))
    return 1;
  for (long k = 0; k < commits; k++) {
    g.base = (k + 1) * rows;
    double t0 = now();
    if (write_commit(uri, &g, version, &version))
      return 1;
    lat[k] = now() - t0;
  }
  double t0 = now();
  clance_error err;
  clance_dataset *ds;
  if (clance_dataset_open(uri, 0, &ds, &err) != CLANCE_OK)
    return fail("open", &err);
  uint64_t count = clance_dataset_count_rows(ds);
  double open = now() - t0;
  clance_dataset_close(ds);
  printf("{\"latencies\": [");
  for (long k = 0; k < commits; k++)
    printf("%s%.6f", k ? ", " : "", lat[k]);
  printf("], \"open\": %.6f, \"count\": %llu}\n", open, (unsigned long long)count);
  free(g.id), free(g.x), free(g.off), free(g.chars), free(lat);
  return 0;
}
