/* Whole datasets through the public API: open, scan every column (small
 * batches, so slices are exercised), take rows, count. The datasets are real
 * ones, written by clance and by the real Lance (nested types, deletion
 * files, several data files per fragment), loaded from the directory named
 * by CLANCE_FUZZ_DATASETS (fuzz/make-seeds.sh builds it). An input picks a
 * dataset and one of its files and damages that file:
 *   [dataset] [file] ( [pos u32 LE] [value] )* [truncate]?
 * so even random inputs from the standalone driver reach deep into the
 * readers, and libFuzzer mutates the same way. Every batch a scan, a
 * filtered scan or a take returns must pass cl_array_validate. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arrow/array.h"
#include "arrow/type.h"
#include "clance/clance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DATASETS 64
#define MAX_FILES 64
#define MAX_FILE_BYTES (256 * 1024)

typedef struct seed_file {
  char *rel; /* path below the dataset root */
  uint8_t *bytes;
  size_t len;
} seed_file;

typedef struct seed_ds {
  char *root; /* our working copy */
  seed_file files[MAX_FILES];
  size_t n_files;
} seed_ds;

static seed_ds sets[MAX_DATASETS];
static size_t n_sets;
static int loaded;

static void fail(const char *what) {
  fprintf(stderr, "fuzz_dataset: %s\n", what);
  abort();
}

static int write_file(const char *path, const uint8_t *b, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  int ok = fwrite(b, 1, n, f) == n;
  return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* Copy the tree under src/rel into the working copy and remember its files. */
static void load_tree(seed_ds *ds, const char *src, const char *rel) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", src, rel);
  DIR *d = opendir(path);
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char sub[2048], full[4096], dst[4096];
    snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
    snprintf(full, sizeof full, "%s/%s", src, sub);
    snprintf(dst, sizeof dst, "%s/%s", ds->root, sub);
    struct stat st;
    if (stat(full, &st) != 0)
      continue;
    if (S_ISDIR(st.st_mode)) {
      mkdir(dst, 0700);
      load_tree(ds, src, sub);
      continue;
    }
    if (ds->n_files == MAX_FILES || st.st_size > MAX_FILE_BYTES)
      continue;
    FILE *f = fopen(full, "rb");
    if (!f)
      continue;
    seed_file *sf = &ds->files[ds->n_files];
    sf->len = (size_t)st.st_size;
    sf->bytes = malloc(sf->len ? sf->len : 1);
    if (!sf->bytes || fread(sf->bytes, 1, sf->len, f) != sf->len)
      fail("cannot read a seed file");
    fclose(f);
    sf->rel = strdup(sub);
    if (write_file(dst, sf->bytes, sf->len) != 0)
      fail("cannot write the working copy");
    ds->n_files++;
  }
  closedir(d);
}

static void load(void) {
  loaded = 1;
  const char *dir = getenv("CLANCE_FUZZ_DATASETS");
  if (!dir)
    return; /* nothing to fuzz: seeded runs set it */
  const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  char work[256];
  snprintf(work, sizeof work, "%s/clance-fuzz-ds-XXXXXX", tmp);
  if (!mkdtemp(work))
    fail("mkdtemp");
  DIR *d = opendir(dir);
  if (!d)
    fail("CLANCE_FUZZ_DATASETS is not a directory");
  struct dirent *e;
  char *names[MAX_DATASETS];
  size_t n = 0;
  while ((e = readdir(d)) && n < MAX_DATASETS)
    if (e->d_name[0] != '.')
      names[n++] = strdup(e->d_name);
  closedir(d);
  /* Directory order differs between machines; inputs should not. */
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      char *t = names[j];
      names[j] = names[j - 1];
      names[j - 1] = t;
    }
  for (size_t i = 0; i < n; i++) {
    seed_ds *ds = &sets[n_sets];
    char src[4096], root[4096];
    snprintf(src, sizeof src, "%s/%s", dir, names[i]);
    snprintf(root, sizeof root, "%s/%s", work, names[i]);
    mkdir(root, 0700);
    ds->root = strdup(root);
    load_tree(ds, src, "");
    if (ds->n_files)
      n_sets++;
    free(names[i]);
  }
}

static void check_batch(const struct ArrowSchema *s, const struct ArrowArray *a) {
  clance_error err;
  cl_field f;
  if (cl_field_from_arrow(s, &f, &err) != CLANCE_OK)
    fail("a scan exported a schema it cannot import");
  if (cl_array_validate(&f, a, "fuzz", &err) != CLANCE_OK) {
    fprintf(stderr, "%s\n", err.message);
    fail("a scan produced an array that breaks Arrow's rules");
  }
  cl_field_free(&f);
}

/* Scan (with a filter: the other columns are read for matching rows only)
 * and check every batch. */
static void scan_all(clance_dataset *ds, uint64_t batch_size, const char *filter) {
  clance_error err;
  clance_scan_options o;
  clance_scan_options_init(&o);
  o.batch_size = batch_size;
  o.filter = filter;
  struct ArrowArrayStream st;
  if (clance_dataset_scan(ds, &o, &st, &err) != CLANCE_OK)
    return;
  struct ArrowSchema s;
  if (st.get_schema(&st, &s) == 0) {
    for (int batches = 0; batches < 10000; batches++) {
      struct ArrowArray a;
      if (st.get_next(&st, &a) != 0)
        break; /* a damaged page: the error is the stream's */
      if (!a.release)
        break;
      check_batch(&s, &a);
      a.release(&a);
    }
    s.release(&s);
  }
  st.release(&st);
}

static void exercise(const char *root) {
  clance_error err;
  clance_dataset *ds;
  if (clance_dataset_open(root, 0, &ds, &err) != CLANCE_OK)
    return;
  uint64_t rows = clance_dataset_count_rows(ds);
  scan_all(ds, rows / 3 + 1, NULL); /* a few batches, cut at odd places: slices of pages */
  /* Filters on the first column: the rest is read by row access (sparse
   * matches) or from decoded pages (dense ones). Types a filter cannot
   * compare are refused at parse time. */
  struct ArrowSchema sch;
  if (clance_dataset_schema(ds, &sch, &err) == CLANCE_OK) {
    if (sch.n_children > 1 && sch.children[0]->name && strlen(sch.children[0]->name) < 200 &&
        strspn(sch.children[0]->name, "abcdefghijklmnopqrstuvwxyz_0123456789") ==
            strlen(sch.children[0]->name)) {
      char filter[256];
      snprintf(filter, sizeof filter, "%s IS NULL", sch.children[0]->name);
      scan_all(ds, rows / 5 + 1, filter);
      snprintf(filter, sizeof filter, "%s IS NOT NULL", sch.children[0]->name);
      scan_all(ds, 0, filter);
    }
    sch.release(&sch);
  }
  if (rows) {
    /* Both ends, the middle and a sparse spread: row access into pages. */
    uint64_t at[16] = {0, rows / 2, rows - 1};
    for (int k = 3; k < 16; k++)
      at[k] = rows * (uint64_t)(k - 3) / 13;
    struct ArrowArray a;
    struct ArrowSchema s;
    if (clance_dataset_take(ds, at, 16, NULL, &a, &s, &err) == CLANCE_OK) {
      check_batch(&s, &a);
      a.release(&a);
      s.release(&s);
    }
  }
  uint64_t n;
  (void)clance_dataset_count_rows_where(ds, NULL, &n, &err);
  clance_dataset_close(ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!loaded)
    load();
  if (n_sets == 0 || size < 2)
    return 0;
  seed_ds *ds = &sets[data[0] % n_sets];
  seed_file *f = &ds->files[data[1] % ds->n_files];
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", ds->root, f->rel);
  size_t len = f->len;
  uint8_t *b = malloc(len ? len : 1);
  if (!b)
    return 0;
  if (len)
    memcpy(b, f->bytes, len);
  size_t i = 2;
  for (; i + 5 <= size && len; i += 5) {
    uint32_t pos = (uint32_t)data[i] | (uint32_t)data[i + 1] << 8 | (uint32_t)data[i + 2] << 16 |
                   (uint32_t)data[i + 3] << 24;
    b[pos % len] = data[i + 4];
  }
  if (i < size && len)
    len -= data[i] % (len < 256 ? len : 256) + 1; /* cut the tail (the footer lives there) */
  if (write_file(path, b, len) != 0)
    fail("cannot write the working copy");
  exercise(ds->root);
  if (write_file(path, f->bytes, f->len) != 0)
    fail("cannot restore the working copy");
  free(b);
  return 0;
}
