/* Arrow IPC reader: files and streams held in memory. Batches are built from
 * copies of (or decompressed) body buffers held in reference-counted blocks,
 * so they outlive the reader and the input; with an input owner
 * (cl_ipc_read_options.owner_release) aligned uncompressed buffers are
 * referenced in place instead, and the owner is released with the last of
 * them. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow/array.h"
#include "arrow/ipc_internal.h"

/* ------------------------------------------------------------------------ */
/* Reference-counted buffers and arrays                                       */
/* ------------------------------------------------------------------------ */

/* A buffer: this header, then the bytes (16-byte aligned, 64 zero bytes of
 * slack after them for consumers that read whole words). */
typedef struct rbuf {
  atomic_long refs;
  /* The input held in place (zero-copy): no bytes follow; ext_release(ext)
   * runs when the last reference goes. */
  void (*ext_release)(void *ext);
  void *ext;
  long pad[5];
} rbuf;

static uint8_t *rbuf_data(rbuf *b) { return (uint8_t *)(b + 1); }

static rbuf *rbuf_new(uint64_t n, clance_error *err) {
  if (n > SIZE_MAX - sizeof(rbuf) - 64) {
    cl_err_nomem(err, "Arrow IPC buffer");
    return NULL;
  }
  rbuf *b = malloc(sizeof *b + (size_t)n + 64);
  if (!b) {
    cl_err_nomem(err, "Arrow IPC buffer");
    return NULL;
  }
  atomic_init(&b->refs, 1);
  b->ext_release = NULL;
  b->ext = NULL;
  memset(rbuf_data(b) + n, 0, 64);
  return b;
}

static void rbuf_unref(rbuf *b) {
  if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
    if (b->ext_release)
      b->ext_release(b->ext);
    free(b);
  }
}

/* A whole array shared by several others (a dictionary used by many
 * batches): released when the last user goes. */
typedef struct rarr {
  atomic_long refs;
  struct ArrowArray arr;
} rarr;

static void rarr_unref(rarr *h) {
  if (h && atomic_fetch_sub(&h->refs, 1) == 1) {
    if (h->arr.release)
      h->arr.release(&h->arr);
    free(h);
  }
}

/* Private data of every array node we hand out. Each node holds its own
 * references, so children and dictionaries may be moved out and released in
 * any order. */
typedef struct rnode {
  const void *ptrs[3];
  rbuf *bufs[3];
  rarr *holder; /* for views of a shared array */
  struct ArrowArray *kids;
  struct ArrowArray **kid_ptrs;
  int64_t n_kids;
  struct ArrowArray dict;
} rnode;

static void rnode_release(struct ArrowArray *a) {
  if (!a || !a->release)
    return;
  rnode *p = a->private_data;
  for (int i = 0; i < 3; i++)
    rbuf_unref(p->bufs[i]);
  rarr_unref(p->holder);
  for (int64_t i = 0; i < p->n_kids; i++)
    if (p->kids[i].release)
      p->kids[i].release(&p->kids[i]);
  free(p->kids);
  free(p->kid_ptrs);
  if (p->dict.release)
    p->dict.release(&p->dict);
  free(p);
  a->release = NULL;
}

static clance_status rnode_new(struct ArrowArray *out, int64_t n_buffers, int64_t n_kids,
                               clance_error *err) {
  memset(out, 0, sizeof *out);
  rnode *p = cl_calloc(1, sizeof *p, err);
  if (!p)
    return err->code;
  if (n_kids) {
    p->kids = calloc((size_t)n_kids, sizeof *p->kids);
    p->kid_ptrs = calloc((size_t)n_kids, sizeof *p->kid_ptrs);
    if (!p->kids || !p->kid_ptrs) {
      free(p->kids);
      free(p->kid_ptrs);
      free(p);
      return cl_err_nomem(err, "Arrow IPC array");
    }
    for (int64_t i = 0; i < n_kids; i++)
      p->kid_ptrs[i] = &p->kids[i];
  }
  p->n_kids = n_kids;
  out->n_buffers = n_buffers;
  out->buffers = p->ptrs;
  out->n_children = n_kids;
  out->children = p->kid_ptrs;
  out->private_data = p;
  out->release = rnode_release;
  return CLANCE_OK;
}

/* A view of src (a node of h->arr) sharing its buffers. */
static clance_status mirror(const struct ArrowArray *src, rarr *h, struct ArrowArray *out,
                            clance_error *err) {
  if (src->n_buffers > 3)
    return cl_err(err, CLANCE_EINTERNAL, "array with %lld buffers", (long long)src->n_buffers);
  CL_TRY(rnode_new(out, src->n_buffers, src->n_children, err));
  rnode *p = out->private_data;
  out->length = src->length;
  out->null_count = src->null_count;
  out->offset = src->offset;
  for (int64_t i = 0; i < src->n_buffers; i++)
    p->ptrs[i] = src->buffers[i];
  atomic_fetch_add(&h->refs, 1);
  p->holder = h;
  for (int64_t i = 0; i < src->n_children; i++)
    if (mirror(src->children[i], h, &p->kids[i], err))
      goto fail;
  if (src->dictionary) {
    if (mirror(src->dictionary, h, &p->dict, err))
      goto fail;
    out->dictionary = &p->dict;
  }
  return CLANCE_OK;
fail:
  rnode_release(out);
  return err->code;
}

/* Stand-in for empty buffers: consumers get a valid pointer (and an offsets
 * buffer of one zero). */
static const uint64_t zero_block[8];

/* ------------------------------------------------------------------------ */
/* The reader                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct dict_state {
  int64_t id;
  const cl_field *value; /* value type */
  rarr *cur;             /* NULL until the first dictionary batch */
} dict_state;

struct cl_ipc_reader {
  const uint8_t *data;
  size_t len;
  rbuf *input; /* owner of data for zero-copy buffers, or NULL */
  char *what;
  int is_file;
  int decode;
  uint64_t max_decoded;
  int failed;
  cl_schema schema;     /* as in the input */
  cl_schema out_schema; /* with dictionaries decoded (when decode) */
  cl_ipc_dict_field *dfields;
  size_t n_dfields;
  size_t *dfield_state; /* dictionary field -> states[] */
  dict_state *states;
  size_t n_states;
  /* stream */
  size_t pos;
  int done;
  /* file */
  fb_vec blocks;
  uint32_t next_block;
  size_t body_end;
};

static clance_status corrupt(const cl_ipc_reader *r, clance_error *err, const char *fmt, ...)
    CL_PRINTF(3, 4);
static clance_status corrupt(const cl_ipc_reader *r, clance_error *err, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return cl_err(err, CLANCE_ECORRUPT, "%s: %s", r->what, msg);
}

/* One encapsulated message. */
typedef struct ipc_msg {
  int eos;
  size_t start;
  uint8_t type;
  fb_table header;
  const uint8_t *body;
  uint64_t body_len;
  size_t next;
} ipc_msg;

static clance_status read_message(const cl_ipc_reader *r, size_t pos, size_t limit, ipc_msg *m,
                                  clance_error *err) {
  memset(m, 0, sizeof *m);
  m->start = pos;
  if (pos == limit) {
    m->eos = 1;
    return CLANCE_OK;
  }
  if (pos > limit || limit - pos < 4)
    return corrupt(r, err, "truncated message at byte %zu", pos);
  const uint8_t *p = r->data + pos;
  size_t prefix = 4;
  uint32_t mlen = cl_le32(p);
  if (mlen == 0xFFFFFFFFu) {
    if (limit - pos < 8)
      return corrupt(r, err, "truncated message at byte %zu", pos);
    mlen = cl_le32(p + 4);
    prefix = 8;
  }
  if (mlen == 0) {
    m->eos = 1;
    m->next = pos + prefix;
    return CLANCE_OK;
  }
  if (mlen > INT32_MAX || mlen > limit - pos - prefix)
    return corrupt(r, err, "message at byte %zu: metadata length %u exceeds the input", pos,
                   (unsigned)mlen);
  fb_table msg;
  int16_t version;
  int64_t body_len;
  if (fb_root(p + prefix, mlen, &msg) || fb_get_i16(&msg, MESSAGE_VERSION, 0, &version) ||
      fb_get_u8(&msg, MESSAGE_HEADER_TYPE, 0, &m->type) ||
      fb_get_table(&msg, MESSAGE_HEADER, &m->header) < 0 ||
      fb_get_i64(&msg, MESSAGE_BODY_LENGTH, 0, &body_len))
    return corrupt(r, err, "message at byte %zu: malformed metadata", pos);
  if (version < IPC_V4 || version > IPC_V5)
    return cl_err(err, CLANCE_EUNSUPPORTED, "%s: Arrow IPC metadata version V%d is not supported",
                  r->what, version + 1);
  if (m->header.vt_len == 0)
    return corrupt(r, err, "message at byte %zu has no header", pos);
  size_t body = pos + prefix + mlen;
  if (body_len < 0 || (uint64_t)body_len > limit - body)
    return corrupt(r, err, "message at byte %zu: body of %lld bytes exceeds the input", pos,
                   (long long)body_len);
  m->body = r->data + body;
  m->body_len = (uint64_t)body_len;
  m->next = body + (size_t)body_len;
  return CLANCE_OK;
}

/* ------------------------------------------------------------------------ */
/* Loading record batches                                                     */
/* ------------------------------------------------------------------------ */

typedef struct lctx {
  cl_ipc_reader *r;
  const uint8_t *body;
  uint64_t body_len;
  fb_vec nodes, bufs;
  uint32_t ni, bi;
  int codec; /* -1 = uncompressed */
  size_t dict_i;
} lctx;

static clance_status next_node(lctx *c, const cl_field *f, int64_t *len, int64_t *nulls,
                               clance_error *err) {
  if (c->ni >= c->nodes.n)
    return corrupt(c->r, err, "record batch has fewer field nodes than the schema needs");
  const uint8_t *p = fb_vec_at(&c->nodes, c->ni++);
  *len = (int64_t)cl_le64(p);
  *nulls = (int64_t)cl_le64(p + 8);
  if (*len < 0 || *nulls < 0 || *nulls > *len)
    return corrupt(c->r, err, "column \"%s\": bad length %lld / null count %lld", f->name,
                   (long long)*len, (long long)*nulls);
  return CLANCE_OK;
}

static clance_status next_buffer(lctx *c, uint64_t *off, uint64_t *len, clance_error *err) {
  if (c->bi >= c->bufs.n)
    return corrupt(c->r, err, "record batch has fewer buffers than the schema needs");
  const uint8_t *p = fb_vec_at(&c->bufs, c->bi);
  *off = cl_le64(p);
  *len = cl_le64(p + 8);
  if (*off > c->body_len || *len > c->body_len - *off)
    return corrupt(c->r, err, "buffer %u (offset %lld, length %lld) lies outside the body of "
                   "%llu bytes", (unsigned)c->bi, (long long)*off, (long long)*len,
                   (unsigned long long)c->body_len);
  c->bi++;
  return CLANCE_OK;
}

/* Load the next buffer, of which `need` bytes are used. *ptr is never NULL;
 * *owner is NULL for the shared zero block. With `share`, an uncompressed
 * buffer is referenced in the input when the reader has an input owner, it
 * is 8-byte aligned and 64 bytes of input follow it (consumers may read
 * whole words past the end). */
static clance_status load_buffer(lctx *c, const cl_field *f, uint64_t need, int share,
                                 const void **ptr, rbuf **owner, clance_error *err) {
  uint64_t off = 0, blen = 0;
  CL_TRY(next_buffer(c, &off, &blen, err));
  const uint8_t *src = c->body + off;
  uint64_t avail = blen;
  *ptr = zero_block;
  *owner = NULL;
  if (c->codec >= 0 && blen > 0) {
    if (blen < 8)
      return corrupt(c->r, err, "column \"%s\": compressed buffer of %llu bytes has no length "
                     "prefix", f->name, (unsigned long long)blen);
    int64_t ulen = (int64_t)cl_le64(src);
    src += 8;
    avail -= 8;
    if (ulen != -1) {
      /* No codec expands by more than 2^16 (zstd tops out near 2^15). */
      if (ulen < 0 || (uint64_t)ulen / 65536 > avail + 16)
        return corrupt(c->r, err, "column \"%s\": impossible uncompressed length %lld for %llu "
                       "compressed bytes", f->name, (long long)ulen, (unsigned long long)avail);
      if (need > (uint64_t)ulen)
        return corrupt(c->r, err, "column \"%s\": buffer of %lld bytes, needs %llu", f->name,
                       (long long)ulen, (unsigned long long)need);
      if (need == 0)
        return CLANCE_OK;
      rbuf *b = rbuf_new((uint64_t)ulen, err);
      if (!b)
        return err->code;
      clance_status st = cl_ipc_decompress(c->codec, src, (size_t)avail, rbuf_data(b),
                                           (size_t)ulen, c->r->what, err);
      if (st) {
        rbuf_unref(b);
        return st;
      }
      *ptr = rbuf_data(b);
      *owner = b;
      return CLANCE_OK;
    }
  }
  if (need > avail)
    return corrupt(c->r, err, "column \"%s\": buffer of %llu bytes, needs %llu", f->name,
                   (unsigned long long)avail, (unsigned long long)need);
  if (need == 0)
    return CLANCE_OK;
  if (share && c->r->input && ((uintptr_t)src & 7) == 0 &&
      (size_t)(c->r->data + c->r->len - src) >= need + 64) {
    atomic_fetch_add(&c->r->input->refs, 1);
    *ptr = src;
    *owner = c->r->input;
    return CLANCE_OK;
  }
  rbuf *b = rbuf_new(need, err);
  if (!b)
    return err->code;
  memcpy(rbuf_data(b), src, (size_t)need);
  *ptr = rbuf_data(b);
  *owner = b;
  return CLANCE_OK;
}

static clance_status load_into(lctx *c, const cl_field *f, uint64_t need, rnode *p, int slot,
                               clance_error *err) {
  return load_buffer(c, f, need, 1, &p->ptrs[slot], &p->bufs[slot], err);
}

/* The validity bitmap; *nulls becomes the true count of zero bits. */
static clance_status load_validity(lctx *c, const cl_field *f, int64_t len, int64_t *nulls,
                                   rnode *p, clance_error *err) {
  if (*nulls == 0) {
    uint64_t off = 0, blen = 0;
    return next_buffer(c, &off, &blen, err);
  }
  CL_TRY(load_into(c, f, ((uint64_t)len + 7) / 8, p, 0, err));
  *nulls = cl_bits_count_zero(p->ptrs[0], 0, len);
  if (*nulls == 0) {
    rbuf_unref(p->bufs[0]);
    p->bufs[0] = NULL;
    p->ptrs[0] = NULL;
  }
  return CLANCE_OK;
}

/* Offsets of a var-width or list array: checked to start at >= 0 and never
 * decrease; *last = the final offset. */
static clance_status load_offsets(lctx *c, const cl_field *f, int64_t len, rnode *p,
                                  int64_t *last, clance_error *err) {
  int large = cl_type_is_large(f->type);
  uint64_t need = 0;
  if (len > 0 && cl_mul_overflows((uint64_t)len + 1, large ? 8 : 4, &need))
    return corrupt(c->r, err, "column \"%s\": length overflow", f->name);
  CL_TRY(load_into(c, f, need, p, 1, err));
  const uint8_t *o = p->ptrs[1];
  if (len <= 0) {
    *last = 0;
    return CLANCE_OK;
  }
  /* (buffers are 8-byte aligned, in the input or copied) */
  int64_t bad = cl_offsets_first_bad(o, large, len);
  if (bad >= 0)
    return corrupt(c->r, err, "column \"%s\": offsets are negative or decrease at %lld",
                   f->name, (long long)bad);
  *last = large ? (int64_t)cl_le64(o + 8 * len) : (int32_t)cl_le32(o + 4 * len);
  return CLANCE_OK;
}

static int64_t read_index(const uint8_t *p, cl_type_id t, int64_t i) {
  switch (t) {
  case CL_TYPE_INT8: return (int8_t)p[i];
  case CL_TYPE_UINT8: return p[i];
  case CL_TYPE_INT16: return (int16_t)cl_le16(p + 2 * i);
  case CL_TYPE_UINT16: return cl_le16(p + 2 * i);
  case CL_TYPE_INT32: return (int32_t)cl_le32(p + 4 * i);
  case CL_TYPE_UINT32: return cl_le32(p + 4 * i);
  case CL_TYPE_INT64: return (int64_t)cl_le64(p + 8 * i);
  default: {
    uint64_t v = cl_le64(p + 8 * i);
    return v > INT64_MAX ? -1 : (int64_t)v;
  }
  }
}

static void zero_index(uint8_t *p, cl_type_id t, int64_t i) {
  size_t w = cl_type_bits(&(cl_field){.type = t}) / 8;
  memset(p + (size_t)i * w, 0, w);
}

/* Plain array of the dictionary's values for the indices of `idx`. */
static clance_status decode_dict(const cl_ipc_reader *r, const cl_field *f,
                                 const struct ArrowArray *idx, const struct ArrowArray *dict,
                                 struct ArrowArray *out, clance_error *err) {
  cl_arr b;
  CL_TRY(cl_arr_init(&b, &f->children[0], err));
  const uint8_t *ix = idx->buffers[1];
  clance_status st = CLANCE_OK;
  for (int64_t i = 0; i < idx->length && !st;) {
    if (!cl_array_valid(idx, i)) {
      int64_t j = i + 1;
      while (j < idx->length && !cl_array_valid(idx, j))
        j++;
      st = cl_arr_append_nulls(&b, j - i, err);
      i = j;
      continue;
    }
    int64_t k = read_index(ix, f->index_type, i), j = i + 1;
    while (j < idx->length && cl_array_valid(idx, j) &&
           read_index(ix, f->index_type, j) == k + (j - i))
      j++;
    st = cl_arr_append_from(&b, dict, k, j - i, err);
    i = j;
    if (!st && cl_arr_nbytes(&b) > r->max_decoded)
      st = cl_err(err, CLANCE_EUNSUPPORTED,
                  "decoding the dictionary gives more than %llu bytes in one batch (keep the "
                  "dictionary or raise max_decoded_bytes)", (unsigned long long)r->max_decoded);
  }
  if (!st)
    st = cl_arr_export(&b, out, err);
  cl_arr_free(&b);
  if (st && st != CLANCE_ENOMEM)
    cl_err_ctx(err, "%s: column \"%s\": ", r->what, f->name);
  return st;
}

static clance_status load_node(lctx *c, const cl_field *f, int depth, struct ArrowArray *out,
                               clance_error *err);

static clance_status empty_array(const cl_field *f, struct ArrowArray *out, clance_error *err) {
  cl_arr b;
  CL_TRY(cl_arr_init(&b, f, err));
  clance_status st = cl_arr_export(&b, out, err);
  cl_arr_free(&b);
  return st;
}

static clance_status load_child(lctx *c, const cl_field *f, const cl_field *cf, int depth,
                                struct ArrowArray *out, int64_t need, clance_error *err) {
  CL_TRY(load_node(c, cf, depth + 1, out, err));
  if (out->length < need)
    return corrupt(c->r, err, "column \"%s\": child \"%s\" has %lld values, needs %lld", f->name,
                   cf->name, (long long)out->length, (long long)need);
  return CLANCE_OK;
}

static clance_status load_body(lctx *c, const cl_field *f, int depth, int64_t len, int64_t nulls,
                               struct ArrowArray *out, rnode *p, clance_error *err) {
  CL_TRY(load_validity(c, f, len, &nulls, p, err));
  out->null_count = nulls;
  uint64_t need;
  int64_t last;
  switch (f->type) {
  case CL_TYPE_BOOL: return load_into(c, f, ((uint64_t)len + 7) / 8, p, 1, err);
  case CL_TYPE_UTF8:
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_BINARY:
  case CL_TYPE_LARGE_BINARY:
    CL_TRY(load_offsets(c, f, len, p, &last, err));
    return load_into(c, f, (uint64_t)last, p, 2, err);
  case CL_TYPE_LIST:
  case CL_TYPE_LARGE_LIST:
    CL_TRY(load_offsets(c, f, len, p, &last, err));
    return load_child(c, f, &f->children[0], depth, &p->kids[0], last, err);
  case CL_TYPE_FIXED_SIZE_LIST:
    if (cl_mul_overflows((uint64_t)len, (uint64_t)f->size, &need) || need > INT64_MAX)
      return corrupt(c->r, err, "column \"%s\": length overflow", f->name);
    return load_child(c, f, &f->children[0], depth, &p->kids[0], (int64_t)need, err);
  case CL_TYPE_STRUCT:
    for (size_t i = 0; i < f->n_children; i++)
      CL_TRY(load_child(c, f, &f->children[i], depth, &p->kids[i], len, err));
    return CLANCE_OK;
  case CL_TYPE_DICTIONARY: {
    if (c->dict_i >= c->r->n_dfields || c->r->dfields[c->dict_i].field != f)
      return cl_err(err, CLANCE_EINTERNAL, "%s: dictionary field order", c->r->what);
    dict_state *d = &c->r->states[c->r->dfield_state[c->dict_i++]];
    size_t w = cl_type_bits(&(cl_field){.type = f->index_type}) / 8;
    if (cl_mul_overflows((uint64_t)len, w, &need))
      return corrupt(c->r, err, "column \"%s\": length overflow", f->name);
    /* a copy: indices under nulls are zeroed below */
    CL_TRY(load_buffer(c, f, need, 0, &p->ptrs[1], &p->bufs[1], err));
    if (len == 0 && !d->cur) { /* nothing refers to the (absent) dictionary */
      if (c->r->decode)
        return CLANCE_OK; /* load_node makes an empty value array */
      CL_TRY(empty_array(&f->children[0], &p->dict, err));
      out->dictionary = &p->dict;
      return CLANCE_OK;
    }
    if (!d->cur)
      return corrupt(c->r, err, "column \"%s\": dictionary %lld was never sent", f->name,
                     (long long)d->id);
    int64_t n = d->cur->arr.length;
    uint8_t *ix = (uint8_t *)p->ptrs[1];
    for (int64_t i = 0; i < len; i++) {
      if (!cl_array_valid(out, i)) {
        zero_index(ix, f->index_type, i); /* our own copy: no garbage for consumers */
        continue;
      }
      int64_t k = read_index(ix, f->index_type, i);
      if (k < 0 || k >= n)
        return corrupt(c->r, err, "column \"%s\": dictionary index %lld at %lld is outside the "
                       "dictionary of %lld values", f->name, (long long)k, (long long)i,
                       (long long)n);
    }
    if (c->r->decode)
      return CLANCE_OK; /* decoded by load_node */
    CL_TRY(mirror(&d->cur->arr, d->cur, &p->dict, err));
    out->dictionary = &p->dict;
    return CLANCE_OK;
  }
  default: {
    uint32_t bits = cl_type_bits(f);
    if (bits == 0 || bits % 8)
      return cl_err(err, CLANCE_EINTERNAL, "%s: no layout for %s", c->r->what,
                    cl_type_name(f->type));
    if (cl_mul_overflows((uint64_t)len, bits / 8, &need))
      return corrupt(c->r, err, "column \"%s\": length overflow", f->name);
    return load_into(c, f, need, p, 1, err);
  }
  }
}

static clance_status load_node(lctx *c, const cl_field *f, int depth, struct ArrowArray *out,
                               clance_error *err) {
  memset(out, 0, sizeof *out);
  if (depth > CL_IPC_MAX_DEPTH + 1)
    return cl_err(err, CLANCE_EINTERNAL, "%s: nesting too deep", c->r->what);
  int64_t len = 0, nulls = 0;
  CL_TRY(next_node(c, f, &len, &nulls, err));
  int64_t nb = 2, nk = 0;
  switch (f->type) {
  case CL_TYPE_NULL: nb = 0; break;
  case CL_TYPE_UTF8:
  case CL_TYPE_LARGE_UTF8:
  case CL_TYPE_BINARY:
  case CL_TYPE_LARGE_BINARY: nb = 3; break;
  case CL_TYPE_LIST:
  case CL_TYPE_LARGE_LIST: nk = 1; break;
  case CL_TYPE_FIXED_SIZE_LIST: nb = 1; nk = 1; break;
  case CL_TYPE_STRUCT: nb = 1; nk = (int64_t)f->n_children; break;
  default: break;
  }
  CL_TRY(rnode_new(out, nb, nk, err));
  out->length = len;
  if (f->type == CL_TYPE_NULL) {
    out->null_count = len; /* no buffers in IPC */
    return CLANCE_OK;
  }
  clance_status st = load_body(c, f, depth, len, nulls, out, out->private_data, err);
  if (!st && f->type == CL_TYPE_DICTIONARY && c->r->decode) {
    struct ArrowArray plain;
    dict_state *d = &c->r->states[c->r->dfield_state[c->dict_i - 1]];
    if (d->cur) {
      st = decode_dict(c->r, f, out, &d->cur->arr, &plain, err);
    } else { /* empty column without a dictionary */
      st = empty_array(&f->children[0], &plain, err);
    }
    if (!st) {
      out->release(out);
      *out = plain;
      return CLANCE_OK;
    }
  }
  if (st && out->release)
    out->release(out);
  return st;
}

/* Load the columns of a RecordBatch table; returns its length. */
static clance_status load_record(cl_ipc_reader *r, const ipc_msg *m, const fb_table *rb,
                                 const cl_field *fields, size_t n_fields, struct ArrowArray *kids,
                                 int64_t *length, clance_error *err) {
  lctx c;
  memset(&c, 0, sizeof c);
  c.r = r;
  c.body = m->body;
  c.body_len = m->body_len;
  c.codec = -1;
  fb_table comp;
  int has_comp;
  if (fb_get_i64(rb, RB_LENGTH, 0, length) ||
      fb_get_vec(rb, RB_NODES, IPC_NODE_SIZE, &c.nodes) < 0 ||
      fb_get_vec(rb, RB_BUFFERS, IPC_BUFFER_SIZE, &c.bufs) < 0 ||
      (has_comp = fb_get_table(rb, RB_COMPRESSION, &comp)) < 0)
    return corrupt(r, err, "message at byte %zu: malformed RecordBatch", m->start);
  if (*length < 0)
    return corrupt(r, err, "record batch has negative length %lld", (long long)*length);
  if (has_comp) {
    uint8_t codec, method;
    if (fb_get_u8(&comp, COMPRESSION_CODEC, IPC_CODEC_LZ4_FRAME, &codec) ||
        fb_get_u8(&comp, COMPRESSION_METHOD, 0, &method))
      return corrupt(r, err, "malformed BodyCompression");
    if (codec > IPC_CODEC_ZSTD || method != 0)
      return cl_err(err, CLANCE_EUNSUPPORTED,
                    "%s: body compression codec %u / method %u is not supported", r->what,
                    (unsigned)codec, (unsigned)method);
    c.codec = codec;
  }
  clance_status st = CLANCE_OK;
  size_t i;
  for (i = 0; i < n_fields && !st; i++) {
    st = load_node(&c, &fields[i], 1, &kids[i], err);
    if (!st && kids[i].length != *length)
      st = corrupt(r, err, "column \"%s\" has %lld rows, the batch %lld", fields[i].name,
                   (long long)kids[i].length, (long long)*length);
  }
  if (!st && (c.ni != c.nodes.n || c.bi != c.bufs.n))
    st = corrupt(r, err, "record batch has %u field nodes and %u buffers, the schema needs %u "
                 "and %u", (unsigned)c.nodes.n, (unsigned)c.bufs.n, (unsigned)c.ni,
                 (unsigned)c.bi);
  if (st)
    for (size_t k = 0; k < i; k++)
      if (kids[k].release)
        kids[k].release(&kids[k]);
  return st;
}

static clance_status load_batch(cl_ipc_reader *r, const ipc_msg *m, struct ArrowArray *out,
                                clance_error *err) {
  CL_TRY(rnode_new(out, 1, (int64_t)r->schema.n_fields, err));
  rnode *p = out->private_data;
  int64_t length;
  clance_status st =
      load_record(r, m, &m->header, r->schema.fields, r->schema.n_fields, p->kids, &length, err);
  if (st) {
    out->release(out);
    return st;
  }
  out->length = length;
  return CLANCE_OK;
}

static dict_state *find_state(cl_ipc_reader *r, int64_t id) {
  for (size_t i = 0; i < r->n_states; i++)
    if (r->states[i].id == id)
      return &r->states[i];
  return NULL;
}

static clance_status apply_dictionary(cl_ipc_reader *r, const ipc_msg *m, clance_error *err) {
  int64_t id;
  fb_table data;
  int delta, has_data;
  if (fb_get_i64(&m->header, DICTBATCH_ID, 0, &id) ||
      (has_data = fb_get_table(&m->header, DICTBATCH_DATA, &data)) < 0 ||
      fb_get_bool(&m->header, DICTBATCH_DELTA, 0, &delta))
    return corrupt(r, err, "message at byte %zu: malformed DictionaryBatch", m->start);
  if (!has_data)
    return corrupt(r, err, "dictionary batch %lld has no data", (long long)id);
  dict_state *d = find_state(r, id);
  if (!d)
    return corrupt(r, err, "dictionary batch for unknown dictionary id %lld", (long long)id);
  if (r->is_file && d->cur && !delta)
    return corrupt(r, err, "dictionary %lld is replaced, which the IPC file format forbids",
                   (long long)id);
  struct ArrowArray col;
  int64_t length;
  cl_field vf = *d->value; /* name the column after the dictionary */
  char name[48];
  snprintf(name, sizeof name, "dictionary %lld", (long long)id);
  vf.name = name;
  CL_TRY(load_record(r, m, &data, &vf, 1, &col, &length, err));
  if (delta && d->cur && d->cur->arr.length > 0) {
    if (col.length > INT64_MAX - d->cur->arr.length) {
      col.release(&col);
      return corrupt(r, err, "dictionary %lld grows too large", (long long)id);
    }
    cl_arr b;
    struct ArrowArray joined;
    clance_status st = cl_arr_init(&b, d->value, err);
    if (!st)
      st = cl_arr_append_from(&b, &d->cur->arr, 0, d->cur->arr.length, err);
    if (!st)
      st = cl_arr_append_from(&b, &col, 0, col.length, err);
    if (!st)
      st = cl_arr_export(&b, &joined, err);
    cl_arr_free(&b);
    col.release(&col);
    if (st && st != CLANCE_ENOMEM)
      cl_err_ctx(err, "%s: dictionary %lld: ", r->what, (long long)id);
    if (st)
      return st;
    col = joined;
  }
  rarr *h = cl_calloc(1, sizeof *h, err);
  if (!h) {
    col.release(&col);
    return err->code;
  }
  atomic_init(&h->refs, 1);
  h->arr = col;
  rarr_unref(d->cur);
  d->cur = h;
  return CLANCE_OK;
}

/* Replace dictionary fields by their value types (keeping name, nullability
 * and metadata). */
static void undict(cl_field *f) {
  if (f->type == CL_TYPE_DICTIONARY) {
    cl_field v = f->children[0];
    free(f->children);
    f->type = v.type;
    f->size = v.size;
    f->scale = v.scale;
    f->unit = v.unit;
    f->tz = v.tz;
    f->index_type = CL_TYPE_NULL;
    f->children = v.children;
    f->n_children = v.n_children;
    free(v.name);
    cl_meta_free(&v.metadata);
  }
  for (size_t i = 0; i < f->n_children; i++)
    undict(&f->children[i]);
}

static clance_status setup_schema(cl_ipc_reader *r, const fb_table *schema, clance_error *err) {
  CL_TRY(cl_ipc_schema_read(schema, r->what, r->len, &r->schema, &r->dfields, &r->n_dfields, err));
  if (r->n_dfields) {
    r->dfield_state = cl_calloc(r->n_dfields, sizeof *r->dfield_state, err);
    r->states = cl_calloc(r->n_dfields, sizeof *r->states, err);
    if (!r->dfield_state || !r->states)
      return err->code;
    for (size_t i = 0; i < r->n_dfields; i++) {
      dict_state *d = find_state(r, r->dfields[i].id);
      if (!d) {
        d = &r->states[r->n_states++];
        d->id = r->dfields[i].id;
        d->value = &r->dfields[i].field->children[0];
      }
      r->dfield_state[i] = (size_t)(d - r->states);
    }
  }
  if (r->decode) {
    CL_TRY(cl_schema_copy(&r->schema, &r->out_schema, err));
    for (size_t i = 0; i < r->out_schema.n_fields; i++)
      undict(&r->out_schema.fields[i]);
  }
  return CLANCE_OK;
}

static const uint8_t magic[6] = {'A', 'R', 'R', 'O', 'W', '1'};

static clance_status open_file(cl_ipc_reader *r, clance_error *err) {
  /* magic + padding, footer, int32 footer length, magic */
  if (r->len < 8 + 4 + 6 || memcmp(r->data + r->len - 6, magic, 6) != 0)
    return corrupt(r, err, "not an Arrow IPC file: the trailing \"ARROW1\" is missing "
                   "(truncated?)");
  uint32_t flen = cl_le32(r->data + r->len - 10);
  if (flen == 0 || flen > r->len - 18)
    return corrupt(r, err, "bad footer length %u", (unsigned)flen);
  size_t fstart = r->len - 10 - flen;
  fb_table footer, schema;
  int16_t version;
  fb_vec dicts;
  if (fb_root(r->data + fstart, flen, &footer) ||
      fb_get_i16(&footer, FOOTER_VERSION, 0, &version) ||
      fb_get_table(&footer, FOOTER_SCHEMA, &schema) <= 0 ||
      fb_get_vec(&footer, FOOTER_DICTIONARIES, IPC_BLOCK_SIZE, &dicts) < 0 ||
      fb_get_vec(&footer, FOOTER_BATCHES, IPC_BLOCK_SIZE, &r->blocks) < 0)
    return corrupt(r, err, "malformed footer");
  if (version < IPC_V4 || version > IPC_V5)
    return cl_err(err, CLANCE_EUNSUPPORTED, "%s: Arrow IPC metadata version V%d is not supported",
                  r->what, version + 1);
  r->body_end = fstart;
  CL_TRY(setup_schema(r, &schema, err));
  for (uint32_t i = 0; i < dicts.n; i++) {
    const uint8_t *b = fb_vec_at(&dicts, i);
    uint64_t off = cl_le64(b);
    ipc_msg m;
    if (off < 8 || off >= r->body_end)
      return corrupt(r, err, "dictionary block %u at offset %lld is outside the file",
                     (unsigned)i, (long long)off);
    CL_TRY(read_message(r, (size_t)off, r->body_end, &m, err));
    if (m.eos || m.type != IPC_HDR_DICTIONARY)
      return corrupt(r, err, "dictionary block %u is not a dictionary batch", (unsigned)i);
    CL_TRY(apply_dictionary(r, &m, err));
  }
  return CLANCE_OK;
}

static clance_status open_stream(cl_ipc_reader *r, clance_error *err) {
  ipc_msg m;
  CL_TRY(read_message(r, 0, r->len, &m, err));
  if (m.eos)
    return corrupt(r, err, "empty Arrow IPC stream (no schema)");
  if (m.type != IPC_HDR_SCHEMA)
    return corrupt(r, err, "Arrow IPC stream does not start with a schema");
  CL_TRY(setup_schema(r, &m.header, err));
  r->pos = m.next;
  return CLANCE_OK;
}

clance_status cl_ipc_reader_open_ex(const uint8_t *data, size_t len, const char *what,
                                    const cl_ipc_read_options *options, cl_ipc_reader **out,
                                    clance_error *err) {
  CL_PUBLIC_ERR(err, local_err);
  *out = NULL;
  cl_ipc_reader *r = cl_calloc(1, sizeof *r, err);
  if (!r)
    return err->code;
  r->data = data;
  r->len = data ? len : 0;
  r->decode = options && options->decode_dictionaries;
  r->max_decoded = options && options->max_decoded_bytes ? options->max_decoded_bytes
                                                         : (uint64_t)1 << 30;
  if (options && options->owner_release) {
    if (!(r->input = rbuf_new(0, err))) {
      free(r);
      options->owner_release(options->owner);
      return err->code;
    }
    r->input->ext_release = options->owner_release;
    r->input->ext = options->owner;
  }
  if (!(r->what = cl_strdup(what ? what : "Arrow IPC", err))) {
    rbuf_unref(r->input);
    free(r);
    return err->code;
  }
  r->is_file = r->len >= 6 && memcmp(r->data, magic, 6) == 0;
  clance_status st = r->is_file ? open_file(r, err) : open_stream(r, err);
  if (st) {
    cl_ipc_reader_free(r);
    return st;
  }
  *out = r;
  return CLANCE_OK;
}

clance_status cl_ipc_reader_open(const uint8_t *data, size_t len, const char *what,
                                 cl_ipc_reader **out, clance_error *err) {
  return cl_ipc_reader_open_ex(data, len, what, NULL, out, err);
}

const cl_schema *cl_ipc_reader_schema(const cl_ipc_reader *r) {
  return r->decode ? &r->out_schema : &r->schema;
}

int cl_ipc_reader_is_file(const cl_ipc_reader *r) { return r->is_file; }

int64_t cl_ipc_reader_num_batches(const cl_ipc_reader *r) {
  return r->is_file ? (int64_t)r->blocks.n : -1;
}

static clance_status next_file(cl_ipc_reader *r, struct ArrowArray *out, int *done,
                               clance_error *err) {
  if (r->next_block >= r->blocks.n) {
    *done = 1;
    return CLANCE_OK;
  }
  uint32_t i = r->next_block++;
  uint64_t off = cl_le64(fb_vec_at(&r->blocks, i));
  ipc_msg m;
  if (off < 8 || off >= r->body_end)
    return corrupt(r, err, "record batch block %u at offset %lld is outside the file",
                   (unsigned)i, (long long)off);
  CL_TRY(read_message(r, (size_t)off, r->body_end, &m, err));
  if (m.eos || m.type != IPC_HDR_RECORD_BATCH)
    return corrupt(r, err, "record batch block %u is not a record batch", (unsigned)i);
  return load_batch(r, &m, out, err);
}

static clance_status next_stream(cl_ipc_reader *r, struct ArrowArray *out, int *done,
                                 clance_error *err) {
  for (;;) {
    if (r->done) {
      *done = 1;
      return CLANCE_OK;
    }
    ipc_msg m;
    CL_TRY(read_message(r, r->pos, r->len, &m, err));
    if (m.eos) {
      r->done = 1;
      continue;
    }
    r->pos = m.next;
    switch (m.type) {
    case IPC_HDR_DICTIONARY: CL_TRY(apply_dictionary(r, &m, err)); break;
    case IPC_HDR_RECORD_BATCH: return load_batch(r, &m, out, err);
    case IPC_HDR_SCHEMA:
      return corrupt(r, err, "unexpected schema message at byte %zu", m.start);
    case 4:
    case 5:
      return cl_err(err, CLANCE_EUNSUPPORTED, "%s: tensor messages are not supported", r->what);
    default:
      return corrupt(r, err, "unknown message type %u at byte %zu", (unsigned)m.type, m.start);
    }
  }
}

clance_status cl_ipc_reader_next(cl_ipc_reader *r, struct ArrowArray *out, int *done,
                                 clance_error *err) {
  CL_PUBLIC_ERR(err, local_err);
  memset(out, 0, sizeof *out);
  *done = 0;
  if (r->failed)
    return cl_err(err, CLANCE_EINVAL, "%s: reading already failed", r->what);
  clance_status st = r->is_file ? next_file(r, out, done, err) : next_stream(r, out, done, err);
  if (st) {
    r->failed = 1;
    memset(out, 0, sizeof *out);
  }
  return st;
}

size_t cl_ipc_reader_position(const cl_ipc_reader *r) {
  if (!r->is_file)
    return r->pos;
  if (r->next_block < r->blocks.n) {
    uint64_t off = cl_le64(fb_vec_at(&r->blocks, r->next_block));
    return off < r->body_end ? (size_t)off : r->body_end;
  }
  return r->body_end;
}

void cl_ipc_reader_free(cl_ipc_reader *r) {
  if (!r)
    return;
  for (size_t i = 0; i < r->n_states; i++)
    rarr_unref(r->states[i].cur);
  free(r->states);
  free(r->dfield_state);
  free(r->dfields);
  cl_schema_free(&r->schema);
  cl_schema_free(&r->out_schema);
  free(r->what);
  rbuf_unref(r->input);
  free(r);
}

clance_status cl_ipc_read_stream_ex(const uint8_t *data, size_t len, const char *what,
                                    const cl_ipc_read_options *options,
                                    struct ArrowArrayStream *out, clance_error *err) {
  CL_PUBLIC_ERR(err, local_err);
  memset(out, 0, sizeof *out);
  cl_ipc_reader *r;
  CL_TRY(cl_ipc_reader_open_ex(data, len, what, options, &r, err));
  struct ArrowArray *batches = NULL;
  size_t n = 0, cap = 0;
  clance_status st;
  for (;;) {
    if (n == cap) {
      size_t nc = cap ? 2 * cap : 8;
      struct ArrowArray *nb = realloc(batches, nc * sizeof *nb);
      if (!nb) {
        st = cl_err_nomem(err, "Arrow IPC batches");
        goto fail;
      }
      batches = nb;
      cap = nc;
    }
    int done;
    if ((st = cl_ipc_reader_next(r, &batches[n], &done, err)))
      goto fail;
    if (done)
      break;
    n++;
  }
  st = cl_stream_from_batches(cl_ipc_reader_schema(r), batches, n, out, err);
  free(batches);
  cl_ipc_reader_free(r);
  return st;
fail:
  for (size_t i = 0; i < n; i++)
    batches[i].release(&batches[i]);
  free(batches);
  cl_ipc_reader_free(r);
  return st;
}

clance_status cl_ipc_read_stream(const uint8_t *data, size_t len, const char *what,
                                 struct ArrowArrayStream *out, clance_error *err) {
  return cl_ipc_read_stream_ex(data, len, what, NULL, out, err);
}
