/* Take: rows at arbitrary positions. Positions are mapped to (fragment,
 * physical row), sorted, and read fragment by fragment with the fragment
 * reader (flat columns read single values out of their pages' chunks); the
 * rows are then put back in the requested order. */
#include <stdlib.h>
#include <string.h>

#include "dataset/fragreader.h"
#include "arrow/dict.h"

typedef struct want {
  uint64_t pos;   /* requested position among live rows */
  size_t order;   /* index in the request */
} want;

static int cmp_want(const void *a, const void *b) {
  const want *x = a, *y = b;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Physical row of the k-th live row of a fragment with deletions d. Calls
 * come with increasing k, so *di (deleted rows already passed) only grows. */
static uint64_t physical_row(const cl_deletions *d, uint64_t k, size_t *di) {
  if (!d)
    return k;
  uint64_t p = k + *di;
  while (*di < d->n && d->rows[*di] <= p)
    p = k + ++*di;
  return p;
}

clance_status clance_dataset_take(const clance_dataset *cds, const uint64_t *rows, size_t num_rows,
                                  const clance_scan_options *options, struct ArrowArray *out,
                                  struct ArrowSchema *out_schema, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!cds || !out || (!rows && num_rows))
    return cl_err(err, CLANCE_EINVAL, "clance_dataset_take: NULL argument");
  cl_dataset *ds = (cl_dataset *)cds;
  memset(out, 0, sizeof *out);
  if (out_schema)
    memset(out_schema, 0, sizeof *out_schema);
  for (size_t i = 0; i < num_rows; i++)
    if (rows[i] >= ds->num_rows)
      return cl_err(err, CLANCE_EINVAL, "row %llu is out of range: version %llu has %llu rows",
                    (unsigned long long)rows[i], (unsigned long long)ds->manifest.pb->version,
                    (unsigned long long)ds->num_rows);
  const char *const *cols = options && options->num_columns ? options->columns : NULL;
  size_t ncols = options ? options->num_columns : 0;
  cl_frag_reader *r;
  CL_TRY(cl_frag_reader_new(ds, cols, ncols, &r, err));
  want *w = cl_malloc((num_rows ? num_rows : 1) * sizeof *w, err);
  clance_status st = w ? CLANCE_OK : err->code;
  struct ArrowArray sorted;
  memset(&sorted, 0, sizeof sorted);
  for (size_t i = 0; w && i < num_rows; i++) {
    w[i].pos = rows[i];
    w[i].order = i;
  }
  if (!st)
    qsort(w, num_rows, sizeof *w, cmp_want);
  /* Walk fragments; gather the distinct requested rows in sorted order. */
  const pb_manifest *m = ds->manifest.pb;
  uint64_t base = 0; /* live rows before this fragment */
  size_t next = 0, distinct = 0;
  size_t *slot = cl_malloc((num_rows ? num_rows : 1) * sizeof *slot, err);
  uint64_t *phys = cl_malloc((num_rows ? num_rows : 1) * sizeof *phys, err);
  if ((!slot || !phys) && !st)
    st = err->code;
  for (size_t fi = 0; !st && fi < m->n_fragments && next < num_rows; fi++) {
    const pb_fragment *f = m->fragments[fi];
    uint64_t live = cl_fragment_live_rows(f), total;
    if (!f->physical_rows) {
      st = cl_fragment_rows(ds->root, f, &total, err);
      live = total - (f->deletion_file ? f->deletion_file->num_deleted_rows : 0);
    }
    if (st || w[next].pos >= base + live) {
      base += live;
      continue;
    }
    if ((st = cl_frag_reader_open(r, fi, err)))
      break;
    const cl_deletions *d = cl_frag_reader_deletions(r);
    size_t di = 0, k = 0;
    while (next < num_rows && w[next].pos < base + live) {
      phys[k++] = physical_row(d, w[next].pos - base, &di);
      /* Repeats of the same position share one row. */
      uint64_t same = w[next].pos;
      while (next < num_rows && w[next].pos == same)
        slot[next++] = distinct;
      distinct++;
    }
    st = cl_frag_reader_take_rows(r, phys, k, err);
    base += live;
  }
  if (!st)
    st = cl_frag_reader_export(r, (int64_t)distinct, &sorted, err);
  /* Back to the requested order. */
  const cl_schema *sch = cl_frag_reader_schema(r);
  size_t nf = sch->n_fields;
  cl_arr *b = cl_calloc(nf ? nf : 1, sizeof *b, err);
  size_t *at_req = cl_malloc((num_rows ? num_rows : 1) * sizeof *at_req, err);
  if ((!b || !at_req) && !st)
    st = err->code;
  for (size_t i = 0; !st && i < num_rows; i++)
    at_req[w[i].order] = slot[i];
  struct ArrowArray *kids = NULL;
  if (!st && !(kids = cl_calloc(nf ? nf : 1, sizeof *kids, err)))
    st = err->code;
  for (size_t c = 0; !st && c < nf; c++) {
    if (sch->fields[c].type == CL_TYPE_DICTIONARY) { /* keys move, the dictionary stays */
      st = cl_array_dict_gather(&sch->fields[c], sorted.children[c], at_req, num_rows, &kids[c], err);
      continue;
    }
    st = cl_arr_init(&b[c], &sch->fields[c], err);
    for (size_t i = 0; !st && i < num_rows; i++)
      st = cl_arr_append_from(&b[c], sorted.children[c], (int64_t)at_req[i], 1, err);
    if (!st)
      st = cl_arr_export(&b[c], &kids[c], err);
  }
  if (!st)
    st = cl_struct_array_export((int64_t)num_rows, kids, nf, out, err);
  else
    for (size_t c = 0; kids && c < nf; c++)
      if (kids[c].release)
        kids[c].release(&kids[c]);
  if (!st && out_schema)
    st = cl_schema_to_arrow(sch, out_schema, err);
  if (st && out->release)
    out->release(out);
  for (size_t c = 0; b && c < nf; c++)
    cl_arr_free(&b[c]);
  free(b);
  free(kids);
  free(at_req);
  free(slot);
  free(phys);
  free(w);
  if (sorted.release)
    sorted.release(&sorted);
  cl_frag_reader_free(r);
  return st;
}
