/* File format 2.1/2.2 page decoder: mini-block, full-zip and constant
 * (all-null) layouts of leaf columns. Levels are gathered for the whole page
 * and turned into Arrow validity at the end. */
#include <stdlib.h>
#include <string.h>

#include "encoding/decode.h"

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
  CL_TRY(cl_container_read(ctx->file, ctx->page->buf_offsets[i], len, out->data, err));
  out->len = (size_t)len;
  return CLANCE_OK;
}

/* ---- levels -> validity for a flat (single item layer) leaf ---- */

typedef struct level_info {
  int has_def;      /* page stores definition levels */
  int nullable;     /* the item layer is NULLABLE_ITEM */
} level_info;

static clance_status check_layers(const Lance__Encodings21__RepDefLayer *layers, size_t n, int has_rep,
                                  int has_def, level_info *li, const char *what,
                                  clance_error *err) {
  if (n == 0)
    return cl_err(err, CLANCE_ECORRUPT, "%s: page declares no rep/def layers", what);
  if (n > 1 || has_rep)
    return cl_err(err, CLANCE_EUNSUPPORTED,
                  "%s: nested page (%zu rep/def layers) in a flat column is not supported", what, n);
  li->nullable = layers[0] == LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULLABLE_ITEM;
  if (!li->nullable && layers[0] != LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_ALL_VALID_ITEM)
    return cl_err(err, CLANCE_ECORRUPT, "%s: list layer %d in a flat column", what, (int)layers[0]);
  if (has_def && !li->nullable)
    return cl_err(err, CLANCE_ECORRUPT, "%s: definition levels on an all-valid layer", what);
  li->has_def = has_def;
  return CLANCE_OK;
}

/* Append validity for n entries whose def levels are `def` (NULL = all valid). */
static clance_status apply_def(cl_arr *a, const uint16_t *def, uint64_t n, const char *what,
                               clance_error *err) {
  if (!def)
    return cl_arr_append_valid(a, (int64_t)n, err);
  uint64_t i = 0;
  while (i < n) {
    if (def[i] > 1)
      return cl_err(err, CLANCE_ECORRUPT, "%s: definition level %u out of range", what, def[i]);
    uint64_t j = i + 1;
    while (j < n && def[j] == def[i])
      j++;
    if (def[i] == 0)
      CL_TRY(cl_arr_append_valid(a, (int64_t)(j - i), err));
    else
      CL_TRY(cl_arr_append_null(a, (int64_t)(j - i), err));
    i = j;
  }
  return CLANCE_OK;
}

/* The values builder and the validity builder are one cl_arr; the value
 * sinks advance `length`, so validity is applied to a shadow length. */
static clance_status finish_validity(cl_arr *a, const uint16_t *def, uint64_t n, const char *what,
                                     clance_error *err) {
  int64_t len = a->length;
  a->length = len - (int64_t)n;
  clance_status st = apply_def(a, def, n, what, err);
  if (!st && a->length != len)
    st = cl_err(err, CLANCE_EINTERNAL, "%s: validity length mismatch", what);
  return st;
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
    if (bits < 8 || bits % 8)
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
                                      cl_arr *out, clance_error *err) {
  const char *what = ctx->what;
  level_info li;
  CL_TRY(check_layers(mb->layers, mb->n_layers, mb->rep_compression != NULL,
                      mb->def_compression != NULL, &li, what, err));
  if (!mb->value_compression)
    return cl_err(err, CLANCE_ECORRUPT, "%s: mini-block page without a value encoding", what);
  uint64_t nbuf_per_chunk = mb->num_buffers;
  if (nbuf_per_chunk < 1 || nbuf_per_chunk > 8)
    return cl_err(err, CLANCE_ECORRUPT, "%s: mini-block page with %llu value buffers per chunk",
                  what, (unsigned long long)nbuf_per_chunk);
  uint64_t num_items = mb->num_items, rows = ctx->page->length;
  if (num_items != rows)
    return cl_err(err, CLANCE_ECORRUPT, "%s: page of %llu rows holds %llu items", what,
                  (unsigned long long)rows, (unsigned long long)num_items);
  int large = mb->has_large_chunk;
  clance_status st = CLANCE_OK;
  cl_buf meta = CL_BUF_INIT, data = CL_BUF_INIT, dictbuf = CL_BUF_INIT, idx = CL_BUF_INIT;
  uint16_t *def = NULL;
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
  cl_arr *sink_arr = out;
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
  if (li.has_def) {
    def = cl_malloc((size_t)(num_items ? num_items : 1) * sizeof *def, err);
    if (!def) {
      st = err->code;
      goto fail;
    }
  }
  uint64_t done = 0;
  for (size_t c = 0; c < n_chunks; c++) {
    const uint8_t *p = data.data + chunks[c].offset;
    uint64_t size = chunks[c].size, pos = 0, nv = chunks[c].values;
    uint64_t hdr = 2 + (mb->rep_compression ? 2 : 0) + (mb->def_compression ? 2 : 0) +
                   nbuf_per_chunk * (large ? 4 : 2);
    if (hdr > size) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: chunk %zu is shorter than its header", what, c);
      goto fail;
    }
    uint64_t num_levels = cl_le16(p);
    pos = 2;
    uint64_t def_size = 0;
    if (mb->rep_compression)
      pos += 2;
    if (mb->def_compression) {
      def_size = cl_le16(p + pos);
      pos += 2;
    }
    uint64_t vsize[8];
    for (uint64_t b = 0; b < nbuf_per_chunk; b++) {
      vsize[b] = large ? cl_le32(p + pos) : cl_le16(p + pos);
      pos += large ? 4 : 2;
    }
    pos = (pos + 7) & ~7ull;
    if (li.has_def) {
      if (num_levels != nv || pos + def_size > size) {
        st = cl_err(err, CLANCE_ECORRUPT, "%s: chunk %zu has %llu levels for %llu values", what, c,
                    (unsigned long long)num_levels, (unsigned long long)nv);
        goto fail;
      }
      CL_CHECK(st, cl_decode_levels(mb->def_compression, p + pos, (size_t)def_size, nv, def + done,
                                    what, err));
      pos = (pos + def_size + 7) & ~7ull;
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
        st = gather(sink_arr, &dict, dict_n, ia.values.data, cl_type_bits(&idx_field), nv, what, err);
      cl_arr_free(&ia);
      if (st)
        goto fail;
    } else {
      cl_sink s = {sink_arr, f};
      CL_CHECK(st, cl_decode_miniblock_values(mb->value_compression, &cb, nv, &s, &ds, what, err));
    }
    done += nv;
  }
  if ((uint64_t)out->length != num_items) {
    st = cl_err(err, CLANCE_ECORRUPT, "%s: decoded %lld values, page has %llu", what,
                (long long)out->length, (unsigned long long)num_items);
    goto fail;
  }
  st = finish_validity(out, def, num_items, what, err);
fail:
  cl_buf_free(&meta);
  cl_buf_free(&data);
  cl_buf_free(&dictbuf);
  cl_buf_free(&idx);
  free(def);
  free(chunks);
  cl_dec_state_free(&ds);
  if (have_dict)
    cl_arr_free(&dict);
  return st;
}

/* ---- full-zip ---- */

static clance_status decode_fullzip(const cl_page_ctx *ctx, const fz_layout *fz, const cl_field *f,
                                    cl_arr *out, clance_error *err) {
  const char *what = ctx->what;
  level_info li;
  CL_TRY(check_layers(fz->layers, fz->n_layers, fz->bits_rep > 0, fz->bits_def > 0, &li, what, err));
  uint64_t n = fz->num_items, rows = ctx->page->length;
  if (n != rows)
    return cl_err(err, CLANCE_ECORRUPT, "%s: full-zip page of %llu rows holds %llu entries", what,
                  (unsigned long long)rows, (unsigned long long)n);
  unsigned cw_bits = fz->bits_rep + fz->bits_def;
  if (fz->bits_def > 16 || fz->bits_rep > 16)
    return cl_err(err, CLANCE_ECORRUPT, "%s: control word of %u bits", what, cw_bits);
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
  clance_status st = CLANCE_OK;
  cl_buf z = CL_BUF_INIT;
  cl_dec_state ds = {0};
  uint16_t *def = NULL;
  CL_CHECK(st, cl_page_read_buffer(ctx, 0, &z, err));
  if (li.has_def) {
    def = cl_malloc((size_t)(n ? n : 1) * sizeof *def, err);
    if (!def) {
      st = err->code;
      goto fail;
    }
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
    if (def)
      def[i] = d;
    if (d > 1) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: definition level %u in a flat column", what, d);
      goto fail;
    }
    if (var) {
      if (d != 0) {
        /* A null variable-width value has no bytes: append an empty one. */
        CL_CHECK(st, cl_arr_push_offset(out, out->values.len, err));
        out->length++;
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
  st = finish_validity(out, def, n, what, err);
fail:
  cl_buf_free(&z);
  cl_dec_state_free(&ds);
  free(def);
  return st;
}

/* ---- constant / all-null ---- */

static clance_status decode_constant(const cl_page_ctx *ctx, const const_layout *cl, const cl_field *f,
                                     cl_arr *out, clance_error *err) {
  const char *what = ctx->what;
  uint64_t rows = ctx->page->length;
  size_t nb = ctx->page->n_bufs;
  int has_value = cl->has_inline_value || nb == 1 || nb == 3;
  /* Levels: inline raw u16 buffers (2.1 "complex all-null"), or compressed (2.2). */
  size_t def_buf = has_value ? 2 : 1;
  int has_levels = nb >= 2;
  level_info li;
  memset(&li, 0, sizeof li);
  uint16_t *def = NULL;
  clance_status st = CLANCE_OK;
  cl_buf b = CL_BUF_INIT;
  if (has_levels) {
    cl_buf rep = CL_BUF_INIT;
    CL_TRY(cl_page_read_buffer(ctx, has_value ? 1 : 0, &rep, err));
    size_t rep_len = rep.len;
    cl_buf_free(&rep);
    CL_TRY(check_layers(cl->layers, cl->n_layers, rep_len > 0, 1, &li, what, err));
    CL_CHECK(st, cl_page_read_buffer(ctx, def_buf, &b, err));
    def = cl_malloc((size_t)(rows ? rows : 1) * sizeof *def, err);
    if (!def) {
      st = err->code;
      goto fail;
    }
    if (cl->def_compression) {
      if (cl->num_def_values != rows) {
        st = cl_err(err, CLANCE_ECORRUPT, "%s: %llu definition levels for %llu rows", what,
                    (unsigned long long)cl->num_def_values, (unsigned long long)rows);
        goto fail;
      }
      CL_CHECK(st, cl_decode_levels(cl->def_compression, b.data, b.len, rows, def, what, err));
    } else {
      pb21_enc flat16 = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__INIT;
      Lance__Encodings21__Flat fl = LANCE__ENCODINGS21__FLAT__INIT;
      fl.bits_per_value = 16;
      flat16.compression_case = LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT;
      flat16.flat = &fl;
      CL_CHECK(st, cl_decode_levels(&flat16, b.data, b.len, rows, def, what, err));
    }
  } else {
    CL_TRY(check_layers(cl->layers, cl->n_layers, 0, 0, &li, what, err));
  }
  if (!has_value) {
    /* All null: every visible entry is null. */
    if (!li.nullable && !f->nullable)
      st = cl_err(err, CLANCE_ECORRUPT, "%s: all-null page in a non-nullable column", what);
    else if (f->type == CL_TYPE_NULL)
      out->length += (int64_t)rows, out->null_count += (int64_t)rows;
    else {
      /* Zeroed placeholder values so the Arrow buffers are well formed. */
      cl_sink s = {out, f};
      (void)s;
      if (cl_type_is_binary_like(f->type)) {
        for (uint64_t i = 0; !st && i < rows; i++)
          st = cl_arr_push_offset(out, out->values.len, err);
      } else if (f->type == CL_TYPE_FIXED_SIZE_LIST) {
        cl_arr *item = &out->children[0];
        uint64_t items = rows * (uint64_t)f->size;
        uint32_t ib = cl_type_bits(&f->children[0]);
        st = cl_buf_fill(&item->values, 0, (size_t)(ib == 1 ? (items + 7) / 8 : items * (ib / 8)), err);
        if (!st)
          st = cl_arr_append_valid(item, (int64_t)items, err);
      } else {
        uint32_t bits = cl_type_bits(f);
        st = cl_buf_fill(&out->values, 0, (size_t)(bits == 1 ? (rows + 7) / 8 : rows * (bits / 8)), err);
      }
      if (!st)
        st = cl_arr_append_null(out, (int64_t)rows, err);
    }
    goto fail;
  }
  /* A constant value (2.2): inline bytes, or a serialized one-element array. */
  const uint8_t *val;
  size_t vlen;
  cl_buf vb = CL_BUF_INIT;
  if (cl->has_inline_value) {
    val = cl->inline_value.data;
    vlen = cl->inline_value.len;
  } else {
    CL_CHECK(st, cl_page_read_buffer(ctx, 0, &vb, err));
    /* u32 buffer count, u32 lengths, then the buffers back to back; the
     * value is in the last buffer (after the offsets for variable width). */
    if (vb.len < 4 || cl_le32(vb.data) == 0 || cl_le32(vb.data) > 4 ||
        vb.len < 4 + 4 * (size_t)cl_le32(vb.data)) {
      cl_buf_free(&vb);
      st = cl_err(err, CLANCE_ECORRUPT, "%s: malformed constant value buffer", what);
      goto fail;
    }
    uint32_t k = cl_le32(vb.data);
    size_t p = 4 + 4 * (size_t)k, lens_total = 0;
    for (uint32_t i = 0; i < k; i++)
      lens_total += cl_le32(vb.data + 4 + 4 * i);
    if (lens_total > vb.len - p) {
      cl_buf_free(&vb);
      st = cl_err(err, CLANCE_ECORRUPT, "%s: constant value buffers overrun", what);
      goto fail;
    }
    size_t last = cl_le32(vb.data + 4 + 4 * (k - 1));
    val = vb.data + p + lens_total - last;
    vlen = last;
  }
  for (uint64_t i = 0; !st && i < rows; i++) {
    if (cl_type_is_binary_like(f->type)) {
      st = cl_buf_append(&out->values, val, vlen, err);
      if (!st)
        st = cl_arr_push_offset(out, out->values.len, err);
      out->length++;
    } else {
      uint32_t bits = f->type == CL_TYPE_FIXED_SIZE_LIST ? cl_type_bits(&f->children[0]) * (uint32_t)f->size
                                                         : cl_type_bits(f);
      if (bits % 8 || vlen < bits / 8) {
        st = cl_err(err, CLANCE_EUNSUPPORTED, "%s: constant of %zu bytes for %s", what, vlen,
                    cl_type_name(f->type));
        break;
      }
      if (f->type == CL_TYPE_FIXED_SIZE_LIST) {
        cl_arr *item = &out->children[0];
        st = cl_buf_append(&item->values, val, bits / 8, err);
        if (!st)
          st = cl_arr_append_valid(item, f->size, err);
      } else {
        st = cl_buf_append(&out->values, val, bits / 8, err);
      }
      out->length++;
    }
  }
  cl_buf_free(&vb);
  if (!st)
    st = finish_validity(out, def, rows, what, err);
fail:
  cl_buf_free(&b);
  free(def);
  return st;
}

clance_status cl_decode21_page(const cl_page_ctx *ctx, cl_file_version v, const cl_field *f,
                               struct ArrowArray *out, clance_error *err) {
  pb_any *any;
  CL_TRY(cl_pb_unpack_any(ctx->page->encoding, ctx->page->encoding_len, "lance.encodings21.PageLayout",
                          ctx->what, &any, err));
  pb21_layout *layout;
  clance_status st = cl_pb_unpack(&lance__encodings21__page_layout__descriptor, any->value.data,
                                  any->value.len, ctx->what, (ProtobufCMessage **)&layout, err);
  protobuf_c_message_free_unpacked(&any->base, NULL);
  if (st)
    return st;
  cl_arr a;
  if ((st = cl_arr_init(&a, f, err))) {
    protobuf_c_message_free_unpacked(&layout->base, NULL);
    return st;
  }
  switch (layout->layout_case) {
  case LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT:
    if (layout->mini_block_layout->has_large_chunk != (v >= CL_FILE_V2_2))
      st = cl_err(err, CLANCE_ECORRUPT, "%s: mini-block chunk grammar does not match file version %s",
                  ctx->what, cl_file_version_name(v));
    else
      st = decode_miniblock(ctx, layout->mini_block_layout, f, &a, err);
    break;
  case LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_FULL_ZIP_LAYOUT:
    st = decode_fullzip(ctx, layout->full_zip_layout, f, &a, err);
    break;
  case LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_CONSTANT_LAYOUT:
    st = decode_constant(ctx, layout->constant_layout, f, &a, err);
    break;
  case LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_BLOB_LAYOUT:
    st = cl_err(err, CLANCE_EUNSUPPORTED, "%s: unsupported encoding BlobLayout", ctx->what);
    break;
  default:
    st = cl_err(err, CLANCE_ECORRUPT, "%s: page layout missing", ctx->what);
  }
  protobuf_c_message_free_unpacked(&layout->base, NULL);
  if (!st && (uint64_t)a.length != ctx->page->length)
    st = cl_err(err, CLANCE_ECORRUPT, "%s: decoded %lld rows, page says %llu", ctx->what,
                (long long)a.length, (unsigned long long)ctx->page->length);
  if (!st)
    st = cl_arr_export(&a, out, err);
  cl_arr_free(&a);
  return st;
}
