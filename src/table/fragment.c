#include "table/fragment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

clance_status cl_fragments_push(clance_fragments *l, pb_fragment *f, clance_error *err) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    pb_fragment **v = realloc(l->v, cap * sizeof *v);
    if (!v) {
      cl_fragment_free(f);
      return cl_err_nomem(err, "fragment list");
    }
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = f;
  return CLANCE_OK;
}

void cl_fragments_clear(clance_fragments *l) {
  for (size_t i = 0; i < l->n; i++)
    cl_fragment_free(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
  free(l->task_id);
  l->task_id = NULL;
  l->task_attempt = 0;
  l->task_uuid[0] = '\0';
}

clance_status cl_fragments_set_task(clance_fragments *l, const char *id, uint64_t attempt,
                                    const char *uuid, clance_error *err) {
  char *copy = NULL;
  if (id && !(copy = cl_strndup(id, strlen(id), err)))
    return err->code;
  free(l->task_id);
  l->task_id = copy;
  l->task_attempt = id ? attempt : 0;
  snprintf(l->task_uuid, sizeof l->task_uuid, "%s", id && uuid ? uuid : "");
  return CLANCE_OK;
}

/* The "clance_task" key of a FragmentMetadata object (see fragment.h). */
static clance_status task_from_json(const cl_json *j, const char *what, const char **id,
                                    uint64_t *attempt, const char **uuid, clance_error *err) {
  const cl_json *t = cl_json_get(j, "clance_task");
  *id = *uuid = NULL;
  *attempt = 0;
  if (!t || cl_json_typeof(t) == CL_JSON_NULL)
    return CLANCE_OK;
  if (cl_json_typeof(t) != CL_JSON_OBJECT || !(*id = cl_json_string(cl_json_get(t, "id"), NULL)) ||
      !cl_json_u64(cl_json_get(t, "attempt"), attempt) ||
      !(*uuid = cl_json_string(cl_json_get(t, "uuid"), NULL)) || strlen(*uuid) > 36)
    return cl_err(err, CLANCE_ECORRUPT, "%s: \"clance_task\" must be an object with a string "
                  "\"id\", an integer \"attempt\" and a string \"uuid\"", what);
  return CLANCE_OK;
}

void cl_fragment_free(pb_fragment *f) {
  if (f)
    protobuf_c_message_free_unpacked(&f->base, NULL);
}

static void *dup_mem(const void *src, size_t n, int *ok) {
  if (!n)
    return NULL;
  void *p = malloc(n);
  if (!p)
    *ok = 0;
  else
    memcpy(p, src, n);
  return p;
}

/* Member-wise copy of the common fragment (no unknown fields, no row id or
 * version sequences): every member malloc'ed, as protobuf-c frees them.
 * NULL when the fragment is not of that kind or memory ran out. */
static pb_fragment *fast_copy(const pb_fragment *f) {
  if (f->base.n_unknown_fields ||
      f->row_id_sequence_case != LANCE__TABLE__DATA_FRAGMENT__ROW_ID_SEQUENCE__NOT_SET ||
      f->last_updated_at_version_sequence_case !=
          LANCE__TABLE__DATA_FRAGMENT__LAST_UPDATED_AT_VERSION_SEQUENCE__NOT_SET ||
      f->created_at_version_sequence_case !=
          LANCE__TABLE__DATA_FRAGMENT__CREATED_AT_VERSION_SEQUENCE__NOT_SET ||
      (f->deletion_file && f->deletion_file->base.n_unknown_fields))
    return NULL;
  for (size_t i = 0; i < f->n_files; i++)
    if (!f->files[i] || f->files[i]->base.n_unknown_fields)
      return NULL;
  pb_fragment *c = malloc(sizeof *c);
  if (!c)
    return NULL;
  *c = *f;
  c->files = NULL;
  c->n_files = 0;
  c->deletion_file = NULL;
  int ok = 1;
  if (f->deletion_file)
    c->deletion_file = dup_mem(f->deletion_file, sizeof *f->deletion_file, &ok);
  if (ok && f->n_files && (c->files = calloc(f->n_files, sizeof *c->files)) == NULL)
    ok = 0;
  for (size_t i = 0; ok && i < f->n_files; i++) {
    const pb_data_file *s = f->files[i];
    pb_data_file *d = malloc(sizeof *d);
    if (!d) {
      ok = 0;
      break;
    }
    *d = *s;
    d->path = NULL;
    d->fields = NULL;
    d->column_indices = NULL;
    d->n_fields = d->n_column_indices = 0;
    c->files[i] = d;
    c->n_files = i + 1;
    if (s->path == protobuf_c_empty_string)
      d->path = (char *)protobuf_c_empty_string;
    else if (s->path && !(d->path = dup_mem(s->path, strlen(s->path) + 1, &ok)))
      break;
    d->fields = dup_mem(s->fields, s->n_fields * sizeof *s->fields, &ok);
    d->n_fields = ok ? s->n_fields : 0;
    d->column_indices = dup_mem(s->column_indices, s->n_column_indices * sizeof *s->column_indices, &ok);
    d->n_column_indices = ok ? s->n_column_indices : 0;
  }
  if (!ok) {
    protobuf_c_message_free_unpacked(&c->base, NULL);
    return NULL;
  }
  return c;
}

clance_status cl_fragment_copy(const pb_fragment *f, pb_fragment **out, clance_error *err) {
  if ((*out = fast_copy(f)) != NULL)
    return CLANCE_OK;
  cl_buf b = CL_BUF_INIT;
  CL_TRY(cl_pb_pack(&f->base, &b, err));
  *out = lance__table__data_fragment__unpack(NULL, b.len, b.data);
  cl_buf_free(&b);
  if (!*out)
    return cl_err_nomem(err, "fragment copy");
  return CLANCE_OK;
}

uint64_t cl_fragment_live_rows(const pb_fragment *f) {
  uint64_t del = f->deletion_file ? f->deletion_file->num_deleted_rows : 0;
  return f->physical_rows >= del ? f->physical_rows - del : 0;
}

static int32_t *dup_i32(const int32_t *src, size_t n, clance_error *err) {
  int32_t *p = cl_malloc((n ? n : 1) * sizeof *p, err);
  if (p && n)
    memcpy(p, src, n * sizeof *p);
  return p;
}

clance_status cl_fragment_new(const char *file_name, const int32_t *field_ids,
                              const int32_t *column_indices, size_t n_fields, uint32_t major,
                              uint32_t minor, uint64_t file_size, uint64_t physical_rows,
                              pb_fragment **out, clance_error *err) {
  *out = NULL;
  pb_fragment *f = cl_calloc(1, sizeof *f, err);
  if (!f)
    return err->code;
  lance__table__data_fragment__init(f);
  f->files = cl_calloc(1, sizeof *f->files, err);
  pb_data_file *df = f->files ? cl_calloc(1, sizeof *df, err) : NULL;
  if (!df)
    goto fail;
  lance__table__data_file__init(df);
  f->files[0] = df;
  f->n_files = 1;
  if (!(df->path = cl_strdup(file_name, err)) || !(df->fields = dup_i32(field_ids, n_fields, err)) ||
      !(df->column_indices = dup_i32(column_indices, n_fields, err)))
    goto fail;
  df->n_fields = df->n_column_indices = n_fields;
  df->has_file_major_version = major != 0;
  df->file_major_version = major;
  df->has_file_minor_version = minor != 0;
  df->file_minor_version = minor;
  df->has_file_size_bytes = file_size != 0;
  df->file_size_bytes = file_size;
  f->has_physical_rows = physical_rows != 0;
  f->physical_rows = physical_rows;
  *out = f;
  return CLANCE_OK;
fail:
  cl_fragment_free(f);
  return err->code;
}

/* ---- to JSON (Python json.dumps layout: ", " and ": ") ---- */

static clance_status json_int_list(cl_buf *o, const int32_t *v, size_t n, clance_error *err) {
  CL_TRY(cl_buf_append(o, "[", 1, err));
  for (size_t i = 0; i < n; i++)
    CL_TRY(cl_buf_printf(o, err, "%s%d", i ? ", " : "", (int)v[i]));
  return cl_buf_append(o, "]", 1, err);
}

static clance_status json_opt_u32(cl_buf *o, int has, uint32_t v, clance_error *err) {
  return has ? cl_buf_printf(o, err, "%u", v) : cl_buf_printf(o, err, "null");
}

clance_status cl_fragment_to_json(const pb_fragment *f, cl_buf *o, clance_error *err) {
  if (f->row_id_sequence_case != LANCE__TABLE__DATA_FRAGMENT__ROW_ID_SEQUENCE__NOT_SET)
    return cl_err(err, CLANCE_EUNSUPPORTED,
                  "fragment %llu carries stable row ids, which FragmentMetadata JSON cannot hold",
                  (unsigned long long)f->id);
  CL_TRY(cl_buf_printf(o, err, "{\"id\": %llu, \"files\": [", (unsigned long long)f->id));
  for (size_t i = 0; i < f->n_files; i++) {
    const pb_data_file *d = f->files[i];
    CL_TRY(cl_buf_printf(o, err, "%s{\"fields\": ", i ? ", " : ""));
    CL_TRY(json_int_list(o, d->fields, d->n_fields, err));
    CL_TRY(cl_buf_printf(o, err, ", \"column_indices\": "));
    CL_TRY(json_int_list(o, d->column_indices, d->n_column_indices, err));
    CL_TRY(cl_buf_printf(o, err, ", \"file_major_version\": %u, \"file_minor_version\": %u, "
                                 "\"file_size_bytes\": ",
                         d->file_major_version, d->file_minor_version));
    /* pylance uses None for "unknown"; the protobuf uses 0. */
    if (d->file_size_bytes)
      CL_TRY(cl_buf_printf(o, err, "%llu", (unsigned long long)d->file_size_bytes));
    else
      CL_TRY(cl_buf_printf(o, err, "null"));
    CL_TRY(cl_buf_printf(o, err, ", \"base_id\": "));
    CL_TRY(json_opt_u32(o, d->has_base_id, d->base_id, err));
    CL_TRY(cl_buf_printf(o, err, ", \"path\": "));
    CL_TRY(cl_json_write_string(o, cl_pb_str(d->path), strlen(cl_pb_str(d->path)), err));
    CL_TRY(cl_buf_append(o, "}", 1, err));
  }
  CL_TRY(cl_buf_printf(o, err, "], \"physical_rows\": %llu, \"deletion_file\": ",
                       (unsigned long long)f->physical_rows));
  const Lance__Table__DeletionFile *df = f->deletion_file;
  if (df) {
    CL_TRY(cl_buf_printf(o, err,
                         "{\"read_version\": %llu, \"id\": %llu, \"file_type\": \"%s\", "
                         "\"num_deleted_rows\": %llu, \"base_id\": ",
                         (unsigned long long)df->read_version, (unsigned long long)df->id,
                         df->file_type == LANCE__TABLE__DELETION_FILE__DELETION_FILE_TYPE__BITMAP
                             ? "bitmap"
                             : "array",
                         (unsigned long long)df->num_deleted_rows));
    CL_TRY(json_opt_u32(o, df->has_base_id, df->base_id, err));
    CL_TRY(cl_buf_append(o, "}", 1, err));
  } else {
    CL_TRY(cl_buf_printf(o, err, "null"));
  }
  return cl_buf_printf(o, err, ", \"row_id_meta\": null, \"created_at_version_meta\": null, "
                               "\"last_updated_at_version_meta\": null}");
}

/* ---- from JSON ---- */

static clance_status bad(clance_error *err, const char *what, const char *fmt, const char *key) {
  char msg[256];
  snprintf(msg, sizeof msg, fmt, key);
  return cl_err(err, CLANCE_ECORRUPT, "%s: %s", what, msg);
}

static clance_status get_u64(const cl_json *o, const char *key, int required, int nullable,
                             uint64_t max, uint64_t *out, int *present, const char *what,
                             clance_error *err) {
  const cl_json *v = cl_json_get(o, key);
  *out = 0;
  if (present)
    *present = 0;
  if (!v) {
    if (required)
      return bad(err, what, "missing key \"%s\"", key);
    return CLANCE_OK;
  }
  if (cl_json_typeof(v) == CL_JSON_NULL) {
    if (!nullable)
      return bad(err, what, "\"%s\" must not be null", key);
    return CLANCE_OK;
  }
  if (!cl_json_u64(v, out) || *out > max)
    return bad(err, what, "\"%s\" must be a non-negative integer in range", key);
  if (present)
    *present = 1;
  return CLANCE_OK;
}

static clance_status get_i32_list(const cl_json *o, const char *key, int required, int32_t **out,
                                  size_t *n, const char *what, clance_error *err) {
  const cl_json *v = cl_json_get(o, key);
  *out = NULL;
  *n = 0;
  if (!v || cl_json_typeof(v) == CL_JSON_NULL) {
    if (required)
      return bad(err, what, "missing key \"%s\"", key);
    *out = cl_malloc(sizeof(int32_t), err);
    return *out ? CLANCE_OK : err->code;
  }
  if (cl_json_typeof(v) != CL_JSON_ARRAY)
    return bad(err, what, "\"%s\" must be an array of integers", key);
  size_t len = cl_json_len(v);
  int32_t *a = cl_malloc((len ? len : 1) * sizeof *a, err);
  if (!a)
    return err->code;
  for (size_t i = 0; i < len; i++) {
    int64_t x;
    if (!cl_json_i64(cl_json_at(v, i), &x) || x < INT32_MIN || x > INT32_MAX) {
      free(a);
      return bad(err, what, "\"%s\" must hold 32-bit integers", key);
    }
    a[i] = (int32_t)x;
  }
  *out = a;
  *n = len;
  return CLANCE_OK;
}

static clance_status check_keys(const cl_json *o, const char *const *allowed, const char *what,
                                clance_error *err) {
  for (size_t i = 0; i < cl_json_len(o); i++) {
    const char *k = cl_json_key(o, i);
    int ok = 0;
    for (const char *const *a = allowed; *a; a++)
      if (!strcmp(k, *a))
        ok = 1;
    if (!ok)
      return bad(err, what, "unexpected key \"%s\"", k);
  }
  return CLANCE_OK;
}

static clance_status data_file_from_json(const cl_json *j, const char *what, pb_data_file *d,
                                         clance_error *err) {
  static const char *const keys[] = {"path", "fields", "column_indices", "file_major_version",
                                     "file_minor_version", "file_size_bytes", "base_id", NULL};
  if (cl_json_typeof(j) != CL_JSON_OBJECT)
    return cl_err(err, CLANCE_ECORRUPT, "%s: a data file entry must be an object", what);
  CL_TRY(check_keys(j, keys, what, err));
  const cl_json *p = cl_json_get(j, "path");
  size_t plen;
  const char *path = cl_json_string(p, &plen);
  if (!path)
    return bad(err, what, "missing or non-string \"%s\"", "path");
  if (plen == 0 || memchr(path, '/', plen) || memchr(path, '\0', plen) || !strcmp(path, "..") ||
      !strcmp(path, "."))
    return cl_err(err, CLANCE_ECORRUPT, "%s: data file path \"%s\" must be a bare file name", what,
                  path);
  if (!(d->path = cl_strndup(path, plen, err)))
    return err->code;
  CL_TRY(get_i32_list(j, "fields", 1, &d->fields, &d->n_fields, what, err));
  CL_TRY(get_i32_list(j, "column_indices", 0, &d->column_indices, &d->n_column_indices, what, err));
  uint64_t v;
  int present;
  CL_TRY(get_u64(j, "file_major_version", 0, 0, UINT32_MAX, &v, NULL, what, err));
  d->file_major_version = (uint32_t)v;
  d->has_file_major_version = v != 0;
  CL_TRY(get_u64(j, "file_minor_version", 0, 0, UINT32_MAX, &v, NULL, what, err));
  d->file_minor_version = (uint32_t)v;
  d->has_file_minor_version = v != 0;
  CL_TRY(get_u64(j, "file_size_bytes", 0, 1, UINT64_MAX, &v, NULL, what, err));
  d->file_size_bytes = v;
  d->has_file_size_bytes = v != 0;
  CL_TRY(get_u64(j, "base_id", 0, 1, UINT32_MAX, &v, &present, what, err));
  d->base_id = (uint32_t)v;
  d->has_base_id = present;
  return CLANCE_OK;
}

static clance_status deletion_from_json(const cl_json *j, const char *what,
                                        Lance__Table__DeletionFile *d, clance_error *err) {
  static const char *const keys[] = {"read_version", "id", "file_type", "num_deleted_rows",
                                     "base_id", NULL};
  if (cl_json_typeof(j) != CL_JSON_OBJECT)
    return cl_err(err, CLANCE_ECORRUPT, "%s: deletion_file must be an object or null", what);
  CL_TRY(check_keys(j, keys, what, err));
  uint64_t v;
  int present;
  CL_TRY(get_u64(j, "read_version", 1, 0, UINT64_MAX, &d->read_version, NULL, what, err));
  d->has_read_version = d->read_version != 0;
  CL_TRY(get_u64(j, "id", 1, 0, UINT64_MAX, &d->id, NULL, what, err));
  d->has_id = d->id != 0;
  CL_TRY(get_u64(j, "num_deleted_rows", 1, 0, UINT64_MAX, &d->num_deleted_rows, NULL, what, err));
  d->has_num_deleted_rows = d->num_deleted_rows != 0;
  const char *t = cl_json_string(cl_json_get(j, "file_type"), NULL);
  if (!t || (strcasecmp(t, "array") && strcasecmp(t, "bitmap") && strcasecmp(t, "arrow_array")))
    return cl_err(err, CLANCE_ECORRUPT, "%s: deletion_file.file_type must be \"array\" or \"bitmap\"",
                  what);
  d->file_type = strcasecmp(t, "bitmap") == 0 ? LANCE__TABLE__DELETION_FILE__DELETION_FILE_TYPE__BITMAP
                                              : LANCE__TABLE__DELETION_FILE__DELETION_FILE_TYPE__ARROW_ARRAY;
  d->has_file_type = d->file_type != 0;
  CL_TRY(get_u64(j, "base_id", 0, 1, UINT32_MAX, &v, &present, what, err));
  d->base_id = (uint32_t)v;
  d->has_base_id = present;
  return CLANCE_OK;
}

clance_status cl_fragment_from_json(const cl_json *j, const char *what, pb_fragment **out,
                                    clance_error *err) {
  *out = NULL;
  if (cl_json_typeof(j) != CL_JSON_OBJECT)
    return cl_err(err, CLANCE_ECORRUPT, "%s: FragmentMetadata must be a JSON object", what);
  pb_fragment *f = cl_calloc(1, sizeof *f, err);
  if (!f)
    return err->code;
  lance__table__data_fragment__init(f);
  clance_status st;
  CL_CHECK(st, get_u64(j, "id", 1, 0, UINT64_MAX, &f->id, NULL, what, err));
  f->has_id = f->id != 0;
  CL_CHECK(st, get_u64(j, "physical_rows", 1, 1, UINT64_MAX, &f->physical_rows, NULL, what, err));
  f->has_physical_rows = f->physical_rows != 0;
  const cl_json *files = cl_json_get(j, "files");
  if (!files || cl_json_typeof(files) != CL_JSON_ARRAY || cl_json_len(files) == 0) {
    st = cl_err(err, CLANCE_ECORRUPT, "%s: \"files\" must be a non-empty array", what);
    goto fail;
  }
  size_t nf = cl_json_len(files);
  f->files = cl_calloc(nf, sizeof *f->files, err);
  if (!f->files) {
    st = err->code;
    goto fail;
  }
  for (size_t i = 0; i < nf; i++) {
    f->files[i] = cl_calloc(1, sizeof **f->files, err);
    if (!f->files[i]) {
      st = err->code;
      goto fail;
    }
    lance__table__data_file__init(f->files[i]);
    f->n_files = i + 1;
    char sub[512];
    snprintf(sub, sizeof sub, "%s: files[%zu]", what, i);
    CL_CHECK(st, data_file_from_json(cl_json_at(files, i), sub, f->files[i], err));
  }
  const cl_json *del = cl_json_get(j, "deletion_file");
  if (del && cl_json_typeof(del) != CL_JSON_NULL) {
    f->deletion_file = cl_calloc(1, sizeof *f->deletion_file, err);
    if (!f->deletion_file) {
      st = err->code;
      goto fail;
    }
    lance__table__deletion_file__init(f->deletion_file);
    CL_CHECK(st, deletion_from_json(del, what, f->deletion_file, err));
  }
  static const char *const row_meta[] = {"row_id_meta", "created_at_version_meta",
                                         "last_updated_at_version_meta"};
  for (size_t i = 0; i < 3; i++) {
    const cl_json *m = cl_json_get(j, row_meta[i]);
    if (m && cl_json_typeof(m) != CL_JSON_NULL) {
      st = cl_err(err, CLANCE_EUNSUPPORTED, "%s: \"%s\" is set; stable row ids are not supported",
                  what, row_meta[i]);
      goto fail;
    }
  }
  *out = f;
  return CLANCE_OK;
fail:
  cl_fragment_free(f);
  return st;
}

/* ---- public list API ---- */

clance_status clance_fragments_new(clance_fragments **out, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!out)
    return cl_err(err, CLANCE_EINVAL, "clance_fragments_new: out is NULL");
  *out = cl_calloc(1, sizeof **out, err);
  return *out ? CLANCE_OK : err->code;
}

void clance_fragments_free(clance_fragments *fragments) {
  if (!fragments)
    return;
  cl_fragments_clear(fragments);
  free(fragments);
}

size_t clance_fragments_count(const clance_fragments *fragments) {
  return fragments ? fragments->n : 0;
}

void clance_fragments_ids(const clance_fragments *fragments, uint64_t *ids) {
  for (size_t i = 0; fragments && ids && i < fragments->n; i++)
    ids[i] = fragments->v[i]->id;
}

uint64_t clance_fragments_num_rows(const clance_fragments *fragments) {
  uint64_t n = 0;
  for (size_t i = 0; fragments && i < fragments->n; i++)
    n += fragments->v[i]->physical_rows;
  return n;
}

void clance_fragments_live_rows(const clance_fragments *fragments, uint64_t *rows) {
  for (size_t i = 0; fragments && rows && i < fragments->n; i++)
    rows[i] = cl_fragment_live_rows(fragments->v[i]);
}

clance_status clance_fragments_extend(clance_fragments *dst, const clance_fragments *src,
                                      clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!dst || !src)
    return cl_err(err, CLANCE_EINVAL, "clance_fragments_extend: NULL argument");
  size_t n = src->n; /* src may be dst */
  if (dst != src) {
    if (!dst->n && !dst->task_id)
      CL_TRY(cl_fragments_set_task(dst, src->task_id, src->task_attempt, src->task_uuid, err));
    else if (dst->task_id && (!src->task_id || strcmp(dst->task_id, src->task_id) ||
                              dst->task_attempt != src->task_attempt))
      CL_TRY(cl_fragments_set_task(dst, NULL, 0, NULL, err));
  }
  for (size_t i = 0; i < n; i++) {
    pb_fragment *c;
    CL_TRY(cl_fragment_copy(src->v[i], &c, err));
    CL_TRY(cl_fragments_push(dst, c, err));
  }
  return CLANCE_OK;
}

clance_status clance_fragments_to_json(const clance_fragments *fragments, char **out,
                                       clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!fragments || !out)
    return cl_err(err, CLANCE_EINVAL, "clance_fragments_to_json: NULL argument");
  cl_buf b = CL_BUF_INIT;
  clance_status st = cl_buf_append(&b, "[", 1, err);
  for (size_t i = 0; !st && i < fragments->n; i++) {
    if (i)
      st = cl_buf_append(&b, ", ", 2, err);
    if (!st)
      st = cl_fragment_to_json(fragments->v[i], &b, err);
    if (!st && fragments->task_id) {
      b.len--; /* the object's closing brace */
      st = cl_buf_printf(&b, err, ", \"clance_task\": {\"id\": ");
      if (!st)
        st = cl_json_write_string(&b, fragments->task_id, strlen(fragments->task_id), err);
      if (!st)
        st = cl_buf_printf(&b, err, ", \"attempt\": %llu, \"uuid\": \"%s\"}}",
                           (unsigned long long)fragments->task_attempt, fragments->task_uuid);
    }
  }
  if (!st)
    st = cl_buf_append(&b, "]", 1, err);
  if (!st)
    st = cl_buf_cstr(&b, err);
  if (st) {
    cl_buf_free(&b);
    return st;
  }
  *out = (char *)cl_buf_take(&b);
  return CLANCE_OK;
}

clance_status clance_fragments_from_json(const char *json, size_t len, const char *source,
                                         clance_fragments **out, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!json || !out)
    return cl_err(err, CLANCE_EINVAL, "clance_fragments_from_json: NULL argument");
  *out = NULL;
  const char *src = source ? source : "FragmentMetadata JSON";
  cl_json *j;
  CL_TRY(cl_json_parse(json, len, src, &j, err));
  clance_fragments *l = cl_calloc(1, sizeof *l, err);
  clance_status st = l ? CLANCE_OK : err->code;
  int is_obj = !st && cl_json_typeof(j) == CL_JSON_OBJECT;
  if (!st && (is_obj || cl_json_typeof(j) == CL_JSON_ARRAY)) {
    size_t n = is_obj ? 1 : cl_json_len(j);
    for (size_t i = 0; !st && i < n; i++) {
      char what[512];
      if (is_obj)
        snprintf(what, sizeof what, "%s", src);
      else
        snprintf(what, sizeof what, "%s: fragment [%zu]", src, i);
      const cl_json *o = is_obj ? j : cl_json_at(j, i);
      pb_fragment *f;
      st = cl_fragment_from_json(o, what, &f, err);
      if (!st)
        st = cl_fragments_push(l, f, err);
      const char *tid = NULL, *tuuid = NULL;
      uint64_t att = 0;
      if (!st && cl_json_typeof(o) == CL_JSON_OBJECT)
        st = task_from_json(o, what, &tid, &att, &tuuid, err);
      if (st)
        break;
      if (i == 0 && tid)
        st = cl_fragments_set_task(l, tid, att, tuuid, err);
      else if ((tid != NULL) != (l->task_id != NULL) ||
               (tid && (strcmp(tid, l->task_id) || att != l->task_attempt)))
        st = cl_err(err, CLANCE_ECORRUPT, "%s: mixes the output of several worker tasks "
                    "(\"clance_task\" differs from fragment [0]'s)", what);
    }
  } else if (!st) {
    st = cl_err(err, CLANCE_ECORRUPT, "%s: expected a FragmentMetadata object or an array of them",
                src);
  }
  cl_json_free(j);
  if (st) {
    clance_fragments_free(l);
    return st;
  }
  *out = l;
  return CLANCE_OK;
}
