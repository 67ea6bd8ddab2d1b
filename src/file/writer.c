#include <stdlib.h>
#include <string.h>

#include "encoding/encode.h"
#include "file/file.h"
#include "proto/fields.h"

struct cl_file_writer {
  cl_container_writer c;
  cl_file_writer_opts opts;
  cl_schema schema;
  cl_arr *acc;          /* one page accumulator per column */
  uint64_t *page_start; /* first row of the page being accumulated */
  uint64_t rows;
  cl_page_enc page;
  char *path;
};

void cl_file_layout_free(cl_file_layout *l) {
  free(l->field_ids);
  free(l->column_indices);
  l->field_ids = l->column_indices = NULL;
  l->n = 0;
}

clance_status cl_file_check_writable(const cl_schema *schema, clance_error *err) {
  for (size_t i = 0; i < schema->n_fields; i++) {
    const cl_field *f = &schema->fields[i];
    if (!cl_encode_supported_leaf(f)) {
      cl_buf t = CL_BUF_INIT;
      const char *ts = "?";
      if (!cl_field_type_spec(f, &t, err) && !cl_buf_cstr(&t, err))
        ts = (const char *)t.data;
      clance_status st = cl_err(err, CLANCE_EUNSUPPORTED,
                                "column \"%s\": writing type %s is not supported yet", f->name, ts);
      cl_buf_free(&t);
      return st;
    }
  }
  return CLANCE_OK;
}

static void writer_free(cl_file_writer *w) {
  for (size_t i = 0; w->acc && i < w->schema.n_fields; i++)
    cl_arr_free(&w->acc[i]);
  free(w->acc);
  free(w->page_start);
  cl_schema_free(&w->schema);
  cl_page_enc_free(&w->page);
  free(w->path);
  free(w);
}

clance_status cl_file_writer_open(const char *path, const cl_schema *schema,
                                  const cl_file_writer_opts *opts, cl_file_writer **out,
                                  clance_error *err) {
  *out = NULL;
  CL_TRY(cl_file_check_writable(schema, err));
  cl_file_writer *w = cl_calloc(1, sizeof *w, err);
  if (!w)
    return err->code;
  w->opts = *opts;
  if (!w->opts.page_bytes)
    w->opts.page_bytes = 8u << 20;
  w->c.file.fd = -1;
  clance_status st;
  CL_CHECK(st, cl_schema_copy(schema, &w->schema, err));
  size_t n = w->schema.n_fields;
  w->acc = cl_calloc(n ? n : 1, sizeof *w->acc, err);
  w->page_start = cl_calloc(n ? n : 1, sizeof *w->page_start, err);
  if (!w->acc || !w->page_start || !(w->path = cl_strdup(path, err))) {
    st = err->code;
    goto fail;
  }
  for (size_t i = 0; i < n; i++)
    CL_CHECK(st, cl_arr_init(&w->acc[i], &w->schema.fields[i], err));
  CL_CHECK(st, cl_container_create(&w->c, path, opts->version, n, err));
  *out = w;
  return CLANCE_OK;
fail:
  writer_free(w);
  return st;
}

static clance_status flush_column(cl_file_writer *w, size_t i, clance_error *err) {
  cl_arr *a = &w->acc[i];
  if (a->length == 0)
    return CLANCE_OK;
  const cl_field *f = &w->schema.fields[i];
  if (w->opts.version == CL_FILE_V2_0)
    CL_TRY(cl_encode20_page(f, a, &w->page, err));
  else
    CL_TRY(cl_encode21_page(f, a, w->page_start[i], w->opts.version, &w->page, err));
  CL_TRY(cl_container_add_page(&w->c, i, &w->page, err));
  w->page_start[i] += (uint64_t)a->length;
  cl_arr_reset(a);
  return CLANCE_OK;
}

clance_status cl_file_writer_write(cl_file_writer *w, const struct ArrowArray *batch, int64_t start,
                                   int64_t n, clance_error *err) {
  uint64_t cap = w->opts.max_rows_per_page;
  for (size_t i = 0; i < w->schema.n_fields; i++) {
    const struct ArrowArray *col = batch->children[i];
    /* A struct batch's offset applies to its children too. */
    int64_t s = start + batch->offset, left = n;
    while (left > 0) {
      int64_t take = left;
      if (cap && (uint64_t)w->acc[i].length + (uint64_t)take > cap)
        take = (int64_t)(cap - (uint64_t)w->acc[i].length);
      CL_TRY(cl_arr_append_from(&w->acc[i], col, s, take, err));
      s += take;
      left -= take;
      if ((cap && (uint64_t)w->acc[i].length >= cap) || cl_arr_nbytes(&w->acc[i]) >= w->opts.page_bytes)
        CL_TRY(flush_column(w, i, err));
    }
  }
  w->rows += (uint64_t)n;
  return CLANCE_OK;
}

uint64_t cl_file_writer_rows(const cl_file_writer *w) { return w->rows; }

uint64_t cl_file_writer_bytes(const cl_file_writer *w) {
  uint64_t b = cl_container_pos(&w->c);
  for (size_t i = 0; i < w->schema.n_fields; i++)
    b += cl_arr_nbytes(&w->acc[i]);
  return b;
}

static clance_status descriptor(const cl_file_writer *w, cl_buf *out, clance_error *err) {
  pb_field **fields;
  size_t nf;
  CL_TRY(cl_fields_to_pb(&w->schema, &fields, &nf, err));
  Lance__File__Schema sch = LANCE__FILE__SCHEMA__INIT;
  sch.n_fields = nf;
  sch.fields = fields;
  clance_status st = cl_meta_to_pb(&w->schema.metadata, &sch.metadata, &sch.n_metadata, err);
  if (!st) {
    Lance__File__FileDescriptor fd = LANCE__FILE__FILE_DESCRIPTOR__INIT;
    fd.schema = &sch;
    fd.has_length = w->rows != 0;
    fd.length = w->rows;
    st = cl_pb_pack(&fd.base, out, err);
  }
  cl_meta_pb_free(sch.metadata, sch.n_metadata);
  cl_fields_pb_free(fields, nf);
  return st;
}

clance_status cl_file_writer_finish(cl_file_writer *w, uint64_t *out_rows, uint64_t *out_size,
                                    cl_file_layout *out_layout, clance_error *err) {
  clance_status st = CLANCE_OK;
  cl_buf fd = CL_BUF_INIT;
  size_t n = w->schema.n_fields;
  memset(out_layout, 0, sizeof *out_layout);
  for (size_t i = 0; i < n; i++)
    CL_CHECK(st, flush_column(w, i, err));
  CL_CHECK(st, descriptor(w, &fd, err));
  uint64_t size;
  st = cl_container_finish(&w->c, &fd, &size, err);
  cl_buf_free(&fd);
  if (st)
    goto done;
  out_layout->field_ids = cl_calloc(n ? n : 1, sizeof(int32_t), err);
  out_layout->column_indices = cl_calloc(n ? n : 1, sizeof(int32_t), err);
  if (!out_layout->field_ids || !out_layout->column_indices) {
    st = err->code;
    cl_file_layout_free(out_layout);
    goto done;
  }
  /* Every written field is a single leaf column, so 2.0 (all nodes) and
   * 2.1 (leaves only) list the same ids. */
  for (size_t i = 0; i < n; i++) {
    out_layout->field_ids[i] = w->schema.fields[i].id;
    out_layout->column_indices[i] = (int32_t)i;
  }
  out_layout->n = n;
  *out_rows = w->rows;
  *out_size = size;
done:
  writer_free(w);
  return st;
fail:
  cl_buf_free(&fd);
  cl_container_abort(&w->c);
  writer_free(w);
  return st;
}

void cl_file_writer_abort(cl_file_writer *w) {
  if (!w)
    return;
  cl_container_abort(&w->c);
  writer_free(w);
}
