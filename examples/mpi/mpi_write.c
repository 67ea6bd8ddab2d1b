/* The seed distributed write with MPI, public API only (clance.h + clance_mpi.h).
 *
 *   mpirun -np 2 mpi_write [DATASET]     (default ./mpi_write.lance)
 *
 * Every rank builds three rows of {a: int32, b: utf8} (rank r: a = 3r+1..3r+3,
 * b = "r<r>-0".."r<r>-2") as an Arrow stream and calls clance_mpi_write():
 * the ranks write their fragments, rank 0 commits one Overwrite at read
 * version 0, and every rank gets the new version (or the same error). Rank 0
 * then reads the dataset back and prints it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clance/clance_mpi.h>

/* ---- a one-batch stream of this rank's three rows ---- */

typedef struct rows {
  int32_t a[3];
  int32_t b_offsets[4];
  char b_data[32];
  struct ArrowArray cols[2], *col_ptrs[2];
  const void *a_bufs[2], *b_bufs[3], *top_bufs[1];
  int done;
} rows;

static void release_child(struct ArrowArray *a) { a->release = NULL; }
static void release_batch(struct ArrowArray *a) {
  for (int64_t i = 0; i < a->n_children; i++)
    if (a->children[i]->release)
      a->children[i]->release(a->children[i]);
  a->release = NULL;
}

static int get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  (void)s;
  clance_error err;
  return clance_schema_parse("a:int32,b:string", out, &err) == CLANCE_OK ? 0 : 22;
}

static int get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  rows *r = s->private_data;
  memset(out, 0, sizeof *out);
  if (r->done++)
    return 0; /* end of stream (release stays NULL) */
  r->a_bufs[1] = r->a;
  r->b_bufs[1] = r->b_offsets;
  r->b_bufs[2] = r->b_data;
  for (int i = 0; i < 2; i++) {
    memset(&r->cols[i], 0, sizeof r->cols[i]);
    r->cols[i].length = 3;
    r->cols[i].n_buffers = i == 0 ? 2 : 3;
    r->cols[i].buffers = i == 0 ? r->a_bufs : r->b_bufs;
    r->cols[i].release = release_child;
    r->col_ptrs[i] = &r->cols[i];
  }
  out->length = 3;
  out->n_buffers = 1;
  out->buffers = r->top_bufs;
  out->n_children = 2;
  out->children = r->col_ptrs;
  out->release = release_batch;
  return 0;
}

static const char *last_error(struct ArrowArrayStream *s) {
  (void)s;
  return NULL;
}
static void release_stream(struct ArrowArrayStream *s) { s->release = NULL; }

static void print_dataset(const char *uri) {
  clance_dataset *ds;
  struct ArrowArrayStream scan;
  clance_error err;
  if (clance_dataset_open(uri, 0, &ds, &err) || clance_dataset_scan(ds, NULL, &scan, &err)) {
    fprintf(stderr, "read: %s\n", err.message);
    return;
  }
  printf("version %llu: %zu fragments, %llu rows\n",
         (unsigned long long)clance_dataset_version(ds), clance_dataset_num_fragments(ds),
         (unsigned long long)clance_dataset_count_rows(ds));
  struct ArrowArray b;
  while (scan.get_next(&scan, &b) == 0 && b.release) {
    const struct ArrowArray *ca = b.children[0], *cb = b.children[1];
    const int32_t *a = (const int32_t *)ca->buffers[1] + ca->offset;
    const int32_t *off = (const int32_t *)cb->buffers[1] + cb->offset;
    const char *s = cb->buffers[2];
    for (int64_t i = 0; i < b.length; i++)
      printf("%d %.*s\n", a[i], (int)(off[i + 1] - off[i]), s + off[i]);
    b.release(&b);
  }
  scan.release(&scan);
  clance_dataset_close(ds);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const char *uri = argc > 1 ? argv[1] : "./mpi_write.lance";

  rows r;
  memset(&r, 0, sizeof r);
  for (int i = 0; i < 3; i++) {
    r.a[i] = 3 * rank + i + 1;
    r.b_offsets[i + 1] = r.b_offsets[i] +
                         snprintf(r.b_data + r.b_offsets[i], 10, "r%d-%d", rank % 1000, i);
  }
  struct ArrowArrayStream stream = {get_schema, get_next, last_error, release_stream, &r};

  /* Collective: same uri, operation and read version on every rank. */
  clance_error err;
  uint64_t version;
  clance_status st = clance_mpi_write(MPI_COMM_WORLD, uri, NULL, &stream, CLANCE_MPI_OVERWRITE,
                                      NULL, 0, NULL, &version, &err);
  if (st != CLANCE_OK) {
    /* Every rank has the same error (naming the rank at fault). */
    if (rank == 0)
      fprintf(stderr, "clance_mpi_write: %s: %s\n", clance_status_name(st), err.message);
    MPI_Finalize();
    return 1;
  }
  if (rank == 0) {
    printf("committed version %llu\n", (unsigned long long)version);
    print_dataset(uri);
  }
  MPI_Finalize();
  return 0;
}
