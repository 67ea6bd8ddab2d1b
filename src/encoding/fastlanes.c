#include "encoding/fastlanes.h"

#include <stdalign.h>
#include <string.h>

/* Lance words are little-endian and the byte-buffer helpers reinterpret file
 * bytes as host words; a big-endian port would need byte swaps here. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "clance assumes a little-endian host");

/* ---- Kernels ----------------------------------------------------------------
 * Lane `l` of a group holds inputs l, l+LANES, ... as one bit stream; row r of
 * the lane is input FL_IDX(r) + l. ORDER = [0,4,2,6,1,5,3,7] is the 3-bit
 * reversal of r/8, written as arithmetic so it folds to a constant.
 *
 * Speed: each kernel is instantiated once per width with W a compile-time
 * constant, and the row loop is fully unrolled, so every shift, mask and word
 * index is a constant. What is left is the lane loop, whose loads and stores
 * are unit-stride across lanes: the compiler turns it into SIMD code (the same
 * shape as the Rust fastlanes crate that lance uses). */
#define FL_ORDER(k) ((((k) & 1u) << 2) | ((k) & 2u) | (((k) >> 2) & 1u))
#define FL_IDX(r) (FL_ORDER((r) / 8u) * 16u + ((r) % 8u) * 128u)

#if defined(__clang__)
#define FL_UNROLL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define FL_UNROLL _Pragma("GCC unroll 64")
#else
#define FL_UNROLL
#endif
#define FL_INLINE static inline __attribute__((always_inline, no_sanitize("address", "undefined")))

/* W in 1..T. mask keeps the low W bits; UINT64_MAX >> (64 - W) avoids the
 * undefined 1 << 64 for W == 64. */
#define FL_KERNELS(T)                                                               \
  FL_INLINE void fl_unpack##T##_k(const uint##T##_t *restrict in,                   \
                                  uint##T##_t *restrict out, const unsigned W) {    \
    if (W == T) { /* row r of every lane is word r: a permuted copy of rows */      \
      for (unsigned row = 0; row < T; row++)                                        \
        memcpy(out + FL_IDX(row), in + row * (1024u / T), 128);                     \
      return;                                                                       \
    }                                                                               \
    const uint##T##_t mask = (uint##T##_t)(UINT64_MAX >> (64 - W));                 \
    for (unsigned lane = 0; lane < 1024u / T; lane++) {                             \
      FL_UNROLL for (unsigned row = 0; row < T; row++) {                            \
        const unsigned bit = row * W, w = bit / T, s = bit % T;                     \
        uint##T##_t v = (uint##T##_t)(in[w * (1024u / T) + lane] >> s);             \
        if (s + W > T) /* the value straddles two words: s > 0 here */              \
          v |= (uint##T##_t)(in[(w + 1) * (1024u / T) + lane] << (T - s));          \
        out[FL_IDX(row) + lane] = v & mask;                                         \
      }                                                                             \
    }                                                                               \
  }                                                                                 \
  /* Builds each output word in a register and stores it once, so `out` needs   \
   * no zeroing. */                                                                 \
  FL_INLINE void fl_pack##T##_k(const uint##T##_t *restrict in,                     \
                                uint##T##_t *restrict out, const unsigned W) {      \
    if (W == T) {                                                                   \
      for (unsigned row = 0; row < T; row++)                                        \
        memcpy(out + row * (1024u / T), in + FL_IDX(row), 128);                     \
      return;                                                                       \
    }                                                                               \
    const uint##T##_t mask = (uint##T##_t)(UINT64_MAX >> (64 - W));                 \
    for (unsigned lane = 0; lane < 1024u / T; lane++) {                             \
      uint##T##_t acc = 0;                                                          \
      FL_UNROLL for (unsigned row = 0; row < T; row++) {                            \
        const unsigned bit = row * W, w = bit / T, s = bit % T;                     \
        const uint##T##_t v = in[FL_IDX(row) + lane] & mask;                        \
        acc = s == 0 ? v : (uint##T##_t)(acc | (uint##T##_t)(v << s));              \
        if (s + W >= T) { /* word w is complete */                                  \
          out[w * (1024u / T) + lane] = acc;                                        \
          acc = s + W > T ? (uint##T##_t)(v >> (T - s)) : 0;                        \
        }                                                                           \
      }                                                                             \
    }                                                                               \
  }

FL_KERNELS(8)
FL_KERNELS(16)
FL_KERNELS(32)
FL_KERNELS(64)

/* One small function per (T, W) rather than one switch over inlined kernels,
 * which compiled several times more slowly. Sanitizers are off inside the
 * kernels: they only index within the 1024 values and 128*W bytes the public
 * functions are documented to take (and the instrumented build took minutes);
 * the public functions probe those extents instead (FL_PROBE).
 *
 * On x86-64 the unpack functions also exist in an AVX2 build, picked at run
 * time, which roughly doubles scan throughput over the baseline (SSE2) the
 * project compiles for. Packing (writes) stays baseline only, to halve the
 * code and compile time it would add. Define CLANCE_NO_AVX2 to drop AVX2. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(CLANCE_NO_AVX2)
#define FL_HAVE_AVX2 1
#else
#define FL_HAVE_AVX2 0
#endif
#define FL_ATTR_base __attribute__((noinline, no_sanitize("address", "undefined")))
#define FL_ATTR_avx2 __attribute__((noinline, target("avx2"), no_sanitize("address", "undefined")))

/* FL_Wn(F, T, V) expands F(T, V, W) for W = 1..n. */
#define FL_W8(F, T, V) F(T, V, 1) F(T, V, 2) F(T, V, 3) F(T, V, 4) F(T, V, 5) F(T, V, 6) \
  F(T, V, 7) F(T, V, 8)
#define FL_W16(F, T, V) FL_W8(F, T, V) F(T, V, 9) F(T, V, 10) F(T, V, 11) F(T, V, 12) \
  F(T, V, 13) F(T, V, 14) F(T, V, 15) F(T, V, 16)
#define FL_W32(F, T, V) FL_W16(F, T, V) F(T, V, 17) F(T, V, 18) F(T, V, 19) F(T, V, 20) \
  F(T, V, 21) F(T, V, 22) F(T, V, 23) F(T, V, 24) F(T, V, 25) F(T, V, 26) F(T, V, 27)  \
  F(T, V, 28) F(T, V, 29) F(T, V, 30) F(T, V, 31) F(T, V, 32)
#define FL_W64(F, T, V) FL_W32(F, T, V) F(T, V, 33) F(T, V, 34) F(T, V, 35) F(T, V, 36) \
  F(T, V, 37) F(T, V, 38) F(T, V, 39) F(T, V, 40) F(T, V, 41) F(T, V, 42) F(T, V, 43)  \
  F(T, V, 44) F(T, V, 45) F(T, V, 46) F(T, V, 47) F(T, V, 48) F(T, V, 49) F(T, V, 50)  \
  F(T, V, 51) F(T, V, 52) F(T, V, 53) F(T, V, 54) F(T, V, 55) F(T, V, 56) F(T, V, 57)  \
  F(T, V, 58) F(T, V, 59) F(T, V, 60) F(T, V, 61) F(T, V, 62) F(T, V, 63) F(T, V, 64)

/* fl_<op><T>_<W>_<V>: one function; fl_<op><T>_<V>_tab: them by W (entry 0
 * unused: W == 0 touches no packed words). */
#define FL_FUNC(OP, T, V, W)                                                        \
  FL_ATTR_##V static void fl_##OP##T##_##W##_##V(const uint##T##_t *in,             \
                                                 uint##T##_t *out) {                \
    fl_##OP##T##_k(in, out, W);                                                     \
  }
#define FL_FUNC_unpack(T, V, W) FL_FUNC(unpack, T, V, W)
#define FL_FUNC_pack(T, V, W) FL_FUNC(pack, T, V, W)
#define FL_ENTRY_unpack(T, V, W) fl_unpack##T##_##W##_##V,
#define FL_ENTRY_pack(T, V, W) fl_pack##T##_##W##_##V,
#define FL_TABLE(OP, T, V)                                                          \
  FL_W##T(FL_FUNC_##OP, T, V)                                                       \
  static void (*const fl_##OP##T##_##V##_tab[T + 1])(const uint##T##_t *,           \
                                                     uint##T##_t *) = {             \
      NULL, FL_W##T(FL_ENTRY_##OP, T, V)};

/* ASan builds check that the caller's buffers span what the kernel touches. */
#if defined(__SANITIZE_ADDRESS__)
#define FL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FL_ASAN 1
#endif
#endif
#ifdef FL_ASAN
#define FL_PROBE(in, in_bytes, out, out_bytes)                                      \
  do {                                                                              \
    (void)*(volatile const uint8_t *)((const uint8_t *)(in) + (in_bytes) - 1);      \
    *(volatile uint8_t *)((uint8_t *)(out) + (out_bytes) - 1) = 0; /* rewritten */  \
  } while (0)
#else
#define FL_PROBE(in, in_bytes, out, out_bytes) ((void)0)
#endif

#if FL_HAVE_AVX2
#define FL_UNPACK_TABLES(T) FL_TABLE(unpack, T, base) FL_TABLE(unpack, T, avx2)
#define FL_UNPACK_PICK(T)                                                           \
  (__builtin_cpu_supports("avx2") ? fl_unpack##T##_avx2_tab : fl_unpack##T##_base_tab)
#else
#define FL_UNPACK_TABLES(T) FL_TABLE(unpack, T, base)
#define FL_UNPACK_PICK(T) fl_unpack##T##_base_tab
#endif

#define FL_PUBLIC(T)                                                                \
  FL_TABLE(pack, T, base)                                                           \
  FL_UNPACK_TABLES(T)                                                               \
  void cl_fl_pack##T(const uint##T##_t in[1024], unsigned w, uint##T##_t *out) {    \
    if (w < 1 || w > T) /* w == 0: nothing to write */                              \
      return;                                                                       \
    FL_PROBE(in, 1024 * sizeof(uint##T##_t), out, 128u * w);                        \
    fl_pack##T##_base_tab[w](in, out);                                              \
  }                                                                                 \
  void cl_fl_unpack##T(const uint##T##_t *in, unsigned w, uint##T##_t out[1024]) {  \
    if (w < 1 || w > T) {                                                           \
      memset(out, 0, 1024 * sizeof(uint##T##_t));                                   \
      return;                                                                       \
    }                                                                               \
    FL_PROBE(in, 128u * w, out, 1024 * sizeof(uint##T##_t));                        \
    FL_UNPACK_PICK(T)[w](in, out);                                                  \
  }

FL_PUBLIC(8)
FL_PUBLIC(16)
FL_PUBLIC(32)
FL_PUBLIC(64)

unsigned cl_bits_needed_u64(uint64_t max_value) {
  return max_value ? 64u - (unsigned)__builtin_clzll(max_value) : 0u;
}

/* ---- Byte-buffer helpers ----------------------------------------------------
 * File bytes may sit at any address and callers' value arrays may be short of
 * a whole group, while the kernels want aligned words and 1024 values. These
 * helpers take the kernels directly when they can and otherwise go through
 * aligned scratch groups on the stack (8 KiB each). */

static int fl_valid_t(unsigned T) { return T == 8 || T == 16 || T == 32 || T == 64; }

static int fl_aligned(const void *p, unsigned T) { return ((uintptr_t)p & (T / 8 - 1)) == 0; }

static void fl_unpack_t(unsigned T, const void *in, unsigned b, void *out) {
  switch (T) {
  case 8: cl_fl_unpack8(in, b, out); break;
  case 16: cl_fl_unpack16(in, b, out); break;
  case 32: cl_fl_unpack32(in, b, out); break;
  default: cl_fl_unpack64(in, b, out); break;
  }
}

static void fl_pack_t(unsigned T, const void *in, unsigned b, void *out) {
  switch (T) {
  case 8: cl_fl_pack8(in, b, out); break;
  case 16: cl_fl_pack16(in, b, out); break;
  case 32: cl_fl_pack32(in, b, out); break;
  default: cl_fl_pack64(in, b, out); break;
  }
}

/* Unpack the group at `src` (128*b bytes) and store its first n values at dst. */
static void fl_unpack_group(unsigned T, unsigned b, const uint8_t *src, size_t n, uint8_t *dst) {
  alignas(64) uint64_t in_tmp[1024], out_tmp[1024];
  if (b == 0) { /* no input bytes at all (src may be NULL) */
    memset(dst, 0, n * (T / 8));
    return;
  }
  const void *in = src;
  if (!fl_aligned(src, T)) {
    memcpy(in_tmp, src, 128u * b);
    in = in_tmp;
  }
  if (n == CL_FL_GROUP && fl_aligned(dst, T)) {
    fl_unpack_t(T, in, b, dst);
  } else {
    fl_unpack_t(T, in, b, out_tmp);
    memcpy(dst, out_tmp, n * (T / 8));
  }
}

/* Pack n values at src (zero-padded to 1024) into 128*b bytes at dst. */
static void fl_pack_group(unsigned T, unsigned b, const uint8_t *src, size_t n, uint8_t *dst) {
  alignas(64) uint64_t in_tmp[1024], out_tmp[1024];
  if (b == 0)
    return;
  const void *in = src;
  if (n != CL_FL_GROUP || !fl_aligned(src, T)) {
    memcpy(in_tmp, src, n * (T / 8));
    memset((uint8_t *)in_tmp + n * (T / 8), 0, (CL_FL_GROUP - n) * (T / 8));
    in = in_tmp;
  }
  if (fl_aligned(dst, T)) {
    fl_pack_t(T, in, b, dst);
  } else {
    fl_pack_t(T, in, b, out_tmp);
    memcpy(dst, out_tmp, 128u * b);
  }
}

/* OR of n T-bit values: its bit width is the width of the maximum. */
static uint64_t fl_or_all(unsigned T, const uint8_t *p, size_t n) {
  uint64_t acc = 0;
  size_t i = 0, bytes = n * (T / 8);
  for (; i + 8 <= bytes; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    acc |= w;
  }
  for (; i < bytes; i++) /* a whole last word: put each byte at its place in it */
    acc |= (uint64_t)p[i] << (8 * (i % (T / 8)));
  /* Folding the 64-bit lanes down to T bits gives the OR of the values. */
  for (unsigned s = 32; s >= T; s /= 2)
    acc |= acc >> s;
  return T == 64 ? acc : acc & ((1ull << T) - 1);
}

static uint64_t fl_load_word(unsigned T, const uint8_t *p) {
  switch (T) {
  case 8: return p[0];
  case 16: return cl_le16(p);
  case 32: return cl_le32(p);
  default: return cl_le64(p);
  }
}

static void fl_store_word(unsigned T, uint8_t *p, uint64_t v) {
  switch (T) {
  case 8: p[0] = (uint8_t)v; break;
  case 16: cl_put16(p, (uint16_t)v); break;
  case 32: cl_put32(p, (uint32_t)v); break;
  default: cl_put64(p, v); break;
  }
}

/* ---- InlineBitpacking -------------------------------------------------------- */

size_t cl_inline_bitpack_encode(unsigned T, const void *values, size_t n, uint8_t *out) {
  if (!fl_valid_t(T) || n == 0 || n > CL_FL_GROUP)
    return 0;
  unsigned b = cl_bits_needed_u64(fl_or_all(T, values, n));
  fl_store_word(T, out, b);
  fl_pack_group(T, b, values, n, out + T / 8);
  return T / 8 + 128u * b;
}

/* Decode the group at buf[pos..len) into n values; *used gets its size. `g`
 * only numbers the group in messages. Offsets stay integers until checked. */
static clance_status fl_inline_group(unsigned T, const uint8_t *buf, size_t pos, size_t len,
                                     size_t n, uint8_t *out, size_t g, size_t *used,
                                     clance_error *err) {
  len -= pos;
  if (len < T / 8)
    return cl_err(err, CLANCE_ECORRUPT,
                  "inline bitpacking: group %zu has %zu bytes, less than its %u-byte header", g,
                  len, T / 8);
  buf += pos;
  uint64_t b = fl_load_word(T, buf);
  if (b > T)
    return cl_err(err, CLANCE_ECORRUPT,
                  "inline bitpacking: group %zu declares bit width %llu for %u-bit values", g,
                  (unsigned long long)b, T);
  size_t need = T / 8 + 128u * (size_t)b;
  if (len < need)
    return cl_err(err, CLANCE_ECORRUPT,
                  "inline bitpacking: group %zu at width %u needs %zu bytes, buffer has %zu", g,
                  (unsigned)b, need, len);
  fl_unpack_group(T, (unsigned)b, buf + T / 8, n, out);
  *used = need;
  return CLANCE_OK;
}

clance_status cl_inline_bitpack_decode(unsigned T, const uint8_t *buf, size_t buf_len, size_t n,
                                       void *out_values, clance_error *err) {
  if (!fl_valid_t(T))
    return cl_err(err, CLANCE_ECORRUPT, "inline bitpacking: invalid value width %u", T);
  if (n > CL_FL_GROUP)
    return cl_err(err, CLANCE_ECORRUPT, "inline bitpacking: %zu values in one group (max 1024)",
                  n);
  if (n == 0) /* lance writes no header for an empty chunk */
    return CLANCE_OK;
  size_t used;
  return fl_inline_group(T, buf, 0, buf_len, n, out_values, 0, &used, err);
}

clance_status cl_inline_bitpack_decode_groups(unsigned T, const uint8_t *buf, size_t buf_len,
                                              size_t n_values, void *out_values,
                                              clance_error *err) {
  if (!fl_valid_t(T))
    return cl_err(err, CLANCE_ECORRUPT, "inline bitpacking: invalid value width %u", T);
  uint8_t *out = out_values;
  size_t pos = 0;
  for (size_t g = 0, done = 0; done < n_values; g++) {
    size_t n = n_values - done < CL_FL_GROUP ? n_values - done : CL_FL_GROUP, used;
    CL_TRY(fl_inline_group(T, buf, pos, buf_len, n, out + done * (T / 8), g, &used, err));
    pos += used;
    done += n;
  }
  return CLANCE_OK;
}

/* ---- OutOfLineBitpacking ----------------------------------------------------- */

clance_status cl_outofline_bitpack_decode(unsigned T, unsigned b, const uint8_t *buf,
                                          size_t buf_len, size_t n, void *out,
                                          clance_error *err) {
  if (!fl_valid_t(T))
    return cl_err(err, CLANCE_ECORRUPT, "out-of-line bitpacking: invalid value width %u", T);
  if (b > T)
    return cl_err(err, CLANCE_ECORRUPT,
                  "out-of-line bitpacking: bit width %u exceeds %u-bit values", b, T);
  size_t whole = n / CL_FL_GROUP, t = n % CL_FL_GROUP, group_bytes = 128u * b;
  uint64_t whole_bytes, packed_bytes, raw_bytes;
  if (cl_mul_overflows(whole, group_bytes, &whole_bytes) ||
      cl_add_overflows(whole_bytes, t ? group_bytes : 0, &packed_bytes) ||
      cl_add_overflows(whole_bytes, (uint64_t)t * (T / 8), &raw_bytes))
    return cl_err(err, CLANCE_ECORRUPT, "out-of-line bitpacking: %zu values overflow", n);
  /* The size decides the tail's form (§9.5); when both forms have the same size
   * the writer chose raw, so testing raw first agrees with it. */
  int raw_tail = t > 0 && buf_len == raw_bytes;
  if (!raw_tail && buf_len < packed_bytes)
    return cl_err(err, CLANCE_ECORRUPT,
                  "out-of-line bitpacking: %zu values at width %u need %llu bytes (or %llu with "
                  "a raw tail), buffer has %zu",
                  n, b, (unsigned long long)packed_bytes, (unsigned long long)raw_bytes, buf_len);
  uint8_t *dst = out;
  const size_t vb = T / 8;
  if (n == 0)
    return CLANCE_OK;
  if (b == 0 && !raw_tail) { /* empty buffer (maybe NULL): all zeros */
    memset(dst, 0, n * vb);
    return CLANCE_OK;
  }
  for (size_t g = 0; g < whole; g++)
    fl_unpack_group(T, b, buf + g * group_bytes, CL_FL_GROUP, dst + g * CL_FL_GROUP * vb);
  if (t == 0)
    return CLANCE_OK;
  if (raw_tail)
    memcpy(dst + whole * CL_FL_GROUP * vb, buf + whole_bytes, t * vb);
  else
    fl_unpack_group(T, b, buf + whole_bytes, t, dst + whole * CL_FL_GROUP * vb);
  return CLANCE_OK;
}

clance_status cl_outofline_bitpack_encode(unsigned T, unsigned b, const void *in, size_t n,
                                          cl_buf *out, clance_error *err) {
  if (!fl_valid_t(T) || b > T)
    return cl_err(err, CLANCE_EINVAL, "out-of-line bitpacking: invalid widths T=%u b=%u", T, b);
  const uint8_t *src = in;
  const size_t vb = T / 8;
  if (cl_bits_needed_u64(fl_or_all(T, src, n)) > b)
    return cl_err(err, CLANCE_EINVAL, "out-of-line bitpacking: a value needs more than %u bits",
                  b);
  size_t whole = n / CL_FL_GROUP, t = n % CL_FL_GROUP, group_bytes = 128u * b;
  /* Pack the tail when padding it to a group costs fewer bits than it saves. */
  int pack_tail = t > 0 && (uint64_t)b * (CL_FL_GROUP - t) < (uint64_t)(T - b) * t;
  uint64_t total;
  if (cl_mul_overflows(whole, group_bytes, &total) ||
      cl_add_overflows(total, pack_tail ? group_bytes : t * vb, &total) || total > SIZE_MAX)
    return cl_err(err, CLANCE_EINVAL, "out-of-line bitpacking: %zu values overflow", n);
  if (total == 0) /* b == 0 and no tail: nothing to write (out->data may be NULL) */
    return CLANCE_OK;
  CL_TRY(cl_buf_reserve(out, (size_t)total, err));
  uint8_t *dst = out->data + out->len;
  for (size_t g = 0; g < whole; g++)
    fl_pack_group(T, b, src + g * CL_FL_GROUP * vb, CL_FL_GROUP, dst + g * group_bytes);
  if (pack_tail)
    fl_pack_group(T, b, src + whole * CL_FL_GROUP * vb, t, dst + whole * group_bytes);
  else if (t)
    memcpy(dst + whole * group_bytes, src + whole * CL_FL_GROUP * vb, t * vb);
  out->len += (size_t)total;
  return CLANCE_OK;
}

/* Where value idx sits: lane = idx % LANES; q = idx / LANES splits into the
 * 8-row block (bit-reversed among T/8 blocks: the ORDER permutation) and the
 * row within it. */
static uint64_t load_word(const uint8_t *p, unsigned T, size_t word) {
  const uint8_t *q = p + word * (T / 8);
  switch (T) {
  case 8: return q[0];
  case 16: return (uint64_t)q[0] | ((uint64_t)q[1] << 8);
  case 32: return (uint64_t)q[0] | ((uint64_t)q[1] << 8) | ((uint64_t)q[2] << 16) | ((uint64_t)q[3] << 24);
  default: {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
      v = (v << 8) | q[i];
    return v;
  }
  }
}

uint64_t cl_fl_get(unsigned T, const uint8_t *packed, unsigned w, unsigned idx) {
  if (w == 0)
    return 0;
  unsigned lanes = 1024 / T, lane = idx % lanes, q = idx / lanes, blocks = T / 8;
  unsigned blk = q % blocks, rev = 0;
  for (unsigned b = blocks >> 1, k = 1; b; b >>= 1, k <<= 1)
    if (blk & b)
      rev |= k;
  unsigned row = rev * 8 + q / blocks;
  unsigned bit = row * w, word = bit / T, shift = bit % T;
  uint64_t v = load_word(packed, T, (size_t)word * lanes + lane) >> shift;
  if (shift + w > T)
    v |= load_word(packed, T, (size_t)(word + 1) * lanes + lane) << (T - shift);
  return w == 64 ? v : v & ((1ull << w) - 1);
}
