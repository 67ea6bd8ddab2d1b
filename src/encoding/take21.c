/* Random access to rows of a 2.1/2.2 page of a flat column.
 *
 * Mini-block: a page's chunks are located from its chunk words; for a
 * requested row only its chunk is read and its header and levels decoded,
 * and the value itself is read straight out of the chunk when the encoding
 * allows it (flat, bit-packed, variable, FSST strings, vectors, dictionary
 * indices). Other encodings decode the whole chunk once.
 *
 * Full-zip: each row is one entry (control word, then the value, with a
 * length prefix when the width varies). Fixed-width entries are found by
 * arithmetic; variable-width ones through the page's repetition index (the
 * byte offset of every row's entry, and the end), and only the entries
 * asked for are read. */
#include <stdlib.h>
#include <string.h>

#include "encoding/decode.h"
#include "encoding/fastlanes.h"
#include "encoding/fsst.h"
#include "encoding/repdef.h"

typedef Lance__Encodings21__MiniBlockLayout mb_layout;

typedef Lance__Encodings21__FullZipLayout fz_layout;

typedef struct mb_rows {
  cl_page_rows base;
  const cl_field *f;
  char *what;
  pb21_layout *layout;
  const mb_layout *mb;
  cl_buf meta;
  cl_bufrd data;
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
} mb_rows;

void cl_page_rows_free(cl_page_rows *p) {
  if (p)
    p->free(p);
}

clance_status cl_page_rows_take(cl_page_rows *p, const uint64_t *rows, size_t n, cl_arr *dst,
                                clance_error *err) {
  return p->take(p, rows, n, dst, err);
}

static void mb_free(cl_page_rows *base) {
  mb_rows *p = (mb_rows *)base;
  cl_buf_free(&p->meta);
  cl_bufrd_free(&p->data);
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

static clance_status mb_take(cl_page_rows *base, const uint64_t *rows, size_t n, cl_arr *dst,
                             clance_error *err);
static clance_status fz_open(const cl_page_ctx *ctx, const cl_field *f, pb21_layout *layout,
                             cl_page_rows **out, clance_error *err);

/* Mini-block page: chunk positions from the chunk words, the dictionary
 * decoded; the chunks themselves are read when a row needs them. Takes
 * ownership of layout. */
static clance_status mb_open(const cl_page_ctx *ctx, const cl_field *f, pb21_layout *layout,
                             cl_page_rows **out, clance_error *err) {
  const mb_layout *mb = layout->mini_block_layout;
  clance_status st = CLANCE_OK;
  mb_rows *p = cl_calloc(1, sizeof *p, err);
  if (!p) {
    protobuf_c_message_free_unpacked(&layout->base, NULL);
    return err->code;
  }
  p->base.take = mb_take;
  p->base.free = mb_free;
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
  CL_CHECK(st, cl_bufrd_init(&p->data, ctx, 1, p->what, err));
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
  if (off > p->data.size || row != n) {
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
  *out = &p->base;
  return CLANCE_OK;
fail:
  mb_free(&p->base);
  return st;
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
  /* Only flat columns: one item layer, no repetition. Others fall back. */
  if (layout->layout_case == LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT) {
    const mb_layout *mb = layout->mini_block_layout;
    if (mb->n_layers == 1 && !mb->rep_compression && mb->value_compression &&
        mb->has_large_chunk == (v >= CL_FILE_V2_2) && mb->num_buffers >= 1 && mb->num_buffers <= 8 &&
        mb->num_items == ctx->page->length) {
      CL_TRY(mb_open(ctx, f, layout, out, err));
      *supported = 1;
      return CLANCE_OK;
    }
  } else if (layout->layout_case == LANCE__ENCODINGS21__PAGE_LAYOUT__LAYOUT_FULL_ZIP_LAYOUT) {
    CL_TRY(fz_open(ctx, f, layout, out, err));
    *supported = *out != NULL;
    return CLANCE_OK;
  }
  protobuf_c_message_free_unpacked(&layout->base, NULL);
  return CLANCE_OK;
}

/* Make chunk c current: header, levels and value buffer positions. */
static clance_status load_chunk(mb_rows *p, size_t c, clance_error *err) {
  if (p->chunk == c)
    return CLANCE_OK;
  const uint8_t *d;
  uint64_t size = p->size[c], nv = p->first_row[c + 1] - p->first_row[c];
  p->chunk = SIZE_MAX; /* the block holding the current chunk is replaced */
  CL_TRY(cl_bufrd_get(&p->data, p->offset[c], size, &d, err));
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
static clance_status chunk_values(mb_rows *p, const cl_field *vf, clance_error *err) {
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
static clance_status index_at(mb_rows *p, uint64_t j, uint64_t *out, clance_error *err) {
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
static clance_status append_value(mb_rows *p, uint64_t j, cl_arr *dst, clance_error *err) {
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

static clance_status mb_take(cl_page_rows *base, const uint64_t *rows, size_t n, cl_arr *dst,
                             clance_error *err) {
  mb_rows *p = (mb_rows *)base;
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

/* ---- full-zip ---- */

typedef struct fz_rows {
  cl_page_rows base;
  const cl_field *f;
  char *what;
  pb21_layout *layout;
  const fz_layout *fz;
  cl_bufrd data, index;
  unsigned cw;          /* control word bytes */
  uint32_t def_mask;
  uint16_t null_code;   /* definition level of a null row (0: none) */
  uint64_t stride;      /* fixed width: bytes per entry; 0 = variable width */
  uint64_t vbytes;      /* fixed width: bytes per value */
  unsigned ob;          /* variable width: bytes of the length prefix */
  unsigned iw;          /* variable width: bytes per repetition index entry */
  int item_valid;       /* vectors: the decoder leaves item validity to us */
  int direct;           /* entries are plain values: runs of rows are read straight into
                         * the builder */
  uint64_t rows;
  cl_dec_state ds;
} fz_rows;

static void fz_free(cl_page_rows *base) {
  fz_rows *p = (fz_rows *)base;
  cl_bufrd_free(&p->data);
  cl_bufrd_free(&p->index);
  cl_dec_state_free(&p->ds);
  if (p->layout)
    protobuf_c_message_free_unpacked(&p->layout->base, NULL);
  free(p->what);
  free(p);
}

/* Append the value stored in bytes [v, v + len) (or a placeholder) and the
 * row's validity. */
static clance_status fz_append(fz_rows *p, uint32_t word, const uint8_t *v, uint64_t len,
                               int has_value, cl_arr *dst, clance_error *err) {
  uint16_t d = (uint16_t)(word & p->def_mask);
  if (d != 0 && d != p->null_code)
    return cl_err(err, CLANCE_ECORRUPT, "%s: definition level %u in a flat column", p->what, d);
  int64_t len0 = dst->length;
  if (has_value) {
    cl_sink s = {dst, p->f};
    cl_arr *item = p->item_valid ? &dst->children[0] : NULL;
    int64_t ilen0 = item ? item->length : 0;
    CL_TRY(cl_decode_pervalue(p->fz->value_compression, v, (size_t)len, &s, &p->ds, p->what, err));
    if (item) {
      /* Items without a bitmap only advance the length: in an array that
       * holds null items from another page they must be marked valid. */
      int64_t added = item->length - ilen0;
      item->length = ilen0;
      CL_TRY(cl_arr_append_valid(item, added, err));
    }
  } else {
    CL_TRY(cl_arr_append_placeholders(dst, 1, err));
  }
  if (dst->length != len0 + 1)
    return cl_err(err, CLANCE_ECORRUPT, "%s: a full-zip entry decoded to %lld values", p->what,
                  (long long)(dst->length - len0));
  dst->length = len0;
  return d ? cl_arr_append_null(dst, 1, err) : cl_arr_append_valid(dst, 1, err);
}

static uint32_t fz_word(const uint8_t *b, unsigned cw) {
  return cw == 0 ? 0 : cw == 1 ? b[0] : cw == 2 ? cl_le16(b) : cl_le32(b);
}

/* Rows [r, r + k) of a page of plain fixed-width values, read into the
 * builder with one read. */
static clance_status fz_direct(fz_rows *p, uint64_t r, uint64_t k, cl_arr *dst, clance_error *err) {
  int vec = p->f->type == CL_TYPE_FIXED_SIZE_LIST;
  cl_arr *va = vec ? &dst->children[0] : dst;
  uint64_t bytes = k * p->stride;
  if (r * p->stride > p->data.size || bytes > p->data.size - r * p->stride)
    return cl_err(err, CLANCE_ECORRUPT, "%s: rows past the end of the page's data", p->what);
  CL_TRY(cl_buf_reserve(&va->values, (size_t)bytes, err));
  clance_status st = cl_container_read(p->data.file, p->data.pos + r * p->stride, bytes,
                                       va->values.data + va->values.len, err);
  if (st)
    return cl_err_ctx(err, "%s: ", p->what);
  va->values.len += (size_t)bytes;
  if (vec)
    CL_TRY(cl_arr_append_valid(va, (int64_t)k * p->f->size, err));
  return cl_arr_append_valid(dst, (int64_t)k, err);
}

static clance_status fz_take(cl_page_rows *base, const uint64_t *rows, size_t n, cl_arr *dst,
                             clance_error *err) {
  fz_rows *p = (fz_rows *)base;
  if (p->direct) {
    for (size_t i = 0; i < n;) {
      size_t e = i + 1;
      while (e < n && rows[e] == rows[e - 1] + 1)
        e++;
      if (rows[e - 1] >= p->rows)
        return cl_err(err, CLANCE_EINTERNAL, "%s: row %llu past the page", p->what,
                      (unsigned long long)rows[e - 1]);
      CL_TRY(fz_direct(p, rows[i], (uint64_t)(e - i), dst, err));
      i = e;
    }
    return CLANCE_OK;
  }
  if (p->stride && n > 1) { /* room for the values up front: vectors are large */
    cl_arr *va = p->f->type == CL_TYPE_FIXED_SIZE_LIST && dst->n_children ? &dst->children[0] : dst;
    if (!cl_type_is_binary_like(p->f->type) && p->vbytes <= SIZE_MAX / n)
      CL_TRY(cl_buf_reserve(&va->values, (size_t)(n * p->vbytes), err));
  }
  for (size_t i = 0; i < n; i++) {
    uint64_t r = rows[i];
    if (r >= p->rows)
      return cl_err(err, CLANCE_EINTERNAL, "%s: row %llu past the page", p->what, (unsigned long long)r);
    const uint8_t *e;
    if (p->stride) {
      /* Null rows carry a (zeroed) value too: every entry is stride bytes. */
      CL_TRY(cl_bufrd_get(&p->data, r * p->stride, p->stride, &e, err));
      CL_TRY(fz_append(p, fz_word(e, p->cw), e + p->cw, p->vbytes, 1, dst, err));
      continue;
    }
    const uint8_t *ix;
    CL_TRY(cl_bufrd_get(&p->index, r * p->iw, 2 * (uint64_t)p->iw, &ix, err));
    uint64_t a = le_n(ix, p->iw), b = le_n(ix + p->iw, p->iw);
    if (a > b || b - a < p->cw)
      return cl_err(err, CLANCE_ECORRUPT, "%s: repetition index entry %llu is out of order",
                    p->what, (unsigned long long)r);
    CL_TRY(cl_bufrd_get(&p->data, a, b - a, &e, err));
    uint32_t word = fz_word(e, p->cw);
    if ((word & p->def_mask) != 0) { /* a null variable-width value is only its control word */
      CL_TRY(fz_append(p, word, NULL, 0, 0, dst, err));
      continue;
    }
    uint64_t rest = b - a - p->cw;
    if (rest < p->ob)
      return cl_err(err, CLANCE_ECORRUPT, "%s: full-zip entry %llu ends inside its length",
                    p->what, (unsigned long long)r);
    uint64_t len = le_n(e + p->cw, p->ob);
    if (len > rest - p->ob)
      return cl_err(err, CLANCE_ECORRUPT, "%s: full-zip value %llu of %llu bytes overruns its entry",
                    p->what, (unsigned long long)r, (unsigned long long)len);
    CL_TRY(fz_append(p, word, e + p->cw + p->ob, len, 1, dst, err));
  }
  return CLANCE_OK;
}

/* Full-zip page of a flat column; *out stays NULL (layout freed) for pages
 * that need a whole-page decode. Takes ownership of layout. */
static clance_status fz_open(const cl_page_ctx *ctx, const cl_field *f, pb21_layout *layout,
                             cl_page_rows **out, clance_error *err) {
  const fz_layout *fz = layout->full_zip_layout;
  cl_path path;
  clance_status st = CLANCE_OK;
  int flat = fz->n_layers == 1 && fz->bits_rep == 0 && fz->bits_def <= 16 && fz->value_compression &&
             fz->num_items == ctx->page->length &&
             (fz->details_case == LANCE__ENCODINGS21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_VALUE ||
              (fz->details_case == LANCE__ENCODINGS21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_OFFSET &&
               ctx->page->n_bufs >= 2));
  if (flat) {
    st = cl_path_init(&path, f, fz->layers, fz->n_layers, ctx->what, err);
    flat = !st && path.depth == 1 && path.max_rep == 0;
  }
  fz_rows *p = NULL;
  if (!flat || !(p = cl_calloc(1, sizeof *p, err))) {
    protobuf_c_message_free_unpacked(&layout->base, NULL);
    return st ? st : flat ? err->code : CLANCE_OK;
  }
  p->base.take = fz_take;
  p->base.free = fz_free;
  p->base.dense = 1;
  p->f = f;
  p->layout = layout;
  p->fz = fz;
  p->rows = ctx->page->length;
  p->null_code = path.nodes[0].null_code;
  const pb21_enc *vc = fz->value_compression;
  for (int k = 0; vc && k < 16 &&
                  vc->compression_case == LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL; k++)
    vc = vc->general->values; /* compression per value around the vector */
  p->item_valid = f->type == CL_TYPE_FIXED_SIZE_LIST && f->n_children == 1 && vc &&
                  !(vc->compression_case == LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST &&
                    vc->fixed_size_list->has_validity);
  p->def_mask = (1u << fz->bits_def) - 1;
  unsigned cw_bits = fz->bits_def;
  p->cw = cw_bits == 0 ? 0 : cw_bits <= 8 ? 1 : 2;
  if (!(p->what = cl_strdup(ctx->what, err))) {
    st = err->code;
    goto fail;
  }
  CL_CHECK(st, cl_bufrd_init(&p->data, ctx, 0, p->what, err));
  if (fz->details_case == LANCE__ENCODINGS21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_VALUE) {
    if (fz->bits_per_value % 8 || fz->bits_per_value == 0) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: full-zip value width of %u bits", p->what,
                  fz->bits_per_value);
      goto fail;
    }
    p->vbytes = fz->bits_per_value / 8;
    p->stride = p->cw + p->vbytes;
    /* Plain values without control words: Flat of the column's width, or
     * vectors of Flat items without item validity. */
    const pb21_enc *fe = fz->value_compression;
    uint64_t bits = 0;
    if (fe->compression_case == LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT &&
        f->type != CL_TYPE_FIXED_SIZE_LIST && !cl_type_is_binary_like(f->type))
      bits = fe->flat->bits_per_value == cl_type_bits(f) ? fe->flat->bits_per_value : 0;
    else if (fe->compression_case == LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST &&
             f->type == CL_TYPE_FIXED_SIZE_LIST && f->n_children == 1 && !fe->fixed_size_list->has_validity &&
             fe->fixed_size_list->items_per_value == (uint64_t)f->size && fe->fixed_size_list->values &&
             fe->fixed_size_list->values->compression_case == LANCE__ENCODINGS21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT &&
             fe->fixed_size_list->values->flat->bits_per_value == cl_type_bits(&f->children[0]))
      bits = (uint64_t)f->size * fe->fixed_size_list->values->flat->bits_per_value;
    p->direct = p->cw == 0 && bits >= 8 && bits % 8 == 0 && bits / 8 == p->vbytes;
    if (p->rows > p->data.size / p->stride) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: %llu full-zip entries of %llu bytes do not fit %llu bytes",
                  p->what, (unsigned long long)p->rows, (unsigned long long)p->stride,
                  (unsigned long long)p->data.size);
      goto fail;
    }
  } else {
    if (fz->bits_per_offset != 32 && fz->bits_per_offset != 64) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: full-zip length prefix of %u bits", p->what,
                  fz->bits_per_offset);
      goto fail;
    }
    p->ob = fz->bits_per_offset / 8;
    CL_CHECK(st, cl_bufrd_init(&p->index, ctx, 1, p->what, err));
    /* The repetition index: rows + 1 offsets of one width (Lance derives
     * the width from the buffer's size the same way). */
    uint64_t k = p->rows + 1, w = p->index.size / k;
    if (p->index.size % k || (w != 1 && w != 2 && w != 4 && w != 8)) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: repetition index of %llu bytes for %llu rows", p->what,
                  (unsigned long long)p->index.size, (unsigned long long)p->rows);
      goto fail;
    }
    p->iw = (unsigned)w;
  }
  *out = &p->base;
  return CLANCE_OK;
fail:
  fz_free(&p->base);
  return st;
}
