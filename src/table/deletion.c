#include "table/deletion.h"

#include <roaring/roaring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/fs.h"

char *cl_deletion_path(const char *root, const pb_fragment *f, clance_error *err) {
  const Lance__Table__DeletionFile *d = f->deletion_file;
  int bitmap = d->file_type == LANCE__TABLE__DELETION_FILE__DELETION_FILE_TYPE__BITMAP;
  char rel[128];
  snprintf(rel, sizeof rel, "_deletions/%llu-%llu-%llu.%s", (unsigned long long)f->id,
           (unsigned long long)d->read_version, (unsigned long long)d->id, bitmap ? "bin" : "arrow");
  return cl_path_join(root, rel, err);
}

void cl_deletions_free(cl_deletions *d) {
  if (d) {
    free(d->rows);
    free(d);
  }
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static clance_status parse_bitmap(const uint8_t *data, size_t len, const char *what,
                                  cl_deletions *d, clance_error *err) {
  roaring_bitmap_t *r = roaring_bitmap_portable_deserialize_safe((const char *)data, len);
  if (!r)
    return cl_err(err, CLANCE_ECORRUPT, "%s: not a valid portable Roaring bitmap", what);
  uint64_t n = roaring_bitmap_get_cardinality(r);
  d->rows = cl_malloc((size_t)(n ? n : 1) * sizeof *d->rows, err);
  if (!d->rows) {
    roaring_bitmap_free(r);
    return err->code;
  }
  roaring_bitmap_to_uint32_array(r, d->rows);
  d->n = (size_t)n;
  roaring_bitmap_free(r);
  return CLANCE_OK;
}

clance_status cl_deletions_parse(const uint8_t *data, size_t len, int bitmap, const char *what,
                                 cl_deletions **out, clance_error *err) {
  *out = NULL;
  cl_deletions *d = cl_calloc(1, sizeof *d, err);
  if (!d)
    return err->code;
  clance_status st;
  if (bitmap)
    st = parse_bitmap(data, len, what, d, err);
  else
    st = cl_err(err, CLANCE_EUNSUPPORTED, "%s: Arrow deletion files are not supported yet", what);
  if (st) {
    cl_deletions_free(d);
    return st;
  }
  /* Lance does not promise an order for .arrow files; sort and reject duplicates. */
  qsort(d->rows, d->n, sizeof *d->rows, cmp_u32);
  for (size_t i = 1; i < d->n; i++)
    if (d->rows[i] == d->rows[i - 1]) {
      cl_deletions_free(d);
      return cl_err(err, CLANCE_ECORRUPT, "%s: row %u is deleted twice", what, d->rows[i]);
    }
  *out = d;
  return CLANCE_OK;
}

clance_status cl_deletions_load(const char *root, const pb_fragment *f, cl_deletions **out,
                                clance_error *err) {
  *out = NULL;
  const Lance__Table__DeletionFile *df = f->deletion_file;
  if (df->has_base_id)
    return cl_err(err, CLANCE_EUNSUPPORTED, "deletion file of fragment %llu lives in a base path",
                  (unsigned long long)f->id);
  char *p = cl_deletion_path(root, f, err);
  if (!p)
    return err->code;
  cl_buf b = CL_BUF_INIT;
  clance_status st = cl_file_read_all(p, (size_t)1 << 32, &b, err);
  if (!st)
    st = cl_deletions_parse(b.data ? b.data : (const uint8_t *)"", b.len,
                            df->file_type == LANCE__TABLE__DELETION_FILE__DELETION_FILE_TYPE__BITMAP,
                            p, out, err);
  cl_buf_free(&b);
  if (!st && df->num_deleted_rows && (*out)->n != df->num_deleted_rows)
    st = cl_err(err, CLANCE_ECORRUPT, "%s: holds %zu rows but the manifest says %llu are deleted", p,
                (*out)->n, (unsigned long long)df->num_deleted_rows);
  if (!st && f->physical_rows && (*out)->n && (*out)->rows[(*out)->n - 1] >= f->physical_rows)
    st = cl_err(err, CLANCE_ECORRUPT, "%s: deletes row %u of a fragment with %llu rows", p,
                (*out)->rows[(*out)->n - 1], (unsigned long long)f->physical_rows);
  if (st) {
    cl_deletions_free(*out);
    *out = NULL;
  }
  free(p);
  return st;
}

/* Index of the first deleted row >= row. */
static size_t lower_bound(const cl_deletions *d, uint64_t row) {
  size_t lo = 0, hi = d->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (d->rows[mid] < row)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

int cl_deletions_contains(const cl_deletions *d, uint64_t row) {
  size_t i = lower_bound(d, row);
  return i < d->n && d->rows[i] == row;
}

uint64_t cl_deletions_run_end(const cl_deletions *d, uint64_t row, uint64_t limit) {
  size_t i = lower_bound(d, row);
  uint64_t end;
  if (i < d->n && d->rows[i] == row) {
    end = row;
    while (i < d->n && d->rows[i] == end && end < limit) {
      end++;
      i++;
    }
  } else {
    end = i < d->n ? d->rows[i] : limit;
  }
  return end < limit ? end : limit;
}
