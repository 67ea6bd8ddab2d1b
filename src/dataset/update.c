/* Updating rows in place of their old versions (Lance's Update in
 * REWRITE_ROWS mode): the matching rows are deleted from their fragments
 * through deletion vectors and written again, with the new values, as new
 * fragments; one Update transaction commits both. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/dataset.h"
#include "dataset/fragreader.h"
#include "dataset/match.h"
#include "dataset/update.h"
#include "table/deletion.h"

/* ---- SET assignments: "col = literal, col2 = literal" ---- */

typedef struct assignment {
  int col;                 /* top-level column index */
  struct ArrowArray value; /* one element of the column's type */
} assignment;

typedef struct set_list {
  assignment *v;
  size_t n;
} set_list;

static void set_free(set_list *s) {
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].value.release)
      s->v[i].value.release(&s->v[i].value);
  free(s->v);
}

static void ws(const char **p) {
  while (isspace((unsigned char)**p))
    (*p)++;
}

static clance_status bad(const char *text, const char *p, const char *what, clance_error *err) {
  return cl_err(err, CLANCE_EINVAL, "--set \"%s\": %s at offset %zu", text, what, (size_t)(p - text));
}

/* A literal that does not fit its column: name the column and its type. */
static clance_status bad_value(const char *text, const char *p, const cl_field *f, const char *what,
                               clance_error *err) {
  return cl_err(err, CLANCE_EINVAL, "--set \"%s\": column \"%s\" (%s): %s at offset %zu", text,
                f->name, cl_type_name(f->type), what, (size_t)(p - text));
}

/* Parse a literal at *p into a one-element builder of field f (initialised
 * by the caller). */
static clance_status literal(const char *text, const char **p, const cl_field *f, cl_arr *a,
                             clance_error *err) {
  ws(p);
  if (!strncasecmp(*p, "null", 4) && !isalnum((unsigned char)(*p)[4]) && (*p)[4] != '_') {
    *p += 4;
    if (!f->nullable)
      return cl_err(err, CLANCE_EINVAL, "--set: column \"%s\" is NOT NULL", f->name);
    return cl_arr_append_nulls(a, 1, err);
  }
  if (**p == '\'') {
    if (f->type != CL_TYPE_UTF8 && f->type != CL_TYPE_LARGE_UTF8)
      return bad_value(text, *p, f, "a string for a non-string column", err);
    const char *s = *p + 1;
    for (;;) {
      if (!*s)
        return bad_value(text, *p, f, "unterminated string", err);
      if (*s == '\'' && s[1] == '\'') {
        CL_TRY(cl_buf_append(&a->values, "'", 1, err));
        s += 2;
        continue;
      }
      if (*s == '\'')
        break;
      CL_TRY(cl_buf_append(&a->values, s, 1, err));
      s++;
    }
    *p = s + 1;
    CL_TRY(cl_arr_push_offset(a, a->values.len, err));
    return cl_arr_append_valid(a, 1, err);
  }
  if (!strncasecmp(*p, "true", 4) || !strncasecmp(*p, "false", 5)) {
    if (f->type != CL_TYPE_BOOL)
      return bad_value(text, *p, f, "a boolean for a non-boolean column", err);
    int v = tolower((unsigned char)**p) == 't';
    *p += v ? 4 : 5;
    CL_TRY(cl_buf_fill(&a->values, v ? 1 : 0, 1, err));
    return cl_arr_append_valid(a, 1, err);
  }
  char *end;
  errno = 0;
  if (f->type == CL_TYPE_FLOAT32 || f->type == CL_TYPE_FLOAT64) {
    double d = strtod(*p, &end);
    if (end == *p)
      return bad_value(text, *p, f, "expected a number", err);
    *p = end;
    if (f->type == CL_TYPE_FLOAT32) {
      float x = (float)d;
      CL_TRY(cl_buf_append(&a->values, &x, 4, err));
    } else {
      CL_TRY(cl_buf_append(&a->values, &d, 8, err));
    }
    return cl_arr_append_valid(a, 1, err);
  }
  int is_signed = f->type == CL_TYPE_INT8 || f->type == CL_TYPE_INT16 || f->type == CL_TYPE_INT32 ||
                  f->type == CL_TYPE_INT64 || f->type == CL_TYPE_DATE32 ||
                  f->type == CL_TYPE_DATE64 || f->type == CL_TYPE_TIMESTAMP ||
                  f->type == CL_TYPE_TIME32 || f->type == CL_TYPE_TIME64 ||
                  f->type == CL_TYPE_DURATION;
  int is_unsigned = f->type == CL_TYPE_UINT8 || f->type == CL_TYPE_UINT16 ||
                    f->type == CL_TYPE_UINT32 || f->type == CL_TYPE_UINT64;
  if (!is_signed && !is_unsigned)
    return cl_err(err, CLANCE_EUNSUPPORTED, "--set: column \"%s\" (%s) cannot be set from a literal",
                  f->name, cl_type_name(f->type));
  uint32_t w = cl_type_bits(f) / 8;
  uint64_t bits;
  if (is_unsigned) {
    if (**p == '-')
      return bad_value(text, *p, f, "a negative value for an unsigned column", err);
    unsigned long long u = strtoull(*p, &end, 10);
    if (end == *p || errno == ERANGE || (w < 8 && u >> (8 * w)))
      return bad_value(text, *p, f, "an integer out of the column's range", err);
    bits = u;
  } else {
    long long v = strtoll(*p, &end, 10);
    long long lim = w < 8 ? (1ll << (8 * w - 1)) : 0;
    if (end == *p || errno == ERANGE || (w < 8 && (v < -lim || v >= lim)))
      return bad_value(text, *p, f, "an integer out of the column's range", err);
    bits = (uint64_t)v;
  }
  *p = end;
  CL_TRY(cl_buf_append(&a->values, &bits, w, err)); /* little-endian: the low bytes */
  return cl_arr_append_valid(a, 1, err);
}

static clance_status parse_set(const char *text, const cl_schema *s, set_list *out,
                               clance_error *err) {
  memset(out, 0, sizeof *out);
  const char *p = text;
  for (;;) {
    ws(&p);
    const char *name = p;
    while (isalnum((unsigned char)*p) || *p == '_' || *p == '.')
      p++;
    if (p == name)
      return bad(text, p, "expected a column name", err);
    char col[256];
    snprintf(col, sizeof col, "%.*s", (int)(p - name), name);
    int idx = cl_schema_index(s, col);
    if (idx < 0)
      return cl_err(err, CLANCE_ENOTFOUND, "--set: column \"%s\" is not in the dataset", col);
    for (size_t i = 0; i < out->n; i++)
      if (out->v[i].col == idx)
        return cl_err(err, CLANCE_EINVAL, "--set: column \"%s\" is set twice", col);
    ws(&p);
    if (*p != '=')
      return bad(text, p, "expected '='", err);
    p++;
    assignment *v = realloc(out->v, (out->n + 1) * sizeof *v);
    if (!v)
      return cl_err_nomem(err, "assignments");
    out->v = v;
    memset(&out->v[out->n], 0, sizeof *out->v);
    out->v[out->n].col = idx;
    out->n++;
    cl_arr b;
    CL_TRY(cl_arr_init(&b, &s->fields[idx], err));
    clance_status st = literal(text, &p, &s->fields[idx], &b, err);
    if (!st)
      st = cl_arr_export(&b, &out->v[out->n - 1].value, err);
    cl_arr_free(&b);
    CL_TRY(st);
    ws(&p);
    if (!*p)
      return CLANCE_OK;
    if (*p != ',')
      return bad(text, p, "expected ',' or the end", err);
    p++;
  }
}

/* Replace the assigned columns of a struct batch by their new values. */
static clance_status apply_set(const set_list *set, const cl_schema *s, struct ArrowArray *batch,
                               clance_error *err) {
  for (size_t i = 0; i < set->n; i++) {
    const assignment *as = &set->v[i];
    cl_arr c;
    CL_TRY(cl_arr_init(&c, &s->fields[as->col], err));
    clance_status st = CLANCE_OK;
    for (int64_t r = 0; !st && r < batch->length; r++)
      st = cl_arr_append_from(&c, &as->value, 0, 1, err);
    struct ArrowArray col;
    if (!st)
      st = cl_arr_export(&c, &col, err);
    cl_arr_free(&c);
    CL_TRY(st);
    /* Move the new column in; the batch releases it with the others. */
    struct ArrowArray *slot = batch->children[as->col];
    slot->release(slot);
    *slot = col;
  }
  return CLANCE_OK;
}

/* The rows `rows` (physical, ascending) of fragment `index`, all columns. */
static clance_status read_rows(cl_dataset *ds, size_t index, const uint32_t *rows, size_t n,
                               struct ArrowArray *out, clance_error *err) {
  cl_frag_reader *r;
  CL_TRY(cl_frag_reader_new(ds, NULL, 0, &r, err));
  uint64_t *phys = cl_malloc((n ? n : 1) * sizeof *phys, err);
  clance_status st = phys ? CLANCE_OK : err->code;
  for (size_t i = 0; !st && i < n; i++)
    phys[i] = rows[i];
  if (!st)
    st = cl_frag_reader_open(r, index, err);
  if (!st)
    st = cl_frag_reader_take_rows(r, phys, n, err);
  if (!st)
    st = cl_frag_reader_export(r, (int64_t)n, out, err);
  free(phys);
  cl_frag_reader_free(r);
  return st;
}

/* Everything one Update needs, prepared against one version. */
typedef struct update_plan {
  clance_fragments *updated, *fresh;
  uint64_t *removed;
  size_t n_removed;
  struct ArrowArray *batches;
  size_t n_batches;
  uint64_t rows;
} update_plan;

static void plan_free(update_plan *p) {
  clance_fragments_free(p->updated);
  clance_fragments_free(p->fresh);
  free(p->removed);
  for (size_t i = 0; i < p->n_batches; i++)
    if (p->batches[i].release)
      p->batches[i].release(&p->batches[i]);
  free(p->batches);
  memset(p, 0, sizeof *p);
}

/* Per fragment: find the rows, read them with the new values, and delete
 * them from the fragment (a new deletion file). */
static clance_status plan_update(cl_dataset *ds, const set_list *set, const cl_filter *where,
                                 update_plan *p, clance_error *err) {
  const pb_manifest *m = ds->manifest.pb;
  CL_TRY(clance_fragments_new(&p->updated, err));
  CL_TRY(clance_fragments_new(&p->fresh, err));
  for (size_t i = 0; i < m->n_fragments; i++) {
    const pb_fragment *f = m->fragments[i];
    uint32_t *hit = NULL;
    size_t n = 0;
    CL_TRY(cl_fragment_match(ds, i, where, &hit, &n, err));
    if (!n) {
      free(hit);
      continue;
    }
    struct ArrowArray *b = realloc(p->batches, (p->n_batches + 1) * sizeof *b);
    clance_status st = b ? CLANCE_OK : cl_err_nomem(err, "update batches");
    if (!st) {
      p->batches = b;
      memset(&b[p->n_batches], 0, sizeof *b);
      st = read_rows(ds, i, hit, n, &b[p->n_batches], err);
      if (!st)
        p->n_batches++;
    }
    if (!st)
      st = apply_set(set, &ds->schema, &p->batches[p->n_batches - 1], err);
    /* The old versions of those rows are deleted. */
    uint64_t physical;
    cl_deletions *old = NULL;
    uint32_t *all = NULL;
    size_t n_all = 0;
    if (!st)
      st = cl_fragment_rows(ds->root, f, &physical, err);
    if (!st && f->deletion_file)
      st = cl_deletions_load(ds->root, f, &old, err);
    if (!st)
      st = cl_rows_union(old ? old->rows : NULL, old ? old->n : 0, hit, n, &all, &n_all, err);
    if (!st && n_all >= physical) {
      uint64_t *r = realloc(p->removed, (p->n_removed + 1) * sizeof *r);
      if (!r)
        st = cl_err_nomem(err, "removed fragments");
      else
        (p->removed = r)[p->n_removed++] = f->id;
    } else if (!st) {
      pb_fragment *nf = NULL;
      st = cl_fragment_copy(f, &nf, err);
      if (!st) {
        nf->physical_rows = physical;
        nf->has_physical_rows = 1;
        if (nf->deletion_file)
          protobuf_c_message_free_unpacked(&nf->deletion_file->base, NULL);
        nf->deletion_file = NULL;
        st = cl_deletions_write(ds->root, f->id, m->version, all, n_all, &nf->deletion_file, err);
      }
      if (!st)
        st = cl_fragments_push(p->updated, nf, err);
      else if (nf)
        cl_fragment_free(nf);
    }
    p->rows += n;
    free(hit);
    free(all);
    cl_deletions_free(old);
    CL_TRY(st);
  }
  return CLANCE_OK;
}

/* Remove the files an uncommitted plan wrote (nothing refers to them). */
static void remove_files(const char *root, const update_plan *p) {
  clance_error e;
  for (size_t i = 0; p->fresh && i < p->fresh->n; i++)
    for (size_t d = 0; d < p->fresh->v[i]->n_files; d++) {
      char *path = cl_dataset_data_path(root, p->fresh->v[i]->files[d], &e);
      if (path)
        remove(path);
      free(path);
    }
  for (size_t i = 0; p->updated && i < p->updated->n; i++) {
    char *path = p->updated->v[i]->deletion_file ? cl_deletion_path(root, p->updated->v[i], &e) : NULL;
    if (path)
      remove(path);
    free(path);
  }
}

static clance_status update_once(const char *uri, uint64_t read_version, const char *set,
                                 const char *where, const clance_commit_options *options,
                                 uint64_t *out_version, uint64_t *num_updated, clance_error *err) {
  cl_dataset *ds = NULL;
  cl_filter *flt = NULL;
  set_list sl = {0};
  update_plan p = {0};
  clance_operation *op = NULL;
  cl_schema schema = {0};
  clance_status st;
  CL_CHECK(st, clance_dataset_open(uri, read_version, &ds, err));
  CL_CHECK(st, parse_set(set, &ds->schema, &sl, err));
  if (where)
    CL_CHECK(st, cl_filter_parse(where, &ds->schema, &flt, err));
  CL_CHECK(st, plan_update(ds, &sl, flt, &p, err));
  *out_version = ds->manifest.pb->version;
  *num_updated = p.rows;
  if (!p.rows)
    goto fail; /* nothing matched: nothing to commit */
  /* The new rows, as new fragments of the same schema and storage version. */
  struct ArrowArrayStream s;
  CL_CHECK(st, cl_stream_from_batches(&ds->schema, p.batches, p.n_batches, &s, err));
  p.n_batches = 0; /* moved into the stream */
  st = cl_write_batches(ds->root, &ds->schema, ds->data_version, NULL, &s, p.fresh, err);
  s.release(&s);
  if (st)
    goto fail;
  uint32_t *fields = cl_calloc(sl.n ? sl.n : 1, sizeof *fields, err);
  if (!fields) {
    st = err->code;
    goto fail;
  }
  for (size_t i = 0; i < sl.n; i++)
    fields[i] = (uint32_t)ds->schema.fields[sl.v[i].col].id;
  st = clance_operation_update(p.updated, p.removed, p.n_removed, p.fresh, fields, sl.n, 0, &op, err);
  free(fields);
  if (!st)
    st = clance_commit(uri, op, ds->manifest.pb->version, options, out_version, err);
fail:
  if (st && ds)
    remove_files(ds->root, &p);
  clance_operation_free(op);
  plan_free(&p);
  set_free(&sl);
  cl_filter_free(flt);
  cl_schema_free(&schema);
  cl_dataset_unref(ds);
  return st;
}

clance_status cl_dataset_update_at(const char *uri, uint64_t read_version, const char *set,
                                   const char *where, const clance_commit_options *options,
                                   uint64_t *out_version, uint64_t *num_updated,
                                   clance_error *err) {
  if (!uri || !set || !out_version)
    return cl_err(err, CLANCE_EINVAL, "clance_dataset_update: NULL argument");
  uint64_t n = 0;
  /* Pinned to a read version: one attempt, whose conflicts are reported. */
  uint32_t tries = read_version ? 1 : options && options->max_retries ? options->max_retries : 20;
  clance_status st = CLANCE_OK;
  for (uint32_t attempt = 0; attempt < tries; attempt++) {
    st = update_once(uri, read_version, set, where, options, out_version, &n, err);
    if (st != CLANCE_ECONFLICT_RETRYABLE)
      break;
  }
  if (num_updated)
    *num_updated = st ? 0 : n;
  return st;
}

clance_status clance_dataset_update(const char *uri, const char *set, const char *where,
                                    const clance_commit_options *options, uint64_t *out_version,
                                    uint64_t *num_updated, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  return cl_dataset_update_at(uri, 0, set, where, options, out_version, num_updated, err);
}
