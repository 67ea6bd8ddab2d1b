/* Which physical rows of a fragment satisfy a filter: the first step of a
 * Delete or an Update. Only the filter's columns are read. */
#include "dataset/match.h"

#include <stdlib.h>
#include <string.h>

#include "dataset/fragreader.h"

#define CHUNK_ROWS 65536

clance_status cl_fragment_match(cl_dataset *ds, size_t index, const cl_filter *filter,
                                uint32_t **rows, size_t *n, clance_error *err) {
  *rows = NULL;
  *n = 0;
  /* The columns to read: the filter's, or (no filter or a constant one) the
   * first column, which tells the reader how many rows there are. */
  size_t nc = filter ? cl_filter_num_columns(filter) : 0;
  const char **names = cl_calloc(nc ? nc : 1, sizeof *names, err);
  if (!names)
    return err->code;
  for (size_t i = 0; i < nc; i++)
    names[i] = cl_filter_column(filter, i);
  if (!nc)
    names[0] = ds->schema.fields[0].name;
  cl_frag_reader *r = NULL;
  uint32_t *phys = NULL, *out = NULL;
  uint8_t *keep = NULL;
  size_t cap = 0;
  clance_status st;
  CL_CHECK(st, cl_frag_reader_new(ds, names, nc ? nc : 1, &r, err));
  CL_CHECK(st, cl_frag_reader_open(r, index, err));
  uint64_t total = cl_frag_reader_rows(r);
  if (total > UINT32_MAX) {
    st = cl_err(err, CLANCE_EUNSUPPORTED, "fragment of %llu rows: row offsets exceed 32 bits",
                (unsigned long long)total);
    goto fail;
  }
  const cl_deletions *del = cl_frag_reader_deletions(r);
  phys = cl_malloc(CHUNK_ROWS * sizeof *phys, err);
  keep = cl_malloc(CHUNK_ROWS, err);
  if (!phys || !keep) {
    st = err->code;
    goto fail;
  }
  for (uint64_t pos = 0; pos < total;) {
    uint64_t end = total - pos > CHUNK_ROWS ? pos + CHUNK_ROWS : total;
    size_t live = 0;
    for (uint64_t at = pos; at < end;) {
      int deleted = del && cl_deletions_contains(del, at);
      uint64_t run_end = del ? cl_deletions_run_end(del, at, end) : end;
      if (deleted) {
        CL_CHECK(st, cl_frag_reader_skip(r, run_end - at, err));
      } else {
        CL_CHECK(st, cl_frag_reader_take(r, run_end - at, err));
        for (uint64_t k = at; k < run_end; k++)
          phys[live++] = (uint32_t)k;
      }
      at = run_end;
    }
    pos = end;
    if (!live)
      continue;
    struct ArrowArray batch;
    CL_CHECK(st, cl_frag_reader_export(r, (int64_t)live, &batch, err));
    if (filter && nc)
      st = cl_filter_eval(filter, &batch, names, nc, keep, err);
    else if (filter) /* a constant predicate: evaluate it on the empty column list */
      st = cl_filter_eval(filter, &batch, names, 0, keep, err);
    else
      memset(keep, 1, live);
    batch.release(&batch);
    if (st)
      goto fail;
    for (size_t i = 0; i < live; i++) {
      if (!keep[i])
        continue;
      if (*n == cap) {
        cap = cap ? 2 * cap : 1024;
        uint32_t *p = realloc(out, cap * sizeof *p);
        if (!p) {
          st = cl_err_nomem(err, "matching rows");
          goto fail;
        }
        out = p;
      }
      out[(*n)++] = phys[i];
    }
  }
  *rows = out;
  out = NULL;
fail:
  if (st)
    *n = 0;
  free(out);
  free(phys);
  free(keep);
  free(names);
  cl_frag_reader_free(r);
  return st;
}

int cl_manifest_fragment_index(const cl_dataset *ds, uint64_t id, size_t *index) {
  const pb_manifest *m = ds->manifest.pb;
  for (size_t i = 0; i < m->n_fragments; i++)
    if (m->fragments[i]->id == id) {
      *index = i;
      return 1;
    }
  return 0;
}
