#include "proto/fields.h"

#include <stdlib.h>
#include <string.h>

/* Field.encoding as Lance writes it (only legacy files use it, but matching
 * Lance keeps our manifests indistinguishable from its own). */
static Lance__File__FieldEncoding field_encoding(const cl_field *f) {
  switch (f->type) {
  case CL_TYPE_UTF8:
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_BINARY:
  case CL_TYPE_LARGE_BINARY: return LANCE__FILE__FIELD_ENCODING__VAR_BINARY;
  case CL_TYPE_DICTIONARY: return LANCE__FILE__FIELD_ENCODING__DICTIONARY;
  case CL_TYPE_STRUCT:
  case CL_TYPE_NULL: return LANCE__FILE__FIELD_ENCODING__NONE;
  default: return LANCE__FILE__FIELD_ENCODING__PLAIN;
  }
}

void cl_meta_pb_free(Lance__File__StringBytesEntry **e, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!e[i])
      continue;
    free(e[i]->key);
    free(e[i]->value.data);
    free(e[i]);
  }
  free(e);
}

clance_status cl_meta_to_pb(const cl_meta *m, Lance__File__StringBytesEntry ***out, size_t *n,
                            clance_error *err) {
  *out = NULL;
  *n = 0;
  if (!m->n)
    return CLANCE_OK;
  Lance__File__StringBytesEntry **e = cl_calloc(m->n, sizeof *e, err);
  if (!e)
    return err->code;
  for (size_t i = 0; i < m->n; i++) {
    e[i] = cl_malloc(sizeof **e, err);
    if (!e[i])
      goto fail;
    lance__file__string_bytes_entry__init(e[i]);
    e[i]->key = cl_strdup(m->items[i].key, err);
    e[i]->value.data = cl_malloc(m->items[i].value_len, err);
    if (!e[i]->key || !e[i]->value.data)
      goto fail;
    memcpy(e[i]->value.data, m->items[i].value, m->items[i].value_len);
    e[i]->value.len = m->items[i].value_len;
    e[i]->has_value = 1;
  }
  *out = e;
  *n = m->n;
  return CLANCE_OK;
fail:
  cl_meta_pb_free(e, m->n);
  return err->code;
}

clance_status cl_meta_from_pb(Lance__File__StringBytesEntry *const *e, size_t n, cl_meta *out,
                              clance_error *err) {
  out->n = 0;
  out->items = NULL;
  for (size_t i = 0; i < n; i++) {
    clance_status st = cl_meta_set(out, cl_pb_str(e[i]->key), e[i]->value.data, e[i]->value.len, err);
    if (st) {
      cl_meta_free(out);
      return st;
    }
  }
  return CLANCE_OK;
}

/* ---- flatten ---- */

typedef struct flat_out {
  pb_field **v;
  size_t n, cap;
} flat_out;

static void free_pb_field(pb_field *f) {
  if (!f)
    return;
  free(f->name);
  free(f->logical_type);
  free(f->extension_name);
  cl_meta_pb_free(f->metadata, f->n_metadata);
  free(f);
}

void cl_fields_pb_free(pb_field **fields, size_t n) {
  for (size_t i = 0; i < n; i++)
    free_pb_field(fields[i]);
  free(fields);
}

static clance_status flatten(const cl_field *f, int32_t parent, flat_out *o, clance_error *err) {
  if (f->id < 0)
    return cl_err(err, CLANCE_EINTERNAL, "field \"%s\" has no id", f->name);
  if (o->n == o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 16;
    pb_field **v = realloc(o->v, cap * sizeof *v);
    if (!v)
      return cl_err_nomem(err, "fields");
    o->v = v;
    o->cap = cap;
  }
  pb_field *p = cl_malloc(sizeof *p, err);
  if (!p)
    return err->code;
  lance__file__field__init(p);
  o->v[o->n++] = p;
  cl_buf lt = CL_BUF_INIT;
  CL_TRY(cl_field_logical_type(f, &lt, err));
  if (cl_buf_cstr(&lt, err)) {
    cl_buf_free(&lt);
    return err->code;
  }
  p->logical_type = (char *)cl_buf_take(&lt);
  if (!(p->name = cl_strdup(f->name, err)))
    return err->code;
  /* proto3 semantics: default values are left out. */
  p->has_id = f->id != 0;
  p->id = f->id;
  p->has_parent_id = 1;
  p->parent_id = parent;
  p->has_nullable = f->nullable != 0;
  p->nullable = f->nullable != 0;
  Lance__File__FieldEncoding enc = field_encoding(f);
  p->has_encoding = enc != LANCE__FILE__FIELD_ENCODING__NONE;
  p->encoding = enc;
  CL_TRY(cl_meta_to_pb(&f->metadata, &p->metadata, &p->n_metadata, err));
  char ext[256];
  if (cl_meta_get(&f->metadata, "ARROW:extension:name", ext, sizeof ext) &&
      !(p->extension_name = cl_strdup(ext, err)))
    return err->code;
  if (f->type == CL_TYPE_FIXED_SIZE_LIST || f->type == CL_TYPE_DICTIONARY)
    return CLANCE_OK; /* their item type lives in the logical type string */
  for (size_t i = 0; i < f->n_children; i++)
    CL_TRY(flatten(&f->children[i], f->id, o, err));
  return CLANCE_OK;
}

clance_status cl_fields_to_pb(const cl_schema *s, pb_field ***out, size_t *n, clance_error *err) {
  flat_out o = {0};
  for (size_t i = 0; i < s->n_fields; i++) {
    if (flatten(&s->fields[i], -1, &o, err)) {
      cl_fields_pb_free(o.v, o.n);
      return err->code;
    }
  }
  *out = o.v;
  *n = o.n;
  return CLANCE_OK;
}

/* ---- unflatten ---- */

typedef struct tree_ctx {
  pb_field *const *pb;
  size_t n;
  size_t *first_child; /* index of first child, or n */
  size_t *next_sib;    /* next sibling index, or n */
  const char *what;
} tree_ctx;

static clance_status build(const tree_ctx *t, size_t i, cl_field *f, int depth, clance_error *err) {
  const pb_field *p = t->pb[i];
  memset(f, 0, sizeof *f);
  f->id = p->id;
  f->nullable = p->nullable;
  if (depth > 64)
    return cl_err(err, CLANCE_ECORRUPT, "%s: schema nests deeper than 64 levels", t->what);
  if (!(f->name = cl_strdup(cl_pb_str(p->name), err)))
    return err->code;
  if (cl_meta_from_pb(p->metadata, p->n_metadata, &f->metadata, err))
    return err->code;
  if (cl_field_set_logical_type(f, cl_pb_str(p->logical_type), err))
    return cl_err_ctx(err, "%s: field \"%s\" (id %d): ", t->what, f->name, (int)f->id);
  int nested = f->type == CL_TYPE_STRUCT || f->type == CL_TYPE_LIST || f->type == CL_TYPE_LARGE_LIST;
  size_t count = 0;
  for (size_t c = t->first_child[i]; c < t->n; c = t->next_sib[c])
    count++;
  if (!nested && count)
    return cl_err(err, CLANCE_ECORRUPT, "%s: field \"%s\" of type %s has child fields", t->what,
                  f->name, cl_pb_str(p->logical_type));
  if ((f->type == CL_TYPE_LIST || f->type == CL_TYPE_LARGE_LIST) && count != 1)
    return cl_err(err, CLANCE_ECORRUPT, "%s: list field \"%s\" has %zu child fields (needs 1)",
                  t->what, f->name, count);
  if (!nested)
    return CLANCE_OK;
  f->children = cl_calloc(count, sizeof *f->children, err);
  if (!f->children)
    return err->code;
  for (size_t c = t->first_child[i]; c < t->n; c = t->next_sib[c]) {
    f->n_children++;
    CL_TRY(build(t, c, &f->children[f->n_children - 1], depth + 1, err));
  }
  return CLANCE_OK;
}

/* Small open-addressing map from field id to index. */
static size_t find_slot(const int32_t *keys, const size_t *vals, size_t cap, int32_t id) {
  size_t h = ((uint32_t)id * 2654435761u) & (cap - 1);
  while (vals[h] != (size_t)-1 && keys[h] != id)
    h = (h + 1) & (cap - 1);
  return h;
}

clance_status cl_fields_from_pb(pb_field *const *fields, size_t n, const char *what, cl_schema *out,
                                clance_error *err) {
  memset(out, 0, sizeof *out);
  size_t cap = 16;
  while (cap < n * 2)
    cap *= 2;
  int32_t *keys = cl_calloc(cap, sizeof *keys, err);
  size_t *vals = cl_malloc(cap * sizeof *vals, err);
  size_t *first = cl_malloc((n + 1) * sizeof *first, err);
  size_t *last = cl_malloc((n + 1) * sizeof *last, err);
  size_t *next = cl_malloc((n + 1) * sizeof *next, err);
  size_t *tops = cl_malloc((n + 1) * sizeof *tops, err);
  clance_status st = CLANCE_OK;
  if (!keys || !vals || !first || !last || !next || !tops) {
    st = err->code;
    goto done;
  }
  memset(vals, 0xff, cap * sizeof *vals);
  size_t ntop = 0;
  for (size_t i = 0; i < n; i++) {
    first[i] = last[i] = next[i] = n;
    const pb_field *p = fields[i];
    if (p->id < 0) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: field \"%s\" has negative id %d", what,
                  cl_pb_str(p->name), (int)p->id);
      goto done;
    }
    size_t h = find_slot(keys, vals, cap, p->id);
    if (vals[h] != (size_t)-1) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: field id %d appears twice", what, (int)p->id);
      goto done;
    }
    keys[h] = p->id;
    vals[h] = i;
    if (p->parent_id == -1) {
      tops[ntop++] = i;
      continue;
    }
    size_t ph = find_slot(keys, vals, cap, p->parent_id);
    if (vals[ph] == (size_t)-1 || vals[ph] == i) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: field \"%s\" (id %d) names parent id %d which does "
                  "not precede it", what, cl_pb_str(p->name), (int)p->id, (int)p->parent_id);
      goto done;
    }
    size_t par = vals[ph];
    if (first[par] == n)
      first[par] = i;
    else
      next[last[par]] = i;
    last[par] = i;
  }
  if (ntop) {
    out->fields = cl_calloc(ntop, sizeof *out->fields, err);
    if (!out->fields) {
      st = err->code;
      goto done;
    }
  }
  tree_ctx t = {fields, n, first, next, what};
  for (size_t k = 0; k < ntop; k++) {
    out->n_fields = k + 1;
    if ((st = build(&t, tops[k], &out->fields[k], 0, err)))
      goto done;
  }
done:
  free(keys);
  free(vals);
  free(first);
  free(last);
  free(next);
  free(tops);
  if (st)
    cl_schema_free(out);
  return st;
}
