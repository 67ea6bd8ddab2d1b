/* File format 2.1/2.2 page decoder: mini-block, full-zip and constant
 * (all-null) layouts. Each layout yields the page's visible leaf values and
 * its repetition/definition levels; flat columns turn the levels into
 * validity directly, nested ones go through the level assembler. */
#include <stdlib.h>
#include <string.h>

#include "encoding/decode.h"
#include "encoding/repdef.h"

typedef Lance__Encodings21__MiniBlockLayout mb_layout;
typedef Lance__Encodings21__FullZipLayout fz_layout;
typedef Lance__Encodings21__ConstantLayout const_layout;

clance_status cl_page_read_buffer(const cl_page_ctx *ctx, size_t i, cl_buf *out, clance_error *err) {
  out->len = 0;
  if (i >= ctx->page->n_bufs)
    return cl_err(err, CLANCE_ECORRUPT, "%s: page has %zu buffers, buffer %zu is needed", ctx->what,
                  ctx->page->n_bufs, i);
  uint64_t len = ctx->page->buf_sizes[i];
  /* Sizes were checked against the file size when the column was loaded. */
  CL_TRY(cl_buf_reserve(out, (size_t)len + 8, err));
  clance_status st = cl_container_read(ctx->file, ctx->page->buf_offsets[i], len, out->data, err);
  if (st) { /* callers may not free a buffer whose read failed */
    cl_buf_free(out);
    return st;
  }
  out->len = (size_t)len;
  return CLANCE_OK;
}

/* ---- the page's levels ---- */

typedef struct page_levels {
  uint16_t *rep, *def; /* NULL when the page stores none */
  uint64_t n, cap;
} page_levels;

static void levels_free(page_levels *l) {
  free(l->rep);
  free(l->def);
  memset(l, 0, sizeof *l);
}

/* Make room for `more` entries; allocate rep/def arrays on first use. */
static clance_status levels_grow(page_levels *l, int has_rep, int has_def, uint64_t more,
                                 clance_error *err) {
  if (l->n + more <= l->cap && (!has_rep || l->rep) && (!has_def || l->def))
    return CLANCE_OK;
  uint64_t cap = l->cap ? l->cap : 1024;
  while (cap < l->n + more)
    cap *= 2;
  if (cap > ((uint64_t)1 << 40))
    return cl_err(err, CLANCE_ECORRUPT, "implausible number of level entries");
  if (has_rep) {
    uint16_t *p = realloc(l->rep, (size_t)cap * sizeof *p);
    if (!p)
      return cl_err_nomem(err, "levels");
    l->rep = p;
  }
  if (has_def) {
    uint16_t *p = realloc(l->def, (size_t)cap * sizeof *p);
    if (!p)
      return cl_err_nomem(err, "levels");
    l->def = p;
  }
  l->cap = cap;
  return CLANCE_OK;
}

/* ---- dictionary support ---- */

static uint32_t enc_value_bits(const pb21_enc *e) {
  if (!e)
    return 0;
  switch (e->compression_case) {
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT:
    return (uint32_t)e->flat->bits_per_value;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING:
    return (uint32_t)e->inline_bitpacking->uncompressed_bits_per_value;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_RLE:
    return enc_value_bits(e->rle->values);
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL:
    return enc_value_bits(e->general->values);
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_BYTE_STREAM_SPLIT:
    return enc_value_bits(e->byte_stream_split->values);
  default: return 0;
  }
}

static cl_type_id uint_type(uint32_t bits) {
  switch (bits) {
  case 8: return CL_TYPE_UINT8;
  case 16: return CL_TYPE_UINT16;
  case 32: return CL_TYPE_UINT32;
  case 64: return CL_TYPE_UINT64;
  }
  return CL_TYPE_NULL;
}

static uint64_t index_at(const uint8_t *p, uint32_t bits, uint64_t i) {
  switch (bits) {
  case 8: return p[i];
  case 16: return cl_le16(p + 2 * i);
  case 32: return cl_le32(p + 4 * i);
  default: return cl_le64(p + 8 * i);
  }
}

/* Append the dictionary entries named by idx[0..n) to the values builder. */
static clance_status gather(cl_arr *out, const cl_arr *dict, uint64_t dict_n, const uint8_t *idx,
                            uint32_t ibits, uint64_t n, const char *what, clance_error *err) {
  const cl_field *f = out->field;
  if (cl_type_is_binary_like(f->type)) {
    int large = cl_type_is_large(f->type);
    for (uint64_t i = 0; i < n; i++) {
      uint64_t k = index_at(idx, ibits, i);
      if (k >= dict_n)
        return cl_err(err, CLANCE_ECORRUPT, "%s: dictionary index %llu out of range (%llu entries)",
                      what, (unsigned long long)k, (unsigned long long)dict_n);
      uint64_t a = large ? cl_le64(dict->offsets.data + 8 * k) : cl_le32(dict->offsets.data + 4 * k);
      uint64_t b = large ? cl_le64(dict->offsets.data + 8 * (k + 1))
                         : cl_le32(dict->offsets.data + 4 * (k + 1));
      CL_TRY(cl_buf_append(&out->values, dict->values.data + a, (size_t)(b - a), err));
      CL_TRY(cl_arr_push_offset(out, out->values.len, err));
    }
  } else {
    uint32_t bits = cl_type_bits(f);
    if (bits < 8 || bits % 8 || f->type == CL_TYPE_FIXED_SIZE_LIST)
      return cl_err(err, CLANCE_EUNSUPPORTED, "%s: dictionary of %s values", what, cl_type_name(f->type));
    size_t w = bits / 8;
    CL_TRY(cl_buf_reserve(&out->values, (size_t)n * w, err));
    for (uint64_t i = 0; i < n; i++) {
      uint64_t k = index_at(idx, ibits, i);
      if (k >= dict_n)
        return cl_err(err, CLANCE_ECORRUPT, "%s: dictionary index %llu out of range", what,
                      (unsigned long long)k);
      memcpy(out->values.data + out->values.len, dict->values.data + k * w, w);
      out->values.len += w;
    }
  }
  out->length += (int64_t)n;
  return CLANCE_OK;
}

/* ---- mini-block ---- */

typedef struct mb_chunk {
  uint64_t offset, size, values;
} mb_chunk;

static clance_status decode_miniblock(const cl_page_ctx *ctx, const mb_layout *mb, const cl_field *f,
                                      cl_arr *out, page_levels *lv, clance_error *err) {
  const char *what = ctx->what;
  if (!mb->value_compression)
    return cl_err(err, CLANCE_ECORRUPT, "%s: mini-block page without a value encoding", what);
  uint64_t nbuf_per_chunk = mb->num_buffers;
  if (nbuf_per_chunk < 1 || nbuf_per_chunk > 8)
    return cl_err(err, CLANCE_ECORRUPT, "%s: mini-block page with %llu value buffers per chunk",
                  what, (unsigned long long)nbuf_per_chunk);
  uint64_t num_items = mb->num_items;
  int has_rep = mb->rep_compression != NULL, has_def = mb->def_compression != NULL;
  int large = mb->has_large_chunk;
  clance_status st = CLANCE_OK;
  cl_buf meta = CL_BUF_INIT, data = CL_BUF_INIT, dictbuf = CL_BUF_INIT;
  mb_chunk *chunks = NULL;
  cl_dec_state ds = {0};
  cl_arr dict;
  int have_dict = 0;
  cl_field idx_field;
  memset(&idx_field, 0, sizeof idx_field);
  uint64_t dict_n = 0;

  CL_CHECK(st, cl_page_read_buffer(ctx, 0, &meta, err));
  CL_CHECK(st, cl_page_read_buffer(ctx, 1, &data, err));
  unsigned ws = large ? 4 : 2;
  size_t n_chunks = meta.len / ws;
  if (meta.len % ws) {
    st = cl_err(err, CLANCE_ECORRUPT, "%s: chunk metadata of %zu bytes", what, meta.len);
    goto fail;
  }
  chunks = cl_calloc(n_chunks ? n_chunks : 1, sizeof *chunks, err);
  if (!chunks) {
    st = err->code;
    goto fail;
  }
  uint64_t off = 0, seen = 0;
  for (size_t c = 0; c < n_chunks; c++) {
    uint32_t w = large ? cl_le32(meta.data + 4 * c) : cl_le16(meta.data + 2 * c);
    chunks[c].offset = off;
    chunks[c].size = ((uint64_t)(w >> 4) + 1) * 8;
    int last = c + 1 == n_chunks;
    if (!last && (w & 15) == 0) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: non-final chunk %zu has log_num_values 0", what, c);
      goto fail;
    }
    chunks[c].values = last ? num_items - seen : (1ull << (w & 15));
    if ((!last && chunks[c].values > num_items - seen) || seen > num_items) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: chunks hold more values than the page", what);
      goto fail;
    }
    seen += chunks[c].values;
    off += chunks[c].size;
  }
  if (off > data.len || (n_chunks == 0 && num_items > 0)) {
    st = cl_err(err, CLANCE_ECORRUPT, "%s: chunks need %llu bytes, the data buffer has %zu", what,
                (unsigned long long)off, data.len);
    goto fail;
  }
  /* Dictionary pages: buffer 2 holds the entries, values are indices. */
  if (mb->dictionary) {
    dict_n = mb->num_dictionary_items;
    CL_CHECK(st, cl_page_read_buffer(ctx, 2, &dictbuf, err));
    CL_CHECK(st, cl_arr_init(&dict, f, err));
    have_dict = 1;
    cl_sink ds_sink = {&dict, f};
    CL_CHECK(st, cl_decode_block_values(mb->dictionary, dictbuf.data, dictbuf.len, dict_n, &ds_sink,
                                        &ds, what, err));
    cl_dec_state_free(&ds);
    uint32_t ib = enc_value_bits(mb->value_compression);
    idx_field.type = uint_type(ib);
    idx_field.name = (char *)"index";
    if (idx_field.type == CL_TYPE_NULL) {
      st = cl_err(err, CLANCE_EUNSUPPORTED, "%s: dictionary indices of %u bits", what, ib);
      goto fail;
    }
  }
  for (size_t c = 0; c < n_chunks; c++) {
    const uint8_t *p = data.data + chunks[c].offset;
    uint64_t size = chunks[c].size, pos, nv = chunks[c].values;
    uint64_t hdr = 2 + (has_rep ? 2 : 0) + (has_def ? 2 : 0) + nbuf_per_chunk * (large ? 4 : 2);
    if (hdr > size) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: chunk %zu is shorter than its header", what, c);
      goto fail;
    }
    uint64_t num_levels = cl_le16(p), rep_size = 0, def_size = 0;
    pos = 2;
    if (has_rep) {
      rep_size = cl_le16(p + pos);
      pos += 2;
    }
    if (has_def) {
      def_size = cl_le16(p + pos);
      pos += 2;
    }
    uint64_t vsize[8];
    for (uint64_t b = 0; b < nbuf_per_chunk; b++) {
      vsize[b] = large ? cl_le32(p + pos) : cl_le16(p + pos);
      pos += large ? 4 : 2;
    }
    pos = (pos + 7) & ~7ull;
    if (has_rep || has_def) {
      /* Every value is a level entry; lists add invisible entries. */
      if (num_levels < nv || (!has_rep && num_levels != nv)) {
        st = cl_err(err, CLANCE_ECORRUPT, "%s: chunk %zu has %llu levels for %llu values", what, c,
                    (unsigned long long)num_levels, (unsigned long long)nv);
        goto fail;
      }
      CL_CHECK(st, levels_grow(lv, has_rep, has_def, num_levels, err));
      if (has_rep) {
        if (pos + rep_size > size) {
          st = cl_err(err, CLANCE_ECORRUPT, "%s: chunk %zu repetition levels overrun it", what, c);
          goto fail;
        }
        CL_CHECK(st, cl_decode_levels(mb->rep_compression, p + pos, (size_t)rep_size, num_levels,
                                      lv->rep + lv->n, what, err));
        pos = (pos + rep_size + 7) & ~7ull;
      }
      if (has_def) {
        if (pos + def_size > size) {
          st = cl_err(err, CLANCE_ECORRUPT, "%s: chunk %zu definition levels overrun it", what, c);
          goto fail;
        }
        CL_CHECK(st, cl_decode_levels(mb->def_compression, p + pos, (size_t)def_size, num_levels,
                                      lv->def + lv->n, what, err));
        pos = (pos + def_size + 7) & ~7ull;
      }
      lv->n += num_levels;
    }
    cl_chunk_bufs cb;
    cb.n = (size_t)nbuf_per_chunk;
    for (uint64_t b = 0; b < nbuf_per_chunk; b++) {
      if (pos > size || vsize[b] > size - pos) {
        st = cl_err(err, CLANCE_ECORRUPT, "%s: chunk %zu value buffer %llu overruns the chunk", what,
                    c, (unsigned long long)b);
        goto fail;
      }
      cb.data[b] = p + pos;
      cb.len[b] = (size_t)vsize[b];
      pos = (pos + vsize[b] + 7) & ~7ull;
    }
    if (have_dict) {
      cl_arr ia;
      CL_CHECK(st, cl_arr_init(&ia, &idx_field, err));
      cl_sink is = {&ia, &idx_field};
      st = cl_decode_miniblock_values(mb->value_compression, &cb, nv, &is, &ds, what, err);
      if (!st)
        st = gather(out, &dict, dict_n, ia.values.data, cl_type_bits(&idx_field), nv, what, err);
      cl_arr_free(&ia);
      if (st)
        goto fail;
    } else {
      cl_sink s = {out, f};
      CL_CHECK(st, cl_decode_miniblock_values(mb->value_compression, &cb, nv, &s, &ds, what, err));
    }
  }
  if ((uint64_t)out->length != num_items)
    st = cl_err(err, CLANCE_ECORRUPT, "%s: decoded %lld values, page has %llu", what,
                (long long)out->length, (unsigned long long)num_items);
fail:
  cl_buf_free(&meta);
  cl_buf_free(&data);
  cl_buf_free(&dictbuf);
  free(chunks);
  cl_dec_state_free(&ds);
  if (have_dict)
    cl_arr_free(&dict);
  return st;
}

/* ---- full-zip ---- */

static clance_status decode_fullzip(const cl_page_ctx *ctx, const fz_layout *fz, const cl_path *path,
                                    const cl_field *f, cl_arr *out, page_levels *lv,
                                    clance_error *err) {
  const char *what = ctx->what;
  uint64_t n = fz->num_items;
  if (fz->bits_def > 16 || fz->bits_rep > 16)
    return cl_err(err, CLANCE_ECORRUPT, "%s: control word of %u bits", what, fz->bits_rep + fz->bits_def);
  unsigned cw_bits = fz->bits_rep + fz->bits_def;
  unsigned cw = cw_bits == 0 ? 0 : cw_bits <= 8 ? 1 : cw_bits <= 16 ? 2 : 4;
  int var;
  uint64_t vbytes = 0;
  if (fz->details_case == LANCE__ENCODINGS21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_OFFSET) {
    var = 1;
    if (fz->bits_per_offset != 32 && fz->bits_per_offset != 64)
      return cl_err(err, CLANCE_ECORRUPT, "%s: full-zip length prefix of %u bits", what,
                    fz->bits_per_offset);
  } else if (fz->details_case == LANCE__ENCODINGS21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_VALUE) {
    var = 0;
    if (fz->bits_per_value % 8 || fz->bits_per_value == 0)
      return cl_err(err, CLANCE_ECORRUPT, "%s: full-zip value width of %u bits", what,
                    fz->bits_per_value);
    vbytes = fz->bits_per_value / 8;
  } else {
    return cl_err(err, CLANCE_ECORRUPT, "%s: full-zip page without a value width", what);
  }
  int has_rep = fz->bits_rep > 0, has_def = fz->bits_def > 0;
  clance_status st = CLANCE_OK;
  cl_buf z = CL_BUF_INIT;
  cl_dec_state ds = {0};
  CL_CHECK(st, cl_page_read_buffer(ctx, 0, &z, err));
  if (has_rep || has_def) {
    if (n > z.len / (cw ? cw : 1)) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: %llu entries cannot fit %zu bytes", what,
                  (unsigned long long)n, z.len);
      goto fail;
    }
    CL_CHECK(st, levels_grow(lv, has_rep, has_def, n, err));
  }
  cl_sink s = {out, f};
  size_t pos = 0;
  unsigned ob = fz->bits_per_offset / 8;
  for (uint64_t i = 0; i < n; i++) {
    uint32_t word = 0;
    if (cw) {
      if (z.len - pos < cw) {
        st = cl_err(err, CLANCE_ECORRUPT, "%s: full-zip data ends inside entry %llu", what,
                    (unsigned long long)i);
        goto fail;
      }
      word = cw == 1 ? z.data[pos] : cw == 2 ? cl_le16(z.data + pos) : cl_le32(z.data + pos);
      pos += cw;
    }
    uint16_t d = (uint16_t)(word & ((1u << fz->bits_def) - 1));
    if (has_def)
      lv->def[lv->n] = d;
    if (has_rep)
      lv->rep[lv->n] = (uint16_t)(word >> fz->bits_def);
    if (has_rep || has_def)
      lv->n++;
    if (d > path->max_visible_def)
      continue; /* invisible (null or empty list above the leaf): no value */
    if (var) {
      if (d != 0) {
        /* A null variable-width value has no bytes: an empty placeholder. */
        CL_CHECK(st, cl_arr_append_placeholders(out, 1, err));
        continue;
      }
      if (z.len - pos < ob) {
        st = cl_err(err, CLANCE_ECORRUPT, "%s: full-zip data ends inside entry %llu", what,
                    (unsigned long long)i);
        goto fail;
      }
      uint64_t len = ob == 4 ? cl_le32(z.data + pos) : cl_le64(z.data + pos);
      pos += ob;
      if (len > z.len - pos) {
        st = cl_err(err, CLANCE_ECORRUPT, "%s: full-zip value %llu of %llu bytes overruns the page",
                    what, (unsigned long long)i, (unsigned long long)len);
        goto fail;
      }
      CL_CHECK(st, cl_decode_pervalue(fz->value_compression, z.data + pos, (size_t)len, &s, &ds, what,
                                      err));
      pos += (size_t)len;
    } else {
      if (z.len - pos < vbytes) {
        st = cl_err(err, CLANCE_ECORRUPT, "%s: full-zip data ends inside entry %llu", what,
                    (unsigned long long)i);
        goto fail;
      }
      CL_CHECK(st, cl_decode_pervalue(fz->value_compression, z.data + pos, (size_t)vbytes, &s, &ds,
                                      what, err));
      pos += (size_t)vbytes;
    }
  }
  if (fz->has_num_visible_items && (uint64_t)out->length != fz->num_visible_items)
    st = cl_err(err, CLANCE_ECORRUPT, "%s: full-zip page holds %lld visible values, its header says %u",
                what, (long long)out->length, fz->num_visible_items);
fail:
  cl_buf_free(&z);
  cl_dec_state_free(&ds);
  return st;
}

/* ---- constant / all-null ---- */

static clance_status constant_levels(const cl_page_ctx *ctx, const const_layout *cl, size_t rep_buf,
                                     page_levels *lv, clance_error *err) {
  const char *what = ctx->what;
  cl_buf rb = CL_BUF_INIT, db = CL_BUF_INIT;
  clance_status st = CLANCE_OK;
  CL_CHECK(st, cl_page_read_buffer(ctx, rep_buf, &rb, err));
  CL_CHECK(st, cl_page_read_buffer(ctx, rep_buf + 1, &db, err));
  /* 2.1 stores raw u16 levels; 2.2 may compress them and records counts. */
  uint64_t nr = cl->rep_compression ? cl->num_rep_values : rb.len / 2;
  uint64_t nd = cl->def_compression ? cl->num_def_values : db.len / 2;
  int has_rep = nr > 0, has_def = nd > 0;
  uint64_t n = has_rep ? nr : nd;
  if ((has_rep && has_def && nr != nd) || ((!cl->rep_compression && rb.len % 2) ||
                                           (!cl->def_compression && db.len % 2))) {
    st = cl_err(err, CLANCE_ECORRUPT, "%s: constant page levels of different lengths", what);
    goto fail;
  }
  if (n > ((uint64_t)1 << 32)) {
    st = cl_err(err, CLANCE_ECORRUPT, "%s: implausible level count", what);
    goto fail;
  }
  CL_CHECK(st, levels_grow(lv, has_rep, has_def, n, err));
  pb21_enc flat16 = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__INIT;
  Lance__Encodings21__Flat fl = LANCE__ENCODINGS21__FLAT__INIT;
  fl.bits_per_value = 16;
  flat16.compression_case = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
  flat16.flat = &fl;
  if (has_rep)
    CL_CHECK(st, cl_decode_levels(cl->rep_compression ? cl->rep_compression : &flat16, rb.data, rb.len,
                                  n, lv->rep, what, err));
  if (has_def)
    CL_CHECK(st, cl_decode_levels(cl->def_compression ? cl->def_compression : &flat16, db.data, db.len,
                                  n, lv->def, what, err));
  lv->n = n;
fail:
  cl_buf_free(&rb);
  cl_buf_free(&db);
  return st;
}

/* One constant value (inline bytes, or a serialized one-element array). */
static clance_status constant_value(const cl_page_ctx *ctx, const const_layout *cl, cl_buf *vb,
                                    const uint8_t **val, size_t *vlen, clance_error *err) {
  if (cl->has_inline_value) {
    *val = cl->inline_value.data;
    *vlen = cl->inline_value.len;
    return CLANCE_OK;
  }
  CL_TRY(cl_page_read_buffer(ctx, 0, vb, err));
  /* u32 buffer count, u32 lengths, then the buffers back to back; the
   * value is in the last buffer (after the offsets for variable width). */
  uint32_t k = vb->len >= 4 ? cl_le32(vb->data) : 0;
  if (k == 0 || k > 4 || vb->len < 4 + 4 * (size_t)k)
    return cl_err(err, CLANCE_ECORRUPT, "%s: malformed constant value buffer", ctx->what);
  size_t p = 4 + 4 * (size_t)k, total = 0;
  for (uint32_t i = 0; i < k; i++)
    total += cl_le32(vb->data + 4 + 4 * i);
  if (total > vb->len - p)
    return cl_err(err, CLANCE_ECORRUPT, "%s: constant value buffers overrun", ctx->what);
  size_t last = cl_le32(vb->data + 4 + 4 * (k - 1));
  *val = vb->data + p + total - last;
  *vlen = last;
  return CLANCE_OK;
}

static clance_status append_constant(cl_arr *out, const cl_field *f, const uint8_t *val, size_t vlen,
                                     const char *what, clance_error *err) {
  if (cl_type_is_binary_like(f->type)) {
    CL_TRY(cl_buf_append(&out->values, val, vlen, err));
    CL_TRY(cl_arr_push_offset(out, out->values.len, err));
  } else if (f->type == CL_TYPE_FIXED_SIZE_LIST) {
    uint32_t bits = cl_type_bits(f);
    if (bits % 8 || vlen < bits / 8)
      return cl_err(err, CLANCE_EUNSUPPORTED, "%s: constant of %zu bytes for %s", what, vlen,
                    cl_type_name(f->type));
    cl_arr *item = &out->children[0];
    CL_TRY(cl_buf_append(&item->values, val, bits / 8, err));
    CL_TRY(cl_arr_append_valid(item, f->size, err));
  } else {
    uint32_t bits = cl_type_bits(f);
    if (bits == 1) {
      size_t need = (size_t)((out->length + 8) >> 3);
      if (need > out->values.len)
        CL_TRY(cl_buf_fill(&out->values, 0, need - out->values.len, err));
      if (vlen && val[0])
        cl_bit_set(out->values.data, out->length);
    } else if (bits % 8 || bits == 0 || vlen < bits / 8) {
      return cl_err(err, CLANCE_EUNSUPPORTED, "%s: constant of %zu bytes for %s", what, vlen,
                    cl_type_name(f->type));
    } else {
      CL_TRY(cl_buf_append(&out->values, val, bits / 8, err));
    }
  }
  out->length++;
  return CLANCE_OK;
}

static clance_status decode_constant(const cl_page_ctx *ctx, const const_layout *cl, const cl_path *path,
                                     const cl_field *f, cl_arr *out, page_levels *lv,
                                     clance_error *err) {
  const char *what = ctx->what;
  uint64_t rows = ctx->page->length;
  size_t nb = ctx->page->n_bufs;
  int has_value = cl->has_inline_value || nb == 1 || nb == 3;
  if (nb >= 2)
    CL_TRY(constant_levels(ctx, cl, has_value && !cl->has_inline_value ? 1 : 0, lv, err));
  const uint8_t *val = NULL;
  size_t vlen = 0;
  cl_buf vb = CL_BUF_INIT;
  clance_status st = has_value ? constant_value(ctx, cl, &vb, &val, &vlen, err) : CLANCE_OK;
  if (st) {
    cl_buf_free(&vb);
    return st;
  }
  const cl_path_node *leaf = &path->nodes[path->depth - 1];
  uint64_t n = lv->n ? lv->n : rows;
  for (uint64_t i = 0; i < n && !st; i++) {
    uint16_t d = lv->def ? lv->def[i] : (has_value ? 0 : leaf->null_code);
    if (!lv->def && !has_value && !lv->rep && path->depth == 1 && !leaf->null_code)
      st = cl_err(err, CLANCE_ECORRUPT, "%s: all-null page in a non-nullable column", what);
    if (d > path->max_visible_def)
      continue;
    if (d == 0 && has_value)
      st = append_constant(out, f, val, vlen, what, err);
    else
      st = cl_arr_append_placeholders(out, 1, err);
  }
  if (!st && !lv->n && !has_value && path->depth == 1) {
    /* Simple all-null page: no level buffers; give every row the null code. */
    st = levels_grow(lv, 0, 1, rows, err);
    for (uint64_t i = 0; !st && i < rows; i++)
      lv->def[i] = leaf->null_code;
    lv->n = rows;
  }
  cl_buf_free(&vb);
  return st;
}

/* ---- page entry point ---- */

static const Lance__Encodings21__RepDefLayer *layout_layers(const pb21_layout *l, size_t *n) {
  switch (l->layout_case) {
  case LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT:
    *n = l->mini_block_layout->n_layers;
    return l->mini_block_layout->layers;
  case LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_FULL_ZIP_LAYOUT:
    *n = l->full_zip_layout->n_layers;
    return l->full_zip_layout->layers;
  case LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_CONSTANT_LAYOUT:
    *n = l->constant_layout->n_layers;
    return l->constant_layout->layers;
  default:
    *n = 0;
    return NULL;
  }
}

/* A flat column: every entry is a row; validity is def == 0. */
static clance_status finish_flat(const cl_path *path, const page_levels *lv, cl_arr *values,
                                 uint64_t rows, const char *what, clance_error *err) {
  if ((uint64_t)values->length != rows || (lv->n && lv->n != rows))
    return cl_err(err, CLANCE_ECORRUPT, "%s: page of %llu rows decoded %lld values", what,
                  (unsigned long long)rows, (long long)values->length);
  uint16_t null_code = path->nodes[0].null_code;
  values->length = 0;
  if (!lv->def)
    return cl_arr_append_valid(values, (int64_t)rows, err);
  uint64_t i = 0;
  while (i < rows) {
    uint16_t d = lv->def[i];
    if (d != 0 && d != null_code)
      return cl_err(err, CLANCE_ECORRUPT, "%s: definition level %u out of range", what, d);
    uint64_t j = i + 1;
    while (j < rows && lv->def[j] == d)
      j++;
    CL_TRY(d ? cl_arr_append_null(values, (int64_t)(j - i), err)
             : cl_arr_append_valid(values, (int64_t)(j - i), err));
    i = j;
  }
  return CLANCE_OK;
}

clance_status cl_decode21_page(const cl_page_ctx *ctx, cl_file_version v, const cl_field *top,
                               struct ArrowArray *out, clance_error *err) {
  const char *what = ctx->what;
  pb_any *any;
  CL_TRY(cl_pb_unpack_any(ctx->page->encoding, ctx->page->encoding_len, "lance.encodings21.PageLayout",
                          what, &any, err));
  pb21_layout *layout;
  clance_status st = cl_pb_unpack(&lance__encodings21__page_layout__descriptor, any->value.data,
                                  any->value.len, what, (ProtobufCMessage **)&layout, err);
  protobuf_c_message_free_unpacked(&any->base, NULL);
  if (st)
    return st;
  cl_path path;
  size_t n_layers;
  const Lance__Encodings21__RepDefLayer *layers = layout_layers(layout, &n_layers);
  page_levels lv;
  memset(&lv, 0, sizeof lv);
  cl_arr values, assembled;
  int have_values = 0, have_assembled = 0;
  if (layout->layout_case == LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_BLOB_LAYOUT) {
    st = cl_err(err, CLANCE_EUNSUPPORTED, "%s: unsupported encoding BlobLayout", what);
    goto done;
  }
  if (!layers && layout->layout_case == LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT__NOT_SET) {
    st = cl_err(err, CLANCE_ECORRUPT, "%s: page layout missing", what);
    goto done;
  }
  CL_CHECK(st, cl_path_init(&path, top, layers, n_layers, what, err));
  const cl_field *leaf = path.nodes[path.depth - 1].field;
  CL_CHECK(st, cl_arr_init(&values, leaf, err));
  have_values = 1;
  switch (layout->layout_case) {
  case LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT:
    if (layout->mini_block_layout->has_large_chunk != (v >= CL_FILE_V2_2))
      st = cl_err(err, CLANCE_ECORRUPT, "%s: mini-block chunk grammar does not match file version %s",
                  what, cl_file_version_name(v));
    else
      st = decode_miniblock(ctx, layout->mini_block_layout, leaf, &values, &lv, err);
    break;
  case LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_FULL_ZIP_LAYOUT:
    st = decode_fullzip(ctx, layout->full_zip_layout, &path, leaf, &values, &lv, err);
    break;
  default:
    st = decode_constant(ctx, layout->constant_layout, &path, leaf, &values, &lv, err);
    break;
  }
  if (st)
    goto fail;
  uint64_t rows = ctx->page->length;
  if (path.depth == 1 && !lv.rep) {
    CL_CHECK(st, finish_flat(&path, &lv, &values, rows, what, err));
    st = cl_arr_export(&values, out, err);
    goto done;
  }
  CL_CHECK(st, cl_arr_init(&assembled, top, err));
  have_assembled = 1;
  uint64_t got;
  CL_CHECK(st, cl_levels_assemble(&path, lv.rep, lv.def, lv.n ? lv.n : (uint64_t)values.length, &values,
                                  &assembled, &got, what, err));
  if (got != rows) {
    st = cl_err(err, CLANCE_ECORRUPT, "%s: levels describe %llu rows, the page says %llu", what,
                (unsigned long long)got, (unsigned long long)rows);
    goto fail;
  }
  st = cl_arr_export(&assembled, out, err);
done:
fail:
  if (have_values)
    cl_arr_free(&values);
  if (have_assembled)
    cl_arr_free(&assembled);
  levels_free(&lv);
  protobuf_c_message_free_unpacked(&layout->base, NULL);
  return st;
}
