/* Worker of a distributed write: produce rows as an Arrow C stream, write
 * them as fragments of DATASET (nothing is committed) and save the
 * FragmentMetadata JSON for the coordinator (see commit.c).
 *
 *   write_fragments DATASET WORKER OUT.json [ROWS]
 *
 * Worker w writes ROWS (default 1000) rows of {id: int64, x: float64,
 * name: utf8}: id = w * ROWS + i, x = id / 2.0, name = "w<w>-<i>", in
 * batches of 256 rows. Every batch is built in malloc'ed buffers that the
 * batch's release callback frees, as an Arrow producer does. */
#include <clance/clance.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA "id:int64,x:float64,name:string"
#define BATCH 256

typedef struct generator {
  long worker, rows, next;
  char error[CLANCE_ERROR_MESSAGE_SIZE];
} generator;

/* Private data of one batch: every buffer it owns. */
typedef struct batch_data {
  int64_t *id;
  double *x;
  int32_t *offsets;
  char *chars;
  const void *bufs[3][3];
  struct ArrowArray cols[3], *colp[3];
} batch_data;

static void release_child(struct ArrowArray *a) { a->release = NULL; }

static void release_batch(struct ArrowArray *a) {
  batch_data *d = a->private_data;
  for (int i = 0; i < 3; i++)
    if (d->cols[i].release)
      d->cols[i].release(&d->cols[i]);
  free(d->id), free(d->x), free(d->offsets), free(d->chars), free(d);
  a->release = NULL;
}

static int get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  generator *g = s->private_data;
  clance_error err;
  if (clance_schema_parse(SCHEMA, out, &err) != CLANCE_OK) {
    snprintf(g->error, sizeof g->error, "%s", err.message);
    return 22; /* EINVAL */
  }
  return 0;
}

static int get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  generator *g = s->private_data;
  memset(out, 0, sizeof *out);
  long n = g->rows - g->next < BATCH ? g->rows - g->next : BATCH;
  if (n <= 0)
    return 0; /* release == NULL: end of stream */
  batch_data *d = calloc(1, sizeof *d);
  if (d) {
    d->id = malloc((size_t)n * sizeof *d->id);
    d->x = malloc((size_t)n * sizeof *d->x);
    d->offsets = malloc((size_t)(n + 1) * sizeof *d->offsets);
    d->chars = malloc((size_t)n * 32);
  }
  if (!d || !d->id || !d->x || !d->offsets || !d->chars) {
    if (d)
      free(d->id), free(d->x), free(d->offsets), free(d->chars), free(d);
    snprintf(g->error, sizeof g->error, "out of memory");
    return 12; /* ENOMEM */
  }
  d->offsets[0] = 0;
  for (long i = 0; i < n; i++) {
    long row = g->next + i;
    d->id[i] = g->worker * g->rows + row;
    d->x[i] = (double)d->id[i] / 2.0;
    d->offsets[i + 1] =
        d->offsets[i] + sprintf(d->chars + d->offsets[i], "w%ld-%ld", g->worker, row);
  }
  g->next += n;
  const void *data[3][3] = {{NULL, d->id}, {NULL, d->x}, {NULL, d->offsets, d->chars}};
  memcpy(d->bufs, data, sizeof data);
  for (int i = 0; i < 3; i++) {
    d->cols[i].length = n;
    d->cols[i].n_buffers = i == 2 ? 3 : 2; /* validity (absent: no nulls) + data */
    d->cols[i].buffers = d->bufs[i];
    d->cols[i].release = release_child;
    d->colp[i] = &d->cols[i];
  }
  static const void *no_buffers[1] = {NULL};
  out->length = n;
  out->n_buffers = 1;
  out->buffers = no_buffers;
  out->n_children = 3;
  out->children = d->colp;
  out->release = release_batch;
  out->private_data = d;
  return 0;
}

static const char *last_error(struct ArrowArrayStream *s) {
  generator *g = s->private_data;
  return g->error[0] ? g->error : NULL;
}

static void release_stream(struct ArrowArrayStream *s) { s->release = NULL; }

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: write_fragments DATASET WORKER OUT.json [ROWS]\n");
    return 2;
  }
  generator g = {atol(argv[2]), argc > 4 ? atol(argv[4]) : 1000, 0, ""};
  struct ArrowArrayStream stream = {get_schema, get_next, last_error, release_stream, &g};

  clance_write_options opts;
  clance_write_options_init(&opts);
  opts.max_rows_per_file = 600; /* more than one fragment per worker */

  clance_error err;
  clance_fragments *frags;
  /* The stream is consumed (released) by clance, on success and on error. */
  if (clance_write_fragments(argv[1], NULL, &stream, &opts, &frags, &err) != CLANCE_OK) {
    fprintf(stderr, "write_fragments: %s: %s\n", clance_status_name(err.code), err.message);
    return 1;
  }
  char *json;
  if (clance_fragments_to_json(frags, &json, &err) != CLANCE_OK) {
    fprintf(stderr, "write_fragments: %s\n", err.message);
    return 1;
  }
  FILE *f = fopen(argv[3], "w");
  int ok = f && fputs(json, f) >= 0;
  ok = f && fclose(f) == 0 && ok;
  printf("worker %ld: %zu fragments, %llu rows -> %s\n", g.worker, clance_fragments_count(frags),
         (unsigned long long)clance_fragments_num_rows(frags), argv[3]);
  clance_free(json);
  clance_fragments_free(frags);
  return ok ? 0 : 1;
}
