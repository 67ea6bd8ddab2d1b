/* Phase 1 of a distributed write: turn an Arrow stream into data files and
 * the FragmentMetadata describing them, without committing anything. Any
 * number of workers may do this concurrently on one dataset: every file gets
 * a random unique name and ids are only assigned at commit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/dataset.h"
#include "dataset/task.h"
#include "io/fs.h"
#include "util/pool.h"
#include "util/uuid.h"

#define DEFAULT_MAX_ROWS_PER_FILE (1024u * 1024u)
#define DEFAULT_MAX_BYTES_PER_FILE (90ull << 30)

void clance_write_options_init(clance_write_options *o) {
  memset(o, 0, sizeof *o);
  o->mode = CLANCE_WRITE_AUTO;
}

/* A file whose footer is being written while the next one is filled. */
typedef struct pending_file {
  cl_written_file *f;
  char name[64];
} pending_file;

typedef struct write_ctx {
  char *root;
  char *data_dir;
  cl_schema schema; /* with field ids */
  cl_file_writer_opts fopts;
  uint64_t max_rows, max_bytes;
  cl_file_writer *cur;
  cl_file_writer *idle; /* finished, kept for its buffers */
  char cur_name[64];
  pending_file *pend; /* finished files in order, not yet collected */
  size_t n_pend, cap_pend;
  clance_fragments *out;
  uint64_t rows_done, bytes_done; /* progress: finished files */
  void (*on_progress)(void *ctx, uint64_t rows, uint64_t bytes);
  void *progress_ctx;
} write_ctx;

/* Decide the schema (field ids) and storage version the files get. */
static clance_status plan(write_ctx *w, const cl_schema *target, const clance_write_options *o,
                          clance_error *err) {
  int have_version = o->data_storage_version && *o->data_storage_version;
  cl_file_version requested = CL_FILE_V2_1;
  if (have_version)
    CL_TRY(cl_file_version_parse(o->data_storage_version, &requested, err));
  cl_dataset *ds = NULL;
  if (o->mode != CLANCE_WRITE_CREATE) {
    clance_status st = cl_dataset_open(w->root, 0, &ds, err);
    if (st == CLANCE_ENOTFOUND && o->mode == CLANCE_WRITE_AUTO) {
      cl_err_clear(err);
      ds = NULL;
    } else if (st) {
      return st;
    }
  }
  if (!ds) {
    CL_TRY(cl_schema_copy(target, &w->schema, err));
    int32_t next = 0;
    cl_schema_assign_ids(&w->schema, &next);
    w->fopts.version = requested;
    return CLANCE_OK;
  }
  /* Appending: the data must have the dataset's columns; reuse its ids and
   * storage version so the fragments can join it. */
  clance_status st = CLANCE_OK;
  if (ds->schema.n_fields != target->n_fields) {
    st = cl_err(err, CLANCE_ESCHEMA, "the data has %zu columns but dataset %s has %zu", target->n_fields,
                w->root, ds->schema.n_fields);
    goto done;
  }
  for (size_t i = 0; i < target->n_fields; i++) {
    const cl_field *a = &target->fields[i], *b = &ds->schema.fields[i];
    char why[256];
    if (strcmp(a->name, b->name) != 0) {
      st = cl_err(err, CLANCE_ESCHEMA, "column %zu is \"%s\" in the data but \"%s\" in dataset %s",
                  i, a->name, b->name, w->root);
      goto done;
    }
    if (!cl_field_same_type(a, b, why, sizeof why)) {
      st = cl_err(err, CLANCE_ESCHEMA, "column \"%s\" has a different type in the data than in "
                  "dataset %s (%s)", a->name, w->root, why);
      goto done;
    }
  }
  if (have_version && requested != ds->data_version) {
    st = cl_err(err, CLANCE_ESCHEMA, "dataset %s stores data format %s, not the requested %s",
                w->root, ds->data_format, o->data_storage_version);
    goto done;
  }
  CL_CHECK(st, cl_schema_copy(&ds->schema, &w->schema, err));
  w->fopts.version = ds->data_version;
done:
fail:
  cl_dataset_unref(ds);
  return st;
}

/* The file writer's share of the caller's options. */
static void file_opts_from(const clance_write_options *o, cl_file_writer_opts *fo) {
  fo->page_bytes = o->page_bytes;
  fo->max_rows_per_page = o->max_rows_per_group;
  fo->max_buffer_bytes = o->max_buffer_bytes;
  fo->no_fsync = o->no_fsync;
}

/* Encoding threads: num_threads (0 = one per core); 1 = none. */
static clance_status start_pool(write_ctx *w, const clance_write_options *o, clance_error *err) {
  unsigned n = o->num_threads ? o->num_threads : cl_cpu_count();
  if (n <= 1)
    return CLANCE_OK;
  return cl_pool_new(n, &w->fopts.pool, err);
}

static clance_status start_file(write_ctx *w, clance_error *err) {
  CL_TRY(cl_data_file_name(w->cur_name, err));
  char *p = cl_path_join(w->data_dir, w->cur_name, err);
  if (!p)
    return err->code;
  clance_status st;
  if (w->idle) {
    st = cl_file_writer_reopen(w->idle, p, err);
    if (!st) {
      w->cur = w->idle;
      w->idle = NULL;
    }
  } else {
    st = cl_file_writer_open(p, &w->schema, &w->fopts, &w->cur, err);
  }
  free(p);
  return st;
}

/* Turn finished files into fragments, in file order: those already done,
 * or (wait) all of them. Every pending file is collected even after an
 * error (its fragment is still listed, for remove_written). */
static clance_status collect_files(write_ctx *w, int wait, clance_error *err) {
  cl_file_writer *fw = w->cur ? w->cur : w->idle;
  clance_status first = CLANCE_OK;
  size_t k = 0;
  for (; k < w->n_pend && (wait || cl_file_writer_file_done(fw, w->pend[k].f)); k++) {
    uint64_t rows = 0, size = 0;
    cl_file_layout layout;
    clance_error e;
    clance_status st = cl_file_writer_collect(fw, w->pend[k].f, &rows, &size, &layout, &e);
    if (!st) {
      uint32_t major, minor;
      cl_file_version_manifest_pair(w->fopts.version, &major, &minor);
      pb_fragment *f;
      st = cl_fragment_new(w->pend[k].name, layout.field_ids, layout.column_indices, layout.n,
                           major, minor, size, rows, &f, &e);
      cl_file_layout_free(&layout);
      if (!st)
        st = cl_fragments_push(w->out, f, &e);
      w->bytes_done += size;
    }
    if (st && !first) {
      first = st;
      *err = e;
    }
  }
  if (k) {
    memmove(w->pend, w->pend + k, (w->n_pend - k) * sizeof *w->pend);
    w->n_pend -= k;
  }
  return first;
}

static clance_status finish_file(write_ctx *w, clance_error *err) {
  cl_file_writer *fw = w->cur;
  if (w->n_pend == w->cap_pend) {
    size_t cap = w->cap_pend ? 2 * w->cap_pend : 8;
    pending_file *np = realloc(w->pend, cap * sizeof *np);
    if (!np)
      return cl_err_nomem(err, "finished files");
    w->pend = np;
    w->cap_pend = cap;
  }
  uint64_t rows = cl_file_writer_rows(fw);
  cl_written_file *f;
  CL_TRY(cl_file_writer_finish_async(fw, &f, err));
  w->cur = NULL;
  w->idle = fw;
  w->pend[w->n_pend].f = f;
  memcpy(w->pend[w->n_pend].name, w->cur_name, sizeof w->cur_name);
  w->n_pend++;
  w->rows_done += rows;
  return collect_files(w, 0, err);
}

/* Remove the files of fragments written since `from` (the write failed). */
static void remove_written(write_ctx *w, size_t from) {
  for (size_t i = from; i < w->out->n; i++) {
    clance_error e;
    char *p = cl_path_join(w->data_dir, cl_pb_str(w->out->v[i]->files[0]->path), &e);
    if (p) {
      remove(p);
      free(p);
    }
  }
}

/* A null struct value cannot be written to a 2.0 file, which has no place
 * for struct validity (Lance refuses it too; nulls of the leaves inside are
 * fine). Rows [row0, row0 + n) of a, a's own offset not included. */
static clance_status check_struct_nulls(const cl_field *f, const struct ArrowArray *a, int64_t row0,
                                        int64_t n, const char *what, clance_error *err) {
  if (f->type != CL_TYPE_STRUCT || cl_field_is_packed(f) || n <= 0)
    return CLANCE_OK;
  const uint8_t *valid = cl_array_validity(a);
  if (valid && cl_bits_count_zero(valid, a->offset + row0, n))
    return cl_err(err, CLANCE_EUNSUPPORTED,
                  "%s: struct \"%s\" has null values, which file format 2.0 cannot store "
                  "(nulls of the fields inside a struct it can); write format 2.1 or later",
                  what, f->name);
  for (size_t k = 0; k < f->n_children; k++)
    CL_TRY(check_struct_nulls(&f->children[k], a->children[k], a->offset + row0, n, what, err));
  return CLANCE_OK;
}

static clance_status check_batch(const write_ctx *w, const struct ArrowArray *b, uint64_t index,
                                 clance_error *err) {
  if (b->n_children != (int64_t)w->schema.n_fields || (b->n_children && !b->children))
    return cl_err(err, CLANCE_ESCHEMA, "batch %llu has %lld columns, the schema has %zu",
                  (unsigned long long)index, (long long)b->n_children, w->schema.n_fields);
  if (b->length < 0 || b->offset < 0)
    return cl_err(err, CLANCE_EINVAL, "batch %llu has a negative length or offset",
                  (unsigned long long)index);
  for (size_t i = 0; i < w->schema.n_fields; i++) {
    const struct ArrowArray *c = b->children[i];
    if (!c || c->length < b->length + b->offset) /* batch row i is column row offset + i */
      return cl_err(err, CLANCE_EINVAL, "batch %llu: column \"%s\" is shorter than the batch",
                    (unsigned long long)index, w->schema.fields[i].name);
    char what[300];
    snprintf(what, sizeof what, "\"%s\" (batch %llu)", w->schema.fields[i].name,
             (unsigned long long)index);
    CL_TRY(cl_array_validate(&w->schema.fields[i], c, what, err));
    if (w->fopts.version == CL_FILE_V2_0) /* (2.1+ store them as definition levels) */
      CL_TRY(check_struct_nulls(&w->schema.fields[i], c, b->offset, b->length, what, err));
  }
  return CLANCE_OK;
}

static clance_status write_rows(write_ctx *w, struct ArrowArrayStream *stream, clance_error *err) {
  for (uint64_t index = 0;; index++) {
    struct ArrowArray b;
    memset(&b, 0, sizeof b);
    int rc = stream->get_next(stream, &b);
    if (rc)
      return cl_stream_error(stream, rc, "reading the input stream", err);
    if (!b.release)
      break;
    clance_status st = check_batch(w, &b, index, err);
    int64_t length = b.length;
    /* Shared: the file writer may keep the batch while pages use its rows. */
    cl_shared *sb = NULL;
    if (!st && !(sb = cl_shared_new(&b, err)))
      st = err->code;
    int64_t pos = 0;
    while (!st && pos < length) {
      if (!w->cur)
        st = start_file(w, err);
      if (st)
        break;
      uint64_t room = w->max_rows - cl_file_writer_rows(w->cur);
      int64_t n = length - pos;
      if ((uint64_t)n > room)
        n = (int64_t)room;
      st = cl_file_writer_write_shared(w->cur, sb, pos, n, err);
      pos += n;
      if (!st && (cl_file_writer_rows(w->cur) >= w->max_rows ||
                  cl_file_writer_reached(w->cur, w->max_bytes)))
        st = finish_file(w, err);
    }
    if (b.release)
      b.release(&b);
    cl_shared_unref(sb);
    cl_file_writer *fw = w->cur ? w->cur : w->idle;
    if (!st && fw)
      st = cl_file_writer_release_unused(fw, err);
    CL_TRY(st);
    if (w->on_progress)
      w->on_progress(w->progress_ctx, w->rows_done + (w->cur ? cl_file_writer_rows(w->cur) : 0),
                     w->bytes_done + (w->cur ? cl_file_writer_bytes(w->cur) : 0));
  }
  if (w->cur && cl_file_writer_rows(w->cur) > 0)
    return finish_file(w, err);
  return CLANCE_OK;
}

/* Write every batch; on return every finished file is a fragment in w->out
 * (also on error, so that it can be removed). */
static clance_status write_all(write_ctx *w, struct ArrowArrayStream *stream, clance_error *err) {
  clance_status st = write_rows(w, stream, err);
  clance_error e;
  clance_status st2 = collect_files(w, 1, st ? &e : err);
  return st ? st : st2;
}

clance_status clance_write_fragments(const char *uri, const struct ArrowSchema *schema,
                                     struct ArrowArrayStream *stream,
                                     const clance_write_options *options, clance_fragments **out,
                                     clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!uri || !stream || !stream->release || !out) {
    if (stream && stream->release)
      stream->release(stream);
    return cl_err(err, CLANCE_EINVAL, "clance_write_fragments: NULL or released argument");
  }
  *out = NULL;
  clance_write_options defaults;
  clance_write_options_init(&defaults);
  const clance_write_options *o = options ? options : &defaults;
  write_ctx w;
  memset(&w, 0, sizeof w);
  cl_schema stream_schema, given;
  memset(&stream_schema, 0, sizeof stream_schema);
  memset(&given, 0, sizeof given);
  clance_status st;
  CL_CHECK(st, cl_uri_to_path(uri, &w.root, err));
  w.max_rows = o->max_rows_per_file ? o->max_rows_per_file : DEFAULT_MAX_ROWS_PER_FILE;
  w.max_bytes = o->max_bytes_per_file ? o->max_bytes_per_file : DEFAULT_MAX_BYTES_PER_FILE;
  file_opts_from(o, &w.fopts);
  w.on_progress = o->on_progress;
  w.progress_ctx = o->progress_ctx;
  if (o->task_id)
    CL_CHECK(st, cl_task_id_check(o->task_id, err));

  struct ArrowSchema ss;
  memset(&ss, 0, sizeof ss);
  int rc = stream->get_schema(stream, &ss);
  if (rc) {
    st = cl_stream_error(stream, rc, "reading the input stream's schema", err);
    goto fail;
  }
  st = cl_schema_from_arrow(&ss, &stream_schema, err);
  ss.release(&ss);
  if (st)
    goto fail;
  const cl_schema *target = &stream_schema;
  if (schema) {
    CL_CHECK(st, cl_schema_from_arrow(schema, &given, err));
    if (given.n_fields != stream_schema.n_fields) {
      st = cl_err(err, CLANCE_ESCHEMA, "the schema has %zu columns but the data has %zu",
                  given.n_fields, stream_schema.n_fields);
      goto fail;
    }
    for (size_t i = 0; i < given.n_fields; i++) {
      char why[256];
      if (strcmp(given.fields[i].name, stream_schema.fields[i].name) != 0 ||
          !cl_field_same_type(&given.fields[i], &stream_schema.fields[i], why, sizeof why)) {
        st = cl_err(err, CLANCE_ESCHEMA, "column %zu: the schema says \"%s\", the data has \"%s\" "
                    "of another type or name (%s)", i, given.fields[i].name,
                    stream_schema.fields[i].name, why);
        goto fail;
      }
      /* Nullability comes from the given schema. */
      stream_schema.fields[i].nullable = given.fields[i].nullable;
    }
  }
  CL_CHECK(st, plan(&w, target, o, err));
  CL_CHECK(st, cl_file_check_writable(target, w.fopts.version, err));
  if (!(w.data_dir = cl_path_join(w.root, "data", err))) {
    st = err->code;
    goto fail;
  }
  CL_CHECK(st, cl_mkdirs(w.data_dir, err));
  CL_CHECK(st, clance_fragments_new(&w.out, err));
  CL_CHECK(st, start_pool(&w, o, err));
  st = write_all(&w, stream, err);
  if (!st && o->task_id)
    st = cl_task_finish(w.root, w.data_dir, o->task_id, w.out, err);
  if (st) {
    if (w.cur)
      cl_file_writer_abort(w.cur);
    w.cur = NULL;
    remove_written(&w, 0);
    goto fail;
  }
  *out = w.out;
  w.out = NULL;
fail:
  cl_file_writer_free(w.idle);
  free(w.pend);
  if (stream->release)
    stream->release(stream);
  clance_fragments_free(w.out);
  cl_schema_free(&stream_schema);
  cl_schema_free(&given);
  cl_schema_free(&w.schema);
  cl_pool_free(w.fopts.pool);
  free(w.root);
  free(w.data_dir);
  return st;
}

clance_status cl_write_batches(const char *root, const cl_schema *schema, cl_file_version v,
                               const clance_write_options *o, struct ArrowArrayStream *stream,
                               clance_fragments *out, clance_error *err) {
  clance_write_options defaults;
  clance_write_options_init(&defaults);
  if (!o)
    o = &defaults;
  write_ctx w;
  memset(&w, 0, sizeof w);
  w.max_rows = o->max_rows_per_file ? o->max_rows_per_file : DEFAULT_MAX_ROWS_PER_FILE;
  w.max_bytes = o->max_bytes_per_file ? o->max_bytes_per_file : DEFAULT_MAX_BYTES_PER_FILE;
  file_opts_from(o, &w.fopts);
  w.fopts.version = v;
  w.out = out;
  size_t from = out->n;
  clance_status st;
  CL_CHECK(st, cl_file_check_writable(schema, v, err));
  CL_CHECK(st, cl_schema_copy(schema, &w.schema, err));
  if (!(w.data_dir = cl_path_join(root, "data", err))) {
    st = err->code;
    goto fail;
  }
  CL_CHECK(st, cl_mkdirs(w.data_dir, err));
  CL_CHECK(st, start_pool(&w, o, err));
  st = write_all(&w, stream, err);
  if (st) {
    if (w.cur)
      cl_file_writer_abort(w.cur);
    remove_written(&w, from);
    for (size_t i = from; i < out->n; i++)
      cl_fragment_free(out->v[i]);
    out->n = from;
  }
fail:
  cl_file_writer_free(w.idle);
  free(w.pend);
  cl_schema_free(&w.schema);
  cl_pool_free(w.fopts.pool);
  free(w.data_dir);
  return st;
}
