#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding/decode.h"
#include "file/file.h"
#include "proto/fields.h"

clance_status cl_file_reader_open(const char *path, uint64_t expected_size, cl_file_reader **out,
                                  clance_error *err) {
  *out = NULL;
  cl_file_reader *r = cl_calloc(1, sizeof *r, err);
  if (!r)
    return err->code;
  clance_status st = cl_container_open(&r->c, path, expected_size, err);
  if (st) {
    free(r);
    return st;
  }
  size_t len;
  const uint8_t *fdb = cl_container_descriptor(&r->c, &len);
  Lance__File__FileDescriptor *fd;
  char what[512];
  snprintf(what, sizeof what, "data file %s: file descriptor", path);
  CL_CHECK(st, cl_pb_unpack(&lance__file__file_descriptor__descriptor, fdb, len, what,
                            (ProtobufCMessage **)&fd, err));
  r->num_rows = fd->length;
  if (fd->schema)
    st = cl_fields_from_pb(fd->schema->fields, fd->schema->n_fields, what, &r->schema, err);
  if (!st && fd->schema)
    st = cl_meta_from_pb(fd->schema->metadata, fd->schema->n_metadata, &r->schema.metadata, err);
  protobuf_c_message_free_unpacked(&fd->base, NULL);
  if (st)
    goto fail;
  r->n_cols = (size_t)r->c.num_columns;
  r->cols = cl_calloc(r->n_cols ? r->n_cols : 1, sizeof *r->cols, err);
  r->loaded = cl_calloc(r->n_cols ? r->n_cols : 1, 1, err);
  if (!r->cols || !r->loaded) {
    st = err->code;
    goto fail;
  }
  *out = r;
  return CLANCE_OK;
fail:
  cl_file_reader_close(r);
  return st;
}

void cl_file_reader_close(cl_file_reader *r) {
  if (!r)
    return;
  for (size_t i = 0; r->cols && i < r->n_cols; i++)
    if (r->loaded[i])
      cl_column_info_free(&r->cols[i]);
  free(r->cols);
  free(r->loaded);
  cl_schema_free(&r->schema);
  cl_container_close(&r->c);
  free(r);
}

clance_status cl_file_reader_column(cl_file_reader *r, size_t col, const cl_column_info **out,
                                    clance_error *err) {
  if (col >= r->n_cols)
    return cl_err(err, CLANCE_ECORRUPT, "data file %s: column %zu does not exist (%zu columns)",
                  r->c.file.path, col, r->n_cols);
  if (!r->loaded[col]) {
    CL_TRY(cl_container_column(&r->c, col, &r->cols[col], err));
    uint64_t rows = 0;
    for (size_t p = 0; p < r->cols[col].n_pages; p++)
      rows += r->cols[col].pages[p].length;
    if (rows != r->num_rows && r->c.version != CL_FILE_V2_0) {
      clance_status st = cl_err(err, CLANCE_ECORRUPT,
                                "data file %s: column %zu has %llu rows, the file %llu",
                                r->c.file.path, col, (unsigned long long)rows,
                                (unsigned long long)r->num_rows);
      cl_column_info_free(&r->cols[col]);
      return st;
    }
    r->loaded[col] = 1;
  }
  *out = &r->cols[col];
  return CLANCE_OK;
}

static clance_status page_ctx(cl_file_reader *r, size_t col, size_t page, const char *name,
                              char *what, size_t what_size, cl_page_ctx *ctx, clance_error *err) {
  const cl_column_info *ci;
  CL_TRY(cl_file_reader_column(r, col, &ci, err));
  if (page >= ci->n_pages)
    return cl_err(err, CLANCE_EINTERNAL, "page %zu of column %zu does not exist", page, col);
  snprintf(what, what_size, "data file %s, column %zu (\"%s\"), page %zu", r->c.file.path, col, name,
           page);
  *ctx = (cl_page_ctx){.file = &r->c, .page = &ci->pages[page], .what = what};
  return CLANCE_OK;
}

clance_status cl_file_reader_decode_list_lengths(cl_file_reader *r, size_t col, size_t page,
                                                 struct ArrowArray *out, clance_error *err) {
  char what[1024];
  cl_page_ctx ctx;
  CL_TRY(page_ctx(r, col, page, "list offsets", what, sizeof what, &ctx, err));
  if (r->c.version != CL_FILE_V2_0)
    return cl_err(err, CLANCE_EINTERNAL, "%s: list offsets columns exist only in 2.0 files", what);
  return cl_decode20_list_lengths(&ctx, out, err);
}

clance_status cl_file_reader_decode_page(cl_file_reader *r, size_t col, size_t page,
                                         const cl_field *f, struct ArrowArray *out,
                                         clance_error *err) {
  char what[1024];
  cl_page_ctx ctx;
  CL_TRY(page_ctx(r, col, page, f->name, what, sizeof what, &ctx, err));
  if (r->c.version == CL_FILE_V2_0) {
    const cl_field *ff = cl_schema_find_id(&r->schema, f->id);
    ctx.dict_keys = ff && ff->type == CL_TYPE_DICTIONARY;
    return cl_decode20_page(&ctx, f, out, err);
  }
  return cl_decode21_page(&ctx, r->c.version, f, out, err);
}

clance_status cl_file_reader_page_rows(cl_file_reader *r, size_t col, size_t page, const cl_field *f,
                                       struct cl_page_rows **out, int *supported, clance_error *err) {
  char what[1024];
  cl_page_ctx ctx;
  *out = NULL;
  *supported = 0;
  CL_TRY(page_ctx(r, col, page, f->name, what, sizeof what, &ctx, err));
  if (r->c.version == CL_FILE_V2_0) {
    const cl_field *ff = cl_schema_find_id(&r->schema, f->id);
    ctx.dict_keys = ff && ff->type == CL_TYPE_DICTIONARY;
    return cl_page_rows_open20(&ctx, f, out, supported, err);
  }
  return cl_page_rows_open(&ctx, r->c.version, f, out, supported, err);
}
