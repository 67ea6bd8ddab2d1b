/* Scale simulation of the distributed write's coordinator: W workers each
 * hand over the FragmentMetadata JSON of F fragments; the coordinator parses
 * all of it, commits one Overwrite, and the dataset is opened again. Then one
 * more Append of F fragments onto the big table (the cost of each further
 * commit). Data files are 1-row files hard-linked under every fragment's
 * name (so a commit that opens them, --verify, works), or absent with
 * --no-files (commits then run with verify_files = 0).
 *
 *   scale DIR [--workers W] [--fragments F] [--verify] [--no-files] [--check]
 *
 * Prints one line per phase; --check exits nonzero unless the fragment and
 * row counts are right (the ctest). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clance/clance.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const clance_error *err) {
  fprintf(stderr, "scale: %s: %s\n", what, err ? err->message : strerror(errno));
  exit(1);
}

/* The stream of template_file(): one batch of one int64 row, then the end. */
static void noop_release(struct ArrowArray *a) { (void)a; }
static int64_t one_value = 42;
static const void *child_bufs[2] = {NULL, &one_value};
static const void *parent_bufs[1] = {NULL};
static struct ArrowArray child = {1, 0, 0, 2, 0, child_bufs, NULL, NULL, noop_release, NULL};
static struct ArrowArray *children[1] = {&child};
static int batch_given;

static int one_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  clance_error err;
  (void)s;
  return clance_schema_parse("id:int64", out, &err) ? EINVAL : 0;
}
static int one_get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  (void)s;
  memset(out, 0, sizeof *out);
  if (batch_given++)
    return 0;
  *out = (struct ArrowArray){1, 0, 0, 1, 1, parent_bufs, children, NULL, noop_release, NULL};
  return 0;
}
static const char *one_last_error(struct ArrowArrayStream *s) {
  (void)s;
  return "?";
}
static void one_release(struct ArrowArrayStream *s) { s->release = NULL; }

/* One 1-row data file written by clance itself: its name and size. */
static void template_file(const char *dir, char *name, size_t cap, unsigned long long *size) {
  struct ArrowSchema schema;
  clance_error err;
  if (clance_schema_parse("id:int64", &schema, &err))
    die("schema", &err);
  struct ArrowArrayStream s = {one_get_schema, one_get_next, one_last_error, one_release, NULL};
  clance_write_options o;
  clance_write_options_init(&o);
  o.mode = CLANCE_WRITE_CREATE;
  clance_fragments *frags;
  if (clance_write_fragments(dir, &schema, &s, &o, &frags, &err))
    die("writing the template file", &err);
  char *json;
  if (clance_fragments_to_json(frags, &json, &err))
    die("json", &err);
  const char *p = strstr(json, "\"path\": \"");
  const char *sz = strstr(json, "\"file_size_bytes\": ");
  if (!p || !sz)
    die("template JSON", NULL);
  p += 9;
  size_t n = (size_t)(strchr(p, '"') - p);
  if (n >= cap)
    die("template name", NULL);
  memcpy(name, p, n);
  name[n] = 0;
  *size = strtoull(sz + 19, NULL, 10);
  clance_free(json);
  clance_fragments_free(frags);
  schema.release(&schema);
}

static unsigned long long manifest_bytes(const char *dir) {
  char p[4096];
  snprintf(p, sizeof p, "%s/_versions", dir);
  DIR *d = opendir(p);
  unsigned long long best = 0;
  unsigned long long best_v = 0;
  struct dirent *e;
  while (d && (e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n < 9 || strcmp(e->d_name + n - 9, ".manifest"))
      continue;
    /* V2 names count down: the smallest number is the latest version. */
    unsigned long long v = ~0ull - strtoull(e->d_name, NULL, 10);
    char f[4200];
    int fl = snprintf(f, sizeof f, "%s/%s", p, e->d_name);
    struct stat sb;
    if (fl > 0 && (size_t)fl < sizeof f && v >= best_v && !stat(f, &sb)) {
      best_v = v;
      best = (unsigned long long)sb.st_size;
    }
  }
  if (d)
    closedir(d);
  return best;
}

/* Worker w's JSON: F fragments, each naming its own (hard-linked) file. */
#define LINKS_PER_FILE 50000 /* ext4 allows 65000 hard links per inode */

static char *worker_json(const char *dir, char (*tmpls)[128], unsigned long long size, int w,
                         int F, int make_files) {
  size_t cap = (size_t)F * 420 + 16, len = 0;
  char *j = malloc(cap);
  if (!j)
    die("out of memory", NULL);
  len += (size_t)snprintf(j + len, cap - len, "[");
  for (int f = 0; f < F; f++) {
    char name[200];
    const char *tmpl = tmpls[((size_t)w * (size_t)F + (size_t)f) / LINKS_PER_FILE];
    snprintf(name, sizeof name, "w%06d-f%05d-%s", w, f, tmpl);
    if (make_files) {
      char a[4200], b[4200];
      snprintf(a, sizeof a, "%s/data/%s", dir, tmpl);
      snprintf(b, sizeof b, "%s/data/%s", dir, name);
      if (link(a, b) && errno != EEXIST)
        die(b, NULL);
    }
    len += (size_t)snprintf(j + len, cap - len,
                            "%s{\"id\": 0, \"files\": [{\"fields\": [0], \"column_indices\": [0], "
                            "\"file_major_version\": 2, \"file_minor_version\": 1, "
                            "\"file_size_bytes\": %llu, \"base_id\": null, \"path\": \"%s\"}], "
                            "\"physical_rows\": 1, \"deletion_file\": null, \"row_id_meta\": null, "
                            "\"created_at_version_meta\": null, \"last_updated_at_version_meta\": null}",
                            f ? ", " : "", size, name);
  }
  snprintf(j + len, cap - len, "]");
  return j;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: scale DIR [--workers W] [--fragments F] [--verify] [--no-files] [--check]\n");
    return 2;
  }
  const char *dir = argv[1];
  int W = 1000, F = 100, verify = 0, files = 1, check = 0;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--workers") && i + 1 < argc)
      W = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--fragments") && i + 1 < argc)
      F = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--verify"))
      verify = 1;
    else if (!strcmp(argv[i], "--no-files"))
      files = 0;
    else if (!strcmp(argv[i], "--check"))
      check = 1;
    else {
      fprintf(stderr, "scale: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (W < 1 || F < 1 || (verify && !files)) {
    fprintf(stderr, "scale: bad arguments\n");
    return 2;
  }
  clance_error err;
  unsigned long long n = (unsigned long long)W * (unsigned long long)F, size = 0;
  size_t n_tmpl = (size_t)((n + (unsigned long long)F) / LINKS_PER_FILE + 1);
  char(*tmpl)[128] = calloc(n_tmpl, sizeof *tmpl);
  for (size_t i = 0; tmpl && i < n_tmpl; i++) {
    batch_given = 0;
    template_file(dir, tmpl[i], sizeof tmpl[i], &size);
  }

  /* The workers' JSON, as the coordinator would receive it. */
  double t0 = now_s();
  char **docs = calloc((size_t)W + 1, sizeof *docs);
  for (int w = 0; w <= W; w++) /* the last one is for the append */
    docs[w] = worker_json(dir, tmpl, size, w, F, files);
  double t_gen = now_s() - t0;

  t0 = now_s();
  clance_fragments *all;
  if (clance_fragments_new(&all, &err))
    die("fragments", &err);
  for (int w = 0; w < W; w++) {
    clance_fragments *f;
    char src[32];
    snprintf(src, sizeof src, "worker %d", w);
    if (clance_fragments_from_json(docs[w], strlen(docs[w]), src, &f, &err) ||
        clance_fragments_extend(all, f, &err))
      die("parsing worker JSON", &err);
    clance_fragments_free(f);
  }
  double t_parse = now_s() - t0;

  struct ArrowSchema schema;
  if (clance_schema_parse("id:int64", &schema, &err))
    die("schema", &err);
  clance_commit_options co;
  clance_commit_options_init(&co);
  co.verify_files = verify;
  clance_operation *op;
  uint64_t version;
  t0 = now_s();
  if (clance_operation_overwrite(&schema, all, &op, &err) ||
      clance_commit(dir, op, 0, &co, &version, &err))
    die("commit", &err);
  double t_commit = now_s() - t0;
  clance_operation_free(op);
  clance_fragments_free(all);
  unsigned long long mbytes = manifest_bytes(dir);

  t0 = now_s();
  clance_dataset *ds;
  if (clance_dataset_open(dir, 0, &ds, &err))
    die("open", &err);
  size_t nfrag = clance_dataset_num_fragments(ds);
  uint64_t rows = clance_dataset_count_rows(ds);
  clance_dataset_close(ds);
  double t_open = now_s() - t0;

  /* One more worker's Append onto the big table. */
  t0 = now_s();
  clance_fragments *more;
  if (clance_fragments_from_json(docs[W], strlen(docs[W]), "append", &more, &err) ||
      clance_operation_append(more, &op, &err) || clance_commit(dir, op, version, &co, &version, &err))
    die("append", &err);
  double t_append = now_s() - t0;
  clance_operation_free(op);
  clance_fragments_free(more);
  if (clance_dataset_open(dir, 0, &ds, &err))
    die("open", &err);
  size_t nfrag2 = clance_dataset_num_fragments(ds);
  uint64_t rows2 = clance_dataset_count_rows(ds);
  clance_dataset_close(ds);

  printf("scale: %d workers x %d fragments = %llu fragments%s\n", W, F, n,
         verify ? " (verify_files: every data file opened)" : " (verify_files = 0)");
  printf("  generate JSON      %8.3f s\n", t_gen);
  printf("  parse JSON         %8.3f s  (%.2f us/fragment)\n", t_parse, t_parse * 1e6 / (double)n);
  printf("  commit Overwrite   %8.3f s  (%.2f us/fragment)\n", t_commit, t_commit * 1e6 / (double)n);
  printf("  manifest           %8llu bytes (%.1f bytes/fragment)\n", mbytes, (double)mbytes / (double)n);
  printf("  open + count       %8.3f s  -> %zu fragments, %llu rows\n", t_open, nfrag,
         (unsigned long long)rows);
  printf("  append %d more      %8.3f s  -> %zu fragments, %llu rows\n", F, t_append, nfrag2,
         (unsigned long long)rows2);
  for (int w = 0; w <= W; w++)
    free(docs[w]);
  free(docs);
  free(tmpl);
  schema.release(&schema);
  if (check && (nfrag != n || rows != n || nfrag2 != n + (size_t)F || rows2 != n + (uint64_t)F)) {
    fprintf(stderr, "scale: wrong counts\n");
    return 1;
  }
  return 0;
}
