/* Scanning a dataset version into an ArrowArrayStream: fragments in id order,
 * each column decoded page by page, deleted rows skipped, rows copied into
 * batches of the requested size. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/dataset.h"
#include "io/fs.h"
#include "table/deletion.h"

typedef struct col_cursor {
  const cl_field *field;
  cl_file_reader *file;
  size_t col;
  const cl_column_info *ci;
  size_t page;             /* next page to load */
  struct ArrowArray cur;   /* the decoded page being consumed */
  int64_t pos;
  int missing;             /* the fragment has no data for this column: nulls */
} col_cursor;

typedef struct scan_state {
  cl_dataset *ds;
  cl_schema out_schema;
  size_t n_cols;
  const cl_field **fields; /* dataset field of each output column */
  uint64_t batch_size;
  size_t next_frag;
  int in_frag;
  cl_file_reader **readers;
  size_t n_readers;
  col_cursor *cursors;
  uint64_t frag_rows, frag_pos;
  cl_deletions *deleted;
  cl_arr *builders;
  char last_error[CLANCE_ERROR_MESSAGE_SIZE];
} scan_state;

/* ---- column cursors ---- */

static void cursor_release_page(col_cursor *c) {
  if (c->cur.release)
    c->cur.release(&c->cur);
  memset(&c->cur, 0, sizeof c->cur);
  c->pos = 0;
}

static clance_status cursor_load(col_cursor *c, clance_error *err) {
  cursor_release_page(c);
  if (c->page >= c->ci->n_pages)
    return cl_err(err, CLANCE_ECORRUPT, "data file %s column %zu ends before the fragment's rows",
                  c->file->c.file.path, c->col);
  CL_TRY(cl_file_reader_decode_page(c->file, c->col, c->page, c->field, &c->cur, err));
  c->page++;
  return CLANCE_OK;
}

static clance_status cursor_take(col_cursor *c, uint64_t n, cl_arr *dst, clance_error *err) {
  if (c->missing)
    return cl_arr_append_nulls(dst, (int64_t)n, err);
  while (n > 0) {
    if (!c->cur.release || c->pos == c->cur.length)
      CL_TRY(cursor_load(c, err));
    uint64_t k = (uint64_t)(c->cur.length - c->pos);
    if (k > n)
      k = n;
    CL_TRY(cl_arr_append_from(dst, &c->cur, c->pos, (int64_t)k, err));
    c->pos += (int64_t)k;
    n -= k;
  }
  return CLANCE_OK;
}

static clance_status cursor_skip(col_cursor *c, uint64_t n, clance_error *err) {
  if (c->missing)
    return CLANCE_OK;
  while (n > 0) {
    if (c->cur.release && c->pos < c->cur.length) {
      uint64_t k = (uint64_t)(c->cur.length - c->pos);
      if (k > n)
        k = n;
      c->pos += (int64_t)k;
      n -= k;
      continue;
    }
    /* Whole pages that are skipped are never read or decoded. */
    cursor_release_page(c);
    if (c->page < c->ci->n_pages && c->ci->pages[c->page].length <= n) {
      n -= c->ci->pages[c->page].length;
      c->page++;
      continue;
    }
    CL_TRY(cursor_load(c, err));
  }
  return CLANCE_OK;
}

/* ---- fragments ---- */

static void close_fragment(scan_state *s) {
  for (size_t i = 0; s->cursors && i < s->n_cols; i++)
    cursor_release_page(&s->cursors[i]);
  for (size_t i = 0; i < s->n_readers; i++)
    cl_file_reader_close(s->readers[i]);
  free(s->readers);
  s->readers = NULL;
  s->n_readers = 0;
  cl_deletions_free(s->deleted);
  s->deleted = NULL;
  s->in_frag = 0;
}

static clance_status open_fragment(scan_state *s, const pb_fragment *f, clance_error *err) {
  const char *root = s->ds->root;
  s->readers = cl_calloc(f->n_files ? f->n_files : 1, sizeof *s->readers, err);
  if (!s->readers)
    return err->code;
  s->n_readers = f->n_files;
  s->in_frag = 1;
  s->frag_pos = 0;
  CL_TRY(cl_fragment_rows(root, f, &s->frag_rows, err));
  for (size_t c = 0; c < s->n_cols; c++) {
    col_cursor *cur = &s->cursors[c];
    memset(cur, 0, sizeof *cur);
    cur->field = s->fields[c];
    cur->missing = 1;
    for (size_t d = 0; d < f->n_files && cur->missing; d++) {
      const pb_data_file *df = f->files[d];
      for (size_t k = 0; k < df->n_fields; k++) {
        if (df->fields[k] != cur->field->id)
          continue;
        if (k >= df->n_column_indices || df->column_indices[k] < 0)
          return cl_err(err, CLANCE_ECORRUPT, "fragment %llu: data file %s has no column index for "
                        "field %d", (unsigned long long)f->id, cl_pb_str(df->path), (int)df->fields[k]);
        if (!s->readers[d]) {
          char *p = cl_dataset_data_path(root, df, err);
          if (!p)
            return err->code;
          clance_status st = cl_file_reader_open(p, df->file_size_bytes, &s->readers[d], err);
          free(p);
          CL_TRY(st);
          if (s->frag_rows && s->readers[d]->num_rows != s->frag_rows)
            return cl_err(err, CLANCE_ECORRUPT, "data file %s holds %llu rows but fragment %llu "
                          "records %llu", s->readers[d]->c.file.path,
                          (unsigned long long)s->readers[d]->num_rows, (unsigned long long)f->id,
                          (unsigned long long)s->frag_rows);
        }
        cur->file = s->readers[d];
        cur->col = (size_t)df->column_indices[k];
        cur->missing = 0;
        /* The file's own schema must agree with the dataset on this field. */
        const cl_field *ff = cl_schema_find_id(&cur->file->schema, cur->field->id);
        char why[256];
        if (!ff || !cl_field_same_type(ff, cur->field, why, sizeof why))
          return cl_err(err, CLANCE_ECORRUPT, "data file %s: column \"%s\" (field %d) does not "
                        "match the dataset schema (%s)", cur->file->c.file.path, cur->field->name,
                        (int)cur->field->id, ff ? why : "missing from the file");
        CL_TRY(cl_file_reader_column(cur->file, cur->col, &cur->ci, err));
        break;
      }
    }
  }
  if (f->deletion_file)
    CL_TRY(cl_deletions_load(root, f, &s->deleted, err));
  return CLANCE_OK;
}

/* ---- stream callbacks ---- */

static int scan_fail(scan_state *s, clance_error *err) {
  snprintf(s->last_error, sizeof s->last_error, "%s", err->message);
  return cl_status_to_errno(err->code);
}

static clance_status next_batch(scan_state *s, struct ArrowArray *out, int *done, clance_error *err) {
  const pb_manifest *m = s->ds->manifest.pb;
  for (;;) {
    if (!s->in_frag) {
      if (s->next_frag >= m->n_fragments) {
        *done = 1;
        return CLANCE_OK;
      }
      clance_status st = open_fragment(s, m->fragments[s->next_frag++], err);
      if (st) {
        close_fragment(s);
        return st;
      }
    }
    if (s->frag_pos >= s->frag_rows) {
      close_fragment(s);
      continue;
    }
    uint64_t n = s->frag_rows - s->frag_pos;
    if (n > s->batch_size)
      n = s->batch_size;
    uint64_t out_rows = 0;
    /* Runs of kept and deleted rows within [frag_pos, frag_pos + n). */
    uint64_t r = s->frag_pos, end = s->frag_pos + n;
    while (r < end) {
      int del = s->deleted && cl_deletions_contains(s->deleted, r);
      uint64_t run_end = s->deleted ? cl_deletions_run_end(s->deleted, r, end) : end;
      for (size_t c = 0; c < s->n_cols; c++) {
        if (del)
          CL_TRY(cursor_skip(&s->cursors[c], run_end - r, err));
        else
          CL_TRY(cursor_take(&s->cursors[c], run_end - r, &s->builders[c], err));
      }
      if (!del)
        out_rows += run_end - r;
      r = run_end;
    }
    s->frag_pos = end;
    if (out_rows == 0)
      continue;
    struct ArrowArray *kids = cl_calloc(s->n_cols ? s->n_cols : 1, sizeof *kids, err);
    if (!kids)
      return err->code;
    clance_status st = CLANCE_OK;
    for (size_t c = 0; !st && c < s->n_cols; c++)
      st = cl_arr_export(&s->builders[c], &kids[c], err);
    if (!st)
      st = cl_struct_array_export((int64_t)out_rows, kids, s->n_cols, out, err);
    else
      for (size_t c = 0; c < s->n_cols; c++)
        if (kids[c].release)
          kids[c].release(&kids[c]);
    free(kids);
    return st;
  }
}

static int scan_get_next(struct ArrowArrayStream *stream, struct ArrowArray *out) {
  scan_state *s = stream->private_data;
  clance_error err;
  cl_err_clear(&err);
  int done = 0;
  memset(out, 0, sizeof *out);
  if (next_batch(s, out, &done, &err) != CLANCE_OK)
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
  close_fragment(s);
  for (size_t i = 0; s->builders && i < s->n_cols; i++)
    cl_arr_free(&s->builders[i]);
  free(s->builders);
  free(s->cursors);
  free(s->fields);
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

clance_status clance_dataset_scan(const clance_dataset *cds, const clance_scan_options *options,
                                  struct ArrowArrayStream *out, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
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
  clance_status st = CLANCE_OK;
  size_t n = options && options->columns && options->num_columns ? options->num_columns
                                                                 : ds->schema.n_fields;
  s->fields = cl_calloc(n ? n : 1, sizeof *s->fields, err);
  s->out_schema.fields = cl_calloc(n ? n : 1, sizeof *s->out_schema.fields, err);
  s->cursors = cl_calloc(n ? n : 1, sizeof *s->cursors, err);
  s->builders = cl_calloc(n ? n : 1, sizeof *s->builders, err);
  if (!s->fields || !s->out_schema.fields || !s->cursors || !s->builders) {
    st = err->code;
    goto fail;
  }
  for (size_t i = 0; i < n; i++) {
    const cl_field *f;
    if (options && options->columns && options->num_columns) {
      const char *name = options->columns[i];
      int idx = name ? cl_schema_index(&ds->schema, name) : -1;
      if (idx < 0) {
        st = cl_err(err, CLANCE_ENOTFOUND, "column \"%s\" is not in the dataset schema",
                    name ? name : "(null)");
        goto fail;
      }
      f = &ds->schema.fields[idx];
    } else {
      f = &ds->schema.fields[i];
    }
    if (f->type == CL_TYPE_STRUCT || f->type == CL_TYPE_LIST || f->type == CL_TYPE_LARGE_LIST ||
        f->type == CL_TYPE_DICTIONARY) {
      st = cl_err(err, CLANCE_EUNSUPPORTED, "column \"%s\": reading %s columns is not supported yet",
                  f->name, cl_type_name(f->type));
      goto fail;
    }
    s->fields[i] = f;
    s->n_cols = i + 1;
    s->out_schema.n_fields = i + 1;
    CL_CHECK(st, cl_field_copy(f, &s->out_schema.fields[i], err));
    CL_CHECK(st, cl_arr_init(&s->builders[i], s->fields[i], err));
  }
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
