/* Internals shared by the 2.1/2.2 page encoder (encode21.c) and its
 * dictionary pages (encode21_dict.c). */
#ifndef CL_ENCODING_ENCODE21_H
#define CL_ENCODING_ENCODE21_H

#include "arrow/array.h"
#include "encoding/encode.h"
#include "file/format.h"
#include "proto/pb.h"
#include "util/buf.h"

/* A read-only view of the accumulated page of one leaf column. */
typedef struct leaf_view {
  const cl_field *f;
  int64_t n;
  const uint8_t *validity; /* NULL when the page has no null */
  /* fixed width */
  uint32_t bits;           /* data bits per value (FSL: dim * item bits) */
  const uint8_t *values;
  /* fixed_size_list */
  uint32_t dim, item_bits;
  const uint8_t *item_validity; /* NULL unless some item is null */
  /* variable width */
  int var, large;
  const uint8_t *offsets;
  const uint8_t *data;
  /* Plain structs around the leaf: each one more item layer, outside the
   * leaf's own. */
  uint32_t outer;
  /* Null structs: per row, the struct layer (1 = innermost) of the
   * outermost null struct around the leaf, 0 = none; NULL when no row of
   * the page has one. A null struct makes the leaf null too. */
  const uint8_t *sdef;
  /* Definition levels (view_defs): def_at[0] of a null leaf, def_at[k] of
   * a null struct at layer k; 0 where that layer has no null on the page
   * (an all-valid layer). max_def is the largest, 0 = no levels stored. */
  uint8_t def_at[CL_MAX_STRUCT_DEPTH + 1];
  uint8_t max_def;
} leaf_view;

static inline uint64_t var_off(const leaf_view *v, int64_t i) {
  return v->large ? cl_le64(v->offsets + 8 * i) : cl_le32(v->offsets + 4 * i);
}

static inline int is_null(const leaf_view *v, int64_t i) {
  return (v->sdef && v->sdef[i]) || (v->validity && !cl_bit_get(v->validity, i));
}

/* Row i's definition level. */
static inline unsigned row_def(const leaf_view *v, int64_t i) {
  if (v->sdef && v->sdef[i])
    return v->def_at[v->sdef[i]];
  return v->validity && !cl_bit_get(v->validity, i) ? v->def_at[0] : 0;
}

/* Number the layers that hold nulls on the page, innermost first, as
 * Lance hands out definition levels. */
static inline void view_defs(leaf_view *v) {
  uint8_t used[CL_MAX_STRUCT_DEPTH + 1] = {0};
  used[0] = v->validity != NULL;
  if (v->sdef)
    for (int64_t i = 0; i < v->n; i++)
      used[v->sdef[i]] = 1;
  unsigned base = 0;
  v->def_at[0] = used[0] ? (uint8_t)++base : 0;
  for (uint32_t k = 1; k <= v->outer && k <= CL_MAX_STRUCT_DEPTH; k++)
    v->def_at[k] = used[k] ? (uint8_t)++base : 0;
  v->max_def = (uint8_t)base;
}

/* Bits to hold the level `max` (0 for 0), as Lance sizes control words and
 * packed levels. */
static inline unsigned level_bits(unsigned max) {
  unsigned b = 0;
  while (max >> b)
    b++;
  return b;
}

/* Bits of a definition level. */
static inline unsigned def_bits(const leaf_view *v) { return level_bits(v->max_def); }

/* A page's dictionary, built the way Lance 12 builds it: entries in
 * first-seen order, one u32 index per value (a null value has the index of
 * the empty / all-zero entry, as Lance stores nulls' values). */
typedef struct cl_dict21 {
  uint32_t *idx;      /* n indices */
  uint64_t n_items;   /* entries */
  int var, large;     /* var: n_items + 1 offsets (u32, or u64 when large) */
  uint32_t width;     /* fixed: bytes per entry (8 or 16) */
  cl_buf offs, data;  /* var: offsets and bytes; fixed: the entries */
} cl_dict21;

/* Lance 12's decision (should_dictionary_encode + dictionary_encode in
 * lance-encoding's primitive.rs and primitive/dict.rs) for the page v, and
 * the dictionary when it says yes (*used = 1): utf8/binary (any offset
 * width) and 128-bit values in 2.1 and 2.2, 64-bit values in 2.2 only; at
 * least 100 values; a sample of 4096 values less than 98 % distinct; at
 * most min(n / 2, 100000) entries (Lance also applies this limit to a
 * projection from the sample, which clance leaves out: see the .c file);
 * and the dictionary plus 4-byte indices at most 80 % of the plain data
 * size (value bytes plus offsets). */
clance_status cl_dict21_build(const leaf_view *v, cl_file_version ver, cl_dict21 *d, int *used,
                              clance_error *err);
void cl_dict21_free(cl_dict21 *d);

/* The dictionary's block buffer and its encoding, Lance's way for 2.1 (plain
 * Variable / Flat) or the smallest of what Lance 12 writes in 2.2 (plain,
 * LZ4-compressed, or for 64-bit values bit-packed). */
typedef enum cl_dict21_form {
  CL_DICT_PLAIN,
  CL_DICT_LZ4,
  CL_DICT_INLINE_BITPACK, /* 64-bit entries, at most 1024 of them */
  CL_DICT_OOL_BITPACK     /* 64-bit entries, more than 1024 */
} cl_dict21_form;

clance_status cl_dict21_block(const cl_dict21 *d, cl_file_version ver, cl_buf *out,
                              cl_dict21_form *form, unsigned *packed_bits, clance_error *err);

/* A view of a builder's rows (a page of leaf f). */
void cl_leaf_view_of(const cl_field *f, const cl_arr *a, leaf_view *v);

/* ---- full-zip pieces shared by flat and list pages ---- */

/* What a full-zip layout says besides its values' encoding: control-word
 * widths, level entries and visible values, and the layers (innermost
 * first). */
typedef struct cl_fz_shape {
  unsigned bits_rep, bits_def;
  uint64_t entries, visible;
  const Lance__Encodings21__RepDefLayer *layers;
  size_t n_layers;
} cl_fz_shape;
/* Pack the FullZipLayout of a page of v's values (FSST-compressed when
 * ftable is not NULL, zstd per value when use_zstd) into out->encoding. */
clance_status cl_encode21_fullzip_layout(const leaf_view *v, const cl_fz_shape *sh, size_t item_vbytes,
                                        const uint8_t *ftable, int use_zstd, cl_page_enc *out,
                                        clance_error *err);
/* Append value i of v as a full-zip entry holds it (after its control
 * word): variable width as a u32/u64 length and the bytes, fixed width as
 * the vector's item validity (if any) and the value; tmp is scratch. */
clance_status cl_fullzip_put_value(cl_buf *z, const leaf_view *v, int64_t i, cl_buf *tmp,
                                   clance_error *err);
/* The repetition index: the n row starts (the last one the total size),
 * each in the narrowest width that holds the total. */
clance_status cl_fullzip_rep_index(const uint64_t *starts, size_t n, cl_buf *ri, clance_error *err);

#endif
