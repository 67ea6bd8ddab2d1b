/* The writer's memory is bounded by its buffer budget, not by the input:
 * 128 MiB of vectors streamed through clance_write_fragments with a 16 MiB
 * budget raise the process's peak resident set by far less than the input.
 * (Under AddressSanitizer freed memory is quarantined, so only the rows are
 * checked there.) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arrow/array.h"
#include "clance/clance.h"
#include "test.h"

#if defined(__SANITIZE_ADDRESS__)
#define CL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CL_ASAN 1
#endif
#endif

#define DIM 128
#define BATCH_ROWS 16384 /* 8 MiB of vectors per batch */
#define BATCHES 16       /* 128 MiB in all */

/* One generated batch: a struct of {id int64, vec fixed_size_list<float32>}
 * whose buffers are freed when the consumer releases it. */
typedef struct gen_batch {
  struct ArrowArray kids[3]; /* id, vec, vec's items */
  struct ArrowArray *kid_ptrs[2], *item_ptr[1];
  const void *struct_bufs[1], *id_bufs[2], *vec_bufs[1], *item_bufs[2];
  int64_t *ids;
  float *values;
} gen_batch;

static void noop_release(struct ArrowArray *a) { a->release = NULL; }

static void batch_release(struct ArrowArray *a) {
  gen_batch *g = a->private_data;
  free(g->ids);
  free(g->values);
  free(g);
  a->release = NULL;
}

static void leaf(struct ArrowArray *a, int64_t n, int n_bufs, const void **bufs) {
  memset(a, 0, sizeof *a);
  a->length = n;
  a->n_buffers = n_bufs;
  a->buffers = bufs;
  a->release = noop_release; /* the parent frees everything */
}

static int make_batch(int k, struct ArrowArray *out) {
  gen_batch *g = calloc(1, sizeof *g);
  if (!g)
    return ENOMEM;
  g->ids = malloc(BATCH_ROWS * sizeof *g->ids);
  g->values = malloc((size_t)BATCH_ROWS * DIM * sizeof *g->values);
  if (!g->ids || !g->values) {
    free(g->ids);
    free(g->values);
    free(g);
    return ENOMEM;
  }
  for (int64_t i = 0; i < BATCH_ROWS; i++) {
    int64_t row = (int64_t)k * BATCH_ROWS + i;
    g->ids[i] = row;
    for (int d = 0; d < DIM; d++) /* not constant, not compressible to nothing */
      g->values[i * DIM + d] = (float)((row * 2654435761u + (uint64_t)d * 40503u) % 1000003) / 7.0f;
  }
  g->id_bufs[1] = g->ids;
  g->item_bufs[1] = g->values;
  leaf(&g->kids[0], BATCH_ROWS, 2, g->id_bufs);
  leaf(&g->kids[2], (int64_t)BATCH_ROWS * DIM, 2, g->item_bufs);
  leaf(&g->kids[1], BATCH_ROWS, 1, g->vec_bufs);
  g->item_ptr[0] = &g->kids[2];
  g->kids[1].n_children = 1;
  g->kids[1].children = g->item_ptr;
  g->kid_ptrs[0] = &g->kids[0];
  g->kid_ptrs[1] = &g->kids[1];
  memset(out, 0, sizeof *out);
  out->length = BATCH_ROWS;
  out->n_buffers = 1;
  out->buffers = g->struct_bufs;
  out->n_children = 2;
  out->children = g->kid_ptrs;
  out->release = batch_release;
  out->private_data = g;
  return 0;
}

typedef struct gen_stream {
  cl_schema schema;
  int next;
} gen_stream;

static int gs_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  gen_stream *g = s->private_data;
  clance_error err;
  return cl_schema_to_arrow(&g->schema, out, &err) ? EINVAL : 0;
}

static int gs_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  gen_stream *g = s->private_data;
  if (g->next == BATCHES) {
    memset(out, 0, sizeof *out); /* end of stream */
    return 0;
  }
  return make_batch(g->next++, out);
}

static const char *gs_error(struct ArrowArrayStream *s) {
  (void)s;
  return "out of memory";
}

static void gs_release(struct ArrowArrayStream *s) {
  gen_stream *g = s->private_data;
  cl_schema_free(&g->schema);
  free(g);
  s->release = NULL;
}

static long peak_rss_kib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* Write the 128 MiB in a child process, whose peak RSS starts from the
 * program's own; the parent checks what it reports. */
static void write_bounded(unsigned threads, const char *version) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    clance_error err;
    long result[2] = {-1, -1}; /* rows written, peak RSS growth (KiB) */
    char *dir = cl_test_tmpdir("memory");
    gen_stream *g = calloc(1, sizeof *g);
    if (g && !cl_schema_parse_spec("id:int64,vec:vector(float32,128)", &g->schema, &err)) {
      struct ArrowArrayStream stream = {gs_schema, gs_next, gs_error, gs_release, g};
      clance_write_options o;
      clance_write_options_init(&o);
      o.data_storage_version = version;
      o.max_buffer_bytes = 16u << 20;
      o.num_threads = threads;
      o.no_fsync = 1;
      long before = peak_rss_kib();
      clance_fragments *f = NULL;
      if (!clance_write_fragments(dir, NULL, &stream, &o, &f, &err))
        result[0] = (long)clance_fragments_num_rows(f);
      else
        fprintf(stderr, "  write: %s\n", err.message);
      result[1] = peak_rss_kib() - before;
      clance_fragments_free(f);
      if (stream.release)
        stream.release(&stream);
    }
    cl_test_rmtree(dir);
    _exit(write(fds[1], result, sizeof result) == sizeof result ? 0 : 1);
  }
  close(fds[1]);
  long result[2] = {-1, -1};
  ssize_t got = read(fds[0], result, sizeof result);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(got == (ssize_t)sizeof result && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK_EQ_U64(result[0], (uint64_t)BATCH_ROWS * BATCHES);
  fprintf(stderr, "  %s, %u thread(s): peak RSS grew by %ld KiB while writing %d MiB\n", version,
          threads, result[1], BATCHES * BATCH_ROWS * DIM * 4 >> 20);
#ifndef CL_ASAN
  /* Budget 16 MiB + the batch being generated and the one before it
   * (8 MiB each) + slack for the allocator, the pool's stacks and the code
   * the write maps in; the input is 128 MiB. */
  CHECK(result[1] < 48 * 1024);
#endif
}

static void test_bounded_21_threads(void) { write_bounded(3, "2.1"); }
static void test_bounded_21_single(void) { write_bounded(1, "2.1"); }
static void test_bounded_20_threads(void) { write_bounded(3, "2.0"); }

int main(void) {
  RUN(test_bounded_21_threads);
  RUN(test_bounded_21_single);
  RUN(test_bounded_20_threads);
  TEST_MAIN_END();
}
