/* 2.1/2.2 pages of a list column (list or large_list of a flat leaf), as
 * full-zip pages: one entry per item, plus one per null or empty list,
 * each a control word (rep << bits_def | def) followed, for a visible
 * entry, by the item's value; and a repetition index of the byte offset of
 * every row's first entry. Lance itself writes lists of small items as
 * mini-block pages (smaller); every Lance reader reads both layouts.
 *
 * Layers, innermost first: the item (nullable when an item is null), then
 * the list (all-valid, nullable, emptyable or both). Definition levels are
 * handed out in that order: a null item 1 (when the item layer has nulls),
 * then a null list, then an empty list. Items of null lists are not
 * stored (Arrow lets a null list cover child values). */
#include <string.h>

#include "encoding/encode.h"
#include "encoding/encode21.h"
#include "proto/pb.h"

typedef Lance__Encodings21__RepDefLayer repdef;

static uint64_t list_off(const cl_arr *a, int large, int64_t i) {
  return large ? cl_le64(a->offsets.data + 8 * i) : cl_le32(a->offsets.data + 4 * i);
}

int cl_encode21_list_supported(const cl_field *f) {
  if (f->type != CL_TYPE_LIST && f->type != CL_TYPE_LARGE_LIST)
    return 0;
  const cl_field *item = &f->children[0];
  if (cl_type_is_binary_like(item->type))
    return 1;
  if (item->type == CL_TYPE_BOOL || item->type == CL_TYPE_NULL || !cl_encode_supported_leaf(item))
    return 0;
  if (item->type == CL_TYPE_FIXED_SIZE_LIST)
    return 1;
  return cl_type_bits(item) % 8 == 0;
}

clance_status cl_encode21_list_page(const cl_field *f, const cl_arr *page, uint64_t first_row,
                                    cl_page_enc *out, clance_error *err) {
  cl_page_enc_reset(out);
  out->length = (uint64_t)page->length;
  out->priority = first_row;
  const cl_field *itf = &f->children[0];
  const cl_arr *items = &page->children[0];
  int large = f->type == CL_TYPE_LARGE_LIST;
  int64_t n = page->length;
  const uint8_t *lvalid = page->null_count > 0 ? page->validity.data : NULL;
  leaf_view iv;
  cl_leaf_view_of(itf, items, &iv);
  /* Which list kinds occur on the page (items of null lists not counted). */
  int has_null = 0, has_empty = 0, item_null = 0;
  for (int64_t r = 0; r < n; r++) {
    uint64_t a = list_off(page, large, r), b = list_off(page, large, r + 1);
    if (lvalid && !cl_bit_get(lvalid, r))
      has_null = 1;
    else if (a == b)
      has_empty = 1;
    else if (iv.validity)
      for (uint64_t j = a; j < b && !item_null; j++)
        item_null = !cl_bit_get(iv.validity, (int64_t)j);
  }
  unsigned base = 0, d_item = 0, d_null = 0, d_empty = 0;
  if (item_null)
    d_item = ++base;
  if (has_null)
    d_null = ++base;
  if (has_empty)
    d_empty = ++base;
  unsigned bits_def = level_bits(base), bits_rep = 1;
  if (bits_rep + bits_def > 8)
    return cl_err(err, CLANCE_EINTERNAL, "list page with %u definition bits", bits_def);
  repdef layers[2] = {item_null ? LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULLABLE_ITEM
                                : LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_ALL_VALID_ITEM,
                      has_null && has_empty ? LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULL_AND_EMPTY_LIST
                      : has_null            ? LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_NULLABLE_LIST
                      : has_empty           ? LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_EMPTYABLE_LIST
                                            : LANCE__ENCODINGS21__REP_DEF_LAYER__REPDEF_ALL_VALID_LIST};

  cl_buf *z = &out->bufs[0], starts = CL_BUF_INIT, tmp = CL_BUF_INIT;
  clance_status st = CLANCE_OK;
  uint64_t entries = 0, visible = 0;
  CL_CHECK(st, cl_buf_reserve(&starts, ((size_t)n + 1) * 8, err));
  uint64_t *start = (uint64_t *)(void *)starts.data; /* each row's first entry */
  for (int64_t r = 0; r < n; r++) {
    start[r] = z->len;
    uint64_t a = list_off(page, large, r), b = list_off(page, large, r + 1);
    int lnull = lvalid && !cl_bit_get(lvalid, r);
    uint8_t cw;
    if (lnull || a == b) { /* invisible: only the control word */
      cw = (uint8_t)((1u << bits_def) | (lnull ? d_null : d_empty));
      CL_CHECK(st, cl_buf_append(z, &cw, 1, err));
      entries++;
      continue;
    }
    for (uint64_t j = a; j < b; j++) {
      int inull = is_null(&iv, (int64_t)j);
      cw = (uint8_t)(((j == a ? 1u : 0u) << bits_def) | (inull ? d_item : 0));
      CL_CHECK(st, cl_buf_append(z, &cw, 1, err));
      entries++;
      visible++;
      if (!(iv.var && inull)) /* (a null variable-width value is only its control word) */
        CL_CHECK(st, cl_fullzip_put_value(z, &iv, (int64_t)j, &tmp, err));
    }
  }
  start[n] = z->len;
  if (entries > UINT32_MAX || visible > UINT32_MAX) {
    st = cl_err(err, CLANCE_EINTERNAL, "list page of %llu entries", (unsigned long long)entries);
    goto fail;
  }
  CL_CHECK(st, cl_fullzip_rep_index(start, (size_t)n + 1, &out->bufs[1], err));
  out->n_bufs = 2;
  cl_fz_shape sh = {1, bits_def, entries, visible, layers, 2};
  CL_CHECK(st, cl_encode21_fullzip_layout(&iv, &sh, iv.item_validity ? (iv.dim + 7) / 8 : 0, NULL, 0,
                                          out, err));
fail:
  cl_buf_free(&starts);
  cl_buf_free(&tmp);
  return st;
}
