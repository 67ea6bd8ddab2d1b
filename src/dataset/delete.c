/* Deleting rows: per fragment (what a worker of a distributed Delete does),
 * and the whole Delete in one process. */
#include <stdlib.h>
#include <string.h>

#include "dataset/dataset.h"
#include "dataset/match.h"
#include "table/deletion.h"

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* The given physical offsets, checked, sorted, without repeats or rows that
 * are deleted already. */
static clance_status offsets_to_rows(const uint64_t *in, size_t n, uint64_t physical,
                                     const cl_deletions *old, uint64_t frag_id, uint32_t **out,
                                     size_t *n_out, clance_error *err) {
  *out = cl_malloc((n ? n : 1) * sizeof **out, err);
  *n_out = 0;
  if (!*out)
    return err->code;
  for (size_t i = 0; i < n; i++) {
    if (in[i] >= physical) {
      free(*out);
      *out = NULL;
      return cl_err(err, CLANCE_EINVAL, "row offset %llu is beyond fragment %llu's %llu rows",
                    (unsigned long long)in[i], (unsigned long long)frag_id,
                    (unsigned long long)physical);
    }
    if (!old || !cl_deletions_contains(old, in[i]))
      (*out)[(*n_out)++] = (uint32_t)in[i];
  }
  qsort(*out, *n_out, sizeof **out, cmp_u32);
  size_t w = 0;
  for (size_t i = 0; i < *n_out; i++)
    if (!w || (*out)[w - 1] != (*out)[i])
      (*out)[w++] = (*out)[i];
  *n_out = w;
  return CLANCE_OK;
}

clance_status clance_fragment_delete_rows(const clance_dataset *ds, uint64_t fragment_id,
                                          const char *filter, const uint64_t *rows,
                                          size_t num_rows, clance_fragments *updated,
                                          uint64_t *num_deleted, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (num_deleted)
    *num_deleted = 0;
  if (!ds || !updated || (!filter && num_rows && !rows))
    return cl_err(err, CLANCE_EINVAL, "clance_fragment_delete_rows: NULL argument");
  cl_dataset *d = (cl_dataset *)ds;
  size_t index;
  if (!cl_manifest_fragment_index(d, fragment_id, &index))
    return cl_err(err, CLANCE_ENOTFOUND, "fragment %llu is not in version %llu of %s",
                  (unsigned long long)fragment_id, (unsigned long long)d->manifest.pb->version,
                  d->root);
  const pb_fragment *f = d->manifest.pb->fragments[index];
  cl_filter *flt = NULL;
  cl_deletions *old = NULL;
  uint32_t *hit = NULL, *all = NULL;
  size_t n_hit = 0, n_all = 0;
  pb_fragment *nf = NULL;
  uint64_t physical;
  clance_status st;
  CL_CHECK(st, cl_fragment_rows(d->root, f, &physical, err));
  if (f->deletion_file)
    CL_CHECK(st, cl_deletions_load(d->root, f, &old, err));
  if (filter) {
    CL_CHECK(st, cl_filter_parse(filter, &d->schema, &flt, err));
    CL_CHECK(st, cl_fragment_match(d, index, flt, &hit, &n_hit, err));
  } else {
    CL_CHECK(st, offsets_to_rows(rows, num_rows, physical, old, fragment_id, &hit, &n_hit, err));
  }
  if (n_hit == 0)
    goto fail; /* nothing to delete: st is OK */
  CL_CHECK(st, cl_rows_union(old ? old->rows : NULL, old ? old->n : 0, hit, n_hit, &all, &n_all, err));
  CL_CHECK(st, cl_fragment_copy(f, &nf, err));
  nf->physical_rows = physical;
  nf->has_physical_rows = 1;
  if (nf->deletion_file)
    protobuf_c_message_free_unpacked(&nf->deletion_file->base, NULL);
  nf->deletion_file = NULL;
  if (n_all >= physical) {
    /* Every row goes: the fragment is removed at commit; no file needed. */
    if (!(nf->deletion_file = cl_calloc(1, sizeof *nf->deletion_file, err))) {
      st = err->code;
      goto fail;
    }
    lance__table__deletion_file__init(nf->deletion_file);
    nf->deletion_file->has_num_deleted_rows = 1;
    nf->deletion_file->num_deleted_rows = physical;
  } else {
    CL_CHECK(st, cl_deletions_write(d->root, fragment_id, d->manifest.pb->version, all, n_all,
                                    &nf->deletion_file, err));
  }
  CL_CHECK(st, cl_fragments_push(updated, nf, err));
  nf = NULL;
  if (num_deleted)
    *num_deleted = n_hit;
fail:
  if (nf)
    cl_fragment_free(nf);
  free(hit);
  free(all);
  cl_deletions_free(old);
  cl_filter_free(flt);
  return st;
}

clance_status clance_dataset_delete(const char *uri, const char *filter,
                                    const clance_commit_options *options, uint64_t *out_version,
                                    uint64_t *num_deleted, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!uri || !out_version)
    return cl_err(err, CLANCE_EINVAL, "clance_dataset_delete: NULL argument");
  if (num_deleted)
    *num_deleted = 0;
  uint32_t tries = options && options->max_retries ? options->max_retries : 20;
  clance_status st = CLANCE_OK;
  for (uint32_t attempt = 0; attempt < tries; attempt++) {
    clance_dataset *ds = NULL;
    clance_fragments *upd = NULL;
    clance_operation *op = NULL;
    uint64_t total = 0;
    CL_CHECK(st, clance_dataset_open(uri, 0, &ds, err));
    CL_CHECK(st, clance_fragments_new(&upd, err));
    const pb_manifest *m = ds->manifest.pb;
    for (size_t i = 0; i < m->n_fragments; i++) {
      uint64_t n;
      CL_CHECK(st, clance_fragment_delete_rows(ds, m->fragments[i]->id, filter ? filter : "true",
                                               NULL, 0, upd, &n, err));
      total += n;
    }
    *out_version = m->version;
    if (total) {
      CL_CHECK(st, clance_operation_delete(upd, NULL, 0, filter, &op, err));
      st = clance_commit(uri, op, m->version, options, out_version, err);
    }
    if (num_deleted)
      *num_deleted = st ? 0 : total;
  fail:
    clance_operation_free(op);
    clance_fragments_free(upd);
    clance_dataset_close(ds);
    /* A concurrent Delete or Update of the same fragments: redo on the new version. */
    if (st != CLANCE_ECONFLICT_RETRYABLE)
      break;
  }
  return st;
}
