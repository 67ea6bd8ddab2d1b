/* clance_mpi_write and clance_mpi_add_columns under a real mpirun (any
 * number of ranks >= 2):
 *
 *   mpirun -np N test_mpi_write WORKDIR
 *
 * Uses the public headers only (clance.h, clance_mpi.h). Every rank checks
 * what it gets back; rank 0 checks the dataset. Cases: the seed overwrite
 * (3 rows of a:int32,b:utf8 per rank), appends (also with an empty rank), a
 * rank failing mid-write, mismatched schemas, mismatched arguments and a
 * failed commit: every rank must return the same status and message, nothing
 * may be committed and no data file may be left behind. add-columns: a Merge
 * over fewer fragments than ranks (ranks without fragments), mismatched new
 * columns, a failing callback and a stream with a row too many. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <clance/clance_mpi.h>

static int g_rank, g_size, g_failures;

#define CHECK(cond, ...)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      fprintf(stderr, "rank %d: %s:%d: check failed: %s: ", g_rank, __FILE__, __LINE__,  \
              #cond);                                                                      \
      fprintf(stderr, __VA_ARGS__);                                                        \
      fputc('\n', stderr);                                                                 \
      g_failures++;                                                                        \
    }                                                                                      \
  } while (0)

/* ---- a stream of `batches` batches of `rows` rows of {a: int32, b: utf8} ----
 * Row i of rank r (counting over all its batches) has a = base + i and
 * b = "r<r>-<i>". With fail_after >= 0 the stream fails (EBADMSG) after
 * that many batches. */

typedef struct gen {
  int rank, base, batches, rows, fail_after, emitted;
  int wide_b; /* b is int64 instead of utf8: a different schema */
} gen;

typedef struct batch_mem {
  struct ArrowArray cols[2], *col_ptrs[2];
  const void *a_bufs[2], *b_bufs[3], *top_bufs[1];
  int32_t *a, *b_off;
  int64_t *b64;
  char *b_data;
} batch_mem;

static void release_child(struct ArrowArray *a) { a->release = NULL; }

static void release_batch(struct ArrowArray *a) {
  batch_mem *m = a->private_data;
  for (int i = 0; i < 2; i++)
    if (m->cols[i].release)
      m->cols[i].release(&m->cols[i]);
  free(m->a);
  free(m->b_off);
  free(m->b64);
  free(m->b_data);
  free(m);
  a->release = NULL;
}

static int gen_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  gen *g = s->private_data;
  clance_error err;
  return clance_schema_parse(g->wide_b ? "a:int32,b:int64" : "a:int32,b:string", out, &err)
             ? 22
             : 0;
}

static int gen_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  gen *g = s->private_data;
  memset(out, 0, sizeof *out);
  if (g->fail_after >= 0 && g->emitted == g->fail_after)
    return EBADMSG; /* malformed input, as a text reader reports it */
  if (g->emitted == g->batches)
    return 0; /* end of stream: release stays NULL */
  batch_mem *m = calloc(1, sizeof *m);
  int n = g->rows, first = g->emitted * g->rows;
  m->a = malloc(sizeof *m->a * (size_t)(n ? n : 1));
  m->b_off = malloc(sizeof *m->b_off * (size_t)(n + 1));
  m->b64 = malloc(sizeof *m->b64 * (size_t)(n ? n : 1));
  m->b_data = malloc((size_t)(n ? n : 1) * 32);
  if (!m->a || !m->b_off || !m->b64 || !m->b_data)
    abort();
  m->b_off[0] = 0;
  for (int i = 0; i < n; i++) {
    m->a[i] = g->base + first + i;
    m->b64[i] = 1000 * g->rank + first + i;
    m->b_off[i + 1] =
        m->b_off[i] + sprintf(m->b_data + m->b_off[i], "r%d-%d", g->rank, first + i);
  }
  m->a_bufs[1] = m->a;
  if (g->wide_b) {
    m->b_bufs[1] = m->b64;
  } else {
    m->b_bufs[1] = m->b_off;
    m->b_bufs[2] = m->b_data;
  }
  for (int i = 0; i < 2; i++) {
    m->cols[i].length = n;
    m->cols[i].n_buffers = i == 0 || g->wide_b ? 2 : 3;
    m->cols[i].buffers = i == 0 ? m->a_bufs : m->b_bufs;
    m->cols[i].release = release_child;
    m->col_ptrs[i] = &m->cols[i];
  }
  out->length = n;
  out->n_buffers = 1;
  out->buffers = m->top_bufs;
  out->n_children = 2;
  out->children = m->col_ptrs;
  out->release = release_batch;
  out->private_data = m;
  g->emitted++;
  return 0;
}

static const char *gen_last_error(struct ArrowArrayStream *s) {
  gen *g = s->private_data;
  static char msg[64];
  snprintf(msg, sizeof msg, "rank %d's input is malformed (test)", g->rank);
  return msg;
}

static void gen_release(struct ArrowArrayStream *s) { s->release = NULL; }

static struct ArrowArrayStream make_stream(gen *g) {
  struct ArrowArrayStream s = {gen_schema, gen_next, gen_last_error, gen_release, g};
  return s;
}

/* ---- helpers ---- */

static char g_path[4096];

static const char *path_of(const char *dir, const char *name) {
  snprintf(g_path, sizeof g_path, "%s/%s", dir, name);
  return g_path;
}

/* Number of files in DATASET/data (0 if absent). */
static int count_data_files(const char *uri) {
  char p[4200];
  snprintf(p, sizeof p, "%s/data", uri);
  DIR *d = opendir(p);
  int n = 0;
  if (!d)
    return 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n;
}

static uint64_t latest_version(const char *uri) {
  clance_dataset *ds;
  clance_error err;
  if (clance_dataset_open(uri, 0, &ds, &err))
    return 0;
  uint64_t v = clance_dataset_version(ds);
  clance_dataset_close(ds);
  return v;
}

/* Every rank got the same status and message? (Checked on rank 0.) */
static void check_same_everywhere(clance_status st, const clance_error *err) {
  char mine[CLANCE_ERROR_MESSAGE_SIZE + 16];
  snprintf(mine, sizeof mine, "%d|%s", (int)st, st ? err->message : "");
  char *all = g_rank == 0 ? malloc(sizeof mine * (size_t)g_size) : NULL;
  MPI_Gather(mine, (int)sizeof mine, MPI_CHAR, all, (int)sizeof mine, MPI_CHAR, 0,
             MPI_COMM_WORLD);
  if (g_rank == 0) {
    for (int r = 1; r < g_size; r++)
      CHECK(!strcmp(all + (size_t)r * sizeof mine, mine),
            "rank %d returned \"%s\", rank 0 \"%s\"", r, all + (size_t)r * sizeof mine, mine);
    free(all);
  }
}

/* Rank 0: the dataset holds exactly `expect` rows as "a b" lines, in order,
 * in `fragments` fragments at `version`. */
static void check_rows(const char *uri, uint64_t version, size_t fragments, const char *expect) {
  if (g_rank != 0)
    return;
  clance_dataset *ds;
  clance_error err;
  struct ArrowArrayStream scan;
  if (clance_dataset_open(uri, 0, &ds, &err) || clance_dataset_scan(ds, NULL, &scan, &err)) {
    CHECK(0, "%s", err.message);
    return;
  }
  CHECK(clance_dataset_version(ds) == version, "version %llu, expected %llu",
        (unsigned long long)clance_dataset_version(ds), (unsigned long long)version);
  CHECK(clance_dataset_num_fragments(ds) == fragments, "%zu fragments, expected %zu",
        clance_dataset_num_fragments(ds), fragments);
  size_t cap = 1 << 16, len = 0;
  char *got = calloc(cap, 1);
  struct ArrowArray b;
  while (scan.get_next(&scan, &b) == 0 && b.release) {
    const struct ArrowArray *ca = b.children[0], *cb = b.children[1];
    const int32_t *a = (const int32_t *)ca->buffers[1] + ca->offset;
    const int32_t *off = (const int32_t *)cb->buffers[1] + cb->offset;
    const char *s = cb->buffers[2];
    for (int64_t i = 0; i < b.length && len + 64 < cap; i++)
      len += (size_t)snprintf(got + len, cap - len, "%d %.*s\n", a[i],
                              (int)(off[i + 1] - off[i]), s + off[i]);
    b.release(&b);
  }
  scan.release(&scan);
  clance_dataset_close(ds);
  CHECK(!strcmp(got, expect), "rows:\n%s\nexpected:\n%s", got, expect);
  free(got);
}

/* Expected lines for ranks writing `rows` rows each, a = base(r) + i. */
static void expect_rows(char *out, size_t cap, int rows, int base_step, int base0,
                        int skip_rank) {
  size_t len = strlen(out);
  for (int r = 0; r < g_size; r++) {
    if (r == skip_rank)
      continue;
    for (int i = 0; i < rows; i++)
      len += (size_t)snprintf(out + len, cap - len, "%d r%d-%d\n", base0 + base_step * r + i, r, i);
  }
}

static clance_status write_rows(const char *uri, clance_mpi_operation op, gen *g,
                                const char *schema_spec, uint64_t read_version,
                                uint64_t max_rows_per_file, uint64_t *version,
                                clance_error *err) {
  struct ArrowArrayStream s = make_stream(g);
  struct ArrowSchema schema;
  clance_error e;
  if (clance_schema_parse(schema_spec, &schema, &e))
    abort();
  clance_write_options o;
  clance_write_options_init(&o);
  o.max_rows_per_file = max_rows_per_file;
  clance_status st = clance_mpi_write(MPI_COMM_WORLD, uri, &schema, &s, op, &o, read_version,
                                      NULL, version, err);
  CHECK(s.release == NULL, "the stream was not released");
  schema.release(&schema);
  return st;
}

/* ---- add-columns: a values callback giving c = 100 * row (int64) ---- */

typedef struct cvals {
  const char *spec; /* the stream's schema (NULL = "c:int64") */
  int fail;       /* the callback fails */
  int extra;      /* one row more than asked for */
  int calls;
  int64_t *c;
  int64_t n;
  int done;
  const void *bufs[2], *top[1];
  struct ArrowArray col, *cols[1];
} cvals;

static int cv_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  cvals *v = s->private_data;
  clance_error err;
  return clance_schema_parse(v->spec ? v->spec : "c:int64", out, &err) ? 22 : 0;
}

static int cv_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  cvals *v = s->private_data;
  memset(out, 0, sizeof *out);
  if (v->done)
    return 0;
  v->done = 1;
  v->bufs[0] = NULL;
  v->bufs[1] = v->c;
  memset(&v->col, 0, sizeof v->col);
  v->col.length = v->n;
  v->col.n_buffers = 2;
  v->col.buffers = v->bufs;
  v->col.release = release_child;
  v->cols[0] = &v->col;
  out->length = v->n;
  out->n_buffers = 1;
  out->buffers = v->top;
  out->n_children = 1;
  out->children = v->cols;
  out->release = release_child;
  return 0;
}

static const char *cv_last_error(struct ArrowArrayStream *s) {
  (void)s;
  return "no error";
}

static clance_status cvalues(void *user, const clance_dataset *ds, uint64_t fragment_id,
                             uint64_t first_row, uint64_t num_rows,
                             struct ArrowArrayStream *out, clance_error *err) {
  (void)ds;
  (void)fragment_id;
  cvals *v = user;
  v->calls++;
  if (v->fail) {
    err->code = CLANCE_EIO;
    snprintf(err->message, sizeof err->message, "test failure");
    return CLANCE_EIO;
  }
  free(v->c);
  v->n = (int64_t)num_rows + (v->extra ? 1 : 0);
  v->c = malloc(sizeof *v->c * (size_t)(v->n ? v->n : 1));
  if (!v->c)
    abort();
  for (int64_t i = 0; i < v->n; i++)
    v->c[i] = 100 * ((int64_t)first_row + i);
  v->done = 0;
  struct ArrowArrayStream s = {cv_schema, cv_next, cv_last_error, gen_release, v};
  *out = s;
  return CLANCE_OK;
}

static clance_status add_c(const char *uri, const char *spec, cvals *v, uint64_t *version,
                           clance_error *err) {
  struct ArrowSchema schema;
  clance_error e;
  if (clance_schema_parse(spec, &schema, &e))
    abort();
  clance_status st = clance_mpi_add_columns(MPI_COMM_WORLD, uri, CLANCE_MPI_LATEST_VERSION,
                                            &schema, cvalues, v, NULL, NULL, version, err);
  schema.release(&schema);
  return st;
}

/* Rank 0: column c of the latest version is 100 * row for `rows` rows. */
static void check_c(const char *uri, int64_t rows) {
  if (g_rank != 0)
    return;
  clance_dataset *ds;
  clance_error err;
  struct ArrowArrayStream scan;
  clance_scan_options o;
  const char *cols[1] = {"c"};
  clance_scan_options_init(&o);
  o.columns = cols;
  o.num_columns = 1;
  if (clance_dataset_open(uri, 0, &ds, &err) || clance_dataset_scan(ds, &o, &scan, &err)) {
    CHECK(0, "%s", err.message);
    return;
  }
  int64_t row = 0;
  struct ArrowArray b;
  while (scan.get_next(&scan, &b) == 0 && b.release) {
    const struct ArrowArray *cc = b.children[0];
    const int64_t *c = (const int64_t *)cc->buffers[1] + cc->offset;
    for (int64_t i = 0; i < b.length; i++, row++)
      CHECK(c[i] == 100 * row, "c of row %lld is %lld", (long long)row, (long long)c[i]);
    b.release(&b);
  }
  CHECK(row == rows, "%lld rows, expected %lld", (long long)row, (long long)rows);
  scan.release(&scan);
  clance_dataset_close(ds);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  if (argc != 2 || g_size < 2) {
    if (g_rank == 0)
      fprintf(stderr, "usage: mpirun -np N test_mpi_write WORKDIR (N >= 2)\n");
    MPI_Finalize();
    return 2;
  }
  const char *work = argv[1];
  char uri[4096];
  snprintf(uri, sizeof uri, "%s", path_of(work, "seed.lance"));
  size_t cap = 1 << 16;
  char *expect = calloc(cap, 1);
  clance_error err;
  uint64_t version = 0;
  clance_status st;
  const char *spec = "a:int32,b:string";

  /* 1. The seed: every rank writes 3 rows; one Overwrite at read version 0. */
  {
    gen g = {g_rank, 3 * g_rank + 1, 1, 3, -1, 0, 0};
    st = write_rows(uri, CLANCE_MPI_OVERWRITE, &g, spec, 0, 0, &version, &err);
    CHECK(st == CLANCE_OK, "seed: %s: %s", clance_status_name(st), err.message);
    CHECK(version == 1, "seed: version %llu", (unsigned long long)version);
    check_same_everywhere(st, &err);
    MPI_Barrier(MPI_COMM_WORLD);
    expect_rows(expect, cap, 3, 3, 1, -1);
    check_rows(uri, 1, (size_t)g_size, expect);
  }

  /* 2. Append at the latest version, 2 files per rank (max 2 rows per file). */
  {
    gen g = {g_rank, 100 + 10 * g_rank, 2, 2, -1, 0, 0};
    st = write_rows(uri, CLANCE_MPI_APPEND, &g, spec, CLANCE_MPI_LATEST_VERSION, 2, &version,
                    &err);
    CHECK(st == CLANCE_OK, "append: %s: %s", clance_status_name(st), err.message);
    CHECK(version == 2, "append: version %llu", (unsigned long long)version);
    check_same_everywhere(st, &err);
    MPI_Barrier(MPI_COMM_WORLD);
    expect_rows(expect, cap, 4, 10, 100, -1);
    check_rows(uri, 2, (size_t)g_size * 3, expect);
  }

  /* 3. Append with an explicit read version; the last rank has no rows. */
  {
    int last = g_size - 1;
    gen g = {g_rank, 500 + 10 * g_rank, g_rank == last ? 0 : 1, 1, -1, 0, 0};
    st = write_rows(uri, CLANCE_MPI_APPEND, &g, spec, 2, 0, &version, &err);
    CHECK(st == CLANCE_OK, "append with an empty rank: %s: %s", clance_status_name(st),
          err.message);
    CHECK(version == 3, "append with an empty rank: version %llu", (unsigned long long)version);
    check_same_everywhere(st, &err);
    MPI_Barrier(MPI_COMM_WORLD);
    expect_rows(expect, cap, 1, 10, 500, last);
    check_rows(uri, 3, (size_t)g_size * 4 - 1, expect);
  }

  int files_before = count_data_files(uri);
  MPI_Barrier(MPI_COMM_WORLD);

  /* 4. Rank 1 fails mid-write (after two files of one row each): every rank
   *    returns rank 1's error, nothing is committed, no file is left. */
  {
    gen g = {g_rank, 900, 3, 1, g_rank == 1 ? 2 : -1, 0, 0};
    st = write_rows(uri, CLANCE_MPI_APPEND, &g, spec, CLANCE_MPI_LATEST_VERSION, 1, &version,
                    &err);
    CHECK(st == CLANCE_ECORRUPT, "failing rank: %s: %s", clance_status_name(st), err.message);
    CHECK(!strncmp(err.message, "rank 1: ", 8) && strstr(err.message, "malformed"),
          "failing rank: message \"%s\"", err.message);
    CHECK(version == 0, "failing rank: version %llu", (unsigned long long)version);
    check_same_everywhere(st, &err);
    if (g_rank == 0) {
      CHECK(latest_version(uri) == 3, "failing rank: latest version %llu",
            (unsigned long long)latest_version(uri));
      CHECK(count_data_files(uri) == files_before, "failing rank: %d data files, before %d",
            count_data_files(uri), files_before);
    }
  }

  /* 5. Mismatched schemas: the last rank's b is int64. Refused before any
   *    rank writes. */
  {
    int odd = g_size - 1;
    gen g = {g_rank, 900, 1, 3, -1, 0, g_rank == odd};
    st = write_rows(uri, CLANCE_MPI_APPEND, &g, g_rank == odd ? "a:int32,b:int64" : spec,
                    CLANCE_MPI_LATEST_VERSION, 0, &version, &err);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "rank %d: ", odd);
    CHECK(st == CLANCE_ESCHEMA, "schemas: %s: %s", clance_status_name(st), err.message);
    CHECK(!strncmp(err.message, prefix, strlen(prefix)) && strstr(err.message, "schema"),
          "schemas: message \"%s\"", err.message);
    check_same_everywhere(st, &err);
    if (g_rank == 0) {
      CHECK(latest_version(uri) == 3, "schemas: latest version %llu",
            (unsigned long long)latest_version(uri));
      CHECK(count_data_files(uri) == files_before, "schemas: %d data files, before %d",
            count_data_files(uri), files_before);
    }
  }

  /* 6. Mismatched arguments (rank 1 gives another read version). */
  {
    gen g = {g_rank, 900, 1, 3, -1, 0, 0};
    st = write_rows(uri, CLANCE_MPI_APPEND, &g, spec, g_rank == 1 ? 2 : 3, 0, &version, &err);
    CHECK(st == CLANCE_EINVAL && !strncmp(err.message, "rank 1: ", 8) &&
              strstr(err.message, "read version"),
          "arguments: %s: %s", clance_status_name(st), err.message);
    check_same_everywhere(st, &err);
  }

  /* 7. A commit that fails: an Overwrite prepared against version 1 while
   *    the latest is 3 is refused; every rank's files are removed. */
  {
    gen g = {g_rank, 900, 2, 1, -1, 0, 0};
    st = write_rows(uri, CLANCE_MPI_OVERWRITE, &g, spec, 1, 1, &version, &err);
    CHECK(st == CLANCE_ECONFLICT_RETRYABLE && !strncmp(err.message, "commit by rank 0: ", 18),
          "failed commit: %s: %s", clance_status_name(st), err.message);
    check_same_everywhere(st, &err);
    if (g_rank == 0) {
      CHECK(latest_version(uri) == 3, "failed commit: latest version %llu",
            (unsigned long long)latest_version(uri));
      CHECK(count_data_files(uri) == files_before, "failed commit: %d data files, before %d",
            count_data_files(uri), files_before);
    }
  }

  /* 8. A rank whose input cannot be opened takes part with an error stream. */
  {
    struct ArrowArrayStream s;
    clance_error open_err = {CLANCE_ENOTFOUND, "part-1.csv: No such file or directory"};
    gen g = {g_rank, 900, 1, 3, -1, 0, 0};
    if (g_rank == 1) {
      if (clance_mpi_error_stream(&open_err, &s, &err))
        abort();
    } else {
      s = make_stream(&g);
    }
    st = clance_mpi_write(MPI_COMM_WORLD, uri, NULL, &s, CLANCE_MPI_APPEND, NULL,
                          CLANCE_MPI_LATEST_VERSION, NULL, &version, &err);
    CHECK(st == CLANCE_ENOTFOUND && !strncmp(err.message, "rank 1: ", 8) &&
              strstr(err.message, "part-1.csv"),
          "error stream: %s: %s", clance_status_name(st), err.message);
    CHECK(s.release == NULL, "error stream: not released");
    check_same_everywhere(st, &err);
    if (g_rank == 0)
      CHECK(count_data_files(uri) == files_before, "error stream: %d data files, before %d",
            count_data_files(uri), files_before);
  }

  /* 9. add-columns over 2 fragments (rank 0 wrote 3 rows, 2 per file): with
   *    more ranks than fragments, some ranks have none. One Merge. */
  char ac[4096];
  snprintf(ac, sizeof ac, "%s", path_of(work, "ac.lance"));
  {
    gen g = {g_rank, 0, g_rank == 0 ? 1 : 0, 3, -1, 0, 0};
    st = write_rows(ac, CLANCE_MPI_OVERWRITE, &g, spec, 0, 2, &version, &err);
    CHECK(st == CLANCE_OK && version == 1, "ac seed: %s: %s", clance_status_name(st),
          err.message);
    cvals v = {0};
    st = add_c(ac, "c:int64", &v, &version, &err);
    CHECK(st == CLANCE_OK, "add-columns: %s: %s", clance_status_name(st), err.message);
    CHECK(version == 2, "add-columns: version %llu", (unsigned long long)version);
    /* Rank r has fragments floor(2r/N) .. floor(2(r+1)/N)-1. */
    int mine = (2 * (g_rank + 1)) / g_size - (2 * g_rank) / g_size;
    CHECK(v.calls == mine, "add-columns: %d callbacks, expected %d", v.calls, mine);
    free(v.c);
    check_same_everywhere(st, &err);
    MPI_Barrier(MPI_COMM_WORLD);
    check_c(ac, 3);
  }
  int ac_files = count_data_files(ac);
  MPI_Barrier(MPI_COMM_WORLD);

  /* 10. The last rank gives other new columns: refused before any write. */
  {
    cvals v = {0};
    st = add_c(ac, g_rank == g_size - 1 ? "d:int32" : "d:int64", &v, &version, &err);
    CHECK(st == CLANCE_ESCHEMA && strstr(err.message, "new columns"),
          "other columns: %s: %s", clance_status_name(st), err.message);
    CHECK(v.calls == 0, "other columns: %d callbacks", v.calls);
    check_same_everywhere(st, &err);
  }

  /* 11. The callback of the last rank (which has fragment 1) fails after
   *     the others wrote their files: nothing committed, no file left. */
  {
    cvals v = {0};
    v.spec = "d:int64";
    v.fail = g_rank == g_size - 1;
    st = add_c(ac, "d:int64", &v, &version, &err);
    char prefix[48];
    snprintf(prefix, sizeof prefix, "rank %d: fragment 1: test failure", g_size - 1);
    CHECK(st == CLANCE_EIO && !strcmp(err.message, prefix), "failing callback: %s: %s",
          clance_status_name(st), err.message);
    free(v.c);
    check_same_everywhere(st, &err);
  }

  /* 12. A stream with one row too many (on every rank with a fragment). */
  {
    cvals v = {0};
    v.spec = "d:int64";
    v.extra = 1;
    st = add_c(ac, "d:int64", &v, &version, &err);
    CHECK(st == CLANCE_EINVAL && strstr(err.message, "more values"), "extra row: %s: %s",
          clance_status_name(st), err.message);
    free(v.c);
    check_same_everywhere(st, &err);
    if (g_rank == 0) {
      CHECK(latest_version(ac) == 2, "failed add-columns: latest version %llu",
            (unsigned long long)latest_version(ac));
      CHECK(count_data_files(ac) == ac_files, "failed add-columns: %d data files, before %d",
            count_data_files(ac), ac_files);
    }
    check_c(ac, 3);
  }

  free(expect);
  int total = 0;
  MPI_Allreduce(&g_failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (g_rank == 0)
    printf("%s: %d ranks, %d failed checks\n", total ? "FAIL" : "ok", g_size, total);
  MPI_Finalize();
  return total ? 1 : 0;
}
