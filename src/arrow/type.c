#include "arrow/type.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Metadata                                                                   */
/* ------------------------------------------------------------------------ */

void cl_meta_free(cl_meta *m) {
  for (size_t i = 0; i < m->n; i++) {
    free(m->items[i].key);
    free(m->items[i].value);
  }
  free(m->items);
  m->items = NULL;
  m->n = 0;
}

clance_status cl_meta_set(cl_meta *m, const char *key, const void *value, size_t len,
                          clance_error *err) {
  uint8_t *v = cl_malloc(len + 1, err);
  if (!v)
    return err->code;
  if (len)
    memcpy(v, value, len);
  v[len] = 0;
  for (size_t i = 0; i < m->n; i++) {
    if (strcmp(m->items[i].key, key) == 0) {
      free(m->items[i].value);
      m->items[i].value = v;
      m->items[i].value_len = len;
      return CLANCE_OK;
    }
  }
  char *k = cl_strdup(key, err);
  cl_kv *items = k ? realloc(m->items, (m->n + 1) * sizeof *items) : NULL;
  if (!items) {
    free(k);
    free(v);
    return cl_err_nomem(err, "metadata");
  }
  m->items = items;
  m->items[m->n].key = k;
  m->items[m->n].value = v;
  m->items[m->n].value_len = len;
  m->n++;
  return CLANCE_OK;
}

clance_status cl_meta_copy(const cl_meta *src, cl_meta *dst, clance_error *err) {
  dst->n = 0;
  dst->items = NULL;
  for (size_t i = 0; i < src->n; i++) {
    clance_status st = cl_meta_set(dst, src->items[i].key, src->items[i].value,
                                   src->items[i].value_len, err);
    if (st) {
      cl_meta_free(dst);
      return st;
    }
  }
  return CLANCE_OK;
}

const char *cl_meta_get(const cl_meta *m, const char *key, char *out, size_t out_size) {
  for (size_t i = 0; i < m->n; i++) {
    if (strcmp(m->items[i].key, key) == 0) {
      size_t n = m->items[i].value_len < out_size - 1 ? m->items[i].value_len : out_size - 1;
      memcpy(out, m->items[i].value, n);
      out[n] = '\0';
      return out;
    }
  }
  return NULL;
}

static int32_t read_i32(const char *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

clance_status cl_meta_from_arrow(const char *blob, cl_meta *out, clance_error *err) {
  out->n = 0;
  out->items = NULL;
  if (!blob)
    return CLANCE_OK;
  /* The C Data Interface gives no total length; trust the producer's counts
   * but refuse negative ones. */
  int32_t n = read_i32(blob);
  const char *p = blob + 4;
  if (n < 0)
    return cl_err(err, CLANCE_EINVAL, "Arrow schema metadata has a negative entry count");
  for (int32_t i = 0; i < n; i++) {
    int32_t klen = read_i32(p);
    p += 4;
    if (klen < 0)
      goto bad;
    char *key = cl_strndup(p, (size_t)klen, err);
    if (!key)
      goto fail;
    p += klen;
    int32_t vlen = read_i32(p);
    p += 4;
    if (vlen < 0) {
      free(key);
      goto bad;
    }
    clance_status st = cl_meta_set(out, key, p, (size_t)vlen, err);
    free(key);
    if (st)
      goto fail;
    p += vlen;
  }
  return CLANCE_OK;
bad:
  cl_err(err, CLANCE_EINVAL, "Arrow schema metadata has a negative length");
fail:
  cl_meta_free(out);
  return err->code;
}

clance_status cl_meta_to_arrow(const cl_meta *m, char **out_blob, clance_error *err) {
  *out_blob = NULL;
  if (m->n == 0)
    return CLANCE_OK;
  cl_buf b = CL_BUF_INIT;
  int32_t n = (int32_t)m->n;
  clance_status st = cl_buf_append(&b, &n, 4, err);
  for (size_t i = 0; st == CLANCE_OK && i < m->n; i++) {
    int32_t kl = (int32_t)strlen(m->items[i].key), vl = (int32_t)m->items[i].value_len;
    st = cl_buf_append(&b, &kl, 4, err);
    if (!st)
      st = cl_buf_append(&b, m->items[i].key, (size_t)kl, err);
    if (!st)
      st = cl_buf_append(&b, &vl, 4, err);
    if (!st)
      st = cl_buf_append(&b, m->items[i].value, (size_t)vl, err);
  }
  if (st) {
    cl_buf_free(&b);
    return st;
  }
  *out_blob = (char *)cl_buf_take(&b);
  return CLANCE_OK;
}

/* ------------------------------------------------------------------------ */
/* Fields and schemas                                                         */
/* ------------------------------------------------------------------------ */

void cl_field_free(cl_field *f) {
  if (!f)
    return;
  free(f->name);
  free(f->tz);
  for (size_t i = 0; i < f->n_children; i++)
    cl_field_free(&f->children[i]);
  free(f->children);
  cl_meta_free(&f->metadata);
  memset(f, 0, sizeof *f);
}

static void field_init(cl_field *f) {
  memset(f, 0, sizeof *f);
  f->id = -1;
  f->nullable = 1;
}

clance_status cl_field_copy(const cl_field *src, cl_field *dst, clance_error *err) {
  *dst = *src;
  dst->name = NULL;
  dst->tz = NULL;
  dst->children = NULL;
  dst->n_children = 0;
  dst->metadata.n = 0;
  dst->metadata.items = NULL;
  if (src->name && !(dst->name = cl_strdup(src->name, err)))
    goto fail;
  if (src->tz && !(dst->tz = cl_strdup(src->tz, err)))
    goto fail;
  if (cl_meta_copy(&src->metadata, &dst->metadata, err))
    goto fail;
  if (src->n_children) {
    dst->children = cl_calloc(src->n_children, sizeof *dst->children, err);
    if (!dst->children)
      goto fail;
    for (size_t i = 0; i < src->n_children; i++) {
      if (cl_field_copy(&src->children[i], &dst->children[i], err))
        goto fail;
      dst->n_children = i + 1;
    }
  }
  return CLANCE_OK;
fail:
  cl_field_free(dst);
  return err->code;
}

void cl_schema_free(cl_schema *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->n_fields; i++)
    cl_field_free(&s->fields[i]);
  free(s->fields);
  cl_meta_free(&s->metadata);
  memset(s, 0, sizeof *s);
}

clance_status cl_schema_copy(const cl_schema *src, cl_schema *dst, clance_error *err) {
  memset(dst, 0, sizeof *dst);
  if (src->n_fields) {
    dst->fields = cl_calloc(src->n_fields, sizeof *dst->fields, err);
    if (!dst->fields)
      return err->code;
  }
  for (size_t i = 0; i < src->n_fields; i++) {
    if (cl_field_copy(&src->fields[i], &dst->fields[i], err)) {
      cl_schema_free(dst);
      return err->code;
    }
    dst->n_fields = i + 1;
  }
  if (cl_meta_copy(&src->metadata, &dst->metadata, err)) {
    cl_schema_free(dst);
    return err->code;
  }
  return CLANCE_OK;
}

static void assign_ids(cl_field *f, int32_t *next) {
  f->id = (*next)++;
  /* FSL and dictionary value types are part of the parent's logical type in
   * Lance and get no field id of their own. */
  if (f->type == CL_TYPE_FIXED_SIZE_LIST || f->type == CL_TYPE_DICTIONARY)
    return;
  for (size_t i = 0; i < f->n_children; i++)
    assign_ids(&f->children[i], next);
}

void cl_schema_assign_ids(cl_schema *s, int32_t *next) {
  for (size_t i = 0; i < s->n_fields; i++)
    assign_ids(&s->fields[i], next);
}

static int32_t field_max_id(const cl_field *f) {
  int32_t m = f->id;
  if (f->type == CL_TYPE_FIXED_SIZE_LIST || f->type == CL_TYPE_DICTIONARY)
    return m;
  for (size_t i = 0; i < f->n_children; i++) {
    int32_t c = field_max_id(&f->children[i]);
    if (c > m)
      m = c;
  }
  return m;
}

int32_t cl_schema_max_id(const cl_schema *s) {
  int32_t m = -1;
  for (size_t i = 0; i < s->n_fields; i++) {
    int32_t c = field_max_id(&s->fields[i]);
    if (c > m)
      m = c;
  }
  return m;
}

static const cl_field *find_id(const cl_field *f, int32_t id) {
  if (f->id == id)
    return f;
  if (f->type == CL_TYPE_FIXED_SIZE_LIST || f->type == CL_TYPE_DICTIONARY)
    return NULL;
  for (size_t i = 0; i < f->n_children; i++) {
    const cl_field *r = find_id(&f->children[i], id);
    if (r)
      return r;
  }
  return NULL;
}

const cl_field *cl_schema_find_id(const cl_schema *s, int32_t id) {
  for (size_t i = 0; i < s->n_fields; i++) {
    const cl_field *r = find_id(&s->fields[i], id);
    if (r)
      return r;
  }
  return NULL;
}

int cl_schema_index(const cl_schema *s, const char *name) {
  for (size_t i = 0; i < s->n_fields; i++)
    if (strcmp(s->fields[i].name, name) == 0)
      return (int)i;
  return -1;
}

/* ------------------------------------------------------------------------ */
/* Type properties                                                            */
/* ------------------------------------------------------------------------ */

static const char *const type_names[] = {
    "null",    "bool",    "int8",     "uint8",    "int16",     "uint16",
    "int32",   "uint32",  "int64",    "uint64",   "float16",   "float32",
    "float64", "decimal128", "decimal256", "date32", "date64", "time32",
    "time64",  "timestamp", "duration", "fixed_size_binary", "string", "large_string",
    "binary",  "large_binary", "fixed_size_list", "list", "large_list", "struct",
    "dictionary"};

const char *cl_type_name(cl_type_id t) {
  return (size_t)t < sizeof type_names / sizeof *type_names ? type_names[t] : "?";
}

int cl_type_is_binary_like(cl_type_id t) {
  return t == CL_TYPE_UTF8 || t == CL_TYPE_LARGE_UTF8 || t == CL_TYPE_BINARY ||
         t == CL_TYPE_LARGE_BINARY;
}

int cl_type_is_large(cl_type_id t) {
  return t == CL_TYPE_LARGE_UTF8 || t == CL_TYPE_LARGE_BINARY || t == CL_TYPE_LARGE_LIST;
}

int cl_type_is_integer(cl_type_id t) { return t >= CL_TYPE_INT8 && t <= CL_TYPE_UINT64; }

int cl_field_is_packed(const cl_field *f) {
  if (f->type != CL_TYPE_STRUCT || f->n_children == 0)
    return 0;
  for (size_t i = 0; i < f->metadata.n; i++) {
    const cl_kv *kv = &f->metadata.items[i];
    if (strcmp(kv->key, "packed") != 0 && strcmp(kv->key, "lance-encoding:packed") != 0)
      continue;
    int yes = kv->value_len == 4;
    for (size_t k = 0; yes && k < 4; k++)
      yes = (kv->value[k] | 0x20) == (uint8_t)"true"[k];
    if (yes)
      return 1;
  }
  return 0;
}

uint32_t cl_type_bits(const cl_field *f) {
  switch (f->type) {
  case CL_TYPE_BOOL: return 1;
  case CL_TYPE_INT8:
  case CL_TYPE_UINT8: return 8;
  case CL_TYPE_INT16:
  case CL_TYPE_UINT16:
  case CL_TYPE_FLOAT16: return 16;
  case CL_TYPE_INT32:
  case CL_TYPE_UINT32:
  case CL_TYPE_FLOAT32:
  case CL_TYPE_DATE32:
  case CL_TYPE_TIME32: return 32;
  case CL_TYPE_INT64:
  case CL_TYPE_UINT64:
  case CL_TYPE_FLOAT64:
  case CL_TYPE_DATE64:
  case CL_TYPE_TIME64:
  case CL_TYPE_TIMESTAMP:
  case CL_TYPE_DURATION: return 64;
  case CL_TYPE_DECIMAL128: return 128;
  case CL_TYPE_DECIMAL256: return 256;
  case CL_TYPE_FIXED_SIZE_BINARY: return 8u * (uint32_t)f->size;
  case CL_TYPE_FIXED_SIZE_LIST:
    return f->n_children ? (uint32_t)f->size * cl_type_bits(&f->children[0]) : 0;
  default: return 0;
  }
}

int cl_field_same_type(const cl_field *a, const cl_field *b, char *why, size_t why_size) {
  char ta[128] = "", tb[128] = "";
  int same = a->type == b->type && a->size == b->size && a->scale == b->scale &&
             a->unit == b->unit && a->index_type == b->index_type &&
             ((!a->tz && !b->tz) || (a->tz && b->tz && strcmp(a->tz, b->tz) == 0)) &&
             a->n_children == b->n_children;
  for (size_t i = 0; same && i < a->n_children; i++) {
    same = cl_field_same_type(&a->children[i], &b->children[i], NULL, 0);
    if (same && a->type == CL_TYPE_STRUCT)
      same = strcmp(a->children[i].name, b->children[i].name) == 0;
  }
  if (!same && why) {
    clance_error e;
    cl_buf ba = CL_BUF_INIT, bb = CL_BUF_INIT;
    if (!cl_field_type_spec(a, &ba, &e) && !cl_buf_cstr(&ba, &e))
      snprintf(ta, sizeof ta, "%s", (char *)ba.data);
    if (!cl_field_type_spec(b, &bb, &e) && !cl_buf_cstr(&bb, &e))
      snprintf(tb, sizeof tb, "%s", (char *)bb.data);
    cl_buf_free(&ba);
    cl_buf_free(&bb);
    snprintf(why, why_size, "%s vs %s", ta, tb);
  }
  return same;
}

/* ------------------------------------------------------------------------ */
/* Arrow format strings                                                       */
/* ------------------------------------------------------------------------ */

static int parse_int(const char *s, char **end, long lo, long hi, long *out) {
  errno = 0;
  long v = strtol(s, end, 10);
  if (errno || *end == s || v < lo || v > hi)
    return 0;
  *out = v;
  return 1;
}

static clance_status type_from_format(const char *fmt, cl_field *f, clance_error *err) {
  static const struct {
    const char *fmt;
    cl_type_id t;
    char unit;
  } simple[] = {
      {"n", CL_TYPE_NULL, 0},       {"b", CL_TYPE_BOOL, 0},         {"c", CL_TYPE_INT8, 0},
      {"C", CL_TYPE_UINT8, 0},      {"s", CL_TYPE_INT16, 0},        {"S", CL_TYPE_UINT16, 0},
      {"i", CL_TYPE_INT32, 0},      {"I", CL_TYPE_UINT32, 0},       {"l", CL_TYPE_INT64, 0},
      {"L", CL_TYPE_UINT64, 0},     {"e", CL_TYPE_FLOAT16, 0},      {"f", CL_TYPE_FLOAT32, 0},
      {"g", CL_TYPE_FLOAT64, 0},    {"u", CL_TYPE_UTF8, 0},         {"U", CL_TYPE_LARGE_UTF8, 0},
      {"z", CL_TYPE_BINARY, 0},     {"Z", CL_TYPE_LARGE_BINARY, 0}, {"tdD", CL_TYPE_DATE32, 0},
      {"tdm", CL_TYPE_DATE64, 0},   {"tts", CL_TYPE_TIME32, 's'},   {"ttm", CL_TYPE_TIME32, 'm'},
      {"ttu", CL_TYPE_TIME64, 'u'}, {"ttn", CL_TYPE_TIME64, 'n'},   {"tDs", CL_TYPE_DURATION, 's'},
      {"tDm", CL_TYPE_DURATION, 'm'}, {"tDu", CL_TYPE_DURATION, 'u'}, {"tDn", CL_TYPE_DURATION, 'n'},
      {"+l", CL_TYPE_LIST, 0},      {"+L", CL_TYPE_LARGE_LIST, 0},  {"+s", CL_TYPE_STRUCT, 0},
  };
  for (size_t i = 0; i < sizeof simple / sizeof *simple; i++) {
    if (strcmp(fmt, simple[i].fmt) == 0) {
      f->type = simple[i].t;
      f->unit = simple[i].unit;
      return CLANCE_OK;
    }
  }
  char *end;
  long v;
  if (strncmp(fmt, "ts", 2) == 0 && fmt[2] && strchr("smun", fmt[2]) && fmt[3] == ':') {
    f->type = CL_TYPE_TIMESTAMP;
    f->unit = fmt[2];
    if (fmt[4] && !(f->tz = cl_strdup(fmt + 4, err)))
      return err->code;
    return CLANCE_OK;
  }
  if (strncmp(fmt, "w:", 2) == 0 && parse_int(fmt + 2, &end, 1, INT32_MAX, &v) && !*end) {
    f->type = CL_TYPE_FIXED_SIZE_BINARY;
    f->size = (int32_t)v;
    return CLANCE_OK;
  }
  if (strncmp(fmt, "+w:", 3) == 0 && parse_int(fmt + 3, &end, 1, INT32_MAX, &v) && !*end) {
    f->type = CL_TYPE_FIXED_SIZE_LIST;
    f->size = (int32_t)v;
    return CLANCE_OK;
  }
  if (strncmp(fmt, "d:", 2) == 0) {
    long p, s, bits = 128;
    if (parse_int(fmt + 2, &end, 1, 76, &p) && *end == ',' &&
        parse_int(end + 1, &end, -76, 76, &s) &&
        (!*end || (*end == ',' && parse_int(end + 1, &end, 32, 256, &bits) && !*end)) &&
        (bits == 128 || bits == 256)) {
      f->type = bits == 128 ? CL_TYPE_DECIMAL128 : CL_TYPE_DECIMAL256;
      f->size = (int32_t)p;
      f->scale = (int32_t)s;
      return CLANCE_OK;
    }
  }
  return cl_err(err, CLANCE_EUNSUPPORTED, "unsupported Arrow format string \"%s\"", fmt);
}

clance_status cl_field_from_arrow(const struct ArrowSchema *s, cl_field *out, clance_error *err) {
  field_init(out);
  if (!s || !s->release || !s->format)
    return cl_err(err, CLANCE_EINVAL, "Arrow schema is released or has no format");
  if (s->name && !(out->name = cl_strdup(s->name, err)))
    goto fail;
  if (!s->name && !(out->name = cl_strdup("", err)))
    goto fail;
  out->nullable = (s->flags & ARROW_FLAG_NULLABLE) != 0;
  if (cl_meta_from_arrow(s->metadata, &out->metadata, err))
    goto fail;
  if (s->dictionary) {
    /* The format string holds the index type; the value type is the dictionary. */
    cl_field idx;
    field_init(&idx);
    if (type_from_format(s->format, &idx, err)) {
      cl_field_free(&idx);
      goto fail;
    }
    cl_type_id index_type = idx.type;
    cl_field_free(&idx);
    if (!cl_type_is_integer(index_type)) {
      cl_err(err, CLANCE_EINVAL, "dictionary index type \"%s\" is not an integer", s->format);
      goto fail;
    }
    out->type = CL_TYPE_DICTIONARY;
    out->index_type = index_type;
    out->children = cl_calloc(1, sizeof *out->children, err);
    if (!out->children)
      goto fail;
    out->n_children = 1;
    if (cl_field_from_arrow(s->dictionary, &out->children[0], err))
      goto fail;
    return CLANCE_OK;
  }
  if (type_from_format(s->format, out, err))
    goto fail;
  int want = -1; /* expected number of children */
  if (out->type == CL_TYPE_FIXED_SIZE_LIST || out->type == CL_TYPE_LIST ||
      out->type == CL_TYPE_LARGE_LIST)
    want = 1;
  if (out->type != CL_TYPE_STRUCT && want < 0)
    want = 0;
  if (s->n_children < 0 || (want >= 0 && s->n_children != want) ||
      (s->n_children > 0 && !s->children)) {
    cl_err(err, CLANCE_EINVAL, "Arrow field \"%s\" (%s) has %lld children", out->name, s->format,
           (long long)s->n_children);
    goto fail;
  }
  if (s->n_children) {
    out->children = cl_calloc((size_t)s->n_children, sizeof *out->children, err);
    if (!out->children)
      goto fail;
    for (int64_t i = 0; i < s->n_children; i++) {
      out->n_children = (size_t)i + 1;
      if (cl_field_from_arrow(s->children[i], &out->children[i], err))
        goto fail;
    }
  }
  return CLANCE_OK;
fail:
  cl_field_free(out);
  return err->code;
}

clance_status cl_schema_from_arrow(const struct ArrowSchema *s, cl_schema *out, clance_error *err) {
  memset(out, 0, sizeof *out);
  cl_field root;
  CL_TRY(cl_field_from_arrow(s, &root, err));
  if (root.type != CL_TYPE_STRUCT) {
    cl_field_free(&root);
    return cl_err(err, CLANCE_EINVAL, "an Arrow schema must be a struct (\"+s\"), got \"%s\"",
                  s->format);
  }
  out->fields = root.children;
  out->n_fields = root.n_children;
  out->metadata = root.metadata;
  root.children = NULL;
  root.n_children = 0;
  root.metadata.n = 0;
  root.metadata.items = NULL;
  cl_field_free(&root);
  for (size_t i = 0; i < out->n_fields; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp(out->fields[i].name, out->fields[j].name) == 0) {
        cl_err(err, CLANCE_EINVAL, "duplicate column name \"%s\"", out->fields[i].name);
        cl_schema_free(out);
        return err->code;
      }
  return CLANCE_OK;
}

static clance_status format_of(const cl_field *f, cl_type_id t, char *buf, size_t n,
                               clance_error *err) {
  const char *s = NULL;
  switch (t) {
  case CL_TYPE_NULL: s = "n"; break;
  case CL_TYPE_BOOL: s = "b"; break;
  case CL_TYPE_INT8: s = "c"; break;
  case CL_TYPE_UINT8: s = "C"; break;
  case CL_TYPE_INT16: s = "s"; break;
  case CL_TYPE_UINT16: s = "S"; break;
  case CL_TYPE_INT32: s = "i"; break;
  case CL_TYPE_UINT32: s = "I"; break;
  case CL_TYPE_INT64: s = "l"; break;
  case CL_TYPE_UINT64: s = "L"; break;
  case CL_TYPE_FLOAT16: s = "e"; break;
  case CL_TYPE_FLOAT32: s = "f"; break;
  case CL_TYPE_FLOAT64: s = "g"; break;
  case CL_TYPE_UTF8: s = "u"; break;
  case CL_TYPE_LARGE_UTF8: s = "U"; break;
  case CL_TYPE_BINARY: s = "z"; break;
  case CL_TYPE_LARGE_BINARY: s = "Z"; break;
  case CL_TYPE_DATE32: s = "tdD"; break;
  case CL_TYPE_DATE64: s = "tdm"; break;
  case CL_TYPE_LIST: s = "+l"; break;
  case CL_TYPE_LARGE_LIST: s = "+L"; break;
  case CL_TYPE_STRUCT: s = "+s"; break;
  case CL_TYPE_TIME32:
  case CL_TYPE_TIME64: snprintf(buf, n, "tt%c", f->unit); return CLANCE_OK;
  case CL_TYPE_DURATION: snprintf(buf, n, "tD%c", f->unit); return CLANCE_OK;
  case CL_TYPE_TIMESTAMP:
    snprintf(buf, n, "ts%c:%s", f->unit, f->tz ? f->tz : "");
    return CLANCE_OK;
  case CL_TYPE_FIXED_SIZE_BINARY: snprintf(buf, n, "w:%d", (int)f->size); return CLANCE_OK;
  case CL_TYPE_FIXED_SIZE_LIST: snprintf(buf, n, "+w:%d", (int)f->size); return CLANCE_OK;
  case CL_TYPE_DECIMAL128: snprintf(buf, n, "d:%d,%d", (int)f->size, (int)f->scale); return CLANCE_OK;
  case CL_TYPE_DECIMAL256:
    snprintf(buf, n, "d:%d,%d,256", (int)f->size, (int)f->scale);
    return CLANCE_OK;
  case CL_TYPE_DICTIONARY: return format_of(f, f->index_type, buf, n, err);
  }
  if (!s)
    return cl_err(err, CLANCE_EINTERNAL, "no Arrow format for type %d", (int)t);
  snprintf(buf, n, "%s", s);
  return CLANCE_OK;
}

/* Private data of exported schemas: one allocation per node. */
typedef struct export_schema {
  char *format;
  char *name;
  char *metadata;
  struct ArrowSchema **child_ptrs;
  struct ArrowSchema *children;
  struct ArrowSchema *dictionary;
} export_schema;

static void release_schema(struct ArrowSchema *s) {
  if (!s || !s->release)
    return;
  export_schema *p = s->private_data;
  if (p) {
    for (int64_t i = 0; i < s->n_children; i++)
      if (p->children[i].release)
        p->children[i].release(&p->children[i]);
    if (p->dictionary && p->dictionary->release)
      p->dictionary->release(p->dictionary);
    free(p->dictionary);
    free(p->children);
    free(p->child_ptrs);
    free(p->format);
    free(p->name);
    free(p->metadata);
    free(p);
  }
  s->release = NULL;
}

static clance_status export_node(const char *name, const cl_field *f, int is_dict_value,
                                 const cl_field *members, size_t n_members, const cl_meta *meta,
                                 int nullable, struct ArrowSchema *out, clance_error *err) {
  memset(out, 0, sizeof *out);
  export_schema *p = cl_calloc(1, sizeof *p, err);
  if (!p)
    return err->code;
  out->private_data = p;
  out->release = release_schema;
  char fmt[96];
  if (f) {
    if (format_of(f, is_dict_value ? f->type : f->type, fmt, sizeof fmt, err))
      goto fail;
  } else {
    snprintf(fmt, sizeof fmt, "+s");
  }
  if (!(p->format = cl_strdup(fmt, err)) || !(p->name = cl_strdup(name ? name : "", err)))
    goto fail;
  if (cl_meta_to_arrow(meta, &p->metadata, err))
    goto fail;
  out->format = p->format;
  out->name = p->name;
  out->metadata = p->metadata;
  out->flags = nullable ? ARROW_FLAG_NULLABLE : 0;
  const cl_field *kids = members;
  size_t nk = n_members;
  if (f && f->type == CL_TYPE_DICTIONARY) {
    kids = NULL;
    nk = 0;
    p->dictionary = cl_calloc(1, sizeof *p->dictionary, err);
    if (!p->dictionary)
      goto fail;
    out->dictionary = p->dictionary;
    const cl_field *v = &f->children[0];
    if (export_node(v->name, v, 1, v->children, v->n_children, &v->metadata, v->nullable,
                    p->dictionary, err))
      goto fail;
  }
  if (nk) {
    p->children = cl_calloc(nk, sizeof *p->children, err);
    p->child_ptrs = cl_calloc(nk, sizeof *p->child_ptrs, err);
    if (!p->children || !p->child_ptrs)
      goto fail;
    out->children = p->child_ptrs;
    for (size_t i = 0; i < nk; i++) {
      const cl_field *c = &kids[i];
      p->child_ptrs[i] = &p->children[i];
      out->n_children = (int64_t)i + 1;
      if (export_node(c->name, c, 0, c->children, c->n_children, &c->metadata, c->nullable,
                      &p->children[i], err))
        goto fail;
    }
  }
  return CLANCE_OK;
fail:
  release_schema(out);
  return err->code;
}

clance_status cl_field_to_arrow(const cl_field *f, struct ArrowSchema *out, clance_error *err) {
  return export_node(f->name, f, 0, f->children, f->n_children, &f->metadata, f->nullable, out,
                     err);
}

clance_status cl_schema_to_arrow(const cl_schema *s, struct ArrowSchema *out, clance_error *err) {
  return export_node("", NULL, 0, s->fields, s->n_fields, &s->metadata, 0, out, err);
}

/* ------------------------------------------------------------------------ */
/* Lance logical types                                                        */
/* ------------------------------------------------------------------------ */

static const char *unit_long(char u) {
  switch (u) {
  case 's': return "s";
  case 'm': return "ms";
  case 'u': return "us";
  case 'n': return "ns";
  }
  return "?";
}

static char unit_short(const char *s, size_t n) {
  if (n == 1 && s[0] == 's')
    return 's';
  if (n == 2 && s[1] == 's' && strchr("mun", s[0]))
    return s[0];
  return 0;
}

clance_status cl_field_logical_type(const cl_field *f, cl_buf *out, clance_error *err) {
  switch (f->type) {
  case CL_TYPE_NULL: return cl_buf_printf(out, err, "null");
  case CL_TYPE_BOOL: return cl_buf_printf(out, err, "bool");
  case CL_TYPE_INT8: return cl_buf_printf(out, err, "int8");
  case CL_TYPE_UINT8: return cl_buf_printf(out, err, "uint8");
  case CL_TYPE_INT16: return cl_buf_printf(out, err, "int16");
  case CL_TYPE_UINT16: return cl_buf_printf(out, err, "uint16");
  case CL_TYPE_INT32: return cl_buf_printf(out, err, "int32");
  case CL_TYPE_UINT32: return cl_buf_printf(out, err, "uint32");
  case CL_TYPE_INT64: return cl_buf_printf(out, err, "int64");
  case CL_TYPE_UINT64: return cl_buf_printf(out, err, "uint64");
  case CL_TYPE_FLOAT16: return cl_buf_printf(out, err, "halffloat");
  case CL_TYPE_FLOAT32: return cl_buf_printf(out, err, "float");
  case CL_TYPE_FLOAT64: return cl_buf_printf(out, err, "double");
  case CL_TYPE_DECIMAL128:
    return cl_buf_printf(out, err, "decimal:128:%d:%d", (int)f->size, (int)f->scale);
  case CL_TYPE_DECIMAL256:
    return cl_buf_printf(out, err, "decimal:256:%d:%d", (int)f->size, (int)f->scale);
  case CL_TYPE_UTF8: return cl_buf_printf(out, err, "string");
  case CL_TYPE_LARGE_UTF8: return cl_buf_printf(out, err, "large_string");
  case CL_TYPE_BINARY: return cl_buf_printf(out, err, "binary");
  case CL_TYPE_LARGE_BINARY: return cl_buf_printf(out, err, "large_binary");
  case CL_TYPE_DATE32: return cl_buf_printf(out, err, "date32:day");
  case CL_TYPE_DATE64: return cl_buf_printf(out, err, "date64:ms");
  case CL_TYPE_TIME32: return cl_buf_printf(out, err, "time32:%s", unit_long(f->unit));
  case CL_TYPE_TIME64: return cl_buf_printf(out, err, "time64:%s", unit_long(f->unit));
  case CL_TYPE_DURATION: return cl_buf_printf(out, err, "duration:%s", unit_long(f->unit));
  case CL_TYPE_TIMESTAMP:
    if (f->tz && strchr(f->tz, ':'))
      return cl_err(err, CLANCE_EUNSUPPORTED,
                    "time zone \"%s\" of column \"%s\" contains ':' which Lance cannot store; "
                    "use a named zone such as UTC",
                    f->tz, f->name);
    return cl_buf_printf(out, err, "timestamp:%s:%s", unit_long(f->unit),
                         f->tz && *f->tz ? f->tz : "-");
  case CL_TYPE_FIXED_SIZE_BINARY: return cl_buf_printf(out, err, "fixed_size_binary:%d", (int)f->size);
  case CL_TYPE_FIXED_SIZE_LIST:
    if (f->n_children != 1)
      return cl_err(err, CLANCE_EINVAL, "fixed-size list field \"%s\" has %zu child fields (needs 1)",
                    f->name ? f->name : "", f->n_children);
    CL_TRY(cl_buf_printf(out, err, "fixed_size_list:"));
    CL_TRY(cl_field_logical_type(&f->children[0], out, err));
    return cl_buf_printf(out, err, ":%d", (int)f->size);
  case CL_TYPE_LIST:
  case CL_TYPE_LARGE_LIST:
    if (f->n_children != 1)
      return cl_err(err, CLANCE_EINVAL, "list field \"%s\" has %zu child fields (needs 1)",
                    f->name ? f->name : "", f->n_children);
    return cl_buf_printf(out, err, "%s%s", f->type == CL_TYPE_LIST ? "list" : "large_list",
                         f->children[0].type == CL_TYPE_STRUCT ? ".struct" : "");
  case CL_TYPE_STRUCT: return cl_buf_printf(out, err, "struct");
  case CL_TYPE_DICTIONARY: {
    CL_TRY(cl_buf_printf(out, err, "dict:"));
    CL_TRY(cl_field_logical_type(&f->children[0], out, err));
    cl_field idx = {0};
    idx.type = f->index_type;
    CL_TRY(cl_buf_printf(out, err, ":"));
    CL_TRY(cl_field_logical_type(&idx, out, err));
    return cl_buf_printf(out, err, ":false");
  }
  }
  return cl_err(err, CLANCE_EINTERNAL, "no logical type for type %d", (int)f->type);
}

static clance_status add_child(cl_field *f, const char *name, cl_field **out, clance_error *err) {
  cl_field *c = realloc(f->children, (f->n_children + 1) * sizeof *c);
  if (!c)
    return cl_err_nomem(err, "field");
  f->children = c;
  field_init(&c[f->n_children]);
  if (!(c[f->n_children].name = cl_strdup(name, err)))
    return err->code;
  *out = &c[f->n_children++];
  return CLANCE_OK;
}

clance_status cl_field_set_logical_type(cl_field *f, const char *lt, clance_error *err) {
  static const struct {
    const char *s;
    cl_type_id t;
  } simple[] = {
      {"null", CL_TYPE_NULL},        {"bool", CL_TYPE_BOOL},       {"int8", CL_TYPE_INT8},
      {"uint8", CL_TYPE_UINT8},      {"int16", CL_TYPE_INT16},     {"uint16", CL_TYPE_UINT16},
      {"int32", CL_TYPE_INT32},      {"uint32", CL_TYPE_UINT32},   {"int64", CL_TYPE_INT64},
      {"uint64", CL_TYPE_UINT64},    {"halffloat", CL_TYPE_FLOAT16}, {"float", CL_TYPE_FLOAT32},
      {"double", CL_TYPE_FLOAT64},   {"string", CL_TYPE_UTF8},     {"large_string", CL_TYPE_LARGE_UTF8},
      {"binary", CL_TYPE_BINARY},    {"large_binary", CL_TYPE_LARGE_BINARY},
      {"date32:day", CL_TYPE_DATE32}, {"date64:ms", CL_TYPE_DATE64}, {"struct", CL_TYPE_STRUCT},
      {"list", CL_TYPE_LIST},        {"list.struct", CL_TYPE_LIST}, {"large_list", CL_TYPE_LARGE_LIST},
      {"large_list.struct", CL_TYPE_LARGE_LIST}, {"json", CL_TYPE_LARGE_BINARY},
  };
  for (size_t i = 0; i < sizeof simple / sizeof *simple; i++) {
    if (strcmp(lt, simple[i].s) == 0) {
      f->type = simple[i].t;
      return CLANCE_OK;
    }
  }
  size_t n = strlen(lt);
  const char *colon;
  char *end;
  long v;
  if (strncmp(lt, "time32:", 7) == 0 || strncmp(lt, "time64:", 7) == 0 ||
      strncmp(lt, "duration:", 9) == 0) {
    const char *u = strchr(lt, ':') + 1;
    char c = unit_short(u, strlen(u));
    if (c) {
      f->type = lt[0] == 'd' ? CL_TYPE_DURATION : lt[4] == '3' ? CL_TYPE_TIME32 : CL_TYPE_TIME64;
      f->unit = c;
      return CLANCE_OK;
    }
  } else if (strncmp(lt, "timestamp:", 10) == 0 && (colon = strchr(lt + 10, ':'))) {
    char c = unit_short(lt + 10, (size_t)(colon - (lt + 10)));
    if (c) {
      f->type = CL_TYPE_TIMESTAMP;
      f->unit = c;
      if (strcmp(colon + 1, "-") != 0 && !(f->tz = cl_strdup(colon + 1, err)))
        return err->code;
      return CLANCE_OK;
    }
  } else if (strncmp(lt, "fixed_size_binary:", 18) == 0 &&
             parse_int(lt + 18, &end, 1, INT32_MAX, &v) && !*end) {
    f->type = CL_TYPE_FIXED_SIZE_BINARY;
    f->size = (int32_t)v;
    return CLANCE_OK;
  } else if (strncmp(lt, "decimal:", 8) == 0) {
    long bits, p, s;
    if (parse_int(lt + 8, &end, 128, 256, &bits) && *end == ':' &&
        parse_int(end + 1, &end, 1, 76, &p) && *end == ':' &&
        parse_int(end + 1, &end, -76, 76, &s) && !*end && (bits == 128 || bits == 256)) {
      f->type = bits == 128 ? CL_TYPE_DECIMAL128 : CL_TYPE_DECIMAL256;
      f->size = (int32_t)p;
      f->scale = (int32_t)s;
      return CLANCE_OK;
    }
  } else if (strncmp(lt, "fixed_size_list:", 16) == 0 && (colon = strrchr(lt, ':')) > lt + 16 &&
             parse_int(colon + 1, &end, 1, INT32_MAX, &v) && !*end) {
    /* The item type is everything between the prefix and the last ':'. */
    char *item_lt = cl_strndup(lt + 16, (size_t)(colon - (lt + 16)), err);
    if (!item_lt)
      return err->code;
    f->type = CL_TYPE_FIXED_SIZE_LIST;
    f->size = (int32_t)v;
    cl_field *item;
    clance_status st = add_child(f, "item", &item, err);
    if (!st && strcmp(item_lt, "lance.bfloat16") == 0) {
      item->type = CL_TYPE_FIXED_SIZE_BINARY;
      item->size = 2;
      st = cl_meta_set(&item->metadata, "ARROW:extension:name", "lance.bfloat16", 14, err);
    } else if (!st) {
      st = cl_field_set_logical_type(item, item_lt, err);
    }
    free(item_lt);
    return st;
  } else if (strncmp(lt, "dict:", 5) == 0 && n > 5) {
    /* dict:<value>:<key>:<ordered> */
    const char *last = strrchr(lt, ':');
    const char *mid = NULL;
    for (const char *p = last - 1; p > lt + 4; p--)
      if (*p == ':') {
        mid = p;
        break;
      }
    if (mid && mid > lt + 5) {
      char *key_lt = cl_strndup(mid + 1, (size_t)(last - mid - 1), err);
      char *val_lt = key_lt ? cl_strndup(lt + 5, (size_t)(mid - (lt + 5)), err) : NULL;
      if (!val_lt) {
        free(key_lt);
        return err->code;
      }
      cl_field key;
      field_init(&key);
      clance_status st = cl_field_set_logical_type(&key, key_lt, err);
      if (!st && !cl_type_is_integer(key.type))
        st = cl_err(err, CLANCE_ECORRUPT, "dictionary key type \"%s\" is not an integer", key_lt);
      cl_field *value;
      if (!st) {
        f->type = CL_TYPE_DICTIONARY;
        f->index_type = key.type;
        st = add_child(f, "value", &value, err);
      }
      if (!st)
        st = cl_field_set_logical_type(value, val_lt, err);
      cl_field_free(&key);
      free(key_lt);
      free(val_lt);
      return st;
    }
  }
  return cl_err(err, CLANCE_EUNSUPPORTED, "unknown Lance logical type \"%s\"", lt);
}

/* ------------------------------------------------------------------------ */
/* Compact spec language                                                      */
/* ------------------------------------------------------------------------ */

typedef struct spec_parser {
  const char *s;
  size_t pos;
  const char *whole;
} spec_parser;

static void sp_ws(spec_parser *p) {
  while (p->s[p->pos] && isspace((unsigned char)p->s[p->pos]))
    p->pos++;
}

static int sp_ident(spec_parser *p, char *out, size_t n) {
  sp_ws(p);
  size_t k = 0;
  while (p->s[p->pos] && (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_' ||
                          p->s[p->pos] == '/' || p->s[p->pos] == '-' || p->s[p->pos] == '+' ||
                          p->s[p->pos] == '.')) {
    if (k + 1 < n)
      out[k++] = p->s[p->pos];
    p->pos++;
  }
  out[k] = '\0';
  sp_ws(p);
  return k > 0;
}

static int sp_accept(spec_parser *p, char c) {
  sp_ws(p);
  if (p->s[p->pos] == c) {
    p->pos++;
    sp_ws(p);
    return 1;
  }
  return 0;
}

static clance_status sp_type(spec_parser *p, cl_field *f, clance_error *err);

static clance_status sp_int(spec_parser *p, long lo, long hi, long *out, clance_error *err) {
  sp_ws(p);
  char *end;
  if (!parse_int(p->s + p->pos, &end, lo, hi, out))
    return cl_err(err, CLANCE_EINVAL, "schema spec \"%s\": expected a number at offset %zu",
                  p->whole, p->pos);
  p->pos = (size_t)(end - p->s);
  sp_ws(p);
  return CLANCE_OK;
}

static clance_status sp_expect(spec_parser *p, char c, clance_error *err) {
  if (!sp_accept(p, c))
    return cl_err(err, CLANCE_EINVAL, "schema spec \"%s\": expected '%c' at offset %zu", p->whole,
                  c, p->pos);
  return CLANCE_OK;
}

static clance_status sp_field(spec_parser *p, cl_field *f, clance_error *err) {
  char name[256];
  field_init(f);
  sp_ws(p);
  size_t start = p->pos;
  while (p->s[p->pos] && p->s[p->pos] != ':' && p->s[p->pos] != ',' && p->s[p->pos] != ')')
    p->pos++;
  size_t end = p->pos;
  while (end > start && isspace((unsigned char)p->s[end - 1]))
    end--;
  if (end == start || end - start >= sizeof name)
    return cl_err(err, CLANCE_EINVAL, "schema spec \"%s\": expected a column name at offset %zu",
                  p->whole, start);
  memcpy(name, p->s + start, end - start);
  name[end - start] = '\0';
  if (!(f->name = cl_strdup(name, err)))
    return err->code;
  CL_TRY(sp_expect(p, ':', err));
  return sp_type(p, f, err);
}

static clance_status sp_type(spec_parser *p, cl_field *f, clance_error *err) {
  static const struct {
    const char *name;
    cl_type_id t;
  } simple[] = {
      {"bool", CL_TYPE_BOOL},         {"boolean", CL_TYPE_BOOL},        {"int8", CL_TYPE_INT8},
      {"int16", CL_TYPE_INT16},       {"int32", CL_TYPE_INT32},         {"int64", CL_TYPE_INT64},
      {"uint8", CL_TYPE_UINT8},       {"uint16", CL_TYPE_UINT16},       {"uint32", CL_TYPE_UINT32},
      {"uint64", CL_TYPE_UINT64},     {"float16", CL_TYPE_FLOAT16},     {"halffloat", CL_TYPE_FLOAT16},
      {"float32", CL_TYPE_FLOAT32},   {"float", CL_TYPE_FLOAT32},       {"float64", CL_TYPE_FLOAT64},
      {"double", CL_TYPE_FLOAT64},    {"string", CL_TYPE_UTF8},         {"utf8", CL_TYPE_UTF8},
      {"large_string", CL_TYPE_LARGE_UTF8}, {"large_utf8", CL_TYPE_LARGE_UTF8},
      {"binary", CL_TYPE_BINARY},     {"large_binary", CL_TYPE_LARGE_BINARY},
      {"date32", CL_TYPE_DATE32},     {"date64", CL_TYPE_DATE64},       {"null", CL_TYPE_NULL},
  };
  char tname[64];
  size_t at = p->pos;
  if (!sp_ident(p, tname, sizeof tname))
    return cl_err(err, CLANCE_EINVAL, "schema spec \"%s\": expected a type at offset %zu",
                  p->whole, at);
  for (size_t i = 0; i < sizeof simple / sizeof *simple; i++) {
    if (strcmp(tname, simple[i].name) == 0) {
      f->type = simple[i].t;
      goto nullability;
    }
  }
  long v, v2;
  char word[64];
  if (!strcmp(tname, "timestamp") || !strcmp(tname, "time32") || !strcmp(tname, "time64") ||
      !strcmp(tname, "duration")) {
    f->type = tname[0] == 'd' ? CL_TYPE_DURATION
              : tname[1] == 'i' && tname[4] == 's' ? CL_TYPE_TIMESTAMP
              : tname[4] == '3' ? CL_TYPE_TIME32 : CL_TYPE_TIME64;
    CL_TRY(sp_expect(p, '(', err));
    if (!sp_ident(p, word, sizeof word) || !(f->unit = unit_short(word, strlen(word))))
      return cl_err(err, CLANCE_EINVAL, "schema spec \"%s\": bad time unit at offset %zu (use s, ms, us or ns)",
                    p->whole, p->pos);
    if (f->type == CL_TYPE_TIMESTAMP && sp_accept(p, ',')) {
      size_t s0 = p->pos;
      while (p->s[p->pos] && p->s[p->pos] != ')')
        p->pos++;
      size_t e0 = p->pos;
      while (e0 > s0 && isspace((unsigned char)p->s[e0 - 1]))
        e0--;
      if (e0 > s0 && !(f->tz = cl_strndup(p->s + s0, e0 - s0, err)))
        return err->code;
    }
    CL_TRY(sp_expect(p, ')', err));
    if ((f->type == CL_TYPE_TIME32 && f->unit != 's' && f->unit != 'm') ||
        (f->type == CL_TYPE_TIME64 && f->unit != 'u' && f->unit != 'n'))
      return cl_err(err, CLANCE_EINVAL, "schema spec \"%s\": %s does not take unit %s", p->whole,
                    tname, unit_long(f->unit));
  } else if (!strcmp(tname, "vector") || !strcmp(tname, "fixed_size_list")) {
    f->type = CL_TYPE_FIXED_SIZE_LIST;
    CL_TRY(sp_expect(p, '(', err));
    cl_field *item;
    CL_TRY(add_child(f, "item", &item, err));
    CL_TRY(sp_type(p, item, err));
    CL_TRY(sp_expect(p, ',', err));
    CL_TRY(sp_int(p, 1, INT32_MAX, &v, err));
    f->size = (int32_t)v;
    CL_TRY(sp_expect(p, ')', err));
  } else if (!strcmp(tname, "list") || !strcmp(tname, "large_list")) {
    f->type = tname[0] == 'l' && tname[1] == 'i' ? CL_TYPE_LIST : CL_TYPE_LARGE_LIST;
    CL_TRY(sp_expect(p, '(', err));
    cl_field *item;
    CL_TRY(add_child(f, "item", &item, err));
    CL_TRY(sp_type(p, item, err));
    CL_TRY(sp_expect(p, ')', err));
  } else if (!strcmp(tname, "struct")) {
    f->type = CL_TYPE_STRUCT;
    CL_TRY(sp_expect(p, '(', err));
    do {
      cl_field *c = realloc(f->children, (f->n_children + 1) * sizeof *c);
      if (!c)
        return cl_err_nomem(err, "schema");
      f->children = c;
      f->n_children++;
      CL_TRY(sp_field(p, &f->children[f->n_children - 1], err));
    } while (sp_accept(p, ','));
    CL_TRY(sp_expect(p, ')', err));
  } else if (!strcmp(tname, "dictionary")) {
    /* dictionary(KEY,VALUE): an integer key type and the values' type. */
    static const struct {
      const char *name;
      cl_type_id t;
    } keys[] = {{"int8", CL_TYPE_INT8},   {"int16", CL_TYPE_INT16},   {"int32", CL_TYPE_INT32},
                {"int64", CL_TYPE_INT64}, {"uint8", CL_TYPE_UINT8},   {"uint16", CL_TYPE_UINT16},
                {"uint32", CL_TYPE_UINT32}, {"uint64", CL_TYPE_UINT64}};
    f->type = CL_TYPE_DICTIONARY;
    CL_TRY(sp_expect(p, '(', err));
    size_t kat = p->pos;
    f->index_type = CL_TYPE_NULL;
    if (sp_ident(p, word, sizeof word))
      for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!strcmp(word, keys[i].name))
          f->index_type = keys[i].t;
    if (f->index_type == CL_TYPE_NULL)
      return cl_err(err, CLANCE_EINVAL, "schema spec \"%s\": dictionary key at offset %zu must be "
                    "an integer type", p->whole, kat);
    CL_TRY(sp_expect(p, ',', err));
    cl_field *value;
    CL_TRY(add_child(f, "", &value, err));
    CL_TRY(sp_type(p, value, err));
    CL_TRY(sp_expect(p, ')', err));
  } else if (!strcmp(tname, "fixed_size_binary")) {
    f->type = CL_TYPE_FIXED_SIZE_BINARY;
    CL_TRY(sp_expect(p, '(', err));
    CL_TRY(sp_int(p, 1, INT32_MAX, &v, err));
    f->size = (int32_t)v;
    CL_TRY(sp_expect(p, ')', err));
  } else if (!strcmp(tname, "decimal") || !strcmp(tname, "decimal128")) {
    f->type = CL_TYPE_DECIMAL128;
    CL_TRY(sp_expect(p, '(', err));
    CL_TRY(sp_int(p, 1, 38, &v, err));
    CL_TRY(sp_expect(p, ',', err));
    CL_TRY(sp_int(p, -38, 38, &v2, err));
    f->size = (int32_t)v;
    f->scale = (int32_t)v2;
    CL_TRY(sp_expect(p, ')', err));
  } else {
    return cl_err(err, CLANCE_EINVAL, "schema spec \"%s\": unknown type \"%s\"", p->whole, tname);
  }
nullability:
  if (sp_accept(p, '!'))
    f->nullable = 0;
  return CLANCE_OK;
}

clance_status cl_schema_parse_spec(const char *spec, cl_schema *out, clance_error *err) {
  memset(out, 0, sizeof *out);
  spec_parser p = {spec, 0, spec};
  sp_ws(&p);
  if (!spec[p.pos])
    return cl_err(err, CLANCE_EINVAL, "schema spec is empty");
  do {
    cl_field *f = realloc(out->fields, (out->n_fields + 1) * sizeof *f);
    if (!f) {
      cl_schema_free(out);
      return cl_err_nomem(err, "schema");
    }
    out->fields = f;
    out->n_fields++;
    if (sp_field(&p, &out->fields[out->n_fields - 1], err)) {
      cl_schema_free(out);
      return err->code;
    }
  } while (sp_accept(&p, ','));
  if (spec[p.pos]) {
    cl_err(err, CLANCE_EINVAL, "schema spec \"%s\": unexpected \"%s\" at offset %zu", spec,
           spec + p.pos, p.pos);
    cl_schema_free(out);
    return err->code;
  }
  for (size_t i = 0; i < out->n_fields; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp(out->fields[i].name, out->fields[j].name) == 0) {
        cl_err(err, CLANCE_EINVAL, "schema spec \"%s\": duplicate column \"%s\"", spec,
               out->fields[i].name);
        cl_schema_free(out);
        return err->code;
      }
  return CLANCE_OK;
}

clance_status cl_field_type_spec(const cl_field *f, cl_buf *out, clance_error *err) {
  clance_status st;
  switch (f->type) {
  case CL_TYPE_TIMESTAMP:
    st = f->tz ? cl_buf_printf(out, err, "timestamp(%s,%s)", unit_long(f->unit), f->tz)
               : cl_buf_printf(out, err, "timestamp(%s)", unit_long(f->unit));
    break;
  case CL_TYPE_TIME32:
  case CL_TYPE_TIME64:
  case CL_TYPE_DURATION:
    st = cl_buf_printf(out, err, "%s(%s)", cl_type_name(f->type), unit_long(f->unit));
    break;
  case CL_TYPE_FIXED_SIZE_BINARY:
    st = cl_buf_printf(out, err, "fixed_size_binary(%d)", (int)f->size);
    break;
  case CL_TYPE_DECIMAL128:
  case CL_TYPE_DECIMAL256:
    st = cl_buf_printf(out, err, "%s(%d,%d)", cl_type_name(f->type), (int)f->size, (int)f->scale);
    break;
  case CL_TYPE_FIXED_SIZE_LIST:
  case CL_TYPE_LIST:
  case CL_TYPE_LARGE_LIST:
    CL_TRY(cl_buf_printf(out, err, "%s(",
                         f->type == CL_TYPE_FIXED_SIZE_LIST ? "vector" : cl_type_name(f->type)));
    CL_TRY(cl_field_type_spec(&f->children[0], out, err));
    st = f->type == CL_TYPE_FIXED_SIZE_LIST ? cl_buf_printf(out, err, ",%d)", (int)f->size)
                                            : cl_buf_printf(out, err, ")");
    break;
  case CL_TYPE_STRUCT:
    CL_TRY(cl_buf_printf(out, err, "struct("));
    for (size_t i = 0; i < f->n_children; i++) {
      CL_TRY(cl_buf_printf(out, err, "%s%s:", i ? "," : "", f->children[i].name));
      CL_TRY(cl_field_type_spec(&f->children[i], out, err));
    }
    st = cl_buf_printf(out, err, ")");
    break;
  case CL_TYPE_DICTIONARY:
    CL_TRY(cl_buf_printf(out, err, "dictionary(%s,", cl_type_name(f->index_type)));
    CL_TRY(cl_field_type_spec(&f->children[0], out, err));
    st = cl_buf_printf(out, err, ")");
    break;
  default: st = cl_buf_printf(out, err, "%s", cl_type_name(f->type)); break;
  }
  if (st == CLANCE_OK && !f->nullable)
    st = cl_buf_printf(out, err, "!");
  return st;
}

clance_status clance_schema_parse(const char *spec, struct ArrowSchema *out, clance_error *err) {
  CL_PUBLIC_ERR(err, local);
  if (!spec || !out)
    return cl_err(err, CLANCE_EINVAL, "clance_schema_parse: NULL argument");
  cl_schema s;
  CL_TRY(cl_schema_parse_spec(spec, &s, err));
  clance_status st = cl_schema_to_arrow(&s, out, err);
  cl_schema_free(&s);
  return st;
}
