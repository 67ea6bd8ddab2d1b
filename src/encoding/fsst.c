/* FSST string compression in Lance's symbol-table format (see fsst.h).
 *
 * Decoding is a table walk: each code byte stores its symbol as one unaligned
 * 8-byte word and advances by the symbol length, so the output needs 8 bytes
 * of slack per input byte at most (a code consumes 1 input byte and produces
 * at most 8). Eight codes are taken at a time when the 8-byte window holds no
 * escape byte.
 *
 * Encoding follows the FSST paper (Boncz, Neumann, Leis, VLDB 2020): symbols of
 * 3..8 bytes live in a hash table keyed by their first three bytes (one symbol
 * per slot), 2-byte symbols in a 64K table indexed by the next two bytes that
 * also holds the 1-byte fallback, and compression is greedy longest match.
 * The table is learnt in five generations over a ~16 KiB sample: compress the
 * sample with the current table counting symbols and symbol pairs, then keep
 * the 255 candidates (symbols and concatenated pairs) with the highest gain.
 */
#include "encoding/fsst.h"

#include <stdlib.h>
#include <string.h>

#define HT_BITS 10
#define HT_SIZE (1u << HT_BITS)
#define NCODES 512u              /* build-time code space: symbols 0..254, 256+b = escaped b */
#define ESC_BIT 256u
#define INFO_LEN_SHIFT 12
#define SAMPLE_TARGET (16u * 1024u)
#define SAMPLE_LINE 512u

#if defined(__GNUC__)
#define CL_FSST_INLINE static inline __attribute__((always_inline))
#define CL_LIKELY(x) __builtin_expect(!!(x), 1)
#define CL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define CL_FSST_INLINE static inline
#define CL_LIKELY(x) (x)
#define CL_UNLIKELY(x) (x)
#endif

/* ------------------------------------------------------------------------- */
/* Small helpers                                                              */
/* ------------------------------------------------------------------------- */

/* Little-endian 8-byte load (byte 0 in the low bits). */
static inline uint64_t ld64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

/* Little-endian load of r < 8 bytes, zero filled above. */
static inline uint64_t ld_tail(const uint8_t *p, size_t r) {
  uint64_t v = 0;
  for (size_t i = 0; i < r; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}

static inline uint64_t len_mask(unsigned len) {
  return len >= 8 ? UINT64_MAX : (((uint64_t)1 << (8 * len)) - 1);
}

static inline unsigned ctz64(uint64_t v) {
#if defined(__GNUC__)
  return (unsigned)__builtin_ctzll(v);
#else
  unsigned n = 0;
  while (!(v & 1)) {
    v >>= 1;
    n++;
  }
  return n;
#endif
}

static inline uint64_t off_at(const void *offs, unsigned width, size_t i) {
  return width == 4 ? (uint64_t)((const uint32_t *)offs)[i] : ((const uint64_t *)offs)[i];
}

static inline void off_put(void *offs, unsigned width, size_t i, uint64_t v) {
  if (width == 4)
    ((uint32_t *)offs)[i] = (uint32_t)v;
  else
    ((uint64_t *)offs)[i] = v;
}

/* ------------------------------------------------------------------------- */
/* Table and encoder index                                                    */
/* ------------------------------------------------------------------------- */

/* A hash slot for a symbol of 3..8 bytes. info = (len << 12) | code, 0 = free. */
typedef struct fsst_slot {
  uint64_t val;
  uint32_t info;
  uint32_t shift; /* 64 - 8 * len: keeps the low len bytes of a word */
} fsst_slot;

/* Lookup structures for greedy longest-match compression. Codes are 9 bits:
 * 0..254 name a symbol, ESC_BIT | b an escaped byte b. Every entry is
 * (len << 12) | code. */
typedef struct fsst_enc {
  uint16_t two[65536]; /* by the next 2 bytes: a 2-byte symbol, else the 1-byte code */
  uint16_t one[256];   /* by the next byte: a 1-byte symbol or the escape */
  fsst_slot hash[HT_SIZE];
  int flat;            /* two[] has its 1-byte fallbacks filled in */
} fsst_enc;

/* The column encoder's form of an fsst_enc (see enc_column): the same
 * symbols, entries (len << 12) | (escape << 8) | output byte, where the
 * output byte is the code or, for an escape, 255 (the literal is the input
 * byte). A free hash slot holds a value that never matches (one whose own
 * hash is another slot). */
#define FAST_LONG_BIT 0x200u /* in two[]: a 3+ byte symbol starts with these 2 bytes */

typedef struct fsst_fast {
  uint16_t two[65536];
  uint64_t val[HT_SIZE];
  uint64_t mask[HT_SIZE]; /* the low len bytes */
  uint16_t info[HT_SIZE];
  int sep; /* a byte in no symbol of 2+ bytes, or -1 */
} fsst_fast;

struct cl_fsst_table {
  uint8_t sym[256][8]; /* zero padded; unused codes all zero */
  uint8_t len[256];    /* 1..8 for codes < n_symbols, else 0 (decodes to nothing) */
  unsigned n_symbols;
  unsigned terminator;
  unsigned suffix_lim;
  int compressed;
  fsst_enc *enc;   /* NULL until the table can encode */
  fsst_fast *fast; /* the column encoder's tables, with enc */
};

static inline unsigned hash_slot(uint64_t w) {
  return (unsigned)(((w & 0xFFFFFFu) * 0x9E3779B97F4A7C15ull) >> (64 - HT_BITS));
}

static void enc_reset(fsst_enc *e) {
  for (unsigned b = 0; b < 256; b++)
    e->one[b] = (uint16_t)((1u << INFO_LEN_SHIFT) | ESC_BIT | b);
  memset(e->two, 0, sizeof e->two);
  memset(e->hash, 0, sizeof e->hash);
  e->flat = 0;
}

/* Index symbol `code`; 0 when it cannot be (same bytes already present, or its
 * hash slot is taken). Only before enc_flatten. */
static int enc_add(fsst_enc *e, uint64_t val, unsigned len, unsigned code) {
  uint16_t info = (uint16_t)((len << INFO_LEN_SHIFT) | code);
  if (len == 1) {
    unsigned b = (unsigned)(val & 0xFF);
    if (!(e->one[b] & ESC_BIT))
      return 0;
    e->one[b] = info;
  } else if (len == 2) {
    unsigned k = (unsigned)(val & 0xFFFF);
    if (e->two[k])
      return 0;
    e->two[k] = info;
  } else {
    fsst_slot *s = &e->hash[hash_slot(val)];
    if (s->info)
      return 0;
    s->val = val & len_mask(len);
    s->info = info;
    s->shift = 64 - 8 * len;
  }
  return 1;
}

static void enc_flatten(fsst_enc *e) {
  for (unsigned k = 0; k < 65536; k++)
    if (!e->two[k])
      e->two[k] = e->one[k & 0xFF];
  e->flat = 1;
}

/* Longest symbol at a position with at least 8 bytes left (w = those bytes). */
CL_FSST_INLINE unsigned enc_match8(const fsst_enc *e, uint64_t w) {
  const fsst_slot *s = &e->hash[hash_slot(w)];
  unsigned info = e->two[w & 0xFFFF];
  if (s->info && s->val == (w & (UINT64_MAX >> s->shift)))
    info = s->info;
  return info;
}

/* Same with r (1..7) bytes left in w (what is above them does not matter). */
CL_FSST_INLINE unsigned enc_match_tail(const fsst_enc *e, uint64_t w, size_t r) {
  if (r >= 3) {
    const fsst_slot *s = &e->hash[hash_slot(w)];
    if (s->info && (s->info >> INFO_LEN_SHIFT) <= r && s->val == (w & (UINT64_MAX >> s->shift)))
      return s->info;
  }
  return r >= 2 ? e->two[w & 0xFFFF] : e->one[w & 0xFF];
}

CL_FSST_INLINE unsigned enc_match(const fsst_enc *e, const uint8_t *p, const uint8_t *end) {
  size_t r = (size_t)(end - p);
  return r >= 8 ? enc_match8(e, ld64(p)) : enc_match_tail(e, ld_tail(p, r), r);
}

/* Compress [p, end) to o (room for 2 * (end - p) + 1 bytes); returns the new
 * end. Bytes up to `limit` (>= end) may be read, never matched. */
static uint8_t *enc_run(const fsst_enc *e, const uint8_t *p, const uint8_t *end,
                        const uint8_t *limit, uint8_t *o) {
  while ((size_t)(end - p) >= 8) {
    uint64_t w = ld64(p);
    unsigned info = enc_match8(e, w);
    unsigned code = info & 0x1FF;
    o[0] = (uint8_t)(code & ESC_BIT ? CL_FSST_ESC : code);
    o[1] = (uint8_t)w; /* the literal, kept only after an escape */
    o += 1 + (code >> 8);
    p += info >> INFO_LEN_SHIFT;
  }
  while (p < end) {
    size_t r = (size_t)(end - p);
    uint64_t w = (size_t)(limit - p) >= 8 ? ld64(p) : ld_tail(p, r);
    unsigned info = enc_match_tail(e, w, r);
    unsigned code = info & 0x1FF;
    o[0] = (uint8_t)(code & ESC_BIT ? CL_FSST_ESC : code);
    o[1] = (uint8_t)w;
    o += 1 + (code >> 8);
    p += info >> INFO_LEN_SHIFT;
  }
  return o;
}

static cl_fsst_table *table_alloc(clance_error *err) {
  return cl_calloc(1, sizeof(cl_fsst_table), err);
}

void cl_fsst_table_free(cl_fsst_table *t) {
  if (!t)
    return;
  free(t->enc);
  free(t->fast);
  free(t);
}

clance_status cl_fsst_table_parse(const uint8_t *buf, size_t len, cl_fsst_table **out,
                                  clance_error *err) {
  *out = NULL;
  if (!buf || len != CL_FSST_TABLE_SIZE)
    return cl_err(err, CLANCE_ECORRUPT, "fsst symbol table is %zu bytes, expected %u", len,
                  CL_FSST_TABLE_SIZE);
  uint64_t h = cl_le64(buf);
  if ((uint32_t)(h >> 32) != CL_FSST_MAGIC)
    return cl_err(err, CLANCE_ECORRUPT, "fsst symbol table has bad magic 0x%08x",
                  (unsigned)(h >> 32));
  if (h & 0xFE000000u)
    return cl_err(err, CLANCE_EUNSUPPORTED, "fsst symbol table has unknown flag bits 0x%02x",
                  (unsigned)((h >> 24) & 0xFE));
  unsigned n = (unsigned)(h & 0xFF);
  const uint8_t *lens = buf + 8 + 8 * (size_t)n;
  for (unsigned i = 0; i < n; i++)
    if (lens[i] < 1 || lens[i] > CL_FSST_MAX_SYMBOL_LEN)
      return cl_err(err, CLANCE_ECORRUPT, "fsst symbol %u has length %u (must be 1..8)", i,
                    lens[i]);
  cl_fsst_table *t = table_alloc(err);
  if (!t)
    return err->code;
  for (unsigned i = 0; i < n; i++) {
    t->len[i] = lens[i];
    memcpy(t->sym[i], buf + 8 + 8 * (size_t)i, lens[i]);
  }
  t->n_symbols = n;
  t->terminator = (unsigned)((h >> 8) & 0xFF);
  t->suffix_lim = (unsigned)((h >> 16) & 0xFF);
  t->compressed = (int)((h >> 24) & 1);
  *out = t;
  return CLANCE_OK;
}

clance_status cl_fsst_table_new_passthrough(cl_fsst_table **out, clance_error *err) {
  *out = table_alloc(err);
  return *out ? CLANCE_OK : err->code;
}

void cl_fsst_table_serialize(const cl_fsst_table *t, uint8_t out[CL_FSST_TABLE_SIZE]) {
  memset(out, 0, CL_FSST_TABLE_SIZE);
  unsigned n = t->n_symbols;
  uint64_t h = ((uint64_t)CL_FSST_MAGIC << 32) | ((uint64_t)(t->compressed ? 1 : 0) << 24) |
               ((uint64_t)(t->suffix_lim & 0xFF) << 16) | ((uint64_t)(t->terminator & 0xFF) << 8) |
               (uint64_t)(n & 0xFF);
  cl_put64(out, h);
  for (unsigned i = 0; i < n; i++) {
    memcpy(out + 8 + 8 * (size_t)i, t->sym[i], 8);
    out[8 + 8 * (size_t)n + i] = t->len[i];
  }
}

int cl_fsst_table_compressed(const cl_fsst_table *t) { return t->compressed; }
unsigned cl_fsst_table_num_symbols(const cl_fsst_table *t) { return t->n_symbols; }
unsigned cl_fsst_table_terminator(const cl_fsst_table *t) { return t->terminator; }
unsigned cl_fsst_table_suffix_lim(const cl_fsst_table *t) { return t->suffix_lim; }

size_t cl_fsst_table_symbol(const cl_fsst_table *t, unsigned code, uint8_t sym[8]) {
  memset(sym, 0, 8);
  if (code >= t->n_symbols)
    return 0;
  memcpy(sym, t->sym[code], 8);
  return t->len[code];
}

/* ------------------------------------------------------------------------- */
/* Decoding                                                                   */
/* ------------------------------------------------------------------------- */

/* Output slack beyond 8 bytes per input byte: a string's last window stores
 * 8 bytes at its end (see dec_strings). */
#define DEC_SLACK 8u
/* Compressed bytes decoded per output reservation in a column. */
#define DEC_CHUNK (64u * 1024u)

/* Decode strings i0..i1-1 of a column in one pass: string i is
 * in[offs[i] .. offs[i+1]), offsets already checked to be in order and within
 * [in, limit). *po has room for 8 * (offs[i1] - offs[i0]) + DEC_SLACK bytes;
 * it is advanced, and out_offs[i+1] receives the end of string i as a
 * position from obase. Returns SIZE_MAX, or the index of a string that ends
 * in an escape without its literal.
 *
 * Codes go 8 at a time through a 64-bit window w, taken from w rather than
 * reloaded from memory (reloads after the stores through o, which may alias,
 * cost ~40%). A string's last 1..7 codes are one more window (below) rather
 * than a loop with an unpredictable trip count. */
CL_FSST_INLINE size_t dec_strings(const cl_fsst_table *t, const uint8_t *in, const uint8_t *limit,
                                  const void *offs, unsigned iw, size_t i0, size_t i1,
                                  uint8_t *obase, uint8_t **po, void *out_offs, unsigned ow) {
  const uint8_t(*sym)[8] = (const uint8_t(*)[8])t->sym;
  const uint8_t *len = t->len;
  uint8_t *o = *po;
  const uint8_t *p = in + off_at(offs, iw, i0);
#define CL_FSST_PUT(c)        \
  do {                        \
    unsigned c_ = (c);        \
    memcpy(o, sym[c_], 8);    \
    o += len[c_];             \
  } while (0)
#define CL_FSST_PUT8(w)                 \
  do {                                  \
    CL_FSST_PUT((w) & 0xFF);            \
    CL_FSST_PUT(((w) >> 8) & 0xFF);     \
    CL_FSST_PUT(((w) >> 16) & 0xFF);    \
    CL_FSST_PUT(((w) >> 24) & 0xFF);    \
    CL_FSST_PUT(((w) >> 32) & 0xFF);    \
    CL_FSST_PUT(((w) >> 40) & 0xFF);    \
    CL_FSST_PUT(((w) >> 48) & 0xFF);    \
    CL_FSST_PUT((w) >> 56);             \
  } while (0)
/* High bit of each byte of w that is 0xFF (exact up to the first such byte). */
#define CL_FSST_ESCAPES(w) ((~(w) - 0x0101010101010101ull) & (w) & 0x8080808080808080ull)
  for (size_t i = i0; i < i1; i++) {
    const uint8_t *end = in + off_at(offs, iw, i + 1);
    while ((size_t)(end - p) >= 8) {
      uint64_t w = ld64(p);
      uint64_t m = CL_FSST_ESCAPES(w);
      if (CL_LIKELY(m == 0)) {
        CL_FSST_PUT8(w);
        p += 8;
      } else {
        unsigned k = ctz64(m) >> 3; /* position of the first escape */
        for (unsigned j = 0; j < k; j++, w >>= 8)
          CL_FSST_PUT(w & 0xFF);
        if (CL_UNLIKELY((size_t)k + 1 >= (size_t)(end - p)))
          goto cut;
        *o++ = p[k + 1];
        p += k + 2;
      }
    }
    if (p < end) {
      /* 1..7 codes left. Without an escape among them they go as one
       * window whose bytes past `end` are set to 0xFF: as a code that has
       * length 0 (255 is never a symbol), so its 8 stores only write slack. */
      size_t r = (size_t)(end - p), avail = (size_t)(limit - p);
      uint64_t w = CL_LIKELY(avail >= 8) ? ld64(p) : ld_tail(p, avail);
      uint64_t keep = ((uint64_t)1 << (8 * r)) - 1;
      if (CL_LIKELY((CL_FSST_ESCAPES(w) & keep) == 0)) {
        w |= ~keep;
        CL_FSST_PUT8(w);
        p = end;
      } else {
        while (p < end) {
          unsigned c = *p++;
          if (c == CL_FSST_ESC) {
            if (p == end)
              goto cut;
            *o++ = *p++;
          } else {
            CL_FSST_PUT(c);
          }
        }
      }
    }
    off_put(out_offs, ow, i + 1, (uint64_t)(o - obase));
    continue;
  cut:
    *po = o;
    return i;
  }
#undef CL_FSST_PUT
#undef CL_FSST_PUT8
#undef CL_FSST_ESCAPES
  *po = o;
  return SIZE_MAX;
}

/* Make room for decoding n input bytes (8 output bytes each at most). */
CL_FSST_INLINE clance_status dec_room(cl_buf *out, size_t n, clance_error *err) {
  if (CL_LIKELY(n <= (SIZE_MAX - DEC_SLACK) / 8 && out->cap - out->len >= n * 8 + DEC_SLACK))
    return CLANCE_OK;
  if (n > (SIZE_MAX - DEC_SLACK) / 8)
    return cl_err(err, CLANCE_ENOMEM, "fsst: string too large to decode");
  return cl_buf_reserve(out, n * 8 + DEC_SLACK, err);
}

clance_status cl_fsst_decode(const cl_fsst_table *t, const uint8_t *in, size_t n, cl_buf *out,
                             clance_error *err) {
  if (n == 0)
    return CLANCE_OK;
  if (!t->compressed)
    return cl_buf_append(out, in, n, err);
  CL_TRY(dec_room(out, n, err));
  const uint64_t offs[2] = {0, n};
  uint64_t ends[2];
  uint8_t *o = out->data + out->len;
  if (dec_strings(t, in, in + n, offs, 8, 0, 1, out->data, &o, ends, 8) != SIZE_MAX)
    return cl_err(err, CLANCE_ECORRUPT, "fsst: escape at the end of a string has no literal");
  out->len = (size_t)(o - out->data);
  return CLANCE_OK;
}

CL_FSST_INLINE clance_status dec_column(const cl_fsst_table *t, const uint8_t *in, size_t in_len,
                                        const void *offs, unsigned iw, size_t count, cl_buf *out,
                                        void *out_offs, unsigned ow, clance_error *err) {
  const uint64_t limit = ow == 4 ? UINT32_MAX : UINT64_MAX;
  uint64_t prev = off_at(offs, iw, 0);
  if (prev > in_len)
    return cl_err(err, CLANCE_ECORRUPT, "fsst: offset 0 (%llu) beyond %zu compressed bytes",
                  (unsigned long long)prev, in_len);
  for (size_t i = 1; i <= count; i++) {
    uint64_t e = off_at(offs, iw, i);
    if (CL_UNLIKELY(e < prev || e > in_len))
      return cl_err(err, CLANCE_ECORRUPT, "fsst: offset %zu (%llu) out of order or beyond %zu", i,
                    (unsigned long long)e, in_len);
    prev = e;
  }
  if ((uint64_t)out->len > limit)
    return cl_err(err, CLANCE_EINVAL, "fsst: output buffer already exceeds the offset width");
  uint64_t first = off_at(offs, iw, 0), base = out->len;
  off_put(out_offs, ow, 0, base);

  if (!t->compressed) {
    if (base + (prev - first) > limit)
      return cl_err(err, CLANCE_ECORRUPT, "fsst: decoded strings overflow 32-bit offsets");
    for (size_t i = 1; i <= count; i++)
      off_put(out_offs, ow, i, base + (off_at(offs, iw, i) - first));
    return cl_buf_append(out, in + first, (size_t)(prev - first), err);
  }

  /* Strings go in groups of about DEC_CHUNK compressed bytes, each group with
   * its worst-case output (8x) reserved; a typical page fits a few groups. */
  size_t i = 0;
  while (i < count) {
    uint64_t s = off_at(offs, iw, i);
    size_t lo = i + 1, hi = count; /* last j in [i+1, count] with offs[j] - s <= DEC_CHUNK */
    if (off_at(offs, iw, hi) - s > DEC_CHUNK) {
      while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (off_at(offs, iw, mid) - s <= DEC_CHUNK)
          lo = mid;
        else
          hi = mid - 1;
      }
    } else {
      lo = count;
    }
    size_t j = lo;
    CL_TRY(dec_room(out, (size_t)(off_at(offs, iw, j) - s), err));
    uint8_t *o = out->data + out->len;
    size_t bad = dec_strings(t, in, in + in_len, offs, iw, i, j, out->data, &o, out_offs, ow);
    if (CL_UNLIKELY(bad != SIZE_MAX))
      return cl_err(err, CLANCE_ECORRUPT, "fsst: string %zu ends in an escape without literal",
                    bad);
    out->len = (size_t)(o - out->data);
    if (CL_UNLIKELY((uint64_t)out->len > limit))
      return cl_err(err, CLANCE_ECORRUPT, "fsst: decoded strings overflow 32-bit offsets");
    i = j;
  }
  return CLANCE_OK;
}

clance_status cl_fsst_decode_offsets32(const cl_fsst_table *t, const uint8_t *in, size_t in_len,
                                       const uint32_t *offsets, size_t count, cl_buf *out,
                                       uint32_t *out_offsets, clance_error *err) {
  return dec_column(t, in, in_len, offsets, 4, count, out, out_offsets, 4, err);
}

clance_status cl_fsst_decode_offsets64(const cl_fsst_table *t, const uint8_t *in, size_t in_len,
                                       const uint64_t *offsets, size_t count, cl_buf *out,
                                       uint64_t *out_offsets, clance_error *err) {
  return dec_column(t, in, in_len, offsets, 8, count, out, out_offsets, 8, err);
}

/* ------------------------------------------------------------------------- */
/* Encoding                                                                   */
/* ------------------------------------------------------------------------- */

/* Derive the column encoder's tables from e. */
static void fast_init(fsst_fast *f, const fsst_enc *e) {
  uint8_t used[256] = {0};
  for (unsigned k = 0; k < 65536; k++) {
    unsigned info = e->two[k];
    if (info & ESC_BIT)
      info = (info & ~0x1FFu) | ESC_BIT | CL_FSST_ESC;
    else if ((info >> INFO_LEN_SHIFT) == 2)
      used[k & 0xFF] = used[k >> 8] = 1;
    f->two[k] = (uint16_t)info;
  }
  for (unsigned h = 0; h < HT_SIZE; h++) {
    const fsst_slot *s = &e->hash[h];
    if (s->info) {
      f->val[h] = s->val;
      f->mask[h] = UINT64_MAX >> s->shift;
      f->info[h] = (uint16_t)s->info;
      for (unsigned k = 0; k < (s->info >> INFO_LEN_SHIFT); k++)
        used[(s->val >> (8 * k)) & 0xFF] = 1;
    } else {
      f->val[h] = hash_slot(0) == h ? 1 : 0;
      f->mask[h] = UINT64_MAX;
      f->info[h] = 0;
    }
  }
  for (unsigned h = 0; h < HT_SIZE; h++)
    if (e->hash[h].info)
      f->two[e->hash[h].val & 0xFFFF] |= FAST_LONG_BIT;
  f->sep = -1;
  for (unsigned b = 0; b < 256 && f->sep < 0; b++)
    if (!used[b])
      f->sep = (int)b;
}

clance_status cl_fsst_table_prepare_encoder(cl_fsst_table *t, clance_error *err) {
  if (t->enc)
    return CLANCE_OK;
  fsst_enc *e = cl_malloc(sizeof *e, err);
  if (!e)
    return err->code;
  fsst_fast *f = cl_malloc(sizeof *f, err);
  if (!f) {
    free(e);
    return err->code;
  }
  enc_reset(e);
  for (unsigned c = 0; c < t->n_symbols; c++) {
    /* A symbol that cannot be indexed (duplicate, taken slot) is just unused. */
    (void)enc_add(e, ld64(t->sym[c]), t->len[c], c);
  }
  enc_flatten(e);
  fast_init(f, e);
  t->enc = e;
  t->fast = f;
  return CLANCE_OK;
}

CL_FSST_INLINE clance_status enc_room(cl_buf *out, size_t n, clance_error *err) {
  if (n > (SIZE_MAX - 16) / 2)
    return cl_err(err, CLANCE_ENOMEM, "fsst: string too large to encode");
  return cl_buf_reserve(out, 2 * n + 8, err);
}

clance_status cl_fsst_encode(const cl_fsst_table *t, const uint8_t *in, size_t n, cl_buf *out,
                             clance_error *err) {
  if (n == 0)
    return CLANCE_OK;
  if (!t->compressed)
    return cl_buf_append(out, in, n, err);
  if (!t->enc)
    return cl_err(err, CLANCE_EINVAL, "fsst: table not prepared for encoding");
  CL_TRY(enc_room(out, n, err));
  uint8_t *o = enc_run(t->enc, in, in + n, in + n, out->data + out->len);
  out->len = (size_t)(o - out->data);
  return CLANCE_OK;
}

/* ---- the column encoder ----
 *
 * Greedy matching is a chain of dependent loads (next word, table entry,
 * advance), 13-20 cycles a symbol, so one string at a time runs at a symbol
 * per ~7 ns whatever the CPU's width (~190 MB/s on short random strings).
 * The column encoder walks FAST_LANES independent streams at once instead.
 * A chunk of short strings is copied into one stream with the separator
 * byte `sep` after each string; sep is in
 * no symbol of 2+ bytes, so no match runs from a string into its separator
 * (exactly as enc_run stops matches at a string's end) and the separator
 * itself is always a 1-byte step. The stream is cut into FAST_LANES parts at
 * string boundaries; part k writes its codes from 2 * (its first stream
 * position) on (a step consumes >= 1 byte and writes <= 2, so the parts never
 * meet) and records, for every step, where its codes went (pos[]): a
 * string's codes are out[pos[start] .. pos[its separator]). They are then
 * copied into place in order. The bytes are those of enc_run for any table;
 * tables where every byte occurs in some 2+ byte symbol (no sep) and strings
 * longer than FAST_LONG use enc_run. */
#ifndef FAST_LANES
#define FAST_LANES 5
#endif
#define FAST_STREAM 16384u /* stream bytes per chunk (code positions < 2 * FAST_STREAM) */
#define FAST_LONG 2048u    /* longer strings are encoded in place */
#define FAST_PAD 32u /* >= FAST_OVER and 8 (a word read at the last byte) */

_Static_assert(2 * FAST_STREAM <= 65536u, "code positions are uint16_t");
_Static_assert(FAST_LONG < FAST_STREAM, "a short string fits a chunk");

/* Copy n bytes of a short string, `avail` bytes being readable at src: in
 * 8-byte words, the first three unconditionally (no branch on typical
 * lengths), so up to FAST_OVER bytes past n may be read and written. */
#define FAST_OVER 24u
CL_FSST_INLINE void copy_short(uint8_t *dst, const uint8_t *src, size_t n, size_t avail) {
  if (CL_LIKELY(avail >= n + FAST_OVER)) {
    memcpy(dst, src, 8);
    memcpy(dst + 8, src + 8, 8);
    memcpy(dst + 16, src + 16, 8);
    for (size_t q = FAST_OVER; q < n; q += 8)
      memcpy(dst + q, src + q, 8);
  } else {
    memcpy(dst, src, n);
  }
}

/* Scratch layout: the stream, its codes (2x), the code positions (uint16_t a
 * stream byte). One base pointer addresses all three. */
#define FAST_OB_OFF (FAST_STREAM + FAST_PAD)
#define FAST_POS_OFF (FAST_OB_OFF + 2 * FAST_STREAM + FAST_PAD)
#define FAST_ST_OFF (FAST_POS_OFF + 2 * (FAST_STREAM + FAST_PAD))
#define FAST_SCRATCH (FAST_ST_OFF + 2 * (FAST_STREAM + 1))

/* t = c ? u : t, hinted as unpredictable (whether a 3+ byte symbol matches is
 * data dependent) so that the compiler may use a conditional move. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 9
#define FAST_SELECT(t, u, c) (t) = __builtin_expect_with_probability((c), 1, 0.5) ? (u) : (t)
#elif defined(__clang__)
#define FAST_SELECT(t, u, c) (t) = __builtin_unpredictable(c) ? (u) : (t)
#else
#define FAST_SELECT(t, u, c) (t) = (c) ? (u) : (t)
#endif

/* One greedy step of a part: i is its stream position, o where its codes go.
 * The hash table is only consulted when some 3+ byte symbol starts with the
 * next two bytes (FAST_LONG_BIT), which on short-symbol data is rare enough
 * for the branch to be predicted. */
#define FAST_STEP(i, o)                                                     \
  do {                                                                      \
    uint64_t w_ = ld64(s + (i));                                            \
    unsigned t_ = f->two[w_ & 0xFFFF];                                      \
    if (t_ & FAST_LONG_BIT) {                                               \
      unsigned h_ = hash_slot(w_);                                          \
      unsigned u_ = f->info[h_];                                            \
      FAST_SELECT(t_, u_, (w_ & f->mask[h_]) == f->val[h_]);               \
    }                                                                       \
    uint16_t o16_ = (uint16_t)(o);                                          \
    memcpy(s + FAST_POS_OFF + 2 * (i), &o16_, 2);                           \
    s[FAST_OB_OFF + (o)] = (uint8_t)t_;                                     \
    s[FAST_OB_OFF + (o) + 1] = (uint8_t)w_;                                 \
    (o) += 1 + ((t_ >> 8) & 1);                                             \
    (i) += t_ >> INFO_LEN_SHIFT;                                            \
  } while (0)

/* Encode the stream at s, parts [cut[k], cut[k+1]) for k < FAST_LANES. The
 * lanes are spelt out (FAST_EACH) so that their positions stay in registers. */
#if FAST_LANES == 4
#define FAST_EACH(X) X(0) X(1) X(2) X(3)
#define FAST_PAIRS(X) X(0, 1) X(2, 3) X(0, 2) X(0, 3) X(1, 2) X(1, 3)
#elif FAST_LANES == 5
#define FAST_EACH(X) X(0) X(1) X(2) X(3) X(4)
#define FAST_PAIRS(X)                                                       \
  X(0, 1) X(2, 3) X(0, 2) X(0, 3) X(1, 2) X(1, 3) X(0, 4) X(1, 4) X(2, 4) X(3, 4)
#else
#error "FAST_LANES must be 4 or 5"
#endif
static void fast_lanes(const fsst_fast *f, uint8_t *s, const size_t cut[FAST_LANES + 1]) {
#define FAST_INIT(k) size_t i##k = cut[k], o##k = 2 * cut[k];
#define FAST_MIN(k) r = cut[k + 1] - i##k < r ? cut[k + 1] - i##k : r;
#define FAST_DONE(k) | (i##k >= cut[k + 1])
#define FAST_LANE(k) FAST_STEP(i##k, o##k);
#define FAST_PAIR(a, b)                                                     \
  while (i##a < cut[a + 1] && i##b < cut[b + 1]) {                          \
    FAST_STEP(i##a, o##a);                                                  \
    FAST_STEP(i##b, o##b);                                                  \
  }
#define FAST_REST(k) while (i##k < cut[k + 1]) FAST_STEP(i##k, o##k);
  FAST_EACH(FAST_INIT)
  for (;;) {
    /* A step consumes 1..8 bytes: with r bytes left in every part,
     * (r + 7) / 8 steps need no check. */
    size_t r = SIZE_MAX;
    FAST_EACH(FAST_MIN)
    if (0 FAST_EACH(FAST_DONE))
      break;
    for (size_t n = (r + 7) / 8; n; n--) {
      FAST_EACH(FAST_LANE)
    }
  }
  /* The parts' last steps: two at a time while two are left, then alone. */
  FAST_PAIRS(FAST_PAIR)
  FAST_EACH(FAST_REST)
#undef FAST_INIT
#undef FAST_PAIR
#undef FAST_MIN
#undef FAST_DONE
#undef FAST_LANE
#undef FAST_REST
}

CL_FSST_INLINE clance_status enc_column(const cl_fsst_table *t, const uint8_t *data,
                                        const void *offs, unsigned w, size_t count, cl_buf *out,
                                        void *out_offs, clance_error *err) {
  const uint64_t limit = w == 4 ? UINT32_MAX : UINT64_MAX;
  if (t->compressed && !t->enc)
    return cl_err(err, CLANCE_EINVAL, "fsst: table not prepared for encoding");
  if ((uint64_t)out->len > limit)
    return cl_err(err, CLANCE_EINVAL, "fsst: output buffer already exceeds the offset width");
  uint64_t first = off_at(offs, w, 0), end = off_at(offs, w, count);
  uint64_t prev = first;
  for (size_t i = 1; i <= count; i++) {
    uint64_t e = off_at(offs, w, i);
    if (e < prev || e > end)
      return cl_err(err, CLANCE_EINVAL, "fsst: offset %zu out of order", i);
    prev = e;
  }
  const uint64_t base = out->len, total = end - first;
  if (!t->compressed) {
    if (base + total > limit)
      return cl_err(err, CLANCE_EINVAL, "fsst: compressed strings overflow 32-bit offsets");
    for (size_t i = 0; i <= count; i++)
      off_put(out_offs, w, i, base + (off_at(offs, w, i) - first));
    return cl_buf_append(out, data + first, (size_t)total, err);
  }
  off_put(out_offs, w, 0, base);
  if (total == 0) {
    for (size_t i = 1; i <= count; i++)
      off_put(out_offs, w, i, base);
    return CLANCE_OK;
  }
  /* Codes take at most 2 bytes per input byte; copies write up to FAST_OVER
   * bytes past the end, enc_run 1. */
  if (total > (SIZE_MAX - 64) / 2)
    return cl_err(err, CLANCE_ENOMEM, "fsst: strings too large to encode");
  CL_TRY(cl_buf_reserve(out, (size_t)(2 * total + FAST_OVER + 8), err));
  const fsst_fast *f = t->fast;
  const uint8_t *const dend = data + end;
  uint8_t *o = out->data + out->len;
  uint8_t *scratch = NULL;
  if (f->sep >= 0 && count > 1) {
    /* stream, codes (2x), positions (2 bytes a stream byte) */
    scratch = cl_calloc(1, FAST_SCRATCH, err);
    if (!scratch)
      return err->code;
  }
  size_t i = 0;
  while (i < count) {
    uint64_t s0 = off_at(offs, w, i), e0 = off_at(offs, w, i + 1);
    if (!scratch || e0 - s0 > FAST_LONG) {
      o = enc_run(t->enc, data + s0, data + e0, dend, o);
      off_put(out_offs, w, ++i, base + (uint64_t)(o - (out->data + base)));
      continue;
    }
    /* The chunk: strings i..j-1, copied with separators; string i + q starts
     * at stream position st[q] (and st[j - i] = n). */
    uint8_t *s = scratch;
    const uint8_t *ob = scratch + FAST_OB_OFF;
    const uint16_t *pos = (const uint16_t *)(const void *)(scratch + FAST_POS_OFF);
    uint16_t *st = (uint16_t *)(void *)(scratch + FAST_ST_OFF);
    const uint8_t sep = (uint8_t)f->sep;
    size_t j = i, n = 0;
    uint64_t a = s0;
    while (j < count) {
      uint64_t b = off_at(offs, w, j + 1);
      size_t len = (size_t)(b - a);
      if (len > FAST_LONG || n + len + 1 > FAST_STREAM)
        break;
      st[j - i] = (uint16_t)n;
      copy_short(s + n, data + a, len, (size_t)(dend - (data + a)));
      n += len;
      s[n++] = sep;
      a = b;
      j++;
    }
    size_t m = j - i;
    st[m] = (uint16_t)n;
    memset(s + n, sep, FAST_PAD);
    /* Cut into parts of about n / FAST_LANES bytes, at string starts. */
    size_t cut[FAST_LANES + 1];
    cut[0] = 0;
    cut[FAST_LANES] = n;
    for (size_t k = 1, q = 0; k < FAST_LANES; k++) {
      size_t target = n * k / FAST_LANES;
      while (st[q] < target)
        q++;
      cut[k] = st[q];
    }
    fast_lanes(f, s, cut);
    /* Codes into place. */
    uint8_t *const obase = out->data + base;
    for (size_t q = 0; q < m; q++) {
      size_t from = pos[st[q]], len = (size_t)pos[st[q + 1] - 1] - from;
      copy_short(o, ob + from, len, SIZE_MAX);
      o += len;
      off_put(out_offs, w, i + q + 1, base + (uint64_t)(o - obase));
    }
    i = j;
  }
  free(scratch);
  out->len = (size_t)(o - out->data);
  if ((uint64_t)out->len > limit)
    return cl_err(err, CLANCE_EINVAL, "fsst: compressed strings overflow 32-bit offsets");
  return CLANCE_OK;
}

clance_status cl_fsst_encode_offsets32(const cl_fsst_table *t, const uint8_t *data,
                                       const uint32_t *offsets, size_t count, cl_buf *out,
                                       uint32_t *out_offsets, clance_error *err) {
  return enc_column(t, data, offsets, 4, count, out, out_offsets, err);
}

clance_status cl_fsst_encode_offsets64(const cl_fsst_table *t, const uint8_t *data,
                                       const uint64_t *offsets, size_t count, cl_buf *out,
                                       uint64_t *out_offsets, clance_error *err) {
  return enc_column(t, data, offsets, 8, count, out, out_offsets, err);
}

/* ------------------------------------------------------------------------- */
/* Building a symbol table                                                    */
/* ------------------------------------------------------------------------- */

/* One sample line: a window of at most SAMPLE_LINE bytes of one string. */
typedef struct sline {
  uint64_t off;
  uint32_t len;
} sline;

typedef struct cand {
  uint64_t val;
  uint64_t gain;
  unsigned len;
} cand;

typedef struct builder {
  fsst_enc enc;
  uint64_t val[CL_FSST_MAX_SYMBOLS];
  uint8_t len[CL_FSST_MAX_SYMBOLS];
  unsigned n;
  uint32_t count1[NCODES];
  uint16_t *count2; /* NCODES x NCODES */
  cand *cands;
  size_t cands_cap;
} builder;

static uint64_t splitmix(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static clance_status push_line(sline **lines, size_t *n, size_t *cap, uint64_t off, uint32_t len,
                               clance_error *err) {
  if (*n == *cap) {
    size_t nc = *cap ? *cap * 2 : 256;
    sline *p = realloc(*lines, nc * sizeof *p);
    if (!p)
      return cl_err_nomem(err, "fsst sample");
    *lines = p;
    *cap = nc;
  }
  (*lines)[*n].off = off;
  (*lines)[*n].len = len;
  (*n)++;
  return CLANCE_OK;
}

/* Choose sample lines: all strings (cut into SAMPLE_LINE windows) when they
 * are small, else windows at byte positions drawn uniformly until the sample
 * reaches SAMPLE_TARGET bytes. Deterministic. */
CL_FSST_INLINE clance_status make_sample(const void *offs, unsigned w, size_t count,
                                         sline **lines, size_t *nlines, clance_error *err) {
  size_t cap = 0;
  *lines = NULL;
  *nlines = 0;
  uint64_t lo = off_at(offs, w, 0), hi = off_at(offs, w, count);
  uint64_t total = hi - lo;
  if (total == 0)
    return CLANCE_OK;
  if (total <= SAMPLE_TARGET) {
    for (size_t i = 0; i < count; i++) {
      uint64_t s = off_at(offs, w, i), e = off_at(offs, w, i + 1);
      for (; s < e; s += SAMPLE_LINE) {
        uint64_t l = e - s < SAMPLE_LINE ? e - s : SAMPLE_LINE;
        CL_TRY(push_line(lines, nlines, &cap, s, (uint32_t)l, err));
      }
    }
    return CLANCE_OK;
  }
  uint64_t rng = 0x5EED5EED12345678ull ^ total;
  uint64_t got = 0;
  while (got < SAMPLE_TARGET) {
    uint64_t x = lo + splitmix(&rng) % total;
    /* String i with offs[i] <= x < offs[i+1] (it is not empty). */
    size_t a = 0, b = count; /* offs[a] <= x < offs[b] */
    while (b - a > 1) {
      size_t mid = a + (b - a) / 2;
      if (off_at(offs, w, mid) <= x)
        a = mid;
      else
        b = mid;
    }
    uint64_t s = off_at(offs, w, a), e = off_at(offs, w, a + 1);
    s += (x - s) / SAMPLE_LINE * SAMPLE_LINE;
    uint64_t l = e - s < SAMPLE_LINE ? e - s : SAMPLE_LINE;
    CL_TRY(push_line(lines, nlines, &cap, s, (uint32_t)l, err));
    got += l;
  }
  return CLANCE_OK;
}

/* Whether line i takes part in a counting round over a fraction frac/128. */
static int line_in_round(size_t i, unsigned frac) {
  if (frac >= 128)
    return 1;
  uint64_t st = (uint64_t)i * 0x2545F4914F6CDD1Dull;
  return (unsigned)(splitmix(&st) >> 57) <= frac;
}

static inline void count2_inc(builder *b, unsigned c1, unsigned c2) {
  uint16_t *p = &b->count2[(size_t)c1 * NCODES + c2];
  if (*p != UINT16_MAX)
    (*p)++;
}

/* Compress the selected lines with the current table, counting codes (and
 * code pairs when pairs != 0). Returns the gain: bytes saved. */
static int64_t count_round(builder *b, const uint8_t *data, const sline *lines, size_t nlines,
                           unsigned frac, int all, int pairs) {
  memset(b->count1, 0, sizeof b->count1);
  if (pairs)
    memset(b->count2, 0, (size_t)NCODES * NCODES * sizeof *b->count2);
  int64_t gain = 0;
  const fsst_enc *e = &b->enc;
  for (size_t i = 0; i < nlines; i++) {
    if (!all && !line_in_round(i, frac))
      continue;
    const uint8_t *p = data + lines[i].off, *end = p + lines[i].len;
    if (p == end)
      continue;
    const uint8_t *start = p;
    unsigned info = enc_match(e, p, end);
    unsigned code1 = info & 0x1FF, len1 = info >> INFO_LEN_SHIFT;
    gain += (int64_t)len1 - 1 - (code1 >> 8);
    p += len1;
    for (;;) {
      b->count1[code1]++;
      if (len1 != 1) /* the first byte alone is an alternative to this symbol */
        b->count1[ESC_BIT | *start]++;
      if (p >= end)
        break;
      const uint8_t *s2 = p;
      info = enc_match(e, p, end);
      unsigned code2 = info & 0x1FF, len2 = info >> INFO_LEN_SHIFT;
      gain += (int64_t)len2 - 1 - (code2 >> 8);
      p += len2;
      if (pairs) {
        count2_inc(b, code1, code2);
        if (len2 != 1) /* ... and extending by its first byte only */
          count2_inc(b, code1, ESC_BIT | *s2);
      }
      code1 = code2;
      len1 = len2;
      start = s2;
    }
  }
  return gain;
}

static int cand_by_key(const void *pa, const void *pb) {
  const cand *a = pa, *b = pb;
  if (a->len != b->len)
    return a->len < b->len ? -1 : 1;
  if (a->val != b->val)
    return a->val < b->val ? -1 : 1;
  return 0;
}

static int cand_by_gain(const void *pa, const void *pb) {
  const cand *a = pa, *b = pb;
  if (a->gain != b->gain)
    return a->gain > b->gain ? -1 : 1;
  if (a->len != b->len)
    return a->len > b->len ? -1 : 1;
  if (a->val != b->val)
    return a->val < b->val ? -1 : 1;
  return 0;
}

static inline void code_symbol(const builder *b, unsigned code, uint64_t *val, unsigned *len) {
  if (code & ESC_BIT) {
    *val = code & 0xFF;
    *len = 1;
  } else {
    *val = b->val[code];
    *len = b->len[code];
  }
}

static void enc_rebuild(builder *b) {
  enc_reset(&b->enc);
  for (unsigned c = 0; c < b->n; c++)
    (void)enc_add(&b->enc, b->val[c], b->len[c], c);
  enc_flatten(&b->enc);
}

/* Replace the table by the best candidates from the last counting round. */
static clance_status make_table(builder *b, unsigned frac, clance_error *err) {
  const uint64_t min_count = (5u * frac) / 128u;
  size_t need = 0;
  for (unsigned c1 = 0; c1 < NCODES; c1++) {
    if (!b->count1[c1])
      continue;
    need++;
    const uint16_t *row = &b->count2[(size_t)c1 * NCODES];
    for (unsigned c2 = 0; c2 < NCODES; c2++)
      need += row[c2] != 0;
  }
  if (need > b->cands_cap) {
    cand *p = realloc(b->cands, need * sizeof *p);
    if (!p)
      return cl_err_nomem(err, "fsst candidates");
    b->cands = p;
    b->cands_cap = need;
  }
  size_t nc = 0;
  for (unsigned c1 = 0; c1 < NCODES; c1++) {
    uint64_t cnt1 = b->count1[c1];
    if (!cnt1)
      continue;
    uint64_t v1;
    unsigned l1;
    code_symbol(b, c1, &v1, &l1);
    /* Favouring single bytes (x8) cuts escapes, as in the paper. */
    uint64_t weighted = l1 == 1 ? 8 * cnt1 : cnt1;
    if (weighted >= min_count && weighted)
      b->cands[nc++] = (cand){v1, weighted * l1, l1};
    if (l1 == CL_FSST_MAX_SYMBOL_LEN)
      continue;
    const uint16_t *row = &b->count2[(size_t)c1 * NCODES];
    for (unsigned c2 = 0; c2 < NCODES; c2++) {
      uint64_t cnt2 = row[c2];
      if (!cnt2 || cnt2 < min_count)
        continue;
      uint64_t v2;
      unsigned l2;
      code_symbol(b, c2, &v2, &l2);
      unsigned l3 = l1 + l2 > CL_FSST_MAX_SYMBOL_LEN ? CL_FSST_MAX_SYMBOL_LEN : l1 + l2;
      uint64_t v3 = (v1 | (v2 << (8 * l1))) & len_mask(l3);
      b->cands[nc++] = (cand){v3, cnt2 * l3, l3};
    }
  }
  /* Merge duplicates (a pair can spell an existing symbol), then rank. */
  if (nc > 1) {
    qsort(b->cands, nc, sizeof *b->cands, cand_by_key);
    size_t m = 0;
    for (size_t i = 0; i < nc; i++) {
      if (m && b->cands[m - 1].len == b->cands[i].len && b->cands[m - 1].val == b->cands[i].val)
        b->cands[m - 1].gain += b->cands[i].gain;
      else
        b->cands[m++] = b->cands[i];
    }
    nc = m;
    qsort(b->cands, nc, sizeof *b->cands, cand_by_gain);
  }
  enc_reset(&b->enc);
  b->n = 0;
  for (size_t i = 0; i < nc && b->n < CL_FSST_MAX_SYMBOLS; i++) {
    if (!enc_add(&b->enc, b->cands[i].val, b->cands[i].len, b->n))
      continue; /* its hash slot is taken by a better symbol */
    b->val[b->n] = b->cands[i].val;
    b->len[b->n] = (uint8_t)b->cands[i].len;
    b->n++;
  }
  enc_flatten(&b->enc);
  return CLANCE_OK;
}

/* Number the symbols like lance's finalize(): 2-byte symbols that start a
 * longer symbol first (their count is suffix_lim), other 2-byte symbols, then
 * lengths 3..8, single bytes last. */
static clance_status finish_table(const uint64_t *val, const uint8_t *len, unsigned n,
                                  unsigned terminator, cl_fsst_table **out, clance_error *err) {
  cl_fsst_table *t = table_alloc(err);
  if (!t)
    return err->code;
  unsigned code = 0, suffix_lim = 0;
  for (int pass = 0; pass < 9; pass++) {
    /* pass 0: 2-byte with suffix, 1: 2-byte without, 2..7: lengths 3..8, 8: length 1 */
    unsigned want = pass <= 1 ? 2u : pass == 8 ? 1u : (unsigned)pass + 1;
    for (unsigned i = 0; i < n; i++) {
      if (len[i] != want)
        continue;
      if (want == 2) {
        int has_suffix = 0;
        for (unsigned j = 0; j < n && !has_suffix; j++)
          has_suffix = len[j] > 2 && (val[j] & 0xFFFF) == (val[i] & 0xFFFF);
        if (has_suffix != (pass == 0))
          continue;
        suffix_lim += has_suffix;
      }
      for (unsigned k = 0; k < 8; k++)
        t->sym[code][k] = k < len[i] ? (uint8_t)(val[i] >> (8 * k)) : 0;
      t->len[code] = len[i];
      code++;
    }
  }
  t->n_symbols = code;
  t->suffix_lim = suffix_lim;
  t->terminator = terminator;
  t->compressed = 1;
  clance_status st = cl_fsst_table_prepare_encoder(t, err);
  if (st != CLANCE_OK) {
    cl_fsst_table_free(t);
    return st;
  }
  *out = t;
  return CLANCE_OK;
}

/* (inlined into its two callers: the offset width is a constant there) */
CL_FSST_INLINE clance_status build(const uint8_t *data, const void *offs, unsigned w, size_t count,
                                   cl_fsst_table **out, clance_error *err) {
  *out = NULL;
  for (size_t i = 0; i < count; i++)
    if (off_at(offs, w, i + 1) < off_at(offs, w, i))
      return cl_err(err, CLANCE_EINVAL, "fsst: offset %zu decreases", i + 1);
  if (count == 0 || off_at(offs, w, count) == off_at(offs, w, 0))
    return cl_fsst_table_new_passthrough(out, err);

  clance_status st = CLANCE_OK;
  sline *lines = NULL;
  size_t nlines = 0;
  builder *b = NULL;
  CL_CHECK(st, make_sample(offs, w, count, &lines, &nlines, err));

  b = cl_calloc(1, sizeof *b, err);
  if (!b) {
    st = err->code;
    goto fail;
  }
  b->count2 = cl_calloc((size_t)NCODES * NCODES, sizeof *b->count2, err);
  if (!b->count2) {
    st = err->code;
    goto fail;
  }

  /* The least frequent byte, recorded in the header as lance does. */
  uint64_t histo[256] = {0}, sample_bytes = 0;
  for (size_t i = 0; i < nlines; i++) {
    const uint8_t *p = data + lines[i].off;
    for (uint32_t k = 0; k < lines[i].len; k++)
      histo[p[k]]++;
    sample_bytes += lines[i].len;
  }
  unsigned terminator = 0;
  for (unsigned c = 1; c < 256; c++)
    if (histo[c] < histo[terminator])
      terminator = c;
  /* Small samples are counted whole in every round. */
  int all = sample_bytes < 4096;

  uint64_t best_val[CL_FSST_MAX_SYMBOLS];
  uint8_t best_len[CL_FSST_MAX_SYMBOLS];
  unsigned best_n = 0;
  int64_t best_gain = INT64_MIN;

  b->n = 0;
  enc_rebuild(b);
  for (unsigned frac = 8;; frac += 30) {
    int64_t gain = count_round(b, data, lines, nlines, frac, all, frac < 128);
    if (gain >= best_gain) {
      best_gain = gain;
      best_n = b->n;
      memcpy(best_val, b->val, sizeof best_val);
      memcpy(best_len, b->len, sizeof best_len);
    }
    if (frac >= 128)
      break;
    CL_CHECK(st, make_table(b, frac, err));
  }
  st = best_n ? finish_table(best_val, best_len, best_n, terminator, out, err)
              : cl_fsst_table_new_passthrough(out, err);

fail:
  if (b) {
    free(b->count2);
    free(b->cands);
    free(b);
  }
  free(lines);
  return st;
}

clance_status cl_fsst_table_build32(const uint8_t *data, const uint32_t *offsets, size_t count,
                                    cl_fsst_table **out, clance_error *err) {
  return build(data, offsets, 4, count, out, err);
}

clance_status cl_fsst_table_build64(const uint8_t *data, const uint64_t *offsets, size_t count,
                                    cl_fsst_table **out, clance_error *err) {
  return build(data, offsets, 8, count, out, err);
}
