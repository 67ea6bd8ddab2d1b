/* FastLanes bit-packing (format notes §9.6) and the two Lance encodings built on
 * it: InlineBitpacking (§9.4, a bit-width header per 1024-value group) and
 * OutOfLineBitpacking (§9.5, one width for the whole buffer, raw or packed tail).
 *
 * The cl_fl_* kernels work on host words. Lance stores words little-endian and
 * clance only targets little-endian hosts (checked in fastlanes.c), so a file's
 * bytes are used as words directly. Kernel pointers must be aligned for their
 * word type; the byte-buffer helpers below accept any alignment. */
#ifndef CL_ENCODING_FASTLANES_H
#define CL_ENCODING_FASTLANES_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

/* Values per FastLanes group. */
#define CL_FL_GROUP 1024

/* Pack 1024 values, keeping the low w bits of each (w <= T), into 1024*w/T words
 * (128*w bytes). w == 0 writes nothing. A w above T is a caller bug: nothing is
 * written. */
void cl_fl_pack8(const uint8_t in[1024], unsigned w, uint8_t *out);
void cl_fl_pack16(const uint16_t in[1024], unsigned w, uint16_t *out);
void cl_fl_pack32(const uint32_t in[1024], unsigned w, uint32_t *out);
void cl_fl_pack64(const uint64_t in[1024], unsigned w, uint64_t *out);

/* Exact inverse: read 1024*w/T words, write 1024 values. w == 0 (or a buggy
 * w > T) writes 1024 zeros. */
void cl_fl_unpack8(const uint8_t *in, unsigned w, uint8_t out[1024]);
void cl_fl_unpack16(const uint16_t *in, unsigned w, uint16_t out[1024]);
void cl_fl_unpack32(const uint32_t *in, unsigned w, uint32_t out[1024]);
void cl_fl_unpack64(const uint64_t *in, unsigned w, uint64_t out[1024]);

/* Bits needed to store max_value: 0 for 0, else 1 + floor(log2(max_value)). */
unsigned cl_bits_needed_u64(uint64_t max_value);

/* Value `idx` (0..1023) of one packed group of T-bit words at width w,
 * without unpacking the group. `packed` points at the group's 1024*w/T
 * words (little-endian, any alignment); the caller has checked its size. */
uint64_t cl_fl_get(unsigned T, const uint8_t *packed, unsigned w, unsigned idx);

/* ---- InlineBitpacking (§9.4) ------------------------------------------------
 * A group is one T-bit LE header word holding its width b, then the FastLanes
 * packing of 1024 values (T/8 + 128*b bytes). T is the value width: 8/16/32/64. */

/* Worst-case size of one encoded group: T/8 + 128*T bytes. */
#define CL_INLINE_BITPACK_MAX_BYTES(T) ((size_t)(T) / 8 + 128u * (size_t)(T))

/* Encode n (1..1024) T-bit values (host words, any alignment) as one group with
 * the smallest width that fits them; a short group is zero-padded. `out` needs
 * CL_INLINE_BITPACK_MAX_BYTES(T) bytes. Returns the bytes written, or 0 when T
 * or n is invalid. */
size_t cl_inline_bitpack_encode(unsigned T, const void *values, size_t n, uint8_t *out);

/* Decode the first n (0..1024) values of one group into out_values (n T-bit
 * words). Bytes after the group are ignored. n == 0 needs no header. */
clance_status cl_inline_bitpack_decode(unsigned T, const uint8_t *buf, size_t buf_len, size_t n,
                                       void *out_values, clance_error *err);

/* Decode n_values values stored as consecutive groups, each with its own header
 * (block context). Bytes after the last group are ignored. */
clance_status cl_inline_bitpack_decode_groups(unsigned T, const uint8_t *buf, size_t buf_len,
                                              size_t n_values, void *out_values,
                                              clance_error *err);

/* ---- OutOfLineBitpacking (§9.5) ---------------------------------------------
 * floor(n/1024) packed groups of 128*b bytes with no headers; the tail of
 * t = n % 1024 values is either one more zero-padded packed group or t raw
 * T-bit words. */

/* Decode n values of width b (<= T). The tail is raw iff buf_len is exactly
 * whole*128*b + t*T/8 bytes; otherwise it is packed and buf_len must cover it
 * (extra trailing bytes are ignored). */
clance_status cl_outofline_bitpack_decode(unsigned T, unsigned b, const uint8_t *buf,
                                          size_t buf_len, size_t n, void *out,
                                          clance_error *err);

/* Append the encoding of n T-bit values (host words) at width b to `out`. The
 * tail is packed iff b*(1024-t) < (T-b)*t, as lance's writer decides. Every
 * value must fit in b bits (CLANCE_EINVAL otherwise). */
clance_status cl_outofline_bitpack_encode(unsigned T, unsigned b, const void *in, size_t n,
                                          cl_buf *out, clance_error *err);

#endif
