/* The seed distributed write, in C, with the public API only.
 *
 * Two worker processes each write three rows of {a: int32, b: utf8} as
 * fragments of DATASET (default ./dist_write) and send their FragmentMetadata
 * JSON to the coordinator through a pipe. The coordinator commits one
 * Overwrite at read version 0, then reads the dataset back and prints it.
 *
 *   distributed_write [DATASET]
 *
 * A worker hands clance an ArrowArrayStream; here it is built by hand from
 * static buffers to show the C Data Interface, but any Arrow producer works. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <clance/clance.h>

/* ---- a one-batch stream over static data ---- */

typedef struct worker_data {
  int32_t a[3];
  int32_t b_offsets[4];
  char b_data[4];
} worker_data;

typedef struct batch_storage {
  struct ArrowArray cols[2], *col_ptrs[2], batch;
  const void *a_bufs[2], *b_bufs[3], *batch_bufs[1];
} batch_storage;

typedef struct stream_state {
  const worker_data *d;
  batch_storage s;
  int done;
} stream_state;

/* Nothing to free: the buffers are static; releasing marks them released. */
static void release_array(struct ArrowArray *a) { a->release = NULL; }
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

static int get_next(struct ArrowArrayStream *stream, struct ArrowArray *out) {
  stream_state *st = stream->private_data;
  if (st->done) {
    out->release = NULL; /* end of stream */
    return 0;
  }
  st->done = 1;
  batch_storage *s = &st->s;
  memset(s, 0, sizeof *s);
  s->a_bufs[0] = NULL; /* no nulls: validity may be absent */
  s->a_bufs[1] = st->d->a;
  s->b_bufs[0] = NULL;
  s->b_bufs[1] = st->d->b_offsets;
  s->b_bufs[2] = st->d->b_data;
  for (int i = 0; i < 2; i++) {
    s->cols[i].length = 3;
    s->cols[i].n_buffers = i == 0 ? 2 : 3;
    s->cols[i].buffers = i == 0 ? s->a_bufs : s->b_bufs;
    s->cols[i].release = release_array;
    s->col_ptrs[i] = &s->cols[i];
  }
  s->batch.length = 3;
  s->batch.n_buffers = 1;
  s->batch.buffers = s->batch_bufs;
  s->batch.n_children = 2;
  s->batch.children = s->col_ptrs;
  s->batch.release = release_batch;
  *out = s->batch; /* move */
  s->batch.release = NULL;
  return 0;
}

static const char *last_error(struct ArrowArrayStream *s) {
  (void)s;
  return NULL;
}

static void release_stream(struct ArrowArrayStream *s) { s->release = NULL; }

/* ---- worker: write fragments, print their JSON to fd ---- */

static int worker(const char *uri, const worker_data *d, int fd) {
  stream_state st = {d, {0}, 0};
  struct ArrowArrayStream stream = {get_schema, get_next, last_error, release_stream, &st};
  clance_error err;
  clance_fragments *frags;
  if (clance_write_fragments(uri, NULL, &stream, NULL, &frags, &err) != CLANCE_OK) {
    fprintf(stderr, "worker: %s: %s\n", clance_status_name(err.code), err.message);
    return 1;
  }
  char *json;
  if (clance_fragments_to_json(frags, &json, &err) != CLANCE_OK) {
    fprintf(stderr, "worker: %s\n", err.message);
    return 1;
  }
  size_t n = strlen(json);
  int ok = write(fd, json, n) == (ssize_t)n;
  clance_free(json);
  clance_fragments_free(frags);
  return ok ? 0 : 1;
}

static char *read_all(int fd) {
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  ssize_t r;
  while (buf && (r = read(fd, buf + len, cap - len - 1)) > 0) {
    len += (size_t)r;
    if (cap - len < 2) {
      char *nb = realloc(buf, cap *= 2);
      if (!nb) {
        free(buf);
        return NULL;
      }
      buf = nb;
    }
  }
  if (buf)
    buf[len] = '\0';
  return buf;
}

int main(int argc, char **argv) {
  const char *uri = argc > 1 ? argv[1] : "./dist_write";
  static const worker_data data[2] = {
      {{1, 2, 3}, {0, 1, 2, 3}, "xyz"},
      {{4, 5, 6}, {0, 1, 2, 3}, "uvw"},
  };
  clance_error err;
  clance_fragments *all;
  if (clance_fragments_new(&all, &err) != CLANCE_OK)
    return 1;

  /* Phase 1: two workers in their own processes. */
  int fds[2];
  pid_t pids[2];
  for (int w = 0; w < 2; w++) {
    int p[2];
    if (pipe(p) != 0)
      return 1;
    pids[w] = fork();
    if (pids[w] == 0) {
      close(p[0]);
      _exit(worker(uri, &data[w], p[1]));
    }
    close(p[1]);
    fds[w] = p[0];
  }
  /* Gather the FragmentMetadata JSON (as MPI_Gather or files would). */
  for (int w = 0; w < 2; w++) {
    char *json = read_all(fds[w]);
    int status;
    close(fds[w]);
    waitpid(pids[w], &status, 0);
    if (!json || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "worker %d failed\n", w);
      return 1;
    }
    printf("worker %d fragments: %s\n", w, json);
    clance_fragments *f;
    clance_status st = clance_fragments_from_json(json, strlen(json), "worker", &f, &err);
    free(json);
    if (st != CLANCE_OK || clance_fragments_extend(all, f, &err) != CLANCE_OK) {
      fprintf(stderr, "coordinator: %s\n", err.message);
      return 1;
    }
    clance_fragments_free(f);
  }

  /* Phase 2: one Overwrite at read version 0. */
  struct ArrowSchema schema;
  clance_operation *op;
  uint64_t version;
  if (clance_schema_parse("a:int32,b:string", &schema, &err) != CLANCE_OK ||
      clance_operation_overwrite(&schema, all, &op, &err) != CLANCE_OK ||
      clance_commit(uri, op, 0, NULL, &version, &err) != CLANCE_OK) {
    fprintf(stderr, "commit: %s: %s\n", clance_status_name(err.code), err.message);
    return 1;
  }
  schema.release(&schema);
  clance_operation_free(op);
  clance_fragments_free(all);

  /* Read it back. */
  clance_dataset *ds;
  struct ArrowArrayStream scan;
  if (clance_dataset_open(uri, 0, &ds, &err) != CLANCE_OK ||
      clance_dataset_scan(ds, NULL, &scan, &err) != CLANCE_OK) {
    fprintf(stderr, "read: %s\n", err.message);
    return 1;
  }
  printf("committed version %llu: %zu fragments, %llu rows\n",
         (unsigned long long)clance_dataset_version(ds), clance_dataset_num_fragments(ds),
         (unsigned long long)clance_dataset_count_rows(ds));
  struct ArrowArray b;
  while (scan.get_next(&scan, &b) == 0 && b.release) {
    /* Arrays may start at an offset into their buffers (slices). */
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
  return 0;
}
