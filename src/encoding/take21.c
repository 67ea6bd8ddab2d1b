/* Random access to rows of a 2.1/2.2 mini-block page of a flat column.
 *
 * A page's chunks are located from its chunk words; for a requested row only
 * its chunk's header and levels are decoded, and the value itself is read
 * straight out of the chunk when the encoding allows it (flat, bit-packed,
 * variable, FSST strings, vectors, dictionary indices). Other encodings
 * decode the whole chunk once. */
#include <stdlib.h>
#include <string.h>

#include "encoding/decode.h"
#include "encoding/fastlanes.h"
#include "encoding/fsst.h"

typedef Lance__Encodings21__MiniBlockLayout mb_layout;

struct cl_page_rows {
  const cl_field *f;
  char *what;
  pb21_layout *layout;
  const mb_layout *mb;
  cl_buf meta, data;
  size_t n_chunks;
  uint64_t *first_row; /* n_chunks + 1 */
  uint64_t *offset, *size;
  int large, has_def;
  cl_dec_state ds;
  /* dictionary pages */
  cl_arr dict;
  int have_dict;
  uint64_t dict_n;
  uint32_t index_bits;
  /* the chunk being read */
  size_t chunk;
  uint16_t def[4096 + 8];
  cl_chunk_bufs cb;
  uint64_t chunk_values;
  cl_arr tmp; /* whole-chunk decode for encodings without direct access */
  int tmp_ready, tmp_init;
  cl_field tmp_field;
};

void cl_page_rows_free(cl_page_rows *p) {
  if (!p)
    return;
  cl_buf_free(&p->meta);
  cl_buf_free(&p->data);
  free(p->first_row);
  free(p->offset);
  free(p->size);
  cl_dec_state_free(&p->ds);
  if (p->have_dict)
    cl_arr_free(&p->dict);
  if (p->tmp_init)
    cl_arr_free(&p->tmp);
  if (p->layout)
    protobuf_c_message_free_unpacked(&p->layout->base, NULL);
  free(p->what);
  free(p);
}

static uint32_t value_bits(const pb21_enc *e) {
  switch (e ? e->compression_case : 0) {
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT: return (uint32_t)e->flat->bits_per_value;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING:
    return (uint32_t)e->inline_bitpacking->uncompressed_bits_per_value;
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_RLE: return value_bits(e->rle->values);
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL: return value_bits(e->general->values);
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_BYTE_STREAM_SPLIT:
    return value_bits(e->byte_stream_split->values);
  default: return 0;
  }
}

static cl_type_id uint_of(uint32_t bits) {
  return bits == 8 ? CL_TYPE_UINT8 : bits == 16 ? CL_TYPE_UINT16 : bits == 32 ? CL_TYPE_UINT32
         : bits == 64 ? CL_TYPE_UINT64 : CL_TYPE_NULL;
}

clance_status cl_page_rows_open(const cl_page_ctx *ctx, cl_file_version v, const cl_field *f,
                                cl_page_rows **out, int *supported, clance_error *err) {
  *out = NULL;
  *supported = 0;
  pb_any *any;
  CL_TRY(cl_pb_unpack_any(ctx->page->encoding, ctx->page->encoding_len, "lance.encodings21.PageLayout",
                          ctx->what, &any, err));
  pb21_layout *layout;
  clance_status st = cl_pb_unpack(&lance__encodings21__page_layout__descriptor, any->value.data,
                                  any->value.len, ctx->what, (ProtobufCMessage **)&layout, err);
  protobuf_c_message_free_unpacked(&any->base, NULL);
  if (st)
    return st;
  const mb_layout *mb = layout->layout_case == LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT
                            ? layout->mini_block_layout
                            : NULL;
  /* Only flat columns: one item layer, no repetition. Others fall back. */
  if (!mb || mb->n_layers != 1 || mb->rep_compression || !mb->value_compression ||
      mb->has_large_chunk != (v >= CL_FILE_V2_2) || mb->num_buffers < 1 || mb->num_buffers > 8 ||
      mb->num_items != ctx->page->length) {
    protobuf_c_message_free_unpacked(&layout->base, NULL);
    return CLANCE_OK;
  }
  cl_page_rows *p = cl_calloc(1, sizeof *p, err);
  if (!p) {
    protobuf_c_message_free_unpacked(&layout->base, NULL);
    return err->code;
  }
  p->f = f;
  p->layout = layout;
  p->mb = mb;
  p->large = mb->has_large_chunk;
  p->has_def = mb->def_compression != NULL;
  p->chunk = SIZE_MAX;
  if (!(p->what = cl_strdup(ctx->what, err))) {
    st = err->code;
    goto fail;
  }
  CL_CHECK(st, cl_page_read_buffer(ctx, 0, &p->meta, err));
  CL_CHECK(st, cl_page_read_buffer(ctx, 1, &p->data, err));
  unsigned ws = p->large ? 4 : 2;
  if (p->meta.len % ws) {
    st = cl_err(err, CLANCE_ECORRUPT, "%s: chunk metadata of %zu bytes", p->what, p->meta.len);
    goto fail;
  }
  p->n_chunks = p->meta.len / ws;
  p->first_row = cl_malloc((p->n_chunks + 1) * sizeof *p->first_row, err);
  p->offset = cl_malloc((p->n_chunks + 1) * sizeof *p->offset, err);
  p->size = cl_malloc((p->n_chunks + 1) * sizeof *p->size, err);
  if (!p->first_row || !p->offset || !p->size) {
    st = err->code;
    goto fail;
  }
  uint64_t off = 0, row = 0, n = mb->num_items;
  for (size_t c = 0; c < p->n_chunks; c++) {
    uint32_t w = p->large ? cl_le32(p->meta.data + 4 * c) : cl_le16(p->meta.data + 2 * c);
    int last = c + 1 == p->n_chunks;
    uint64_t vals = last ? n - row : (1ull << (w & 15));
    if ((!last && (w & 15) == 0) || vals > n - row || vals > 4096) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: bad chunk %zu", p->what, c);
      goto fail;
    }
    p->first_row[c] = row;
    p->offset[c] = off;
    p->size[c] = ((uint64_t)(w >> 4) + 1) * 8;
    row += vals;
    off += p->size[c];
  }
  p->first_row[p->n_chunks] = row;
  if (off > p->data.len || row != n) {
    st = cl_err(err, CLANCE_ECORRUPT, "%s: chunks do not match the page", p->what);
    goto fail;
  }
  if (mb->dictionary) {
    cl_buf db = CL_BUF_INIT;
    p->dict_n = mb->num_dictionary_items;
    st = cl_page_read_buffer(ctx, 2, &db, err);
    if (!st)
      st = cl_arr_init(&p->dict, f, err);
    if (!st) {
      p->have_dict = 1;
      cl_sink s = {&p->dict, f};
      st = cl_decode_block_values(mb->dictionary, db.data, db.len, p->dict_n, &s, &p->ds, p->what, err);
      cl_dec_state_free(&p->ds);
    }
    cl_buf_free(&db);
    if (st)
      goto fail;
    p->index_bits = value_bits(mb->value_compression);
    if (uint_of(p->index_bits) == CL_TYPE_NULL) {
      st = cl_err(err, CLANCE_EUNSUPPORTED, "%s: dictionary indices of %u bits", p->what, p->index_bits);
      goto fail;
    }
  }
  *out = p;
  *supported = 1;
  return CLANCE_OK;
fail:
  cl_page_rows_free(p);
  return st;
}

/* Make chunk c current: header, levels and value buffer positions. */
static clance_status load_chunk(cl_page_rows *p, size_t c, clance_error *err) {
  if (p->chunk == c)
    return CLANCE_OK;
  const uint8_t *d = p->data.data + p->offset[c];
  uint64_t size = p->size[c], nv = p->first_row[c + 1] - p->first_row[c];
  uint64_t nb = p->mb->num_buffers;
  uint64_t hdr = 2 + (p->has_def ? 2 : 0) + nb * (p->large ? 4 : 2);
  if (hdr > size)
    return cl_err(err, CLANCE_ECORRUPT, "%s: chunk %zu is shorter than its header", p->what, c);
  uint64_t num_levels = cl_le16(d), pos = 2, def_size = 0;
  if (p->has_def) {
    def_size = cl_le16(d + pos);
    pos += 2;
  }
  uint64_t vsize[8];
  for (uint64_t b = 0; b < nb; b++) {
    vsize[b] = p->large ? cl_le32(d + pos) : cl_le16(d + pos);
    pos += p->large ? 4 : 2;
  }
  pos = (pos + 7) & ~7ull;
  if (p->has_def) {
    if (num_levels != nv || pos + def_size > size)
      return cl_err(err, CLANCE_ECORRUPT, "%s: chunk %zu levels do not match its values", p->what, c);
    CL_TRY(cl_decode_levels(p->mb->def_compression, d + pos, (size_t)def_size, nv, p->def, p->what, err));
    pos = (pos + def_size + 7) & ~7ull;
  }
  p->cb.n = (size_t)nb;
  for (uint64_t b = 0; b < nb; b++) {
    if (pos > size || vsize[b] > size - pos)
      return cl_err(err, CLANCE_ECORRUPT, "%s: chunk %zu value buffer overruns it", p->what, c);
    p->cb.data[b] = d + pos;
    p->cb.len[b] = (size_t)vsize[b];
    pos = (pos + vsize[b] + 7) & ~7ull;
  }
  p->chunk = c;
  p->chunk_values = nv;
  p->tmp_ready = 0;
  return CLANCE_OK;
}

/* Decode the whole current chunk's values into tmp (fallback). */
static clance_status chunk_values(cl_page_rows *p, const cl_field *vf, clance_error *err) {
  if (p->tmp_ready)
    return CLANCE_OK;
  if (!p->tmp_init) {
    CL_TRY(cl_arr_init(&p->tmp, vf, err));
    p->tmp_init = 1;
  } else {
    cl_arr_reset(&p->tmp);
  }
  cl_sink s = {&p->tmp, vf};
  CL_TRY(cl_decode_miniblock_values(p->mb->value_compression, &p->cb, p->chunk_values, &s, &p->ds,
                                    p->what, err));
  p->tmp_ready = 1;
  return CLANCE_OK;
}

static uint64_t le_n(const uint8_t *b, unsigned bytes) {
  uint64_t v = 0;
  for (unsigned i = bytes; i-- > 0;)
    v = (v << 8) | b[i];
  return v;
}

/* Read value j of the current chunk as an unsigned integer (dictionary
 * indices): flat or bit-packed directly, anything else via the chunk. */
static clance_status index_at(cl_page_rows *p, uint64_t j, uint64_t *out, clance_error *err) {
  const pb21_enc *e = p->mb->value_compression;
  unsigned bytes = p->index_bits / 8;
  if (e->compression_case == LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT) {
    if ((j + 1) * bytes > p->cb.len[0])
      return cl_err(err, CLANCE_ECORRUPT, "%s: index past its chunk", p->what);
    *out = le_n(p->cb.data[0] + j * bytes, bytes);
    return CLANCE_OK;
  }
  if (e->compression_case == LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING) {
    unsigned T = p->index_bits;
    if (p->cb.len[0] < T / 8)
      return cl_err(err, CLANCE_ECORRUPT, "%s: bit-packed chunk too short", p->what);
    uint64_t b = le_n(p->cb.data[0], T / 8);
    if (b > T || p->cb.len[0] < T / 8 + 128 * b || j >= 1024)
      return cl_err(err, CLANCE_ECORRUPT, "%s: bad bit-packed chunk", p->what);
    *out = cl_fl_get(T, p->cb.data[0] + T / 8, (unsigned)b, (unsigned)j);
    return CLANCE_OK;
  }
  p->tmp_field.type = uint_of(p->index_bits);
  p->tmp_field.name = (char *)"index";
  CL_TRY(chunk_values(p, &p->tmp_field, err));
  *out = le_n(p->tmp.values.data + j * bytes, bytes);
  return CLANCE_OK;
}

/* Append value j of the current chunk (without validity) to dst. */
static clance_status append_value(cl_page_rows *p, uint64_t j, cl_arr *dst, clance_error *err) {
  const cl_field *f = p->f;
  if (p->have_dict) {
    uint64_t k = 0;
    CL_TRY(index_at(p, j, &k, err));
    if (k >= p->dict_n)
      return cl_err(err, CLANCE_ECORRUPT, "%s: dictionary index %llu out of range", p->what,
                    (unsigned long long)k);
    if (cl_type_is_binary_like(f->type)) {
      int large = cl_type_is_large(f->type);
      uint64_t a = large ? cl_le64(p->dict.offsets.data + 8 * k) : cl_le32(p->dict.offsets.data + 4 * k);
      uint64_t b = large ? cl_le64(p->dict.offsets.data + 8 * (k + 1))
                         : cl_le32(p->dict.offsets.data + 4 * (k + 1));
      CL_TRY(cl_buf_append(&dst->values, p->dict.values.data + a, (size_t)(b - a), err));
      return cl_arr_push_offset(dst, dst->values.len, err);
    }
    size_t w = cl_type_bits(f) / 8;
    return cl_buf_append(&dst->values, p->dict.values.data + k * w, w, err);
  }
  const pb21_enc *e = p->mb->value_compression;
  const uint8_t *b0 = p->cb.data[0];
  size_t l0 = p->cb.len[0];
  switch (e->compression_case) {
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT: {
    uint64_t bits = e->flat->bits_per_value;
    if (bits != cl_type_bits(f) || f->type == CL_TYPE_FIXED_SIZE_LIST)
      break;
    if (bits == 1) {
      if (j / 8 >= l0)
        return cl_err(err, CLANCE_ECORRUPT, "%s: value past its chunk", p->what);
      size_t need = (size_t)((dst->length + 8) >> 3);
      if (need > dst->values.len)
        CL_TRY(cl_buf_fill(&dst->values, 0, need - dst->values.len, err));
      if (cl_bit_get(b0, (int64_t)j))
        cl_bit_set(dst->values.data, dst->length);
      else
        cl_bit_clear(dst->values.data, dst->length);
      return CLANCE_OK;
    }
    size_t w = (size_t)bits / 8;
    if ((j + 1) * w > l0)
      return cl_err(err, CLANCE_ECORRUPT, "%s: value past its chunk", p->what);
    return cl_buf_append(&dst->values, b0 + j * w, w, err);
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING: {
    unsigned T = (unsigned)e->inline_bitpacking->uncompressed_bits_per_value;
    if (T != cl_type_bits(f) || (T != 8 && T != 16 && T != 32 && T != 64) || l0 < T / 8 || j >= 1024)
      break;
    uint64_t bw = le_n(b0, T / 8);
    if (bw > T || l0 < T / 8 + 128 * bw)
      return cl_err(err, CLANCE_ECORRUPT, "%s: bad bit-packed chunk", p->what);
    uint64_t v = cl_fl_get(T, b0 + T / 8, (unsigned)bw, (unsigned)j);
    uint8_t tmp[8];
    cl_put64(tmp, v);
    return cl_buf_append(&dst->values, tmp, T / 8, err);
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE:
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FSST: {
    const pb21_enc *ve = e->compression_case == LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FSST
                             ? e->fsst->values
                             : e;
    if (!cl_type_is_binary_like(f->type) || !ve ||
        ve->compression_case != LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE ||
        !ve->variable->offsets ||
        ve->variable->offsets->compression_case != LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT)
      break;
    unsigned ow = (unsigned)ve->variable->offsets->flat->bits_per_value / 8;
    if ((ow != 4 && ow != 8) || (j + 2) * ow > l0)
      return cl_err(err, CLANCE_ECORRUPT, "%s: variable-width value past its chunk", p->what);
    uint64_t s0 = le_n(b0 + j * ow, ow), s1 = le_n(b0 + (j + 1) * ow, ow);
    if (s0 > s1 || s1 > l0)
      return cl_err(err, CLANCE_ECORRUPT, "%s: variable-width offsets out of range", p->what);
    if (e->compression_case == LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FSST) {
      if (!p->ds.fsst) {
        cl_fsst_table *t;
        if (cl_fsst_table_parse(e->fsst->symbol_table.data, e->fsst->symbol_table.len, &t, err))
          return cl_err_ctx(err, "%s: ", p->what);
        p->ds.fsst = t;
      }
      if (cl_fsst_decode(p->ds.fsst, b0 + s0, (size_t)(s1 - s0), &dst->values, err))
        return cl_err_ctx(err, "%s: ", p->what);
    } else {
      CL_TRY(cl_buf_append(&dst->values, b0 + s0, (size_t)(s1 - s0), err));
    }
    return cl_arr_push_offset(dst, dst->values.len, err);
  }
  case LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_PACKED_STRUCT:
    /* A packed struct row: its bytes are read straight out of the chunk. */
    if (f->type != CL_TYPE_STRUCT || dst->field->type != CL_TYPE_STRUCT)
      return cl_err(err, CLANCE_ECORRUPT, "%s: packed struct values for a column that is not a "
                    "struct", p->what);
    return cl_packed_mb_rows(e, &p->cb, p->chunk_values, j, 1, dst, p->what, err);
  default: break;
  }
  /* Everything else: decode the chunk once and copy from it. */
  CL_TRY(chunk_values(p, f, err));
  const cl_arr *t = &p->tmp;
  if (cl_type_is_binary_like(f->type)) {
    int large = cl_type_is_large(f->type);
    uint64_t a = large ? cl_le64(t->offsets.data + 8 * j) : cl_le32(t->offsets.data + 4 * j);
    uint64_t b = large ? cl_le64(t->offsets.data + 8 * (j + 1)) : cl_le32(t->offsets.data + 4 * (j + 1));
    CL_TRY(cl_buf_append(&dst->values, t->values.data + a, (size_t)(b - a), err));
    return cl_arr_push_offset(dst, dst->values.len, err);
  }
  if (f->type == CL_TYPE_FIXED_SIZE_LIST) {
    const cl_arr *ti = &t->children[0];
    cl_arr *di = &dst->children[0];
    size_t iw = cl_type_bits(&f->children[0]) / 8, dim = (size_t)f->size;
    CL_TRY(cl_buf_append(&di->values, ti->values.data + j * dim * iw, dim * iw, err));
    return cl_arr_append_validity(di, ti->null_count ? ti->validity.data : NULL, (int64_t)(j * dim),
                                  (int64_t)dim, err);
  }
  uint32_t bits = cl_type_bits(f);
  if (bits == 1) {
    size_t need = (size_t)((dst->length + 8) >> 3);
    if (need > dst->values.len)
      CL_TRY(cl_buf_fill(&dst->values, 0, need - dst->values.len, err));
    if (cl_bit_get(t->values.data, (int64_t)j))
      cl_bit_set(dst->values.data, dst->length);
    return CLANCE_OK;
  }
  return cl_buf_append(&dst->values, t->values.data + j * (bits / 8), bits / 8, err);
}

clance_status cl_page_rows_take(cl_page_rows *p, const uint64_t *rows, size_t n, cl_arr *dst,
                                clance_error *err) {
  size_t c = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t r = rows[i];
    if (r >= p->first_row[p->n_chunks])
      return cl_err(err, CLANCE_EINTERNAL, "%s: row %llu past the page", p->what, (unsigned long long)r);
    if (c >= p->n_chunks || r < p->first_row[c] || r >= p->first_row[c + 1]) {
      size_t lo = 0, hi = p->n_chunks;
      while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (p->first_row[mid] <= r)
          lo = mid;
        else
          hi = mid;
      }
      c = lo;
    }
    CL_TRY(load_chunk(p, c, err));
    uint64_t j = r - p->first_row[c];
    CL_TRY(append_value(p, j, dst, err));
    int valid = !p->has_def || p->def[j] == 0;
    if (p->has_def && p->def[j] > 1)
      return cl_err(err, CLANCE_ECORRUPT, "%s: definition level %u in a flat column", p->what, p->def[j]);
    CL_TRY(valid ? cl_arr_append_valid(dst, 1, err) : cl_arr_append_null(dst, 1, err));
  }
  return CLANCE_OK;
}
