/* Adding columns to one fragment: what a worker of a distributed add-columns
 * (Lance's merge_columns) does. The values become one new data file of the
 * fragment, aligned with its physical rows; deleted rows get nulls. The
 * coordinator commits the updated fragments with a Merge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/dataset.h"
#include "dataset/match.h"
#include "dataset/operation.h"
#include "io/fs.h"
#include "table/deletion.h"
#include "util/uuid.h"

/* A batch of n nulls of the schema's columns (placeholders where a column
 * is NOT NULL: deleted rows are never read). */
static clance_status null_batch(const cl_schema *s, int64_t n, struct ArrowArray *out,
                                clance_error *err) {
  struct ArrowArray *kids = cl_calloc(s->n_fields ? s->n_fields : 1, sizeof *kids, err);
  if (!kids)
    return err->code;
  clance_status st = CLANCE_OK;
  for (size_t c = 0; !st && c < s->n_fields; c++) {
    cl_arr a;
    if ((st = cl_arr_init(&a, &s->fields[c], err)))
      break;
    if (s->fields[c].nullable)
      st = cl_arr_append_nulls(&a, n, err);
    else /* an empty validity bitmap means every value is valid */
      st = cl_arr_append_placeholders(&a, n, err);
    if (!st)
      st = cl_arr_export(&a, &kids[c], err);
    cl_arr_free(&a);
  }
  if (!st)
    st = cl_struct_array_export(n, kids, s->n_fields, out, err);
  else
    for (size_t c = 0; c < s->n_fields; c++)
      if (kids[c].release)
        kids[c].release(&kids[c]);
  free(kids);
  return st;
}

/* Write `n` null rows. */
static clance_status write_nulls(cl_file_writer *w, const cl_schema *s, uint64_t n,
                                 clance_error *err) {
  while (n) {
    int64_t k = n > 65536 ? 65536 : (int64_t)n;
    struct ArrowArray b;
    CL_TRY(null_batch(s, k, &b, err));
    clance_status st = cl_file_writer_write(w, &b, 0, k, err);
    b.release(&b);
    CL_TRY(st);
    n -= (uint64_t)k;
  }
  return CLANCE_OK;
}

clance_status clance_fragment_add_columns(const clance_dataset *ds, uint64_t fragment_id,
                                          struct ArrowArrayStream *values,
                                          const clance_write_options *options,
                                          clance_fragments *updated, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!ds || !values || !values->release || !updated) {
    if (values && values->release)
      values->release(values);
    return cl_err(err, CLANCE_EINVAL, "clance_fragment_add_columns: NULL or released argument");
  }
  cl_dataset *d = (cl_dataset *)ds;
  cl_schema cols = {0};
  cl_deletions *del = NULL;
  cl_file_writer *w = NULL;
  pb_fragment *nf = NULL;
  char *path = NULL, *dir = NULL;
  char name[64];
  clance_status st = CLANCE_OK;
  size_t index;
  if (!cl_manifest_fragment_index(d, fragment_id, &index)) {
    st = cl_err(err, CLANCE_ENOTFOUND, "fragment %llu is not in version %llu of %s",
                (unsigned long long)fragment_id, (unsigned long long)d->manifest.pb->version, d->root);
    goto fail;
  }
  const pb_fragment *f = d->manifest.pb->fragments[index];
  uint64_t physical;
  CL_CHECK(st, cl_fragment_rows(d->root, f, &physical, err));
  if (f->deletion_file)
    CL_CHECK(st, cl_deletions_load(d->root, f, &del, err));
  /* The new columns, with the ids a Merge on this version gives them. */
  struct ArrowSchema as;
  memset(&as, 0, sizeof as);
  int rc = values->get_schema(values, &as);
  if (rc) {
    st = cl_stream_error(values, rc, "reading the new columns' schema", err);
    goto fail;
  }
  st = cl_schema_from_arrow(&as, &cols, err);
  as.release(&as);
  if (st)
    goto fail;
  if (!cols.n_fields) {
    st = cl_err(err, CLANCE_EINVAL, "no columns to add");
    goto fail;
  }
  for (size_t i = 0; i < cols.n_fields; i++)
    if (cl_schema_index(&d->schema, cols.fields[i].name) >= 0) {
      st = cl_err(err, CLANCE_ESCHEMA, "cannot add column \"%s\": the dataset has one",
                  cols.fields[i].name);
      goto fail;
    }
  cl_schema_assign_new_ids(&d->schema, &cols);
  CL_CHECK(st, cl_file_check_writable(&cols, d->data_version, err));
  cl_file_writer_opts fo = {.version = d->data_version};
  if (options) {
    fo.page_bytes = options->page_bytes;
    fo.max_rows_per_page = options->max_rows_per_group;
    fo.no_fsync = options->no_fsync;
  }
  if (!(dir = cl_path_join(d->root, "data", err))) {
    st = err->code;
    goto fail;
  }
  CL_CHECK(st, cl_mkdirs(dir, err));
  CL_CHECK(st, cl_data_file_name(name, err));
  if (!(path = cl_path_join(dir, name, err))) {
    st = err->code;
    goto fail;
  }
  CL_CHECK(st, cl_file_writer_open(path, &cols, &fo, &w, err));
  /* One value per live row, in scan order; deleted rows get nulls. */
  uint64_t phys = 0, given = 0;
  for (uint64_t bi = 0;; bi++) {
    struct ArrowArray b;
    memset(&b, 0, sizeof b);
    if ((rc = values->get_next(values, &b))) {
      st = cl_stream_error(values, rc, "reading the new columns", err);
      goto fail;
    }
    if (!b.release)
      break;
    st = b.n_children == (int64_t)cols.n_fields ? CLANCE_OK
         : cl_err(err, CLANCE_ESCHEMA, "batch %llu has %lld columns, expected %zu",
                  (unsigned long long)bi, (long long)b.n_children, cols.n_fields);
    for (size_t c = 0; !st && c < cols.n_fields; c++)
      st = cl_array_validate(&cols.fields[c], b.children[c], cols.fields[c].name, err);
    int64_t at = 0;
    while (!st && at < b.length) {
      if (del && cl_deletions_contains(del, phys)) {
        uint64_t end = cl_deletions_run_end(del, phys, physical);
        st = write_nulls(w, &cols, end - phys, err);
        phys = end;
        continue;
      }
      uint64_t run = del ? cl_deletions_run_end(del, phys, physical) - phys : physical - phys;
      if (run == 0) {
        st = cl_err(err, CLANCE_EINVAL, "more values than fragment %llu has live rows",
                    (unsigned long long)fragment_id);
        break;
      }
      int64_t k = (int64_t)run < b.length - at ? (int64_t)run : b.length - at;
      st = cl_file_writer_write(w, &b, at, k, err);
      at += k;
      phys += (uint64_t)k;
      given += (uint64_t)k;
    }
    b.release(&b);
    if (st)
      goto fail;
  }
  if (phys < physical) { /* trailing deleted rows */
    uint64_t end = del && cl_deletions_contains(del, phys) ? cl_deletions_run_end(del, phys, physical)
                                                             : phys;
    if (end != physical) {
      uint64_t live = physical - (del ? del->n : 0);
      st = cl_err(err, CLANCE_EINVAL, "%llu values given for fragment %llu, which has %llu live "
                  "rows", (unsigned long long)given, (unsigned long long)fragment_id,
                  (unsigned long long)live);
      goto fail;
    }
    CL_CHECK(st, write_nulls(w, &cols, physical - phys, err));
  }
  uint64_t rows, size;
  cl_file_layout layout;
  cl_file_writer *fw = w;
  w = NULL;
  CL_CHECK(st, cl_file_writer_finish(fw, &rows, &size, &layout, err));
  /* The fragment as before, plus the new file. */
  uint32_t major, minor;
  cl_file_version_manifest_pair(d->data_version, &major, &minor);
  pb_fragment *tmp = NULL;
  st = cl_fragment_new(name, layout.field_ids, layout.column_indices, layout.n, major, minor, size,
                       rows, &tmp, err);
  cl_file_layout_free(&layout);
  if (!st)
    st = cl_fragment_copy(f, &nf, err);
  if (!st) {
    pb_data_file **files = realloc(nf->files, (nf->n_files + 1) * sizeof *files);
    if (!files) {
      st = cl_err_nomem(err, "data files");
    } else {
      nf->files = files;
      nf->files[nf->n_files++] = tmp->files[0];
      tmp->n_files = 0; /* moved */
      nf->physical_rows = physical;
      nf->has_physical_rows = 1;
    }
  }
  if (tmp)
    cl_fragment_free(tmp);
  if (!st)
    st = cl_fragments_push(updated, nf, err);
  if (!st)
    nf = NULL;
  else
    remove(path);
fail:
  if (w)
    cl_file_writer_abort(w);
  if (nf)
    cl_fragment_free(nf);
  if (values->release)
    values->release(values);
  cl_deletions_free(del);
  cl_schema_free(&cols);
  free(path);
  free(dir);
  return st;
}
