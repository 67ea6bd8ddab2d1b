#include "arrow/flatbuf.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/* ------------------------------------------------------------------------ */
/* Reader                                                                     */
/* ------------------------------------------------------------------------ */

static int table_at(const uint8_t *buf, size_t len, size_t pos, fb_table *out) {
  if (len < 4 || pos > len - 4)
    return -1;
  int64_t vt = (int64_t)pos - (int64_t)(int32_t)cl_le32(buf + pos);
  if (vt < 0 || (uint64_t)vt > len - 4)
    return -1;
  uint16_t vt_len = cl_le16(buf + vt), tbl_len = cl_le16(buf + vt + 2);
  if (vt_len < 4 || (vt_len & 1) || (uint64_t)vt + vt_len > len)
    return -1;
  if (tbl_len < 4 || tbl_len > len - pos)
    return -1;
  out->buf = buf;
  out->len = len;
  out->pos = pos;
  out->vt = (size_t)vt;
  out->vt_len = vt_len;
  out->tbl_len = tbl_len;
  return 0;
}

int fb_root(const uint8_t *buf, size_t len, fb_table *out) {
  fb_empty(out);
  if (!buf || len < 8)
    return -1;
  return table_at(buf, len, cl_le32(buf), out);
}

void fb_empty(fb_table *out) { memset(out, 0, sizeof *out); }

/* Position of the field in `slot` if it is present and `size` bytes fit. */
static int field_pos(const fb_table *t, int slot, size_t size, size_t *pos) {
  size_t vo = 4 + 2 * (size_t)slot;
  if (slot < 0 || vo + 2 > t->vt_len)
    return 0;
  uint16_t fo = cl_le16(t->buf + t->vt + vo);
  if (fo == 0)
    return 0;
  if (fo < 4 || (size_t)fo + size > t->tbl_len)
    return -1;
  *pos = t->pos + fo;
  return 1;
}

static int get_scalar(const fb_table *t, int slot, size_t size, uint64_t *out) {
  size_t p;
  int r = field_pos(t, slot, size, &p);
  if (r <= 0)
    return r;
  switch (size) {
  case 1: *out = t->buf[p]; break;
  case 2: *out = cl_le16(t->buf + p); break;
  case 4: *out = cl_le32(t->buf + p); break;
  default: *out = cl_le64(t->buf + p); break;
  }
  return 1;
}

int fb_get_u8(const fb_table *t, int slot, uint8_t def, uint8_t *out) {
  uint64_t v;
  int r = get_scalar(t, slot, 1, &v);
  *out = r == 1 ? (uint8_t)v : def;
  return r < 0 ? -1 : 0;
}

int fb_get_i16(const fb_table *t, int slot, int16_t def, int16_t *out) {
  uint64_t v;
  int r = get_scalar(t, slot, 2, &v);
  *out = r == 1 ? (int16_t)(uint16_t)v : def;
  return r < 0 ? -1 : 0;
}

int fb_get_i32(const fb_table *t, int slot, int32_t def, int32_t *out) {
  uint64_t v;
  int r = get_scalar(t, slot, 4, &v);
  *out = r == 1 ? (int32_t)(uint32_t)v : def;
  return r < 0 ? -1 : 0;
}

int fb_get_i64(const fb_table *t, int slot, int64_t def, int64_t *out) {
  uint64_t v;
  int r = get_scalar(t, slot, 8, &v);
  *out = r == 1 ? (int64_t)v : def;
  return r < 0 ? -1 : 0;
}

int fb_get_bool(const fb_table *t, int slot, int def, int *out) {
  uint8_t v;
  if (fb_get_u8(t, slot, (uint8_t)(def != 0), &v))
    return -1;
  *out = v != 0;
  return 0;
}

/* Follow the uoffset stored at `at`; the target must leave 4 bytes. */
static int deref(const uint8_t *buf, size_t len, size_t at, size_t *target) {
  uint64_t tgt = (uint64_t)at + cl_le32(buf + at);
  if (len < 4 || tgt > len - 4)
    return -1;
  *target = (size_t)tgt;
  return 0;
}

int fb_get_table(const fb_table *t, int slot, fb_table *out) {
  fb_empty(out);
  size_t p, tgt;
  int r = field_pos(t, slot, 4, &p);
  if (r <= 0)
    return r;
  if (deref(t->buf, t->len, p, &tgt) || table_at(t->buf, t->len, tgt, out))
    return -1;
  return 1;
}

static int vec_at(const uint8_t *buf, size_t len, size_t at, size_t elem_size, fb_vec *out) {
  uint32_t n = cl_le32(buf + at);
  size_t data = at + 4;
  uint64_t bytes;
  if (cl_mul_overflows(n, elem_size, &bytes) || bytes > len - data)
    return -1;
  out->buf = buf;
  out->len = len;
  out->pos = data;
  out->n = n;
  out->elem_size = elem_size;
  return 0;
}

int fb_get_vec(const fb_table *t, int slot, size_t elem_size, fb_vec *out) {
  memset(out, 0, sizeof *out);
  out->elem_size = elem_size;
  size_t p, tgt;
  int r = field_pos(t, slot, 4, &p);
  if (r <= 0)
    return r;
  if (deref(t->buf, t->len, p, &tgt) || vec_at(t->buf, t->len, tgt, elem_size, out))
    return -1;
  return 1;
}

int fb_get_str(const fb_table *t, int slot, const char **s, size_t *n) {
  fb_vec v;
  int r = fb_get_vec(t, slot, 1, &v);
  *s = r == 1 ? (const char *)v.buf + v.pos : "";
  *n = r == 1 ? v.n : 0;
  return r;
}

int fb_vec_table(const fb_vec *v, uint32_t i, fb_table *out) {
  fb_empty(out);
  size_t tgt;
  if (i >= v->n || v->elem_size != 4 || deref(v->buf, v->len, v->pos + 4 * (size_t)i, &tgt))
    return -1;
  return table_at(v->buf, v->len, tgt, out);
}

int fb_vec_str(const fb_vec *v, uint32_t i, const char **s, size_t *n) {
  size_t tgt;
  fb_vec sv;
  *s = "";
  *n = 0;
  if (i >= v->n || v->elem_size != 4 || deref(v->buf, v->len, v->pos + 4 * (size_t)i, &tgt) ||
      vec_at(v->buf, v->len, tgt, 1, &sv))
    return -1;
  *s = (const char *)sv.buf + sv.pos;
  *n = sv.n;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Builder                                                                    */
/* ------------------------------------------------------------------------ */

/* Arrow metadata is small; anything near 2 GiB is a bug or an attack. */
#define FB_MAX_SIZE ((size_t)1 << 30)

void fb_init(fb_builder *b) {
  memset(b, 0, sizeof *b);
  b->minalign = 1;
}

void fb_free(fb_builder *b) {
  free(b->buf);
  fb_init(b);
}

void fb_reset(fb_builder *b) {
  uint8_t *buf = b->buf;
  size_t cap = b->cap;
  fb_init(b);
  b->buf = buf;
  b->cap = cap;
}

/* Make room for n more bytes at the front; returns a pointer to them. */
static uint8_t *push(fb_builder *b, size_t n) {
  if (b->failed || (n == 0 && !b->buf))
    return NULL;
  if (b->cap - b->used < n) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->used < n) {
      if (cap > FB_MAX_SIZE) {
        b->failed = 1;
        return NULL;
      }
      cap *= 2;
    }
    uint8_t *nb = malloc(cap);
    if (!nb) {
      b->failed = 1;
      return NULL;
    }
    if (b->used)
      memcpy(nb + cap - b->used, b->buf + b->cap - b->used, b->used);
    free(b->buf);
    b->buf = nb;
    b->cap = cap;
  }
  b->used += n;
  return b->buf + b->cap - b->used;
}

/* Pad so that once `extra` more bytes are pushed, `used` is a multiple of
 * `align` (a power of two): the next object then starts aligned. */
static void prep(fb_builder *b, size_t align, size_t extra) {
  if (align > b->minalign)
    b->minalign = align;
  size_t pad = (0 - (b->used + extra)) & (align - 1);
  uint8_t *p = push(b, pad);
  if (p)
    memset(p, 0, pad);
}

static void push_u32(fb_builder *b, uint32_t v) {
  prep(b, 4, 0);
  uint8_t *p = push(b, 4);
  if (p)
    cl_put32(p, v);
}

/* A uoffset to `ref`, stored at the front. */
static void push_ref(fb_builder *b, fb_ref ref) {
  prep(b, 4, 0);
  uint8_t *p = push(b, 4);
  if (!p)
    return;
  if (ref == 0 || ref >= b->used) {
    b->failed = 1; /* reference to nothing or to an object not yet finished */
    return;
  }
  cl_put32(p, (uint32_t)(b->used - ref));
}

fb_ref fb_string(fb_builder *b, const char *s, size_t n) {
  if (b->in_table || n > FB_MAX_SIZE) {
    b->failed = 1;
    return 0;
  }
  prep(b, 4, n + 1);
  uint8_t *p = push(b, n + 1);
  if (!p)
    return 0;
  if (n)
    memcpy(p, s, n);
  p[n] = 0;
  push_u32(b, (uint32_t)n);
  return b->failed ? 0 : (fb_ref)b->used;
}

fb_ref fb_vec_refs(fb_builder *b, const fb_ref *refs, size_t n) {
  if (b->in_table || n > FB_MAX_SIZE / 4) {
    b->failed = 1;
    return 0;
  }
  prep(b, 4, 4 * n);
  for (size_t i = n; i-- > 0;)
    push_ref(b, refs[i]);
  push_u32(b, (uint32_t)n);
  return b->failed ? 0 : (fb_ref)b->used;
}

fb_ref fb_vec_raw(fb_builder *b, const void *data, size_t elem_size, size_t n, size_t align) {
  if (b->in_table || (elem_size && n > FB_MAX_SIZE / elem_size)) {
    b->failed = 1;
    return 0;
  }
  size_t bytes = elem_size * n;
  prep(b, 4, bytes);
  prep(b, align, bytes);
  uint8_t *p = push(b, bytes);
  if (p && bytes)
    memcpy(p, data, bytes);
  push_u32(b, (uint32_t)n);
  return b->failed ? 0 : (fb_ref)b->used;
}

void fb_start(fb_builder *b) {
  if (b->in_table)
    b->failed = 1;
  b->in_table = 1;
  b->table_start = b->used;
  b->n_slots = 0;
  memset(b->slots, 0, sizeof b->slots);
}

static uint8_t *add_field(fb_builder *b, int slot, size_t size) {
  if (!b->in_table || slot < 0 || slot >= FB_MAX_SLOTS) {
    b->failed = 1;
    return NULL;
  }
  prep(b, size, 0);
  uint8_t *p = push(b, size);
  if (!p)
    return NULL;
  b->slots[slot] = (uint32_t)b->used;
  if (slot + 1 > b->n_slots)
    b->n_slots = slot + 1;
  return p;
}

void fb_add_u8(fb_builder *b, int slot, uint8_t v) {
  uint8_t *p = add_field(b, slot, 1);
  if (p)
    *p = v;
}

void fb_add_i16(fb_builder *b, int slot, int16_t v) {
  uint8_t *p = add_field(b, slot, 2);
  if (p)
    cl_put16(p, (uint16_t)v);
}

void fb_add_i32(fb_builder *b, int slot, int32_t v) {
  uint8_t *p = add_field(b, slot, 4);
  if (p)
    cl_put32(p, (uint32_t)v);
}

void fb_add_i64(fb_builder *b, int slot, int64_t v) {
  uint8_t *p = add_field(b, slot, 8);
  if (p)
    cl_put64(p, (uint64_t)v);
}

void fb_add_ref(fb_builder *b, int slot, fb_ref ref) {
  if (!b->in_table || slot < 0 || slot >= FB_MAX_SLOTS || ref == 0) {
    b->failed = 1;
    return;
  }
  push_ref(b, ref);
  if (b->failed)
    return;
  b->slots[slot] = (uint32_t)b->used;
  if (slot + 1 > b->n_slots)
    b->n_slots = slot + 1;
}

fb_ref fb_end(fb_builder *b) {
  if (!b->in_table) {
    b->failed = 1;
    return 0;
  }
  b->in_table = 0;
  prep(b, 4, 0);
  uint8_t *p = push(b, 4); /* soffset to the vtable, patched below */
  if (!p)
    return 0;
  size_t table = b->used;
  size_t tbl_len = table - b->table_start;
  size_t vt_len = 4 + 2 * (size_t)b->n_slots;
  if (tbl_len > UINT16_MAX) {
    b->failed = 1;
    return 0;
  }
  uint8_t *vt = push(b, vt_len); /* the vtable sits right before the table */
  if (!vt)
    return 0;
  cl_put16(vt, (uint16_t)vt_len);
  cl_put16(vt + 2, (uint16_t)tbl_len);
  for (int i = 0; i < b->n_slots; i++)
    cl_put16(vt + 4 + 2 * i, (uint16_t)(b->slots[i] ? table - b->slots[i] : 0));
  cl_put32(b->buf + b->cap - table, (uint32_t)(b->used - table));
  return (fb_ref)table;
}

int fb_finish(fb_builder *b, fb_ref root, const uint8_t **out, size_t *len) {
  if (b->in_table)
    b->failed = 1;
  prep(b, b->minalign > 4 ? b->minalign : 4, 4);
  push_ref(b, root);
  if (b->failed)
    return -1;
  *out = b->buf + b->cap - b->used;
  *len = b->used;
  return 0;
}
