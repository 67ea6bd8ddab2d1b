/* Dictionary pages for the 2.1/2.2 writer, decided and built as Lance 12
 * does (lance-encoding 12.0.0: PrimitiveStructuralEncoder::
 * should_dictionary_encode / sample_unique_ratio in
 * encodings/logical/primitive.rs, dictionary_encode in primitive/dict.rs;
 * the dictionary's block compression in lance-file's versions/v2_1 and v2_2
 * compression.rs). Checked against pages Lance 12 writes: the thresholds
 * below reproduce its choice at every boundary tried (100 values, n/2
 * entries, 80 % size, the 100000 cap, a near-unique sample); the one
 * deliberate difference is the sample's projection (cl_dict21_build). */
#include <stdlib.h>
#include <string.h>

#include "encoding/compress.h"
#include "encoding/encode21.h"
#include "encoding/fastlanes.h"

#define DICT_MIN_VALUES 100          /* LANCE_ENCODING_DICT_TOO_SMALL */
#define DICT_DIVISOR 2               /* lance-encoding:dict-divisor */
#define DICT_MAX_CARDINALITY 100000  /* LANCE_ENCODING_DICT_MAX_CARDINALITY */
#define DICT_SIZE_RATIO 0.8          /* lance-encoding:dict-size-ratio */
#define DICT_INDEX_BYTES 4           /* indices are always 32-bit */
#define SAMPLE_SIZE 4096
#define SAMPLE_BLOCKS 32
#define SAMPLE_MIN 1024
#define SAMPLE_UNIQUE_RATIO 0.98
#define DICT_LZ4HC_MAX (256u << 10) /* dictionaries up to this also try LZ4 HC */

void cl_dict21_free(cl_dict21 *d) {
  free(d->idx);
  cl_buf_free(&d->offs);
  cl_buf_free(&d->data);
  memset(d, 0, sizeof *d);
}

/* ---- keys ---- */

/* The bytes of value i as Lance sees them: a null's value is empty (its
 * string) or zero (its fixed-width value), which is what Arrow writers put
 * under nulls and what clance's accumulators hold. */
static const uint8_t zero16[16];

static const uint8_t *key_at(const leaf_view *v, int64_t i, size_t *len) {
  if (v->var) {
    if (is_null(v, i)) {
      *len = 0;
      return zero16;
    }
    uint64_t a = var_off(v, i);
    *len = (size_t)(var_off(v, i + 1) - a);
    return v->data + a;
  }
  *len = v->bits / 8;
  return is_null(v, i) ? zero16 : v->values + (size_t)i * *len;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xC2B2AE3D27D4EB4Full);
  while (n >= 8) {
    h = (h ^ cl_le64(p)) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  uint64_t t = 0;
  for (size_t k = 0; k < n; k++)
    t |= (uint64_t)p[k] << (8 * k);
  h = (h ^ t) * 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 32;
  return h;
}

/* ---- an open-addressing set of byte strings; entries live in the caller's
 * buffers (offs/data for var, data for fixed) ---- */

typedef struct kset {
  uint32_t *slot;   /* entry + 1, 0 = empty */
  uint64_t *hash;   /* per entry */
  size_t cap, n, hcap;
  int var, large;
  size_t width;
  cl_buf *offs, *data;
} kset;

static const uint8_t *entry(const kset *s, uint32_t e, size_t *len) {
  if (!s->var) {
    *len = s->width;
    return s->data->data + (size_t)e * s->width;
  }
  uint64_t a = s->large ? cl_le64(s->offs->data + 8 * (size_t)e) : cl_le32(s->offs->data + 4 * (size_t)e);
  uint64_t b = s->large ? cl_le64(s->offs->data + 8 * ((size_t)e + 1))
                        : cl_le32(s->offs->data + 4 * ((size_t)e + 1));
  *len = (size_t)(b - a);
  return s->data->data + a;
}

static clance_status kset_init(kset *s, const leaf_view *v, cl_buf *offs, cl_buf *data,
                               clance_error *err) {
  memset(s, 0, sizeof *s);
  s->var = v->var;
  s->large = v->large;
  s->width = v->bits / 8;
  s->offs = offs;
  s->data = data;
  s->cap = 1024;
  s->slot = cl_calloc(s->cap, sizeof *s->slot, err);
  if (!s->slot)
    return err->code;
  offs->len = data->len = 0;
  if (s->var)
    CL_TRY(s->large ? cl_buf_append_u64(offs, 0, err) : cl_buf_append_u32(offs, 0, err));
  return CLANCE_OK;
}

static void kset_free(kset *s) {
  free(s->slot);
  free(s->hash);
}

static void kset_place(kset *s, uint32_t e, uint64_t h) {
  size_t m = s->cap - 1, j = (size_t)h & m;
  while (s->slot[j])
    j = (j + 1) & m;
  s->slot[j] = e + 1;
}

/* The entry of key (p, len), added when new; *added says which. */
static clance_status kset_find_add(kset *s, const uint8_t *p, size_t len, uint32_t *e_out,
                                   int *added, clance_error *err) {
  uint64_t h = hash_bytes(p, len);
  size_t m = s->cap - 1, j = (size_t)h & m;
  for (uint32_t e1; (e1 = s->slot[j]) != 0; j = (j + 1) & m) {
    size_t el;
    const uint8_t *ep;
    if (s->hash[e1 - 1] == h && (ep = entry(s, e1 - 1, &el), el == len) &&
        (len == 0 || memcmp(ep, p, len) == 0)) {
      *e_out = e1 - 1;
      *added = 0;
      return CLANCE_OK;
    }
  }
  /* New entry: store it, then grow the table past half full. */
  if (s->n == s->hcap) {
    size_t nc = s->hcap ? 2 * s->hcap : 256;
    uint64_t *nh = realloc(s->hash, nc * sizeof *nh);
    if (!nh)
      return cl_err(err, CLANCE_ENOMEM, "out of memory building a dictionary");
    s->hash = nh;
    s->hcap = nc;
  }
  uint32_t e = (uint32_t)s->n;
  s->hash[e] = h;
  CL_TRY(cl_buf_append(s->data, p, len, err));
  if (s->var)
    CL_TRY(s->large ? cl_buf_append_u64(s->offs, s->data->len, err)
                    : cl_buf_append_u32(s->offs, (uint32_t)s->data->len, err));
  s->slot[j] = e + 1;
  s->n++;
  if (2 * s->n > s->cap) {
    uint32_t *ns = cl_calloc(2 * s->cap, sizeof *ns, err);
    if (!ns)
      return err->code;
    free(s->slot);
    s->slot = ns;
    s->cap *= 2;
    for (size_t k = 0; k < s->n; k++)
      kset_place(s, (uint32_t)k, s->hash[k]);
  }
  *e_out = e;
  *added = 1;
  return CLANCE_OK;
}

/* ---- the decision ---- */

/* Share of distinct values among Lance's sample (32 blocks spread over the
 * page, the first n/32 .. 128 values of each); -1 when there are fewer than
 * 1024 samples, where Lance skips the test. */
static clance_status sample_unique_ratio(const leaf_view *v, double *ratio, clance_error *err) {
  uint64_t n = (uint64_t)v->n;
  uint64_t count = n < SAMPLE_SIZE ? n : SAMPLE_SIZE;
  *ratio = -1;
  if (count < SAMPLE_MIN)
    return CLANCE_OK;
  uint64_t blocks = SAMPLE_BLOCKS, per = count / blocks ? count / blocks : 1;
  cl_buf offs = CL_BUF_INIT, data = CL_BUF_INIT;
  kset s;
  clance_status st = kset_init(&s, v, &offs, &data, err);
  uint64_t taken = 0;
  for (uint64_t b = 0; b < blocks && !st; b++) {
    uint64_t start = b * n / blocks, next = (b + 1) * n / blocks;
    uint64_t take = next - start < per ? next - start : per;
    for (uint64_t k = 0; k < take && !st; k++) {
      size_t len;
      const uint8_t *p = key_at(v, (int64_t)(start + k), &len);
      uint32_t e;
      int added;
      st = kset_find_add(&s, p, len, &e, &added, err);
      taken++;
    }
  }
  if (!st && taken >= SAMPLE_MIN)
    *ratio = (double)s.n / (double)taken;
  kset_free(&s);
  cl_buf_free(&offs);
  cl_buf_free(&data);
  return st;
}

clance_status cl_dict21_build(const leaf_view *v, cl_file_version ver, cl_dict21 *d, int *used,
                              clance_error *err) {
  *used = 0;
  memset(d, 0, sizeof *d);
  const cl_field *f = v->f;
  if (v->var) {
    if (!cl_type_is_binary_like(f->type))
      return CLANCE_OK;
  } else if (f->type == CL_TYPE_FIXED_SIZE_LIST || f->type == CL_TYPE_BOOL ||
             !(v->bits == 128 || (v->bits == 64 && ver >= CL_FILE_V2_2))) {
    return CLANCE_OK;
  }
  uint64_t n = (uint64_t)v->n;
  if (n < DICT_MIN_VALUES)
    return CLANCE_OK;
  uint64_t limit = n / DICT_DIVISOR < DICT_MAX_CARDINALITY ? n / DICT_DIVISOR : DICT_MAX_CARDINALITY;
  unsigned ob = v->large ? 8 : 4;
  uint64_t data_size = v->var ? var_off(v, v->n) - var_off(v, 0) + (n + 1) * ob : n * (v->bits / 8);
  if (limit == 0 || data_size == 0)
    return CLANCE_OK;
  uint64_t max_size = (uint64_t)((double)data_size * DICT_SIZE_RATIO);
  /* Lance's sample: a page whose sampled values are 98 % distinct is not
   * tried. Lance also refuses a page when the sample's share of distinct
   * values times n (its projection of the page's cardinality) exceeds the
   * limit; that projection grows with the page's rows, and clance's pages
   * (8 MiB) hold about twice the rows of Lance's for short strings, so it
   * would refuse here what Lance takes in its smaller pages (1000 distinct
   * values in 1M rows: Lance 262144-row pages, projected 63000 <= 100000;
   * clance 560000-row pages, projected 134000). The exact count, checked
   * while the dictionary is built, holds the same limit instead. */
  double ratio;
  CL_TRY(sample_unique_ratio(v, &ratio, err));
  if (ratio >= SAMPLE_UNIQUE_RATIO)
    return CLANCE_OK;

  /* Build, giving up as soon as the entries or the size exceed the budget
   * (every term only grows, so stopping early decides as the end would). */
  uint64_t fixed = n * DICT_INDEX_BYTES + (v->var ? ob : 0);
  if (fixed > max_size)
    return CLANCE_OK;
  d->idx = cl_malloc((size_t)n * sizeof *d->idx, err);
  if (!d->idx)
    return err->code;
  d->var = v->var;
  d->large = v->large;
  d->width = v->var ? 0 : v->bits / 8;
  kset s;
  clance_status st = kset_init(&s, v, &d->offs, &d->data, err);
  int fits = !st;
  for (int64_t i = 0; i < v->n && fits && !st; i++) {
    size_t len;
    const uint8_t *p = key_at(v, i, &len);
    int added;
    st = kset_find_add(&s, p, len, &d->idx[i], &added, err);
    if (added && (s.n > limit || fixed + d->data.len + s.n * (v->var ? ob : 0) > max_size))
      fits = 0;
  }
  d->n_items = s.n;
  kset_free(&s);
  if (st || !fits) {
    cl_dict21_free(d);
    return st;
  }
  *used = 1;
  return CLANCE_OK;
}

/* ---- the dictionary buffer ---- */

/* Lance's block form of variable-width values: u32 32 | u32 data_start |
 * (k+1) u32 offsets from 0 | bytes (u64 fields for 64-bit offsets). */
static clance_status var_block(const cl_dict21 *d, cl_buf *out, clance_error *err) {
  unsigned ob = d->large ? 8 : 4;
  uint64_t hdr = 2 * (uint64_t)ob, start = hdr + (d->n_items + 1) * ob;
  if (d->large) {
    CL_TRY(cl_buf_append_u64(out, 64, err));
    CL_TRY(cl_buf_append_u64(out, start, err));
  } else {
    CL_TRY(cl_buf_append_u32(out, 32, err));
    CL_TRY(cl_buf_append_u32(out, (uint32_t)start, err));
  }
  CL_TRY(cl_buf_append(out, d->offs.data, d->offs.len, err));
  return cl_buf_append(out, d->data.data, d->data.len, err);
}

clance_status cl_dict21_block(const cl_dict21 *d, cl_file_version ver, cl_buf *out,
                              cl_dict21_form *form, unsigned *packed_bits, clance_error *err) {
  out->len = 0;
  *form = CL_DICT_PLAIN;
  *packed_bits = 0;
  if (d->var)
    CL_TRY(var_block(d, out, err));
  else
    CL_TRY(cl_buf_append(out, d->data.data, d->data.len, err));
  if (ver < CL_FILE_V2_2)
    return CLANCE_OK; /* Lance 2.1 stores dictionaries plain */
  /* 2.2: Lance 12 LZ4-compresses them (lance-encoding:dict-values-compression
   * defaults to lz4), or bit-packs 64-bit values; take the smallest. */
  cl_buf alt = CL_BUF_INIT;
  clance_status st = cl_lz4_compress(out->data, out->len, &alt, err);
  if (!st && out->len <= DICT_LZ4HC_MAX) {
    /* Small dictionaries (most): LZ4's slower encoder too, whichever is
     * smaller, so that they are never larger than Lance's (lz4_flex). */
    cl_buf hc = CL_BUF_INIT;
    st = cl_lz4hc_compress(out->data, out->len, &hc, err);
    if (!st && hc.len < alt.len) {
      cl_buf t = alt;
      alt = hc;
      hc = t;
    }
    cl_buf_free(&hc);
  }
  if (!st && alt.len < out->len) {
    cl_buf t = *out;
    *out = alt;
    alt = t;
    *form = CL_DICT_LZ4;
  }
  if (!st && !d->var && d->width == 8) {
    uint64_t acc = 0;
    for (uint64_t k = 0; k < d->n_items; k++)
      acc |= cl_le64(d->data.data + 8 * k);
    unsigned b = cl_bits_needed_u64(acc);
    alt.len = 0;
    if (d->n_items <= CL_FL_GROUP) {
      st = cl_buf_reserve(&alt, CL_INLINE_BITPACK_MAX_BYTES(64), err);
      if (!st)
        alt.len = cl_inline_bitpack_encode(64, d->data.data, (size_t)d->n_items, alt.data);
    } else {
      st = cl_outofline_bitpack_encode(64, b, d->data.data, (size_t)d->n_items, &alt, err);
    }
    if (!st && alt.len < out->len) {
      cl_buf t = *out;
      *out = alt;
      alt = t;
      *form = d->n_items <= CL_FL_GROUP ? CL_DICT_INLINE_BITPACK : CL_DICT_OOL_BITPACK;
      *packed_bits = b;
    }
  }
  cl_buf_free(&alt);
  return st;
}
