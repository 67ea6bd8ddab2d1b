/* Arrow IPC Schema tables <-> cl_schema. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/ipc_internal.h"

/* ------------------------------------------------------------------------ */
/* Reading                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct sctx {
  const char *what;
  size_t fields_left; /* field nodes we still accept (shared subtables count each time) */
  size_t bytes_left;  /* bytes of names and metadata we still copy */
  cl_ipc_dict_field *dicts;
  size_t n_dicts, cap_dicts;
} sctx;

static clance_status fail(sctx *c, clance_error *err, clance_status code, const char *fmt, ...)
    CL_PRINTF(4, 5);
static clance_status fail(sctx *c, clance_error *err, clance_status code, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return cl_err(err, code, "%s: %s", c->what, msg);
}

#define CORRUPT(c, err, ...) fail(c, err, CLANCE_ECORRUPT, __VA_ARGS__)

static clance_status take_bytes(sctx *c, size_t n, clance_error *err) {
  if (n > c->bytes_left)
    return CORRUPT(c, err, "schema names and metadata are larger than the input allows");
  c->bytes_left -= n;
  return CLANCE_OK;
}

static clance_status read_meta(sctx *c, const fb_table *t, int slot, cl_meta *out,
                               clance_error *err) {
  fb_vec v;
  if (fb_get_vec(t, slot, 4, &v) < 0)
    return CORRUPT(c, err, "bad custom_metadata vector");
  if (v.n == 0)
    return CLANCE_OK;
  if ((uint64_t)v.n * 16 > c->bytes_left)
    return CORRUPT(c, err, "schema names and metadata are larger than the input allows");
  out->items = cl_calloc(v.n, sizeof *out->items, err);
  if (!out->items)
    return err->code;
  for (uint32_t i = 0; i < v.n; i++) {
    fb_table kv;
    const char *k, *val;
    size_t kn, vn;
    if (fb_vec_table(&v, i, &kv) || fb_get_str(&kv, KV_KEY, &k, &kn) < 0 ||
        fb_get_str(&kv, KV_VALUE, &val, &vn) < 0)
      return CORRUPT(c, err, "bad custom_metadata entry %u", (unsigned)i);
    CL_TRY(take_bytes(c, kn + vn + 16, err));
    cl_kv *item = &out->items[out->n];
    if (!(item->key = cl_strndup(k, kn, err)) || !(item->value = cl_malloc(vn + 1, err))) {
      free(item->key);
      item->key = NULL;
      return err->code;
    }
    memcpy(item->value, val, vn);
    item->value[vn] = 0;
    item->value_len = vn;
    out->n++;
  }
  return CLANCE_OK;
}

static const char unit_chars[4] = {'s', 'm', 'u', 'n'};

static clance_status read_int(sctx *c, const fb_table *t, const char *name, cl_type_id *out,
                              clance_error *err) {
  int32_t bits;
  int sign;
  if (fb_get_i32(t, 0, 0, &bits) || fb_get_bool(t, 1, 0, &sign))
    return CORRUPT(c, err, "field \"%s\": bad Int type", name);
  switch (bits) {
  case 8: *out = sign ? CL_TYPE_INT8 : CL_TYPE_UINT8; break;
  case 16: *out = sign ? CL_TYPE_INT16 : CL_TYPE_UINT16; break;
  case 32: *out = sign ? CL_TYPE_INT32 : CL_TYPE_UINT32; break;
  case 64: *out = sign ? CL_TYPE_INT64 : CL_TYPE_UINT64; break;
  default: return CORRUPT(c, err, "field \"%s\": Int type of %d bits", name, (int)bits);
  }
  return CLANCE_OK;
}

/* The type of field `name` from union tag + table into f (type and params);
 * *want_children: -1 any, else the exact number of children. */
static clance_status read_type(sctx *c, uint8_t tag, const fb_table *t, const char *name,
                               cl_field *f, int *want_children, clance_error *err) {
  *want_children = 0;
  int16_t u16;
  int32_t i32;
  switch (tag) {
  case IPC_T_NULL: f->type = CL_TYPE_NULL; return CLANCE_OK;
  case IPC_T_BOOL: f->type = CL_TYPE_BOOL; return CLANCE_OK;
  case IPC_T_BINARY: f->type = CL_TYPE_BINARY; return CLANCE_OK;
  case IPC_T_UTF8: f->type = CL_TYPE_UTF8; return CLANCE_OK;
  case IPC_T_LARGE_BINARY: f->type = CL_TYPE_LARGE_BINARY; return CLANCE_OK;
  case IPC_T_LARGE_UTF8: f->type = CL_TYPE_LARGE_UTF8; return CLANCE_OK;
  case IPC_T_INT: return read_int(c, t, name, &f->type, err);
  case IPC_T_FLOAT:
    if (fb_get_i16(t, 0, 0, &u16) || u16 < 0 || u16 > 2)
      return CORRUPT(c, err, "field \"%s\": bad FloatingPoint precision", name);
    f->type = u16 == 0 ? CL_TYPE_FLOAT16 : u16 == 1 ? CL_TYPE_FLOAT32 : CL_TYPE_FLOAT64;
    return CLANCE_OK;
  case IPC_T_DECIMAL: {
    int32_t prec, scale, bits;
    if (fb_get_i32(t, 0, 0, &prec) || fb_get_i32(t, 1, 0, &scale) || fb_get_i32(t, 2, 128, &bits))
      return CORRUPT(c, err, "field \"%s\": bad Decimal type", name);
    if (bits != 128 && bits != 256)
      return fail(c, err, CLANCE_EUNSUPPORTED, "field \"%s\": %d-bit decimals are not supported",
                  name, (int)bits);
    if (prec < 1 || prec > 76 || scale < -76 || scale > 76)
      return CORRUPT(c, err, "field \"%s\": decimal precision %d / scale %d out of range", name,
                     (int)prec, (int)scale);
    f->type = bits == 128 ? CL_TYPE_DECIMAL128 : CL_TYPE_DECIMAL256;
    f->size = prec;
    f->scale = scale;
    return CLANCE_OK;
  }
  case IPC_T_DATE:
    if (fb_get_i16(t, 0, 1, &u16) || u16 < 0 || u16 > 1)
      return CORRUPT(c, err, "field \"%s\": bad Date unit", name);
    f->type = u16 == 0 ? CL_TYPE_DATE32 : CL_TYPE_DATE64;
    return CLANCE_OK;
  case IPC_T_TIME:
    if (fb_get_i16(t, 0, 1, &u16) || fb_get_i32(t, 1, 32, &i32) || u16 < 0 || u16 > 3 ||
        i32 != (u16 <= 1 ? 32 : 64))
      return CORRUPT(c, err, "field \"%s\": bad Time unit or bit width", name);
    f->type = i32 == 32 ? CL_TYPE_TIME32 : CL_TYPE_TIME64;
    f->unit = unit_chars[u16];
    return CLANCE_OK;
  case IPC_T_TIMESTAMP: {
    const char *tz;
    size_t tzn;
    if (fb_get_i16(t, 0, 0, &u16) || u16 < 0 || u16 > 3 || fb_get_str(t, 1, &tz, &tzn) < 0)
      return CORRUPT(c, err, "field \"%s\": bad Timestamp type", name);
    f->type = CL_TYPE_TIMESTAMP;
    f->unit = unit_chars[u16];
    if (tzn) {
      if (tzn > 256 || memchr(tz, 0, tzn))
        return CORRUPT(c, err, "field \"%s\": bad time zone", name);
      if (!(f->tz = cl_strndup(tz, tzn, err)))
        return err->code;
    }
    return CLANCE_OK;
  }
  case IPC_T_DURATION:
    if (fb_get_i16(t, 0, 1, &u16) || u16 < 0 || u16 > 3)
      return CORRUPT(c, err, "field \"%s\": bad Duration unit", name);
    f->type = CL_TYPE_DURATION;
    f->unit = unit_chars[u16];
    return CLANCE_OK;
  case IPC_T_FIXED_SIZE_BINARY:
    if (fb_get_i32(t, 0, 0, &i32) || i32 < 0)
      return CORRUPT(c, err, "field \"%s\": bad FixedSizeBinary width", name);
    if (i32 == 0)
      return fail(c, err, CLANCE_EUNSUPPORTED, "field \"%s\": fixed_size_binary of width 0", name);
    f->type = CL_TYPE_FIXED_SIZE_BINARY;
    f->size = i32;
    return CLANCE_OK;
  case IPC_T_FIXED_SIZE_LIST:
    if (fb_get_i32(t, 0, 0, &i32) || i32 < 0)
      return CORRUPT(c, err, "field \"%s\": bad FixedSizeList size", name);
    if (i32 == 0)
      return fail(c, err, CLANCE_EUNSUPPORTED, "field \"%s\": fixed_size_list of size 0", name);
    f->type = CL_TYPE_FIXED_SIZE_LIST;
    f->size = i32;
    *want_children = 1;
    return CLANCE_OK;
  case IPC_T_LIST: f->type = CL_TYPE_LIST; *want_children = 1; return CLANCE_OK;
  case IPC_T_LARGE_LIST: f->type = CL_TYPE_LARGE_LIST; *want_children = 1; return CLANCE_OK;
  case IPC_T_STRUCT: f->type = CL_TYPE_STRUCT; *want_children = -1; return CLANCE_OK;
  case IPC_T_INTERVAL:
  case IPC_T_UNION:
  case IPC_T_MAP:
  case IPC_T_RUN_END_ENCODED:
  case IPC_T_BINARY_VIEW:
  case IPC_T_UTF8_VIEW:
  case IPC_T_LIST_VIEW:
  case IPC_T_LARGE_LIST_VIEW: {
    static const char *names[] = {"Interval", "?", "?", "Union", "?", "?", "Map", "?", "?", "?",
                                  "?", "RunEndEncoded", "BinaryView", "Utf8View", "ListView",
                                  "LargeListView"};
    return fail(c, err, CLANCE_EUNSUPPORTED, "field \"%s\": Arrow type %s is not supported", name,
                names[tag - IPC_T_INTERVAL]);
  }
  case 0: return CORRUPT(c, err, "field \"%s\" has no type", name);
  default:
    return fail(c, err, CLANCE_EUNSUPPORTED, "field \"%s\": unknown Arrow type tag %u", name,
                (unsigned)tag);
  }
}

static void field_init(cl_field *f) {
  memset(f, 0, sizeof *f);
  f->id = -1;
  f->nullable = 1;
}

static clance_status add_dict(sctx *c, int64_t id, const cl_field *f, clance_error *err) {
  if (c->n_dicts == c->cap_dicts) {
    size_t cap = c->cap_dicts ? 2 * c->cap_dicts : 8;
    cl_ipc_dict_field *d = realloc(c->dicts, cap * sizeof *d);
    if (!d)
      return cl_err_nomem(err, "dictionary fields");
    c->dicts = d;
    c->cap_dicts = cap;
  }
  c->dicts[c->n_dicts].id = id;
  c->dicts[c->n_dicts].field = f;
  c->n_dicts++;
  return CLANCE_OK;
}

static clance_status read_field(sctx *c, const fb_table *ft, int depth, int in_dict, cl_field *out,
                                clance_error *err);

static clance_status read_children(sctx *c, const fb_table *ft, int depth, int in_dict,
                                   const char *name, int want, cl_field *tf, clance_error *err) {
  fb_vec kids;
  if (fb_get_vec(ft, FIELD_CHILDREN, 4, &kids) < 0)
    return CORRUPT(c, err, "field \"%s\": bad children vector", name);
  if (want >= 0 && kids.n != (uint32_t)want)
    return CORRUPT(c, err, "field \"%s\" (%s) has %u children, expected %d", name,
                   cl_type_name(tf->type), (unsigned)kids.n, want);
  if (kids.n == 0)
    return CLANCE_OK;
  if (kids.n > c->fields_left)
    return CORRUPT(c, err, "schema has too many fields");
  tf->children = cl_calloc(kids.n, sizeof *tf->children, err);
  if (!tf->children)
    return err->code;
  for (uint32_t i = 0; i < kids.n; i++) {
    fb_table kt;
    field_init(&tf->children[i]);
    tf->n_children = i + 1;
    if (fb_vec_table(&kids, i, &kt))
      return CORRUPT(c, err, "field \"%s\": bad child %u", name, (unsigned)i);
    CL_TRY(read_field(c, &kt, depth + 1, in_dict, &tf->children[i], err));
  }
  return CLANCE_OK;
}

static clance_status read_field(sctx *c, const fb_table *ft, int depth, int in_dict, cl_field *out,
                                clance_error *err) {
  field_init(out);
  if (depth > CL_IPC_MAX_DEPTH)
    return fail(c, err, CLANCE_EUNSUPPORTED, "schema nests deeper than %d levels",
                CL_IPC_MAX_DEPTH);
  if (c->fields_left == 0)
    return CORRUPT(c, err, "schema has too many fields");
  c->fields_left--;
  const char *name;
  size_t name_len;
  int nullable;
  uint8_t tag;
  fb_table tt, dt;
  if (fb_get_str(ft, FIELD_NAME, &name, &name_len) < 0 ||
      fb_get_bool(ft, FIELD_NULLABLE, 0, &nullable) ||
      fb_get_u8(ft, FIELD_TYPE_TYPE, 0, &tag) || fb_get_table(ft, FIELD_TYPE, &tt) < 0)
    return CORRUPT(c, err, "bad Field table");
  CL_TRY(take_bytes(c, name_len + 1, err));
  if (!(out->name = cl_strndup(name, name_len, err)))
    return err->code;
  name = out->name;
  out->nullable = nullable;
  CL_TRY(read_meta(c, ft, FIELD_METADATA, &out->metadata, err));
  int is_dict = fb_get_table(ft, FIELD_DICTIONARY, &dt);
  if (is_dict < 0)
    return CORRUPT(c, err, "field \"%s\": bad DictionaryEncoding", name);
  cl_field *tf = out; /* the field that carries the (value) type */
  if (is_dict) {
    if (in_dict)
      return fail(c, err, CLANCE_EUNSUPPORTED,
                  "field \"%s\": dictionary-encoded field inside a dictionary", name);
    int64_t id;
    fb_table it;
    if (fb_get_i64(&dt, DICTENC_ID, 0, &id) || fb_get_table(&dt, DICTENC_INDEX_TYPE, &it) < 0)
      return CORRUPT(c, err, "field \"%s\": bad DictionaryEncoding", name);
    out->type = CL_TYPE_DICTIONARY;
    if (it.vt_len == 0)
      out->index_type = CL_TYPE_INT32; /* the spec's default */
    else
      CL_TRY(read_int(c, &it, name, &out->index_type, err));
    out->children = cl_calloc(1, sizeof *out->children, err);
    if (!out->children)
      return err->code;
    tf = &out->children[0];
    field_init(tf);
    out->n_children = 1;
    if (!(tf->name = cl_strdup("", err)))
      return err->code;
    CL_TRY(add_dict(c, id, out, err));
  }
  int want;
  CL_TRY(read_type(c, tag, &tt, name, tf, &want, err));
  return read_children(c, ft, depth, in_dict || is_dict, name, want, tf, err);
}

clance_status cl_ipc_schema_read(const fb_table *schema, const char *what, size_t input_len,
                                 cl_schema *out, cl_ipc_dict_field **dicts, size_t *n_dicts,
                                 clance_error *err) {
  memset(out, 0, sizeof *out);
  *dicts = NULL;
  *n_dicts = 0;
  sctx c = {what, 1u << 17, 16 * (size_t)input_len + 65536, NULL, 0, 0};
  int16_t endian;
  fb_vec fields;
  clance_status st;
  if (fb_get_i16(schema, SCHEMA_ENDIANNESS, 0, &endian) ||
      fb_get_vec(schema, SCHEMA_FIELDS, 4, &fields) < 0) {
    st = CORRUPT(&c, err, "bad Schema table");
    goto fail;
  }
  if (endian == 1) {
    st = fail(&c, err, CLANCE_EUNSUPPORTED, "big-endian Arrow data is not supported");
    goto fail;
  }
  if (endian != 0) {
    st = CORRUPT(&c, err, "bad endianness %d", (int)endian);
    goto fail;
  }
  if (fields.n > c.fields_left) {
    st = CORRUPT(&c, err, "schema has too many fields");
    goto fail;
  }
  if (fields.n) {
    out->fields = cl_calloc(fields.n, sizeof *out->fields, err);
    if (!out->fields) {
      st = err->code;
      goto fail;
    }
  }
  for (uint32_t i = 0; i < fields.n; i++) {
    fb_table ft;
    field_init(&out->fields[i]);
    out->n_fields = i + 1;
    if (fb_vec_table(&fields, i, &ft)) {
      st = CORRUPT(&c, err, "bad field %u", (unsigned)i);
      goto fail;
    }
    if ((st = read_field(&c, &ft, 1, 0, &out->fields[i], err)))
      goto fail;
  }
  if ((st = read_meta(&c, schema, SCHEMA_METADATA, &out->metadata, err)))
    goto fail;
  /* Fields that share a dictionary id must agree on the value type. */
  for (size_t i = 0; i < c.n_dicts; i++)
    for (size_t j = 0; j < i; j++)
      if (c.dicts[i].id == c.dicts[j].id &&
          !cl_field_same_type(&c.dicts[i].field->children[0], &c.dicts[j].field->children[0],
                              NULL, 0)) {
        st = CORRUPT(&c, err, "fields \"%s\" and \"%s\" share dictionary id %lld with different "
                     "value types", c.dicts[j].field->name, c.dicts[i].field->name,
                     (long long)c.dicts[i].id);
        goto fail;
      }
  *dicts = c.dicts;
  *n_dicts = c.n_dicts;
  return CLANCE_OK;
fail:
  free(c.dicts);
  cl_schema_free(out);
  return st;
}

/* ------------------------------------------------------------------------ */
/* Dictionary fields of a schema                                              */
/* ------------------------------------------------------------------------ */

static clance_status collect_dicts(const cl_field *f, int depth, cl_ipc_dict_field **d, size_t *n,
                                   size_t *cap, clance_error *err) {
  if (depth > CL_IPC_MAX_DEPTH)
    return cl_err(err, CLANCE_EUNSUPPORTED, "schema nests deeper than %d levels",
                  CL_IPC_MAX_DEPTH);
  if (f->type == CL_TYPE_DICTIONARY) {
    if (f->n_children != 1 || !cl_type_is_integer(f->index_type))
      return cl_err(err, CLANCE_EINVAL, "field \"%s\": malformed dictionary type", f->name);
    if (*n == *cap) {
      size_t nc = *cap ? 2 * *cap : 8;
      cl_ipc_dict_field *nd = realloc(*d, nc * sizeof *nd);
      if (!nd)
        return cl_err_nomem(err, "dictionary fields");
      *d = nd;
      *cap = nc;
    }
    (*d)[*n].id = (int64_t)*n;
    (*d)[*n].field = f;
    (*n)++;
    /* The value type must be free of dictionaries. */
    size_t before = *n;
    for (size_t i = 0; i < f->children[0].n_children; i++)
      CL_TRY(collect_dicts(&f->children[0].children[i], depth + 1, d, n, cap, err));
    if (f->children[0].type == CL_TYPE_DICTIONARY || *n != before)
      return cl_err(err, CLANCE_EUNSUPPORTED,
                    "field \"%s\": dictionaries inside a dictionary's values are not supported",
                    f->name);
    return CLANCE_OK;
  }
  for (size_t i = 0; i < f->n_children; i++)
    CL_TRY(collect_dicts(&f->children[i], depth + 1, d, n, cap, err));
  return CLANCE_OK;
}

clance_status cl_ipc_schema_dicts(const cl_schema *s, cl_ipc_dict_field **dicts, size_t *n,
                                  clance_error *err) {
  *dicts = NULL;
  *n = 0;
  size_t cap = 0;
  for (size_t i = 0; i < s->n_fields; i++) {
    clance_status st = collect_dicts(&s->fields[i], 1, dicts, n, &cap, err);
    if (st) {
      free(*dicts);
      *dicts = NULL;
      *n = 0;
      return st;
    }
  }
  return CLANCE_OK;
}

/* ------------------------------------------------------------------------ */
/* Building                                                                   */
/* ------------------------------------------------------------------------ */

static int16_t unit_code(char u) {
  switch (u) {
  case 's': return 0;
  case 'm': return 1;
  case 'u': return 2;
  default: return 3;
  }
}

static fb_ref build_int(fb_builder *b, cl_type_id t) {
  static const int8_t bits[] = {8, 8, 16, 16, 32, 32, 64, 64};
  int k = (int)t - (int)CL_TYPE_INT8;
  fb_start(b);
  fb_add_i32(b, 0, bits[k]);
  fb_add_u8(b, 1, (k & 1) == 0); /* INT8, INT16, ... are at even positions */
  return fb_end(b);
}

/* Type table of f (the value type for dictionaries); *tag gets the union tag. */
static clance_status build_type(fb_builder *b, const cl_field *f, uint8_t *tag, fb_ref *out,
                                clance_error *err) {
  fb_ref tz = 0;
  if (f->type == CL_TYPE_TIMESTAMP && f->tz && *f->tz)
    tz = fb_string(b, f->tz, strlen(f->tz));
  if (cl_type_is_integer(f->type)) {
    *tag = IPC_T_INT;
    *out = build_int(b, f->type);
    return CLANCE_OK;
  }
  fb_start(b);
  switch (f->type) {
  case CL_TYPE_NULL: *tag = IPC_T_NULL; break;
  case CL_TYPE_BOOL: *tag = IPC_T_BOOL; break;
  case CL_TYPE_FLOAT16:
  case CL_TYPE_FLOAT32:
  case CL_TYPE_FLOAT64:
    *tag = IPC_T_FLOAT;
    fb_add_i16(b, 0, (int16_t)(f->type - CL_TYPE_FLOAT16));
    break;
  case CL_TYPE_DECIMAL128:
  case CL_TYPE_DECIMAL256:
    *tag = IPC_T_DECIMAL;
    fb_add_i32(b, 0, f->size);
    fb_add_i32(b, 1, f->scale);
    fb_add_i32(b, 2, f->type == CL_TYPE_DECIMAL128 ? 128 : 256);
    break;
  case CL_TYPE_DATE32:
  case CL_TYPE_DATE64:
    *tag = IPC_T_DATE;
    fb_add_i16(b, 0, f->type == CL_TYPE_DATE32 ? 0 : 1);
    break;
  case CL_TYPE_TIME32:
  case CL_TYPE_TIME64:
    *tag = IPC_T_TIME;
    fb_add_i16(b, 0, unit_code(f->unit));
    fb_add_i32(b, 1, f->type == CL_TYPE_TIME32 ? 32 : 64);
    break;
  case CL_TYPE_TIMESTAMP:
    *tag = IPC_T_TIMESTAMP;
    fb_add_i16(b, 0, unit_code(f->unit));
    if (tz)
      fb_add_ref(b, 1, tz);
    break;
  case CL_TYPE_DURATION:
    *tag = IPC_T_DURATION;
    fb_add_i16(b, 0, unit_code(f->unit));
    break;
  case CL_TYPE_FIXED_SIZE_BINARY:
    *tag = IPC_T_FIXED_SIZE_BINARY;
    fb_add_i32(b, 0, f->size);
    break;
  case CL_TYPE_UTF8: *tag = IPC_T_UTF8; break;
  case CL_TYPE_LARGE_UTF8: *tag = IPC_T_LARGE_UTF8; break;
  case CL_TYPE_BINARY: *tag = IPC_T_BINARY; break;
  case CL_TYPE_LARGE_BINARY: *tag = IPC_T_LARGE_BINARY; break;
  case CL_TYPE_FIXED_SIZE_LIST:
    *tag = IPC_T_FIXED_SIZE_LIST;
    fb_add_i32(b, 0, f->size);
    break;
  case CL_TYPE_LIST: *tag = IPC_T_LIST; break;
  case CL_TYPE_LARGE_LIST: *tag = IPC_T_LARGE_LIST; break;
  case CL_TYPE_STRUCT: *tag = IPC_T_STRUCT; break;
  default:
    fb_end(b);
    return cl_err(err, CLANCE_EUNSUPPORTED, "field \"%s\": type %s cannot be written to Arrow IPC",
                  f->name, cl_type_name(f->type));
  }
  *out = fb_end(b);
  return CLANCE_OK;
}

static fb_ref build_meta(fb_builder *b, const cl_meta *m) {
  if (m->n == 0)
    return 0;
  fb_ref *kv = calloc(m->n, sizeof *kv);
  if (!kv) {
    b->failed = 1;
    return 0;
  }
  for (size_t i = 0; i < m->n; i++) {
    fb_ref k = fb_string(b, m->items[i].key, strlen(m->items[i].key));
    fb_ref v = fb_string(b, (const char *)m->items[i].value, m->items[i].value_len);
    fb_start(b);
    fb_add_ref(b, KV_KEY, k);
    fb_add_ref(b, KV_VALUE, v);
    kv[i] = fb_end(b);
  }
  fb_ref r = fb_vec_refs(b, kv, m->n);
  free(kv);
  return r;
}

static clance_status check_shape(const cl_field *f) {
  switch (f->type) {
  case CL_TYPE_FIXED_SIZE_LIST:
  case CL_TYPE_LIST:
  case CL_TYPE_LARGE_LIST:
  case CL_TYPE_DICTIONARY: return f->n_children == 1 ? CLANCE_OK : CLANCE_EINVAL;
  case CL_TYPE_STRUCT: return CLANCE_OK;
  default: return f->n_children == 0 ? CLANCE_OK : CLANCE_EINVAL;
  }
}

static clance_status build_field(fb_builder *b, const cl_field *f, int depth, int64_t *next_dict,
                                 fb_ref *out, clance_error *err) {
  if (depth > CL_IPC_MAX_DEPTH)
    return cl_err(err, CLANCE_EUNSUPPORTED, "schema nests deeper than %d levels",
                  CL_IPC_MAX_DEPTH);
  if (check_shape(f))
    return cl_err(err, CLANCE_EINVAL, "field \"%s\" (%s) has %zu children", f->name,
                  cl_type_name(f->type), f->n_children);
  int is_dict = f->type == CL_TYPE_DICTIONARY;
  const cl_field *tf = is_dict ? &f->children[0] : f;
  if (is_dict && (check_shape(tf) || tf->type == CL_TYPE_DICTIONARY))
    return cl_err(err, CLANCE_EUNSUPPORTED, "field \"%s\": unsupported dictionary value type",
                  f->name);
  if (is_dict && !cl_type_is_integer(f->index_type))
    return cl_err(err, CLANCE_EINVAL, "field \"%s\": dictionary index type is not an integer",
                  f->name);
  int64_t dict_id = is_dict ? (*next_dict)++ : -1;
  fb_ref *kids = NULL;
  if (tf->n_children) {
    kids = calloc(tf->n_children, sizeof *kids);
    if (!kids)
      return cl_err_nomem(err, "schema");
  }
  for (size_t i = 0; i < tf->n_children; i++) {
    int64_t before = *next_dict;
    clance_status st = build_field(b, &tf->children[i], depth + 1, next_dict, &kids[i], err);
    if (!st && is_dict && *next_dict != before)
      st = cl_err(err, CLANCE_EUNSUPPORTED,
                  "field \"%s\": dictionaries inside a dictionary's values are not supported",
                  f->name);
    if (st) {
      free(kids);
      return st;
    }
  }
  fb_ref children = fb_vec_refs(b, kids, tf->n_children);
  free(kids);
  fb_ref name = fb_string(b, f->name ? f->name : "", f->name ? strlen(f->name) : 0);
  uint8_t tag = 0;
  fb_ref type = 0;
  CL_TRY(build_type(b, tf, &tag, &type, err));
  fb_ref dict = 0;
  if (is_dict) {
    fb_ref index = build_int(b, f->index_type);
    fb_start(b);
    fb_add_i64(b, DICTENC_ID, dict_id);
    fb_add_ref(b, DICTENC_INDEX_TYPE, index);
    fb_add_u8(b, DICTENC_ORDERED, 0);
    dict = fb_end(b);
  }
  fb_ref meta = build_meta(b, &f->metadata);
  fb_start(b);
  fb_add_ref(b, FIELD_NAME, name);
  fb_add_u8(b, FIELD_NULLABLE, f->nullable ? 1 : 0);
  fb_add_u8(b, FIELD_TYPE_TYPE, tag);
  fb_add_ref(b, FIELD_TYPE, type);
  if (dict)
    fb_add_ref(b, FIELD_DICTIONARY, dict);
  fb_add_ref(b, FIELD_CHILDREN, children);
  if (meta)
    fb_add_ref(b, FIELD_METADATA, meta);
  *out = fb_end(b);
  if (b->failed)
    return cl_err_nomem(err, "Arrow IPC schema");
  return CLANCE_OK;
}

clance_status cl_ipc_schema_build(fb_builder *b, const cl_schema *s, fb_ref *out,
                                  clance_error *err) {
  fb_ref *fields = s->n_fields ? calloc(s->n_fields, sizeof *fields) : NULL;
  if (s->n_fields && !fields)
    return cl_err_nomem(err, "schema");
  int64_t next_dict = 0;
  for (size_t i = 0; i < s->n_fields; i++) {
    clance_status st = build_field(b, &s->fields[i], 1, &next_dict, &fields[i], err);
    if (st) {
      free(fields);
      return st;
    }
  }
  fb_ref vec = fb_vec_refs(b, fields, s->n_fields);
  free(fields);
  fb_ref meta = build_meta(b, &s->metadata);
  fb_start(b);
  fb_add_i16(b, SCHEMA_ENDIANNESS, 0);
  fb_add_ref(b, SCHEMA_FIELDS, vec);
  if (meta)
    fb_add_ref(b, SCHEMA_METADATA, meta);
  *out = fb_end(b);
  if (b->failed)
    return cl_err_nomem(err, "Arrow IPC schema");
  return CLANCE_OK;
}
