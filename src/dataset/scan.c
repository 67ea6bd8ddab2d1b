/* Scans: a dataset version as an ArrowArrayStream of struct batches,
 * fragment by fragment in id order, deleted rows skipped, optionally
 * filtered.
 *
 * With a filter, the filter's columns are read first (by their own
 * fragment reader) and evaluated per batch; the other output columns are
 * then read only for the rows that matched (late materialization): a second
 * fragment reader takes exactly those rows, so pages without a match are
 * never read, sparse matches are read by row access and dense ones from
 * decoded pages. Filter columns that are not asked for are dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/dict.h"
#include "dataset/filter.h"
#include "dataset/fragreader.h"

#define NONE ((size_t)-1)

typedef struct scan_state {
  cl_dataset *ds;
  cl_frag_reader *r;       /* the output columns, or with a filter its columns */
  cl_filter *filter;
  const char **read_names; /* columns r produces */
  size_t n_read, n_out;
  /* With a filter: output column c is column out_f[c] of r, or (NONE)
   * column out_v[c] of vr, which reads only the matching rows. */
  size_t *out_f, *out_v;
  cl_frag_reader *vr;
  const char **v_names;
  size_t n_v;
  size_t vr_frag;          /* position in `order` vr has open, or NONE */
  uint64_t *phys;          /* matching rows of a batch (physical rows of the fragment) */
  cl_schema out_schema;
  cl_arr *out_bld;         /* filtered output columns */
  uint64_t batch_size;
  size_t next_frag;        /* position in `order` */
  size_t *order;            /* manifest indices of the fragments to scan */
  size_t n_order;
  int in_frag;
  uint64_t frag_rows, frag_pos;
  uint8_t *keep;
  char last_error[CLANCE_ERROR_MESSAGE_SIZE];
} scan_state;

/* The physical rows kept by the filter: batch rows are the live rows of
 * [start, end), in order. */
static void kept_rows(const cl_deletions *del, uint64_t start, uint64_t end,
                      const uint8_t *keep, uint64_t *phys) {
  size_t k = 0;
  int64_t i = 0;
  for (uint64_t r = start; r < end;) {
    uint64_t run_end = del ? cl_deletions_run_end(del, r, end) : end;
    if (!(del && cl_deletions_contains(del, r)))
      for (uint64_t p = r; p < run_end; p++, i++)
        if (keep[i])
          phys[k++] = p;
    r = run_end;
  }
}

/* Build the output batch of the kept rows: filter columns copied out of
 * `batch` in runs, the others read by vr (vbatch, moved). */
static clance_status filtered_output(scan_state *s, struct ArrowArray *batch,
                                     struct ArrowArray *vbatch, int64_t kept,
                                     struct ArrowArray *out, clance_error *err) {
  int64_t n = batch->length;
  const uint8_t *keep = s->keep;
  const cl_schema *sch = cl_frag_reader_schema(s->r);
  clance_status st = CLANCE_OK;
  for (size_t c = 0; c < s->n_out; c++) {
    size_t f = s->out_f[c];
    if (f == NONE || sch->fields[f].type == CL_TYPE_DICTIONARY)
      continue;
    for (int64_t i = 0; i < n;) {
      int64_t j = i;
      while (j < n && keep[j] == keep[i])
        j++;
      if (keep[i])
        CL_TRY(cl_arr_append_from(&s->out_bld[c], batch->children[f], i, j - i, err));
      i = j;
    }
  }
  struct ArrowArray *kids = cl_calloc(s->n_out ? s->n_out : 1, sizeof *kids, err);
  size_t *picked = NULL; /* kept rows, for dictionary columns (keys move, dictionaries stay) */
  if (!kids)
    return err->code;
  for (size_t c = 0; !st && c < s->n_out; c++) {
    size_t f = s->out_f[c];
    if (f == NONE) { /* moved out of the batch vr read */
      kids[c] = *vbatch->children[s->out_v[c]];
      vbatch->children[s->out_v[c]]->release = NULL;
      continue;
    }
    if (sch->fields[f].type != CL_TYPE_DICTIONARY) {
      st = cl_arr_export(&s->out_bld[c], &kids[c], err);
      continue;
    }
    if (!picked) {
      if (!(picked = cl_malloc((size_t)kept * sizeof *picked, err))) {
        st = err->code;
        break;
      }
      for (int64_t i = 0, k = 0; i < n; i++)
        if (keep[i])
          picked[k++] = (size_t)i;
    }
    st = cl_array_dict_gather(&sch->fields[f], batch->children[f], picked, (size_t)kept, &kids[c],
                              err);
  }
  free(picked);
  if (!st)
    st = cl_struct_array_export(kept, kids, s->n_out, out, err);
  else
    for (size_t c = 0; c < s->n_out; c++)
      if (kids[c].release)
        kids[c].release(&kids[c]);
  free(kids);
  return st;
}

/* Evaluate the filter on a batch of the live rows of [start, end) and
 * produce the kept rows (*rows of them; none: out stays released). */
static clance_status apply_filter(scan_state *s, struct ArrowArray *batch, uint64_t start,
                                  uint64_t end, struct ArrowArray *out, int64_t *rows,
                                  clance_error *err) {
  int64_t n = batch->length;
  uint8_t *keep = realloc(s->keep, (size_t)(n ? n : 1));
  if (!keep)
    return cl_err_nomem(err, "filter");
  s->keep = keep;
  CL_TRY(cl_filter_eval(s->filter, batch, s->read_names, s->n_read, keep, err));
  int64_t kept = 0;
  for (int64_t i = 0; i < n; i++)
    kept += keep[i];
  *rows = kept;
  if (kept == 0)
    return CLANCE_OK;
  if (s->n_out == 0) /* counting only: no rows to copy */
    return cl_struct_array_export(kept, NULL, 0, out, err);
  struct ArrowArray vb;
  memset(&vb, 0, sizeof vb);
  if (s->vr) {
    /* The other columns: only the kept rows, read by the second reader. */
    size_t frag = s->next_frag - 1;
    if (s->vr_frag != frag) {
      s->vr_frag = NONE;
      CL_TRY(cl_frag_reader_open(s->vr, s->order[frag], err));
      s->vr_frag = frag;
    }
    uint64_t *phys = realloc(s->phys, (size_t)kept * sizeof *phys);
    if (!phys)
      return cl_err_nomem(err, "filter");
    s->phys = phys;
    kept_rows(cl_frag_reader_deletions(s->r), start, end, keep, phys);
    CL_TRY(cl_frag_reader_take_rows(s->vr, phys, (size_t)kept, err));
    CL_TRY(cl_frag_reader_export(s->vr, kept, &vb, err));
  }
  clance_status st = filtered_output(s, batch, &vb, kept, out, err);
  if (vb.release)
    vb.release(&vb);
  return st;
}

static clance_status next_batch(scan_state *s, struct ArrowArray *out, clance_error *err) {
  for (;;) {
    if (!s->in_frag) {
      if (s->next_frag >= s->n_order)
        return CLANCE_OK; /* end: out stays released */
      CL_TRY(cl_frag_reader_open(s->r, s->order[s->next_frag++], err));
      s->in_frag = 1;
      s->frag_pos = 0;
      s->frag_rows = cl_frag_reader_rows(s->r);
    }
    if (s->frag_pos >= s->frag_rows) {
      cl_frag_reader_close(s->r);
      if (s->vr && s->vr_frag != NONE) {
        cl_frag_reader_close(s->vr);
        s->vr_frag = NONE;
      }
      s->in_frag = 0;
      continue;
    }
    uint64_t n = s->frag_rows - s->frag_pos;
    if (n > s->batch_size)
      n = s->batch_size;
    const cl_deletions *del = cl_frag_reader_deletions(s->r);
    uint64_t rows = 0, start = s->frag_pos, r = start, end = s->frag_pos + n;
    /* Runs of kept and deleted rows within [frag_pos, frag_pos + n). */
    while (r < end) {
      int deleted = del && cl_deletions_contains(del, r);
      uint64_t run_end = del ? cl_deletions_run_end(del, r, end) : end;
      if (deleted)
        CL_TRY(cl_frag_reader_skip(s->r, run_end - r, err));
      else
        CL_TRY(cl_frag_reader_take(s->r, run_end - r, err));
      if (!deleted)
        rows += run_end - r;
      r = run_end;
    }
    s->frag_pos = end;
    if (rows == 0)
      continue;
    if (!s->filter)
      return cl_frag_reader_export(s->r, (int64_t)rows, out, err);
    struct ArrowArray full;
    CL_TRY(cl_frag_reader_export(s->r, (int64_t)rows, &full, err));
    int64_t kept;
    clance_status st = apply_filter(s, &full, start, end, out, &kept, err);
    full.release(&full);
    CL_TRY(st);
    if (kept)
      return CLANCE_OK;
  }
}

static int scan_fail(scan_state *s, clance_error *err) {
  snprintf(s->last_error, sizeof s->last_error, "%s", err->message);
  return cl_status_to_errno(err->code);
}

static int scan_get_next(struct ArrowArrayStream *stream, struct ArrowArray *out) {
  scan_state *s = stream->private_data;
  clance_error err;
  cl_err_clear(&err);
  memset(out, 0, sizeof *out);
  if (next_batch(s, out, &err) != CLANCE_OK)
    return scan_fail(s, &err);
  return 0;
}

static int scan_get_schema(struct ArrowArrayStream *stream, struct ArrowSchema *out) {
  scan_state *s = stream->private_data;
  clance_error err;
  if (cl_schema_to_arrow(&s->out_schema, out, &err))
    return scan_fail(s, &err);
  return 0;
}

static const char *scan_last_error(struct ArrowArrayStream *stream) {
  scan_state *s = stream->private_data;
  return s->last_error[0] ? s->last_error : NULL;
}

static void scan_free(scan_state *s) {
  cl_frag_reader_free(s->r);
  cl_frag_reader_free(s->vr);
  free(s->v_names);
  free(s->out_f);
  free(s->out_v);
  free(s->phys);
  cl_filter_free(s->filter);
  for (size_t c = 0; s->out_bld && c < s->n_out; c++)
    cl_arr_free(&s->out_bld[c]);
  free(s->out_bld);
  free(s->read_names);
  free(s->keep);
  free(s->order);
  cl_schema_free(&s->out_schema);
  cl_dataset_unref(s->ds);
  free(s);
}

static void scan_release(struct ArrowArrayStream *stream) {
  if (!stream->release)
    return;
  scan_free(stream->private_data);
  stream->release = NULL;
}

void clance_scan_options_init(clance_scan_options *options) {
  memset(options, 0, sizeof *options);
}

/* The columns each reader produces. Without a filter: the output columns.
 * With one: the filter's columns, and the output columns that are not
 * among them for the second reader. `count_only` outputs no column. */
static clance_status plan_columns(scan_state *s, const clance_scan_options *o, int count_only,
                                  clance_error *err) {
  const cl_schema *sch = &s->ds->schema;
  int projected = o && o->columns && o->num_columns;
  s->n_out = count_only ? 0 : projected ? o->num_columns : sch->n_fields;
  size_t nf = s->filter ? cl_filter_num_columns(s->filter) : 0;
  s->read_names = cl_calloc(s->n_out + nf + 1, sizeof *s->read_names, err);
  s->v_names = cl_calloc(s->n_out + 1, sizeof *s->v_names, err);
  s->out_f = cl_calloc(s->n_out + 1, sizeof *s->out_f, err);
  s->out_v = cl_calloc(s->n_out + 1, sizeof *s->out_v, err);
  if (!s->read_names || !s->v_names || !s->out_f || !s->out_v)
    return err->code;
  for (size_t i = 0; !s->filter && i < s->n_out; i++) {
    s->read_names[s->n_read++] = projected ? o->columns[i] : sch->fields[i].name;
    s->out_f[i] = i;
  }
  for (size_t i = 0; i < nf; i++) {
    const char *name = cl_filter_column(s->filter, i);
    int have = 0;
    for (size_t k = 0; k < s->n_read; k++)
      have |= !strcmp(s->read_names[k], name);
    if (!have)
      s->read_names[s->n_read++] = name;
  }
  for (size_t i = 0; s->filter && i < s->n_out; i++) {
    const char *name = projected ? o->columns[i] : sch->fields[i].name;
    s->out_f[i] = s->out_v[i] = NONE;
    for (size_t k = 0; name && k < s->n_read; k++)
      if (!strcmp(s->read_names[k], name))
        s->out_f[i] = k;
    if (s->out_f[i] == NONE) {
      s->out_v[i] = s->n_v;
      s->v_names[s->n_v++] = name;
    }
  }
  return CLANCE_OK;
}

/* Which fragments, in which order. */
static clance_status plan_fragments(scan_state *s, const clance_scan_options *o, clance_error *err) {
  const pb_manifest *m = s->ds->manifest.pb;
  int chosen = o && o->fragment_ids && o->num_fragment_ids;
  s->n_order = chosen ? o->num_fragment_ids : m->n_fragments;
  s->order = cl_calloc(s->n_order ? s->n_order : 1, sizeof *s->order, err);
  if (!s->order)
    return err->code;
  for (size_t i = 0; i < s->n_order; i++) {
    if (!chosen) {
      s->order[i] = i;
      continue;
    }
    size_t k = 0;
    while (k < m->n_fragments && m->fragments[k]->id != o->fragment_ids[i])
      k++;
    if (k == m->n_fragments)
      return cl_err(err, CLANCE_ENOTFOUND, "fragment %llu is not in version %llu of %s",
                    (unsigned long long)o->fragment_ids[i], (unsigned long long)m->version,
                    s->ds->root);
    s->order[i] = k;
  }
  return CLANCE_OK;
}

static clance_status scan_open(const clance_dataset *cds, const clance_scan_options *options,
                               int count_only, struct ArrowArrayStream *out, clance_error *err);

clance_status clance_dataset_scan(const clance_dataset *cds, const clance_scan_options *options,
                                  struct ArrowArrayStream *out, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  return scan_open(cds, options, 0, out, err);
}

static clance_status scan_open(const clance_dataset *cds, const clance_scan_options *options,
                               int count_only, struct ArrowArrayStream *out, clance_error *err) {
  if (!cds || !out)
    return cl_err(err, CLANCE_EINVAL, "clance_dataset_scan: NULL argument");
  cl_dataset *ds = (cl_dataset *)cds;
  memset(out, 0, sizeof *out);
  scan_state *s = cl_calloc(1, sizeof *s, err);
  if (!s)
    return err->code;
  cl_dataset_ref(ds);
  s->ds = ds;
  s->batch_size = options && options->batch_size ? options->batch_size : 65536;
  clance_status st;
  if (options && options->filter)
    CL_CHECK(st, cl_filter_parse(options->filter, &ds->schema, &s->filter, err));
  CL_CHECK(st, plan_columns(s, options, count_only, err));
  CL_CHECK(st, plan_fragments(s, options, err));
  CL_CHECK(st, cl_frag_reader_new(ds, s->read_names, s->n_read, &s->r, err));
  s->vr_frag = NONE;
  if (s->n_v)
    CL_CHECK(st, cl_frag_reader_new(ds, s->v_names, s->n_v, &s->vr, err));
  const cl_schema *rs = cl_frag_reader_schema(s->r);
  const cl_schema *vs = s->vr ? cl_frag_reader_schema(s->vr) : NULL;
  s->out_schema.fields = cl_calloc(s->n_out ? s->n_out : 1, sizeof *s->out_schema.fields, err);
  s->out_bld = cl_calloc(s->n_out ? s->n_out : 1, sizeof *s->out_bld, err);
  if (!s->out_schema.fields || !s->out_bld) {
    st = err->code;
    goto fail;
  }
  for (size_t i = 0; i < s->n_out; i++) {
    const cl_field *f = s->out_f[i] != NONE ? &rs->fields[s->out_f[i]] : &vs->fields[s->out_v[i]];
    CL_CHECK(st, cl_field_copy(f, &s->out_schema.fields[i], err));
    s->out_schema.n_fields = i + 1;
  }
  for (size_t i = 0; s->filter && i < s->n_out; i++)
    CL_CHECK(st, cl_arr_init(&s->out_bld[i], &s->out_schema.fields[i], err));
  out->private_data = s;
  out->get_next = scan_get_next;
  out->get_schema = scan_get_schema;
  out->get_last_error = scan_last_error;
  out->release = scan_release;
  return CLANCE_OK;
fail:
  scan_free(s);
  return st;
}

clance_status clance_dataset_count_rows_where(const clance_dataset *ds, const char *filter,
                                              uint64_t *out, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!ds || !out)
    return cl_err(err, CLANCE_EINVAL, "clance_dataset_count_rows_where: NULL argument");
  if (!filter || !*filter) {
    *out = ds->num_rows;
    return CLANCE_OK;
  }
  /* Read only the filter's columns; output none. */
  clance_scan_options o;
  clance_scan_options_init(&o);
  o.filter = filter;
  struct ArrowArrayStream s;
  memset(&s, 0, sizeof s);
  uint64_t count = 0;
  clance_status st = scan_open(ds, &o, 1, &s, err);
  while (!st) {
    struct ArrowArray b;
    int rc = s.get_next(&s, &b);
    if (rc) {
      st = cl_stream_error(&s, rc, "counting rows", err);
      break;
    }
    if (!b.release)
      break;
    count += (uint64_t)b.length;
    b.release(&b);
  }
  if (s.release)
    s.release(&s);
  if (!st)
    *out = count;
  return st;
}
