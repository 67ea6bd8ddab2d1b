/* File format 2.0 page decoder for leaf columns: walks the ArrayEncoding
 * tree (Nullable, Flat, FixedSizeList, Binary, Dictionary, Fsst, PackedStruct,
 * FixedSizeBinary, Bitpacked) and produces the page's rows. */
#include <stdlib.h>
#include <string.h>

#include "encoding/compress.h"
#include "encoding/decode.h"
#include "encoding/fastlanes.h"
#include "encoding/fsst.h"

#define MAX_DEPTH 16

typedef struct dec20 {
  const cl_page_ctx *ctx;
  const char *what;
  const uint8_t *outer_valid; /* validity of the enclosing Nullable, or NULL */
} dec20;

static clance_status corrupt(const dec20 *d, const char *detail, clance_error *err) {
  return cl_err(err, CLANCE_ECORRUPT, "%s: %s", d->what, detail);
}

/* Bytes of the buffer a Flat/Bitpacked node names, decompressed if needed. */
static clance_status buffer_bytes(const dec20 *d, const Lance__Encodings__Buffer *b,
                                  const Lance__Encodings__Compression *comp, cl_buf *out,
                                  clance_error *err) {
  if (!b)
    return corrupt(d, "encoding node without a buffer", err);
  const cl_page_ctx *ctx = d->ctx;
  uint64_t off, len;
  if (b->buffer_type == LANCE__ENCODINGS__BUFFER__BUFFER_TYPE__page) {
    if (b->buffer_index >= ctx->page->n_bufs)
      return cl_err(err, CLANCE_ECORRUPT, "%s: buffer index %u out of range (%zu page buffers)",
                    d->what, b->buffer_index, ctx->page->n_bufs);
    off = ctx->page->buf_offsets[b->buffer_index];
    len = ctx->page->buf_sizes[b->buffer_index];
  } else {
    return cl_err(err, CLANCE_EUNSUPPORTED, "%s: column or file buffers in a page encoding", d->what);
  }
  out->len = 0;
  const char *scheme = comp ? cl_pb_str(comp->scheme) : "";
  if (!*scheme || !strcmp(scheme, "none")) {
    CL_TRY(cl_buf_reserve(out, (size_t)len + 8, err));
    CL_TRY(cl_container_read(ctx->file, off, len, out->data, err));
    out->len = (size_t)len;
    return CLANCE_OK;
  }
  cl_buf raw = CL_BUF_INIT;
  CL_TRY(cl_buf_reserve(&raw, (size_t)len + 8, err));
  clance_status st = cl_container_read(ctx->file, off, len, raw.data, err);
  if (!st) {
    if (!strcmp(scheme, "zstd"))
      st = cl_zstd_decompress(raw.data, (size_t)len, (size_t)1 << 31, out, err);
    else if (!strcmp(scheme, "lz4"))
      st = cl_lz4_decompress(raw.data, (size_t)len, (size_t)1 << 31, out, err);
    else
      st = cl_err(err, CLANCE_EUNSUPPORTED, "%s: unsupported buffer compression \"%s\"", d->what,
                  scheme);
    if (st && st != CLANCE_EUNSUPPORTED)
      cl_err_ctx(err, "%s: ", d->what);
  }
  cl_buf_free(&raw);
  return st;
}

/* Decode n unsigned integers of a Flat/Bitpacked node into u64 values. */
static clance_status decode_uints(const dec20 *d, const pb20_enc *e, uint64_t n, uint64_t *out,
                                  int depth, clance_error *err);

/* Append n values of a fixed-width node to a (values only; length += n). */
static clance_status decode_values(const dec20 *d, const pb20_enc *e, const cl_field *f, cl_arr *a,
                                   uint64_t n, cl_buf *validity, int *has_validity, int depth,
                                   clance_error *err);

static clance_status flat_into(const dec20 *d, const Lance__Encodings__Flat *fl, const cl_field *f,
                               cl_arr *a, uint64_t n, clance_error *err) {
  uint64_t bits = fl->bits_per_value;
  uint32_t want = cl_type_bits(f);
  if (bits != want)
    return cl_err(err, CLANCE_ECORRUPT, "%s: Flat of %llu bits for a %s column (%u bits)", d->what,
                  (unsigned long long)bits, cl_type_name(f->type), want);
  cl_buf b = CL_BUF_INIT;
  CL_TRY(buffer_bytes(d, fl->buffer, fl->compression, &b, err));
  clance_status st = CLANCE_OK;
  uint64_t need = bits == 1 ? (n + 7) / 8 : n * (bits / 8);
  if (bits != 1 && bits % 8)
    st = corrupt(d, "Flat width is not whole bytes", err);
  else if (b.len < need)
    st = corrupt(d, "Flat buffer shorter than its values", err);
  else if (bits == 1) {
    int64_t have = a->length;
    size_t bytes = (size_t)((have + (int64_t)n + 7) >> 3);
    if (bytes > a->values.len)
      st = cl_buf_fill(&a->values, 0, bytes - a->values.len, err);
    if (!st)
      cl_bits_copy(a->values.data, have, b.data, 0, (int64_t)n);
  } else {
    st = cl_buf_append(&a->values, b.data, (size_t)need, err);
  }
  if (!st)
    a->length += (int64_t)n;
  cl_buf_free(&b);
  return st;
}

static uint64_t sign_extend(uint64_t v, unsigned bits) {
  if (bits == 0 || bits >= 64)
    return v;
  uint64_t m = 1ull << (bits - 1);
  return (v ^ m) - m;
}

static clance_status decode_uints(const dec20 *d, const pb20_enc *e, uint64_t n, uint64_t *out,
                                  int depth, clance_error *err) {
  if (!e || depth > MAX_DEPTH)
    return corrupt(d, "missing or too deeply nested encoding", err);
  cl_buf b = CL_BUF_INIT;
  clance_status st = CLANCE_OK;
  switch (e->array_encoding_case) {
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE:
    if (e->nullable->nullability_case != LANCE__ENCODINGS__NULLABLE__NULLABILITY_NO_NULLS)
      return corrupt(d, "offsets or indices with nulls", err);
    return decode_uints(d, e->nullable->no_nulls->values, n, out, depth + 1, err);
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FLAT: {
    uint64_t bits = e->flat->bits_per_value;
    if (bits != 8 && bits != 16 && bits != 32 && bits != 64)
      return corrupt(d, "integer Flat of an unsupported width", err);
    CL_TRY(buffer_bytes(d, e->flat->buffer, e->flat->compression, &b, err));
    if (b.len < n * (bits / 8)) {
      st = corrupt(d, "integer buffer shorter than its values", err);
      break;
    }
    for (uint64_t i = 0; i < n; i++)
      out[i] = bits == 8 ? b.data[i] : bits == 16 ? cl_le16(b.data + 2 * i)
               : bits == 32 ? cl_le32(b.data + 4 * i) : cl_le64(b.data + 8 * i);
    break;
  }
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_BITPACKED: {
    const Lance__Encodings__Bitpacked *bp = e->bitpacked;
    uint64_t w = bp->compressed_bits_per_value;
    if (w > 64)
      return corrupt(d, "bit-packed width over 64", err);
    CL_TRY(buffer_bytes(d, bp->buffer, NULL, &b, err));
    if (b.len < (n * w + 7) / 8) {
      st = corrupt(d, "bit-packed buffer too short", err);
      break;
    }
    for (uint64_t i = 0; i < n; i++) {
      uint64_t v = 0, bit = i * w;
      for (uint64_t k = 0; k < w; k++, bit++)
        v |= (uint64_t)((b.data[bit >> 3] >> (bit & 7)) & 1) << k;
      out[i] = bp->signed_ ? sign_extend(v, (unsigned)w) : v;
    }
    break;
  }
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_BITPACKED_FOR_NON_NEG: {
    const Lance__Encodings__BitpackedForNonNeg *bp = e->bitpacked_for_non_neg;
    uint64_t w = bp->compressed_bits_per_value, T = bp->uncompressed_bits_per_value;
    if ((T != 8 && T != 16 && T != 32 && T != 64) || w > T)
      return corrupt(d, "bad FastLanes bit-packing widths", err);
    CL_TRY(buffer_bytes(d, bp->buffer, NULL, &b, err));
    uint64_t groups = (n + 1023) / 1024, gbytes = 1024 * w / 8;
    if (b.len < groups * gbytes) {
      st = corrupt(d, "FastLanes buffer too short", err);
      break;
    }
    uint64_t tmp[1024];
    uint8_t raw[1024 * 8];
    for (uint64_t g = 0; g < groups; g++) {
      const uint8_t *src = b.data + g * gbytes;
      /* Copy to an aligned word buffer before unpacking. */
      uint64_t words[1024];
      memcpy(words, src, (size_t)gbytes);
      switch (T) {
      case 8: cl_fl_unpack8((const uint8_t *)words, (unsigned)w, raw); break;
      case 16: cl_fl_unpack16((const uint16_t *)words, (unsigned)w, (uint16_t *)raw); break;
      case 32: cl_fl_unpack32((const uint32_t *)words, (unsigned)w, (uint32_t *)raw); break;
      default: cl_fl_unpack64(words, (unsigned)w, tmp); memcpy(raw, tmp, sizeof tmp); break;
      }
      uint64_t cnt = n - g * 1024 < 1024 ? n - g * 1024 : 1024;
      for (uint64_t i = 0; i < cnt; i++)
        out[g * 1024 + i] = T == 8 ? raw[i] : T == 16 ? cl_le16(raw + 2 * i)
                            : T == 32 ? cl_le32(raw + 4 * i) : cl_le64(raw + 8 * i);
    }
    break;
  }
  default:
    return cl_err(err, CLANCE_EUNSUPPORTED, "%s: unsupported 2.0 integer encoding %d", d->what,
                  (int)e->array_encoding_case);
  }
  cl_buf_free(&b);
  return st;
}

/* Strings/binary from a Binary node: values and nulls. */
static clance_status binary_into(const dec20 *d, const Lance__Encodings__Binary *bn, const cl_field *f,
                                 cl_arr *a, uint64_t n, cl_buf *validity, int *has_validity,
                                 const cl_fsst_table *fsst, int depth, clance_error *err) {
  if (!cl_type_is_binary_like(f->type))
    return corrupt(d, "Binary encoding for a non-binary column", err);
  uint64_t *idx = cl_malloc((size_t)(n ? n : 1) * sizeof *idx, err);
  if (!idx)
    return err->code;
  clance_status st = decode_uints(d, bn->indices, n, idx, depth + 1, err);
  cl_buf bytes = CL_BUF_INIT;
  cl_arr tmp;
  int tmp_init = 0;
  if (st)
    goto done;
  /* The bytes node is Flat{8} (older writers wrapped it in Nullable). */
  const pb20_enc *be = bn->bytes;
  for (int k = 0; be && k < 4 && be->array_encoding_case == LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE &&
                  be->nullable->nullability_case == LANCE__ENCODINGS__NULLABLE__NULLABILITY_NO_NULLS; k++)
    be = be->nullable->no_nulls->values;
  if (!be || be->array_encoding_case != LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FLAT ||
      be->flat->bits_per_value != 8) {
    st = cl_err(err, CLANCE_EUNSUPPORTED, "%s: Binary bytes not in Flat 8-bit form", d->what);
    goto done;
  }
  if ((st = buffer_bytes(d, be->flat->buffer, be->flat->compression, &bytes, err)))
    goto done;
  uint64_t adj = bn->null_adjustment, prev = 0;
  int any_null = 0;
  for (uint64_t i = 0; i < n; i++)
    if (adj && idx[i] >= adj)
      any_null = 1;
  if (any_null) {
    validity->len = 0;
    if ((st = cl_buf_fill(validity, 0xff, (size_t)((n + 7) / 8), err)))
      goto done;
    *has_validity = 1;
  }
  for (uint64_t i = 0; i < n; i++) {
    int valid = !adj || idx[i] < adj;
    uint64_t end = valid ? idx[i] : idx[i] - adj;
    if (end < prev || end > bytes.len) {
      st = corrupt(d, "Binary offsets out of order or past the bytes", err);
      goto done;
    }
    if (!valid)
      cl_bit_clear(validity->data, (int64_t)i);
    if (fsst) {
      if ((st = cl_fsst_decode(fsst, bytes.data + prev, (size_t)(end - prev), &a->values, err))) {
        cl_err_ctx(err, "%s: ", d->what);
        goto done;
      }
    } else if ((st = cl_buf_append(&a->values, bytes.data + prev, (size_t)(end - prev), err))) {
      goto done;
    }
    if ((st = cl_arr_push_offset(a, a->values.len, err)))
      goto done;
    prev = end;
  }
  a->length += (int64_t)n;
done:
  if (tmp_init)
    cl_arr_free(&tmp);
  free(idx);
  cl_buf_free(&bytes);
  return st;
}

/* Bits per value that a packed struct child's own encoding describes
 * (Flat, or a fixed-size list of Flat, under Nullable without nulls); 0 for
 * anything else. */
static uint64_t packed_child_bits(const pb20_enc *e, int depth) {
  while (e && depth++ < MAX_DEPTH &&
         e->array_encoding_case == LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE &&
         e->nullable->nullability_case == LANCE__ENCODINGS__NULLABLE__NULLABILITY_NO_NULLS)
    e = e->nullable->no_nulls->values;
  if (!e || depth >= MAX_DEPTH)
    return 0;
  if (e->array_encoding_case == LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FLAT)
    return e->flat->bits_per_value;
  if (e->array_encoding_case == LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FIXED_SIZE_LIST) {
    uint64_t item = packed_child_bits(e->fixed_size_list->items, depth);
    uint64_t dim = e->fixed_size_list->dimension;
    return item && dim && item <= UINT64_MAX / dim ? item * dim : 0;
  }
  return 0;
}

/* PackedStruct: one buffer of rows, each the children's values back to
 * back (widths from the schema, fixed-size lists flattened). The children
 * hold no nulls: Lance refuses to pack them otherwise. */
static clance_status packed_into(const dec20 *d, const Lance__Encodings__PackedStruct *ps,
                                 const cl_field *f, cl_arr *a, uint64_t n, int depth,
                                 clance_error *err) {
  if (f->type != CL_TYPE_STRUCT)
    return cl_err(err, CLANCE_ECORRUPT, "%s: packed struct encoding for a %s column", d->what,
                  cl_type_name(f->type));
  if (ps->n_inner != f->n_children)
    return cl_err(err, CLANCE_ECORRUPT, "%s: packed struct of %zu children for struct \"%s\" of %zu",
                  d->what, ps->n_inner, f->name, f->n_children);
  uint64_t *widths = cl_malloc((f->n_children ? f->n_children : 1) * sizeof *widths, err);
  if (!widths)
    return err->code;
  uint64_t row_bytes = 0;
  cl_buf b = CL_BUF_INIT;
  clance_status st = cl_packed_layout(f, widths, &row_bytes, d->what, err);
  for (size_t k = 0; !st && k < f->n_children; k++) {
    uint64_t bits = packed_child_bits(ps->inner[k], depth + 1);
    if (bits == 0)
      st = cl_err(err, CLANCE_EUNSUPPORTED, "%s: packed struct child \"%s\" has a 2.0 encoding "
                  "(%d) other than Flat or FixedSizeList", d->what, f->children[k].name,
                  ps->inner[k] ? (int)ps->inner[k]->array_encoding_case : -1);
    else if (bits != widths[k] * 8)
      st = cl_err(err, CLANCE_ECORRUPT, "%s: packed struct child \"%s\" stored in %llu bits, its "
                  "type %s has %llu", d->what, f->children[k].name, (unsigned long long)bits,
                  cl_type_name(f->children[k].type), (unsigned long long)(widths[k] * 8));
  }
  if (!st)
    st = buffer_bytes(d, ps->buffer, NULL, &b, err);
  if (!st && (row_bytes == 0 || b.len / row_bytes < n))
    st = corrupt(d, "packed struct buffer shorter than its rows", err);
  if (!st)
    st = cl_packed_append_rows(a, b.data, row_bytes, widths, n, err);
  if (!st)
    a->length += (int64_t)n;
  cl_buf_free(&b);
  free(widths);
  return st;
}

static clance_status decode_values(const dec20 *d, const pb20_enc *e, const cl_field *f, cl_arr *a,
                                   uint64_t n, cl_buf *validity, int *has_validity, int depth,
                                   clance_error *err) {
  if (!e || depth > MAX_DEPTH)
    return corrupt(d, "missing or too deeply nested encoding", err);
  switch (e->array_encoding_case) {
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE: {
    const Lance__Encodings__Nullable *nl = e->nullable;
    switch (nl->nullability_case) {
    case LANCE__ENCODINGS__NULLABLE__NULLABILITY_NO_NULLS:
      return decode_values(d, nl->no_nulls->values, f, a, n, validity, has_validity, depth + 1, err);
    case LANCE__ENCODINGS__NULLABLE__NULLABILITY_SOME_NULLS: {
      const pb20_enc *ve = nl->some_nulls->validity;
      if (!ve || ve->array_encoding_case != LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FLAT ||
          ve->flat->bits_per_value != 1)
        return corrupt(d, "validity is not a 1-bit Flat", err);
      CL_TRY(buffer_bytes(d, ve->flat->buffer, ve->flat->compression, validity, err));
      if (validity->len < (n + 7) / 8)
        return corrupt(d, "validity bitmap too short", err);
      *has_validity = 1;
      cl_buf inner_v = CL_BUF_INIT;
      int inner_has = 0;
      dec20 inner = *d;
      inner.outer_valid = validity->data;
      clance_status st = decode_values(&inner, nl->some_nulls->values, f, a, n, &inner_v, &inner_has,
                                       depth + 1, err);
      if (!st && inner_has) /* both levels say something: a row is valid only if both agree */
        for (size_t i = 0; i < validity->len && i < inner_v.len; i++)
          validity->data[i] &= inner_v.data[i];
      cl_buf_free(&inner_v);
      return st;
    }
    case LANCE__ENCODINGS__NULLABLE__NULLABILITY_ALL_NULLS: {
      validity->len = 0;
      CL_TRY(cl_buf_fill(validity, 0, (size_t)((n + 7) / 8), err));
      *has_validity = 1;
      /* Zeroed placeholders. */
      if (f->type == CL_TYPE_STRUCT)
        return cl_arr_append_placeholders(a, (int64_t)n, err);
      if (cl_type_is_binary_like(f->type)) {
        for (uint64_t i = 0; i < n; i++)
          CL_TRY(cl_arr_push_offset(a, a->values.len, err));
      } else if (f->type == CL_TYPE_FIXED_SIZE_LIST) {
        cl_arr *item = &a->children[0];
        uint64_t items = n * (uint64_t)f->size;
        uint32_t ib = cl_type_bits(&f->children[0]);
        CL_TRY(cl_buf_fill(&item->values, 0, (size_t)(ib == 1 ? (items + 7) / 8 : items * (ib / 8)), err));
        CL_TRY(cl_arr_append_valid(item, (int64_t)items, err));
      } else if (f->type != CL_TYPE_NULL) {
        uint32_t bits = cl_type_bits(f);
        int64_t have = a->length;
        size_t bytes = bits == 1 ? (size_t)((have + (int64_t)n + 7) >> 3) - a->values.len
                                 : (size_t)(n * (bits / 8));
        CL_TRY(cl_buf_fill(&a->values, 0, bytes, err));
      }
      a->length += (int64_t)n;
      return CLANCE_OK;
    }
    default: return corrupt(d, "Nullable without a variant", err);
    }
  }
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FLAT:
    if (f->type == CL_TYPE_FIXED_SIZE_BINARY || cl_type_bits(f) > 0)
      return flat_into(d, e->flat, f, a, n, err);
    return corrupt(d, "Flat encoding for a variable-width column", err);
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FIXED_SIZE_LIST: {
    const Lance__Encodings__FixedSizeList *fl = e->fixed_size_list;
    if (f->type != CL_TYPE_FIXED_SIZE_LIST || fl->dimension != (uint32_t)f->size)
      return corrupt(d, "FixedSizeList encoding does not match the column type", err);
    cl_arr *item = &a->children[0];
    cl_buf iv = CL_BUF_INIT;
    int ihas = 0;
    uint64_t items = n * fl->dimension;
    clance_status st = decode_values(d, fl->items, &f->children[0], item, items, &iv, &ihas,
                                     depth + 1, err);
    if (!st) {
      item->length -= (int64_t)items;
      st = cl_arr_append_validity(item, ihas ? iv.data : NULL, 0, (int64_t)items, err);
    }
    cl_buf_free(&iv);
    if (!st)
      a->length += (int64_t)n;
    return st;
  }
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_PACKED_STRUCT:
    return packed_into(d, e->packed_struct, f, a, n, depth, err);
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_BINARY:
    return binary_into(d, e->binary, f, a, n, validity, has_validity, NULL, depth, err);
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FSST: {
    const Lance__Encodings__Fsst *fs = e->fsst;
    cl_fsst_table *t;
    if (cl_fsst_table_parse(fs->symbol_table.data, fs->symbol_table.len, &t, err))
      return cl_err_ctx(err, "%s: ", d->what);
    clance_status st;
    if (!fs->binary || fs->binary->array_encoding_case != LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_BINARY)
      st = cl_err(err, CLANCE_EUNSUPPORTED, "%s: FSST over a non-Binary encoding", d->what);
    else
      st = binary_into(d, fs->binary->binary, f, a, n, validity, has_validity, t, depth, err);
    cl_fsst_table_free(t);
    return st;
  }
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_DICTIONARY: {
    /* Automatic utf8 dictionary (u8 indices, 0 = null, k = item k-1), or
     * a dictionary-typed field's own keys and items (dict_keys). */
    const Lance__Encodings__Dictionary *dc = e->dictionary;
    const uint32_t fixed_bits = cl_type_bits(f);
    int fixed = !cl_type_is_binary_like(f->type) && fixed_bits >= 8 &&
                f->type != CL_TYPE_FIXED_SIZE_LIST;
    if (!cl_type_is_binary_like(f->type) && !fixed)
      return cl_err(err, CLANCE_EUNSUPPORTED, "%s: dictionary encoding of a %s column", d->what,
                    cl_type_name(f->type));
    uint64_t k = dc->num_dictionary_items;
    cl_arr items;
    CL_TRY(cl_arr_init(&items, f, err));
    cl_buf iv = CL_BUF_INIT;
    int ihas = 0;
    uint64_t *idx = cl_malloc((size_t)(n ? n : 1) * sizeof *idx, err);
    clance_status st = idx ? CLANCE_OK : err->code;
    if (!st)
      st = decode_values(d, dc->items, f, &items, k, &iv, &ihas, depth + 1, err);
    if (!st)
      st = decode_uints(d, dc->indices, n, idx, depth + 1, err);
    int large = cl_type_is_large(f->type);
    int any_null = 0;
    /* Arrow's keys (dictionary-typed fields) are 0-based; Lance's own are
     * 1-based with 0 for null. */
    const uint64_t base = d->ctx->dict_keys ? 0 : 1;
    for (uint64_t i = 0; !st && i < n; i++) {
      int outer_null = d->outer_valid && !cl_bit_get(d->outer_valid, (int64_t)i);
      if (idx[i] >= k + base) {
        if (outer_null) { /* a null row's key may be anything */
          st = fixed ? cl_buf_fill(&a->values, 0, fixed_bits / 8, err)
                     : cl_arr_push_offset(a, a->values.len, err);
          continue;
        }
        st = corrupt(d, "dictionary index out of range", err);
        break;
      }
      if ((base && idx[i] == 0) || (ihas && !cl_bit_get(iv.data, (int64_t)(idx[i] - base)))) {
        if (!any_null) {
          validity->len = 0;
          st = cl_buf_fill(validity, 0xff, (size_t)((n + 7) / 8), err);
          *has_validity = 1;
          any_null = 1;
        }
        cl_bit_clear(validity->data, (int64_t)i);
        if (!st)
          st = fixed ? cl_buf_fill(&a->values, 0, fixed_bits / 8, err)
                     : cl_arr_push_offset(a, a->values.len, err);
        continue;
      }
      uint64_t j = idx[i] - base;
      if (fixed) {
        if (items.values.len < (j + 1) * (fixed_bits / 8)) {
          st = corrupt(d, "dictionary items shorter than their count", err);
          break;
        }
        st = cl_buf_append(&a->values, items.values.data + j * (fixed_bits / 8), fixed_bits / 8, err);
        continue;
      }
      uint64_t s0 = large ? cl_le64(items.offsets.data + 8 * j) : cl_le32(items.offsets.data + 4 * j);
      uint64_t s1 = large ? cl_le64(items.offsets.data + 8 * (j + 1))
                          : cl_le32(items.offsets.data + 4 * (j + 1));
      if (s1 > s0) /* an all-empty dictionary has no value bytes at all (NULL) */
        st = cl_buf_append(&a->values, items.values.data + s0, (size_t)(s1 - s0), err);
      if (!st)
        st = cl_arr_push_offset(a, a->values.len, err);
    }
    if (!st)
      a->length += (int64_t)n;
    free(idx);
    cl_buf_free(&iv);
    cl_arr_free(&items);
    return st;
  }
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FIXED_SIZE_BINARY: {
    /* Strings that all have the same width. */
    const Lance__Encodings__FixedSizeBinary *fb = e->fixed_size_binary;
    if (!cl_type_is_binary_like(f->type) || fb->byte_width == 0)
      return corrupt(d, "FixedSizeBinary encoding for a non-binary column", err);
    const pb20_enc *be = fb->bytes;
    while (be && be->array_encoding_case == LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE &&
           be->nullable->nullability_case == LANCE__ENCODINGS__NULLABLE__NULLABILITY_NO_NULLS)
      be = be->nullable->no_nulls->values;
    if (!be || be->array_encoding_case != LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_FLAT)
      return cl_err(err, CLANCE_EUNSUPPORTED, "%s: FixedSizeBinary bytes not Flat", d->what);
    cl_buf b = CL_BUF_INIT;
    CL_TRY(buffer_bytes(d, be->flat->buffer, be->flat->compression, &b, err));
    clance_status st = CLANCE_OK;
    if (b.len < n * fb->byte_width)
      st = corrupt(d, "FixedSizeBinary buffer too short", err);
    for (uint64_t i = 0; !st && i < n; i++) {
      st = cl_buf_append(&a->values, b.data + i * fb->byte_width, fb->byte_width, err);
      if (!st)
        st = cl_arr_push_offset(a, a->values.len, err);
    }
    if (!st)
      a->length += (int64_t)n;
    cl_buf_free(&b);
    return st;
  }
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_BITPACKED:
  case LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_BITPACKED_FOR_NON_NEG: {
    uint32_t bits = cl_type_bits(f);
    if (bits != 8 && bits != 16 && bits != 32 && bits != 64)
      return corrupt(d, "bit-packing for a non-integer column", err);
    uint64_t *v = cl_malloc((size_t)(n ? n : 1) * 8, err);
    if (!v)
      return err->code;
    clance_status st = decode_uints(d, e, n, v, depth + 1, err);
    if (!st)
      st = cl_buf_reserve(&a->values, (size_t)n * (bits / 8), err);
    for (uint64_t i = 0; !st && i < n; i++) {
      uint8_t tmp[8];
      cl_put64(tmp, v[i]);
      memcpy(a->values.data + a->values.len, tmp, bits / 8);
      a->values.len += bits / 8;
    }
    if (!st)
      a->length += (int64_t)n;
    free(v);
    return st;
  }
  default:
    return cl_err(err, CLANCE_EUNSUPPORTED, "%s: unsupported 2.0 encoding %d", d->what,
                  (int)e->array_encoding_case);
  }
}

clance_status cl_decode20_encoding(const cl_page_ctx *ctx, pb20_enc **out, clance_error *err) {
  pb_any *any;
  CL_TRY(cl_pb_unpack_any(ctx->page->encoding, ctx->page->encoding_len, "lance.encodings.ArrayEncoding",
                          ctx->what, &any, err));
  clance_status st = cl_pb_unpack(&lance__encodings__array_encoding__descriptor, any->value.data,
                                  any->value.len, ctx->what, (ProtobufCMessage **)out, err);
  protobuf_c_message_free_unpacked(&any->base, NULL);
  return st;
}

clance_status cl_decode20_page(const cl_page_ctx *ctx, const cl_field *f, struct ArrowArray *out,
                               clance_error *err) {
  pb20_enc *e;
  clance_status st;
  CL_TRY(cl_decode20_encoding(ctx, &e, err));
  dec20 d = {.ctx = ctx, .what = ctx->what};
  cl_arr a;
  cl_buf validity = CL_BUF_INIT;
  int has_validity = 0;
  uint64_t n = ctx->page->length;
  if ((st = cl_arr_init(&a, f, err)))
    goto done;
  st = decode_values(&d, e, f, &a, n, &validity, &has_validity, 0, err);
  if (!st && (uint64_t)a.length != n)
    st = cl_err(err, CLANCE_ECORRUPT, "%s: decoded %lld rows, page says %llu", ctx->what,
                (long long)a.length, (unsigned long long)n);
  if (!st) {
    a.length = 0;
    st = cl_arr_append_validity(&a, has_validity ? validity.data : NULL, 0, (int64_t)n, err);
  }
  if (!st)
    st = cl_arr_export(&a, out, err);
  cl_arr_free(&a);
done:
  cl_buf_free(&validity);
  protobuf_c_message_free_unpacked(&e->base, NULL);
  return st;
}

clance_status cl_decode20_list_lengths(const cl_page_ctx *ctx, struct ArrowArray *out,
                                       clance_error *err) {
  pb20_enc *e;
  clance_status st;
  CL_TRY(cl_decode20_encoding(ctx, &e, err));
  dec20 d = {.ctx = ctx, .what = ctx->what};
  uint64_t n = ctx->page->length;
  uint64_t *v = NULL;
  cl_arr a;
  cl_field lf;
  memset(&lf, 0, sizeof lf);
  lf.type = CL_TYPE_UINT64;
  lf.nullable = 1;
  lf.name = (char *)"lengths";
  int have_arr = 0;
  if (e->array_encoding_case != LANCE__ENCODINGS__ARRAY_ENCODING__ARRAY_ENCODING_LIST) {
    st = cl_err(err, CLANCE_ECORRUPT, "%s: a list offsets column page is not a List encoding", ctx->what);
    goto done;
  }
  const Lance__Encodings__List *l = e->list;
  /* Stored per list: the end of its items (from the page's first item),
   * plus null_offset_adjustment when the list is null. */
  uint64_t adj = l->null_offset_adjustment;
  if (!(v = cl_malloc((size_t)(n ? n : 1) * sizeof *v, err))) {
    st = err->code;
    goto done;
  }
  CL_CHECK(st, decode_uints(&d, l->offsets, n, v, 1, err));
  CL_CHECK(st, cl_arr_init(&a, &lf, err));
  have_arr = 1;
  uint64_t prev = 0;
  CL_CHECK(st, cl_buf_reserve(&a.values, (size_t)n * 8, err));
  for (uint64_t i = 0; i < n; i++) {
    int valid = !adj || v[i] < adj;
    uint64_t end = valid ? v[i] : v[i] - adj;
    if (end < prev || end > l->num_items) {
      st = cl_err(err, CLANCE_ECORRUPT, "%s: list offsets out of order or past the page's %llu items",
                  ctx->what, (unsigned long long)l->num_items);
      goto fail;
    }
    cl_put64(a.values.data + a.values.len, end - prev);
    a.values.len += 8;
    CL_CHECK(st, valid ? cl_arr_append_valid(&a, 1, err) : cl_arr_append_null(&a, 1, err));
    prev = end;
  }
  st = cl_arr_export(&a, out, err);
fail:
done:
  if (have_arr)
    cl_arr_free(&a);
  free(v);
  protobuf_c_message_free_unpacked(&e->base, NULL);
  return st;
}
